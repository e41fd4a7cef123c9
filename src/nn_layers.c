/* nn_layers.c -- the CNN's layers: 3x3 conv (im2col + sgemm, HWC), max-pool, dense, softmax loss.
 * The direct convolution (nn_conv_direct.c) builds on this file, never the other way. */
#include "poisonfarm/nn_layers.h"

#include "poisonfarm/common.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

void nn_conv_dims(pf_conv_dims *d, int h, int w, int cin, int cout, int pad)
{
    d->h = h;
    d->w = w;
    d->cin = cin;
    d->cout = cout;
    d->pad = pad;
    d->oh = h + 2 * pad - 2;
    d->ow = w + 2 * pad - 2;
}

size_t nn_conv_col_size(const pf_conv_dims *d)
{
    return (size_t)d->oh * d->ow * 9 * d->cin;
}

/* col (OH*OW, 9*Cin): row p = the 3x3 patch of output pixel p in (ky, kx, cin) order, zeros where
 * a "same" patch leaves the image. In HWC a valid patch row is three contiguous runs of 3*Cin. */
static void im2col(float *restrict col, const float *restrict in, const pf_conv_dims *d)
{
    const int C = d->cin, W = d->w, H = d->h, K = 9 * C;
    for (int oy = 0; oy < d->oh; oy++) {
        for (int ox = 0; ox < d->ow; ox++) {
            float *row = col + ((size_t)oy * d->ow + ox) * K;
            int iy0 = oy - d->pad, ix0 = ox - d->pad;
            if (iy0 >= 0 && ix0 >= 0 && iy0 + 3 <= H && ix0 + 3 <= W) {
                /* a plain loop, not memcpy: for the first layer the runs are 3 or 9 floats and
                 * a library call per run cost more than the copy */
                for (int ky = 0; ky < 3; ky++) {
                    const float *src = in + ((size_t)(iy0 + ky) * W + ix0) * C;
                    float *dst = row + ky * 3 * C;
                    for (int q = 0; q < 3 * C; q++) dst[q] = src[q];
                }
                continue;
            }
            for (int ky = 0; ky < 3; ky++) {
                for (int kx = 0; kx < 3; kx++) {
                    int iy = iy0 + ky, ix = ix0 + kx;
                    float *dst = row + (ky * 3 + kx) * C;
                    if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                        memset(dst, 0, sizeof(float) * C);
                    else
                        memcpy(dst, in + ((size_t)iy * W + ix) * C, sizeof(float) * C);
                }
            }
        }
    }
}

/* din (H, W, Cin) = sum of the patch rows of dcol back onto the pixels they came from. */
static void col2im(float *restrict din, const float *restrict dcol, const pf_conv_dims *d)
{
    const int C = d->cin, W = d->w, H = d->h, K = 9 * C;
    memset(din, 0, sizeof(float) * (size_t)H * W * C);
    for (int oy = 0; oy < d->oh; oy++) {
        for (int ox = 0; ox < d->ow; ox++) {
            const float *row = dcol + ((size_t)oy * d->ow + ox) * K;
            for (int ky = 0; ky < 3; ky++) {
                int iy = oy - d->pad + ky;
                if (iy < 0 || iy >= H) continue;
                for (int kx = 0; kx < 3; kx++) {
                    int ix = ox - d->pad + kx;
                    if (ix < 0 || ix >= W) continue;
                    float *dst = din + ((size_t)iy * W + ix) * C;
                    const float *src = row + (ky * 3 + kx) * C;
                    for (int c = 0; c < C; c++) dst[c] += src[c];
                }
            }
        }
    }
}

/* out (P, O) = [relu](out + bias) with bias broadcast over rows. */
static void bias_relu(float *restrict out, const float *restrict bias, int p, int o, int relu)
{
    for (int i = 0; i < p; i++) {
        float *r = out + (size_t)i * o;
        if (relu)
            for (int j = 0; j < o; j++) {
                float v = r[j] + bias[j];
                r[j] = v > 0.0f ? v : 0.0f;
            }
        else
            for (int j = 0; j < o; j++) r[j] += bias[j];
    }
}

void nn_relu_bias_backward(float *restrict dout, float *restrict dbias, const float *restrict out,
                           int p, int o, int relu)
{
    for (int i = 0; i < p; i++) {
        float *g = dout + (size_t)i * o;
        const float *y = out + (size_t)i * o;
        if (relu)
            for (int j = 0; j < o; j++) g[j] = y[j] > 0.0f ? g[j] : 0.0f;
        for (int j = 0; j < o; j++) dbias[j] += g[j];
    }
}

void nn_conv_forward(float *out, float *col, const float *in, const float *wgt, const float *bias,
                     const pf_conv_dims *d, int relu)
{
    const int P = d->oh * d->ow, K = 9 * d->cin, O = d->cout;
    im2col(col, in, d);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, P, O, K, 1.0f, col, K, wgt, O, 0.0f, out,
                O);
    bias_relu(out, bias, P, O, relu);
}

