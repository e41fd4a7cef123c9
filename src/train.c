/* train.c -- one configuration's training run: poisoned labels, the seed's recipe (Adam, Keras'
 * EarlyStopping and ReduceLROnPlateau on validation accuracy, best-epoch selection), per-epoch
 * history, end-of-run metrics, and a checkpoint of the whole state (save / restore). */
#include "poisonfarm/train.h"

#include "poisonfarm/rng.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

struct pf_trainer {
    pf_config cfg;
    const pf_dataset *ds;
    uint64_t stream;        /* config_stream(cfg) */
    int k;
    int32_t n_train;        /* training items used: the first n_train of ds->train */
    int32_t n_valall;       /* validation items used: the first n_valall of ds->test */
    int32_t n_watch;        /* items [0, n_watch) decide early stopping and the best epoch */
    int32_t n_report;       /* split: items [n_watch, n_valall) are reported at the best epoch */
    uint8_t *labels;        /* (n_train) the labels trained on (poisoned copy) */
    uint8_t *val_poisoned;  /* (n_valall) poisoned validation labels; NULL without poison_validation */
    pf_model *model;
    size_t np;              /* parameters */
    pf_adam adam;
    float *best_params;     /* (np) parameters at the best epoch */
    float *snap;            /* (3 np) params, m, v at the start of the running epoch (stop flag) */
    int32_t *order;         /* (n_train) this epoch's shuffled item order */
    int32_t *pred;          /* (n_valall) this epoch's validation predictions */
    int32_t *best_pred;     /* (n_watch) the best epoch's predictions on the watched items */
    pf_plateau plat;
    int32_t epoch;          /* completed epochs */
    int finished;
    pf_result res;
};

/* ---------------------------------------------------------------------------------------------
 * Keras' callbacks, counted in correct predictions. */

void plateau_init(pf_plateau *p, double lr, int32_t patience, int32_t lr_patience, double lr_factor,
                  int32_t n_val)
{
    memset(p, 0, sizeof *p);
    p->best_correct = -1;   /* Keras starts from -inf: the first epoch always improves */
    p->lr_best = -1;
    p->lr = lr;
    p->patience = patience;
    p->lr_patience = lr_patience;
    p->lr_factor = lr_factor;
    p->min_delta_items = 1e-4 * (double)n_val;
}

int plateau_update(pf_plateau *p, int64_t correct)
{
    int flags = 0;
    /* EarlyStopping(min_delta=0): strictly greater improves; stop after `patience` epochs in a
       row without improvement. */
    if (correct > p->best_correct) {
        p->best_correct = correct;
        p->es_wait = 0;
        flags |= PF_PLATEAU_BEST;
    } else if (++p->es_wait >= p->patience) {
        flags |= PF_PLATEAU_STOP;
    }
    /* ReduceLROnPlateau(min_delta=1e-4, cooldown=0, min_lr=0): better than best + min_delta
       improves; after lr_patience epochs without, lr *= factor and the wait starts again. */
    if (p->lr_best < 0 || (double)correct > (double)p->lr_best + p->min_delta_items) {
        p->lr_best = correct;
        p->lr_wait = 0;
    } else if (++p->lr_wait >= p->lr_patience) {
        p->lr *= p->lr_factor;
        p->lr_wait = 0;
        flags |= PF_PLATEAU_LR;
    }
    return flags;
}

/* ---------------------------------------------------------------------------------------------
 * Creation. */

