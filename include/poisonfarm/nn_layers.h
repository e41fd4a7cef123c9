/* nn_layers.h -- private: the CNN's layers as forward/backward pairs (used by nn.c and the tests).
 *
 * Layout: activations are HWC (channels fastest) per image, so a 3x3 patch row is three runs of
 * 3*C contiguous floats and the flatten order equals Keras' (H, W, C). Conv kernels are stored as
 * Keras stores them, (3, 3, Cin, Cout) row-major, i.e. a (9*Cin, Cout) matrix; dense kernels are
 * (in, out) row-major. Gradient sign convention: every d* buffer holds dLoss/d(that tensor).
 * Backward functions ACCUMULATE (+=) into weight and bias gradients and OVERWRITE input gradients. */
#ifndef POISONFARM_NN_LAYERS_H
#define POISONFARM_NN_LAYERS_H

#include "poisonfarm/cpu.h"

#include <stddef.h>
#include <stdint.h>

/* A 3x3 stride-1 convolution on one image: input (H, W, Cin), output (OH, OW, Cout), pad 0 for
 * "valid" (OH = H - 2) or 1 for "same" (OH = H). */
typedef struct {
    int h, w, cin, cout, pad, oh, ow;
} pf_conv_dims;

/* Fills d's output size from h, w, pad. */
void nn_conv_dims(pf_conv_dims *d, int h, int w, int cin, int cout, int pad);

/* Floats of the im2col workspace one image needs: OH*OW*9*Cin. */
size_t nn_conv_col_size(const pf_conv_dims *d);

/* out (OH, OW, Cout) = [relu](conv(in (H, W, Cin), wgt (3, 3, Cin, Cout)) + bias (Cout)).
 * col: workspace of nn_conv_col_size floats. */
void nn_conv_forward(float *out, float *col, const float *in, const float *wgt, const float *bias,
                     const pf_conv_dims *d, int relu);

/* Backward of nn_conv_forward. dout (OH, OW, Cout) is the gradient w.r.t. the layer's output (after
 * the relu); it is masked in place by the relu. dwgt, dbias += their gradients; din (H, W, Cin)
 * is overwritten unless NULL (the first layer needs none). in, out: the forward's tensors. */
void nn_conv_backward(float *din, float *dwgt, float *dbias, float *dout, const float *out,
                      const float *in, const float *wgt, float *col, const pf_conv_dims *d,
                      int relu);

/* The direct convolution (nn_conv_direct.c): no im2col workspace, the kernels of instruction set
 * `isa` (PF_ISA_AVX2 or PF_ISA_AVX512, which give bit-identical results; any other isa runs the
 * portable reference loops). They round differently from the sgemm path (FMA, order). */

/* 1 when this CPU and OS run the direct kernels of `isa` (avx2 or avx512), else 0. */
int nn_conv_direct_available(pf_isa isa);

/* Same contract as nn_conv_forward without workspace (bias may be NULL: zero), for pad 0 and Cout a
 * multiple of 16. */
void nn_conv_forward_direct(float *out, const float *in, const float *wgt, const float *bias,
                            const pf_conv_dims *d, int relu, pf_isa isa);

/* dwgt (3, 3, Cin, Cout) += the weight gradient of one image: sum over output pixels of the input
 * patch times dout (OH, OW, Cout), pixel by pixel in order. Pad 0, Cout a multiple of 32. */
void nn_conv_dweight_direct(float *dwgt, const float *in, const float *dout, const pf_conv_dims *d,
                            pf_isa isa);

/* wflip (3, 3, Cout, Cin) = the kernel flipped in space with in/out channels swapped:
 * wflip[ky][kx][o][c] = wgt[2-ky][2-kx][c][o]. */
void nn_conv_flip_kernel(float *wflip, const float *wgt, int cin, int cout);

/* Floats of the padded output-gradient workspace of nn_conv_dinput_direct. */
size_t nn_conv_pad_size(const pf_conv_dims *d);

/* din (H, W, Cin) = the input gradient for dout (OH, OW, Cout), computed as the valid convolution
 * of dout zero-padded by 2 - pad (written into dpad, nn_conv_pad_size floats) with wflip
 * (nn_conv_flip_kernel of the layer's kernel). Overwrites din. Cin a multiple of 16. */