void nn_conv_backward(float *din, float *dwgt, float *dbias, float *dout, const float *out,
                      const float *in, const float *wgt, float *col, const pf_conv_dims *d, int relu)
{
    const int P = d->oh * d->ow, K = 9 * d->cin, O = d->cout;
    nn_relu_bias_backward(dout, dbias, out, P, O, relu);
    im2col(col, in, d);
    /* dW (K, O) += col^T (K, P) . dout (P, O) */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, O, P, 1.0f, col, K, dout, O, 1.0f, dwgt,
                O);
    if (din == NULL) return;
    /* dcol (P, K) = dout (P, O) . W^T (O, K), reusing the col workspace */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, P, K, O, 1.0f, dout, O, wgt, O, 0.0f, col,
                K);
    col2im(din, col, d);
}

void nn_conv_forward_naive(float *out, const float *in, const float *wgt, const float *bias,
                           const pf_conv_dims *d, int relu)
{
    const int C = d->cin, O = d->cout;
    for (int oy = 0; oy < d->oh; oy++)
        for (int ox = 0; ox < d->ow; ox++)
            for (int o = 0; o < O; o++) {
                double s = bias ? bias[o] : 0.0;
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++) {
                        int iy = oy - d->pad + ky, ix = ox - d->pad + kx;
                        if (iy < 0 || iy >= d->h || ix < 0 || ix >= d->w) continue;
                        for (int c = 0; c < C; c++)
                            s += (double)in[((size_t)iy * d->w + ix) * C + c] *
                                 wgt[((size_t)(ky * 3 + kx) * C + c) * O + o];
                    }
                if (relu && s < 0) s = 0;
                out[((size_t)oy * d->ow + ox) * O + o] = (float)s;
            }
}

void nn_conv_backward_naive(float *din, float *dwgt, float *dbias, float *dout, const float *out,
                            const float *in, const float *wgt, const pf_conv_dims *d, int relu)
{
    const int C = d->cin, O = d->cout;
    if (din) memset(din, 0, sizeof(float) * (size_t)d->h * d->w * C);
    for (int oy = 0; oy < d->oh; oy++)
        for (int ox = 0; ox < d->ow; ox++)
            for (int o = 0; o < O; o++) {
                size_t io = ((size_t)oy * d->ow + ox) * O + o;
                if (relu && !(out[io] > 0.0f)) dout[io] = 0.0f;
                float g = dout[io];
                dbias[o] += g;
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++) {
                        int iy = oy - d->pad + ky, ix = ox - d->pad + kx;
                        if (iy < 0 || iy >= d->h || ix < 0 || ix >= d->w) continue;
                        for (int c = 0; c < C; c++) {
                            size_t ii = ((size_t)iy * d->w + ix) * C + c;
                            size_t iw = ((size_t)(ky * 3 + kx) * C + c) * O + o;
                            dwgt[iw] += g * in[ii];
                            if (din) din[ii] += g * wgt[iw];
                        }
                    }
            }
}

void nn_pool_forward(float *out, const float *in, int h, int w, int c)
{
    const int oh = h / 2, ow = w / 2;
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
            const float *a = in + ((size_t)(2 * oy) * w + 2 * ox) * c;
            const float *b = a + c;
            const float *e = a + (size_t)w * c;
            const float *f = e + c;
            float *o = out + ((size_t)oy * ow + ox) * c;
            for (int k = 0; k < c; k++) {
                float m = a[k];
                m = b[k] > m ? b[k] : m;
                m = e[k] > m ? e[k] : m;
                m = f[k] > m ? f[k] : m;
                o[k] = m;
            }
        }
}