static int check_config(const pf_config *c, const pf_dataset *ds, pf_error *err)
{
    if (c->dataset != ds->id)
        return pf_error_set(err, PF_ERR_USAGE, "configuration is for dataset %s but %s was loaded",
                            dataset_name(c->dataset), dataset_name(ds->id));
    if ((int)c->mode < 0 || c->mode >= PF_MODE_COUNT || (int)c->model < 0 ||
        c->model >= PF_MODEL_COUNT || (int)c->selection < 0 || c->selection >= PF_SEL_COUNT)
        return pf_error_set(err, PF_ERR_USAGE, "configuration has an unknown mode, model or selection");
    if (!(c->percent >= 0.0 && c->percent <= 100.0))
        return pf_error_set(err, PF_ERR_USAGE, "percent %g is outside [0, 100]", c->percent);
    if (c->batch_size < 1 || c->batch_size > 65536)
        return pf_error_set(err, PF_ERR_USAGE, "batch size %d is outside [1, 65536]",
                            (int)c->batch_size);
    if (c->max_epochs < 1 || c->max_epochs > 100000)
        return pf_error_set(err, PF_ERR_USAGE, "max epochs %d is outside [1, 100000]",
                            (int)c->max_epochs);
    if (c->patience < 0 || c->lr_patience < 0)
        return pf_error_set(err, PF_ERR_USAGE, "patience and lr patience must be >= 0");
    if (!(c->lr_factor > 0.0 && c->lr_factor <= 1.0))
        return pf_error_set(err, PF_ERR_USAGE, "lr factor %g is outside (0, 1]", c->lr_factor);
    if (!(c->lr > 0.0) || !isfinite(c->lr))
        return pf_error_set(err, PF_ERR_USAGE, "learning rate %g must be positive", c->lr);
    if (c->repeat < 0) return pf_error_set(err, PF_ERR_USAGE, "repeat %d is negative", (int)c->repeat);
    if (c->val_items < 0 || c->val_items > ds->test.n)
        return pf_error_set(err, PF_ERR_USAGE,
                            "validation items %d: the %s test set has %d items (0 = all)",
                            (int)c->val_items, dataset_name(ds->id), (int)ds->test.n);
    if (ds->test.n < 1)
        return pf_error_set(err, PF_ERR_MISSING, "%s: no test items loaded", dataset_name(ds->id));
    if (ds->k < 2 || ds->k > PF_MAX_CLASSES)
        return pf_error_set(err, PF_ERR_CORRUPT, "%s: %d classes", dataset_name(ds->id), ds->k);
    return 0;
}

pf_trainer *trainer_create(const pf_config *cfg, const pf_dataset *ds, int threads, pf_error *err)
{
    if (check_config(cfg, ds, err) != 0) return NULL;
    int32_t n_train = 0;
    if (dataset_check_subset(ds, cfg->subset, &n_train, err) != 0) return NULL;
    if (n_train < 1)
        return pf_error_set(err, PF_ERR_USAGE, "%s: no training items", dataset_name(ds->id)), NULL;
    int32_t n_valall = cfg->val_items > 0 ? cfg->val_items : ds->test.n;
    if (cfg->selection == PF_SEL_SPLIT && n_valall < 2)
        return pf_error_set(err, PF_ERR_USAGE, "selection split needs at least 2 validation items"),
               NULL;

    pf_trainer *t = pf_calloc(1, sizeof *t);
    t->cfg = *cfg;
    t->ds = ds;
    t->stream = config_stream(cfg);
    t->k = ds->k;
    t->n_train = n_train;
    t->n_valall = n_valall;
    t->n_watch = cfg->selection == PF_SEL_SPLIT ? n_valall / 2 : n_valall;
    t->n_report = n_valall - t->n_watch;

    t->labels = pf_malloc((size_t)n_train);
    int64_t n_poisoned = poison_apply(t->labels, ds->train.labels, n_train, t->k, cfg->percent,
                                      cfg->mode, rng_derive(t->stream, PF_RNG_TAG_POISON));
    int64_t n_val_poisoned = 0;
    if (cfg->poison_validation) {
        t->val_poisoned = pf_malloc((size_t)n_valall);
        n_val_poisoned = poison_apply_scattered(t->val_poisoned, NULL, ds->test.labels, n_valall, t->k,
                                                cfg->percent, cfg->mode,
                                                rng_derive(t->stream, PF_RNG_TAG_VALPOISON));
    }

    t->model = model_create(cfg->model, ds->c, ds->h, ds->w, t->k, cfg->batch_size);
    model_init(t->model, rng_derive(t->stream, PF_RNG_TAG_INIT));
    model_set_threads(t->model, threads < 1 ? 1 : threads);
    t->np = model_param_count(t->model);
    adam_init(&t->adam, t->np);
    t->best_params = pf_malloc(t->np * sizeof(float));
    memcpy(t->best_params, model_params(t->model), t->np * sizeof(float));
    t->snap = pf_malloc(3 * t->np * sizeof(float));
    t->order = pf_malloc((size_t)n_train * sizeof(int32_t));
    t->pred = pf_malloc((size_t)n_valall * sizeof(int32_t));
    t->best_pred = pf_calloc((size_t)t->n_watch, sizeof(int32_t));
    plateau_init(&t->plat, cfg->lr, cfg->patience, cfg->lr_patience, cfg->lr_factor, t->n_watch);

    pf_result *r = &t->res;
    r->stop = PF_STOP_NONE;
    r->epochs = 0;
    r->best_epoch = -1;
    r->best_val_acc = r->final_val_acc = r->heldout_acc = r->poisoned_val_acc = NAN;
    r->learned_poison = r->learned_true = NAN;
    r->n_train = n_train;
    r->n_val = t->n_watch;
    r->n_poisoned = n_poisoned;
    r->n_val_poisoned = n_val_poisoned;
    r->train_seconds = 0.0;
    r->k = t->k;
    double **hist[6] = {&r->train_loss, &r->train_acc, &r->val_loss, &r->val_acc, &r->lr,
                        &r->epoch_seconds};
    for (int h = 0; h < 6; h++) {
        *hist[h] = pf_malloc((size_t)cfg->max_epochs * sizeof(double));
        for (int32_t e = 0; e < cfg->max_epochs; e++) (*hist[h])[e] = NAN;
    }
    r->confusion = pf_calloc((size_t)t->k * (size_t)t->k, sizeof(int32_t));
    return t;
}

