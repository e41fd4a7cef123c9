/* test_nn.c -- the CNN: gradient checks, fast conv vs naive, Adam, sizes, thread determinism. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "poisonfarm/nn.h"
#include "poisonfarm/nn_layers.h"
#include "poisonfarm/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fill_uniform(pf_rng *r, float *x, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)(lo + (hi - lo) * rng_uniform(r));
}

/* sum(r .* y) in double: a scalar objective whose gradient w.r.t. y is r. */
static double dot(const float *y, const float *r, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)y[i] * r[i];
    return s;
}

/* Central-difference check of analytic gradient g of f at x[idx]; returns |fd - g| / (tol_abs +
 * tol_rel |g|), which must be <= 1. */
typedef double (*objective_fn)(void *ctx);
static double fd_ratio(objective_fn f, void *ctx, float *x, size_t idx, double g, float h,
                       double tol_abs, double tol_rel)
{
    float x0 = x[idx];
    x[idx] = x0 + h;
    double fp = f(ctx);
    x[idx] = x0 - h;
    double fm = f(ctx);
    x[idx] = x0;
    double fd = (fp - fm) / (2.0 * (double)h);
    return fabs(fd - g) / (tol_abs + tol_rel * fabs(g));
}

/* ---- conv ---- */

typedef struct {
    pf_conv_dims d;
    float *in, *w, *b, *out, *col, *r;
    int relu;
} conv_ctx;

static double conv_objective(void *p)
{
    conv_ctx *c = p;
    nn_conv_forward(c->out, c->col, c->in, c->w, c->b, &c->d, c->relu);
    return dot(c->out, c->r, (size_t)c->d.oh * c->d.ow * c->d.cout);
}

static void conv_case(int h, int w, int cin, int cout, int pad, int relu, uint64_t seed)
{
    pf_rng r;
    rng_seed(&r, seed);
    conv_ctx c;
    nn_conv_dims(&c.d, h, w, cin, cout, pad);
    c.relu = relu;
    size_t nin = (size_t)h * w * cin, nw = (size_t)9 * cin * cout,
           nout = (size_t)c.d.oh * c.d.ow * cout;
    c.in = malloc(sizeof(float) * nin);
    c.w = malloc(sizeof(float) * nw);
    c.b = malloc(sizeof(float) * cout);
    c.out = malloc(sizeof(float) * nout);
    c.col = malloc(sizeof(float) * nn_conv_col_size(&c.d));
    c.r = malloc(sizeof(float) * nout);
    float *out2 = malloc(sizeof(float) * nout), *dout = malloc(sizeof(float) * nout),
          *dout2 = malloc(sizeof(float) * nout);
    float *din = malloc(sizeof(float) * nin), *din2 = malloc(sizeof(float) * nin);
    float *dw = calloc(nw, sizeof(float)), *dw2 = calloc(nw, sizeof(float));
    float *db = calloc(cout, sizeof(float)), *db2 = calloc(cout, sizeof(float));
    fill_uniform(&r, c.in, nin, -1, 1);
    fill_uniform(&r, c.w, nw, -0.5, 0.5);
    fill_uniform(&r, c.b, cout, -0.2, 0.2);
    fill_uniform(&r, c.r, nout, -1, 1);

    /* fast vs naive, forward */
    nn_conv_forward(c.out, c.col, c.in, c.w, c.b, &c.d, relu);
    nn_conv_forward_naive(out2, c.in, c.w, c.b, &c.d, relu);
    for (size_t i = 0; i < nout; i++) assert_true(fabsf(c.out[i] - out2[i]) < 1e-5f);

    /* fast vs naive, backward (dout = r) */
    memcpy(dout, c.r, sizeof(float) * nout);
    memcpy(dout2, c.r, sizeof(float) * nout);
    nn_conv_backward(din, dw, db, dout, c.out, c.in, c.w, c.col, &c.d, relu);
    nn_conv_backward_naive(din2, dw2, db2, dout2, out2, c.in, c.w, &c.d, relu);
    for (size_t i = 0; i < nin; i++) assert_true(fabsf(din[i] - din2[i]) < 1e-4f);
    for (size_t i = 0; i < nw; i++) assert_true(fabsf(dw[i] - dw2[i]) < 1e-4f);
    for (int i = 0; i < cout; i++) assert_true(fabsf(db[i] - db2[i]) < 1e-4f);

    /* finite differences on every input, weight and bias coordinate */
    double worst = 0.0;
    for (size_t i = 0; i < nin; i++) {
        double q = fd_ratio(conv_objective, &c, c.in, i, din[i], 1e-3f, 2e-3, 1e-2);
        if (q > worst) worst = q;
    }
    for (size_t i = 0; i < nw; i++) {
        double q = fd_ratio(conv_objective, &c, c.w, i, dw[i], 1e-3f, 2e-3, 1e-2);
        if (q > worst) worst = q;
    }
    for (int i = 0; i < cout; i++) {
        double q = fd_ratio(conv_objective, &c, c.b, i, db[i], 1e-3f, 2e-3, 1e-2);
        if (q > worst) worst = q;
    }
    print_message("conv %dx%dx%d->%d pad %d relu %d: worst fd ratio %.3f\n", h, w, cin, cout, pad,
                  relu, worst);
    assert_true(worst <= 1.0);

    /* accumulation: a second backward adds the same weight gradient again */
    memcpy(dout, c.r, sizeof(float) * nout);
    memcpy(dw2, dw, sizeof(float) * nw);
    nn_conv_backward(NULL, dw, db, dout, c.out, c.in, c.w, c.col, &c.d, relu);
    for (size_t i = 0; i < nw; i++) assert_true(fabsf(dw[i] - 2.0f * dw2[i]) < 1e-4f);

    free(c.in); free(c.w); free(c.b); free(c.out); free(c.col); free(c.r);
    free(out2); free(dout); free(dout2); free(din); free(din2); free(dw); free(dw2); free(db);
    free(db2);
}

static void conv_valid_matches_naive_and_fd(void **state)
{
    (void)state;
    conv_case(6, 5, 3, 4, 0, 1, 11);
    conv_case(5, 7, 2, 3, 0, 0, 12);
}

