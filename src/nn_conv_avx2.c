/* nn_conv_avx2.c -- the direct 3x3 "valid" convolution kernels for AVX2/FMA (forward and weight
 * gradient; the input gradient is the forward over the padded output gradient, nn_conv_direct.c).
 *
 * Register blocking (the classic 6x16 micro-kernel shape): 6 output pixels x 16 channels in 12 ymm
 * accumulators, 2 weight vectors and 1 broadcast; per step 8 loads feed 12 FMAs. In HWC the 3 taps
 * of one kernel row are 3*Cin contiguous floats, so the GEMM operand "patch row of output pixel p"
 * is read in place from the input. Output pixels are taken in flat order (p = oy*OW + ox), so rows
 * of any width need no remainder loop: the last block repeats its last pixel and stores only the
 * valid ones. The weight gradient uses 3 kernel rows x 32 channels (12 accumulators) and runs over
 * all output pixels of the image. */
#include "nn_conv_kernels.h"

#ifdef PF_HAVE_X86_KERNELS
#include <immintrin.h>

#define PF_AVX2 __attribute__((target("avx2,fma")))

/* out (P, O) rows p0..p0+5 (only those < P stored), channels ob..ob+15. */
PF_AVX2 static void fwd_block(float *out, const float *in, const float *wgt, const float *bias,
                              const pf_conv_dims *d, int p0, int ob, int relu)
{
    const int C = d->cin, W = d->w, O = d->cout, OW = d->ow, R = 3 * C, P = d->oh * d->ow;
    const float *x[6];
    for (int r = 0; r < 6; r++) {
        int p = p0 + r < P ? p0 + r : P - 1;
        x[r] = in + ((size_t)(p / OW) * W + p % OW) * C;
    }
    const __m256 bl = bias ? _mm256_loadu_ps(bias + ob) : _mm256_setzero_ps(),
                 bh = bias ? _mm256_loadu_ps(bias + ob + 8) : _mm256_setzero_ps();
    __m256 a0 = bl, a1 = bh, b0 = bl, b1 = bh, c0 = bl, c1 = bh, d0 = bl, d1 = bh, e0 = bl,
           e1 = bh, f0 = bl, f1 = bh;
    for (int ky = 0; ky < 3; ky++) {
        const size_t row = (size_t)ky * W * C;
        const float *x0 = x[0] + row, *x1 = x[1] + row, *x2 = x[2] + row, *x3 = x[3] + row,
                    *x4 = x[4] + row, *x5 = x[5] + row;
        const float *w = wgt + (size_t)ky * R * O + ob;
        for (int j = 0; j < R; j++, w += O) {
            const __m256 wl = _mm256_loadu_ps(w), wh = _mm256_loadu_ps(w + 8);
            __m256 v = _mm256_broadcast_ss(x0 + j);
            a0 = _mm256_fmadd_ps(v, wl, a0);
            a1 = _mm256_fmadd_ps(v, wh, a1);
            v = _mm256_broadcast_ss(x1 + j);
            b0 = _mm256_fmadd_ps(v, wl, b0);
            b1 = _mm256_fmadd_ps(v, wh, b1);
            v = _mm256_broadcast_ss(x2 + j);
            c0 = _mm256_fmadd_ps(v, wl, c0);
            c1 = _mm256_fmadd_ps(v, wh, c1);
            v = _mm256_broadcast_ss(x3 + j);
            d0 = _mm256_fmadd_ps(v, wl, d0);
            d1 = _mm256_fmadd_ps(v, wh, d1);
            v = _mm256_broadcast_ss(x4 + j);
            e0 = _mm256_fmadd_ps(v, wl, e0);
            e1 = _mm256_fmadd_ps(v, wh, e1);
            v = _mm256_broadcast_ss(x5 + j);
            f0 = _mm256_fmadd_ps(v, wl, f0);
            f1 = _mm256_fmadd_ps(v, wh, f1);
        }
    }
    if (relu) {
        const __m256 z = _mm256_setzero_ps();
        a0 = _mm256_max_ps(a0, z); a1 = _mm256_max_ps(a1, z);
        b0 = _mm256_max_ps(b0, z); b1 = _mm256_max_ps(b1, z);
        c0 = _mm256_max_ps(c0, z); c1 = _mm256_max_ps(c1, z);
        d0 = _mm256_max_ps(d0, z); d1 = _mm256_max_ps(d1, z);
        e0 = _mm256_max_ps(e0, z); e1 = _mm256_max_ps(e1, z);
        f0 = _mm256_max_ps(f0, z); f1 = _mm256_max_ps(f1, z);
    }
    const __m256 acc[12] = {a0, a1, b0, b1, c0, c1, d0, d1, e0, e1, f0, f1};
    for (int r = 0; r < 6 && p0 + r < P; r++) {
        float *o = out + (size_t)(p0 + r) * O + ob;
        _mm256_storeu_ps(o, acc[2 * r]);
        _mm256_storeu_ps(o + 8, acc[2 * r + 1]);
    }
}

