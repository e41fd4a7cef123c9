/* nn.c -- the model: layer table, parameters, chunked deterministic forward/backward, profiling.
 *
 * A batch is cut into PF_NN_CHUNKS fixed chunks (chunk c = items [c*n/8, (c+1)*n/8)). Each chunk
 * is processed by one thread in one worker slot: the conv layers image by image (each GEMM's
 * working set stays in the core's cache), the dense layers as one GEMM per chunk. Each chunk writes
 * its own partial gradient; the partials are summed in chunk order, so the result does not depend
 * on the number of threads. Activations are HWC per image; flatten is (H, W, C), Keras' order. */
#include "poisonfarm/nn.h"

#include "poisonfarm/common.h"
#include "poisonfarm/nn_layers.h"
#include "poisonfarm/rng.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { L_CONV, L_POOL, L_DENSE, L_LOSS };
#define PF_NN_MAX_LAYERS 16

typedef struct {
    int type;
    char name[16];
    pf_conv_dims cd;          /* conv */
    int h, w, c;              /* pool input */
    int din, dout, relu;      /* dense */
    size_t in_size, out_size; /* floats per image */
    size_t woff, boff;        /* offsets in the parameter buffer */
    int direct;               /* conv forward by the direct kernels instead of im2col + sgemm */
    int direct_bwd;           /* conv backward by the direct kernels (weight and input gradient) */
} nn_layer;

/* Images per sub-chunk of a training chunk (forward then backward while the conv part's
 * activations, about 205 KB per MNIST image and 275 KB per CIFAR image, are in L2). A fixed
 * constant: the dense layers' GEMMs run on this many rows at a time, and OpenBLAS may round a row
 * differently for another row count (chunk_train). */
#define PF_NN_SUB 2

/* One thread's workspace: the conv part's activations of a sub-chunk, the dense part's of a whole
 * chunk. */
typedef struct {
    float *act[PF_NN_MAX_LAYERS + 1]; /* act[l] = input of layer l, act[l+1] = its output: PF_NN_SUB
                                         images for the conv part, chunk rows from the flatten on */
    float *col;                       /* im2col of one image */
    float *dpad;                      /* zero-padded output gradient of one image (direct backward) */
    float *xpad;                      /* zero-padded input of a "same" layer (direct kernels) */
    float *ga, *gb;                   /* per-image gradient ping-pong for the conv part */
    float *gdl[PF_NN_MAX_LAYERS];     /* per dense layer: its output gradient (chunk, dout); at
                                         nconv_part - 1: the flatten's (chunk, flat) */
    uint8_t *lab;                     /* the chunk's labels */
    double fwd[PF_NN_MAX_LAYERS], bwd[PF_NN_MAX_LAYERS];
} nn_slot;

struct pf_model {
    pf_model_kind kind;
    int c, h, w, k, max_batch, chunk_max;
    int nlayers, nconv_part; /* layers [0, nconv_part) run per image */
    nn_layer layers[PF_NN_MAX_LAYERS];
    size_t nparams;
    float *params, *grads;
    float *cgrad;            /* (PF_NN_CHUNKS, cstride) partial gradients */
    size_t cstride;          /* nparams rounded up to 16 floats */
    float *wflip;            /* flipped conv kernels for the direct backward, at the layers' woff */
    double closs[PF_NN_CHUNKS];
    int64_t ccorrect[PF_NN_CHUNKS];
    int threads, nslots;
    nn_slot slots[PF_NN_CHUNKS];
    size_t col_max, gimg_max, pad_max, xpad_max;
    pf_isa isa;              /* the kernels' path: scalar, avx2 or avx512 (never auto) */
    int profile;
};

/* Which conv layers run the direct kernels of `isa` (all "valid" ones with fitting channel counts;
 * none on the scalar path). */