void trainer_free(pf_trainer *t)
{
    if (t == NULL) return;
    free(t->labels);
    free(t->val_poisoned);
    model_free(t->model);
    adam_free(&t->adam);
    free(t->best_params);
    free(t->snap);
    free(t->order);
    free(t->pred);
    free(t->best_pred);
    free(t->res.train_loss);
    free(t->res.train_acc);
    free(t->res.val_loss);
    free(t->res.val_acc);
    free(t->res.lr);
    free(t->res.epoch_seconds);
    free(t->res.confusion);
    free(t);
}

int trainer_finished(const pf_trainer *t) { return t->finished; }
const pf_result *trainer_result(const pf_trainer *t) { return &t->res; }
const pf_config *trainer_config(const pf_trainer *t) { return &t->cfg; }
size_t trainer_param_count(const pf_trainer *t) { return t->np; }

int trainer_set_isa(pf_trainer *t, pf_isa isa, pf_error *err)
{
    if (model_set_isa(t->model, isa) != 0)
        return pf_error_set(err, PF_ERR_USAGE, "--isa %s: this CPU (or its operating system) cannot "
                            "run the %s kernels", isa_name(isa), isa_name(isa));
    return 0;
}

pf_isa trainer_isa(const pf_trainer *t) { return model_isa(t->model); }
const float *trainer_params(const pf_trainer *t) { return model_params(t->model); }
const float *trainer_best_params(const pf_trainer *t) { return t->best_params; }
const uint8_t *trainer_train_labels(const pf_trainer *t) { return t->labels; }

/* ---------------------------------------------------------------------------------------------
 * The epoch loop. */

static int stop_requested(const pf_train_hooks *h)
{
    return h != NULL && h->stop_flag != NULL && *h->stop_flag != 0;
}

static void call_on_batch(const pf_train_hooks *h)
{
    if (h != NULL && h->on_batch != NULL) h->on_batch(h->ctx);
}

static void snapshot_save(pf_trainer *t)
{
    size_t n = t->np;
    memcpy(t->snap, model_params(t->model), n * sizeof(float));
    memcpy(t->snap + n, t->adam.m, n * sizeof(float));
    memcpy(t->snap + 2 * n, t->adam.v, n * sizeof(float));
}

static void snapshot_restore(pf_trainer *t, int64_t adam_t)
{
    size_t n = t->np;
    memcpy(model_params(t->model), t->snap, n * sizeof(float));
    memcpy(t->adam.m, t->snap + n, n * sizeof(float));
    memcpy(t->adam.v, t->snap + 2 * n, n * sizeof(float));
    t->adam.t = adam_t;
}

/* Predictions for test items [first, first + n) in batches; *loss_sum = sum of clean losses.
 * Returns -1 when the stop flag was raised (pred incomplete), else 0. */
static int eval_range(pf_trainer *t, int32_t first, int32_t n, int32_t *pred, double *loss_sum,
                      const pf_train_hooks *hooks)
{
    const int32_t bs = t->cfg.batch_size;
    double sum = 0.0;
    for (int32_t b0 = 0; b0 < n; b0 += bs) {
        if (stop_requested(hooks)) return -1;
        pf_batch b = {t->ds->test.images, t->ds->test.labels, NULL, first + b0,
                      n - b0 < bs ? n - b0 : bs};
        sum += model_eval_batch(t->model, &b, pred + b0);
        call_on_batch(hooks);
    }
    *loss_sum = sum;
    return 0;
}

static int64_t count_equal(const int32_t *pred, const uint8_t *labels, int32_t n)
{
    int64_t c = 0;
    for (int32_t i = 0; i < n; i++) c += pred[i] == (int32_t)labels[i];
    return c;
}

