/* farm.c -- the run, from start to end: rank 0's verdict on the user's input (farm_prepare.c), the
 * plan shared, every host's data checked, the results file created or opened, the queue built and
 * the datasets shared, every rank training (sched.c, farm_worker.c) while rank 0 prints progress,
 * then the clean end: the /runs row, the summary line, the exit status. */
#include "farm_internal.h"

#include "poisonfarm/fsutil.h"
#include "poisonfarm/grid.h"
#include "poisonfarm/mpi_util.h"
#include "poisonfarm/shm.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A whole run's state on one rank. */
typedef struct {
    farm_ctx *ctx;
    const pf_run_opts *opts;
    farm_worker worker;
    double t_start;                /* pf_now() at start */
    double busy_seconds;           /* spent in configurations, this run */
    /* progress, rank 0 only */
    int64_t done_this_run;
    int64_t total_done;            /* done in the file */
    int64_t failed;                /* failed or diverged in the file */
    double cost_total, cost_done;
    farm_dry_stats dry;            /* a dry run's measurements */
} farm_run_state;

/* ---- the scheduler's calls into the farm --------------------------------------------------- */

static void on_run(void *p, int64_t id, sched_outcome *out)
{
    farm_run_state *st = p;
    if (st->ctx->plan.dry_run_scale > 0)
        farm_simulate_config(&st->worker, id, out);
    else
        farm_run_config(&st->worker, id, out);
    st->busy_seconds += out->seconds;
}

static void format_percent(double p, char *out, size_t n)
{
    if (p == floor(p))
        snprintf(out, n, "%.0f%%", p);
    else
        snprintf(out, n, "%g%%", p);
}

/* Rank 0: counts a finished configuration, applies --stop-after, prints the progress line. */
static void on_finished(void *p, const sched_outcome *r, int from)
{
    farm_run_state *st = p;
    farm_ctx *ctx = st->ctx;
    const pf_config *c = &ctx->configs[r->id].cfg;
    st->done_this_run++;
    st->cost_done += ctx->cost[r->id];
    st->dry.t_last = pf_now();
    st->dry.assigned++;
    if (r->status == PF_STATUS_DONE || r->status == PF_STATUS_SIMULATED)
        st->total_done++;
    else
        st->failed++;
    if (st->opts->stop_after > 0 && st->done_this_run >= st->opts->stop_after) pf_stop_flag = 1;
    if (st->opts->quiet) return;
    double elapsed = pf_now() - st->t_start;
    double remaining = st->cost_total - st->cost_done;
    double eta = st->cost_done > 0 ? elapsed * remaining / st->cost_done : NAN;
    char etas[32], pct[32], subset[32], acc[64];
    pf_format_duration(eta, etas, sizeof etas);
    format_percent(c->percent, pct, sizeof pct);
    if (c->subset == 0)
        snprintf(subset, sizeof subset, "full");
    else
        snprintf(subset, sizeof subset, "%d", c->subset);
    if (r->status == PF_STATUS_SIMULATED)
        snprintf(acc, sizeof acc, "simulated");
    else if (r->status == PF_STATUS_FAILED)
        snprintf(acc, sizeof acc, "FAILED");
    else if (r->status == PF_STATUS_DIVERGED)
        snprintf(acc, sizeof acc, "diverged (best %.1f%% @ep %d)", 100.0 * r->accuracy, r->best_epoch);
    else
        snprintf(acc, sizeof acc, "best %.1f%% @ep %d", 100.0 * r->accuracy, r->best_epoch);
    int64_t n = ctx->plan.nconfigs;
    int w = n >= 1000 ? 4 : n >= 100 ? 3 : n >= 10 ? 2 : 1;
    printf("[%*lld/%lld] %5.1f%% eta %s  %s %s %s %s  %s  (%.0fs, rank %d)\n", w,
           (long long)(st->total_done + st->failed), (long long)n,
           100.0 * (double)(st->total_done + st->failed) / (double)n, etas, dataset_name(c->dataset),
           poison_mode_name(c->mode), subset, pct, acc, r->seconds, from);
    fflush(stdout);
}

static void on_stopping(void *p)
{
    farm_run_state *st = p;
    if (st->opts->quiet) return;
    printf("poisonfarm: stopping: unfinished configurations stay pending (run again to resume)\n");
    fflush(stdout);
}

/* ---- the run ------------------------------------------------------------------------------- */