static void select_isa(pf_model *m, pf_isa isa)
{
    PF_ASSERT(isa == PF_ISA_SCALAR || nn_conv_direct_available(isa));
    m->isa = isa;
    const int direct_ok = isa != PF_ISA_SCALAR;
    for (int i = 0; i < m->nconv_part; i++) {
        nn_layer *l = &m->layers[i];
        if (l->type != L_CONV) continue;
        l->direct = direct_ok && l->cd.pad <= 1 && l->cd.cout % 16 == 0;
        l->direct_bwd = direct_ok && l->cd.pad <= 1 && l->cd.cout % 32 == 0 &&
                        (i == 0 || l->cd.cin % 16 == 0);
    }
}

/* The architecture, written once (nn.h): model_create builds it, model_forward_macs counts it. Conv
 * filters and dense widths come from the model kind. */
typedef enum { A_CONV, A_CONV_SAME, A_POOL, A_DENSE_RELU, A_DENSE_OUT } arch_op;
static const struct {
    arch_op op;
    const char *name;
} arch[] = {
    {A_CONV, "conv1"}, {A_CONV, "conv2"},      {A_POOL, "pool1"},        {A_CONV, "conv3"},
    {A_CONV, "conv4"}, {A_POOL, "pool2"},      {A_CONV, "conv5"},        {A_CONV_SAME, "conv6"},
    {A_DENSE_RELU, "dense1"}, {A_DENSE_RELU, "dense2"}, {A_DENSE_OUT, "dense3"},
};

static void arch_widths(pf_model_kind kind, int *filters, int *hidden)
{
    *filters = kind == PF_MODEL_WIDE ? 64 : 32;
    *hidden = kind == PF_MODEL_WIDE ? 256 : 128;
}

double model_forward_macs(pf_model_kind kind, int c, int h, int w, int k)
{
    int f, hidden;
    arch_widths(kind, &f, &hidden);
    double macs = 0.0;
    int ch = c, din = 0, dense_seen = 0;
    for (size_t i = 0; i < sizeof arch / sizeof arch[0]; i++) {
        switch (arch[i].op) {
        case A_CONV:
        case A_CONV_SAME:
            if (arch[i].op == A_CONV) h -= 2, w -= 2;
            macs += (double)h * w * f * ch * 9.0;
            ch = f;
            break;
        case A_POOL: h /= 2, w /= 2; break;
        case A_DENSE_RELU:
        case A_DENSE_OUT: {
            if (!dense_seen) din = h * w * ch, dense_seen = 1;
            int dout = arch[i].op == A_DENSE_OUT ? k : hidden;
            macs += (double)din * dout;
            din = dout;
            break;
        }
        }
    }
    return macs;
}

static void add_conv(pf_model *m, const char *name, int *h, int *w, int *c, int cout, int pad,
                     size_t *off)
{
    nn_layer *l = &m->layers[m->nlayers++];
    memset(l, 0, sizeof *l);
    l->type = L_CONV;
    PF_ASSERT(*h + 2 * pad >= 3 && *w + 2 * pad >= 3); /* the input is too small for this model */
    snprintf(l->name, sizeof l->name, "%s", name);
    nn_conv_dims(&l->cd, *h, *w, *c, cout, pad);
    l->in_size = (size_t)*h * *w * *c;
    l->woff = *off;
    *off += (size_t)9 * *c * cout;
    l->boff = *off;
    *off += (size_t)cout;
    *h = l->cd.oh;
    *w = l->cd.ow;
    *c = cout;
    l->out_size = (size_t)*h * *w * *c;
    l->relu = 1;
}

static void add_pool(pf_model *m, const char *name, int *h, int *w, int c)
{
    nn_layer *l = &m->layers[m->nlayers++];
    memset(l, 0, sizeof *l);
    l->type = L_POOL;
    PF_ASSERT(*h >= 2 && *w >= 2); /* the input is too small for this model */
    snprintf(l->name, sizeof l->name, "%s", name);
    l->h = *h;
    l->w = *w;
    l->c = c;
    l->in_size = (size_t)*h * *w * c;
    *h /= 2;
    *w /= 2;
    l->out_size = (size_t)*h * *w * c;
}

