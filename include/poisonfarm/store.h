/* store.h -- the results file: one parallel HDF5 file (MPI-IO) shared by every rank.
 *
 * Layout (docs/results-format.md): /configs and /results compound tables (one row per
 * configuration, enums for names), /history/{train_loss,train_acc,val_loss,val_acc,lr,
 * epoch_seconds} [configs x max_epochs], /confusion and /transitions [configs x Kmax x Kmax]
 * int32, /suspects [configs x PF_SUSPECTS] compound, /ranks (the host of every rank of every run,
 * appended when a run starts), /runs log (a row per run that ended cleanly), root attributes
 * (provenance, job text, fingerprint, file id). Everything is created collectively at
 * start, contiguous, allocated early with explicit fill values, and flushed once; during the run a
 * rank writes only raw rows of its own configurations with independent I/O, the status last, so the
 * file stays readable and resumable after kill -9 (docs/design.md). HDF5's automatic error printing
 * is off: calls that cannot fail because of the user go through PF_H5_CHECK; the user-facing
 * checks (store_inspect) report one-line errors instead. */
#ifndef POISONFARM_STORE_H
#define POISONFARM_STORE_H

#include "poisonfarm/common.h"
#include "poisonfarm/cpu.h"
#include "poisonfarm/train.h"

#include <mpi.h>
#include <stdint.h>

typedef enum {
    PF_STATUS_PENDING = 0,
    PF_STATUS_RUNNING,
    PF_STATUS_DONE,
    PF_STATUS_FAILED,
    PF_STATUS_DIVERGED,
    PF_STATUS_SIMULATED,    /* a dry run's row: nothing was trained, no result (format 6) */
    PF_STATUS_COUNT
} pf_status;

/* "pending", "running", "done", "failed", "diverged", "simulated" */
const char *status_name(pf_status s);

#define PF_HOST_LEN 64
#define PF_REASON_LEN 128

/* One /configs row plus what the farm knows of it before training. */
typedef struct {
    int64_t id;
    pf_config cfg;          /* includes the training settings (max_epochs, patience, ...) */
    int32_t k;              /* classes */
    int32_t n_train;        /* training items actually used */
} pf_store_config;

/* One /results row. */
typedef struct {
    pf_status status;
    pf_stop stop;
    double best_val_acc, final_val_acc, heldout_acc, poisoned_val_acc;   /* fractions / NaN */
    int32_t best_epoch, epochs;                                          /* -1 when n/a */
    int64_t n_poisoned, n_val_poisoned;
    double noise_rate;                                                   /* n_poisoned / n_train */
    double learned_poison, learned_true;
    /* Detection at the best epoch (train.h, detect.h): NaN when nothing was poisoned or the run
     * has no best epoch; detect_flagged -1 when not measured. */
    double detect_auroc, detect_precision, detect_recall;
    double detect_top1, detect_top5, detect_top10;
    int64_t detect_flagged;
    double train_seconds;
    int32_t rank;
    char host[PF_HOST_LEN];
    char reason[PF_REASON_LEN];   /* why it failed, "" otherwise */
    pf_isa isa;                   /* the conv kernels' path that produced the result (cpu.h);
                                     PF_ISA_AUTO ("none" in the file) without a result */
} pf_store_row;

/* The /results row of a configuration that could not run: status failed, its rank and host, and
 * why (reason, truncated to fit); every other member as in a pending row (NaN, -1). */
void store_row_failed(pf_store_row *row, int32_t rank, const char *host, const char *reason);

/* The /results row of a finished configuration from its result: status done, or diverged when
 * training diverged; its metrics, rank and host; no reason. */
void store_row_finished(pf_store_row *row, const pf_result *res, int32_t rank, const char *host);

/* The /results row of a configuration a dry run simulated: status simulated, its rank and host,
 * train_seconds the simulated (slept) seconds, reason saying it is a dry run's; every metric as in
 * a pending row (NaN, -1). */
void store_row_simulated(pf_store_row *row, int32_t rank, const char *host, double seconds, double scale);

/* The accuracy a reader compares with the seed's: heldout_acc for selection split, else
 * best_val_acc (the clean accuracy at the chosen epoch, also with poisoned validation). Used by the
 * farm's progress lines and by the report. */
double store_reported_accuracy(const pf_config *cfg, const pf_store_row *row);

/* The largest SCALE of a dry run (run --dry-run SCALE). */
#define PF_DRY_RUN_SCALE_MAX 1000.0