static void update_confusion(pf_trainer *t)
{
    int k = t->k;
    memset(t->res.confusion, 0, (size_t)k * (size_t)k * sizeof(int32_t));
    for (int32_t i = 0; i < t->n_watch; i++) {
        int32_t p = t->best_pred[i];
        if (p >= 0 && p < k) t->res.confusion[t->ds->test.labels[i] * k + p]++;
    }
}

/* End of training: how much of the poison the best model learned, on the poisoned training items
 * (the last n_poisoned of the subset). The current parameters are kept. Calls on_batch between
 * batches (up to a whole training set's worth of them), but never stops: the epoch is complete. */
static void finish(pf_trainer *t, const pf_train_hooks *hooks)
{
    pf_result *r = &t->res;
    t->finished = 1;
    r->learned_poison = r->learned_true = NAN;
    if (r->n_poisoned <= 0 || r->best_epoch < 0) return;
    size_t n = t->np;
    float *params = model_params(t->model);
    memcpy(t->snap, params, n * sizeof(float));
    memcpy(params, t->best_params, n * sizeof(float));
    const int32_t bs = t->cfg.batch_size;
    int32_t first = t->n_train - (int32_t)r->n_poisoned;
    int64_t as_poison = 0, as_true = 0;
    /* Once per run, not per batch. */
    int32_t *pred = pf_malloc((size_t)bs * sizeof(int32_t));
    for (int32_t b0 = first; b0 < t->n_train; b0 += bs) {
        int32_t nb = t->n_train - b0 < bs ? t->n_train - b0 : bs;
        pf_batch b = {t->ds->train.images, NULL, NULL, b0, nb};
        model_eval_batch(t->model, &b, pred);
        for (int32_t j = 0; j < nb; j++) {
            as_poison += pred[j] == (int32_t)t->labels[b0 + j];
            as_true += pred[j] == (int32_t)t->ds->train.labels[b0 + j];
        }
        call_on_batch(hooks);
    }
    free(pred);
    memcpy(params, t->snap, n * sizeof(float));
    r->learned_poison = (double)as_poison / (double)r->n_poisoned;
    r->learned_true = (double)as_true / (double)r->n_poisoned;
}