static void add_dense(pf_model *m, const char *name, int din, int dout, int relu, size_t *off)
{
    nn_layer *l = &m->layers[m->nlayers++];
    memset(l, 0, sizeof *l);
    l->type = L_DENSE;
    snprintf(l->name, sizeof l->name, "%s", name);
    l->din = din;
    l->dout = dout;
    l->relu = relu;
    l->in_size = (size_t)din;
    l->out_size = (size_t)dout;
    l->woff = *off;
    *off += (size_t)din * dout;
    l->boff = *off;
    *off += (size_t)dout;
}

static void slot_alloc(pf_model *m, nn_slot *s)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i <= m->nlayers; i++) {
        const size_t per = i < m->nlayers ? m->layers[i].in_size : m->layers[i - 1].out_size;
        const size_t rows = i < m->nconv_part ? PF_NN_SUB : (size_t)m->chunk_max;
        s->act[i] = pf_malloc_aligned(sizeof(float) * rows * per);
    }
    for (int i = m->nconv_part - 1; i < m->nlayers; i++)
        if (i == m->nconv_part - 1 || m->layers[i].type == L_DENSE)
            s->gdl[i] = pf_malloc_aligned(sizeof(float) * m->chunk_max * m->layers[i].out_size);
    s->col = pf_malloc_aligned(sizeof(float) * m->col_max);
    s->dpad = pf_malloc_aligned(sizeof(float) * (m->pad_max > 0 ? m->pad_max : 1));
    s->xpad = pf_malloc_aligned(sizeof(float) * (m->xpad_max > 0 ? m->xpad_max : 1));
    s->ga = pf_malloc_aligned(sizeof(float) * m->gimg_max);
    s->gb = pf_malloc_aligned(sizeof(float) * m->gimg_max);
    s->lab = pf_malloc(m->chunk_max);
}

static void slot_free(pf_model *m, nn_slot *s)
{
    for (int i = 0; i <= m->nlayers; i++) free(s->act[i]);
    free(s->col);
    free(s->dpad);
    free(s->xpad);
    free(s->ga);
    free(s->gb);
    for (int i = 0; i < m->nlayers; i++) free(s->gdl[i]);
    free(s->lab);
}

