/* store_internal.h -- what the store_*.c files share: the HDF5 types of the results file and the
 * names in it. Private to the store module (not installed, not for other modules). */
#ifndef POISONFARM_STORE_INTERNAL_H
#define POISONFARM_STORE_INTERNAL_H

#include "poisonfarm/h5_util.h"
#include "poisonfarm/mpi_util.h"
#include "poisonfarm/store.h"

#include <hdf5.h>

/* The results file's format version, a root attribute and the mark of a poisonfarm results file:
 * every change to its layout or enums bumps it (CHANGELOG.md).
 * 1: first release. 2: /configs follows the configuration field table (config.h) and gains
 * paired_init. 3: the mode enum gains first_wrong, and biased is the seed's published draw.
 * 4: the modes pairflip, asymmetric and file; /configs gains label_file and label_file_hash;
 * /results gains noise_rate and the detection measures; /transitions and /suspects.
 * 5: /ranks (every rank's host, for every run that starts); /runs rows carry the run's number and
 * its number of hosts instead of a 256-character host list; no hostnames root attribute.
 * 6: /results gains isa, the conv kernels' path of each result.
 * 7: dry runs: the status enum gains simulated; root attributes simulated (int32, 1 for a dry
 * run's file) and dry_run_scale (float64, 0 for real results). */
#define PF_STORE_FORMAT 7
#define PF_STORE_FORMAT_ATTR "poisonfarm_format"
#define PF_STORE_SIMULATED_ATTR "simulated"
#define PF_STORE_NHIST 6
/* The most rows a reader accepts (the job-file loader allows a million configurations). */
#define PF_STORE_MAX_CONFIGS 1000000

/* Every datatype of the file: *_mem describe our C structs (native, padded), *_file the packed
 * little-endian layout on disk. HDF5 converts between the two by member name, which is also how
 * one member (the status) can be written on its own. */
typedef struct {
    hid_t cfg_mem, cfg_file;          /* /configs row <-> pf_store_config */
    hid_t row_mem, row_file;          /* /results row <-> pf_store_row */
    hid_t row_metrics_mem;            /* every /results member but status */
    hid_t row_status_mem;             /* status alone, from a pf_status */
    hid_t run_mem, run_file;          /* /runs row <-> pf_store_run */
    hid_t susp_mem, susp_file;        /* /suspects element <-> pf_suspect */
    hid_t rank_mem, rank_file;        /* /ranks row <-> pf_store_rank */
    hid_t enums[32];                  /* the enum types, closed with the rest */
    int nenums;
} pf_store_types;

/* Builds / closes every type. Aborts the job on library failure. */
void store_types_create(pf_store_types *t);
void store_types_close(pf_store_types *t);

/* A /results row as it is before training: pending, NaN floats, -1 integers, empty strings. */
void store_row_pending(pf_store_row *row);

/* The rules of store_check.c over the tables of r (configs, rows, n, kmax, max_epochs,
 * fingerprint); checksums is the file's data_checksums attribute. 0, or -1 with one line naming
 * path, the table, the row and the field. */
int store_validate(const pf_results *r, const char *path, const char *checksums, pf_error *err);

/* A /runs row's fill value (NaN times, -1 counts, empty strings). */
void store_run_fill(pf_store_run *run);

/* A /ranks row's fill value (-1 numbers, empty host). */
void store_rank_fill(pf_store_rank *row);

#endif