static void conv_same_matches_naive_and_fd(void **state)
{
    (void)state;
    conv_case(4, 5, 3, 4, 1, 1, 13);
    conv_case(2, 2, 4, 3, 1, 0, 14);
    conv_case(3, 3, 1, 2, 1, 1, 15);
}

/* The direct kernels' paths on this CPU (avx2, avx512), for the tests that run each one. */
static int direct_paths(pf_isa *paths)
{
    int n = 0;
    if (nn_conv_direct_available(PF_ISA_AVX2)) paths[n++] = PF_ISA_AVX2;
    if (nn_conv_direct_available(PF_ISA_AVX512)) paths[n++] = PF_ISA_AVX512;
    return n;
}

/* Each direct forward path against the naive convolution, on the channel counts the models use and
 * on pixel counts that are not multiples of the kernels' blocks (6 for avx2, 12 for avx512). */
static void conv_direct_matches_naive(void **state)
{
    (void)state;
    pf_isa paths[2];
    const int np = direct_paths(paths);
    if (np == 0) {
        skip();
        return;
    }
    const int cases[][4] = {{28, 28, 1, 32}, {8, 7, 3, 32}, {6, 5, 32, 32}, {4, 4, 32, 64},
                            {5, 6, 2, 64}, {9, 5, 16, 16}, {3, 3, 32, 32}, {7, 9, 16, 48},
                            {15, 4, 8, 32}};
    pf_rng r;
    rng_seed(&r, 17);
    for (int pi = 0; pi < np; pi++)
        for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
            pf_conv_dims d;
            nn_conv_dims(&d, cases[t][0], cases[t][1], cases[t][2], cases[t][3], 0);
            size_t nin = (size_t)d.h * d.w * d.cin, nw = (size_t)9 * d.cin * d.cout,
                   nout = (size_t)d.oh * d.ow * d.cout;
            float *in = malloc(sizeof(float) * nin), *w = malloc(sizeof(float) * nw),
                  *b = malloc(sizeof(float) * d.cout), *o1 = malloc(sizeof(float) * nout),
                  *o2 = malloc(sizeof(float) * nout);
            fill_uniform(&r, in, nin, 0, 1);
            fill_uniform(&r, w, nw, -0.3, 0.3);
            fill_uniform(&r, b, d.cout, -0.2, 0.2);
            for (int relu = 0; relu < 2; relu++) {
                nn_conv_forward_direct(o1, in, w, b, &d, relu, paths[pi]);
                nn_conv_forward_naive(o2, in, w, b, &d, relu);
                for (size_t i = 0; i < nout; i++) assert_true(fabsf(o1[i] - o2[i]) < 1e-4f);
            }
            free(in); free(w); free(b); free(o1); free(o2);
        }
}

/* Each direct backward path (weight gradient in place, input gradient as a convolution of the
 * padded output gradient with the flipped kernel) against the naive backward, on the model's
 * channel counts and on pixel counts that are not multiples of the kernels' blocks. */
static void conv_direct_backward_matches_naive(void **state)
{
    (void)state;
    pf_isa paths[2];
    const int np = direct_paths(paths);
    if (np == 0) {
        skip();
        return;
    }
    /* h, w, cin, cout, pad: the last three are "same" layers (the model's conv6) */
    const int cases[][5] = {{26, 26, 32, 32, 0}, {12, 12, 32, 32, 0}, {9, 5, 16, 32, 0},
                            {4, 4, 32, 64, 0},   {3, 3, 32, 32, 0},   {28, 28, 1, 32, 0},
                            {7, 8, 3, 32, 0},    {5, 7, 48, 32, 0},   {2, 2, 32, 32, 1},
                            {3, 3, 32, 32, 1},   {5, 4, 16, 32, 1}};
    pf_rng r;
    rng_seed(&r, 19);
    for (int pi = 0; pi < np; pi++)
        for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
            pf_conv_dims d;
            nn_conv_dims(&d, cases[t][0], cases[t][1], cases[t][2], cases[t][3], cases[t][4]);
            size_t nin = (size_t)d.h * d.w * d.cin, nw = (size_t)9 * d.cin * d.cout,
                   nout = (size_t)d.oh * d.ow * d.cout;
            const int with_din = d.cin % 16 == 0;
            float *in = malloc(sizeof(float) * nin), *w = malloc(sizeof(float) * nw),
                  *wf = malloc(sizeof(float) * nw), *b = malloc(sizeof(float) * d.cout),
                  *out = malloc(sizeof(float) * nout), *g1 = malloc(sizeof(float) * nout),
                  *g2 = malloc(sizeof(float) * nout), *din1 = malloc(sizeof(float) * nin),
                  *din2 = malloc(sizeof(float) * nin), *dw1 = malloc(sizeof(float) * nw),
                  *dw2 = malloc(sizeof(float) * nw), *db1 = malloc(sizeof(float) * d.cout),
                  *db2 = malloc(sizeof(float) * d.cout),
                  *pad = malloc(sizeof(float) * nn_conv_pad_size(&d)),
                  *xpad = malloc(sizeof(float) * nn_conv_xpad_size(&d)),
                  *fwd = malloc(sizeof(float) * nout);
            fill_uniform(&r, in, nin, 0, 1);
            fill_uniform(&r, w, nw, -0.3, 0.3);
            fill_uniform(&r, b, d.cout, -0.2, 0.2);
            nn_conv_flip_kernel(wf, w, d.cin, d.cout);
            for (int relu = 0; relu < 2; relu++) {
                nn_conv_forward_naive(out, in, w, b, &d, relu);
                if (d.pad > 0) { /* the forward of a "same" layer: valid over the padded input */
                    pf_conv_dims v;
                    fill_uniform(&r, xpad, nn_conv_xpad_size(&d), -9, 9); /* garbage: overwritten */
                    nn_conv_pad_input(xpad, in, &d, &v);
                    assert_int_equal(v.oh, d.oh);
                    assert_int_equal(v.ow, d.ow);
                    nn_conv_forward_direct(fwd, xpad, w, b, &v, relu, paths[pi]);
                    for (size_t i = 0; i < nout; i++) assert_true(fabsf(fwd[i] - out[i]) < 1e-4f);
                    fill_uniform(&r, xpad, nn_conv_xpad_size(&d), -9, 9);
                }
                fill_uniform(&r, g1, nout, -1, 1);
                memcpy(g2, g1, sizeof(float) * nout);
                /* nonzero start values: the weight and bias gradients must accumulate */
                fill_uniform(&r, dw1, nw, -1, 1);
                memcpy(dw2, dw1, sizeof(float) * nw);
                fill_uniform(&r, db1, d.cout, -1, 1);
                memcpy(db2, db1, sizeof(float) * d.cout);
                fill_uniform(&r, pad, nn_conv_pad_size(&d), -9, 9); /* garbage: overwritten */
                fill_uniform(&r, din1, nin, -9, 9);
                nn_conv_backward_direct(with_din ? din1 : NULL, dw1, db1, g1, out, in, wf, pad,
                                        xpad, &d, relu, paths[pi]);
                nn_conv_backward_naive(din2, dw2, db2, g2, out, in, w, &d, relu);
                for (size_t i = 0; i < nout; i++) assert_true(g1[i] == g2[i]); /* relu mask */
                for (size_t i = 0; i < nw; i++) assert_true(fabsf(dw1[i] - dw2[i]) < 2e-4f);
                for (int i = 0; i < d.cout; i++) assert_true(fabsf(db1[i] - db2[i]) < 2e-4f);
                if (with_din)
                    for (size_t i = 0; i < nin; i++) assert_true(fabsf(din1[i] - din2[i]) < 1e-4f);
            }
            free(in); free(w); free(wf); free(b); free(out); free(g1); free(g2); free(din1);
            free(din2); free(dw1); free(dw2); free(db1); free(db2); free(pad); free(xpad);
            free(fwd);
        }
}