pf_model *model_create(pf_model_kind kind, int c, int h, int w, int k, int max_batch)
{
    PF_ASSERT(kind >= 0 && kind < PF_MODEL_COUNT);
    PF_ASSERT(c >= 1 && h >= 1 && w >= 1 && k >= 2 && max_batch >= 1);
    /* Our threads call OpenBLAS; its own threads would make timings erratic and oversubscribe. */
    openblas_set_num_threads(1);
    pf_model *m = pf_calloc(1, sizeof *m);
    m->kind = kind;
    m->c = c;
    m->h = h;
    m->w = w;
    m->k = k;
    m->max_batch = max_batch;
    m->chunk_max = (max_batch + PF_NN_CHUNKS - 1) / PF_NN_CHUNKS;
    int f, hidden;
    arch_widths(kind, &f, &hidden);
    size_t off = 0;
    int ch = c, hh = h, ww = w;
    for (size_t i = 0; i < sizeof arch / sizeof arch[0]; i++) {
        switch (arch[i].op) {
        case A_CONV:
        case A_CONV_SAME: add_conv(m, arch[i].name, &hh, &ww, &ch, f, arch[i].op == A_CONV_SAME, &off); break;
        case A_POOL: add_pool(m, arch[i].name, &hh, &ww, ch); break;
        case A_DENSE_RELU:
        case A_DENSE_OUT: {
            int din = m->layers[m->nlayers - 1].type == L_DENSE ? hidden : hh * ww * ch;
            if (m->layers[m->nlayers - 1].type != L_DENSE) {
                PF_ASSERT(hh >= 1 && ww >= 1);
                m->nconv_part = m->nlayers;
            }
            add_dense(m, arch[i].name, din, arch[i].op == A_DENSE_OUT ? k : hidden, arch[i].op == A_DENSE_RELU, &off);
            break;
        }
        }
    }
    nn_layer *loss = &m->layers[m->nlayers++];
    memset(loss, 0, sizeof *loss);
    loss->type = L_LOSS;
    snprintf(loss->name, sizeof loss->name, "softmax");
    loss->in_size = loss->out_size = (size_t)k;
    m->nparams = off;

    /* The direct kernels need no im2col workspace: in the model, where the chunk's activations
     * and other processes compete for the caches, writing and re-reading a 663 KB im2col matrix
     * per image (more than L2) costs more than the GEMM's better arithmetic. The padded-gradient
     * workspace is sized for every layer the direct backward can take, whatever the path. */
    for (int i = 0; i < m->nconv_part; i++) {
        nn_layer *l = &m->layers[i];
        if (l->type == L_CONV && nn_conv_pad_size(&l->cd) > m->pad_max)
            m->pad_max = nn_conv_pad_size(&l->cd);
        if (l->type == L_CONV && l->cd.pad > 0 && nn_conv_xpad_size(&l->cd) > m->xpad_max)
            m->xpad_max = nn_conv_xpad_size(&l->cd);
        if (l->type == L_CONV && nn_conv_col_size(&l->cd) > m->col_max)
            m->col_max = nn_conv_col_size(&l->cd);
        if (l->in_size > m->gimg_max) m->gimg_max = l->in_size;
        if (l->out_size > m->gimg_max) m->gimg_max = l->out_size;
    }
    select_isa(m, cpu_default_isa());

    /* 64-byte aligned, and each chunk's partial gradient too (a whole number of cache lines
     * apart): the kernels' 512-bit weight loads and gradient stores then never split a line */
    m->params = pf_malloc_aligned(sizeof(float) * m->nparams);
    m->grads = pf_malloc_aligned(sizeof(float) * m->nparams);
    memset(m->params, 0, sizeof(float) * m->nparams);
    memset(m->grads, 0, sizeof(float) * m->nparams);
    m->cstride = (m->nparams + 15) / 16 * 16;
    m->cgrad = pf_malloc_aligned(sizeof(float) * m->cstride * PF_NN_CHUNKS);
    m->wflip = pf_malloc_aligned(sizeof(float) * m->nparams);
    m->threads = 1;
    m->nslots = 1;
    slot_alloc(m, &m->slots[0]);
    return m;
}

void model_free(pf_model *m)
{
    if (m == NULL) return;
    for (int i = 0; i < m->nslots; i++) slot_free(m, &m->slots[i]);
    free(m->params);
    free(m->grads);
    free(m->cgrad);
    free(m->wflip);
    free(m);
}

size_t model_param_count(const pf_model *m) { return m->nparams; }
float *model_params(pf_model *m) { return m->params; }
float *model_grads(pf_model *m) { return m->grads; }

void model_init(pf_model *m, uint64_t seed)
{
    pf_rng rng;
    rng_seed(&rng, seed);
    memset(m->params, 0, sizeof(float) * m->nparams);
    for (int i = 0; i < m->nlayers; i++) {
        nn_layer *l = &m->layers[i];
        size_t n;
        double fan_in, fan_out;
        if (l->type == L_CONV) {
            fan_in = 9.0 * l->cd.cin;
            fan_out = 9.0 * l->cd.cout;
            n = (size_t)9 * l->cd.cin * l->cd.cout;
        } else if (l->type == L_DENSE) {
            fan_in = l->din;
            fan_out = l->dout;
            n = (size_t)l->din * l->dout;
        } else {
            continue;
        }
        double limit = sqrt(6.0 / (fan_in + fan_out));
        for (size_t j = 0; j < n; j++)
            m->params[l->woff + j] = (float)((2.0 * rng_uniform(&rng) - 1.0) * limit);
    }
}

int model_set_isa(pf_model *m, pf_isa isa)
{
    pf_isa use;
    if (cpu_resolve_isa(isa, &use) != 0) return -1;
    select_isa(m, use);
    return 0;
}

pf_isa model_isa(const pf_model *m) { return m->isa; }