int trainer_epoch(pf_trainer *t, const pf_train_hooks *hooks)
{
    if (t->finished) return 1;
    if (stop_requested(hooks)) return -1;
    const int32_t e = t->epoch + 1;   /* epochs count from 1 */
    const int32_t n = t->n_train, bs = t->cfg.batch_size;
    const double lr = t->plat.lr;
    const int64_t adam_t0 = t->adam.t;
    const int can_stop = hooks != NULL && hooks->stop_flag != NULL;
    const double t0 = pf_now();
    pf_result *r = &t->res;
    if (can_stop) snapshot_save(t);

    /* A fresh identity permutation shuffled by the epoch's own stream: the order of epoch e does
       not depend on how the run got there (resumes included). */
    for (int32_t i = 0; i < n; i++) t->order[i] = i;
    pf_rng rng;
    rng_seed(&rng, rng_derive(rng_derive(t->stream, PF_RNG_TAG_SHUFFLE), (uint64_t)e));
    rng_shuffle_i32(&rng, t->order, n);

    double loss_sum = 0.0;
    int64_t correct = 0, seen = 0;
    int diverged = 0;
    for (int32_t b0 = 0; b0 < n; b0 += bs) {
        if (stop_requested(hooks)) {
            snapshot_restore(t, adam_t0);
            return -1;
        }
        int32_t nb = n - b0 < bs ? n - b0 : bs;
        pf_batch b = {t->ds->train.images, t->labels, t->order + b0, 0, nb};
        int64_t c = 0;
        double l = model_train_batch(t->model, &b, &c);
        loss_sum += l;
        correct += c;
        seen += nb;
        if (!isfinite(l)) {
            diverged = 1;
            break;
        }
        adam_step(&t->adam, model_params(t->model), model_grads(t->model), lr);
        call_on_batch(hooks);
    }

    int32_t h = e - 1;
    r->train_loss[h] = loss_sum / (double)seen;
    r->train_acc[h] = (double)correct / (double)seen;
    r->lr[h] = lr;

    if (!diverged) {
        double lw = 0.0, lrep = 0.0;
        if (eval_range(t, 0, t->n_watch, t->pred, &lw, hooks) != 0 ||
            eval_range(t, t->n_watch, t->n_report, t->pred + t->n_watch, &lrep, hooks) != 0) {
            r->train_loss[h] = r->train_acc[h] = r->lr[h] = NAN;
            snapshot_restore(t, adam_t0);
            return -1;
        }
        const uint8_t *clean = t->ds->test.labels;
        int64_t cw = count_equal(t->pred, clean, t->n_watch);
        int64_t cr = count_equal(t->pred + t->n_watch, clean + t->n_watch, t->n_report);
        int64_t pw = t->val_poisoned ? count_equal(t->pred, t->val_poisoned, t->n_watch) : -1;
        double acc = (double)cw / (double)t->n_watch;
        r->val_loss[h] = lw / (double)t->n_watch;
        r->val_acc[h] = acc;
        r->final_val_acc = acc;
        if (!isfinite(lw)) {
            diverged = 1;
        } else {
            int flags = plateau_update(&t->plat, t->val_poisoned ? pw : cw);
            if (flags & PF_PLATEAU_BEST) {
                r->best_epoch = e;
                r->best_val_acc = acc;
                r->heldout_acc = t->n_report > 0 ? (double)cr / (double)t->n_report : NAN;
                r->poisoned_val_acc = t->val_poisoned ? (double)pw / (double)t->n_watch : NAN;
                memcpy(t->best_params, model_params(t->model), t->np * sizeof(float));
                memcpy(t->best_pred, t->pred, (size_t)t->n_watch * sizeof(int32_t));
                update_confusion(t);
            }
            if (flags & PF_PLATEAU_STOP)
                r->stop = PF_STOP_EARLY;
            else if (e >= t->cfg.max_epochs)
                r->stop = PF_STOP_MAX_EPOCHS;
        }
    }
    if (diverged) {
        /* The model is no longer usable; its last accuracy is unknown. Best metrics stay those of
           the earlier epochs (NaN when there were none). */
        r->stop = PF_STOP_DIVERGED;
        r->final_val_acc = NAN;
    }

    t->epoch = e;
    r->epochs = e;
    r->epoch_seconds[h] = pf_now() - t0;
    r->train_seconds += r->epoch_seconds[h];
    if (r->stop != PF_STOP_NONE) finish(t, hooks);
    if (hooks != NULL && hooks->on_epoch != NULL) hooks->on_epoch(hooks->ctx, t);
    return t->finished ? 1 : 0;
}

int trainer_run(pf_trainer *t, const pf_train_hooks *hooks)
{
    for (;;) {
        int rc = trainer_epoch(t, hooks);
        if (rc != 0) return rc;
    }
}

/* ---------------------------------------------------------------------------------------------
 * Checkpoint: header (magic, version, byte order, payload bytes), payload, crc32 of all before. */

#define CKPT_MAGIC "PFTRAIN\n"
#define CKPT_VERSION 1u
#define CKPT_BOM 0x01020304u
#define CKPT_HEADER 24   /* magic 8 + version 4 + bom 4 + payload bytes 8 */
#define CKPT_MAX_BYTES ((uint64_t)1 << 34)

typedef struct {
    uint8_t *p;
    size_t n, cap;
} ckpt_buf;

static void put(ckpt_buf *b, const void *src, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n) cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        PF_CHECK_ALLOC(p);
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void put_i32(ckpt_buf *b, int32_t v) { put(b, &v, sizeof v); }
static void put_i64(ckpt_buf *b, int64_t v) { put(b, &v, sizeof v); }
static void put_u64(ckpt_buf *b, uint64_t v) { put(b, &v, sizeof v); }
static void put_f64(ckpt_buf *b, double v) { put(b, &v, sizeof v); }

static uint32_t crc_of(const uint8_t *p, size_t n)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = crc32(crc, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return (uint32_t)crc;
}

/* The configuration fields, one by one (a struct copy would carry padding bytes). */
static void put_config(ckpt_buf *b, const pf_config *c)
{
    put_i32(b, (int32_t)c->dataset);
    put_i32(b, (int32_t)c->mode);
    put_i32(b, (int32_t)c->model);
    put_i32(b, (int32_t)c->selection);
    put_i32(b, c->subset);
    put_f64(b, c->percent);
    put_i32(b, c->batch_size);
    put_i32(b, (int32_t)c->poison_validation);
    put_i32(b, c->repeat);
    put_u64(b, c->seed);
    put_i32(b, c->max_epochs);
    put_i32(b, c->patience);
    put_i32(b, c->lr_patience);
    put_f64(b, c->lr_factor);
    put_f64(b, c->lr);
    put_i32(b, c->val_items);
}

