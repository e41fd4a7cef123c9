/* train.h -- one configuration's training run: poisoning, the seed's recipe (Adam, early stopping,
 * ReduceLROnPlateau, best-epoch selection), metrics, and a checkpoint of the whole state.
 *
 * Randomness (config.h): two streams. The paired stream, derive(derive(derive(job seed, dataset),
 * subset), repeat), gives the wrong training labels, derive(paired, PF_RNG_TAG_POISON), and the
 * validation poisoning, derive(paired, PF_RNG_TAG_VALPOISON): poisoned sets are nested across
 * percents. The init stream gives the initial weights, derive(init, PF_RNG_TAG_INIT), and the
 * shuffle of epoch e, derive(derive(init, PF_RNG_TAG_SHUFFLE), e). By default the init stream
 * depends on the configuration's identity (every PF_FIELD_STREAM field: dataset, mode, subset,
 * model, batch size, selection, validation poisoning, repeat, percent, seed), so every point of a
 * curve is an independent run, as in the seed; the settings that only bound or tune training
 * (max_epochs, patience, lr_patience, lr_factor, lr, validation_items) stay out, so a capped run
 * and the full recipe start alike. With paired_init the init stream is the paired stream: the
 * points of a curve share initial weights and shuffles (common random numbers). */
#ifndef POISONFARM_TRAIN_H
#define POISONFARM_TRAIN_H

#include "poisonfarm/common.h"
#include "poisonfarm/config.h"
#include "poisonfarm/data.h"
#include "poisonfarm/detect.h"
#include "poisonfarm/nn.h"
#include "poisonfarm/poison.h"

#include <signal.h>
#include <stdint.h>


/* Why training ended. PF_STOP_NONE while it runs. */
typedef enum {
    PF_STOP_NONE = 0,
    PF_STOP_EARLY,       /* early stopping (patience) */
    PF_STOP_MAX_EPOCHS,  /* the epoch cap */
    PF_STOP_DIVERGED,    /* NaN or Inf loss */
    PF_STOP_COUNT
} pf_stop;

const char *stop_name(pf_stop s);             /* "none", "early", "max_epochs", "diverged" */


/* Per-configuration results. Accuracies are fractions in [0, 1]; NaN / -1 where not applicable. */
typedef struct {
    pf_stop stop;
    int32_t epochs;             /* epochs completed */
    int32_t best_epoch;         /* from 1; -1 before the first epoch */
    double best_val_acc;        /* clean accuracy on the selection's validation items at best_epoch */
    double final_val_acc;       /* the same at the last completed epoch */
    double heldout_acc;         /* split: second half's clean accuracy at best_epoch; else NaN */
    double poisoned_val_acc;    /* poison_validation: the watched (poisoned-label) accuracy at
                                   best_epoch; else NaN */
    int32_t n_train;            /* training items actually used */
    int32_t n_val;              /* validation items the selection watched */
    int64_t n_poisoned;         /* training labels changed (poisoned items: given label != true) */
    int64_t n_val_poisoned;     /* validation labels changed (poison_validation) */
    double noise_rate;          /* realised: n_poisoned / n_train */
    double learned_poison;      /* on poisoned training items, at best epoch: fraction predicted as
                                   their poisoned label (NaN when none are poisoned) */
    double learned_true;        /* ... and as their true label */
    /* Detection at the best epoch (detect.h), from one forward pass over every training item:
     * score = log-probability of the item's given label, flag = the prediction differs from the
     * given label. Measures NaN when no item is poisoned (the counts and the suspects are there
     * for every finished run with a best epoch). */
    pf_detect detect;
    pf_suspect suspects[PF_SUSPECTS]; /* the most suspicious training items, most first; item -1
                                         past the end */
    int32_t *transitions;       /* (k, k): rows true class, columns the label trained with: the
                                   realised noise of the training labels */
    double train_seconds;       /* wall time of the completed epochs, accumulated across resumes */
    int k;                      /* classes */
    /* History, max_epochs entries each, NaN past the last completed epoch. Owned by the trainer. */
    double *train_loss, *train_acc, *val_loss, *val_acc, *lr, *epoch_seconds;
    int32_t *confusion;         /* (k, k): rows true class, columns predicted, at best_epoch */
} pf_result;

typedef struct pf_trainer pf_trainer;