void model_set_threads(pf_model *m, int threads)
{
    PF_ASSERT(threads >= 1);
    m->threads = threads;
    int want = threads < PF_NN_CHUNKS ? threads : PF_NN_CHUNKS;
    /* Workspaces grow here, never per batch. */
    while (m->nslots < want) slot_alloc(m, &m->slots[m->nslots++]);
}

/* The input of one image as floats (H, W, C) in [0, 1], from uint8 (C, H, W). */
static void load_image(float *restrict dst, const uint8_t *restrict src, int c, int h, int w)
{
    const float s = 1.0f / 255.0f;
    const size_t hw = (size_t)h * w;
    if (c == 1) {
        for (size_t i = 0; i < hw; i++) dst[i] = src[i] * s;
        return;
    }
    for (size_t i = 0; i < hw; i++)
        for (int ch = 0; ch < c; ch++) dst[i * c + ch] = src[ch * hw + i] * s;
}

static inline int32_t batch_item(const pf_batch *b, int j)
{
    return b->index ? b->index[j] : b->first + j;
}

/* Profiling clock: the calling thread's CPU time, so that other processes on a loaded machine do
 * not inflate the per-layer figures (each slot is one thread). */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline double tick(const pf_model *m) { return m->profile ? cpu_now() : 0.0; }

/* Where layer li's input and output of one image live: the conv part's tensors in the slot's
 * per-image buffers (image si of the sub-chunk), the flatten and the dense part's in per-chunk
 * rows (row). */
static inline float *act_in(const pf_model *m, const nn_slot *s, int li, int si, int row)
{
    return s->act[li] + (size_t)(li < m->nconv_part ? si : row) * m->layers[li].in_size;
}

static inline float *act_out(const pf_model *m, const nn_slot *s, int li, int si, int row)
{
    return s->act[li + 1] + (size_t)(li + 1 < m->nconv_part ? si : row) * m->layers[li].out_size;
}

/* The conv part's forward of batch item j: input into slot image si, the flatten into row `row`. */
static void conv_forward_image(pf_model *m, nn_slot *s, const pf_batch *b, int j, int si, int row)
{
    const size_t img = (size_t)m->c * m->h * m->w;
    double t0 = tick(m);
    load_image(act_in(m, s, 0, si, row), b->images + (size_t)batch_item(b, j) * img, m->c, m->h,
               m->w);
    for (int li = 0; li < m->nconv_part; li++) {
        nn_layer *l = &m->layers[li];
        const float *in = act_in(m, s, li, si, row);
        float *out = act_out(m, s, li, si, row);
        if (l->type == L_CONV && l->direct && l->cd.pad > 0) {
            pf_conv_dims v;
            nn_conv_pad_input(s->xpad, in, &l->cd, &v);
            nn_conv_forward_direct(out, s->xpad, m->params + l->woff, m->params + l->boff, &v,
                                   l->relu, m->isa);
        } else if (l->type == L_CONV && l->direct)
            nn_conv_forward_direct(out, in, m->params + l->woff, m->params + l->boff, &l->cd,
                                   l->relu, m->isa);
        else if (l->type == L_CONV)
            nn_conv_forward(out, s->col, in, m->params + l->woff, m->params + l->boff, &l->cd,
                            l->relu);
        else
            nn_pool_forward(out, in, l->h, l->w, l->c);
        if (m->profile) {
            double t1 = cpu_now();
            s->fwd[li] += t1 - t0;
            t0 = t1;
        }
    }
}

/* The dense part's forward of rows [r0, r1) of the chunk; logits in act[dense3 + 1]. */
static void dense_forward_rows(pf_model *m, nn_slot *s, int r0, int r1)
{
    for (int li = m->nconv_part; li < m->nlayers; li++) {
        nn_layer *l = &m->layers[li];
        if (l->type != L_DENSE) continue;
        double t0 = tick(m);
        nn_dense_forward(s->act[li + 1] + (size_t)r0 * l->dout, s->act[li] + (size_t)r0 * l->din,
                         m->params + l->woff, m->params + l->boff, r1 - r0, l->din, l->dout,
                         l->relu);
        if (m->profile) s->fwd[li] += cpu_now() - t0;
    }
}

