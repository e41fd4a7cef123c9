/* test_util.c -- the small shared helpers: durations for people, enumeration names, mkdir -p and
 * the other file-system helpers, the store's row fills and reported accuracy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "poisonfarm/common.h"
#include "poisonfarm/data.h"
#include "poisonfarm/fsutil.h"
#include "poisonfarm/nn.h"
#include "poisonfarm/poison.h"
#include "poisonfarm/store.h"
#include "poisonfarm/train.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

static void duration_formats(void **state)
{
    (void)state;
    const struct {
        double s;
        const char *want;
    } cases[] = {
        {0, "0s"},         {0.49, "0s"},       {0.5, "1s"},        {59.4, "59s"},
        {59.5, "1m00s"},   {61, "1m01s"},      {3599, "59m59s"},   {3600, "1h00m"},
        {7322, "2h02m"},   {86399, "23h59m"},  {86400, "1d00h"},   {2 * 86400 + 4 * 3600 + 59, "2d04h"},
        {-1, "?"},         {NAN, "?"},         {1e13, "?"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[32];
        pf_format_duration(cases[i].s, out, sizeof out);
        if (strcmp(out, cases[i].want) != 0) fail_msg("%g s: got '%s', want '%s'", cases[i].s, out, cases[i].want);
    }
}

/* Every name of every enumeration parses back to its value; unknown names and values are refused. */
static void names_round_trip(void **state)
{
    (void)state;
    for (int v = 0; v < PF_DS_COUNT; v++) {
        pf_dataset_id id;
        assert_int_equal(dataset_from_name(dataset_name((pf_dataset_id)v), &id), 0);
        assert_int_equal(id, v);
    }
    for (int v = 0; v < PF_MODE_COUNT; v++) {
        pf_mode m;
        assert_int_equal(poison_mode_from_name(poison_mode_name((pf_mode)v), &m), 0);
        assert_int_equal(m, v);
    }
    for (int v = 0; v < PF_MODEL_COUNT; v++) {
        pf_model_kind k;
        assert_int_equal(model_kind_from_name(model_kind_name((pf_model_kind)v), &k), 0);
        assert_int_equal(k, v);
    }
    for (int v = 0; v < PF_SEL_COUNT; v++) {
        pf_selection s;
        assert_int_equal(selection_from_name(selection_name((pf_selection)v), &s), 0);
        assert_int_equal(s, v);
    }
    assert_string_equal(dataset_name(PF_DS_FASHION_MNIST), "fashion_mnist");
    assert_string_equal(poison_mode_name(PF_MODE_BIASED), "biased");
    assert_string_equal(model_kind_name(PF_MODEL_WIDE), "wide");
    assert_string_equal(selection_name(PF_SEL_SPLIT), "split");
    assert_string_equal(stop_name(PF_STOP_MAX_EPOCHS), "max_epochs");
    assert_string_equal(status_name(PF_STATUS_DIVERGED), "diverged");
    assert_string_equal(status_name(PF_STATUS_SIMULATED), "simulated");
    assert_string_equal(status_name(PF_STATUS_COUNT), "?");
    assert_string_equal(stop_name((pf_stop)-1), "?");
    pf_dataset_id id = PF_DS_CIFAR10;
    assert_int_equal(dataset_from_name("MNIST", &id), -1);
    assert_int_equal(dataset_from_name(NULL, &id), -1);
    assert_int_equal(id, PF_DS_CIFAR10); /* untouched on failure */
}

