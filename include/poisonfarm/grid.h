/* grid.h -- job files (libconfig) and their expansion into a grid of configurations.
 *
 * A job file holds one key per configuration field (config.h's table: a list for a grid axis, a
 * count for `repeats`, one value for a setting; the derived fields have no key and are computed
 * by config_derive, e.g. the label file's hash) plus the run's own settings (threads, data_dir,
 * output, description); see docs/job-files.md. Expansion order (and so the configuration ids, from
 * 0) is the table's: datasets, then modes, subsets, models, batch_sizes, selections,
 * poison_validation, repeats, and percents innermost, each axis in the order written. */
#ifndef POISONFARM_GRID_H
#define POISONFARM_GRID_H

#include "poisonfarm/common.h"
#include "poisonfarm/config.h"

#include <stdint.h>

#define PF_GRID_MAX_AXIS 256

/* The job setting checkpoint_interval (seconds): its default and largest value. */
#define PF_CHECKPOINT_INTERVAL_DEFAULT 60.0
#define PF_CHECKPOINT_INTERVAL_MAX 86400.0

/* The values a job gives one configuration field: an axis' list, a count's 0..N-1, or a setting's
 * one value (the default when the key is absent, with line 0). */
typedef struct {
    int n;
    pf_field_value *values;     /* (n), owned by the job */
    unsigned *lines;            /* (n) where each value was written, 0 = default */
    char **strings;             /* (n) a string field's texts (values[i].s points here), owned by
                                   the job; NULL for other kinds */
} pf_axis;

typedef struct {
    char path[PF_PATH_MAX];     /* as given */
    char name[256];             /* file name without directory and .cfg: "quick" */
    char *text;                 /* the file's full text (owned) */

    pf_axis axes[PF_NFIELDS];   /* per configuration field, in the table's order */

    /* The run's settings (not part of any configuration). */
    int32_t threads;            /* OpenMP threads per rank, 1 */
    double checkpoint_interval; /* seconds between a running configuration's checkpoints, at most
                                   (0: every epoch), PF_CHECKPOINT_INTERVAL_DEFAULT */
    int epochs_capped;          /* 1 when max_epochs < 100: reported in results and report */
    /* Paths, "" when not set. Relative paths are relative to the working directory. */
    char data_dir[PF_PATH_MAX];
    char output[PF_PATH_MAX];

    /* The expanded grid. */
    int64_t nconfigs;
    pf_config *configs;         /* owned */
} pf_job;

/* Reads and validates a job file, then expands it. Unknown keys, wrong types, empty axes, percents
 * outside [0, 100], unknown names: -1 with err->msg "FILE:LINE: what is wrong" (PF_ERR_USAGE), or
 * "FILE: cannot read: why". A label file (label_file) is read and checked for every configuration
 * (config_derive; its errors name the job file's line and the label file's). On success the job owns its memory until grid_free; on failure *job is
 * left zeroed (nothing to free; grid_free is harmless). Prints nothing. */
int grid_load(pf_job *job, const char *path, pf_error *err);

/* Same from a string (tests, and the job text stored in a results file); `path` names it in errors
 * and gives job->name. The text is copied. */
int grid_load_string(pf_job *job, const char *text, const char *path, pf_error *err);

/* Frees what grid_load allocated and zeroes *job. NULL-safe. */
void grid_free(pf_job *job);

/* Looks up a job file: path as given when it exists, else path + ".cfg", "jobs/" + path (+ ".cfg")
 * in the working directory, then PF_SHARE_DIR "/jobs/" + path (+ ".cfg") and PF_SHARE_DIR "/" +
 * path. An absolute path is only tried as given and with ".cfg". Only regular files count. Writes
 * the path found to out; returns 0, or -1 with err (PF_ERR_MISSING) naming the file. */
int grid_find(const char *path, char out[PF_PATH_MAX], pf_error *err);

/* A 64-bit fingerprint of everything that decides results: the SET of expanded configurations
 * (each with all its result-affecting settings) independent of their order, so comments,
 * formatting and axis order do not change it. A resumed run keeps the ids of the existing file and
 * matches configurations by content (config_hash). */
uint64_t grid_fingerprint(const pf_job *job);

/* Relative cost of one configuration, for most-expensive-first scheduling and wall-time estimates,
 * in "MNIST seed-model forward passes of one image": seconds = cost / (such passes per second,
 * from a calibration). cost = (3 * n_train + n_val) * per-image forward cost of the model on the
 * dataset's image shape relative to the seed model on 28x28x1 * expected epochs, where n_val =
 * val_items or the official test-set size, and expected epochs = min(max_epochs, 30) for a subset,
 * min(max_epochs, 40) for the whole training set (typical early-stopping points of the recipe).
 * n_train <= 0 means: the subset, or the official training-set size. */
double grid_config_cost(const pf_config *cfg, int32_t n_train);

/* The cost of one training batch of cfg in the same unit: 3 x batch_size forward passes of its model
 * on its dataset's images. A dry run sleeps in batches of this length. */
double grid_batch_cost(const pf_config *cfg);

/* The unit's rate on this machine: forward passes per second of the seed model on MNIST-shaped
 * images with `threads` threads, measured for about half a second. seconds = cost / rate. */
double grid_calibrate(int threads);

/* The makespan of n jobs of secs[i] seconds on `ranks` ranks when they are handed out most
 * expensive first to the rank that is free first (the farm's order): what `poisonfarm grid -n`
 * prints. secs is not changed. */
double grid_lpt_makespan(const double *secs, int64_t n, long ranks);

#endif
