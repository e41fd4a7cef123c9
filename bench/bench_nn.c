/* bench_nn.c -- CNN throughput (`make bench`): training and evaluation samples/s and GFLOP/s for the
 * MNIST and CIFAR shapes at batch 256 with 1 and 2 threads, as a fraction of a large sgemm on the
 * same machine, plus per-layer times. Writes output/bench.csv and output/bench-layers.csv.
 * Synthetic random images: no data files needed. About half a minute. */
#include "poisonfarm/common.h"
#include "poisonfarm/nn.h"
#include "poisonfarm/rng.h"

#include <cblas.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { BATCH = 256, NIMG = 1024, REPS = 3 };

typedef struct {
    const char *name;
    int c, h, w, k;
} shape;

/* Best GFLOP/s of REPS square n^3 products with OpenBLAS on `threads` threads. */
static double sgemm_gflops(int n, int threads)
{
    openblas_set_num_threads(threads);
    float *a = pf_malloc_aligned(sizeof(float) * (size_t)n * n);
    float *b = pf_malloc_aligned(sizeof(float) * (size_t)n * n);
    float *c = pf_malloc_aligned(sizeof(float) * (size_t)n * n);
    pf_rng r;
    rng_seed(&r, 1);
    for (size_t i = 0; i < (size_t)n * n; i++) {
        a[i] = (float)rng_uniform(&r);
        b[i] = (float)rng_uniform(&r);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    double best = 0.0;
    for (int rep = 0; rep < REPS; rep++) {
        double t0 = pf_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c,
                    n);
        double g = 2.0 * n * (double)n * n / (pf_now() - t0) / 1e9;
        if (g > best) best = g;
    }
    free(a);
    free(b);
    free(c);
    openblas_set_num_threads(1);
    return best;
}

/* Best samples/s over REPS rounds of `batches` batches each (training includes Adam's step). */
static double rate(pf_model *m, pf_adam *adam, const uint8_t *img, const uint8_t *lab, int train,
                   int batches)
{
    int32_t pred[BATCH];
    double best = 0.0;
    for (int rep = 0; rep < REPS; rep++) {
        double t0 = pf_now();
        for (int i = 0; i < batches; i++) {
            pf_batch b = {.images = img, .labels = lab, .index = NULL,
                          .first = (i * BATCH) % NIMG, .n = BATCH};
            if (train) {
                model_train_batch(m, &b, NULL);
                adam_step(adam, model_params(m), model_grads(m), 1e-3);
            } else {
                model_eval_batch(m, &b, pred);
            }
        }
        double r = batches * (double)BATCH / (pf_now() - t0);
        if (r > best) best = r;
    }
    return best;
}

