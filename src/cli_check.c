/* cli_check.c -- `poisonfarm check RESULTS.h5`: validates a results file without running anything
 * (its format, its layout, every /configs and /results row, the fingerprint its rows give) and
 * says what a resume would keep and run -- or that it is a dry run's file, whose rows are simulated.
 * Each refusal has its own exit status (docs/running.md). */
#include "poisonfarm/cli.h"

#include "poisonfarm/common.h"
#include "poisonfarm/fsutil.h"
#include "poisonfarm/lock.h"
#include "poisonfarm/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The exit statuses of check, beyond 0 (valid) and 2 (bad usage). */
enum {
    CHECK_MISSING = 5,      /* no file at the path, or it cannot be read */
    CHECK_NOT_RESULTS = 6,  /* not a poisonfarm results file (not a regular file, empty, not HDF5, no
                               format attribute) */
    CHECK_OTHER_FORMAT = 7, /* a results file of another format */
    CHECK_DAMAGED = 8       /* this format, but damaged: a table missing or of the wrong shape, a row
                               that breaks a rule, rows that do not give the file's fingerprint */
};

static void check_usage(FILE *out)
{
    fputs("usage: poisonfarm check RESULTS.h5\n"
          "\n"
          "Validates a results file without running anything: its format, its layout and every\n"
          "/configs and /results row (and that the rows give the file's fingerprint), then lists\n"
          "what a resume would keep and run (or says it is a dry run's file: simulated rows, no\n"
          "results). Reads the file only; works while a run writes it.\n"
          "\n"
          "exit status: 0 valid, 2 bad usage, 5 no such file (or unreadable), 6 not a poisonfarm\n"
          "results file, 7 a results file of another format, 8 damaged (the line names the row\n"
          "and the field).\n",
          out);
}

/* Prints " ids 3, 5-9, 12" for the rows of r whose status is one of want[] (at most 20 ranges). */
static void print_ids(const pf_results *r, const int want[PF_STATUS_COUNT])
{
    int ranges = 0;
    for (int64_t i = 0; i < r->n; i++) {
        if (!want[r->rows[i].status]) continue;
        int64_t j = i;
        while (j + 1 < r->n && want[r->rows[j + 1].status]) j++;
        if (ranges == 20) {
            printf(", ...");
            return;
        }
        printf("%s%lld", ranges++ ? ", " : " (ids ", (long long)i);
        if (j > i) printf("-%lld", (long long)j);
        i = j;
    }
    if (ranges) printf(")");
}

