/* nn_conv_kernels.h -- private to the direct convolution: the per-instruction-set kernels behind
 * nn_conv_direct.c's dispatch (nn_conv_avx2.c, nn_conv_avx512.c). Contracts as in nn_layers.h:
 * forward over pad-0 dims with Cout a multiple of 16, weight gradient with Cout a multiple of 32.
 * Both sets run, for every output element, the same fused multiply-adds in the same order (bias or
 * the old gradient first, then kernel row by kernel row / pixel by pixel), so their results are
 * bit-identical; only the number of lanes and the register blocking differ. Each is compiled with
 * function-level target attributes: the binary runs on any x86-64, and the dispatch calls a set
 * only where cpu_has_isa() says the CPU and OS support it. */
#ifndef POISONFARM_NN_CONV_KERNELS_H
#define POISONFARM_NN_CONV_KERNELS_H

#include "poisonfarm/nn_layers.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define PF_HAVE_X86_KERNELS 1
void nn_conv_fwd_avx2(float *out, const float *in, const float *wgt, const float *bias,
                      const pf_conv_dims *d, int relu);
void nn_conv_dw_avx2(float *dwgt, const float *in, const float *dout, const pf_conv_dims *d);
void nn_conv_fwd_avx512(float *out, const float *in, const float *wgt, const float *bias,
                        const pf_conv_dims *d, int relu);
void nn_conv_dw_avx512(float *dwgt, const float *in, const float *dout, const pf_conv_dims *d);
/* The forward of nn_conv_fwd_avx512 for an input whose rows outside [ylo, yhi) are zero: a block
 * of output pixels skips the kernel rows that read only such rows. Adding the exact zeros they
 * would contribute never changes a sum (the accumulators start at the bias or +0 and cannot
 * become -0), so the result is the same bits as the full forward's for finite weights. */
void nn_conv_fwd_rows_avx512(float *out, const float *in, const float *wgt, const float *bias,
                             const pf_conv_dims *d, int relu, int ylo, int yhi);
#endif

#endif