static void put_sizes(ckpt_buf *b, const pf_trainer *t)
{
    put_u64(b, (uint64_t)t->np);
    put_i32(b, t->k);
    put_i32(b, t->n_train);
    put_i32(b, t->n_valall);
    put_i32(b, t->n_watch);
}

int trainer_save(const pf_trainer *t, const char *path, pf_error *err)
{
    ckpt_buf b = {0};
    int rc = -1, fd = -1;
    char tmp[PF_PATH_MAX + 16];
    tmp[0] = '\0';
    const pf_result *r = &t->res;
    const size_t np = t->np;
    const size_t me = (size_t)t->cfg.max_epochs;

    put(&b, CKPT_MAGIC, 8);
    uint32_t ver = CKPT_VERSION, bom = CKPT_BOM;
    put(&b, &ver, 4);
    put(&b, &bom, 4);
    put_u64(&b, 0); /* payload bytes, filled in below */

    put_config(&b, &t->cfg);
    put_sizes(&b, t);
    put_i32(&b, t->epoch);
    put_i32(&b, t->finished);
    put_i32(&b, (int32_t)r->stop);
    put_i64(&b, t->adam.t);
    put_i64(&b, t->plat.best_correct);
    put_i32(&b, t->plat.es_wait);
    put_i64(&b, t->plat.lr_best);
    put_i32(&b, t->plat.lr_wait);
    put_f64(&b, t->plat.lr);
    put_i32(&b, r->best_epoch);
    put_f64(&b, r->best_val_acc);
    put_f64(&b, r->final_val_acc);
    put_f64(&b, r->heldout_acc);
    put_f64(&b, r->poisoned_val_acc);
    put_f64(&b, r->learned_poison);
    put_f64(&b, r->learned_true);
    put_f64(&b, r->train_seconds);
    put(&b, model_params(t->model), np * sizeof(float));
    put(&b, t->adam.m, np * sizeof(float));
    put(&b, t->adam.v, np * sizeof(float));
    put(&b, t->best_params, np * sizeof(float));
    const double *hist[6] = {r->train_loss, r->train_acc, r->val_loss, r->val_acc, r->lr,
                             r->epoch_seconds};
    for (int h = 0; h < 6; h++) put(&b, hist[h], me * sizeof(double));
    put(&b, t->best_pred, (size_t)t->n_watch * sizeof(int32_t));
    put(&b, r->confusion, (size_t)t->k * (size_t)t->k * sizeof(int32_t));

    uint64_t payload = (uint64_t)(b.n - CKPT_HEADER);
    memcpy(b.p + 16, &payload, 8);
    uint32_t crc = crc_of(b.p, b.n);
    put(&b, &crc, 4);

    /* Atomic replacement: a temporary file in the same directory, synced, then renamed. */
    if (pf_snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) != 0) {
        tmp[0] = '\0';
        pf_error_set(err, PF_ERR_IO, "%s: checkpoint path too long", path);
        goto cleanup;
    }
    fd = mkstemp(tmp);
    if (fd < 0) {
        tmp[0] = '\0';
        pf_error_set(err, PF_ERR_IO, "%s: cannot create a checkpoint here: %s", path, strerror(errno));
        goto cleanup;
    }
    for (size_t off = 0; off < b.n;) {
        ssize_t w = write(fd, b.p + off, b.n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            pf_error_set(err, PF_ERR_IO, "%s: cannot write checkpoint: %s", tmp, strerror(errno));
            goto cleanup;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        pf_error_set(err, PF_ERR_IO, "%s: cannot sync checkpoint: %s", tmp, strerror(errno));
        goto cleanup;
    }
    int cr = close(fd);
    fd = -1;
    if (cr != 0) {
        pf_error_set(err, PF_ERR_IO, "%s: cannot close checkpoint: %s", tmp, strerror(errno));
        goto cleanup;
    }
    if (rename(tmp, path) != 0) {
        pf_error_set(err, PF_ERR_IO, "%s: cannot replace checkpoint: %s", path, strerror(errno));
        goto cleanup;
    }
    tmp[0] = '\0';
    /* Make the rename itself durable: sync the directory (best effort). */
    {
        char dir[PF_PATH_MAX];
        const char *slash = strrchr(path, '/');
        if (slash == NULL)
            strcpy(dir, ".");
        else if (slash == path)
            strcpy(dir, "/");
        else {
            size_t len = (size_t)(slash - path);
            if (len >= sizeof dir) len = sizeof dir - 1;
            memcpy(dir, path, len);
            dir[len] = '\0';
        }
        int dfd = open(dir, O_RDONLY);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
    }
    rc = 0;
cleanup:
    if (fd >= 0) close(fd);
    if (tmp[0] != '\0') unlink(tmp);
    free(b.p);
    return rc;
}

