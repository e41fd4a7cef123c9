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
enum { FP = PF_FP, DWR_MAX = 12 };

/* out (P, O) rows p0..p0+NPX-1 (only those < P stored), channels ob..ob+16*NV-1. */
PF_AVX512 PF_INLINE void fwd_block(float *out, const float *in, const float *wgt,
                                   const float *bias, const pf_conv_dims *d, const int *xoff,
                                   int ky0, int ky1, int p0, int ob, int relu, const int NPX,
                                   const int NV)
{
    const int C = d->cin, W = d->w, O = d->cout, R = 3 * C, P = d->oh * d->ow;
    const float *x[FP];
    for (int r = 0; r < NPX; r++) x[r] = in + (size_t)xoff[r] * C;
    __m512 b[2], acc[FP][2];
    for (int v = 0; v < NV; v++) b[v] = bias ? _mm512_loadu_ps(bias + ob + 16 * v) : _mm512_setzero_ps();
#pragma GCC unroll 12
    for (int r = 0; r < NPX; r++)
        for (int v = 0; v < NV; v++) acc[r][v] = b[v];
    for (int ky = 0; ky < 3; ky++) {
        if (ky < ky0 || ky >= ky1) continue;
        const size_t row = (size_t)ky * W * C;
        const float *w = wgt + (size_t)ky * R * O + ob;
        const float *xr[FP];
        for (int r = 0; r < NPX; r++) xr[r] = x[r] + row;
        for (int j = 0; j < R; j++, w += O) {
            __m512 wv[2];
            for (int v = 0; v < NV; v++) wv[v] = _mm512_loadu_ps(w + 16 * v);
#pragma GCC unroll 12
            for (int r = 0; r < NPX; r++) {
                const __m512 s = _mm512_set1_ps(xr[r][j]);
                for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(s, wv[v], acc[r][v]);
            }
        }
    }
    if (relu) {
        const __m512 z = _mm512_setzero_ps();
#pragma GCC unroll 12
        for (int r = 0; r < NPX; r++)
            for (int v = 0; v < NV; v++) acc[r][v] = _mm512_max_ps(acc[r][v], z);
    }
    for (int r = 0; r < NPX && p0 + r < P; r++) {
        float *o = out + (size_t)(p0 + r) * O + ob;
        for (int v = 0; v < NV; v++) _mm512_storeu_ps(o + 16 * v, acc[r][v]);
    }
}

/* The 12 x 32 block written out (pointers and accumulators as named variables, not arrays): the
 * same operations in the same order as fwd_block(..., 12, 2), which GCC allocates to registers
 * better (no pointer spills in the inner loop). */