/* The avx512 kernels give the same bits as the avx2 ones: forward (bias, relu, a 16-channel tail),
 * weight gradient (accumulating onto nonzero values) and input gradient, on shapes whose pixel
 * counts leave partial blocks for both. */
static void conv_direct_paths_bit_identical(void **state)
{
    (void)state;
    if (!nn_conv_direct_available(PF_ISA_AVX2) || !nn_conv_direct_available(PF_ISA_AVX512)) {
        skip();
        return;
    }
    const int cases[][4] = {{28, 28, 1, 32}, {26, 26, 32, 32}, {12, 12, 32, 32}, {10, 10, 32, 32},
                            {4, 4, 32, 32},  {32, 32, 3, 32},  {30, 30, 32, 32}, {5, 5, 32, 64},
                            {9, 7, 16, 48},  {13, 11, 64, 64}, {3, 3, 32, 32}};
    pf_rng r;
    rng_seed(&r, 29);
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        pf_conv_dims d;
        nn_conv_dims(&d, cases[t][0], cases[t][1], cases[t][2], cases[t][3], 0);
        size_t nin = (size_t)d.h * d.w * d.cin, nw = (size_t)9 * d.cin * d.cout,
               nout = (size_t)d.oh * d.ow * d.cout, npad = nn_conv_pad_size(&d);
        float *in = malloc(sizeof(float) * nin), *w = malloc(sizeof(float) * nw),
              *wf = malloc(sizeof(float) * nw), *b = malloc(sizeof(float) * d.cout),
              *o1 = malloc(sizeof(float) * nout), *o2 = malloc(sizeof(float) * nout),
              *g = malloc(sizeof(float) * nout), *dw1 = malloc(sizeof(float) * nw),
              *dw2 = malloc(sizeof(float) * nw), *din1 = malloc(sizeof(float) * nin),
              *din2 = malloc(sizeof(float) * nin), *pad = malloc(sizeof(float) * npad);
        fill_uniform(&r, in, nin, -1, 1);
        fill_uniform(&r, w, nw, -0.3, 0.3);
        fill_uniform(&r, b, d.cout, -0.2, 0.2);
        fill_uniform(&r, g, nout, -1, 1);
        nn_conv_flip_kernel(wf, w, d.cin, d.cout);
        for (int relu = 0; relu < 2; relu++) {
            nn_conv_forward_direct(o1, in, w, b, &d, relu, PF_ISA_AVX2);
            nn_conv_forward_direct(o2, in, w, b, &d, relu, PF_ISA_AVX512);
            assert_memory_equal(o1, o2, sizeof(float) * nout);
        }
        if (d.cout % 32 == 0) {
            fill_uniform(&r, dw1, nw, -1, 1);
            memcpy(dw2, dw1, sizeof(float) * nw);
            nn_conv_dweight_direct(dw1, in, g, &d, PF_ISA_AVX2);
            nn_conv_dweight_direct(dw2, in, g, &d, PF_ISA_AVX512);
            assert_memory_equal(dw1, dw2, sizeof(float) * nw);
        }
        if (d.cin % 16 == 0) {
            nn_conv_dinput_direct(din1, pad, g, wf, &d, PF_ISA_AVX2);
            nn_conv_dinput_direct(din2, pad, g, wf, &d, PF_ISA_AVX512);
            assert_memory_equal(din1, din2, sizeof(float) * nin);
        }
        free(in); free(w); free(wf); free(b); free(o1); free(o2); free(g); free(dw1); free(dw2);
        free(din1); free(din2); free(pad);
    }
}

/* ---- pool ---- */

typedef struct {
    float *in, *out, *r;
    int h, w, c;
} pool_ctx;

static double pool_objective(void *p)
{
    pool_ctx *c = p;
    nn_pool_forward(c->out, c->in, c->h, c->w, c->c);
    return dot(c->out, c->r, (size_t)(c->h / 2) * (c->w / 2) * c->c);
}

