/* farm_dryrun.c -- the farm's dry run: a configuration simulated by a sleep of its calibrated
 * estimate x SCALE (its row written as simulated), and the summary of what the run measured --
 * makespan against the LPT estimate, the requests' waits for an assignment, the row writes, CPU
 * and memory per rank (docs/scaling.md). */
#include "farm_internal.h"

#include "poisonfarm/grid.h"
#include "poisonfarm/mpi_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

void farm_samples_add(farm_samples *s, double x)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->v = realloc(s->v, sizeof *s->v * (size_t)s->cap);
        PF_CHECK_ALLOC(s->v);
    }
    s->v[s->n++] = x;
}

void farm_samples_free(farm_samples *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}

void farm_simulate_config(farm_worker *w, int64_t id, sched_outcome *out)
{
    farm_ctx *ctx = w->ctx;
    const pf_store_config *sc = &ctx->configs[id];
    const double scale = ctx->plan.dry_run_scale, rate = ctx->plan.rate;
    double t0 = pf_now();
    farm_start_config(w, id, out);
    /* The estimate, and the batches between which training answers the scheduler. */
    const double total = ctx->cost[id] / rate * scale;
    const double batch = grid_batch_cost(&sc->cfg) / rate * scale;
    double start = pf_now(), slept = 0;
    int stopped = 0;
    while ((slept = pf_now() - start) < total) {
        if (pf_stop_flag) {
            stopped = 1;
            break;
        }
        double left = total - slept, slice = batch < left ? batch : left;
        long ms = (long)ceil(slice * 1000.0);
        pf_sleep_ms(ms < 1 ? 1 : ms);
        sched_poll(w->sched);
    }
    if (stopped) {
        store_write_pending(w->store, id);
        out->kind = SCHED_STOPPED;
        out->status = PF_STATUS_PENDING;
    } else {
        pf_store_row row;
        store_row_simulated(&row, w->rank, w->host, slept, scale);
        double tw = pf_now();
        store_write_result(w->store, id, &row, NULL);
        farm_samples_add(&w->writes, pf_now() - tw);
        out->kind = SCHED_DONE;
        out->status = PF_STATUS_SIMULATED;
    }
    if (w->verbose) {
        printf("poisonfarm: rank %d: configuration %lld %s after %.3f s\n", w->rank, (long long)id,
               stopped ? "stopped" : "simulated", slept);
        fflush(stdout);
    }
    out->seconds = pf_now() - t0;
}

/* ---- the summary ----------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Collective: every rank's n values of v to rank 0, sorted there (*all, *nall; free it). */
static void gather_sorted(const double *v, int64_t n, int rank, int size, double **all, int64_t *nall)
{
    int cnt = (int)n;
    PF_ASSERT((int64_t)cnt == n);
    int *counts = rank == 0 ? pf_malloc(sizeof *counts * (size_t)size) : NULL;
    PF_MPI_CHECK(MPI_Gather(&cnt, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD));
    int *displs = NULL;
    *all = NULL;
    *nall = 0;
    if (rank == 0) {
        displs = pf_malloc(sizeof *displs * (size_t)size);
        int64_t tot = 0;
        for (int r = 0; r < size; r++) {
            displs[r] = (int)tot;
            tot += counts[r];
        }
        PF_ASSERT(tot <= 0x7fffffff);
        *nall = tot;
        *all = pf_malloc(sizeof **all * (size_t)(tot ? tot : 1));
    }
    PF_MPI_CHECK(MPI_Gatherv(v, cnt, MPI_DOUBLE, *all, counts, displs, MPI_DOUBLE, 0, MPI_COMM_WORLD));
    if (rank == 0) qsort(*all, (size_t)*nall, sizeof **all, cmp_double);
    free(counts);
    free(displs);
}

static double median_of(const double *sorted, int64_t n)
{
    if (n == 0) return NAN;
    return n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

/* This process's proportional set size in KiB (shared pages split between the processes that map
 * them), -1 where /proc/self/smaps_rollup is not there. */
static double pss_kib(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (f == NULL) return -1;
    char line[256];
    double kib = -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "Pss: %lf kB", &kib) == 1) break;
    fclose(f);
    return kib;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return NAN;
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec
           + 1e-6 * (double)ru.ru_stime.tv_usec;
}