/* The dense part's backward of rows [r0, r1) (their output gradients in s->gdl, the logits'
 * written by the loss): relu masks, bias gradients (row by row, in order) and the input
 * gradients, down to the flatten's in s->gdl[nconv_part - 1]. The weight gradients wait for the
 * whole chunk (dense_dweights). */
static void dense_backward_rows(pf_model *m, nn_slot *s, float *g, int r0, int r1)
{
    for (int li = m->nlayers - 1; li >= m->nconv_part; li--) {
        nn_layer *l = &m->layers[li];
        if (l->type != L_DENSE) continue;
        double t0 = tick(m);
        nn_dense_backward(s->gdl[li - 1] + (size_t)r0 * l->din, NULL, g + l->boff,
                          s->gdl[li] + (size_t)r0 * l->dout, s->act[li + 1] + (size_t)r0 * l->dout,
                          s->act[li] + (size_t)r0 * l->din, m->params + l->woff, r1 - r0, l->din,
                          l->dout, l->relu);
        if (m->profile) s->bwd[li] += cpu_now() - t0;
    }
}

/* The dense layers' weight gradients of the chunk's n rows: one GEMM per layer over the chunk. */
static void dense_dweights(pf_model *m, nn_slot *s, float *g, int n)
{
    for (int li = m->nlayers - 1; li >= m->nconv_part; li--) {
        nn_layer *l = &m->layers[li];
        if (l->type != L_DENSE) continue;
        double t0 = tick(m);
        nn_dense_dweight(g + l->woff, s->act[li], s->gdl[li], n, l->din, l->dout);
        if (m->profile) s->bwd[li] += cpu_now() - t0;
    }
}

/* The conv part's backward of slot image si (chunk row `row`), from the flatten's gradient. */
static void conv_backward_image(pf_model *m, nn_slot *s, float *g, int si, int row)
{
    const size_t flat = m->layers[m->nconv_part - 1].out_size;
    float *gout = s->ga, *gin = s->gb;
    memcpy(gout, s->gdl[m->nconv_part - 1] + (size_t)row * flat, sizeof(float) * flat);
    double t0 = tick(m);
    for (int li = m->nconv_part - 1; li >= 0; li--) {
        nn_layer *l = &m->layers[li];
        const float *in = act_in(m, s, li, si, row);
        const float *out = act_out(m, s, li, si, row);
        /* a pool's backward applies the relu mask of the conv below it (it reads that conv's
         * output anyway), so that conv skips its own mask */
        const int below_masked = li > 0 && m->layers[li - 1].type == L_CONV &&
                                 m->layers[li - 1].relu;
        const int relu = l->relu && !(li + 1 < m->nconv_part && m->layers[li + 1].type == L_POOL);
        if (l->type == L_CONV && l->direct_bwd)
            nn_conv_backward_direct(li == 0 ? NULL : gin, g + l->woff, g + l->boff, gout, out, in,
                                    m->wflip + l->woff, s->dpad, s->xpad, &l->cd, relu, m->isa);
        else if (l->type == L_CONV)
            nn_conv_backward(li == 0 ? NULL : gin, g + l->woff, g + l->boff, gout, out, in,
                             m->params + l->woff, s->col, &l->cd, relu);
        else
            nn_pool_backward_relu(gin, gout, in, l->h, l->w, l->c, below_masked);
        float *t = gout;
        gout = gin;
        gin = t;
        if (m->profile) {
            double t1 = cpu_now();
            s->bwd[li] += t1 - t0;
            t0 = t1;
        }
    }
}

/* Training on items [j0, j1) of the batch: sub-chunk by sub-chunk of PF_NN_SUB images, forward
 * through the whole model, loss, and backward, so that the conv part's activations are still in
 * the core's L2 when the backward reads them; the dense weight gradients once for the chunk.
 * The conv part's sums, the bias gradients and the loss run in the same order as a whole-chunk
 * forward then backward (images, rows and losses in order); the dense layers' forward and input
 * gradient GEMMs take PF_NN_SUB rows at a time, which OpenBLAS's generic kernels round as they
 * would a whole chunk and its small-matrix kernels (SkylakeX, Haswell) may not. */
