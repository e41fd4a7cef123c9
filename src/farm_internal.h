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
    int epochs_capped;
    int need[PF_DS_COUNT];         /* datasets to load */
    char output[PF_PATH_MAX];
    char ckpt_dir[PF_PATH_MAX];
    char data_dir[PF_PATH_MAX];
    char file_id[40];
    uint64_t fingerprint;
} farm_plan;

typedef struct {
    farm_plan plan;
    pf_store_config *configs;      /* nconfigs */
    pf_status *status;             /* nconfigs, as read at start */
    char *job_text, *job_path, *checksums, *hostnames;
    pf_dataset ds[PF_DS_COUNT];    /* rank 0's datasets before sharing, everyone's after */
    MPI_Win win[PF_DS_COUNT];
    pf_lock *lock;                 /* rank 0: this run's hold on the results file */
} farm_ctx;

/* Rank 0, before anything collective: checks everything the user gave and fills ctx (plan,
 * configs, job text and path, data checksums, the loaded datasets, the lock). 0, or -1 with a
 * one-line err; on failure no results file was touched and the lock is not held. */
int farm_prepare(farm_ctx *ctx, const pf_run_opts *opts, pf_error *err);

/* One rank's means to run configurations. */
typedef struct {
    farm_ctx *ctx;
    pf_store *store;
    pf_sched *sched;               /* polled between batches */
    int rank;
    char host[PF_HOST_LEN];
} farm_worker;

/* Trains configuration id on this rank, resuming from its checkpoint when there is one, writes its
 * row (running, then the result, or pending again when stopped) and fills *out for rank 0. */
void farm_run_config(farm_worker *w, int64_t id, sched_outcome *out);

#endif