void farm_dry_run_summary(const farm_ctx *ctx, const farm_worker *w, const pf_sched *sched,
                          const farm_dry_stats *ds, int rank, int size)
{
    int64_t nw = 0;
    const double *waits = sched_waits(sched, &nw);
    double *all_waits, *all_writes;
    int64_t n_waits, n_writes;
    gather_sorted(waits, nw, rank, size, &all_waits, &n_waits);
    gather_sorted(w->writes.v, w->writes.n, rank, size, &all_writes, &n_writes);
    double mine[2] = {cpu_seconds(), ds->busy}, sums[2] = {0, 0};
    PF_MPI_CHECK(MPI_Reduce(mine, sums, 2, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD));
    double pss = pss_kib(), *all_pss;
    int64_t n_pss;
    gather_sorted(&pss, 1, rank, size, &all_pss, &n_pss);
    if (rank == 0) {
        const double now = pf_now(), wall = now - ds->t_start;
        const double makespan = ds->assigned > 0 ? ds->t_last - ds->t_sched : 0;
        const double eff = makespan > 0 ? sums[1] / ((double)size * makespan) : NAN;
        const double cpu0 = mine[0] / wall, cores = sums[0] / wall;
        double pss_sum = 0;
        for (int64_t i = 0; i < n_pss; i++) pss_sum += all_pss[i];
        const int pss_ok = n_pss > 0 && all_pss[0] >= 0;
        const double wm = median_of(all_waits, n_waits), wx = n_waits ? all_waits[n_waits - 1] : NAN;
        const double rm = median_of(all_writes, n_writes), rx = n_writes ? all_writes[n_writes - 1] : NAN;
        char t_make[32], t_lpt[32];
        pf_format_duration(makespan, t_make, sizeof t_make);
        pf_format_duration(ds->lpt, t_lpt, sizeof t_lpt);
        printf("poisonfarm: dry run: makespan %s for an LPT estimate of %s (%lld configurations on %d ranks, "
               "estimates x %g at %.0f forward passes/s), parallel efficiency %.3f; request -> assignment median "
               "%.1f ms, max %.1f ms (%lld assignments); row write median %.1f ms, max %.1f ms (%lld rows); CPU: "
               "rank 0 %.1f %% of the wall time, all ranks %.3f cores",
               t_make, t_lpt, (long long)ds->assigned, size, ctx->plan.dry_run_scale, ctx->plan.rate, eff,
               1e3 * wm, 1e3 * wx, (long long)n_waits, 1e3 * rm, 1e3 * rx, (long long)n_writes, 100.0 * cpu0, cores);
        if (pss_ok)
            printf("; memory per rank (PSS) median %.1f MiB, max %.1f MiB, all ranks %.1f MiB",
                   median_of(all_pss, n_pss) / 1024.0, all_pss[n_pss - 1] / 1024.0, pss_sum / 1024.0);
        printf("\n");
        printf("dry_run ranks=%d threads=%d scale=%g rate=%.1f configs=%lld makespan_s=%.3f lpt_s=%.3f "
               "efficiency=%.4f busy_s=%.3f wall_s=%.3f waits=%lld wait_median_s=%.6f wait_max_s=%.6f "
               "writes=%lld write_median_s=%.6f write_max_s=%.6f rank0_cpu_share=%.4f cpu_cores=%.4f "
               "pss_median_kib=%.0f pss_max_kib=%.0f pss_total_kib=%.0f\n",
               size, ctx->plan.threads, ctx->plan.dry_run_scale, ctx->plan.rate, (long long)ds->assigned, makespan,
               ds->lpt, eff, sums[1], wall, (long long)n_waits, wm, wx, (long long)n_writes, rm, rx, cpu0, cores,
               pss_ok ? median_of(all_pss, n_pss) : -1.0, pss_ok ? all_pss[n_pss - 1] : -1.0,
               pss_ok ? pss_sum : -1.0);
        fflush(stdout);
    }
    free(all_waits);
    free(all_writes);
    free(all_pss);
}