static void mkdir_p_creates_parents(void **state)
{
    (void)state;
    char dir[700], file[512];
    pf_error err = {0};
    snprintf(dir, sizeof dir, "%s/a/b/c", tmpdir);
    assert_int_equal(fs_mkdir_p(dir, &err), 0);
    assert_true(fs_is_dir(dir));
    assert_int_equal(fs_mkdir_p(dir, &err), 0); /* again: nothing to do */
    snprintf(dir, sizeof dir, "%s/a/b/d/", tmpdir);
    assert_int_equal(fs_mkdir_p(dir, &err), 0); /* a trailing slash */
    assert_true(fs_is_dir(dir));
    /* A regular file in the way: one line naming it. */
    snprintf(file, sizeof file, "%s/a/file", tmpdir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    assert_true(fs_is_regular_file(file) && !fs_is_dir(file));
    assert_int_equal(fs_mkdir_p(file, &err), -1);
    assert_non_null(strstr(err.msg, "a/file: a regular file, not a directory"));
    snprintf(dir, sizeof dir, "%s/sub", file);
    assert_int_equal(fs_mkdir_p(dir, &err), -1);
    assert_non_null(strstr(err.msg, "a/file/sub: cannot create directory"));
    assert_int_equal(err.kind, PF_ERR_IO);
}

static void parent_and_base_names(void **state)
{
    (void)state;
    const char *cases[][3] = {
        {"a/b/c.h5", "a/b", "c.h5"}, {"c.h5", ".", "c.h5"}, {"/c.h5", "/", "c.h5"}, {"/x/y/", "/x/y", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[PF_PATH_MAX];
        fs_parent_dir(cases[i][0], out);
        assert_string_equal(out, cases[i][1]);
        assert_string_equal(fs_base_name(cases[i][0]), cases[i][2]);
    }
    assert_false(fs_is_regular_file("/nonexistent/file"));
    assert_false(fs_is_dir("/nonexistent/dir"));
}

/* A failed row is a pending row but for its status, rank, host and reason. */
static void store_row_fills(void **state)
{
    (void)state;
    pf_store_row failed, finished;
    char reason[400];
    memset(reason, 'x', sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
    store_row_failed(&failed, 3, "node7", reason);
    assert_int_equal(failed.status, PF_STATUS_FAILED);
    assert_int_equal(failed.stop, PF_STOP_NONE);
    assert_true(isnan(failed.best_val_acc) && isnan(failed.final_val_acc) && isnan(failed.heldout_acc) &&
                isnan(failed.poisoned_val_acc) && isnan(failed.learned_poison) && isnan(failed.learned_true) &&
                isnan(failed.train_seconds));
    assert_int_equal(failed.best_epoch, -1);
    assert_int_equal(failed.epochs, -1);
    assert_int_equal(failed.n_poisoned, -1);
    assert_int_equal(failed.n_val_poisoned, -1);
    assert_true(isnan(failed.noise_rate) && isnan(failed.detect_auroc) && isnan(failed.detect_top10));
    assert_int_equal(failed.detect_flagged, -1);
    assert_int_equal(failed.rank, 3);
    assert_string_equal(failed.host, "node7");
    assert_int_equal(strlen(failed.reason), PF_REASON_LEN - 1); /* truncated to fit */

    pf_result res;
    memset(&res, 0, sizeof res);
    res.stop = PF_STOP_DIVERGED;
    res.best_val_acc = 0.5;
    res.heldout_acc = 0.25;
    res.best_epoch = 2;
    res.epochs = 3;
    res.noise_rate = 0.125;
    res.detect.auroc = 0.75;
    res.detect.flagged = 17;
    store_row_finished(&finished, &res, 1, "h");
    assert_int_equal(finished.status, PF_STATUS_DIVERGED);
    assert_int_equal(finished.best_epoch, 2);
    assert_true(finished.noise_rate == 0.125 && finished.detect_auroc == 0.75);
    assert_int_equal(finished.detect_flagged, 17);
    assert_string_equal(finished.reason, "");
    res.stop = PF_STOP_EARLY;
    store_row_finished(&finished, &res, 1, "h");
    assert_int_equal(finished.status, PF_STATUS_DONE);

    /* A dry run's row: simulated, no metric, the seconds slept, a reason saying so. */
    pf_store_row sim;
    store_row_simulated(&sim, 5, "n", 12.5, 0.01);
    assert_int_equal(sim.status, PF_STATUS_SIMULATED);
    assert_true(isnan(sim.best_val_acc) && isnan(sim.final_val_acc) && isnan(sim.heldout_acc));
    assert_int_equal(sim.best_epoch, -1);
    assert_int_equal(sim.epochs, -1);
    assert_true(sim.train_seconds == 12.5);
    assert_int_equal(sim.rank, 5);
    assert_string_equal(sim.host, "n");
    assert_non_null(strstr(sim.reason, "dry run"));

    /* The reported accuracy: the held-out half for selection split, else the best epoch's. */
    pf_config cfg;
    config_defaults(&cfg);
    assert_true(store_reported_accuracy(&cfg, &finished) == 0.5);
    cfg.selection = PF_SEL_SPLIT;
    assert_true(store_reported_accuracy(&cfg, &finished) == 0.25);
}

/* What a path is, in words; opening only regular files, never blocking on a FIFO. */
static void path_kinds_and_regular_opens(void **state)
{
    (void)state;
    char p[600], kind[700];
    pf_error err = {0};
    snprintf(p, sizeof p, "%s/kinds", tmpdir);
    assert_int_equal(fs_mkdir_p(p, &err), 0);
    assert_string_equal(fs_kind(p, kind, sizeof kind), "a directory");
    assert_int_equal(fs_open_regular(p, "job file", &err), -1);
    assert_int_equal(err.kind, PF_ERR_CORRUPT);
    assert_non_null(strstr(err.msg, "kinds: a directory, not a job file"));
    snprintf(p, sizeof p, "%s/kinds/fifo", tmpdir);
    assert_int_equal(mkfifo(p, 0600), 0);
    assert_string_equal(fs_kind(p, kind, sizeof kind), "a FIFO (named pipe)");
    /* No writer: a blocking open would never return. */
    assert_int_equal(fs_open_regular(p, "data file", &err), -1);
    assert_non_null(strstr(err.msg, "fifo: a FIFO (named pipe), not a data file"));
    assert_int_equal(fs_open_regular("/dev/zero", "label file", &err), -1);
    assert_string_equal(err.msg, "/dev/zero: a character device, not a label file");
    snprintf(p, sizeof p, "%s/kinds/loop", tmpdir);
    assert_int_equal(symlink("loop", p), 0);
    assert_true(fs_exists(p));
    assert_string_equal(fs_kind(p, kind, sizeof kind), "a symbolic link loop");
    assert_int_equal(fs_open_regular(p, "checkpoint", &err), -1);
    assert_non_null(strstr(err.msg, "loop: a symbolic link loop, not a checkpoint"));
    snprintf(p, sizeof p, "%s/kinds/dangling", tmpdir);
    assert_int_equal(symlink("/nonexistent/x", p), 0);
    assert_true(fs_exists(p) && !fs_is_regular_file(p));
    assert_string_equal(fs_kind(p, kind, sizeof kind), "a dangling symbolic link (to /nonexistent/x)");
    assert_int_equal(fs_open_regular(p, "data file", &err), -1);
    assert_int_equal(err.kind, PF_ERR_CORRUPT);
    snprintf(p, sizeof p, "%s/kinds/none", tmpdir);
    assert_false(fs_exists(p));
    assert_string_equal(fs_kind(p, kind, sizeof kind), "nothing");
    assert_int_equal(fs_open_regular(p, "job file", &err), -1);
    assert_int_equal(err.kind, PF_ERR_MISSING);
    assert_non_null(strstr(err.msg, "none: no such job file"));
    /* A regular file opens, and reads blocking again. */
    snprintf(p, sizeof p, "%s/kinds/file", tmpdir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("x", f);
    fclose(f);
    int fd = fs_open_regular(p, "job file", &err);
    assert_true(fd >= 0);
    char c = 0;
    assert_int_equal(read(fd, &c, 1), 1);
    assert_int_equal(c, 'x');
    close(fd);
}

/* A rename that never replaces: the second one into the same name fails with EEXIST and both
 * files keep their contents. */
static void rename_never_replaces(void **state)
{
    (void)state;
    char a[600], b[600], c[600];
    snprintf(a, sizeof a, "%s/ren-a", tmpdir);
    snprintf(b, sizeof b, "%s/ren-b", tmpdir);
    snprintf(c, sizeof c, "%s/ren-c", tmpdir);
    FILE *f = fopen(a, "w");
    fputs("A", f);
    fclose(f);
    f = fopen(c, "w");
    fputs("C", f);
    fclose(f);
    assert_int_equal(fs_rename_noreplace(a, b), 0);
    assert_false(fs_exists(a));
    assert_int_equal(fs_rename_noreplace(c, b), -1);
    assert_int_equal(errno, EEXIST);
    char got[4] = "";
    f = fopen(b, "r");
    assert_non_null(fgets(got, sizeof got, f));
    fclose(f);
    assert_string_equal(got, "A");
    assert_true(fs_exists(c));
}

/* A user error is one line whatever a quoted value holds (found by fuzzing the job files: a name
 * with a line break in it). */
static void errors_are_one_line(void **state)
{
    (void)state;
    pf_error err = {0};
    assert_int_equal(pf_error_set(&err, PF_ERR_USAGE, "job.cfg:3: unknown dataset '%s'", "mni\nst\r\x01"), -1);
    assert_string_equal(err.msg, "job.cfg:3: unknown dataset 'mni?st?" "?'");
    assert_null(strchr(err.msg, '\n'));
}

static void sizes_for_people(void **state)
{
    (void)state;
    char s[32];
    assert_string_equal(fs_format_bytes(512, s, sizeof s), "512 B");
    assert_string_equal(fs_format_bytes(84000, s, sizeof s), "84.0 KB");
    assert_string_equal(fs_format_bytes(4.8e12, s, sizeof s), "4.8 TB");
    assert_true(fs_free_bytes(tmpdir) > 0);
    assert_int_equal(fs_free_bytes("/nonexistent/dir"), -1);
    /* A reservation that fits succeeds and leaves nothing behind; one beyond the disk fails. */
    char base[600], left[700];
    snprintf(base, sizeof base, "%s/res", tmpdir);
    assert_int_equal(fs_try_reserve(base, ".reserve", 4096), 0);
    snprintf(left, sizeof left, "%s.reserve", base);
    assert_false(fs_exists(left));
    errno = 0;
    int rc = fs_try_reserve(base, ".reserve", INT64_MAX / 2);
    assert_true(rc == 0 || errno == ENOSPC || errno == EFBIG); /* 0 where fallocate is not offered */
    assert_false(fs_exists(left));
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/pf-util.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(duration_formats),
        cmocka_unit_test(names_round_trip),
        cmocka_unit_test(mkdir_p_creates_parents),
        cmocka_unit_test(parent_and_base_names),
        cmocka_unit_test(store_row_fills),
        cmocka_unit_test(path_kinds_and_regular_opens),
        cmocka_unit_test(rename_never_replaces),
        cmocka_unit_test(sizes_for_people),
        cmocka_unit_test(errors_are_one_line),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return rc;
}
