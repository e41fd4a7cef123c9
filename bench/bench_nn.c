/* bench_nn.c -- CNN throughput (`make bench [ISA=auto|scalar|avx2|avx512]`): training and evaluation
 * samples/s and GFLOP/s for the MNIST and CIFAR shapes at batch 256 with 1 and 2 threads, against
 * two yardsticks measured in the same process: a large OpenBLAS sgemm, and the register-only FMA
 * peak of the widest vector unit the CPU has (what no real code can exceed); plus per-layer times.
 * 1- and 2-thread rounds alternate, so the 2-thread speed-up and the peak's own 2-core scaling are
 * ratios from the same minutes. Writes output/bench.csv and output/bench-layers.csv. Synthetic
 * random images: no data files needed. About a minute. */
#include "poisonfarm/common.h"
#include "poisonfarm/cpu.h"
#include "poisonfarm/nn.h"
#include "poisonfarm/rng.h"

#include <cblas.h>
#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { BATCH = 256, NIMG = 1024, REPS = 5, MAXT = 2 };

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

/* ---- the register-only FMA peak ----------------------------------------------------------------
 * Independent accumulators, no memory operands: 12 ymm (AVX2) or 24 zmm (AVX-512) chains, more than
 * latency (4) x FMA ports (2) needs, so every FMA port issues one FMA per cycle. Written in asm so
 * that the compiler can neither merge nor drop the chains. */
#if defined(__x86_64__) && defined(__GNUC__)
#define FMA_Y(i) "vfmadd231ps %%ymm14, %%ymm15, %%ymm" #i "\n\t"
#define FMA_Z(i) "vfmadd231ps %%zmm30, %%zmm31, %%zmm" #i "\n\t"

__attribute__((target("avx2,fma"))) static void fma_loop_avx2(long n)
{
    __asm__ volatile("vxorps %%ymm14, %%ymm14, %%ymm14\n\t"
                     "vxorps %%ymm15, %%ymm15, %%ymm15\n\t"
                     "1:\n\t" FMA_Y(0) FMA_Y(1) FMA_Y(2) FMA_Y(3) FMA_Y(4) FMA_Y(5) FMA_Y(6)
                         FMA_Y(7) FMA_Y(8) FMA_Y(9) FMA_Y(10) FMA_Y(11)
                     "dec %0\n\t"
                     "jnz 1b\n\t"
                     "vzeroupper\n\t"
                     : "+r"(n)
                     :
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                       "xmm9", "xmm10", "xmm11", "xmm14", "xmm15", "cc");
}

__attribute__((target("avx2,fma,avx512f"))) static void fma_loop_avx512(long n)
{
    __asm__ volatile("vpxord %%zmm30, %%zmm30, %%zmm30\n\t"
                     "vpxord %%zmm31, %%zmm31, %%zmm31\n\t"
                     "1:\n\t" FMA_Z(0) FMA_Z(1) FMA_Z(2) FMA_Z(3) FMA_Z(4) FMA_Z(5) FMA_Z(6)
                         FMA_Z(7) FMA_Z(8) FMA_Z(9) FMA_Z(10) FMA_Z(11) FMA_Z(12) FMA_Z(13)
                             FMA_Z(14) FMA_Z(15) FMA_Z(16) FMA_Z(17) FMA_Z(18) FMA_Z(19)
                                 FMA_Z(20) FMA_Z(21) FMA_Z(22) FMA_Z(23)
                     "dec %0\n\t"
                     "jnz 1b\n\t"
                     "vzeroupper\n\t"
                     : "+r"(n)
                     :
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                       "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16",
                       "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm30",
                       "xmm31", "cc");
}
#endif

/* FLOPs of one iteration of the ISA's loop (0: no loop for it). */
static double fma_loop_flops(pf_isa isa)
{
    return isa == PF_ISA_AVX512 ? 24.0 * 16 * 2 : isa == PF_ISA_AVX2 ? 12.0 * 8 * 2 : 0.0;
}

/* GFLOP/s of n iterations of the ISA's FMA loop on each of `threads` threads (wall clock). */
static double fma_peak_once(pf_isa isa, int threads, long n)
{
    double t0 = pf_now();
#pragma omp parallel num_threads(threads)
    {
#if defined(__x86_64__) && defined(__GNUC__)
        if (isa == PF_ISA_AVX512)
            fma_loop_avx512(n);
        else
            fma_loop_avx2(n);
#else
        (void)n;
#endif
    }
    double dt = pf_now() - t0;
    return threads * (double)n * fma_loop_flops(isa) / dt / 1e9;
}

