/* nn_conv_direct.c -- direct 3x3 "valid" convolution forward with AVX2/FMA (no im2col workspace).
 *
 * Why: im2col writes 9x the input per image and the GEMMs are small, so for the first conv (K = 9 or
 * 27) it costs more than the arithmetic, and for the others the copy is about 15 % of the forward
 * time. In HWC the 3 taps of one kernel row are 3*Cin contiguous floats, so an output pixel's sum
 * runs over three contiguous input runs against three contiguous (3*Cin, Cout) weight blocks. Two
 * output pixels x 32 channels are held in 8 ymm accumulators. The sum order is fixed, so results are
 * deterministic; they differ in rounding from the sgemm path (used where AVX2/FMA is missing). */
#include "poisonfarm/nn_layers.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

int nn_conv_direct_available(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

__attribute__((target("avx2,fma"))) static inline __m256 relu8(__m256 v, int relu)
{
    return relu ? _mm256_max_ps(v, _mm256_setzero_ps()) : v;
}

__attribute__((target("avx2,fma"))) void nn_conv_forward_direct(float *out, const float *in,
                                                                 const float *wgt, const float *bias,
                                                                 const pf_conv_dims *d, int relu)
{
    const int C = d->cin, W = d->w, O = d->cout, OW = d->ow, R = 3 * C;
    for (int oy = 0; oy < d->oh; oy++) {
        for (int cb = 0; cb < O; cb += 32) {
            const __m256 b0 = _mm256_loadu_ps(bias + cb), b1 = _mm256_loadu_ps(bias + cb + 8),
                         b2 = _mm256_loadu_ps(bias + cb + 16), b3 = _mm256_loadu_ps(bias + cb + 24);
            int ox = 0;
            for (; ox + 2 <= OW; ox += 2) {
                __m256 a0 = b0, a1 = b1, a2 = b2, a3 = b3, c0 = b0, c1 = b1, c2 = b2, c3 = b3;
                for (int ky = 0; ky < 3; ky++) {
                    /* (3*Cin) contiguous inputs of pixel ox; pixel ox+1's start Cin later */
                    const float *x = in + ((size_t)(oy + ky) * W + ox) * C;
                    const float *w = wgt + (size_t)ky * R * O + cb;
                    for (int j = 0; j < R; j++, w += O) {
                        const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8),
                                     w2 = _mm256_loadu_ps(w + 16), w3 = _mm256_loadu_ps(w + 24);
                        const __m256 x0 = _mm256_broadcast_ss(x + j), x1 = _mm256_broadcast_ss(x + j + C);
                        a0 = _mm256_fmadd_ps(x0, w0, a0);
                        a1 = _mm256_fmadd_ps(x0, w1, a1);
                        a2 = _mm256_fmadd_ps(x0, w2, a2);
                        a3 = _mm256_fmadd_ps(x0, w3, a3);
                        c0 = _mm256_fmadd_ps(x1, w0, c0);
                        c1 = _mm256_fmadd_ps(x1, w1, c1);
                        c2 = _mm256_fmadd_ps(x1, w2, c2);
                        c3 = _mm256_fmadd_ps(x1, w3, c3);
                    }
                }
                float *o = out + ((size_t)oy * OW + ox) * O + cb;
                _mm256_storeu_ps(o, relu8(a0, relu));
                _mm256_storeu_ps(o + 8, relu8(a1, relu));
                _mm256_storeu_ps(o + 16, relu8(a2, relu));
                _mm256_storeu_ps(o + 24, relu8(a3, relu));
                o += O;
                _mm256_storeu_ps(o, relu8(c0, relu));
                _mm256_storeu_ps(o + 8, relu8(c1, relu));
                _mm256_storeu_ps(o + 16, relu8(c2, relu));
                _mm256_storeu_ps(o + 24, relu8(c3, relu));
            }
            for (; ox < OW; ox++) {
                __m256 a0 = b0, a1 = b1, a2 = b2, a3 = b3;
                for (int ky = 0; ky < 3; ky++) {
                    const float *x = in + ((size_t)(oy + ky) * W + ox) * C;
                    const float *w = wgt + (size_t)ky * R * O + cb;
                    for (int j = 0; j < R; j++, w += O) {
                        const __m256 x0 = _mm256_broadcast_ss(x + j);
                        a0 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(w), a0);
                        a1 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(w + 8), a1);
                        a2 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(w + 16), a2);
                        a3 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(w + 24), a3);
                    }
                }
                float *o = out + ((size_t)oy * OW + ox) * O + cb;
                _mm256_storeu_ps(o, relu8(a0, relu));
                _mm256_storeu_ps(o + 8, relu8(a1, relu));
                _mm256_storeu_ps(o + 16, relu8(a2, relu));
                _mm256_storeu_ps(o + 24, relu8(a3, relu));
            }
        }
    }
}

#else

int nn_conv_direct_available(void) { return 0; }

void nn_conv_forward_direct(float *out, const float *in, const float *wgt, const float *bias,
                            const pf_conv_dims *d, int relu)
{
    nn_conv_forward_naive(out, in, wgt, bias, d, relu);
}

#endif