/* Root attributes written at creation. */
typedef struct {
    const char *job_text;         /* the job file's full text */
    const char *job_path;
    uint64_t fingerprint;         /* grid_fingerprint */
    const char *data_checksums;   /* "cifar10/test_batch.bin md5 ...\n..." */
    int32_t ranks;
    int epochs_capped;
    const char *file_id;          /* random hex id keying the checkpoint directory */
    double dry_run_scale;         /* > 0: a dry run's file (root attributes simulated = 1 and
                                     dry_run_scale); 0: real results */
} pf_store_meta;

/* One /ranks row, appended for every rank when a run starts (store_begin_run). */
typedef struct {
    int32_t run;                  /* the run's number: 0 for the run that created the file, then 1, 2... */
    int32_t rank;
    char host[PF_HOST_LEN];       /* the rank's host name (gethostname) */
} pf_store_rank;

/* One /runs row, appended collectively at the clean end of each run. */
typedef struct {
    double start, end;            /* Unix time, seconds */
    int32_t run;                  /* its number in /ranks (a run killed before its end has /ranks
                                     rows and no /runs row) */
    int32_t ranks, threads;
    int32_t nhosts;               /* distinct hosts among its ranks (which ones: /ranks) */
    int64_t configs_done;         /* configurations finished in this run */
    double efficiency;            /* sum of configuration seconds / (cores x wall) */
    char ended[32];               /* "complete", "stopped", "failed" */
} pf_store_run;

typedef struct pf_store pf_store;

/* The format version this program reads and writes (CHANGELOG.md lists them). */
extern const int32_t PF_STORE_FORMAT_CURRENT;

/* What rank 0 learns of an existing file before anyone opens it in parallel (serial, read-only).
 * Returns 0 with info filled, -1 with a one-line error when the file cannot be read as a
 * poisonfarm results file (naming it), never touching it. */
typedef struct {
    int exists;                   /* 0: no file at path (nothing else set) */
    uint64_t fingerprint;
    int64_t nconfigs;
    char file_id[40];
    int64_t count[PF_STATUS_COUNT];
    int32_t format;               /* the file's format version when it is a poisonfarm results
                                     file, also when the call fails because it is not this
                                     program's format; 0 otherwise */
    int simulated;                /* 1: a dry run's file (simulated rows, no results) */
} pf_store_info;
int store_inspect(const char *path, pf_store_info *info, pf_error *err);

/* The file's size in bytes, known before it exists (every dataset is allocated when the file is
 * created): n configurations, the largest class count and max_epochs of the grid, and the bytes of
 * the string attributes (the job's text, the data checksums). An upper bound within a few per cent
 * plus 64 KiB of HDF5's own structures; /ranks and /runs grow later by a few KiB per run. */
double store_size_estimate(int64_t n, int32_t kmax, int32_t max_epochs, size_t text_bytes);

/* The same for a grid's configurations (n of them): the largest class count and max_epochs are
 * theirs, the text is the job's plus room for the data checksums. */
double store_grid_size(const pf_config *configs, int64_t n, size_t job_text_bytes);

/* At most the bytes one run of `ranks` ranks adds to an existing file (its /ranks rows when it
 * starts, its /runs row at its clean end, HDF5's structures for them). */
double store_run_growth(int ranks);

/* Serial, one process (rank 0): creates the results file at path for the given configurations
 * (ids 0..n-1 in order), every dataset allocated and filled, and closes it. It is written under a
 * temporary name, path + ".creating-" + meta->file_id, and renamed to path (never replacing a
 * file there) only once complete and synced, so a failed or killed creation never leaves a file
 * at path; a leftover temporary file is recognised by store_is_leftover. Returns 0, or -1 with a
 * one-line err naming the file: no space (ENOSPC, or EDQUOT: a quota) says how much the file needs
 * and how much is free; a file that appeared at path meanwhile is left alone. Nothing is left
 * behind on failure. Aborts only on failures that cannot be the user's. */
int store_create_file(const char *path, const pf_store_config *configs, int64_t n, const pf_store_meta *meta,
                      pf_error *err);

/* 1 when name (a file name, no directory) is a temporary file that store_create_file of results
 * file base_name would make: base_name + ".creating-" + hex digits. */
int store_is_leftover(const char *base_name, const char *name);

/* Collective over comm: store_create_file on rank 0 (aborting the job if it fails: for tests and
 * drivers, which have checked the path), then store_open. */
pf_store *store_create(MPI_Comm comm, const char *path, const pf_store_config *configs, int64_t n,
                       const pf_store_meta *meta);

