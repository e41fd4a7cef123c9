/* nn.h -- the CNN: the seed's model (and a wider variant) on OpenBLAS, forward, backward, Adam.
 *
 * seed model (docs/recipe.md): conv3x3 32 valid relu -> conv 32 -> maxpool2 -> conv 32 -> conv 32
 * -> maxpool2 -> conv 32 -> conv 32 (same padding) -> flatten -> dense 128 relu -> dense 128 relu
 * -> dense K softmax. wide: 64 filters per conv, dense 256. Glorot-uniform kernels, zero biases.
 *
 * Memory: one buffer for all parameters, one for gradients (same layout); activations and
 * workspaces are allocated once by model_create for up to max_batch images; nothing is allocated
 * per batch. Threads: a batch is split into PF_NN_CHUNKS fixed chunks whatever the thread count;
 * chunks are spread over `threads` OpenMP threads, each calling single-threaded OpenBLAS, and the
 * chunks' gradients are summed in chunk order, so results are bit-identical for any thread count. */
#ifndef POISONFARM_NN_H
#define POISONFARM_NN_H

#include "poisonfarm/cpu.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
    PF_MODEL_SEED = 0,
    PF_MODEL_WIDE,
    PF_MODEL_COUNT
} pf_model_kind;

/* Fixed number of chunks a batch is split into (the unit of thread parallelism). */
#define PF_NN_CHUNKS 8

typedef struct pf_model pf_model;

/* "seed", "wide". */
const char *model_kind_name(pf_model_kind kind);
int model_kind_from_name(const char *name, pf_model_kind *kind);

/* Builds a model for (c, h, w) uint8 images and k classes, with workspaces for batches of up to
 * max_batch images. Parameters are zero until model_init. Aborts on out of memory. Free with
 * model_free. */
pf_model *model_create(pf_model_kind kind, int c, int h, int w, int k, int max_batch);
void model_free(pf_model *m);

/* Number of parameters (80,874 for the seed model on 28x28x1, K = 10). */
size_t model_param_count(const pf_model *m);

/* The one parameter buffer and the one gradient buffer (model_param_count floats each, same
 * layout). The model owns them. */
float *model_params(pf_model *m);
float *model_grads(pf_model *m);

/* Glorot-uniform kernels drawn from a stream seeded with `seed`, zero biases. */
void model_init(pf_model *m, uint64_t seed);

/* The kernels' instruction-set path (cpu.h): model_create takes cpu_default_isa() (from cpuid,
 * xgetbv and a fixed table, once). model_set_isa pins another (PF_ISA_AUTO = the default again);
 * it returns -1 and changes nothing when this CPU or OS cannot run it. avx2 and avx512 give
 * bit-identical results; scalar (im2col + OpenBLAS) rounds differently. model_isa never returns
 * PF_ISA_AUTO. */
int model_set_isa(pf_model *m, pf_isa isa);
pf_isa model_isa(const pf_model *m);

/* Sets the number of OpenMP threads used by the next calls (>= 1; default 1). */
void model_set_threads(pf_model *m, int threads);

/* A batch: items index[0..n) (or first..first+n when index is NULL) of an image array of
 * (N_all, C, H, W) uint8 pixels scaled by 1/255, and their labels (labels[item]). */
typedef struct {
    const uint8_t *images;
    const uint8_t *labels;
    const int32_t *index;
    int32_t first;
    int32_t n;
} pf_batch;

/* Forward and backward pass: model_grads = gradient of the MEAN sparse categorical cross-entropy
 * over the batch (overwritten, not accumulated). Returns the SUM of the per-item losses; *correct
 * (if not NULL) = items whose argmax equals the label. n <= max_batch. A non-finite loss is
 * returned as is (the caller decides it diverged). */
double model_train_batch(pf_model *m, const pf_batch *b, int64_t *correct);

/* Forward pass only. Returns the sum of per-item losses against b->labels (labels may be NULL:
 * returns 0); pred[j] (if not NULL) = argmax class of item j of the batch. n <= max_batch. */
double model_eval_batch(pf_model *m, const pf_batch *b, int32_t *pred);

/* The same, and logp[j] (if not NULL; then b->labels must not be NULL) = the log-probability the
 * model gives item j's label, log softmax(logits)[label], in double: exactly minus that item's
 * share of the returned loss. Item by item, so bit-identical for any thread count and batch
 * split; nothing is allocated. */
double model_eval_batch_logp(pf_model *m, const pf_batch *b, int32_t *pred, double *logp);

/* Adam with Keras' semantics: t += 1; alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t);
 * m += (g - m)(1 - beta1); v += (g^2 - v)(1 - beta2); p -= alpha * m / (sqrt(v) + epsilon). */
typedef struct {
    double beta1, beta2, epsilon;  /* 0.9, 0.999, 1e-7 */
    int64_t t;                     /* steps taken */
    size_t n;
    float *m, *v;                  /* owned, n floats each, zero at start */
} pf_adam;

void adam_init(pf_adam *a, size_t n);   /* Keras defaults, zero moments; free with adam_free */
void adam_free(pf_adam *a);
void adam_step(pf_adam *a, float *params, const float *grads, double lr);

/* Profiling for `make bench`: per-layer seconds of thread CPU time (so that a loaded machine does
 * not inflate them) accumulated since the last reset (forward and backward), when enabled. Off by
 * default (costs a clock read per layer and image). */
void model_profile_enable(pf_model *m, int on);
void model_profile_reset(pf_model *m);
int model_layer_count(const pf_model *m);
const char *model_layer_name(const pf_model *m, int i);           /* "conv1", "pool1", "dense1", ... */
void model_layer_seconds(const pf_model *m, int i, double *fwd, double *bwd);

/* FLOPs (multiply-add = 2) of one sample's forward pass and of one training step (forward +
 * backward), counting the GEMM-like work of conv and dense layers. */
double model_flops_forward(const pf_model *m);
/* Multiply-adds of one forward pass on one (c, h, w) image with k classes, from the architecture
 * alone (no model is built): the cost model of the scheduler. */
double model_forward_macs(pf_model_kind kind, int c, int h, int w, int k);
double model_flops_train(const pf_model *m);

#endif