typedef struct {
    const uint8_t *p;
    size_t n, off;
} ckpt_in;

/* Bounds were checked against the exact expected size before any get. */
static void get(ckpt_in *in, void *dst, size_t n)
{
    memcpy(dst, in->p + in->off, n);
    in->off += n;
}

static int32_t get_i32(ckpt_in *in) { int32_t v; get(in, &v, sizeof v); return v; }
static int64_t get_i64(ckpt_in *in) { int64_t v; get(in, &v, sizeof v); return v; }
static double get_f64(ckpt_in *in) { double v; get(in, &v, sizeof v); return v; }

/* Size of the file trainer_save writes for t. */
static size_t ckpt_expected_bytes(const pf_trainer *t)
{
    ckpt_buf b = {0};
    put_config(&b, &t->cfg);
    put_sizes(&b, t);
    size_t head = b.n;
    free(b.p);
    size_t scalars = 3 * 4 + 8 + 8 + 4 + 8 + 4 + 8 + 4 + 7 * 8;
    size_t arrays = 4 * t->np * sizeof(float) + 6 * (size_t)t->cfg.max_epochs * sizeof(double) +
                    (size_t)t->n_watch * sizeof(int32_t) + (size_t)t->k * (size_t)t->k * sizeof(int32_t);
    return CKPT_HEADER + head + scalars + arrays + 4;
}

/* Names the first configuration field that differs, for the error message. */
static const char *config_diff(const pf_config *a, const pf_config *b)
{
    if (a->dataset != b->dataset) return "dataset";
    if (a->mode != b->mode) return "mode";
    if (a->model != b->model) return "model";
    if (a->selection != b->selection) return "selection";
    if (a->subset != b->subset) return "subset";
    if (memcmp(&a->percent, &b->percent, sizeof a->percent) != 0) return "percent";
    if (a->batch_size != b->batch_size) return "batch size";
    if (a->poison_validation != b->poison_validation) return "poison_validation";
    if (a->repeat != b->repeat) return "repeat";
    if (a->seed != b->seed) return "seed";
    if (a->max_epochs != b->max_epochs) return "max epochs";
    if (a->patience != b->patience) return "patience";
    if (a->lr_patience != b->lr_patience) return "lr patience";
    if (memcmp(&a->lr_factor, &b->lr_factor, sizeof a->lr_factor) != 0) return "lr factor";
    if (memcmp(&a->lr, &b->lr, sizeof a->lr) != 0) return "learning rate";
    if (a->val_items != b->val_items) return "validation items";
    return NULL;
}