static void pool_gradient_fd(void **state)
{
    (void)state;
    pf_rng r;
    rng_seed(&r, 21);
    pool_ctx c = {.h = 5, .w = 6, .c = 3};
    size_t nin = (size_t)c.h * c.w * c.c, nout = (size_t)(c.h / 2) * (c.w / 2) * c.c;
    c.in = malloc(sizeof(float) * nin);
    c.out = malloc(sizeof(float) * nout);
    c.r = malloc(sizeof(float) * nout);
    float *din = malloc(sizeof(float) * nin);
    /* distinct values 0.01 apart: no ties within the finite-difference step */
    int32_t *perm = malloc(sizeof(int32_t) * nin);
    for (size_t i = 0; i < nin; i++) perm[i] = (int32_t)i;
    rng_shuffle_i32(&r, perm, (int64_t)nin);
    for (size_t i = 0; i < nin; i++) c.in[i] = 0.01f * (float)perm[i] - 0.3f;
    fill_uniform(&r, c.r, nout, -1, 1);
    nn_pool_forward(c.out, c.in, c.h, c.w, c.c);
    /* the odd last row is dropped (Keras floors): out is (2, 3, 3) */
    assert_true(c.out[0] >= c.in[0] && c.out[0] >= c.in[3] && c.out[0] >= c.in[18]);
    nn_pool_backward(din, c.r, c.in, c.h, c.w, c.c);
    int routed = 0;
    for (size_t i = 0; i < nin; i++) {
        double q = fd_ratio(pool_objective, &c, c.in, i, din[i], 1e-3f, 1e-3, 1e-2);
        assert_true(q <= 1.0);
        routed += din[i] != 0.0f;
    }
    assert_int_equal(routed, (int)nout);
    free(c.in); free(c.out); free(c.r); free(din); free(perm);
}

/* The branchless (vectorised) pool backward against a plain reference: first maximum of the window
 * in the order (0,0), (0,1), (1,0), (1,1), then the relu mask of the layer below. Coarse values
 * make ties frequent; odd sizes and a channel count with a scalar tail (35). */
static void pool_backward_matches_reference(void **state)
{
    (void)state;
    pf_rng r;
    rng_seed(&r, 23);
    const int h = 7, w = 6, c = 35, oh = h / 2, ow = w / 2;
    size_t nin = (size_t)h * w * c, nout = (size_t)oh * ow * c;
    float *in = malloc(sizeof(float) * nin), *g = malloc(sizeof(float) * nout),
          *din = malloc(sizeof(float) * nin), *want = malloc(sizeof(float) * nin);
    for (size_t i = 0; i < nin; i++) in[i] = (float)((int)rng_below(&r, 5) - 2); /* -2..2 */
    fill_uniform(&r, g, nout, 0.5, 1.5);
    int routed = 0, masked = 0, ties = 0;
    for (int relu = 0; relu < 2; relu++) {
        memset(want, 0, sizeof(float) * nin);
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                for (int k = 0; k < c; k++) {
                    size_t q[4];
                    for (int t = 0; t < 4; t++)
                        q[t] = ((size_t)(2 * oy + t / 2) * w + 2 * ox + t % 2) * c + k;
                    int best = 0;
                    for (int t = 1; t < 4; t++) {
                        if (in[q[t]] > in[q[best]]) best = t;
                        ties += relu == 0 && in[q[t]] == in[q[best]];
                    }
                    float gv = g[((size_t)oy * ow + ox) * c + k];
                    if (relu && !(in[q[best]] > 0.0f)) {
                        gv = 0.0f;
                        masked++;
                    }
                    want[q[best]] = gv;
                }
        fill_uniform(&r, din, nin, 5, 6); /* garbage: every element must be written */
        nn_pool_backward_relu(din, g, in, h, w, c, relu);
        assert_memory_equal(din, want, sizeof(float) * nin);
        for (size_t i = 0; i < nin; i++) routed += din[i] != 0.0f;
    }
    assert_true(ties > 100 && masked > 10 && routed > (int)nout);
    free(in); free(g); free(din); free(want);
}

/* ---- dense ---- */

typedef struct {
    float *x, *w, *b, *out, *r;
    int n, d, o, relu;
} dense_ctx;

static double dense_objective(void *p)
{
    dense_ctx *c = p;
    nn_dense_forward(c->out, c->x, c->w, c->b, c->n, c->d, c->o, c->relu);
    return dot(c->out, c->r, (size_t)c->n * c->o);
}

static void dense_case(int relu)
{
    pf_rng r;
    rng_seed(&r, 31 + relu);
    dense_ctx c = {.n = 4, .d = 7, .o = 5, .relu = relu};
    size_t nx = (size_t)c.n * c.d, nw = (size_t)c.d * c.o, nout = (size_t)c.n * c.o;
    c.x = malloc(sizeof(float) * nx);
    c.w = malloc(sizeof(float) * nw);
    c.b = malloc(sizeof(float) * c.o);
    c.out = malloc(sizeof(float) * nout);
    c.r = malloc(sizeof(float) * nout);
    float *dout = malloc(sizeof(float) * nout), *dx = malloc(sizeof(float) * nx);
    float *dw = calloc(nw, sizeof(float)), *db = calloc(c.o, sizeof(float));
    fill_uniform(&r, c.x, nx, -1, 1);
    fill_uniform(&r, c.w, nw, -0.7, 0.7);
    fill_uniform(&r, c.b, c.o, -0.3, 0.3);
    fill_uniform(&r, c.r, nout, -1, 1);
    nn_dense_forward(c.out, c.x, c.w, c.b, c.n, c.d, c.o, relu);
    /* one output by hand */
    double y = c.b[2];
    for (int i = 0; i < c.d; i++) y += (double)c.x[c.d + i] * c.w[i * c.o + 2];
    if (relu && y < 0) y = 0;
    assert_true(fabs(c.out[c.o + 2] - y) < 1e-5);
    memcpy(dout, c.r, sizeof(float) * nout);
    nn_dense_backward(dx, dw, db, dout, c.out, c.x, c.w, c.n, c.d, c.o, relu);
    for (size_t i = 0; i < nx; i++)
        assert_true(fd_ratio(dense_objective, &c, c.x, i, dx[i], 1e-3f, 2e-3, 1e-2) <= 1.0);
    for (size_t i = 0; i < nw; i++)
        assert_true(fd_ratio(dense_objective, &c, c.w, i, dw[i], 1e-3f, 2e-3, 1e-2) <= 1.0);
    for (int i = 0; i < c.o; i++)
        assert_true(fd_ratio(dense_objective, &c, c.b, i, db[i], 1e-3f, 2e-3, 1e-2) <= 1.0);
    free(c.x); free(c.w); free(c.b); free(c.out); free(c.r); free(dout); free(dx); free(dw);
    free(db);
}

