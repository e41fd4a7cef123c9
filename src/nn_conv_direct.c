/* nn_conv_direct.c -- the direct 3x3 convolution (no im2col workspace): forward, weight gradient,
 * and the input gradient as a forward pass over the zero-padded output gradient with the flipped
 * kernel, dispatched to the kernels of one instruction set (nn_conv_avx2.c, nn_conv_avx512.c).
 *
 * Why: im2col writes 9x the input per image (663 KB for MNIST's conv2, more than the 512 KB L2 of
 * the machines it was written on) and col2im reads it back, and the per-image GEMMs are small, so
 * OpenBLAS's packing dominates on the small layers. Every sum has a fixed order, so results are
 * deterministic; the avx2 and avx512 kernels give the same bits, and differ in rounding from the
 * im2col + sgemm path (the "scalar" path, used where AVX2/FMA is missing).
 *
 * Uses nn_layers.c (dims, the relu/bias backward, the naive reference as the portable fallback);
 * nn_layers.c does not call this file. */
#include "poisonfarm/nn_layers.h"

#include "nn_conv_kernels.h"

#include <string.h>

int nn_conv_direct_available(pf_isa isa)
{
#ifdef PF_HAVE_X86_KERNELS
    return (isa == PF_ISA_AVX2 || isa == PF_ISA_AVX512) && cpu_has_isa(isa);
#else
    (void)isa;
    return 0;
#endif
}

/* wflip (3, 3, Cout, Cin): wflip[ky][kx][o][c] = wgt[2-ky][2-kx][c][o] -- the kernel of the input
 * gradient seen as a convolution of the padded output gradient. */
void nn_conv_flip_kernel(float *wflip, const float *wgt, int cin, int cout)
{
    for (int t = 0; t < 9; t++)
        for (int c = 0; c < cin; c++)
            for (int o = 0; o < cout; o++)
                wflip[((size_t)(8 - t) * cout + o) * cin + c] = wgt[((size_t)t * cin + c) * cout + o];
}

size_t nn_conv_pad_size(const pf_conv_dims *d)
{
    const int b = 2 - d->pad;
    return (size_t)(d->oh + 2 * b) * (d->ow + 2 * b) * d->cout;
}

void nn_conv_forward_direct(float *out, const float *in, const float *wgt, const float *bias,
                            const pf_conv_dims *d, int relu, pf_isa isa)
{
#ifdef PF_HAVE_X86_KERNELS
    if (isa == PF_ISA_AVX512) {
        nn_conv_fwd_avx512(out, in, wgt, bias, d, relu);
        return;
    }
    if (isa == PF_ISA_AVX2) {
        nn_conv_fwd_avx2(out, in, wgt, bias, d, relu);
        return;
    }
#endif
    (void)isa;
    nn_conv_forward_naive(out, in, wgt, bias, d, relu);
}

void nn_conv_dweight_direct(float *dwgt, const float *in, const float *dout, const pf_conv_dims *d,
                            pf_isa isa)
{
#ifdef PF_HAVE_X86_KERNELS
    if (isa == PF_ISA_AVX512) {
        nn_conv_dw_avx512(dwgt, in, dout, d);
        return;
    }
    if (isa == PF_ISA_AVX2) {
        nn_conv_dw_avx2(dwgt, in, dout, d);
        return;
    }
#endif
    (void)isa;
    const int C = d->cin, O = d->cout;
    for (int oy = 0; oy < d->oh; oy++)
        for (int ox = 0; ox < d->ow; ox++)
            for (int t = 0; t < 9; t++)
                for (int c = 0; c < C; c++) {
                    float x = in[((size_t)(oy + t / 3) * d->w + ox + t % 3) * C + c];
                    const float *g = dout + ((size_t)oy * d->ow + ox) * O;
                    for (int o = 0; o < O; o++) dwgt[((size_t)t * C + c) * O + o] += x * g[o];
                }
}

/* Input gradient: dpad (OH + 2b, OW + 2b, Cout), b = 2 - pad, gets dout in its interior and zeros
 * around it; din (H, W, Cin) = the valid convolution of dpad with wflip. */
void nn_conv_dinput_direct(float *din, float *dpad, const float *dout, const float *wflip,
                           const pf_conv_dims *d, pf_isa isa)
{
    const int b = 2 - d->pad, PW = d->ow + 2 * b, PH = d->oh + 2 * b, O = d->cout;
    const size_t prow = (size_t)PW * O;
    memset(dpad, 0, sizeof(float) * prow * b);
    for (int oy = 0; oy < d->oh; oy++) {
        float *r = dpad + (size_t)(oy + b) * prow;
        memset(r, 0, sizeof(float) * b * O);
        memcpy(r + (size_t)b * O, dout + (size_t)oy * d->ow * O, sizeof(float) * d->ow * O);
        memset(r + (size_t)(b + d->ow) * O, 0, sizeof(float) * b * O);
    }
    memset(dpad + (size_t)(PH - b) * prow, 0, sizeof(float) * prow * b);
    pf_conv_dims f;
    nn_conv_dims(&f, PH, PW, O, d->cin, 0);
#ifdef PF_HAVE_X86_KERNELS
    if (isa == PF_ISA_AVX512) { /* skips the all-zero border rows: the same bits */
        nn_conv_fwd_rows_avx512(din, dpad, wflip, NULL, &f, 0, b, PH - b);
        return;
    }
#endif
    nn_conv_forward_direct(din, dpad, wflip, NULL, &f, 0, isa);
}

size_t nn_conv_xpad_size(const pf_conv_dims *d)
{
    return (size_t)(d->h + 2 * d->pad) * (d->w + 2 * d->pad) * d->cin;
}

void nn_conv_pad_input(float *xpad, const float *in, const pf_conv_dims *d, pf_conv_dims *valid)
{
    const int p = d->pad, PW = d->w + 2 * p, C = d->cin;
    const size_t prow = (size_t)PW * C;
    memset(xpad, 0, sizeof(float) * prow * p);
    for (int y = 0; y < d->h; y++) {
        float *r = xpad + (size_t)(y + p) * prow;
        memset(r, 0, sizeof(float) * p * C);
        memcpy(r + (size_t)p * C, in + (size_t)y * d->w * C, sizeof(float) * d->w * C);
        memset(r + (size_t)(p + d->w) * C, 0, sizeof(float) * p * C);
    }
    memset(xpad + (size_t)(d->h + p) * prow, 0, sizeof(float) * prow * p);
    nn_conv_dims(valid, d->h + 2 * p, PW, C, d->cout, 0);
}

void nn_conv_backward_direct(float *din, float *dwgt, float *dbias, float *dout, const float *out,
                             const float *in, const float *wflip, float *dpad, float *xpad,
                             const pf_conv_dims *d, int relu, pf_isa isa)
{
    nn_relu_bias_backward(dout, dbias, out, d->oh * d->ow, d->cout, relu);
    if (d->pad > 0) {
        pf_conv_dims v;
        nn_conv_pad_input(xpad, in, d, &v);
        nn_conv_dweight_direct(dwgt, xpad, dout, &v, isa);
    } else {
        nn_conv_dweight_direct(dwgt, in, dout, d, isa);
    }
    if (din != NULL) nn_conv_dinput_direct(din, dpad, dout, wflip, d, isa);
}
