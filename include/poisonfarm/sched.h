/* sched.h -- the farm: runs a job's grid over MPI ranks into one shared results file.
 *
 * Rank 0 validates everything the user gave (job file, data, output path, an existing results
 * file) before the results file is touched and shares the verdict in the first collective step;
 * then every rank trains configurations, rank 0 handing them out (most expensive first) between
 * its own training batches. Nothing spins: waiting ranks poll with a short sleep. */
#ifndef POISONFARM_SCHED_H
#define POISONFARM_SCHED_H

#include "poisonfarm/common.h"
#include "poisonfarm/cpu.h"

#include <stdint.h>

typedef struct {
    char job_path[PF_PATH_MAX];   /* as given ("" = jobs/seed.cfg) */
    char output[PF_PATH_MAX];     /* -o ("" = the job's output, else output/<job>.h5) */
    char data_dir[PF_PATH_MAX];   /* --data-dir ("" = not given) */
    int threads;                  /* --threads (0 = the job's) */
    pf_isa isa;                   /* --isa (PF_ISA_AUTO = each rank's CPU default) */
    int force;                    /* move a results file of another grid aside */
    int retry_failed;             /* run failed and diverged configurations again */
    int quiet;                    /* no per-configuration progress lines */
    int64_t stop_after;           /* stop once this many more are done (0 = never) */
} pf_run_opts;

/* Runs the job. Collective over MPI_COMM_WORLD; MPI must be initialised (and is left initialised).
 * Returns the exit status (PF_EXIT_*), the same on every rank. User errors are printed once, by
 * rank 0, as one line. */
int sched_run(const pf_run_opts *opts);

#endif