static void dense_gradient_fd(void **state)
{
    (void)state;
    dense_case(0);
    dense_case(1);
}

/* ---- loss ---- */

typedef struct {
    float *z;
    const uint8_t *lab;
    int n, k;
} loss_ctx;

static double loss_objective(void *p)
{
    loss_ctx *c = p;
    return nn_softmax_xent(NULL, c->z, c->lab, c->n, c->k, 0.0f, NULL, NULL);
}

static void softmax_xent_values_and_gradient(void **state)
{
    (void)state;
    /* by hand: logits (0, ln 3) -> p = (1/4, 3/4); label 1 -> loss = ln(4/3) */
    float z2[2] = {0.0f, (float)log(3.0)};
    uint8_t l1 = 1;
    float g2[2];
    int64_t corr = 0;
    int32_t pred = -1;
    double loss = nn_softmax_xent(g2, z2, &l1, 1, 2, 1.0f, &pred, &corr);
    assert_true(fabs(loss - log(4.0 / 3.0)) < 1e-6);
    assert_true(fabs(g2[0] - 0.25) < 1e-6 && fabs(g2[1] + 0.25) < 1e-6);
    assert_int_equal(pred, 1);
    assert_int_equal(corr, 1);

    /* stable for huge logits: a naive exp would overflow to inf */
    float zbig[3] = {1000.0f, 0.0f, -1000.0f};
    uint8_t l0 = 0, l2 = 2;
    assert_true(fabs(nn_softmax_xent(NULL, zbig, &l0, 1, 3, 0.0f, NULL, NULL)) < 1e-6);
    assert_true(fabs(nn_softmax_xent(NULL, zbig, &l2, 1, 3, 0.0f, NULL, NULL) - 2000.0) < 1e-3);

    pf_rng r;
    rng_seed(&r, 41);
    enum { N = 3, K = 5 };
    float z[N * K], g[N * K];
    uint8_t lab[N] = {4, 0, 2};
    fill_uniform(&r, z, N * K, -3, 3);
    loss_ctx c = {z, lab, N, K};
    nn_softmax_xent(g, z, lab, N, K, 1.0f, NULL, NULL);
    for (int i = 0; i < N * K; i++)
        assert_true(fd_ratio(loss_objective, &c, z, (size_t)i, g[i], 1e-2f, 1e-4, 1e-3) <= 1.0);
}

/* ---- whole model ---- */

static void random_images(pf_rng *r, uint8_t *img, uint8_t *lab, int n, size_t size, int k)
{
    for (size_t i = 0; i < (size_t)n * size; i++) img[i] = (uint8_t)rng_below(r, 256);
    for (int i = 0; i < n; i++) lab[i] = (uint8_t)rng_below(r, (uint32_t)k);
}

typedef struct {
    pf_model *m;
    pf_batch *b;
} model_ctx;

static double model_objective(void *p)
{
    model_ctx *c = p;
    return model_eval_batch(c->m, c->b, NULL) / c->b->n;
}

static void model_gradient_fd(void **state)
{
    (void)state;
    /* the smallest input this architecture accepts: 24x24 (the second pool leaves 3x3) */
    enum { C = 2, H = 24, W = 24, K = 3, N = 3 };
    pf_rng r;
    rng_seed(&r, 51);
    uint8_t img[N * C * H * W], lab[N];
    random_images(&r, img, lab, N, (size_t)C * H * W, K);
    pf_model *m = model_create(PF_MODEL_SEED, C, H, W, K, 8);
    model_init(m, 5);
    float *p = model_params(m);
    size_t np = model_param_count(m);
    /* nonzero biases too, so that their gradients are exercised away from the init */
    for (size_t i = 0; i < np; i++)
        if (p[i] == 0.0f) p[i] = (float)(0.1 * (rng_uniform(&r) - 0.5));
    pf_batch b = {.images = img, .labels = lab, .index = NULL, .first = 0, .n = N};
    int64_t corr = -1;
    double loss = model_train_batch(m, &b, &corr);
    assert_true(corr >= 0 && corr <= N);
    assert_true(loss == model_eval_batch(m, &b, NULL));
    float *g = malloc(sizeof(float) * np);
    memcpy(g, model_grads(m), sizeof(float) * np);
    double gmax = 0.0;
    for (size_t i = 0; i < np; i++) gmax = fmax(gmax, fabs(g[i]));
    assert_true(gmax > 1e-3);
    /* every parameter tensor: its largest-gradient coordinate and four random ones. A small step
     * (1e-4) keeps ReLU and max-pool kinks out of the differences (at 1e-3 some coordinates
     * crossed one); the loss is summed in double, so float rounding stays well below tolerance. */
    model_ctx c = {m, &b};
    double worst = 0.0;
    int checked = 0;
    size_t start = 0;
    while (start < np) {
        /* tensors are contiguous runs; walk them by the layer table through sizes we know:
         * conv1 w (9*C*32), b (32), conv2..6 w (9*32*32), b (32), dense1 w (32*128)... */
        static const size_t sizes[] = {9 * C * 32, 32, 9216, 32, 9216, 32, 9216, 32, 9216, 32,
                                       9216, 32, 32 * 128, 128, 128 * 128, 128, 128 * K, K};
        size_t total = 0;
        for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) total += sizes[t];
        assert_int_equal(total, np);
        for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
            size_t best = start;
            for (size_t i = start; i < start + sizes[t]; i++)
                if (fabs(g[i]) > fabs(g[best])) best = i;
            size_t pick[5] = {best};
            for (int q = 1; q < 5; q++) pick[q] = start + rng_below(&r, (uint32_t)sizes[t]);
            for (int q = 0; q < 5; q++) {
                double ratio = fd_ratio(model_objective, &c, p, pick[q], g[pick[q]], 1e-4f,
                                        1e-3 * gmax, 2e-2);
                if (ratio > worst) worst = ratio;
                if (ratio > 1.0)
                    print_message("tensor %zu coordinate %zu: analytic %.6g, ratio %.3f\n", t,
                                  pick[q] - start, g[pick[q]], ratio);
                checked++;
            }
            start += sizes[t];
        }
    }
    print_message("model: %d coordinates, worst fd ratio %.3f (max |g| %.3g)\n", checked, worst,
                  gmax);
    assert_true(worst <= 1.0);
    free(g);
    model_free(m);
}