void nn_conv_dinput_direct(float *din, float *dpad, const float *dout, const float *wflip,
                           const pf_conv_dims *d, pf_isa isa);

/* A "same" convolution as a valid one: xpad (nn_conv_xpad_size floats) = in with a zero border of
 * d->pad pixels; *valid = the pad-0 dims over xpad (same output size as d). */
size_t nn_conv_xpad_size(const pf_conv_dims *d);
void nn_conv_pad_input(float *xpad, const float *in, const pf_conv_dims *d, pf_conv_dims *valid);

/* Same contract as nn_conv_backward with the direct kernels: pad 0 or 1, Cout a multiple of 32 and
 * (when din is not NULL) Cin a multiple of 16. wflip = nn_conv_flip_kernel(wgt); dpad: workspace
 * of nn_conv_pad_size floats; xpad: workspace of nn_conv_xpad_size floats when pad > 0 (else
 * unused, may be NULL). */
void nn_conv_backward_direct(float *din, float *dwgt, float *dbias, float *dout, const float *out,
                             const float *in, const float *wflip, float *dpad, float *xpad,
                             const pf_conv_dims *d, int relu, pf_isa isa);

/* dout (P, O) zeroed where the relu's output `out` was not > 0 (when relu); dbias += column sums. */
void nn_relu_bias_backward(float *dout, float *dbias, const float *out, int p, int o, int relu);

/* The plain direct convolution the fast one is tested against (same contract, no workspace). */
void nn_conv_forward_naive(float *out, const float *in, const float *wgt, const float *bias,
                           const pf_conv_dims *d, int relu);
void nn_conv_backward_naive(float *din, float *dwgt, float *dbias, float *dout, const float *out,
                            const float *in, const float *wgt, const pf_conv_dims *d, int relu);

/* Max-pool 2x2 stride 2 on one image (H, W, C) -> (H/2, W/2, C), odd sizes floored (Keras). */
void nn_pool_forward(float *out, const float *in, int h, int w, int c);
/* din (H, W, C) = dout routed to the first maximum of each window (zero elsewhere). */
void nn_pool_backward(float *din, const float *dout, const float *in, int h, int w, int c);
/* The same, then (relu != 0) masked by the relu whose output `in` is: a window whose maximum is not
 * > 0 routes nothing. Bit-identical to nn_pool_backward followed by the relu mask of the layer
 * below, which that layer's backward can then skip (call it with relu = 0). */
void nn_pool_backward_relu(float *din, const float *dout, const float *in, int h, int w, int c,
                           int relu);

/* out (n, O) = [relu](x (n, D) . wgt (D, O) + bias (O)). */
void nn_dense_forward(float *out, const float *x, const float *wgt, const float *bias, int n,
                      int d, int o, int relu);
/* Backward: dout (n, O) masked in place by the relu; dwgt (unless NULL: see nn_dense_dweight),
 * dbias +=; dx (n, D) overwritten unless NULL. */
void nn_dense_backward(float *dx, float *dwgt, float *dbias, float *dout, const float *out,
                       const float *x, const float *wgt, int n, int d, int o, int relu);

/* dwgt (D, O) += x (n, D)^T . dout (n, O): the weight-gradient part of nn_dense_backward, for a
 * caller that masks rows first and sums the weight gradient over more rows later. */
void nn_dense_dweight(float *dwgt, const float *x, const float *dout, int n, int d, int o);

/* Softmax + sparse categorical cross-entropy on logits (n, K), log-sum-exp stabilised. Returns the
 * SUM of the per-item losses (0 when labels is NULL); pred[i] (if not NULL) = argmax (first on
 * ties); *correct += items whose argmax equals their label. When dlogits is not NULL it gets
 * scale * (softmax - onehot) (n, K). labels[i] must be < K. */
double nn_softmax_xent(float *dlogits, const float *logits, const uint8_t *labels, int n, int k,
                       float scale, int32_t *pred, int64_t *correct);

/* logp[i] = log softmax(logits_i)[labels[i]] for logits (n, K), in double with the log-sum-exp
 * around the row's maximum, exactly as nn_softmax_xent computes item i's loss (logp = -loss_i).
 * labels[i] must be < K. */
void nn_label_logprob(const float *logits, const uint8_t *labels, int n, int k, double *logp);

#endif
