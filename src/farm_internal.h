/* farm_internal.h -- what the farm's source files share (farm.c, farm_prepare.c, farm_worker.c):
 * the plan rank 0 makes and shares, and the run's context. Private to the farm. */
#ifndef POISONFARM_FARM_INTERNAL_H
#define POISONFARM_FARM_INTERNAL_H

#include "poisonfarm/data.h"
#include "poisonfarm/farm.h"
#include "poisonfarm/lock.h"
#include "poisonfarm/sched.h"
#include "poisonfarm/store.h"

#include <mpi.h>
#include <stdint.h>

/* What rank 0 decides before anything collective, broadcast as raw bytes. */
typedef struct {
    int64_t nconfigs;
    int exists;                    /* resuming an existing file */
    int threads;
    pf_isa isa;                    /* --isa: the kernels' path every rank pins (auto: its CPU's) */
    int epochs_capped;
    double checkpoint_interval;    /* seconds, at most, between a configuration's checkpoints */
    double dry_run_scale;          /* > 0: a dry run (pf_run_opts) */
    double rate;                   /* a dry run's calibration (grid_calibrate) on rank 0 */
    int need[PF_DS_COUNT];         /* datasets of the configurations this run trains */
    char output[PF_PATH_MAX];
    char ckpt_dir[PF_PATH_MAX];
    char data_dir[PF_PATH_MAX];
    char file_id[40];
    uint64_t fingerprint;
    double file_bytes;             /* a new file's size (store_size_estimate); 0 when resuming */
} farm_plan;

typedef struct {
    farm_plan plan;
    pf_store_config *configs;      /* nconfigs */
    double *cost;                  /* nconfigs: estimated cost (grid_config_cost), computed once by
                                      rank 0 and shared */
    pf_status *status;             /* nconfigs: rank 0 reads them (farm_prepare), everyone gets them */
    char *job_text, *job_path, *checksums;
    char *hosts;                   /* rank 0: every rank's host, PF_HOST_LEN bytes each */
    int32_t nhosts;                /* rank 0: distinct hosts */
    pf_dataset ds[PF_DS_COUNT];    /* node leaders' datasets before sharing, everyone's after */
    MPI_Win win[PF_DS_COUNT];
    MPI_Comm node;                 /* the ranks of this host (pf_mpi_node_comm) */
    pf_lock *lock;                 /* rank 0: this run's hold on the results file */
    int move_old;                  /* rank 0: --force, move the file of another grid or format aside */
    char old_file_id[40];          /* rank 0: its file id (its checkpoint directory moves too) */
} farm_ctx;

/* The tag of a host's data-check message to rank 0 (the scheduler's tags are 101-103). */
enum { FARM_TAG_NODE_DATA = 104 };

/* Rank 0, before anything collective: takes the lock of the output first, then checks everything
 * the user gave and fills ctx (plan, configs and their statuses, job text and path, data
 * checksums, the loaded datasets, the lock, what claiming the output will move aside). An existing
 * file is read (/configs and /results, validated) only while the lock is held. 0, or -1 with a
 * one-line err; on failure nothing was touched and the lock is not held. */
int farm_prepare(farm_ctx *ctx, const pf_run_opts *opts, pf_error *err);

/* Collective, before the results file is created or opened: the leader of every host but rank 0's
 * loads the datasets of the run (kept for sharing) and checks them against rank 0's checksums, so
 * that node-local data directories that differ stop the run before anything is written. Returns 0,
 * or (rank 0 only) -1 with one line naming the first host and file that differ, and how many other
 * hosts differ. */
int farm_verify_node_data(farm_ctx *ctx, int rank, int size, const char *host, pf_error *err);

/* Rank 0, once every host has checked its data: the first changes on disk. Moves the results file
 * of another grid or format, or a damaged one, aside (--force), creates the checkpoint directory
 * and, for a new file, the results file itself (store_create_file: for a run of `ranks` ranks).
 * 0, or -1 with err (nothing left behind but what was moved aside). */
int farm_claim_output(farm_ctx *ctx, int ranks, pf_error *err);

/* A growing list of durations (seconds). */
typedef struct {
    double *v;
    int64_t n, cap;
} farm_samples;

void farm_samples_add(farm_samples *s, double x);
void farm_samples_free(farm_samples *s);

/* One rank's means to run configurations. */
typedef struct {
    farm_ctx *ctx;
    pf_store *store;
    pf_sched *sched;               /* polled between batches */
    int rank;
    int verbose;                   /* a line per completed epoch (--verbose) */
    char host[PF_HOST_LEN];
    farm_samples writes;           /* seconds of each finished row's write (store_write_result) */
} farm_worker;

/* Starts configuration id on this worker: out cleared (no best epoch, accuracy NaN) and its row
 * marked running. The first step of farm_run_config and farm_simulate_config. */
void farm_start_config(farm_worker *w, int64_t id, sched_outcome *out);

/* Trains configuration id on this rank, resuming from its checkpoint when there is one, writes its
 * row (running, then the result, or pending again when stopped) and fills *out for rank 0. */
void farm_run_config(farm_worker *w, int64_t id, sched_outcome *out);

/* A dry run's farm_run_config (farm_dryrun.c): marks the row running, sleeps the configuration's
 * estimate x SCALE in batches of its estimated batch time x SCALE (answering the scheduler between
 * them, as training does), writes the row as simulated (or pending again when stopped). */
void farm_simulate_config(farm_worker *w, int64_t id, sched_outcome *out);

/* What a dry run measured, for its summary (rank 0's view; the rest is gathered). */
typedef struct {
    double t_start;                /* pf_now() at the program's start */
    double t_sched;                /* pf_now() when scheduling began */
    double t_last;                 /* rank 0: pf_now() when the last configuration was reported */
    double lpt;                    /* rank 0: the LPT makespan of this run's queue (seconds) */
    double busy;                   /* this rank: seconds spent in configurations */
    int64_t assigned;              /* rank 0: configurations handed out or run */
} farm_dry_stats;

/* Collective, after every rank has left the scheduler (and met at a barrier): gathers the
 * requests' waits, the row writes' times, CPU times and memory, and rank 0 prints the dry run's
 * summary: a line for people and a key=value line. */
void farm_dry_run_summary(const farm_ctx *ctx, const farm_worker *w, const pf_sched *sched,
                          const farm_dry_stats *ds, int rank, int size);

#endif