/* Optional hooks into the epoch loop. */
typedef struct {
    /* Called after every training batch and every validation batch (the farm's rank 0 answers
       workers here; validation of a small subset takes longer than its training). May be NULL. */
    void (*on_batch)(void *ctx);
    /* Called after every completed epoch with the trainer, e.g. to print or checkpoint. May be NULL. */
    void (*on_epoch)(void *ctx, const pf_trainer *t);
    void *ctx;
    /* When not NULL and non-zero, the current epoch is abandoned at the next batch, training or
       validation (its work is discarded; the state stays that of the last completed epoch). */
    volatile sig_atomic_t *stop_flag;
} pf_train_hooks;

/* Prepares a run: checks the subset against ds (user error -> NULL with err), reads the label file
 * of mode file and checks it is the one the configuration recorded (label_file_hash: the same
 * content) with a label for each training item used and none out of range (-> NULL with err
 * naming the file and line), poisons copies of the labels, builds and initialises the model. ds
 * must outlive the trainer. threads >= 1. */
pf_trainer *trainer_create(const pf_config *cfg, const pf_dataset *ds, int threads, pf_error *err);
void trainer_free(pf_trainer *t);

/* Runs one epoch (train, evaluate, callbacks). Returns 1 when training has ended (result()->stop is
 * set), 0 when more epochs follow, -1 when interrupted by the stop flag (the unfinished epoch is
 * discarded and the trainer is exactly as after the previous epoch). */
int trainer_epoch(pf_trainer *t, const pf_train_hooks *hooks);

/* Runs epochs until the end or an interruption; returns as trainer_epoch's last call (1 or -1). */
int trainer_run(pf_trainer *t, const pf_train_hooks *hooks);

/* 1 when training has ended. */
int trainer_finished(const pf_trainer *t);

/* The results so far. Once finished, includes the learned-poison fractions, the detection measures
 * and the confusion matrix of the best epoch. The pointer stays valid until trainer_free. */
const pf_result *trainer_result(const pf_trainer *t);
const pf_config *trainer_config(const pf_trainer *t);
size_t trainer_param_count(const pf_trainer *t);

/* The model's kernel path (cpu.h): the CPU's default until trainer_set_isa pins another; call it
 * before the first epoch. Returns -1 with err (a user error) when this CPU or OS cannot run isa.
 * trainer_isa never returns PF_ISA_AUTO. */
int trainer_set_isa(pf_trainer *t, pf_isa isa, pf_error *err);
pf_isa trainer_isa(const pf_trainer *t);

/* The current parameters and those of the best epoch (trainer_param_count floats each, owned by
 * the trainer, valid until the next trainer_epoch / trainer_restore / trainer_free). */
const float *trainer_params(const pf_trainer *t);
const float *trainer_best_params(const pf_trainer *t);
/* The n_train labels trained on (the poisoned copy), owned by the trainer. */
const uint8_t *trainer_train_labels(const pf_trainer *t);

/* Checkpoints of the whole state: checkpoint.h. */

/* Keras' callbacks on validation accuracy, exposed for tests: feeds one epoch's monitored correct
 * count (out of n_val items) and returns what happened. EarlyStopping (min_delta 0): an epoch
 * improves when its count is strictly greater than the best. ReduceLROnPlateau (min_delta 1e-4,
 * cooldown 0, min_lr 0): it improves when (double)acc > (double)best + 1e-4, where acc and best
 * are float32 accuracies (correct / n_val divided in float32), as Keras computes them; so with
 * 10000 items one more correct image sometimes counts (980 -> 981) and sometimes does not. */
typedef struct {
    int64_t best_correct;   /* early stopping: best so far */
    int32_t es_wait;        /* epochs without improvement */
    int64_t lr_best;        /* ReduceLROnPlateau's best correct count, -1 before the first epoch */
    int32_t lr_wait;
    double lr;
    int32_t patience, lr_patience;
    double lr_factor;
    int32_t n_val;          /* items the counts are out of */
} pf_plateau;

/* The float32 accuracy Keras reports for correct of n items, widened to double. */
double plateau_keras_accuracy(int64_t correct, int32_t n);

void plateau_init(pf_plateau *p, double lr, int32_t patience, int32_t lr_patience, double lr_factor,
                  int32_t n_val);
/* Returns a bit set: PF_PLATEAU_BEST (new best epoch), PF_PLATEAU_LR (lr reduced after this
 * epoch), PF_PLATEAU_STOP (early stopping triggers). */
enum { PF_PLATEAU_BEST = 1, PF_PLATEAU_LR = 2, PF_PLATEAU_STOP = 4 };
int plateau_update(pf_plateau *p, int64_t correct);

#endif