int main(void)
{
    const shape shapes[2] = {{"mnist", 1, 28, 28, 10}, {"cifar10", 3, 32, 32, 10}};
    const double expect_fwd[2] = {14.24e6, 20.94e6}, expect_train[2] = {42.34e6, 61.28e6};
    if (mkdir("output", 0775) != 0 && errno != EEXIST) {
        fprintf(stderr, "bench_nn: cannot create output/: %s\n", strerror(errno));
        return 1;
    }
    FILE *csv = fopen("output/bench.csv", "w");
    FILE *lcsv = fopen("output/bench-layers.csv", "w");
    if (csv == NULL || lcsv == NULL) {
        fprintf(stderr, "bench_nn: cannot write output/bench.csv or output/bench-layers.csv\n");
        return 1;
    }
    fprintf(csv, "shape,threads,phase,samples_per_s,gflops,pct_of_sgemm\n");
    fprintf(lcsv, "shape,layer,forward_us_per_sample,backward_us_per_sample\n");

    /* Other processes on these cores distort every figure: say how busy the machine was. */
    FILE *la = fopen("/proc/loadavg", "r");
    double load = -1.0;
    if (la != NULL) {
        if (fscanf(la, "%lf", &load) != 1) load = -1.0;
        fclose(la);
    }
    if (load >= 0.0)
        printf("load average at start: %.2f (figures are meaningful only on an otherwise idle "
               "machine)\n", load);

    double ref[3] = {0};
    for (int t = 1; t <= 2; t++) {
        ref[t] = sgemm_gflops(2048, t);
        printf("sgemm 2048^3, %d thread%s: %.1f GFLOP/s\n", t, t > 1 ? "s" : "", ref[t]);
    }

    static uint8_t img[NIMG * 3 * 32 * 32], lab[NIMG];
    pf_rng r;
    rng_seed(&r, 2);
    for (size_t i = 0; i < sizeof img; i++) img[i] = (uint8_t)rng_below(&r, 256);

    double one[2][2] = {{0}};
    for (int s = 0; s < 2; s++) {
        const shape *sh = &shapes[s];
        for (int i = 0; i < NIMG; i++) lab[i] = (uint8_t)rng_below(&r, (uint32_t)sh->k);
        pf_model *m = model_create(PF_MODEL_SEED, sh->c, sh->h, sh->w, sh->k, BATCH);
        model_init(m, 1);
        pf_adam adam;
        adam_init(&adam, model_param_count(m));
        double ff = model_flops_forward(m), ft = model_flops_train(m);
        printf("\n%s (%dx%dx%d, K=%d), batch %d, %zu parameters: %.2f MFLOP forward, %.2f MFLOP "
               "training per sample%s\n",
               sh->name, sh->h, sh->w, sh->c, sh->k, BATCH, model_param_count(m), ff / 1e6, ft / 1e6,
               (ff - expect_fwd[s]) / expect_fwd[s] < 1e-3 && (ft - expect_train[s]) / expect_train[s] < 1e-3
                   ? " (as expected)" : " (UNEXPECTED)");
        printf("  %-7s %-5s %12s %9s %8s %8s\n", "threads", "phase", "samples/s", "GFLOP/s",
               "% sgemm", "speedup");
        for (int t = 1; t <= 2; t++) {
            model_set_threads(m, t);
            for (int ph = 0; ph < 2; ph++) {
                int train = ph == 0;
                rate(m, &adam, img, lab, train, 1); /* warm-up */
                double sps = rate(m, &adam, img, lab, train, train ? 2 : 4);
                double gf = sps * (train ? ft : ff) / 1e9;
                double pct = 100.0 * gf / ref[t];
                if (t == 1) one[s][ph] = sps;
                printf("  %-7d %-5s %12.1f %9.1f %7.1f%% %7.2fx\n", t, train ? "train" : "eval", sps,
                       gf, pct, sps / one[s][ph]);
                fprintf(csv, "%s,%d,%s,%.1f,%.2f,%.1f\n", sh->name, t, train ? "train" : "eval", sps,
                        gf, pct > 100.0 ? 100.0 : pct);
            }
        }
        /* per-layer times, one thread, training steps with the profiler on */
        model_set_threads(m, 1);
        model_profile_enable(m, 1);
        model_profile_reset(m);
        const int pb = 2;
        for (int i = 0; i < pb; i++) {
            pf_batch b = {.images = img, .labels = lab, .index = NULL, .first = 0, .n = BATCH};
            model_train_batch(m, &b, NULL);
        }
        printf("  per layer, 1 thread, CPU microseconds per sample: forward  backward\n");
        double tf = 0.0, tb = 0.0;
        for (int l = 0; l < model_layer_count(m); l++) {
            double f, b;
            model_layer_seconds(m, l, &f, &b);
            f *= 1e6 / (pb * BATCH);
            b *= 1e6 / (pb * BATCH);
            tf += f;
            tb += b;
            printf("    %-10s %31.2f %9.2f\n", model_layer_name(m, l), f, b);
            fprintf(lcsv, "%s,%s,%.3f,%.3f\n", sh->name, model_layer_name(m, l), f, b);
        }
        printf("    %-10s %31.2f %9.2f\n", "total", tf, tb);
        model_profile_enable(m, 0);
        adam_free(&adam);
        model_free(m);
    }
    fclose(csv);
    fclose(lcsv);
    printf("\nwrote output/bench.csv and output/bench-layers.csv\n");
    return 0;
}