static void param_counts_match_the_seed(void **state)
{
    (void)state;
    pf_model *m = model_create(PF_MODEL_SEED, 1, 28, 28, 10, 4);
    assert_int_equal(model_param_count(m), 80874);
    assert_true(fabs(model_flops_forward(m) - 14244608.0) < 0.5);
    assert_true(fabs(model_flops_train(m) - 42344448.0) < 0.5);
    assert_int_equal(model_layer_count(m), 12);
    assert_string_equal(model_layer_name(m, 0), "conv1");
    assert_string_equal(model_layer_name(m, 2), "pool1");
    assert_string_equal(model_layer_name(m, 8), "dense1");
    model_free(m);
    m = model_create(PF_MODEL_SEED, 3, 32, 32, 10, 4);
    assert_int_equal(model_param_count(m), 101930);
    assert_true(fabs(model_flops_forward(m) - 20944128.0) < 0.5);
    assert_true(fabs(model_flops_train(m) - 61277184.0) < 0.5);
    model_free(m);
    m = model_create(PF_MODEL_SEED, 3, 32, 32, 100, 4);
    assert_int_equal(model_param_count(m), 113540);
    model_free(m);
    /* wide: convs of 64, dense 256: 640 + 5 * 36928 + (256 * 256 + 256) * 2 + 2570 */
    m = model_create(PF_MODEL_WIDE, 1, 28, 28, 10, 4);
    assert_int_equal(model_param_count(m), 319434);
    model_free(m);
}

static void init_is_glorot_and_seeded(void **state)
{
    (void)state;
    pf_model *a = model_create(PF_MODEL_SEED, 1, 28, 28, 10, 4);
    pf_model *b = model_create(PF_MODEL_SEED, 1, 28, 28, 10, 4);
    model_init(a, 7);
    model_init(b, 7);
    size_t np = model_param_count(a);
    assert_memory_equal(model_params(a), model_params(b), sizeof(float) * np);
    model_init(b, 8);
    assert_memory_not_equal(model_params(a), model_params(b), sizeof(float) * np);
    const float *p = model_params(a);
    /* conv1: 288 weights within sqrt(6 / (9 + 288)), then 32 zero biases */
    double lim = sqrt(6.0 / (9.0 + 288.0)), mx = 0.0;
    for (int i = 0; i < 288; i++) mx = fmax(mx, fabs(p[i]));
    assert_true(mx <= lim && mx > 0.9 * lim);
    for (int i = 288; i < 320; i++) assert_true(p[i] == 0.0f);
    /* conv2: limit sqrt(6 / (288 + 288)) */
    lim = sqrt(6.0 / 576.0);
    mx = 0.0;
    for (int i = 320; i < 320 + 9216; i++) mx = fmax(mx, fabs(p[i]));
    assert_true(mx <= lim && mx > 0.95 * lim);
    /* last dense: 128 x 10 kernel, limit sqrt(6 / 138), at the end before 10 zero biases */
    lim = sqrt(6.0 / 138.0);
    mx = 0.0;
    for (size_t i = np - 10 - 1280; i < np - 10; i++) mx = fmax(mx, fabs(p[i]));
    assert_true(mx <= lim && mx > 0.9 * lim);
    for (size_t i = np - 10; i < np; i++) assert_true(p[i] == 0.0f);
    model_free(a);
    model_free(b);
}

static void adam_matches_hand_computation(void **state)
{
    (void)state;
    /* Keras Adam, lr 0.01, three steps; expected values from the formulas in nn.h by hand (in
     * double). Step 1 moves each parameter by about lr * sign(g): 1 -> 0.99000006. */
    pf_adam a;
    adam_init(&a, 3);
    assert_true(a.beta1 == 0.9 && a.beta2 == 0.999 && a.epsilon == 1e-7 && a.t == 0);
    float p[3] = {1.0f, -2.0f, 0.3f};
    const float g[3][3] = {{0.5f, -0.1f, 0.0f}, {0.2f, 0.3f, 1e-3f}, {-0.4f, 0.3f, 2.0f}};
    const double want[3][3] = {{0.990000063, -1.990000316, 0.300000000},
                               {0.981014364, -1.994942165, 0.292582089},
                               {0.979251584, -2.002110674, 0.286191090}};
    for (int s = 0; s < 3; s++) {
        adam_step(&a, p, g[s], 0.01);
        for (int i = 0; i < 3; i++) assert_true(fabs(p[i] - want[s][i]) < 2e-6);
    }
    assert_int_equal(a.t, 3);
    assert_true(fabs(a.m[2] - 0.20009) < 1e-6 && fabs(a.v[0] - 0.00044946025) < 1e-8);
    adam_free(&a);
}

/* Gradient and loss of one batch with a given thread count, copied out. */
static double run_threads(pf_model *m, const pf_batch *b, int threads, float *g, int64_t *corr)
{
    model_set_threads(m, threads);
    double loss = model_train_batch(m, b, corr);
    memcpy(g, model_grads(m), sizeof(float) * model_param_count(m));
    return loss;
}

/* Per path (scalar, avx2, avx512 where this CPU has them): 1, 2 and 3 threads give the same bits,
 * training and evaluation; avx2 and avx512 give the same bits as each other. */