#define PF_X12(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11)
PF_AVX512 static void fwd_12x32(float *out, const float *in, const float *wgt, const float *bias,
                                const pf_conv_dims *d, const int *xoff, int ky0, int ky1, int p0,
                                int ob, int relu)
{
    const int C = d->cin, W = d->w, O = d->cout, R = 3 * C, P = d->oh * d->ow;
    const __m512 bl = bias ? _mm512_loadu_ps(bias + ob) : _mm512_setzero_ps(),
                 bh = bias ? _mm512_loadu_ps(bias + ob + 16) : _mm512_setzero_ps();
#define PF_DECL(r) __m512 l##r = bl, h##r = bh;
    PF_X12(PF_DECL)
#undef PF_DECL
    for (int ky = ky0; ky < ky1; ky++) {
        const size_t row = (size_t)ky * W * C;
#define PF_PTR(r) const float *x##r = in + (size_t)xoff[r] * C + row;
        PF_X12(PF_PTR)
#undef PF_PTR
        const float *w = wgt + (size_t)ky * R * O + ob;
        for (int j = 0; j < R; j++, w += O) {
            const __m512 wl = _mm512_loadu_ps(w), wh = _mm512_loadu_ps(w + 16);
#define PF_FMA(r)                                                                                  \
    {                                                                                              \
        const __m512 s = _mm512_set1_ps(x##r[j]);                                                  \
        l##r = _mm512_fmadd_ps(s, wl, l##r);                                                       \
        h##r = _mm512_fmadd_ps(s, wh, h##r);                                                       \
    }
            PF_X12(PF_FMA)
#undef PF_FMA
        }
    }
    if (relu) {
        const __m512 z = _mm512_setzero_ps();
#define PF_RELU(r) l##r = _mm512_max_ps(l##r, z); h##r = _mm512_max_ps(h##r, z);
        PF_X12(PF_RELU)
#undef PF_RELU
    }
    const int n = P - p0 < 12 ? P - p0 : 12;
#define PF_STORE(r)                                                                                \
    if (r < n) {                                                                                   \
        _mm512_storeu_ps(out + (size_t)(p0 + r) * O + ob, l##r);                                   \
        _mm512_storeu_ps(out + (size_t)(p0 + r) * O + ob + 16, h##r);                              \
    }
    PF_X12(PF_STORE)
#undef PF_STORE
}

/* The instances: 12, 8 or 4 pixels (a short last block computes fewer repeated pixels) x 32 or
 * 16 channels. */
#define PF_FWD_INSTANCE(NAME, NPX, NV)                                                            \
    PF_AVX512 static void NAME(float *out, const float *in, const float *wgt, const float *bias,  \
                               const pf_conv_dims *d, const int *xoff, int ky0, int ky1, int p0,   \
                               int ob, int relu)                                                  \
    {                                                                                             \
        fwd_block(out, in, wgt, bias, d, xoff, ky0, ky1, p0, ob, relu, NPX, NV);                  \
    }
PF_FWD_INSTANCE(fwd_12x16, 12, 1)
PF_FWD_INSTANCE(fwd_8x32, 8, 2)
PF_FWD_INSTANCE(fwd_8x16, 8, 1)
PF_FWD_INSTANCE(fwd_4x32, 4, 2)
PF_FWD_INSTANCE(fwd_4x16, 4, 1)

typedef void (*fwd_fn)(float *, const float *, const float *, const float *, const pf_conv_dims *,
                       const int *, int, int, int, int, int);

PF_AVX512 void nn_conv_fwd_rows_avx512(float *out, const float *in, const float *wgt,
                                       const float *bias, const pf_conv_dims *d, int relu, int ylo,
                                       int yhi)
{
    const int P = d->oh * d->ow, O = d->cout, OW = d->ow, W = d->w;
    int xoff[FP], oy = 0, ox = 0; /* the input pixel of each output pixel of the block */
    for (int p0 = 0; p0 < P; p0 += FP) {
        const int oy_first = oy;
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
        const int oy_last = ox > 0 ? oy : oy - 1; /* oy, ox: the next block's first pixel */
        /* the kernel rows whose input rows are all outside [ylo, yhi) for the whole block */
        int ky0 = 0, ky1 = 3;
        while (ky0 < 3 && oy_last + ky0 < ylo) ky0++;
        while (ky1 > ky0 && oy_first + ky1 - 1 >= yhi) ky1--;
        const int left = P - p0;
        const fwd_fn f32 = left <= 4 ? fwd_4x32 : left <= 8 ? fwd_8x32 : fwd_12x32,
                     f16 = left <= 4 ? fwd_4x16 : left <= 8 ? fwd_8x16 : fwd_12x16;
        int ob = 0;
        for (; ob + 32 <= O; ob += 32) f32(out, in, wgt, bias, d, xoff, ky0, ky1, p0, ob, relu);
        if (ob < O) f16(out, in, wgt, bias, d, xoff, ky0, ky1, p0, ob, relu);
    }
}

PF_AVX512 void nn_conv_fwd_avx512(float *out, const float *in, const float *wgt, const float *bias,
                                  const pf_conv_dims *d, int relu)
{
    nn_conv_fwd_rows_avx512(out, in, wgt, bias, d, relu, 0, d->h);
}

/* dwgt rows k0..k0+NR-1 (k = (ky*3 + kx)*Cin + c), channels ob..ob+31, += over all output
 * pixels. */
PF_AVX512 PF_INLINE void dw_block(float *dwgt, const float *in, const float *dout,
                                  const pf_conv_dims *d, int k0, int ob, const int NR)
{
    const int C = d->cin, W = d->w, O = d->cout, OW = d->ow;
    const float *x[DWR_MAX];
    __m512 acc[DWR_MAX][2];
#pragma GCC unroll 12
    for (int r = 0; r < NR; r++) {
        int k = k0 + r, t = k / C, c = k % C;
        x[r] = in + ((size_t)(t / 3) * W + t % 3) * C + c;
        const float *g = dwgt + (size_t)k * O + ob;
        acc[r][0] = _mm512_loadu_ps(g);
        acc[r][1] = _mm512_loadu_ps(g + 16);
    }
    for (int oy = 0; oy < d->oh; oy++) {
        const size_t base = (size_t)oy * W * C;
        const float *xr[DWR_MAX];
#pragma GCC unroll 12
        for (int r = 0; r < NR; r++) xr[r] = x[r] + base;
        const float *u = dout + (size_t)oy * OW * O + ob;
        for (int ox = 0; ox < OW; ox++, u += O) {
            const __m512 u0 = _mm512_loadu_ps(u), u1 = _mm512_loadu_ps(u + 16);
            const size_t q = (size_t)ox * C;
#pragma GCC unroll 12
            for (int r = 0; r < NR; r++) {
                const __m512 s = _mm512_set1_ps(xr[r][q]);
                acc[r][0] = _mm512_fmadd_ps(s, u0, acc[r][0]);
                acc[r][1] = _mm512_fmadd_ps(s, u1, acc[r][1]);
            }
        }
    }
#pragma GCC unroll 12
    for (int r = 0; r < NR; r++) {
        float *g = dwgt + (size_t)(k0 + r) * O + ob;
        _mm512_storeu_ps(g, acc[r][0]);
        _mm512_storeu_ps(g + 16, acc[r][1]);
    }
}

PF_AVX512 static void dw_block9(float *dwgt, const float *in, const float *dout,
                                const pf_conv_dims *d, int k0, int ob)
{
    dw_block(dwgt, in, dout, d, k0, ob, 9);
}

/* dwgt rows k0..k0+NR-1 all of one tap (ky, kx) -- channels c0..c0+NR-1, consecutive floats of
 * every input pixel, so the broadcasts share one pointer with constant offsets -- and channels
 * ob..ob+31, += over all output pixels. */
PF_AVX512 PF_INLINE void dw_tap_block(float *dwgt, const float *in, const float *dout,
                                      const pf_conv_dims *d, int t, int c0, int ob, const int NR)
{
    const int C = d->cin, W = d->w, O = d->cout, OW = d->ow;
    const float *x0 = in + ((size_t)(t / 3) * W + t % 3) * C + c0;
    float *g0 = dwgt + ((size_t)t * C + c0) * O + ob;
    __m512 acc[DWR_MAX][2];
#pragma GCC unroll 12
    for (int r = 0; r < NR; r++) {
        acc[r][0] = _mm512_loadu_ps(g0 + (size_t)r * O);
        acc[r][1] = _mm512_loadu_ps(g0 + (size_t)r * O + 16);
    }
    for (int oy = 0; oy < d->oh; oy++) {
        const float *x = x0 + (size_t)oy * W * C;
        const float *u = dout + (size_t)oy * OW * O + ob;
        for (int ox = 0; ox < OW; ox++, u += O, x += C) {
            const __m512 u0 = _mm512_loadu_ps(u), u1 = _mm512_loadu_ps(u + 16);
#pragma GCC unroll 12
            for (int r = 0; r < NR; r++) {
                const __m512 s = _mm512_set1_ps(x[r]);
                acc[r][0] = _mm512_fmadd_ps(s, u0, acc[r][0]);
                acc[r][1] = _mm512_fmadd_ps(s, u1, acc[r][1]);
            }
        }
    }
#pragma GCC unroll 12
    for (int r = 0; r < NR; r++) {
        _mm512_storeu_ps(g0 + (size_t)r * O, acc[r][0]);
        _mm512_storeu_ps(g0 + (size_t)r * O + 16, acc[r][1]);
    }
}

PF_AVX512 static void dw_tap12(float *dwgt, const float *in, const float *dout,
                               const pf_conv_dims *d, int t, int c0, int ob)
{
    dw_tap_block(dwgt, in, dout, d, t, c0, ob, 12);
}

PF_AVX512 static void dw_tap8(float *dwgt, const float *in, const float *dout,
                              const pf_conv_dims *d, int t, int c0, int ob)
{
    dw_tap_block(dwgt, in, dout, d, t, c0, ob, 8);
}

PF_AVX512 static void dw_tap4(float *dwgt, const float *in, const float *dout,
                              const pf_conv_dims *d, int t, int c0, int ob)
{
    dw_tap_block(dwgt, in, dout, d, t, c0, ob, 4);
}

PF_AVX512 void nn_conv_dw_avx512(float *dwgt, const float *in, const float *dout,
                                 const pf_conv_dims *d)
{
    const int C = d->cin, K = 9 * C;
    for (int ob = 0; ob < d->cout; ob += 32) {
        if (C % 4 != 0) { /* the first layer (Cin 1, 3): 9 rows across taps */
            for (int k0 = 0; k0 < K; k0 += 9) dw_block9(dwgt, in, dout, d, k0, ob);
            continue;
        }
        for (int t = 0; t < 9; t++) { /* Cin a multiple of 4: blocks of 12, 8, 4 channels of a tap */
            int c0 = 0;
            for (; c0 + 12 <= C; c0 += 12) dw_tap12(dwgt, in, dout, d, t, c0, ob);
            if (C - c0 == 8) dw_tap8(dwgt, in, dout, d, t, c0, ob);
            if (C - c0 == 4) dw_tap4(dwgt, in, dout, d, t, c0, ob);
        }
    }
}

#else
typedef int pf_no_avx512_kernels; /* ISO C wants a declaration in every file */
#endif