/* Rank 0 learns every rank's host (for /ranks) and how many distinct hosts there are. */
static void gather_hosts(farm_ctx *ctx, int rank, int size, const char *host)
{
    char mine[PF_HOST_LEN];
    memset(mine, 0, sizeof mine);
    snprintf(mine, sizeof mine, "%s", host);
    if (rank == 0) ctx->hosts = pf_malloc((size_t)size * PF_HOST_LEN);
    PF_MPI_CHECK(MPI_Gather(mine, PF_HOST_LEN, MPI_CHAR, ctx->hosts, PF_HOST_LEN, MPI_CHAR, 0, MPI_COMM_WORLD));
    if (rank != 0) return;
    /* Ranks of a host are usually neighbours: compare with the distinct ones seen so far. */
    int32_t n = 0;
    int *first = pf_malloc(sizeof *first * (size_t)size);
    for (int r = 0; r < size; r++) {
        const char *h = ctx->hosts + (size_t)r * PF_HOST_LEN;
        int seen = 0;
        for (int32_t q = n - 1; q >= 0 && !seen; q--) seen = strcmp(h, ctx->hosts + (size_t)first[q] * PF_HOST_LEN) == 0;
        if (!seen) first[n++] = r;
    }
    free(first);
    ctx->nhosts = n;
}

static void share_plan(farm_ctx *ctx, int rank)
{
    PF_MPI_CHECK(MPI_Bcast(&ctx->plan, (int)sizeof ctx->plan, MPI_BYTE, 0, MPI_COMM_WORLD));
    int64_t n = ctx->plan.nconfigs;
    if (rank != 0) ctx->configs = pf_malloc(sizeof *ctx->configs * (size_t)(n ? n : 1));
    if (rank != 0) ctx->cost = pf_malloc(sizeof *ctx->cost * (size_t)(n ? n : 1));
    pf_mpi_bcast_bytes(ctx->configs, sizeof *ctx->configs * (size_t)n, 0, MPI_COMM_WORLD);
    pf_mpi_bcast_bytes(ctx->cost, sizeof *ctx->cost * (size_t)n, 0, MPI_COMM_WORLD);
    /* The statuses rank 0 read (never every rank reading the file). */
    if (rank != 0) ctx->status = pf_malloc(sizeof *ctx->status * (size_t)(n ? n : 1));
    pf_mpi_bcast_bytes(ctx->status, sizeof *ctx->status * (size_t)n, 0, MPI_COMM_WORLD);
    pf_mpi_bcast_string(&ctx->job_text, 0, MPI_COMM_WORLD);
    pf_mpi_bcast_string(&ctx->job_path, 0, MPI_COMM_WORLD);
    pf_mpi_bcast_string(&ctx->checksums, 0, MPI_COMM_WORLD);
}

static void ctx_free(farm_ctx *ctx)
{
    for (int d = 0; d < PF_DS_COUNT; d++) {
        if (ctx->win[d] != MPI_WIN_NULL && ctx->win[d] != 0)
            shm_dataset_free(&ctx->ds[d], &ctx->win[d]);
        else
            dataset_free(&ctx->ds[d]);
    }
    free(ctx->configs);
    free(ctx->cost);
    free(ctx->status);
    free(ctx->job_text);
    free(ctx->job_path);
    free(ctx->checksums);
    if (ctx->node != MPI_COMM_NULL) PF_MPI_CHECK(MPI_Comm_free(&ctx->node));
    free(ctx->hosts);
}

/* Rank 0 checks everything the user gave; the verdict is the first collective step. 0 when the run
 * can go on; else rank 0 has printed the one-line error (and holds no lock) and every rank returns
 * PF_EXIT_USAGE. */
static int verdict(farm_ctx *ctx, const pf_run_opts *opts, int rank)
{
    pf_error err = {0};
    int bad = 0;
    if (rank == 0) bad = farm_prepare(ctx, opts, &err) == 0 ? 0 : 1;
    /* The others wait while rank 0 reads the job and the data: without spinning. */
    MPI_Request req;
    PF_MPI_CHECK(MPI_Ibcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD, &req));
    pf_mpi_wait(&req);
    if (bad && rank == 0) {
        fprintf(stderr, "poisonfarm: %s\n", err.msg);
        fflush(stderr);
    }
    return bad ? -1 : 0;
}

/* Collective, after rank 0's verdict: every host checks its data against rank 0's, then rank 0
 * claims the output. Only then is anything written, so that a host with other data stops the run
 * cleanly, as one user error. 0, or -1 when rank 0 printed the error and released the lock. */
static int node_verdict(farm_ctx *ctx, int rank, int size, const char *host)
{
    pf_error err = {0};
    pf_mpi_node_comm(MPI_COMM_WORLD, &ctx->node);
    (void)pf_mpi_check_open_files(MPI_COMM_WORLD, ctx->node);
    int bad = farm_verify_node_data(ctx, rank, size, host, &err) == 0 ? 0 : 1;
    if (rank == 0 && !bad) bad = farm_claim_output(ctx, size, &err) == 0 ? 0 : 1;
    PF_MPI_CHECK(MPI_Bcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD));
    if (bad && rank == 0) {
        fprintf(stderr, "poisonfarm: %s\n", err.msg);
        fflush(stderr);
        lock_release(ctx->lock);
        ctx->lock = NULL;
    }
    return bad ? -1 : 0;
}