static void chunk_train(pf_model *m, nn_slot *s, const pf_batch *b, int j0, int j1, float *g,
                        float scale, double *loss, int64_t *correct)
{
    const int n = j1 - j0, logits = m->nlayers - 2; /* dense3 */
    for (int i = 0; i < n; i++) s->lab[i] = b->labels[batch_item(b, j0 + i)];
    for (int r0 = 0; r0 < n; r0 += PF_NN_SUB) {
        const int r1 = r0 + PF_NN_SUB < n ? r0 + PF_NN_SUB : n;
        for (int i = r0; i < r1; i++) conv_forward_image(m, s, b, j0 + i, i - r0, i);
        dense_forward_rows(m, s, r0, r1);
        double t0 = tick(m);
        for (int i = r0; i < r1; i++) /* row by row: the loss sums in item order */
            *loss += nn_softmax_xent(s->gdl[logits] + (size_t)i * m->k,
                                     s->act[logits + 1] + (size_t)i * m->k, s->lab + i, 1, m->k,
                                     scale, NULL, correct);
        if (m->profile) s->fwd[m->nlayers - 1] += cpu_now() - t0;
        dense_backward_rows(m, s, g, r0, r1);
        for (int i = r0; i < r1; i++) conv_backward_image(m, s, g, i - r0, i);
    }
    dense_dweights(m, s, g, n);
}

/* Evaluation of items [j0, j1): the conv part image by image in one image's buffers (which stay
 * in cache), then the dense part for the whole chunk. */
static void chunk_eval(pf_model *m, nn_slot *s, const pf_batch *b, int j0, int j1)
{
    for (int i = 0; i < j1 - j0; i++) conv_forward_image(m, s, b, j0 + i, 0, i);
    dense_forward_rows(m, s, 0, j1 - j0);
}

static inline int chunk_lo(int n, int c) { return (int)((int64_t)c * n / PF_NN_CHUNKS); }

static void check_batch(const pf_model *m, const pf_batch *b)
{
    PF_ASSERT(b != NULL && b->images != NULL);
    PF_ASSERT(b->n >= 0 && b->n <= m->max_batch);
}

double model_train_batch(pf_model *m, const pf_batch *b, int64_t *correct)
{
    check_batch(m, b);
    PF_ASSERT(b->labels != NULL);
    const int n = b->n, nt = m->threads < m->nslots ? m->threads : m->nslots;
    const float scale = n > 0 ? 1.0f / (float)n : 0.0f;
    for (int li = 1; li < m->nconv_part; li++) {
        const nn_layer *l = &m->layers[li];
        if (l->type == L_CONV && l->direct_bwd)
            nn_conv_flip_kernel(m->wflip + l->woff, m->params + l->woff, l->cd.cin, l->cd.cout);
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int c = 0; c < PF_NN_CHUNKS; c++) {
        nn_slot *s = &m->slots[omp_get_thread_num()];
        int j0 = chunk_lo(n, c), j1 = chunk_lo(n, c + 1), nc = j1 - j0;
        float *g = m->cgrad + (size_t)c * m->cstride;
        m->closs[c] = 0.0;
        m->ccorrect[c] = 0;
        if (nc == 0) continue;
        memset(g, 0, sizeof(float) * m->nparams);
        chunk_train(m, s, b, j0, j1, g, scale, &m->closs[c], &m->ccorrect[c]);
    }
    /* Sum the partial gradients in chunk order; each element's order is fixed, so splitting the
     * elements between threads does not change the result. */
    const size_t np = m->nparams;
    int used[PF_NN_CHUNKS], nused = 0;
    for (int c = 0; c < PF_NN_CHUNKS; c++)
        if (chunk_lo(n, c + 1) > chunk_lo(n, c)) used[nused++] = c;
    float *gr = m->grads;
    const float *cg = m->cgrad;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t i = 0; i < np; i++) {
        float v = 0.0f;
        for (int u = 0; u < nused; u++) v += cg[(size_t)used[u] * m->cstride + i];
        gr[i] = v;
    }
    double loss = 0.0;
    int64_t corr = 0;
    for (int c = 0; c < PF_NN_CHUNKS; c++) {
        loss += m->closs[c];
        corr += m->ccorrect[c];
    }
    if (correct) *correct = corr;
    return loss;
}

