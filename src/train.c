/* train.c -- one configuration's training run: poisoned labels, the seed's recipe (Adam, Keras'
 * EarlyStopping and ReduceLROnPlateau on validation accuracy, best-epoch selection), per-epoch
 * history, end-of-run metrics, and a checkpoint of the whole state (save / restore). */
#include "poisonfarm/train.h"

#include "poisonfarm/labelfile.h"
#include "poisonfarm/rng.h"
#include "train_internal.h"

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
    p->n_val = n_val;
}

double plateau_keras_accuracy(int64_t correct, int32_t n)
{
    /* Keras' accuracy metric is a float32 total over a float32 count (both exact here). */
    return (double)((float)correct / (float)n);
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
    /* ReduceLROnPlateau(min_delta=1e-4, cooldown=0, min_lr=0): Keras' np.greater(current,
       best + min_delta) on float32 accuracies, the 1e-4 added in double; after lr_patience epochs
       without, lr *= factor and the wait starts again. */
    if (p->lr_best < 0 || plateau_keras_accuracy(correct, p->n_val) >
                              plateau_keras_accuracy(p->lr_best, p->n_val) + 1e-4) {
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

/* The configuration's own checks (config_validate), then those that need the loaded data. */
static int check_config(const pf_config *c, const pf_dataset *ds, pf_error *err)
{
    if (config_check(c, err) != 0) return -1;
    if (c->dataset != ds->id)
        return pf_error_set(err, PF_ERR_USAGE, "configuration is for dataset %s but %s was loaded",
                            dataset_name(c->dataset), dataset_name(ds->id));
    if (c->val_items > ds->test.n)
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

    /* Mode file: the labels come from the file the configuration recorded, read here again (on
     * whichever node trains it) and checked to be the same content. */
    pf_label_file lf = {0};
    if (cfg->mode == PF_MODE_FILE) {
        char have[17], want[17];
        if (label_file_read(cfg->label_file, ds->k, &lf, err) != 0) return NULL;
        if (lf.hash != cfg->label_file_hash) {
            pf_error_set(err, PF_ERR_CORRUPT,
                         "%s: the label file changed since the configuration was made (its SHA-256 "
                         "starts %s, the configuration recorded %s)",
                         cfg->label_file, label_file_hash_hex(lf.hash, have),
                         label_file_hash_hex(cfg->label_file_hash, want));
            label_file_free(&lf);
            return NULL;
        }
        if (label_file_check_count(&lf, cfg->label_file, n_train, err) != 0) {
            label_file_free(&lf);
            return NULL;
        }
    }

    pf_trainer *t = pf_calloc(1, sizeof *t);
    t->cfg = *cfg;
    t->ds = ds;
    t->paired = config_stream_paired(cfg);
    t->stream = config_stream_init(cfg);
    t->k = ds->k;
    t->n_train = n_train;
    t->n_valall = n_valall;
    t->n_watch = cfg->selection == PF_SEL_SPLIT ? n_valall / 2 : n_valall;
    t->n_report = n_valall - t->n_watch;

    t->labels = pf_malloc((size_t)n_train);
    pf_noise nz;
    poison_noise_init(&nz, cfg->mode, ds->id, t->k, rng_derive(t->paired, PF_RNG_TAG_POISON), lf.labels,
                      lf.n);
    int64_t n_poisoned = poison_apply(t->labels, ds->train.labels, n_train, cfg->percent, &nz);
    label_file_free(&lf);
    int64_t n_val_poisoned = 0;
    if (cfg->poison_validation) {
        t->val_poisoned = pf_malloc((size_t)n_valall);
        poison_noise_init(&nz, cfg->mode, ds->id, t->k, rng_derive(t->paired, PF_RNG_TAG_VALPOISON), NULL, 0);
        n_val_poisoned = poison_apply_scattered(t->val_poisoned, NULL, ds->test.labels, n_valall,
                                                cfg->percent, &nz);
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
    r->noise_rate = (double)n_poisoned / (double)n_train;
    detect_clear(&r->detect);
    detect_suspects_clear(r->suspects, PF_SUSPECTS);
    r->train_seconds = 0.0;
    r->k = t->k;
    double **hist[6] = {&r->train_loss, &r->train_acc, &r->val_loss, &r->val_acc, &r->lr,
                        &r->epoch_seconds};
    for (int h = 0; h < 6; h++) {
        *hist[h] = pf_malloc((size_t)cfg->max_epochs * sizeof(double));
        for (int32_t e = 0; e < cfg->max_epochs; e++) (*hist[h])[e] = NAN;
    }
    r->confusion = pf_calloc((size_t)t->k * (size_t)t->k, sizeof(int32_t));
    r->transitions = pf_calloc((size_t)t->k * (size_t)t->k, sizeof(int32_t));
    for (int32_t i = 0; i < n_train; i++) r->transitions[ds->train.labels[i] * t->k + t->labels[i]]++;
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
    free(t->res.transitions);
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

/* End of training, at the best epoch's parameters: one forward pass over every training item
 * gives each item's prediction and the log-probability of the label it was trained with; from them
 * how much of the poison the model learned (on the poisoned items: those whose label was changed)
 * and how well the poisoned items could have been found (detect.h). The current parameters are
 * kept. Calls on_batch between batches (a whole training set's worth of them), but never stops:
 * the epoch is complete. */
static void finish(pf_trainer *t, const pf_train_hooks *hooks)
{
    pf_result *r = &t->res;
    t->finished = 1;
    r->learned_poison = r->learned_true = NAN;
    detect_clear(&r->detect);
    detect_suspects_clear(r->suspects, PF_SUSPECTS);
    if (r->best_epoch < 0) return;
    const int32_t n = t->n_train, bs = t->cfg.batch_size;
    const uint8_t *truth = t->ds->train.labels;
    size_t np = t->np;
    float *params = model_params(t->model);
    memcpy(t->snap, params, np * sizeof(float));
    memcpy(params, t->best_params, np * sizeof(float));
    /* Once per run, not per batch. */
    int32_t *pred = pf_malloc((size_t)n * sizeof *pred), *order = pf_malloc((size_t)n * sizeof *order);
    double *logp = pf_malloc((size_t)n * sizeof *logp);
    uint8_t *poisoned = pf_malloc((size_t)n), *flagged = pf_malloc((size_t)n);
    for (int32_t b0 = 0; b0 < n; b0 += bs) {
        pf_batch b = {t->ds->train.images, t->labels, NULL, b0, n - b0 < bs ? n - b0 : bs};
        model_eval_batch_logp(t->model, &b, pred + b0, logp + b0);
        call_on_batch(hooks);
    }
    memcpy(params, t->snap, np * sizeof(float));
    int64_t as_poison = 0, as_true = 0;
    for (int32_t i = 0; i < n; i++) {
        poisoned[i] = t->labels[i] != truth[i];
        flagged[i] = pred[i] != (int32_t)t->labels[i];
        if (poisoned[i]) {
            as_poison += pred[i] == (int32_t)t->labels[i];
            as_true += pred[i] == (int32_t)truth[i];
        }
    }
    if (r->n_poisoned > 0) {
        r->learned_poison = (double)as_poison / (double)r->n_poisoned;
        r->learned_true = (double)as_true / (double)r->n_poisoned;
    }
    detect_order(logp, n, order);
    detect_measure(logp, poisoned, flagged, n, order, &r->detect);
    if (r->n_poisoned == 0) {
        /* Nothing to find: the measures stay NaN; the counts and the list remain (on a clean set
         * they point at the original labels the model disagrees with most). */
        int64_t f = r->detect.flagged;
        detect_clear(&r->detect);
        r->detect.flagged = f;
    }
    for (int32_t j = 0; j < PF_SUSPECTS && j < n; j++) {
        int32_t i = order[j];
        r->suspects[j] = (pf_suspect){i, t->labels[i], truth[i], pred[i], logp[i]};
    }
    free(pred);
    free(order);
    free(logp);
    free(poisoned);
    free(flagged);
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