void nn_pool_backward_relu(float *din, const float *dout, const float *in, int h, int w, int c,
                           int relu)
{
    const int oh = h / 2, ow = w / 2;
    /* Keras floors odd sizes: the last row / column gets no gradient */
    if (h % 2) memset(din + (size_t)(h - 1) * w * c, 0, sizeof(float) * (size_t)w * c);
    for (int oy = 0; oy < oh; oy++) {
        if (w % 2) memset(din + ((size_t)(2 * oy) * w + w - 1) * c, 0, sizeof(float) * c);
        if (w % 2) memset(din + ((size_t)(2 * oy + 1) * w + w - 1) * c, 0, sizeof(float) * c);
        for (int ox = 0; ox < ow; ox++) {
            const size_t base = ((size_t)(2 * oy) * w + 2 * ox) * c;
            const float *restrict a = in + base, *restrict b = a + c, *restrict e = a + (size_t)w * c,
                                  *restrict f = e + c;
            float *restrict da = din + base, *restrict db = da + c, *restrict de = da + (size_t)w * c,
                            *restrict df = de + c;
            const float *restrict g = dout + ((size_t)oy * ow + ox) * c;
            /* Branchless form of "the first maximum wins" (strict >, in the order a, b, e, f):
             * every window position is written, so din needs no memset. */
            int k = 0;
#ifdef __SSE2__
            const __m128 z = _mm_setzero_ps();
            for (; k + 4 <= c; k += 4) {
                const __m128 va = _mm_loadu_ps(a + k), vb = _mm_loadu_ps(b + k),
                             ve = _mm_loadu_ps(e + k), vf = _mm_loadu_ps(f + k);
                const __m128 s1 = _mm_cmpgt_ps(vb, va), m1 = _mm_max_ps(vb, va);
                const __m128 s2 = _mm_cmpgt_ps(ve, m1), m2 = _mm_max_ps(ve, m1);
                const __m128 s3 = _mm_cmpgt_ps(vf, m2);
                __m128 gk = _mm_loadu_ps(g + k);
                if (relu) gk = _mm_and_ps(gk, _mm_cmpgt_ps(_mm_max_ps(vf, m2), z));
                const __m128 g3 = _mm_andnot_ps(s3, gk), g2 = _mm_andnot_ps(s2, g3);
                _mm_storeu_ps(df + k, _mm_and_ps(s3, gk));
                _mm_storeu_ps(de + k, _mm_and_ps(s2, g3));
                _mm_storeu_ps(db + k, _mm_and_ps(s1, g2));
                _mm_storeu_ps(da + k, _mm_andnot_ps(s1, g2));
            }
#endif
            for (; k < c; k++) {
                const float m1 = b[k] > a[k] ? b[k] : a[k], m2 = e[k] > m1 ? e[k] : m1,
                            m3 = f[k] > m2 ? f[k] : m2;
                const float gk = relu && !(m3 > 0.0f) ? 0.0f : g[k];
                df[k] = f[k] > m2 ? gk : 0.0f;
                de[k] = !(f[k] > m2) && e[k] > m1 ? gk : 0.0f;
                db[k] = !(f[k] > m2) && !(e[k] > m1) && b[k] > a[k] ? gk : 0.0f;
                da[k] = !(f[k] > m2) && !(e[k] > m1) && !(b[k] > a[k]) ? gk : 0.0f;
            }
        }
    }
}

void nn_pool_backward(float *din, const float *dout, const float *in, int h, int w, int c)
{
    nn_pool_backward_relu(din, dout, in, h, w, c, 0);
}

void nn_dense_forward(float *out, const float *x, const float *wgt, const float *bias, int n, int d,
                      int o, int relu)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, o, d, 1.0f, x, d, wgt, o, 0.0f, out, o);
    bias_relu(out, bias, n, o, relu);
}

void nn_dense_dweight(float *dwgt, const float *x, const float *dout, int n, int d, int o)
{
    /* dW (D, O) += x^T (D, n) . dout (n, O) */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, o, n, 1.0f, x, d, dout, o, 1.0f, dwgt, o);
}

void nn_dense_backward(float *dx, float *dwgt, float *dbias, float *dout, const float *out,
                       const float *x, const float *wgt, int n, int d, int o, int relu)
{
    nn_relu_bias_backward(dout, dbias, out, n, o, relu);
    if (dwgt != NULL) nn_dense_dweight(dwgt, x, dout, n, d, o);
    if (dx == NULL) return;
    /* dx (n, D) = dout (n, O) . W^T (O, D) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, d, o, 1.0f, dout, o, wgt, o, 0.0f, dx, d);
}

double nn_softmax_xent(float *dlogits, const float *logits, const uint8_t *labels, int n, int k,
                       float scale, int32_t *pred, int64_t *correct)
{
    double loss = 0.0;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * k;
        int arg = 0;
        for (int j = 1; j < k; j++)
            if (z[j] > z[arg]) arg = j;
        if (pred) pred[i] = arg;
        /* log-sum-exp around the max: no overflow, and log p(label) stays finite */
        double mx = z[arg], s = 0.0;
        for (int j = 0; j < k; j++) s += exp((double)z[j] - mx);
        double lse = mx + log(s);
        if (labels) {
            PF_ASSERT(labels[i] < k);
            loss += lse - z[labels[i]];
            if (correct && arg == labels[i]) (*correct)++;
        }
        if (dlogits) {
            float *g = dlogits + (size_t)i * k;
            for (int j = 0; j < k; j++) {
                double p = exp((double)z[j] - lse);
                g[j] = (float)(scale * (p - (labels && j == labels[i] ? 1.0 : 0.0)));
            }
        }
    }
    return loss;
}

void nn_label_logprob(const float *logits, const uint8_t *labels, int n, int k, double *logp)
{
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * k;
        /* The same arithmetic as nn_softmax_xent's loss, so that logp = -loss bit for bit. */
        int arg = 0;
        for (int j = 1; j < k; j++)
            if (z[j] > z[arg]) arg = j;
        double mx = z[arg], s = 0.0;
        for (int j = 0; j < k; j++) s += exp((double)z[j] - mx);
        double lse = mx + log(s);
        PF_ASSERT(labels[i] < k);
        logp[i] = -(lse - z[labels[i]]);
    }
}