static void threads_give_identical_results(void **state)
{
    (void)state;
    enum { N = 21, MAXB = 24 };
    pf_rng r;
    rng_seed(&r, 61);
    static uint8_t img[N * 3 * 32 * 32];
    uint8_t lab[N];
    random_images(&r, img, lab, N, 3 * 32 * 32, 10);
    pf_model *m = model_create(PF_MODEL_SEED, 3, 32, 32, 10, MAXB);
    model_init(m, 9);
    size_t np = model_param_count(m);
    float *g1 = malloc(sizeof(float) * np), *g2 = malloc(sizeof(float) * np),
          *g3 = malloc(sizeof(float) * np), *gpath[PF_ISA_COUNT] = {NULL};
    double lpath[PF_ISA_COUNT] = {0};
    /* shuffled index, a batch that is not a multiple of the chunk count */
    int32_t idx[N];
    for (int i = 0; i < N; i++) idx[i] = N - 1 - i;
    pf_batch b = {.images = img, .labels = lab, .index = idx, .first = 0, .n = N};
    int paths = 0;
    for (int isa = PF_ISA_SCALAR; isa < PF_ISA_COUNT; isa++) {
        if (model_set_isa(m, (pf_isa)isa) != 0) {
            assert_false(cpu_has_isa((pf_isa)isa));
            continue;
        }
        assert_int_equal(model_isa(m), isa);
        paths++;
        int64_t c1, c2, c3;
        double l1 = run_threads(m, &b, 1, g1, &c1);
        double l2 = run_threads(m, &b, 2, g2, &c2);
        double l3 = run_threads(m, &b, 3, g3, &c3);
        assert_true(l1 == l2 && l1 == l3);
        assert_true(c1 == c2 && c1 == c3);
        assert_memory_equal(g1, g2, sizeof(float) * np);
        assert_memory_equal(g1, g3, sizeof(float) * np);
        /* evaluation too */
        int32_t p1[N], p2[N];
        model_set_threads(m, 1);
        double e1 = model_eval_batch(m, &b, p1);
        model_set_threads(m, 2);
        double e2 = model_eval_batch(m, &b, p2);
        assert_true(e1 == e2 && e1 == l1);
        assert_memory_equal(p1, p2, sizeof p1);
        int64_t agree = 0;
        for (int i = 0; i < N; i++) agree += p1[i] == lab[idx[i]];
        assert_int_equal(agree, c1);
        gpath[isa] = malloc(sizeof(float) * np);
        memcpy(gpath[isa], g1, sizeof(float) * np);
        lpath[isa] = l1;
    }
    assert_true(paths >= 1);
    if (gpath[PF_ISA_AVX2] && gpath[PF_ISA_AVX512]) {
        assert_true(lpath[PF_ISA_AVX2] == lpath[PF_ISA_AVX512]);
        assert_memory_equal(gpath[PF_ISA_AVX2], gpath[PF_ISA_AVX512], sizeof(float) * np);
    }
    if (gpath[PF_ISA_SCALAR] && gpath[PF_ISA_AVX2]) {
        /* different rounding (sgemm vs FMA order), same gradient to float precision */
        double gmax = 0.0, err = 0.0;
        for (size_t j = 0; j < np; j++) {
            gmax = fmax(gmax, fabs(gpath[PF_ISA_SCALAR][j]));
            err = fmax(err, fabs(gpath[PF_ISA_SCALAR][j] - gpath[PF_ISA_AVX2][j]));
        }
        assert_true(err <= 1e-4 * gmax);
        assert_true(fabs(lpath[PF_ISA_SCALAR] - lpath[PF_ISA_AVX2]) < 1e-4 * lpath[PF_ISA_AVX2]);
    }
    /* the default path is the CPU's; a path the CPU lacks is refused and changes nothing */
    assert_int_equal(model_set_isa(m, PF_ISA_AUTO), 0);
    assert_int_equal(model_isa(m), cpu_default_isa());
    if (!cpu_has_isa(PF_ISA_AVX512)) {
        assert_int_equal(model_set_isa(m, PF_ISA_AVX512), -1);
        assert_int_equal(model_isa(m), cpu_default_isa());
    }
    for (int i = 0; i < PF_ISA_COUNT; i++) free(gpath[i]);
    free(g1); free(g2); free(g3);
    model_free(m);
}


/* The log-probability of the given label: by hand, minus the item's loss, the same for any
 * thread count, and the same predictions as model_eval_batch. */
static void eval_logp_is_minus_the_loss(void **state)
{
    (void)state;
    /* logits (0, ln 3): p = (1/4, 3/4). */
    float z2[4] = {0.0f, (float)log(3.0), 0.0f, (float)log(3.0)};
    uint8_t l2[2] = {1, 0};
    double lp2[2];
    nn_label_logprob(z2, l2, 2, 2, lp2);
    assert_true(fabs(lp2[0] - log(0.75)) < 1e-7);
    assert_true(fabs(lp2[1] - log(0.25)) < 1e-7);
    /* Huge logits stay finite. */
    float zbig[3] = {1000.0f, 0.0f, -1000.0f};
    uint8_t l0 = 2;
    double lbig;
    nn_label_logprob(zbig, &l0, 1, 3, &lbig);
    assert_true(fabs(lbig + 2000.0) < 1e-3);
    /* Exactly minus the loss nn_softmax_xent gives each item. */
    pf_rng r;
    rng_seed(&r, 43);
    enum { N = 6, K = 7 };
    float z[N * K];
    uint8_t lab[N] = {0, 6, 3, 3, 1, 2};
    fill_uniform(&r, z, N * K, -4, 4);
    double lp[N];
    nn_label_logprob(z, lab, N, K, lp);
    for (int i = 0; i < N; i++)
        assert_true(lp[i] == -nn_softmax_xent(NULL, z + i * K, lab + i, 1, K, 0.0f, NULL, NULL));

    /* The whole model: 21 shuffled CIFAR-shaped items. */
    enum { M = 21, MAXB = 24 };
    static uint8_t img[M * 3 * 32 * 32];
    uint8_t ml[M];
    random_images(&r, img, ml, M, 3 * 32 * 32, 10);
    pf_model *m = model_create(PF_MODEL_SEED, 3, 32, 32, 10, MAXB);
    model_init(m, 19);
    int32_t idx[M];
    for (int i = 0; i < M; i++) idx[i] = (i * 5) % M;
    pf_batch b = {.images = img, .labels = ml, .index = idx, .first = 0, .n = M};
    int32_t p0[M], p1[M], p2[M];
    double a1[M], a2[M];
    model_set_threads(m, 1);
    double e0 = model_eval_batch(m, &b, p0);
    double e1 = model_eval_batch_logp(m, &b, p1, a1);
    model_set_threads(m, 2);
    double e2 = model_eval_batch_logp(m, &b, p2, a2);
    assert_true(e0 == e1 && e1 == e2);
    assert_memory_equal(p0, p1, sizeof p0);
    assert_memory_equal(p1, p2, sizeof p1);
    assert_memory_equal(a1, a2, sizeof a1);
    double sum = 0.0;
    for (int j = 0; j < M; j++) {
        assert_true(a1[j] <= 0.0 && isfinite(a1[j]));
        /* The predicted class has the highest probability: at least 1/K when it is the label. */
        if (p1[j] == ml[idx[j]]) assert_true(a1[j] >= log(0.1) - 1e-12);
        sum -= a1[j];
    }
    assert_true(fabs(sum - e1) <= 1e-12 * fabs(e1));
    /* Without labels: predictions only (a NULL logp is allowed). */
    pf_batch nolab = b;
    nolab.labels = NULL;
    assert_true(model_eval_batch_logp(m, &nolab, p2, NULL) == 0.0);
    assert_memory_equal(p0, p2, sizeof p0);
    model_free(m);
}