/* Collective. Opens an existing results file read-write. configs (n rows, the same on every rank)
 * are its /configs rows as the caller read and validated them (the farm: rank 0's, broadcast);
 * NULL: rank 0 reads them and broadcasts them. The file's dimensions must agree with them. */
pf_store *store_open(MPI_Comm comm, const char *path, const pf_store_config *configs, int64_t n);

int64_t store_nconfigs(const pf_store *s);
int32_t store_max_epochs(const pf_store *s);

/* Collective, once per run, right after store_create or store_open and before any row is written:
 * appends one /ranks row per rank of the file's communicator, rank r's host being the string at
 * hosts + r * PF_HOST_LEN (hosts is read on rank 0 only; the others may pass NULL), flushes, and
 * returns the run's number (the same on every rank). */
int32_t store_begin_run(pf_store *s, const char *hosts);

/* Any rank: reads the /configs table (n rows) / the status column of /results. */
void store_read_configs(pf_store *s, pf_store_config *out);
void store_read_status(pf_store *s, pf_status *out);

/* Independent, any rank, only for configurations it owns: marks a row running (rank, host), or
 * writes a finished configuration (its /results row, history rows, confusion and transition
 * matrices and suspects from res, which may be NULL: fill values; the status is written last). */
void store_write_running(pf_store *s, int64_t id, int32_t rank, const char *host);
void store_write_result(pf_store *s, int64_t id, const pf_store_row *row, const pf_result *res);
/* Resets a row to pending (a failed one retried, or a running one being resumed). */
void store_write_pending(pf_store *s, int64_t id);

/* Collective: appends a /runs row (and sets the root attribute "efficiency" of the last run). */
void store_append_run(pf_store *s, const pf_store_run *run);

/* Collective: closes the file. NULL-safe. */
void store_close(pf_store *s);

/* A whole results file read serially into memory (report, replay). */
typedef struct {
    int64_t n;
    int32_t kmax, max_epochs;
    pf_store_config *configs;     /* n */
    pf_store_row *rows;           /* n */
    double *history[6];           /* train_loss, train_acc, val_loss, val_acc, lr, epoch_seconds:
                                     n * max_epochs each, NaN past the last epoch */
    int32_t *confusion;           /* n * kmax * kmax */
    int32_t *transitions;         /* n * kmax * kmax: true -> trained label counts */
    pf_suspect *suspects;         /* n * PF_SUSPECTS, item -1 for no entry */
    char *job_text;               /* root attribute */
    int simulated;                /* 1: a dry run's file: its rows are simulated, not results */
    double dry_run_scale;         /* the dry run's SCALE (0 for real results) */
    char *data_checksums;         /* root attribute: "dataset/file md5" lines */
    uint64_t fingerprint;
    char file_id[40];
    int epochs_capped;
    int64_t nruns;
    pf_store_run *runs;
    int64_t nrank_rows;
    pf_store_rank *rank_rows;     /* /ranks: every rank of every run that started */
} pf_results;

extern const char *const store_history_names[6];

/* Reads path (serially, read-only). 0, or -1 with a one-line error naming the file. Works on a file
 * whose run is still going or was killed. Every /configs and /results row is validated (ids equal
 * to their row, every field in its range, sizes within the file's dimensions, statuses and stop
 * reasons that are names, fractions in [0, 1] or NaN, the fingerprint the rows give): a file that
 * breaks a rule is refused with one line naming the row and the field (docs/results-format.md,
 * "What a reader checks"). */
int store_load(const char *path, pf_results *r, pf_error *err);

/* The same for /configs, /results and the root attributes only (history, confusion, transitions,
 * suspects, /runs and /ranks stay NULL / 0): what a resume and `poisonfarm check` need, whatever
 * the grid's number of epochs and classes. Validated as store_load validates. */
int store_load_tables(const char *path, pf_results *r, pf_error *err);

/* The fingerprint a run stores: the grid's (config_set_fingerprint of its configurations) mixed
 * with the data checksums' text, so that a resume needs both unchanged. store_configs_fingerprint
 * computes it from /configs rows. */
uint64_t store_run_fingerprint(uint64_t grid_fp, const char *checksums);
uint64_t store_configs_fingerprint(const pf_store_config *configs, int64_t n, const char *checksums);
void store_results_free(pf_results *r);

/* Turns HDF5's automatic error printing off (call once at start). */
void store_quiet_hdf5(void);

#endif
