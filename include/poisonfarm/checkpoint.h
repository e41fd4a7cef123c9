/* checkpoint.h -- a trainer's whole state in one file: written atomically, read back exactly.
 *
 * Layout (little-endian machine order, checked): magic "PFTRAIN\n", format version, byte-order
 * mark, payload bytes; the configuration record (the number of configuration fields, then every
 * field's 64 bits in the table order of config.h); the sizes (parameters, classes, items); the conv
 * kernels' path (cpu.h: a state resumes on a path that rounds the same way -- avx2 and avx512
 * give the same bits -- and is refused across the scalar path); the trainer's state (epoch,
 * callbacks, Adam, metrics, weights, moments, best weights, history, best predictions, confusion,
 * detection measures and suspects); crc32 of everything before it. One function lists the state
 * and is used for writing, reading and sizing, so the three cannot disagree. */
#ifndef POISONFARM_CHECKPOINT_H
#define POISONFARM_CHECKPOINT_H

#include "poisonfarm/common.h"
#include "poisonfarm/train.h"

/* Writes t's whole state to path atomically (temporary file in the same directory, fsync, rename,
 * fsync of the directory). 0, or -1 with err (PF_ERR_IO); an existing checkpoint is then intact. */
int checkpoint_save(const pf_trainer *t, const char *path, pf_error *err);

/* Restores a state written by checkpoint_save for the same configuration and data sizes (checked,
 * and the file's integrity: magic, version, size, crc32): continuing gives bit-identical results to
 * a run that was never interrupted. 0, or -1 with err naming the file and what is wrong (another
 * configuration: which field differs). After a failure that got past those checks (an impossible
 * state), t must be discarded. */
int checkpoint_restore(pf_trainer *t, const char *path, pf_error *err);

/* When a run checkpoints (the farm's rule): at most every `interval` seconds, counted from the
 * last checkpoint (or from the configuration's start in this run); always when a stop arrives;
 * never twice for one epoch. interval 0: after every epoch (the job setting: grid.h). Times are
 * pf_now() seconds. */
typedef struct {
    double interval;          /* seconds, >= 0 */
    double last;              /* pf_now() of the last checkpoint, or of the start */
    int32_t saved_epoch;      /* the epoch on disk (0: none, or the one resumed from) */
} pf_checkpoint_clock;

/* Starts the clock at `now`, with `epoch` already on disk (0: none). */
void checkpoint_clock_start(pf_checkpoint_clock *c, double interval, double now, int32_t epoch);

/* 1 when the state after completed epoch `epoch` is to be written now: it is not on disk yet
 * (epoch > saved_epoch) and either a stop arrived (stopping) or the interval has passed. */
int checkpoint_due(const pf_checkpoint_clock *c, double now, int32_t epoch, int stopping);

/* Records that epoch was written at now. */
void checkpoint_clock_saved(pf_checkpoint_clock *c, double now, int32_t epoch);

#endif