/* Collective: opens the results file (rank 0 created a new one while claiming the output) with the
 * configurations everyone has, and records which host each rank runs on (this run's /ranks rows,
 * *run_number). The statuses came from rank 0 (share_plan), read before anyone opened the file. */
static pf_store *open_store(farm_ctx *ctx, int32_t *run_number)
{
    pf_store *store = store_open(MPI_COMM_WORLD, ctx->plan.output, ctx->configs, ctx->plan.nconfigs);
    *run_number = store_begin_run(store, ctx->hosts);
    return store;
}

/* Collective: the clean end. Rank 0 counts what the file holds now, prints the summary and decides
 * the exit status; every rank appends the /runs row and closes the file. */
static int finish(farm_run_state *st, pf_store *store, const pf_sched *sched, int rank, int size,
                  double t_start_wall, int32_t run_number)
{
    farm_ctx *ctx = st->ctx;
    /* Everyone together, without spinning while the last ones finish. */
    pf_mpi_barrier(MPI_COMM_WORLD);
    if (ctx->plan.dry_run_scale > 0) {
        st->dry.busy = st->busy_seconds;
        farm_dry_run_summary(ctx, &st->worker, sched, &st->dry, rank, size);
    }
    double busy = st->busy_seconds, busy_sum = 0;
    int64_t done = st->done_this_run, done_sum = 0;
    PF_MPI_CHECK(MPI_Reduce(&busy, &busy_sum, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD));
    PF_MPI_CHECK(MPI_Reduce(&done, &done_sum, 1, MPI_INT64_T, MPI_SUM, 0, MPI_COMM_WORLD));

    int exit_code = PF_EXIT_OK;
    pf_store_run run;
    memset(&run, 0, sizeof run);
    if (rank == 0) {
        double wall = pf_now() - st->t_start;
        pf_status *now = pf_malloc(sizeof *now * (size_t)(ctx->plan.nconfigs ? ctx->plan.nconfigs : 1));
        store_read_status(store, now);
        int64_t pending = 0, bad = 0;
        for (int64_t i = 0; i < ctx->plan.nconfigs; i++) {
            if (now[i] == PF_STATUS_PENDING || now[i] == PF_STATUS_RUNNING) pending++;
            if (now[i] == PF_STATUS_FAILED || now[i] == PF_STATUS_DIVERGED) bad++;
        }
        free(now);
        exit_code = pending > 0 ? PF_EXIT_STOPPED : bad > 0 ? PF_EXIT_CONFIGS : PF_EXIT_OK;
        run.start = t_start_wall;
        run.end = (double)time(NULL);
        run.run = run_number;
        run.ranks = size;
        run.threads = ctx->plan.threads;
        run.nhosts = ctx->nhosts;
        run.configs_done = done_sum;
        double cores = (double)size * ctx->plan.threads;
        run.efficiency = wall > 0 && busy_sum > 0 ? busy_sum / (cores * wall) : NAN;
        snprintf(run.ended, sizeof run.ended, "%s",
                 pending > 0 ? "stopped" : bad > 0 ? "complete, with failures" : "complete");
        if (!st->opts->quiet || exit_code != PF_EXIT_OK) {
            char wall_s[32], eff[32];
            pf_format_duration(wall, wall_s, sizeof wall_s);
            if (isnan(run.efficiency))
                snprintf(eff, sizeof eff, "n/a (nothing trained)");
            else
                snprintf(eff, sizeof eff, "%.3f", run.efficiency);
            printf("poisonfarm: %s: %lld configurations done in this run, %lld pending, %lld failed or diverged; "
                   "wall %s, parallel efficiency %s\n",
                   run.ended, (long long)done_sum, (long long)pending, (long long)bad, wall_s, eff);
            if (pending > 0) printf("poisonfarm: run the same command again to resume %s\n", ctx->plan.output);
            fflush(stdout);
        }
    }
    /* The /runs row grows the file: on a disk that filled up during the run it is left out (the
       rows are all there: they were allocated when the file was created), rather than failing
       inside a collective HDF5 call. */
    int room = 1;
    if (rank == 0 && fs_try_reserve(ctx->plan.output, ".space", (int64_t)store_run_growth(1)) != 0) {
        room = 0;
        fprintf(stderr, "poisonfarm: %s: no space left for this run's /runs row (%s); every configuration's row is "
                        "written\n", ctx->plan.output, strerror(errno));
        fflush(stderr);
    }
    PF_MPI_CHECK(MPI_Bcast(&run, (int)sizeof run, MPI_BYTE, 0, MPI_COMM_WORLD));
    PF_MPI_CHECK(MPI_Bcast(&exit_code, 1, MPI_INT, 0, MPI_COMM_WORLD));
    PF_MPI_CHECK(MPI_Bcast(&room, 1, MPI_INT, 0, MPI_COMM_WORLD));
    if (room) store_append_run(store, &run);
    store_close(store);
    if (rank == 0) {
        if (exit_code != PF_EXIT_STOPPED) (void)rmdir(ctx->plan.ckpt_dir); /* empty once all are done */
        lock_release(ctx->lock);
        ctx->lock = NULL;
    }
    return exit_code;
}