static void small_and_partial_batches(void **state)
{
    (void)state;
    /* 3 items (< PF_NN_CHUNKS): the gradient of the mean equals the mean of the 3 single-item
     * gradients, and the loss the sum of their losses. */
    enum { N = 3 };
    pf_rng r;
    rng_seed(&r, 71);
    static uint8_t img[13 * 28 * 28];
    uint8_t lab[13];
    random_images(&r, img, lab, 13, 28 * 28, 10);
    pf_model *m = model_create(PF_MODEL_SEED, 1, 28, 28, 10, 16);
    model_init(m, 3);
    size_t np = model_param_count(m);
    float *g = malloc(sizeof(float) * np), *gs = calloc(np, sizeof(float));
    pf_batch b = {.images = img, .labels = lab, .index = NULL, .first = 0, .n = N};
    model_set_threads(m, 2);
    double loss = run_threads(m, &b, 2, g, NULL);
    double lsum = 0.0;
    for (int i = 0; i < N; i++) {
        pf_batch one = {.images = img, .labels = lab, .index = NULL, .first = i, .n = 1};
        lsum += model_train_batch(m, &one, NULL);
        for (size_t j = 0; j < np; j++) gs[j] += model_grads(m)[j] / N;
    }
    assert_true(fabs(loss - lsum) < 1e-5 * fabs(lsum));
    double gmax = 0.0, err = 0.0;
    for (size_t j = 0; j < np; j++) {
        gmax = fmax(gmax, fabs(g[j]));
        err = fmax(err, fabs(g[j] - gs[j]));
    }
    assert_true(gmax > 0.0);
    assert_true(err <= 1e-5 * gmax);
    /* a last partial batch of 13 with max_batch 16, items 0..12 at an offset of 0 */
    pf_batch part = {.images = img, .labels = lab, .index = NULL, .first = 0, .n = 13};
    int64_t corr = -1;
    double lp = model_train_batch(m, &part, &corr);
    assert_true(isfinite(lp) && lp > 0.0);
    assert_true(corr >= 0 && corr <= 13);
    assert_true(lp == model_eval_batch(m, &part, NULL));
    /* an empty batch: zero gradient, zero loss */
    pf_batch none = {.images = img, .labels = lab, .index = NULL, .first = 0, .n = 0};
    assert_true(model_train_batch(m, &none, NULL) == 0.0);
    for (size_t j = 0; j < np; j++) assert_true(model_grads(m)[j] == 0.0f);
    free(g);
    free(gs);
    model_free(m);
}

static void profile_accumulates(void **state)
{
    (void)state;
    pf_rng r;
    rng_seed(&r, 81);
    static uint8_t img[8 * 28 * 28];
    uint8_t lab[8];
    random_images(&r, img, lab, 8, 28 * 28, 10);
    pf_model *m = model_create(PF_MODEL_SEED, 1, 28, 28, 10, 8);
    model_init(m, 1);
    pf_batch b = {.images = img, .labels = lab, .index = NULL, .first = 0, .n = 8};
    model_profile_enable(m, 1);
    model_profile_reset(m);
    model_train_batch(m, &b, NULL);
    double f, bw;
    model_layer_seconds(m, 1, &f, &bw);
    assert_true(f > 0.0 && bw > 0.0);
    model_profile_reset(m);
    model_layer_seconds(m, 1, &f, &bw);
    assert_true(f == 0.0 && bw == 0.0);
    model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conv_valid_matches_naive_and_fd),
        cmocka_unit_test(conv_same_matches_naive_and_fd),
        cmocka_unit_test(conv_direct_matches_naive),
        cmocka_unit_test(conv_direct_backward_matches_naive),
        cmocka_unit_test(conv_direct_paths_bit_identical),
        cmocka_unit_test(pool_gradient_fd),
        cmocka_unit_test(pool_backward_matches_reference),
        cmocka_unit_test(dense_gradient_fd),
        cmocka_unit_test(softmax_xent_values_and_gradient),
        cmocka_unit_test(model_gradient_fd),
        cmocka_unit_test(param_counts_match_the_seed),
        cmocka_unit_test(init_is_glorot_and_seeded),
        cmocka_unit_test(adam_matches_hand_computation),
        cmocka_unit_test(threads_give_identical_results),
        cmocka_unit_test(eval_logp_is_minus_the_loss),
        cmocka_unit_test(small_and_partial_batches),
        cmocka_unit_test(profile_accumulates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