int trainer_restore(pf_trainer *t, const char *path, pf_error *err)
{
    int rc = -1;
    uint8_t *data = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return pf_error_set(err, errno == ENOENT ? PF_ERR_MISSING : PF_ERR_IO,
                            "%s: cannot open checkpoint: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        pf_error_set(err, PF_ERR_IO, "%s: not a regular file", path);
        goto cleanup;
    }
    size_t size = (size_t)st.st_size;
    if (size < CKPT_HEADER + 4 || (uint64_t)size > CKPT_MAX_BYTES) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: not a poisonfarm checkpoint (%zu bytes)", path, size);
        goto cleanup;
    }
    data = pf_malloc(size);
    if (fread(data, 1, size, f) != size) {
        pf_error_set(err, PF_ERR_IO, "%s: cannot read checkpoint", path);
        goto cleanup;
    }
    if (memcmp(data, CKPT_MAGIC, 8) != 0) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: not a poisonfarm checkpoint (bad magic)", path);
        goto cleanup;
    }
    uint32_t ver, bom, crc_file;
    uint64_t payload;
    memcpy(&ver, data + 8, 4);
    memcpy(&bom, data + 12, 4);
    memcpy(&payload, data + 16, 8);
    if (bom != CKPT_BOM) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: checkpoint written on a machine of other byte order", path);
        goto cleanup;
    }
    if (ver != CKPT_VERSION) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: checkpoint version %u, this program reads version %u",
                     path, ver, CKPT_VERSION);
        goto cleanup;
    }
    if (payload != (uint64_t)(size - CKPT_HEADER - 4)) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: checkpoint truncated or padded (%zu bytes, header says %llu)",
                     path, size, (unsigned long long)(payload + CKPT_HEADER + 4));
        goto cleanup;
    }
    memcpy(&crc_file, data + size - 4, 4);
    if (crc_of(data, size - 4) != crc_file) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: checkpoint is corrupt (crc32 mismatch)", path);
        goto cleanup;
    }

    ckpt_in in = {data, size, CKPT_HEADER};
    /* The configuration and sizes come first; they must match before the size is known. */
    ckpt_buf mine = {0};
    put_config(&mine, &t->cfg);
    put_sizes(&mine, t);
    if (size < CKPT_HEADER + mine.n + 4 || memcmp(data + CKPT_HEADER, mine.p, mine.n) != 0) {
        pf_config c;
        memset(&c, 0, sizeof c);
        const char *what = "model size or data";
        ckpt_buf cb = {0};
        put_config(&cb, &t->cfg);
        size_t cfg_bytes = cb.n;
        free(cb.p);
        if (size >= CKPT_HEADER + cfg_bytes + 4) {
            c.dataset = (pf_dataset_id)get_i32(&in);
            c.mode = (pf_mode)get_i32(&in);
            c.model = (pf_model_kind)get_i32(&in);
            c.selection = (pf_selection)get_i32(&in);
            c.subset = get_i32(&in);
            c.percent = get_f64(&in);
            c.batch_size = get_i32(&in);
            c.poison_validation = get_i32(&in);
            c.repeat = get_i32(&in);
            get(&in, &c.seed, 8);
            c.max_epochs = get_i32(&in);
            c.patience = get_i32(&in);
            c.lr_patience = get_i32(&in);
            c.lr_factor = get_f64(&in);
            c.lr = get_f64(&in);
            c.val_items = get_i32(&in);
            const char *d = config_diff(&c, &t->cfg);
            if (d != NULL) what = d;
        }
        free(mine.p);
        pf_error_set(err, PF_ERR_CORRUPT, "%s: checkpoint belongs to another configuration (%s differs)",
                     path, what);
        goto cleanup;
    }
    in.off = CKPT_HEADER + mine.n;
    free(mine.p);
    if (size != ckpt_expected_bytes(t)) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: checkpoint has %zu bytes, expected %zu", path, size,
                     ckpt_expected_bytes(t));
        goto cleanup;
    }

    int32_t epoch = get_i32(&in);
    int32_t finished = get_i32(&in);
    int32_t stop = get_i32(&in);
    if (epoch < 0 || epoch > t->cfg.max_epochs || (finished != 0 && finished != 1) || stop < 0 ||
        stop >= PF_STOP_COUNT) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: checkpoint has an impossible state (epoch %d)", path,
                     (int)epoch);
        goto cleanup;
    }
    pf_result *r = &t->res;
    t->epoch = epoch;
    t->finished = finished;
    r->epochs = epoch;
    r->stop = (pf_stop)stop;
    t->adam.t = get_i64(&in);
    t->plat.best_correct = get_i64(&in);
    t->plat.es_wait = get_i32(&in);
    t->plat.lr_best = get_i64(&in);
    t->plat.lr_wait = get_i32(&in);
    t->plat.lr = get_f64(&in);
    r->best_epoch = get_i32(&in);
    r->best_val_acc = get_f64(&in);
    r->final_val_acc = get_f64(&in);
    r->heldout_acc = get_f64(&in);
    r->poisoned_val_acc = get_f64(&in);
    r->learned_poison = get_f64(&in);
    r->learned_true = get_f64(&in);
    r->train_seconds = get_f64(&in);
    const size_t np = t->np;
    get(&in, model_params(t->model), np * sizeof(float));
    get(&in, t->adam.m, np * sizeof(float));
    get(&in, t->adam.v, np * sizeof(float));
    get(&in, t->best_params, np * sizeof(float));
    double *hist[6] = {r->train_loss, r->train_acc, r->val_loss, r->val_acc, r->lr, r->epoch_seconds};
    for (int h = 0; h < 6; h++) get(&in, hist[h], (size_t)t->cfg.max_epochs * sizeof(double));
    get(&in, t->best_pred, (size_t)t->n_watch * sizeof(int32_t));
    get(&in, r->confusion, (size_t)t->k * (size_t)t->k * sizeof(int32_t));
    rc = 0;
cleanup:
    free(data);
    fclose(f);
    return rc;
}
