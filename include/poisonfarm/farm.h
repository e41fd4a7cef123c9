/* farm.h -- the farm: runs a job's grid over MPI ranks into one shared results file.
 *
 * Rank 0 validates everything the user gave (job file, data, output path, an existing results
 * file) before the results file is touched and shares the verdict in the first collective step;
 * then every rank trains configurations, rank 0 handing them out (most expensive first, sched.h)
 * between its own training batches, and every rank writes the rows of the configurations it ran.
 * Nothing spins: waiting ranks poll with a sleep that backs off (mpi_util.h).
 *
 * A dry run (dry_run_scale > 0) goes through all of it -- checks, data, the shared file, the
 * scheduling, the row writes, progress, stop and resume -- but each configuration sleeps its
 * calibrated estimate (as `poisonfarm grid` prints it) x SCALE instead of training, and its row is
 * written as simulated into a file marked as a dry run's: no real run resumes it, and the report
 * and `train --from` refuse it. It measures the farm itself at a rank count (docs/scaling.md).
 *
 * Source files: farm.c (the run from start to end), farm_prepare.c (rank 0's checks and the plan),
 * farm_worker.c (one configuration and its row); the scheduler is sched.c, the data sharing shm.c. */
#ifndef POISONFARM_FARM_H
#define POISONFARM_FARM_H

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
    double checkpoint_interval;   /* --checkpoint-interval seconds (< 0 = the job's setting) */
    int verbose;                  /* a line per completed epoch and per checkpoint, from every rank */
    double dry_run_scale;         /* > 0: --dry-run SCALE: nothing is trained, each configuration
                                     sleeps its estimated seconds x SCALE and its row is written as
                                     simulated, into a file marked as a dry run's */
} pf_run_opts;

/* Runs the job. Collective over MPI_COMM_WORLD; MPI must be initialised by pf_mpi_init (and is left
 * initialised). Returns the exit status (PF_EXIT_*), the same on every rank. User errors are printed
 * once, by rank 0, as one line, before the results file is touched; every rank then returns
 * PF_EXIT_USAGE. */
int farm_run(const pf_run_opts *opts);

#endif