int farm_run(const pf_run_opts *opts)
{
    int rank, size;
    PF_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    PF_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    store_quiet_hdf5();

    farm_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    for (int d = 0; d < PF_DS_COUNT; d++) ctx.win[d] = MPI_WIN_NULL;
    ctx.node = MPI_COMM_NULL;
    double t_start_wall = (double)time(NULL);

    farm_run_state st;
    memset(&st, 0, sizeof st);
    st.ctx = &ctx;
    st.opts = opts;
    st.t_start = pf_now();

    if (verdict(&ctx, opts, rank) != 0) {
        ctx_free(&ctx);
        return PF_EXIT_USAGE;
    }
    share_plan(&ctx, rank);

    char host[PF_HOST_LEN] = "";
    gethostname(host, sizeof host - 1);
    gather_hosts(&ctx, rank, size, host);
    if (node_verdict(&ctx, rank, size, host) != 0) {
        ctx_free(&ctx);
        return PF_EXIT_USAGE;
    }
    int32_t run_number = 0;
    pf_store *store = open_store(&ctx, &run_number);

    /* Rank 0 builds the queue and hands it out; the others get an empty one. */
    const int64_t n = ctx.plan.nconfigs;
    sched_queue q;
    sched_queue_build(&q, ctx.status, ctx.cost, rank == 0 ? n : 0, opts->retry_failed);
    st.total_done = q.done;
    st.failed = q.failed;
    st.cost_total = q.cost;
    if (rank == 0 && ctx.plan.dry_run_scale > 0) {
        /* What `poisonfarm grid -n` would print for this run's queue, at the dry run's scale. */
        double *secs = pf_malloc(sizeof *secs * (size_t)(q.n ? q.n : 1));
        for (int64_t i = 0; i < q.n; i++) secs[i] = ctx.cost[q.ids[i]] / ctx.plan.rate * ctx.plan.dry_run_scale;
        st.dry.lpt = grid_lpt_makespan(secs, q.n, size);
        free(secs);
    }
    /* Only the datasets of configurations to run are shared (need: farm_prepare, from the same
       statuses). */
    for (int64_t i = 0; i < q.n; i++) PF_ASSERT(ctx.plan.need[ctx.configs[q.ids[i]].cfg.dataset]);
    shm_share_datasets(ctx.ds, ctx.win, ctx.plan.need, ctx.node);

    if (rank == 0) blas_core_warn(); /* after validation: a user error stays one line */
    if (rank == 0 && !opts->quiet) {
        pf_isa isa = PF_ISA_SCALAR;
        (void)cpu_resolve_isa(ctx.plan.isa, &isa);
        char bytes[64] = "";
        if (ctx.plan.file_bytes > 0) {
            char b[32];
            snprintf(bytes, sizeof bytes, " (new, %s)", fs_format_bytes(ctx.plan.file_bytes, b, sizeof b));
        }
        printf("poisonfarm: %s: %lld configurations, %lld done, %lld to run on %d rank%s x %d thread%s, "
               "kernels %s (%s) -> %s%s\n",
               ctx.job_path, (long long)n, (long long)q.done, (long long)q.n, size, size == 1 ? "" : "s",
               ctx.plan.threads, ctx.plan.threads == 1 ? "" : "s", isa_name(isa),
               ctx.plan.isa == PF_ISA_AUTO ? "rank 0's CPU default" : "pinned by --isa", ctx.plan.output, bytes);
        fflush(stdout);
    }

    const sched_ops ops = {on_run, on_finished, on_stopping, &st};
    pf_sched *sched = sched_create(MPI_COMM_WORLD, &q, &ops);
    st.worker = (farm_worker){&ctx, store, sched, rank, opts->verbose, "", {NULL, 0, 0}};
    snprintf(st.worker.host, sizeof st.worker.host, "%s", host);
    st.dry.t_start = st.t_start;
    st.dry.t_sched = pf_now();
    sched_main(sched);

    int exit_code = finish(&st, store, sched, rank, size, t_start_wall, run_number);
    sched_free(sched);
    farm_samples_free(&st.worker.writes);
    sched_queue_free(&q);
    ctx_free(&ctx);
    return exit_code;
}