/* The widest ISA this CPU runs (the yardstick's), whatever the kernels' path. */
static pf_isa widest_isa(void)
{
    return cpu_has_isa(PF_ISA_AVX512) ? PF_ISA_AVX512 : cpu_has_isa(PF_ISA_AVX2) ? PF_ISA_AVX2
                                                                               : PF_ISA_SCALAR;
}

/* Best of 5 rounds of about 0.2 s, 1 and 2 threads alternating, after a warm-up (clock ramp). */
static void fma_peak(pf_isa isa, double peak[MAXT + 1])
{
    peak[1] = peak[2] = 0.0;
    if (fma_loop_flops(isa) == 0.0) return;
    long n = 1000000;
    double g = fma_peak_once(isa, 1, n);
    n = (long)(0.2 * g * 1e9 / fma_loop_flops(isa)); /* about 0.2 s per round */
    if (n < 1000) n = 1000;
    fma_peak_once(isa, 1, n);
    for (int rep = 0; rep < 5; rep++)
        for (int t = 1; t <= MAXT; t++) {
            g = fma_peak_once(isa, t, n);
            if (g > peak[t]) peak[t] = g;
        }
}

/* ---- the model ------------------------------------------------------------------------------- */

/* Samples/s of `batches` batches (training includes Adam's step). */
static double rate_once(pf_model *m, pf_adam *adam, const uint8_t *img, const uint8_t *lab,
                        int train, int batches)
{
    int32_t pred[BATCH];
    double t0 = pf_now();
    for (int i = 0; i < batches; i++) {
        pf_batch b = {.images = img, .labels = lab, .index = NULL, .first = (i * BATCH) % NIMG,
                      .n = BATCH};
        if (train) {
            model_train_batch(m, &b, NULL);
            adam_step(adam, model_params(m), model_grads(m), 1e-3);
        } else {
            model_eval_batch(m, &b, pred);
        }
    }
    return batches * (double)BATCH / (pf_now() - t0);
}

/* A CSV field in double quotes (quotes inside doubled). */
static void csv_quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void usage(FILE *out)
{
    fputs("usage: bench_nn [--isa auto|scalar|avx2|avx512]\n"
          "  --isa PATH   the kernels' instruction-set path (default auto: this CPU's default)\n",
          out);
}

