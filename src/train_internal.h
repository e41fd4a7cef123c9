/* train_internal.h -- the trainer's state, shared by train.c (the epoch loop) and checkpoint.c
 * (its serialisation). Not part of the public interface. */
#ifndef POISONFARM_TRAIN_INTERNAL_H
#define POISONFARM_TRAIN_INTERNAL_H

#include "poisonfarm/train.h"

struct pf_trainer {
    pf_config cfg;
    const pf_dataset *ds;
    uint64_t paired;        /* config_stream_paired(cfg): the poisoned labels */
    uint64_t stream;        /* config_stream_init(cfg): initial weights and shuffles */
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

#endif
