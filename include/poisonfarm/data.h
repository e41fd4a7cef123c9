/* data.h -- the four image datasets: locating, validating and loading the official files.
 *
 * Images stay uint8 in memory, one image = C*H*W bytes in (C, H, W) order (channel planes, rows
 * inside), which is CIFAR's own record order and MNIST's with C = 1. Conversion to float happens
 * per batch in the trainer. Parsers never trust a file: every failure is a one-line pf_error that
 * names the file and what is wrong, with a hint ("run make data"). */
#ifndef POISONFARM_DATA_H
#define POISONFARM_DATA_H

#include "poisonfarm/common.h"

#include <stdint.h>

typedef enum {
    PF_DS_MNIST = 0,
    PF_DS_FASHION_MNIST,
    PF_DS_CIFAR10,
    PF_DS_CIFAR100,
    PF_DS_COUNT
} pf_dataset_id;

#define PF_MAX_CLASSES 100
#define PF_MAX_FILES 8

/* One split (train or test). */
typedef struct {
    int32_t n;          /* items */
    uint8_t *images;    /* (n, C, H, W) bytes */
    uint8_t *labels;    /* (n) labels in [0, K): CIFAR-100's fine labels */
    uint8_t *coarse;    /* (n) CIFAR-100 coarse labels in [0, 20), NULL for the others */
} pf_split;

/* One data file that was read, for reports and the results file's provenance. */
typedef struct {
    char path[PF_PATH_MAX];
    char md5[33];       /* hex md5 of the file's bytes as stored (compressed if .gz), "" if not computed */
    int official;       /* 1: md5 equals the official file's, 0: differs (e.g. a partial file), -1: unknown */
} pf_data_file;

typedef struct {
    pf_dataset_id id;
    int c, h, w, k;             /* image shape and number of classes */
    pf_split train, test;
    int32_t train_official_n;   /* 60000 (MNIST, Fashion-MNIST) or 50000 (CIFAR) */
    int32_t test_official_n;    /* 10000 */
    int partial;                /* 1 when train.n < train_official_n (fewer files than official) */
    char partial_hint[256];     /* for a partial set: which file(s) to add, "" otherwise */
    char dir[PF_PATH_MAX];      /* the dataset's own directory (DATA_DIR/<name>) */
    int nclass_names;           /* = k once loaded: from the names file (CIFAR) or built in (MNIST's digits,
                                   Fashion-MNIST's documented classes); 0 before */
    char class_names[PF_MAX_CLASSES][32];
    int nfiles;
    pf_data_file files[PF_MAX_FILES];
    int owns_memory;            /* 1: dataset_free frees images/labels; 0: they live elsewhere (shared window) */
    int ncoarse_names;          /* CIFAR-100: 20, 0 for the others */
    char coarse_names[20][32];
} pf_dataset;

/* "mnist", "fashion_mnist", "cifar10", "cifar100". */
const char *dataset_name(pf_dataset_id id);

/* Parses a dataset name; returns 0 and sets *id, or -1 for an unknown name. */
int dataset_from_name(const char *name, pf_dataset_id *id);

/* A dataset's fixed facts: image shape, classes and the official split sizes. */
typedef struct {
    int c, h, w, k;
    int32_t train_official_n;   /* 60000 (MNIST, Fashion-MNIST) or 50000 (CIFAR) */
    int32_t test_official_n;    /* 10000 */
} pf_dataset_shape;

/* The fixed facts of dataset id (a valid id). Cheap: no I/O, no large struct. */
void dataset_shape(pf_dataset_id id, pf_dataset_shape *shape);

/* Shape, classes and official sizes without touching the disk (c, h, w, k, train_official_n, ...);
 * the rest of *ds is zeroed. */
void dataset_describe(pf_dataset_id id, pf_dataset *ds);

/* Chooses the data directory: cli (--data-dir) > job (job file's data_dir) > $POISONFARM_DATA >
 * ./data (when it exists) > the installed share directory (PF_SHARE_DIR "/data"). NULL or "" means
 * not given. Writes the chosen path to out. Returns 0, or -1 when the chosen path does not fit. */
int dataset_resolve_dir(const char *cli, const char *job, char out[PF_PATH_MAX]);

enum {
    PF_LOAD_CHECKSUMS = 1 << 0,  /* compute md5 of every file and compare with the official ones */
    PF_LOAD_TEST_ONLY = 1 << 1   /* skip the training files (train.n = 0) */
};

/* Loads and validates dataset id from data_dir/<name>/ (data_dir NULL or "": dataset_resolve_dir's
 * choice). Returns 0 on success. On failure returns -1 with err->kind PF_ERR_MISSING (test file or
 * every training file absent, a gap in CIFAR-10's batches, a names file absent: the message names
 * what to install, e.g. "run make data") or PF_ERR_CORRUPT (a file that is there but wrong: the
 * message names the file and the problem); *ds then holds only dataset_describe's fields and dir,
 * and owns nothing. *ds owns its memory until dataset_free. The test set must be the official 10000
 * items; a smaller training set loads as partial (partial, partial_hint). With PF_LOAD_CHECKSUMS the
 * files' md5s are compared with the official ones (files[].official): for a .gz IDX file either the
 * .gz bytes or the uncompressed contents matching the official ones counts as official. */
int dataset_load(pf_dataset *ds, pf_dataset_id id, const char *data_dir, unsigned flags, pf_error *err);

/* Frees what dataset_load allocated (nothing if owns_memory is 0) and zeroes *ds. NULL-safe. */
void dataset_free(pf_dataset *ds);

/* Bytes of one image: c * h * w. */
static inline int64_t dataset_image_bytes(const pf_dataset *ds) { return (int64_t)ds->c * ds->h * ds->w; }

/* Per-class counts of split sp of ds: counts[0 .. ds->k) (caller's array). */
void dataset_count_classes(const pf_dataset *ds, const pf_split *sp, int32_t *counts);

/* Checks that a training subset of `subset` items (0 = all) can be taken from ds. Returns 0, or -1
 * with an error that names the file to add when the loaded set is too small. Sets *n_used. */
int dataset_check_subset(const pf_dataset *ds, int32_t subset, int32_t *n_used, pf_error *err);

#endif