int cmd_check(int argc, char **argv)
{
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'h') {
            check_usage(stdout);
            return PF_EXIT_OK;
        }
        cli_error("check: unknown option '%s' (try --help)", argv[optind - 1]);
        return PF_EXIT_USAGE;
    }
    if (optind != argc - 1) {
        cli_error(optind >= argc ? "check: which results file? (try --help)" : "check: one results file only (try --help)");
        return PF_EXIT_USAGE;
    }
    const char *path = argv[optind];
    store_quiet_hdf5();

    pf_error err = {0};
    pf_store_info info;
    if (store_inspect(path, &info, &err) != 0) {
        cli_error("%s", err.msg);
        if (info.format != 0) return info.format == PF_STORE_FORMAT_CURRENT ? CHECK_DAMAGED : CHECK_OTHER_FORMAT;
        return err.kind == PF_ERR_IO ? CHECK_MISSING : CHECK_NOT_RESULTS;
    }
    if (!info.exists) {
        cli_error("%s: no such results file", path);
        return CHECK_MISSING;
    }
    /* Every table, shape and row: what report reads; the rows as a resume validates them. */
    pf_results r;
    if (store_load(path, &r, &err) != 0) {
        cli_error("%s", err.msg);
        return CHECK_DAMAGED;
    }

    int64_t count[PF_STATUS_COUNT] = {0}, from_ckpt = 0, runs = 0, runs_ended = r.nruns;
    char ckdir[PF_PATH_MAX];
    int have_ckdir = pf_snprintf(ckdir, sizeof ckdir, "%s.ckpt-%s", path, r.file_id) == 0 && fs_is_dir(ckdir);
    for (int64_t i = 0; i < r.n; i++) {
        pf_status s = r.rows[i].status;
        count[s]++;
        if (have_ckdir && (s == PF_STATUS_PENDING || s == PF_STATUS_RUNNING)) {
            char ck[PF_PATH_MAX + 64];
            if (pf_snprintf(ck, sizeof ck, "%s/config-%lld.state", ckdir, (long long)i) == 0 &&
                fs_is_regular_file(ck))
                from_ckpt++;
        }
    }
    for (int64_t i = 0; i < r.nrank_rows; i++)
        if (r.rank_rows[i].run + 1 > runs) runs = r.rank_rows[i].run + 1;
    const int64_t finished = count[PF_STATUS_DONE], bad = count[PF_STATUS_FAILED] + count[PF_STATUS_DIVERGED];
    const int64_t to_run = count[PF_STATUS_PENDING] + count[PF_STATUS_RUNNING];

    if (r.simulated) {
        /* A dry run's file: valid, but its rows are no results (format 7). */
        printf("%s: a poisonfarm dry run's file (run --dry-run %g), format %d, %lld configurations (%d classes, %d "
               "epochs at most): every row valid; nothing was trained, its rows are simulated, not results\n",
               path, r.dry_run_scale, (int)PF_STORE_FORMAT_CURRENT, (long long)r.n, (int)r.kmax, (int)r.max_epochs);
        printf("  rows: %lld simulated, %lld running (interrupted), %lld pending\n",
               (long long)count[PF_STATUS_SIMULATED], (long long)count[PF_STATUS_RUNNING],
               (long long)count[PF_STATUS_PENDING]);
        printf("  report, train --from and a real run refuse it; a dry run resumes it, keeping %lld simulated rows\n",
               (long long)count[PF_STATUS_SIMULATED]);
        printf("  a dry run's resume simulates %lld configurations", (long long)to_run);
    } else {
        printf("%s: a poisonfarm results file, format %d, %lld configurations (%d classes, %d epochs at most): "
               "every row valid\n",
               path, (int)PF_STORE_FORMAT_CURRENT, (long long)r.n, (int)r.kmax, (int)r.max_epochs);
        printf("  rows: %lld done, %lld diverged, %lld failed, %lld running (interrupted), %lld pending\n",
               (long long)count[PF_STATUS_DONE], (long long)count[PF_STATUS_DIVERGED],
               (long long)count[PF_STATUS_FAILED], (long long)count[PF_STATUS_RUNNING],
               (long long)count[PF_STATUS_PENDING]);
        printf("  a resume keeps %lld done rows and %lld failed or diverged ones", (long long)finished, (long long)bad);
        const int want_bad[PF_STATUS_COUNT] = {[PF_STATUS_FAILED] = 1, [PF_STATUS_DIVERGED] = 1};
        print_ids(&r, want_bad);
        printf("%s\n", bad > 0 ? ": --retry-failed runs those again" : "");
        printf("  a resume runs %lld configurations", (long long)to_run);
    }
    const int want_run[PF_STATUS_COUNT] = {[PF_STATUS_PENDING] = 1, [PF_STATUS_RUNNING] = 1};
    print_ids(&r, want_run);
    if (to_run > 0) printf(", %lld of them from their checkpoint", (long long)from_ckpt);
    printf("\n  runs: %lld started, %lld ended cleanly\n", (long long)runs, (long long)runs_ended);
    char lock[PF_PATH_MAX + 512];
    if (lock_describe(path, lock, sizeof lock) != 0) printf("  lock: %s\n", lock);
    store_results_free(&r);
    return PF_EXIT_OK;
}
