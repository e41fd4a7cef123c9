/* nn_conv_avx512.c -- the direct 3x3 "valid" convolution kernels for AVX-512F, bit-identical to the
 * AVX2 ones (nn_conv_avx2.c): every output element gets the same fused multiply-adds in the same
 * order, only 16 lanes at a time instead of 8 and with the 32 zmm registers' larger blocking.
 *
 * Forward: 12 output pixels x 32 channels in 24 zmm accumulators (2 weight vectors, broadcasts
 * from memory); per step 2 + 12 loads feed 24 FMAs (AVX2: 8 loads per 12). Channel blocks of 16
 * where Cout is an odd multiple of 16. Pixels in flat order as in AVX2: the last block repeats its
 * last pixel and stores only the valid ones. Weight gradient: 9 kernel rows (one 3x3 tap set of a
 * channel when Cin = 1, and K = 9*Cin is always a multiple of 9) x 32 channels in 18 accumulators;
 * per output pixel 2 + 9 loads feed 18 FMAs. */
#include "nn_conv_kernels.h"

#ifdef PF_HAVE_X86_KERNELS
#include <immintrin.h>

#define PF_AVX512 __attribute__((target("avx2,fma,avx512f")))
#define PF_INLINE static inline __attribute__((always_inline))

#ifndef PF_FP
#define PF_FP 12
#endif
enum { FP = PF_FP, DWR = 9 };

/* out (P, O) rows p0..p0+FP-1 (only those < P stored), channels ob..ob+16*NV-1. */
PF_AVX512 PF_INLINE void fwd_block(float *out, const float *in, const float *wgt,
                                   const float *bias, const pf_conv_dims *d, const int *xoff,
                                   int p0, int ob, int relu, const int NV)
{
    const int C = d->cin, W = d->w, O = d->cout, R = 3 * C, P = d->oh * d->ow;
    const float *x[FP];
    for (int r = 0; r < FP; r++) x[r] = in + (size_t)xoff[r] * C;
    __m512 b[2], acc[FP][2];
    for (int v = 0; v < NV; v++) b[v] = bias ? _mm512_loadu_ps(bias + ob + 16 * v) : _mm512_setzero_ps();
#pragma GCC unroll 12
    for (int r = 0; r < FP; r++)
        for (int v = 0; v < NV; v++) acc[r][v] = b[v];
    for (int ky = 0; ky < 3; ky++) {
        const size_t row = (size_t)ky * W * C;
        const float *w = wgt + (size_t)ky * R * O + ob;
        const float *xr[FP];
        for (int r = 0; r < FP; r++) xr[r] = x[r] + row;
        for (int j = 0; j < R; j++, w += O) {
            __m512 wv[2];
            for (int v = 0; v < NV; v++) wv[v] = _mm512_loadu_ps(w + 16 * v);
#pragma GCC unroll 12
            for (int r = 0; r < FP; r++) {
                const __m512 s = _mm512_set1_ps(xr[r][j]);
                for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(s, wv[v], acc[r][v]);
            }
        }
    }
    if (relu) {
        const __m512 z = _mm512_setzero_ps();
#pragma GCC unroll 12
        for (int r = 0; r < FP; r++)
            for (int v = 0; v < NV; v++) acc[r][v] = _mm512_max_ps(acc[r][v], z);
    }
    for (int r = 0; r < FP && p0 + r < P; r++) {
        float *o = out + (size_t)(p0 + r) * O + ob;
        for (int v = 0; v < NV; v++) _mm512_storeu_ps(o + 16 * v, acc[r][v]);
    }
}

PF_AVX512 static void fwd_block32(float *out, const float *in, const float *wgt,
                                  const float *bias, const pf_conv_dims *d, const int *xoff,
                                  int p0, int ob, int relu)
{
    fwd_block(out, in, wgt, bias, d, xoff, p0, ob, relu, 2);
}

PF_AVX512 static void fwd_block16(float *out, const float *in, const float *wgt,
                                  const float *bias, const pf_conv_dims *d, const int *xoff,
                                  int p0, int ob, int relu)
{
    fwd_block(out, in, wgt, bias, d, xoff, p0, ob, relu, 1);
}

PF_AVX512 void nn_conv_fwd_avx512(float *out, const float *in, const float *wgt, const float *bias,
                                  const pf_conv_dims *d, int relu)
{
    const int P = d->oh * d->ow, O = d->cout, OW = d->ow, W = d->w;
    int xoff[FP], oy = 0, ox = 0; /* the input pixel of each output pixel of the block */
    for (int p0 = 0; p0 < P; p0 += FP) {
        for (int r = 0; r < FP; r++) {
            if (p0 + r < P) {
                xoff[r] = oy * W + ox;
                if (++ox == OW) {
                    ox = 0;
                    oy++;
                }
            } else {
                xoff[r] = xoff[r - 1]; /* past the end: repeat the last pixel, not stored */
            }
        }
        int ob = 0;
        for (; ob + 32 <= O; ob += 32) fwd_block32(out, in, wgt, bias, d, xoff, p0, ob, relu);
        if (ob < O) fwd_block16(out, in, wgt, bias, d, xoff, p0, ob, relu);
    }
}

/* dwgt rows k0..k0+8 (k = (ky*3 + kx)*Cin + c), channels ob..ob+31, += over all output pixels. */
PF_AVX512 static void dw_block(float *dwgt, const float *in, const float *dout,
                               const pf_conv_dims *d, int k0, int ob)
{
    const int C = d->cin, W = d->w, O = d->cout, OW = d->ow;
    const float *x[DWR];
    float *g[DWR];
    __m512 acc[DWR][2];
#pragma GCC unroll 9
    for (int r = 0; r < DWR; r++) {
        int k = k0 + r, t = k / C, c = k % C;
        x[r] = in + ((size_t)(t / 3) * W + t % 3) * C + c;
        g[r] = dwgt + (size_t)k * O + ob;
        acc[r][0] = _mm512_loadu_ps(g[r]);
        acc[r][1] = _mm512_loadu_ps(g[r] + 16);
    }
    for (int oy = 0; oy < d->oh; oy++) {
        const size_t base = (size_t)oy * W * C;
        const float *xr[DWR];
        for (int r = 0; r < DWR; r++) xr[r] = x[r] + base;
        const float *u = dout + (size_t)oy * OW * O + ob;
        for (int ox = 0; ox < OW; ox++, u += O) {
            const __m512 u0 = _mm512_loadu_ps(u), u1 = _mm512_loadu_ps(u + 16);
            const size_t q = (size_t)ox * C;
#pragma GCC unroll 9
            for (int r = 0; r < DWR; r++) {
                const __m512 s = _mm512_set1_ps(xr[r][q]);
                acc[r][0] = _mm512_fmadd_ps(s, u0, acc[r][0]);
                acc[r][1] = _mm512_fmadd_ps(s, u1, acc[r][1]);
            }
        }
    }
#pragma GCC unroll 9
    for (int r = 0; r < DWR; r++) {
        _mm512_storeu_ps(g[r], acc[r][0]);
        _mm512_storeu_ps(g[r] + 16, acc[r][1]);
    }
}

PF_AVX512 void nn_conv_dw_avx512(float *dwgt, const float *in, const float *dout,
                                 const pf_conv_dims *d)
{
    const int K = 9 * d->cin;
    for (int k0 = 0; k0 < K; k0 += DWR)
        for (int ob = 0; ob < d->cout; ob += 32) dw_block(dwgt, in, dout, d, k0, ob);
}

#else
typedef int pf_no_avx512_kernels; /* ISO C wants a declaration in every file */
#endif