PF_AVX2 void nn_conv_fwd_avx2(float *out, const float *in, const float *wgt, const float *bias,
                              const pf_conv_dims *d, int relu)
{
    const int P = d->oh * d->ow;
    for (int p0 = 0; p0 < P; p0 += 6)
        for (int ob = 0; ob < d->cout; ob += 16) fwd_block(out, in, wgt, bias, d, p0, ob, relu);
}

/* dwgt rows k0..k0+2 (k = (ky*3 + kx)*Cin + c), channels ob..ob+31, += over all output pixels. */
PF_AVX2 static void dw_block(float *dwgt, const float *in, const float *dout,
                             const pf_conv_dims *d, int k0, int ob)
{
    const int C = d->cin, W = d->w, O = d->cout, OW = d->ow;
    const float *x[3];
    for (int r = 0; r < 3; r++) {
        int k = k0 + r, t = k / C, c = k % C;
        x[r] = in + ((size_t)(t / 3) * W + t % 3) * C + c;
    }
    float *g0 = dwgt + (size_t)k0 * O + ob, *g1 = g0 + O, *g2 = g1 + O;
    __m256 a0 = _mm256_loadu_ps(g0), a1 = _mm256_loadu_ps(g0 + 8), a2 = _mm256_loadu_ps(g0 + 16),
           a3 = _mm256_loadu_ps(g0 + 24);
    __m256 b0 = _mm256_loadu_ps(g1), b1 = _mm256_loadu_ps(g1 + 8), b2 = _mm256_loadu_ps(g1 + 16),
           b3 = _mm256_loadu_ps(g1 + 24);
    __m256 c0 = _mm256_loadu_ps(g2), c1 = _mm256_loadu_ps(g2 + 8), c2 = _mm256_loadu_ps(g2 + 16),
           c3 = _mm256_loadu_ps(g2 + 24);
    for (int oy = 0; oy < d->oh; oy++) {
        const size_t base = (size_t)oy * W * C;
        const float *x0 = x[0] + base, *x1 = x[1] + base, *x2 = x[2] + base;
        const float *g = dout + (size_t)oy * OW * O + ob;
        for (int ox = 0; ox < OW; ox++, g += O) {
            const __m256 u0 = _mm256_loadu_ps(g), u1 = _mm256_loadu_ps(g + 8),
                         u2 = _mm256_loadu_ps(g + 16), u3 = _mm256_loadu_ps(g + 24);
            const size_t q = (size_t)ox * C;
            __m256 v = _mm256_broadcast_ss(x0 + q);
            a0 = _mm256_fmadd_ps(v, u0, a0);
            a1 = _mm256_fmadd_ps(v, u1, a1);
            a2 = _mm256_fmadd_ps(v, u2, a2);
            a3 = _mm256_fmadd_ps(v, u3, a3);
            v = _mm256_broadcast_ss(x1 + q);
            b0 = _mm256_fmadd_ps(v, u0, b0);
            b1 = _mm256_fmadd_ps(v, u1, b1);
            b2 = _mm256_fmadd_ps(v, u2, b2);
            b3 = _mm256_fmadd_ps(v, u3, b3);
            v = _mm256_broadcast_ss(x2 + q);
            c0 = _mm256_fmadd_ps(v, u0, c0);
            c1 = _mm256_fmadd_ps(v, u1, c1);
            c2 = _mm256_fmadd_ps(v, u2, c2);
            c3 = _mm256_fmadd_ps(v, u3, c3);
        }
    }
    _mm256_storeu_ps(g0, a0); _mm256_storeu_ps(g0 + 8, a1);
    _mm256_storeu_ps(g0 + 16, a2); _mm256_storeu_ps(g0 + 24, a3);
    _mm256_storeu_ps(g1, b0); _mm256_storeu_ps(g1 + 8, b1);
    _mm256_storeu_ps(g1 + 16, b2); _mm256_storeu_ps(g1 + 24, b3);
    _mm256_storeu_ps(g2, c0); _mm256_storeu_ps(g2 + 8, c1);
    _mm256_storeu_ps(g2 + 16, c2); _mm256_storeu_ps(g2 + 24, c3);
}

PF_AVX2 void nn_conv_dw_avx2(float *dwgt, const float *in, const float *dout, const pf_conv_dims *d)
{
    const int K = 9 * d->cin;
    for (int k0 = 0; k0 < K; k0 += 3)
        for (int ob = 0; ob < d->cout; ob += 32) dw_block(dwgt, in, dout, d, k0, ob);
}

#else
typedef int pf_no_avx2_kernels; /* ISO C wants a declaration in every file */
#endif