double model_eval_batch(pf_model *m, const pf_batch *b, int32_t *pred)
{
    return model_eval_batch_logp(m, b, pred, NULL);
}

double model_eval_batch_logp(pf_model *m, const pf_batch *b, int32_t *pred, double *logp)
{
    check_batch(m, b);
    PF_ASSERT(logp == NULL || b->labels != NULL);
    const int n = b->n, nt = m->threads < m->nslots ? m->threads : m->nslots;
    const int logits_layer = m->nlayers - 2;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int c = 0; c < PF_NN_CHUNKS; c++) {
        nn_slot *s = &m->slots[omp_get_thread_num()];
        int j0 = chunk_lo(n, c), j1 = chunk_lo(n, c + 1), nc = j1 - j0;
        m->closs[c] = 0.0;
        if (nc == 0) continue;
        chunk_eval(m, s, b, j0, j1);
        uint8_t *lab = s->lab;
        if (b->labels)
            for (int i = 0; i < nc; i++) lab[i] = b->labels[batch_item(b, j0 + i)];
        double t0 = tick(m);
        m->closs[c] = nn_softmax_xent(NULL, s->act[logits_layer + 1], b->labels ? lab : NULL, nc,
                                      m->k, 0.0f, pred ? pred + j0 : NULL, NULL);
        if (logp) nn_label_logprob(s->act[logits_layer + 1], lab, nc, m->k, logp + j0);
        if (m->profile) s->fwd[m->nlayers - 1] += cpu_now() - t0;
    }
    double loss = 0.0;
    for (int c = 0; c < PF_NN_CHUNKS; c++) loss += m->closs[c];
    return loss;
}

void model_profile_enable(pf_model *m, int on) { m->profile = on != 0; }

void model_profile_reset(pf_model *m)
{
    for (int i = 0; i < m->nslots; i++) {
        memset(m->slots[i].fwd, 0, sizeof m->slots[i].fwd);
        memset(m->slots[i].bwd, 0, sizeof m->slots[i].bwd);
    }
}

int model_layer_count(const pf_model *m) { return m->nlayers; }

const char *model_layer_name(const pf_model *m, int i)
{
    PF_ASSERT(i >= 0 && i < m->nlayers);
    return m->layers[i].name;
}

void model_layer_seconds(const pf_model *m, int i, double *fwd, double *bwd)
{
    PF_ASSERT(i >= 0 && i < m->nlayers);
    double f = 0.0, b = 0.0;
    for (int s = 0; s < m->nslots; s++) {
        f += m->slots[s].fwd[i];
        b += m->slots[s].bwd[i];
    }
    if (fwd) *fwd = f;
    if (bwd) *bwd = b;
}

/* Multiply-adds of a layer for one sample's forward pass. */
static double layer_macs(const nn_layer *l)
{
    if (l->type == L_CONV) return (double)l->cd.oh * l->cd.ow * 9.0 * l->cd.cin * l->cd.cout;
    if (l->type == L_DENSE) return (double)l->din * l->dout;
    return 0.0;
}

double model_flops_forward(const pf_model *m)
{
    double f = 0.0;
    for (int i = 0; i < m->nlayers; i++) f += 2.0 * layer_macs(&m->layers[i]);
    return f;
}

double model_flops_train(const pf_model *m)
{
    /* backward = weight gradient + input gradient (2 x forward), except the first layer, which
     * needs no input gradient */
    return 3.0 * model_flops_forward(m) - 2.0 * layer_macs(&m->layers[0]);
}