int main(int argc, char **argv)
{
    pf_isa request = PF_ISA_AUTO;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--isa") == 0 && i + 1 < argc) {
            if (isa_from_name(argv[++i], &request) != 0) {
                fprintf(stderr, "bench_nn: unknown --isa '%s' (auto, scalar, avx2, avx512)\n",
                        argv[i]);
                return PF_EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return PF_EXIT_OK;
        } else {
            usage(stderr);
            return PF_EXIT_USAGE;
        }
    }
    pf_isa isa;
    if (cpu_resolve_isa(request, &isa) != 0) {
        fprintf(stderr, "bench_nn: --isa %s: this CPU or OS cannot run it\n", isa_name(request));
        return PF_EXIT_USAGE;
    }

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

    pf_cpu_info ci;
    cpu_info(&ci);
    const char *core = openblas_get_corename();
    char advice[512];
    printf("CPU: %s (%s family %d model %d); OpenBLAS core %s (%s)\n",
           ci.brand[0] ? ci.brand : "unknown", ci.vendor, ci.family, ci.model, core ? core : "?",
           openblas_get_config());
    printf("kernel path: %s%s (this CPU's default: %s)\n", isa_name(isa),
           request == PF_ISA_AUTO ? "" : ", pinned by --isa", isa_name(cpu_default_isa()));
    if (blas_core_advice(&ci, core, advice, sizeof advice)) printf("warning: %s\n", advice);

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

    const pf_isa wide = widest_isa();
    double peak[MAXT + 1] = {0}, ref[MAXT + 1] = {0};
    fma_peak(wide, peak);
    if (peak[1] > 0.0)
        printf("FMA peak (%s, registers only): %.1f GFLOP/s 1 thread, %.1f 2 threads (%.2fx)\n",
               isa_name(wide), peak[1], peak[2], peak[2] / peak[1]);
    for (int t = 1; t <= MAXT; t++) ref[t] = sgemm_gflops(2048, t);
    printf("sgemm 2048^3 (OpenBLAS): %.1f GFLOP/s 1 thread, %.1f 2 threads (%.2fx)\n", ref[1],
           ref[2], ref[2] / ref[1]);

    fprintf(csv, "cpu,cpu_vendor,cpu_family,cpu_model,openblas_core,isa,shape,threads,phase,"
                 "samples_per_s,gflops,sgemm_gflops,pct_of_sgemm,peak_isa,peak_gflops,pct_of_peak,"
                 "speedup,peak_speedup\n");
    fprintf(lcsv, "isa,shape,layer,forward_us_per_sample,backward_us_per_sample\n");

    static uint8_t img[NIMG * 3 * 32 * 32], lab[NIMG];
    pf_rng r;
    rng_seed(&r, 2);
    for (size_t i = 0; i < sizeof img; i++) img[i] = (uint8_t)rng_below(&r, 256);

    for (int s = 0; s < 2; s++) {
        const shape *sh = &shapes[s];
        for (int i = 0; i < NIMG; i++) lab[i] = (uint8_t)rng_below(&r, (uint32_t)sh->k);
        pf_model *m = model_create(PF_MODEL_SEED, sh->c, sh->h, sh->w, sh->k, BATCH);
        PF_ASSERT(model_set_isa(m, isa) == 0);
        model_init(m, 1);
        pf_adam adam;
        adam_init(&adam, model_param_count(m));
        double ff = model_flops_forward(m), ft = model_flops_train(m);
        printf("\n%s (%dx%dx%d, K=%d), batch %d, %zu parameters: %.2f MFLOP forward, %.2f MFLOP "
               "training per sample%s\n",
               sh->name, sh->h, sh->w, sh->c, sh->k, BATCH, model_param_count(m), ff / 1e6, ft / 1e6,
               (ff - expect_fwd[s]) / expect_fwd[s] < 1e-3 && (ft - expect_train[s]) / expect_train[s] < 1e-3
                   ? " (as expected)" : " (UNEXPECTED)");
        printf("  %-7s %-5s %10s %8s %8s %8s %8s %11s\n", "threads", "phase", "samples/s",
               "GFLOP/s", "% sgemm", "% peak", "speedup", "vs peak's");
        for (int ph = 0; ph < 2; ph++) {
            const int train = ph == 0, batches = train ? 2 : 4;
            double best[MAXT + 1] = {0};
            for (int t = 1; t <= MAXT; t++) { /* warm-up, and the second thread's workspace */
                model_set_threads(m, t);
                rate_once(m, &adam, img, lab, train, 1);
            }
            for (int rep = 0; rep < REPS; rep++)
                for (int t = 1; t <= MAXT; t++) {
                    model_set_threads(m, t);
                    double v = rate_once(m, &adam, img, lab, train, batches);
                    if (v > best[t]) best[t] = v;
                }
            for (int t = 1; t <= MAXT; t++) {
                double gf = best[t] * (train ? ft : ff) / 1e9;
                double pct = 100.0 * gf / ref[t], ppk = peak[t] > 0 ? 100.0 * gf / peak[t] : 0.0;
                double sp = best[t] / best[1], psp = peak[1] > 0 ? peak[t] / peak[1] : 0.0;
                printf("  %-7d %-5s %10.1f %8.1f %7.1f%% %7.1f%% %7.2fx", t,
                       train ? "train" : "eval", best[t], gf, pct, ppk, sp);
                if (t > 1 && psp > 0)
                    printf(" %10.2f\n", sp / psp);
                else
                    printf("\n");
                csv_quoted(csv, ci.brand);
                fprintf(csv, ",%s,%d,%d,%s,%s,%s,%d,%s,%.1f,%.2f,%.2f,%.1f,%s,%.2f,%.1f,%.3f,%.3f\n",
                        ci.vendor, ci.family, ci.model, core ? core : "", isa_name(isa), sh->name,
                        t, train ? "train" : "eval", best[t], gf, ref[t], pct, isa_name(wide),
                        peak[t], ppk, sp, psp);
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
            fprintf(lcsv, "%s,%s,%s,%.3f,%.3f\n", isa_name(isa), sh->name, model_layer_name(m, l), f, b);
        }
        printf("    %-10s %31.2f %9.2f\n", "total", tf, tb);
        model_profile_enable(m, 0);
        adam_free(&adam);
        model_free(m);
    }
    fclose(csv);
    fclose(lcsv);
    printf("\n\"vs peak's\": the 2-thread speed-up divided by the FMA peak's own 2-core scaling\n");
    printf("wrote output/bench.csv and output/bench-layers.csv\n");
    return 0;
}
