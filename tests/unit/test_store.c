/* test_store.c -- the results file (store) and its lock.
 *
 * Without arguments: cmocka tests, MPI initialised as a singleton (no mpirun needed): a full
 * create / write / load round trip, enum names in h5dump, store_inspect on every kind of bad file,
 * the /runs log, the /ranks table, and the lock. With an argument it is the MPI driver of tests/integ/store_mpi.sh:
 *   --mpi-write FILE N     (under mpirun) every rank writes its own rows, then rank 0 checks them
 *   --mpi-endless FILE N   (under mpirun) rewrites its rows round after round until killed (60 s max);
 *                          rank 0 prints "every row written" once every rank finished round 0
 *   --verify FILE N        (serial) every "done" row must be complete and consistent
 *   --set-format FILE N    (serial) rewrites the file's format attribute (fixtures of other formats) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "poisonfarm/lock.h"
#include "poisonfarm/mpi_util.h"
#include "poisonfarm/store.h"

#include "field_perturb.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- deterministic fixtures: row values are a function of (id, round) ---- */

#define T_MAXEP 9
#define T_KMAX 100

typedef struct {
    double h[6][T_MAXEP];
    int32_t conf[T_KMAX * T_KMAX];
    int32_t trans[T_KMAX * T_KMAX];
    pf_result res;
} fixture_result;

/* Row id's configuration: every field of the table moved away from its default by a number of
 * steps that depends on (id, field), so the rows differ from each other and from the defaults in
 * every field (a new field is covered without editing this); max_epochs stays within T_MAXEP. */
static void make_config(pf_store_config *c, int64_t id)
{
    memset(c, 0, sizeof *c);
    config_defaults(&c->cfg);
    c->id = id;
    for (int f = 0; f < PF_NFIELDS; f++)
        for (int64_t step = 0; step < 1 + (id + f) % 3; step++) field_perturb(&c->cfg, f);
    c->cfg.dataset = (pf_dataset_id)(id % PF_DS_COUNT);
    c->cfg.max_epochs = 4 + (int32_t)(id % 6);          /* up to T_MAXEP */
    c->k = c->cfg.dataset == PF_DS_CIFAR100 ? 100 : 10;
    /* A configuration a run could have made (readers validate every row): a label file exactly
     * with mode file, which poisons no validation labels; n_train is the subset; split selection
     * needs two validation items. */
    if (id % 2 == 0) {
        c->cfg.mode = PF_MODE_FILE;
        snprintf(c->cfg.label_file, sizeof c->cfg.label_file, "labels-%d.txt", (int)id);
        c->cfg.label_file_hash = 0x1234 + (uint64_t)id;
        c->cfg.poison_validation = 0;
    } else {
        if (c->cfg.mode == PF_MODE_FILE) c->cfg.mode = PF_MODE_RANDOM;
        memset(c->cfg.label_file, 0, sizeof c->cfg.label_file);
        c->cfg.label_file_hash = 0;
    }
    if (c->cfg.selection == PF_SEL_SPLIT && c->cfg.val_items == 1) c->cfg.val_items = 2;
    c->cfg.subset = 1000 + (int32_t)id;
    c->n_train = c->cfg.subset;
}

/* A fraction in [0, 1) that depends on (id, round, what). */
static double val(int64_t id, int round, int what)
{
    return (double)((id * 1000 + round * 10 + what) % 100000) / 1e5;
}

/* A finished configuration's row and result for round `round`. */
static void make_result(const pf_store_config *c, int round, pf_store_row *row, fixture_result *f)
{
    const int64_t id = c->id;
    const int32_t epochs = 1 + (int32_t)((id + round) % c->cfg.max_epochs);
    memset(row, 0, sizeof *row);
    memset(f, 0, sizeof *f);
    row->status = (id + round) % 5 == 4 ? PF_STATUS_DIVERGED : PF_STATUS_DONE;
    row->stop = row->status == PF_STATUS_DIVERGED ? PF_STOP_DIVERGED : PF_STOP_EARLY;
    row->best_val_acc = val(id, round, 1);
    row->final_val_acc = val(id, round, 2);
    row->heldout_acc = c->cfg.selection == PF_SEL_SPLIT ? val(id, round, 3) : NAN;
    row->poisoned_val_acc = c->cfg.poison_validation ? val(id, round, 4) : NAN;
    row->best_epoch = epochs;
    row->epochs = epochs;
    row->n_poisoned = (id * 7 + round) % (c->n_train + 1);
    row->n_val_poisoned = c->cfg.poison_validation ? id : -1;
    row->noise_rate = val(id, round, 7);
    row->learned_poison = val(id, round, 5);
    row->learned_true = val(id, round, 6);
    row->detect_auroc = val(id, round, 8);
    row->detect_precision = (id + round) % 2 ? val(id, round, 9) : NAN;
    row->detect_recall = val(id, round, 0);
    row->detect_top1 = val(id, round, 11);
    row->detect_top5 = val(id, round, 12);
    row->detect_top10 = val(id, round, 13);
    row->detect_flagged = (id * 3 + round) % (c->n_train + 1);
    row->train_seconds = round;                    /* how --verify knows the round */
    row->rank = (int32_t)(id % 3);
    snprintf(row->host, sizeof row->host, "host-%d", (int)id);
    snprintf(row->reason, sizeof row->reason, "%s",
             row->status == PF_STATUS_DIVERGED ? "loss became NaN at epoch 2" : "");
    row->isa = (pf_isa)(PF_ISA_SCALAR + (id + round) % 3); /* scalar, avx2, avx512 */
    double *h[6];
    for (int k = 0; k < 6; k++) {
        h[k] = f->h[k];
        for (int e = 0; e < c->cfg.max_epochs; e++) f->h[k][e] = e < epochs ? val(id, round, 10 * k + e) : NAN;
    }
    for (int i = 0; i < c->k; i++)
        for (int j = 0; j < c->k; j++) {
            f->conf[i * c->k + j] = (int32_t)(id + round + i * 3 + j);
            f->trans[i * c->k + j] = (int32_t)(id * 5 + round + i * 7 + j * 2);
        }
    detect_suspects_clear(f->res.suspects, PF_SUSPECTS);
    for (int j = 0; j < PF_SUSPECTS - (int)id; j++)   /* row id lists 100 - id items */
        f->res.suspects[j] = (pf_suspect){(int32_t)(id * 1000 + j), j % c->k, (j + 1) % c->k, (j + 2) % c->k,
                                           -val(id, round, j)};
    f->res.transitions = f->trans;
    f->res.k = c->k;
    f->res.epochs = epochs;
    f->res.train_loss = h[0];
    f->res.train_acc = h[1];
    f->res.val_loss = h[2];
    f->res.val_acc = h[3];
    f->res.lr = h[4];
    f->res.epoch_seconds = h[5];
    f->res.confusion = f->conf;
}

static int same_double(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

/* Checks row id of a loaded file against round `round`; returns a description of the first
 * difference, or NULL. */
static const char *check_done_row(const pf_results *r, int64_t id, int round)
{
    const pf_store_config *c = &r->configs[id];
    pf_store_row want;
    static fixture_result f;
    make_result(c, round, &want, &f);
    const pf_store_row *got = &r->rows[id];
    if (got->status != want.status) return "status";
    if (got->stop != want.stop) return "stop";
    if (!same_double(got->best_val_acc, want.best_val_acc)) return "best_val_acc";
    if (!same_double(got->final_val_acc, want.final_val_acc)) return "final_val_acc";
    if (!same_double(got->heldout_acc, want.heldout_acc)) return "heldout_acc";
    if (!same_double(got->poisoned_val_acc, want.poisoned_val_acc)) return "poisoned_val_acc";
    if (got->best_epoch != want.best_epoch || got->epochs != want.epochs) return "epochs";
    if (got->n_poisoned != want.n_poisoned || got->n_val_poisoned != want.n_val_poisoned)
        return "poisoned counts";
    if (!same_double(got->learned_poison, want.learned_poison)
        || !same_double(got->learned_true, want.learned_true))
        return "learned fractions";
    if (!same_double(got->noise_rate, want.noise_rate)) return "noise_rate";
    if (!same_double(got->detect_auroc, want.detect_auroc) || !same_double(got->detect_precision, want.detect_precision)
        || !same_double(got->detect_recall, want.detect_recall) || !same_double(got->detect_top1, want.detect_top1)
        || !same_double(got->detect_top5, want.detect_top5) || !same_double(got->detect_top10, want.detect_top10)
        || got->detect_flagged != want.detect_flagged)
        return "detection";
    if (got->train_seconds != want.train_seconds) return "train_seconds";
    if (got->rank != want.rank) return "rank";
    if (strcmp(got->host, want.host) != 0) return "host";
    if (strcmp(got->reason, want.reason) != 0) return "reason";
    if (got->isa != want.isa) return "isa";
    for (int k = 0; k < 6; k++)
        for (int32_t e = 0; e < r->max_epochs; e++) {
            double w = e < c->cfg.max_epochs ? f.h[k][e] : NAN;
            if (!same_double(r->history[k][id * r->max_epochs + e], w)) return "history";
        }
    for (int i = 0; i < r->kmax; i++)
        for (int j = 0; j < r->kmax; j++) {
            int32_t w = (i < c->k && j < c->k) ? f.conf[i * c->k + j] : 0;
            if (r->confusion[(id * r->kmax + i) * r->kmax + j] != w) return "confusion";
            w = (i < c->k && j < c->k) ? f.trans[i * c->k + j] : 0;
            if (r->transitions[(id * r->kmax + i) * r->kmax + j] != w) return "transitions";
        }
    for (int j = 0; j < PF_SUSPECTS; j++) {
        const pf_suspect *a = &r->suspects[id * PF_SUSPECTS + j], *b = &f.res.suspects[j];
        if (a->item != b->item || a->given != b->given || a->truth != b->truth || a->predicted != b->predicted ||
            !same_double(a->log_prob, b->log_prob))
            return "suspects";
    }
    return NULL;
}

/* Row id holds no transitions and no suspects (a pending, running or failed row). */
static void assert_no_matrices(const pf_results *r, int64_t id)
{
    for (int i = 0; i < r->kmax * r->kmax; i++) assert_int_equal(r->transitions[id * r->kmax * r->kmax + i], 0);
    for (int j = 0; j < PF_SUSPECTS; j++) {
        assert_int_equal(r->suspects[id * PF_SUSPECTS + j].item, -1);
        assert_int_equal(r->suspects[id * PF_SUSPECTS + j].given, -1);
        assert_true(isnan(r->suspects[id * PF_SUSPECTS + j].log_prob));
    }
}

static const char *check_config(const pf_store_config *got, int64_t id)
{
    pf_store_config w;
    make_config(&w, id);
    if (got->id != id) return "id";
    int f = config_diff(&got->cfg, &w.cfg);
    if (f >= 0) return pf_config_fields[f].name;
    if (got->k != w.k || got->n_train != w.n_train) return "k/n_train";
    return NULL;
}

static char tmpdir[256];

static void tpath(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", tmpdir, name);
}

static const char *const fixture_checksums = "mnist/train-images-idx3-ubyte md5 0123\n";

/* The fingerprint of create_file(path, n): that of its configurations and checksums. */
static uint64_t fixture_fingerprint(int64_t n)
{
    pf_store_config *cfgs = calloc((size_t)n, sizeof *cfgs);
    for (int64_t i = 0; i < n; i++) make_config(&cfgs[i], i);
    uint64_t fp = store_configs_fingerprint(cfgs, n, fixture_checksums);
    free(cfgs);
    return fp;
}

static pf_store *create_file(const char *path, int64_t n)
{
    pf_store_config *cfgs = calloc((size_t)n, sizeof *cfgs);
    for (int64_t i = 0; i < n; i++) make_config(&cfgs[i], i);
    const char *checksums = fixture_checksums;
    pf_store_meta meta = {.job_text = "datasets = [\"mnist\"];\n# a job\n",
                          .job_path = "jobs/test.cfg",
                          .fingerprint = store_configs_fingerprint(cfgs, n, checksums),
                          .data_checksums = checksums,
                          .ranks = 3,
                          .epochs_capped = 1,
                          .file_id = "00ff00ff00ff00ff"};
    pf_store *s = store_create(MPI_COMM_WORLD, path, cfgs, n, &meta);
    free(cfgs);
    return s;
}

/* ---- cmocka tests ---- */

static void round_trip(void **state)
{
    (void)state;
    char path[512];
    tpath(path, sizeof path, "round.h5");
    const int64_t n = 6;   /* ids 3 is cifar100: kmax 100 */
    pf_store *s = create_file(path, n);
    assert_int_equal(store_nconfigs(s), n);
    assert_int_equal(store_max_epochs(s), T_MAXEP);
    pf_store_row row;
    static fixture_result f;
    pf_store_config c;
    for (int64_t id = 0; id < 4; id++) {
        make_config(&c, id);
        store_write_running(s, id, 1, "somehost");
        make_result(&c, 0, &row, &f);
        store_write_result(s, id, &row, &f.res);
    }
    store_write_running(s, 4, 2, "runner");
    /* A failure without a result: history stays NaN, confusion zero. */
    make_config(&c, 5);
    pf_store_row failed;
    memset(&failed, 0, sizeof failed);
    failed.status = PF_STATUS_FAILED;
    failed.best_val_acc = failed.final_val_acc = failed.heldout_acc = failed.poisoned_val_acc = NAN;
    failed.best_epoch = failed.epochs = -1;
    failed.n_poisoned = failed.n_val_poisoned = -1;
    failed.learned_poison = failed.learned_true = failed.train_seconds = NAN;
    snprintf(failed.reason, sizeof failed.reason, "data file unreadable");
    store_write_result(s, 5, &failed, NULL);

    pf_status st[6];
    store_read_status(s, st);
    assert_int_equal(st[0], PF_STATUS_DONE);
    assert_int_equal(st[4], PF_STATUS_RUNNING);
    assert_int_equal(st[5], PF_STATUS_FAILED);
    pf_store_config back[6];
    store_read_configs(s, back);
    for (int64_t id = 0; id < n; id++) assert_null(check_config(&back[id], id));
    store_close(s);

    pf_results r;
    pf_error err = {0};
    assert_int_equal(store_load(path, &r, &err), 0);
    assert_int_equal(r.n, n);
    assert_int_equal(r.kmax, T_KMAX);
    assert_int_equal(r.max_epochs, T_MAXEP);
    assert_string_equal(r.job_text, "datasets = [\"mnist\"];\n# a job\n");
    assert_true(r.fingerprint == fixture_fingerprint(n));
    assert_string_equal(r.file_id, "00ff00ff00ff00ff");
    assert_int_equal(r.epochs_capped, 1);
    assert_int_equal(r.nruns, 0);
    for (int64_t id = 0; id < n; id++) {
        const char *bad = check_config(&r.configs[id], id);
        if (bad) fail_msg("config %lld: %s", (long long)id, bad);
    }
    for (int64_t id = 0; id < 4; id++) {
        const char *bad = check_done_row(&r, id, 0);
        if (bad) fail_msg("row %lld: %s", (long long)id, bad);
    }
    /* Row 4: running, and otherwise the fill values. */
    assert_int_equal(r.rows[4].status, PF_STATUS_RUNNING);
    assert_int_equal(r.rows[4].rank, 2);
    assert_string_equal(r.rows[4].host, "runner");
    assert_true(isnan(r.rows[4].best_val_acc) && isnan(r.rows[4].train_seconds));
    assert_int_equal(r.rows[4].epochs, -1);
    assert_int_equal(r.rows[4].n_poisoned, -1);
    assert_int_equal(r.rows[4].stop, PF_STOP_NONE);
    assert_int_equal(r.rows[4].isa, PF_ISA_AUTO); /* no result: "none" */
    assert_true(isnan(r.rows[4].noise_rate) && isnan(r.rows[4].detect_auroc) && isnan(r.rows[4].detect_top10));
    assert_int_equal(r.rows[4].detect_flagged, -1);
    assert_no_matrices(&r, 4);
    /* Row 5: failed with its reason, NaN history, zero confusion. */
    assert_int_equal(r.rows[5].status, PF_STATUS_FAILED);
    assert_string_equal(r.rows[5].reason, "data file unreadable");
    assert_int_equal(r.rows[5].best_epoch, -1);
    for (int k = 0; k < 6; k++)
        for (int e = 0; e < T_MAXEP; e++) assert_true(isnan(r.history[k][5 * T_MAXEP + e]));
    for (int i = 0; i < T_KMAX * T_KMAX; i++) assert_int_equal(r.confusion[5 * T_KMAX * T_KMAX + i], 0);
    assert_no_matrices(&r, 5);
    /* A diverged row keeps its reason (id 4 + round 0 would be; id 3 is done). */
    assert_int_equal(r.rows[3].status, PF_STATUS_DONE);
    store_results_free(&r);

    /* Reopen: reset a done row to pending (a retry), write a pending-row check. */
    s = store_open(MPI_COMM_WORLD, path, NULL, -1);
    assert_int_equal(store_nconfigs(s), n);
    store_write_pending(s, 2);
    store_close(s);
    assert_int_equal(store_load(path, &r, &err), 0);
    assert_int_equal(r.rows[2].status, PF_STATUS_PENDING);
    assert_true(isnan(r.rows[2].best_val_acc) && isnan(r.rows[2].heldout_acc)
                && isnan(r.rows[2].learned_true));
    assert_int_equal(r.rows[2].epochs, -1);
    assert_int_equal(r.rows[2].best_epoch, -1);
    assert_int_equal(r.rows[2].rank, -1);
    assert_int_equal(r.rows[2].n_val_poisoned, -1);
    assert_string_equal(r.rows[2].host, "");
    assert_int_equal(r.rows[2].isa, PF_ISA_AUTO);
    for (int e = 0; e < T_MAXEP; e++) assert_true(isnan(r.history[3][2 * T_MAXEP + e]));
    for (int i = 0; i < T_KMAX * T_KMAX; i++) assert_int_equal(r.confusion[2 * T_KMAX * T_KMAX + i], 0);
    assert_no_matrices(&r, 2);
    assert_true(isnan(r.rows[2].detect_recall));
    assert_null(check_done_row(&r, 1, 0));   /* its neighbours untouched */
    assert_null(check_done_row(&r, 3, 0));
    store_results_free(&r);
}

/* Runs cmd, returns its whole standard output (free it), or NULL. */
static char *run_capture(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    if (p == NULL) return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += got;
        if (cap - len < 4096) buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    if (pclose(p) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void h5dump_shows_names_and_attributes(void **state)
{
    (void)state;
    if (system("command -v h5dump >/dev/null 2>&1") != 0) skip();
    char path[512], cmd[1024];
    tpath(path, sizeof path, "dump.h5");
    pf_store *s = create_file(path, 4);
    pf_store_row row;
    static fixture_result f;
    pf_store_config c;
    make_config(&c, 1);
    make_result(&c, 0, &row, &f);
    store_write_result(s, 1, &row, &f.res);
    store_close(s);

    snprintf(cmd, sizeof cmd, "h5dump -d /configs -d /results '%s'", path);
    char *out = run_capture(cmd);
    assert_non_null(out);
    const char *want[] = {"H5T_ENUM", "\"mnist\"", "\"fashion_mnist\"", "\"cifar10\"",
                          "\"cifar100\"", "\"random\"", "\"biased\"", "\"seed\"", "\"wide\"",
                          "\"split\"", "\"true\"", "\"false\"", "\"pending\"", "\"done\"",
                          "\"early\"", "\"none\"", "\"host-1\"", "poison_validation", "n_train",
                          "\"first_wrong\"", "\"pairflip\"", "\"asymmetric\"", "\"file\"", "noise_rate",
                          "detect_auroc", "detect_precision", "detect_recall", "detect_top1",
                          "detect_top5", "detect_top10", "detect_flagged", "H5T_STR_NULLTERM",
                          "\"isa\";", "\"avx2\"", "\"avx512\"", "\"scalar\""};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (strstr(out, want[i]) == NULL) fail_msg("h5dump output lacks %s", want[i]);
    /* /configs has a column for every field of the configuration table. */
    for (int fi = 0; fi < PF_NFIELDS; fi++) {
        char member[64];
        snprintf(member, sizeof member, "\"%s\";", pf_config_fields[fi].name);
        if (strstr(out, member) == NULL) fail_msg("/configs lacks the field %s", pf_config_fields[fi].name);
    }
    /* pending rows show as pending with NaN accuracies; the enum data, not a number */
    assert_non_null(strstr(out, "pending,"));
    free(out);
    /* The transitions and the suspects, by name. */
    snprintf(cmd, sizeof cmd, "h5dump -H -d /transitions -d /suspects '%s'", path);
    out = run_capture(cmd);
    assert_non_null(out);
    const char *more[] = {"DATASET \"/transitions\"", "H5T_STD_I32LE", "DATASET \"/suspects\"", "\"item\"",
                          "\"given_label\"", "\"true_label\"", "\"predicted\"", "\"log_prob\""};
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
        if (strstr(out, more[i]) == NULL) fail_msg("h5dump output lacks %s", more[i]);
    free(out);

    snprintf(cmd, sizeof cmd, "h5dump -A '%s'", path);
    out = run_capture(cmd);
    assert_non_null(out);
    const char *attrs[] = {"poisonfarm_version", "git_commit", "compiler", "cflags",
                           "openblas_config", "openblas_core", "job_text", "job_path", "fingerprint",
                           "file_id", "epochs_capped", "created", "ranks",
                           "data_checksums", "poisonfarm_format",
                           "jobs/test.cfg", PF_VERSION};
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
        if (strstr(out, attrs[i]) == NULL) fail_msg("h5dump -A output lacks %s", attrs[i]);
    free(out);
}

static void inspect_missing(void **state)
{
    (void)state;
    char path[512];
    tpath(path, sizeof path, "nothing-here.h5");
    pf_store_info info;
    pf_error err = {0};
    info.exists = 7;
    assert_int_equal(store_inspect(path, &info, &err), 0);
    assert_int_equal(info.exists, 0);
    pf_results r;
    assert_int_equal(store_load(path, &r, &err), -1);
    assert_non_null(strstr(err.msg, path));
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len) assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void inspect_empty_file(void **state)
{
    (void)state;
    char path[512];
    tpath(path, sizeof path, "empty.h5");
    write_file(path, "", 0);
    pf_store_info info;
    pf_error err = {0};
    assert_int_equal(store_inspect(path, &info, &err), -1);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "empty"));
    assert_null(strchr(err.msg, '\n'));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 0);   /* never opened read-write: still 0 bytes */
    pf_results r;
    assert_int_equal(store_load(path, &r, &err), -1);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 0);
}

static void inspect_not_hdf5(void **state)
{
    (void)state;
    char path[512];
    tpath(path, sizeof path, "text.h5");
    const char text[] = "this is not an HDF5 file\nat all\n";
    write_file(path, text, sizeof text - 1);
    pf_store_info info;
    pf_error err = {0};
    assert_int_equal(store_inspect(path, &info, &err), -1);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "not an HDF5 file"));
    assert_null(strchr(err.msg, '\n'));
}

static void inspect_foreign_hdf5(void **state)
{
    (void)state;
    char path[512];
    tpath(path, sizeof path, "foreign.h5");
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    hsize_t dims[1] = {4};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t d = H5Dcreate2(f, "results", H5T_NATIVE_INT, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0);
    H5Dclose(d);
    H5Sclose(sp);
    H5Fclose(f);
    pf_store_info info;
    pf_error err = {0};
    assert_int_equal(store_inspect(path, &info, &err), -1);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "not a poisonfarm results file"));
    pf_results r;
    assert_int_equal(store_load(path, &r, &err), -1);
    assert_non_null(strstr(err.msg, "not a poisonfarm results file"));
}

static void inspect_good_file(void **state)
{
    (void)state;
    char path[512];
    tpath(path, sizeof path, "good.h5");
    pf_store *s = create_file(path, 7);
    pf_store_row row;
    static fixture_result f;
    pf_store_config c;
    for (int64_t id = 0; id < 3; id++) {   /* id 0..2, round 0: all done */
        make_config(&c, id);
        make_result(&c, 0, &row, &f);
        store_write_result(s, id, &row, &f.res);
    }
    make_config(&c, 4);
    make_result(&c, 0, &row, &f);   /* (4 + 0) % 5 == 4: diverged */
    store_write_result(s, 4, &row, &f.res);
    store_write_running(s, 5, 0, "h");
    store_close(s);
    pf_store_info info;
    pf_error err = {0};
    assert_int_equal(store_inspect(path, &info, &err), 0);
    assert_int_equal(info.exists, 1);
    assert_int_equal(info.nconfigs, 7);
    assert_true(info.fingerprint == fixture_fingerprint(7));
    assert_string_equal(info.file_id, "00ff00ff00ff00ff");
    assert_int_equal(info.count[PF_STATUS_DONE], 3);
    assert_int_equal(info.count[PF_STATUS_DIVERGED], 1);
    assert_int_equal(info.count[PF_STATUS_RUNNING], 1);
    assert_int_equal(info.count[PF_STATUS_PENDING], 2);
    assert_int_equal(info.count[PF_STATUS_FAILED], 0);
}

/* Every file says whether it holds real results; a dry run's file and its simulated rows are
 * told apart by inspect and load. */
static void simulated_file_marked(void **state)
{
    (void)state;
    char path[512], real[512];
    tpath(path, sizeof path, "dry.h5");
    tpath(real, sizeof real, "real.h5");
    pf_store_config cfgs[2];
    make_config(&cfgs[0], 0);
    make_config(&cfgs[1], 1);
    pf_store_meta meta = {.job_text = "x", .job_path = "j.cfg", .fingerprint = store_configs_fingerprint(cfgs, 2, ""),
                          .data_checksums = "", .ranks = 1, .epochs_capped = 1, .file_id = "ab",
                          .dry_run_scale = 0.25};
    pf_store *s = store_create(MPI_COMM_WORLD, path, cfgs, 2, &meta);
    pf_store_row row;
    store_row_simulated(&row, 0, "h", 3.5, 0.25);
    store_write_result(s, 1, &row, NULL);
    store_close(s);
    store_close(create_file(real, 2));

    pf_store_info info;
    pf_error err = {0};
    assert_int_equal(store_inspect(path, &info, &err), 0);
    assert_int_equal(info.simulated, 1);
    assert_int_equal(info.count[PF_STATUS_SIMULATED], 1);
    assert_int_equal(info.count[PF_STATUS_PENDING], 1);
    assert_int_equal(store_inspect(real, &info, &err), 0);
    assert_int_equal(info.simulated, 0);

    pf_results r;
    assert_int_equal(store_load(path, &r, &err), 0);
    assert_int_equal(r.simulated, 1);
    assert_true(r.dry_run_scale == 0.25);
    assert_int_equal(r.rows[1].status, PF_STATUS_SIMULATED);
    assert_true(r.rows[1].train_seconds == 3.5);
    store_results_free(&r);
    assert_int_equal(store_load(real, &r, &err), 0);
    assert_int_equal(r.simulated, 0);
    assert_true(r.dry_run_scale == 0);
    store_results_free(&r);
}

static void runs_append_twice(void **state)
{
    (void)state;
    char path[512];
    tpath(path, sizeof path, "runs.h5");
    store_close(create_file(path, 2));
    for (int i = 0; i < 2; i++) {
        pf_store *s = store_open(MPI_COMM_WORLD, path, NULL, -1);
        pf_store_run run;
        memset(&run, 0, sizeof run);
        run.start = 1000.0 + i;
        run.end = 2000.5 + i;
        run.run = 7 + i;
        run.ranks = 2 + i;
        run.threads = 1;
        run.nhosts = 1 + i;
        run.configs_done = 5 + i;
        run.efficiency = 0.9 + 0.05 * i;
        snprintf(run.ended, sizeof run.ended, "%s", i ? "complete" : "stopped");
        store_append_run(s, &run);
        store_close(s);
    }
    pf_results r;
    pf_error err = {0};
    assert_int_equal(store_load(path, &r, &err), 0);
    assert_int_equal(r.nruns, 2);
    assert_true(r.runs[0].start == 1000.0 && r.runs[1].end == 2001.5);
    assert_int_equal(r.runs[0].ranks, 2);
    assert_int_equal(r.runs[1].ranks, 3);
    assert_int_equal(r.runs[1].configs_done, 6);
    assert_int_equal(r.runs[0].run, 7);
    assert_int_equal(r.runs[1].nhosts, 2);
    assert_string_equal(r.runs[0].ended, "stopped");
    assert_string_equal(r.runs[1].ended, "complete");
    assert_true(fabs(r.runs[1].efficiency - 0.95) < 1e-12);
    store_results_free(&r);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    double eff = 0;
    hid_t a = H5Aopen(f, "efficiency", H5P_DEFAULT);
    assert_true(a >= 0);
    assert_true(H5Aread(a, H5T_NATIVE_DOUBLE, &eff) >= 0);
    assert_true(fabs(eff - 0.95) < 1e-12);
    H5Aclose(a);
    H5Fclose(f);
}

/* ---- lock ---- */

/* Every run appends its ranks' hosts to /ranks, numbered 0, 1, ... whatever /runs holds; a host
 * name of the full PF_HOST_LEN - 1 characters is kept whole. */
static void ranks_table_per_run(void **state)
{
    (void)state;
    char path[512];
    tpath(path, sizeof path, "ranks.h5");
    pf_store *s = create_file(path, 2);
    pf_store_rank row;
    memset(&row, 0, sizeof row);
    char hosts[PF_HOST_LEN];
    memset(hosts, 'h', sizeof hosts);
    hosts[PF_HOST_LEN - 1] = '\0';
    assert_int_equal(store_begin_run(s, hosts), 0);
    store_close(s);
    for (int i = 1; i <= 2; i++) {
        s = store_open(MPI_COMM_WORLD, path, NULL, -1);
        snprintf(hosts, sizeof hosts, "node-%d", i);
        assert_int_equal(store_begin_run(s, hosts), i);
        store_close(s);
    }
    pf_results r;
    pf_error err = {0};
    assert_int_equal(store_load(path, &r, &err), 0);
    assert_int_equal(r.nrank_rows, 3);
    assert_int_equal(r.nruns, 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r.rank_rows[i].run, i);
        assert_int_equal(r.rank_rows[i].rank, 0);
    }
    assert_int_equal((int)strlen(r.rank_rows[0].host), PF_HOST_LEN - 1);
    assert_string_equal(r.rank_rows[2].host, "node-2");
    store_results_free(&r);
}

static void write_lock(const char *lockfile, const char *host, long pid, const char *job)
{
    char text[512];
    snprintf(text, sizeof text, "host=%s\npid=%ld\njob=%s\nsince=2024-01-01T00:00:00Z\n", host, pid,
             job);
    write_file(lockfile, text, strlen(text));
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void lock_acquire_refuse_release(void **state)
{
    (void)state;
    unsetenv("SLURM_JOB_ID");
    char path[512], lockfile[600];
    tpath(path, sizeof path, "locked.h5");
    snprintf(lockfile, sizeof lockfile, "%s.lock", path);
    pf_error err = {0};
    pf_lock *lk = lock_acquire(path, &err);
    assert_non_null(lk);
    assert_string_equal(lock_path(lk), lockfile);
    assert_true(exists(lockfile));

    /* A second run (here: the same live process) is refused, with holder and remedy named. */
    pf_lock *second = lock_acquire(path, &err);
    assert_null(second);
    char pid[32];
    snprintf(pid, sizeof pid, "pid %ld", (long)getpid());
    assert_non_null(strstr(err.msg, lockfile));
    assert_non_null(strstr(err.msg, pid));
    assert_non_null(strstr(err.msg, "rm '"));
    assert_null(strchr(err.msg, '\n'));

    /* And from another process too. */
    /* The child answers through a pipe, not its exit status (which valgrind may replace). */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t child = fork();
    if (child == 0) {
        lock_forget(lk); /* the parent's lock stays; the child only drops its copy of the handle */
        pf_error e2 = {0};
        pf_lock *l2 = lock_acquire(path, &e2);
        char verdict = l2 == NULL && strstr(e2.msg, "in use") != NULL ? 'y' : 'n';
        if (write(fds[1], &verdict, 1) != 1) _exit(1);
        _exit(0);
    }
    close(fds[1]);
    char verdict = 0;
    assert_int_equal(read(fds[0], &verdict, 1), 1);
    close(fds[0]);
    assert_int_equal(waitpid(child, NULL, 0), child);
    assert_int_equal(verdict, 'y');

    lock_release(lk);
    assert_false(exists(lockfile));
    lk = lock_acquire(path, &err);   /* free again */
    assert_non_null(lk);
    lock_release(lk);
    assert_false(exists(lockfile));
}

static void lock_stale_dead_pid_taken_over(void **state)
{
    (void)state;
    unsetenv("SLURM_JOB_ID");
    char path[512], lockfile[600], host[256];
    tpath(path, sizeof path, "stale.h5");
    snprintf(lockfile, sizeof lockfile, "%s.lock", path);
    gethostname(host, sizeof host);
    pid_t child = fork();
    if (child == 0) _exit(0);
    waitpid(child, NULL, 0);   /* now a pid that is surely gone */
    write_lock(lockfile, host, (long)child, "none");
    pf_error err = {0};
    pf_lock *lk = lock_acquire(path, &err);
    assert_non_null(lk);
    char text[1024] = "";
    FILE *f = fopen(lockfile, "r");
    assert_non_null(f);
    size_t got = fread(text, 1, sizeof text - 1, f);
    text[got] = '\0';
    fclose(f);
    char mine[64];
    snprintf(mine, sizeof mine, "pid=%ld\n", (long)getpid());
    assert_non_null(strstr(text, mine));
    lock_release(lk);

    /* A live process on another host cannot be checked: refused. */
    write_lock(lockfile, "some-other-node", 12345, "777");
    assert_null(lock_acquire(path, &err));
    assert_non_null(strstr(err.msg, "some-other-node"));
    assert_non_null(strstr(err.msg, "777"));
    /* The holder's pid (1) is alive on this host: refused too. */
    write_lock(lockfile, host, 1, "none");
    assert_null(lock_acquire(path, &err));
    unlink(lockfile);

    /* A zombie (a killed rank nobody reaped yet) is dead: taken over. */
    pid_t zombie = fork();
    if (zombie == 0) _exit(0);
    char stat_path[64], st[256] = "";
    snprintf(stat_path, sizeof stat_path, "/proc/%ld/stat", (long)zombie);
    for (int i = 0; i < 200; i++) { /* until it has exited (state Z), at most 2 s */
        FILE *z = fopen(stat_path, "r");
        size_t k = z ? fread(st, 1, sizeof st - 1, z) : 0;
        if (z) fclose(z);
        st[k] = '\0';
        const char *c = strrchr(st, ')');
        if (c != NULL && c[2] == 'Z') break;
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    assert_int_equal(kill(zombie, 0), 0); /* still there for kill(), as a zombie */
    write_lock(lockfile, host, (long)zombie, "none");
    lk = lock_acquire(path, &err);
    assert_non_null(lk);
    lock_release(lk);
    waitpid(zombie, NULL, 0);
}

static void lock_same_slurm_job_taken_over(void **state)
{
    (void)state;
    char path[512], lockfile[600];
    tpath(path, sizeof path, "requeue.h5");
    snprintf(lockfile, sizeof lockfile, "%s.lock", path);
    write_lock(lockfile, "node-before-requeue", 4242, "98765");
    pf_error err = {0};
    setenv("SLURM_JOB_ID", "11111", 1);
    assert_null(lock_acquire(path, &err));     /* another job's lock */
    assert_non_null(strstr(err.msg, "98765"));
    setenv("SLURM_JOB_ID", "98765", 1);
    pf_lock *lk = lock_acquire(path, &err);     /* our own job before a requeue */
    assert_non_null(lk);
    /* Release removes only our own lock: a lock rewritten by someone else stays. */
    write_lock(lockfile, "node-x", 77, "5");
    lock_release(lk);
    assert_true(exists(lockfile));
    unlink(lockfile);
    unsetenv("SLURM_JOB_ID");
}

static void lock_unreadable_refused(void **state)
{
    (void)state;
    char path[512], lockfile[600];
    tpath(path, sizeof path, "garbled.h5");
    snprintf(lockfile, sizeof lockfile, "%s.lock", path);
    write_file(lockfile, "garbage", 7);
    pf_error err = {0};
    assert_null(lock_acquire(path, &err));
    assert_non_null(strstr(err.msg, lockfile));
    assert_non_null(strstr(err.msg, "rm '"));
    assert_true(exists(lockfile));
    unlink(lockfile);
}

/* ---- MPI driver modes (tests/integ/store_mpi.sh) ---- */

static int nranks(void)
{
    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return size;
}

static int verify_file(const char *path, int64_t n, int require_all_done, int64_t *ndone)
{
    pf_results r;
    pf_error err = {0};
    if (store_load(path, &r, &err) != 0) {
        fprintf(stderr, "store_load: %s\n", err.msg);
        return 1;
    }
    int bad = 0;
    *ndone = 0;
    if (r.n != n) {
        fprintf(stderr, "%s: %lld rows, expected %lld\n", path, (long long)r.n, (long long)n);
        bad = 1;
    }
    for (int64_t id = 0; id < r.n && !bad; id++) {
        const char *why = check_config(&r.configs[id], id);
        if (why) {
            fprintf(stderr, "config %lld: %s differs\n", (long long)id, why);
            bad = 1;
        }
        pf_status st = r.rows[id].status;
        if (st == PF_STATUS_DONE || st == PF_STATUS_DIVERGED) {
            (*ndone)++;
            double round = r.rows[id].train_seconds;
            if (!(round >= 0 && round == floor(round))) why = "train_seconds (round)";
            else why = check_done_row(&r, id, (int)round);
            if (why) {
                fprintf(stderr, "row %lld is %s but its %s is inconsistent\n", (long long)id,
                        status_name(st), why);
                bad = 1;
            }
        } else if (require_all_done) {
            fprintf(stderr, "row %lld is %s, expected done\n", (long long)id, status_name(st));
            bad = 1;
        }
    }
    store_results_free(&r);
    return bad;
}

/* /ranks after two runs of size ranks each: run 0 then run 1, rank r on host-r. */
static int verify_ranks(const char *path, int size)
{
    pf_results r;
    pf_error err = {0};
    if (store_load(path, &r, &err) != 0) {
        fprintf(stderr, "store_load: %s\n", err.msg);
        return 1;
    }
    int bad = r.nrank_rows != 2 * (int64_t)size;
    for (int64_t i = 0; i < r.nrank_rows && !bad; i++) {
        char want[PF_HOST_LEN];
        snprintf(want, sizeof want, "host-%d", (int)(i % size));
        bad = r.rank_rows[i].run != (int32_t)(i / size) || r.rank_rows[i].rank != (int32_t)(i % size)
              || strcmp(r.rank_rows[i].host, want) != 0;
    }
    if (bad) fprintf(stderr, "/ranks: %lld rows, not run 0 and 1 of ranks 0..%d on host-<rank>\n",
                     (long long)r.nrank_rows, size - 1);
    store_results_free(&r);
    return bad;
}

static int mpi_write(const char *path, int64_t n)
{
    int rank, size = nranks();
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    pf_store *s = create_file(path, n);
    /* Rank r "runs on" host-r: one /ranks row per rank. */
    char *hosts = calloc((size_t)size, PF_HOST_LEN);
    for (int r = 0; r < size; r++) snprintf(hosts + (size_t)r * PF_HOST_LEN, PF_HOST_LEN, "host-%d", r);
    int bad_run = store_begin_run(s, rank == 0 ? hosts : NULL) != 0;
    static fixture_result f;
    pf_store_row row;
    pf_store_config c;
    for (int64_t id = rank; id < n; id += size) {
        make_config(&c, id);
        store_write_running(s, id, rank, "w");
        make_result(&c, 0, &row, &f);
        row.rank = (int32_t)(id % 3);
        store_write_result(s, id, &row, &f.res);
    }
    store_close(s);
    /* Every rank reopens and sees every row done, then a /runs row is appended. */
    s = store_open(MPI_COMM_WORLD, path, NULL, -1);
    int bad = bad_run || store_begin_run(s, rank == 0 ? hosts : NULL) != 1;
    free(hosts);
    pf_status *st = malloc((size_t)n * sizeof *st);
    store_read_status(s, st);
    for (int64_t id = 0; id < n; id++)
        bad |= st[id] != PF_STATUS_DONE && st[id] != PF_STATUS_DIVERGED;
    free(st);
    pf_store_run run = {.start = 1, .end = 2, .run = 1, .ranks = size, .threads = 1, .nhosts = size,
                        .configs_done = n, .efficiency = 0.5, .ended = "complete"};
    store_append_run(s, &run);
    store_close(s);
    int any_bad = 0;
    MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0) {
        int64_t ndone = 0;
        if (any_bad) fprintf(stderr, "some rank saw a row not done after reopening\n");
        any_bad |= verify_file(path, n, 1, &ndone);
        any_bad |= verify_ranks(path, size);
        printf("rows done: %lld of %lld on %d ranks\n", (long long)ndone, (long long)n, size);
    }
    MPI_Bcast(&any_bad, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return any_bad;
}

static int mpi_endless(const char *path, int64_t n)
{
    int rank, size = nranks();
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    pf_store *s = create_file(path, n);
    static fixture_result f;
    pf_store_row row;
    pf_store_config c;
    const double t0 = pf_now();
    const struct timespec pause = {0, 1000 * 1000};
    /* Until killed; the 60 s cap keeps a broken test from leaving processes behind. No pause
     * between rows: the kill must be likely to land between two writes of one row. After round 0
     * every row is done once; from then on rows are being rewritten, which is when the test kills
     * the job: rank 0 says when that point is reached. */
    for (int round = 0; pf_now() - t0 < 60; round++) {
        for (int64_t id = rank; id < n; id += size) {
            make_config(&c, id);
            store_write_running(s, id, rank, "w");
            make_result(&c, round, &row, &f);
            store_write_result(s, id, &row, &f.res);
        }
        if (round == 0) {
            MPI_Barrier(MPI_COMM_WORLD);
            if (rank == 0) {
                printf("every row written\n");
                fflush(stdout);
            }
        }
        nanosleep(&pause, NULL);
    }
    store_close(s);
    return 0;
}

/* Rewrites the format attribute of a results file (fixtures of other formats). */
static int set_format(const char *path, int32_t format)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return 1;
    hid_t a = H5Aopen(f, "poisonfarm_format", H5P_DEFAULT);
    int bad = a < 0 || H5Awrite(a, H5T_NATIVE_INT32, &format) < 0;
    if (a >= 0) H5Aclose(a);
    H5Fclose(f);
    return bad;
}

/* A file of another format version is refused with one line that says which format it holds and
 * what to do; store_inspect still reports that format (so --force can move it aside). */
static void inspect_other_format(void **state)
{
    (void)state;
    char path[512];
    tpath(path, sizeof path, "old.h5");
    store_close(create_file(path, 3));
    assert_int_equal(set_format(path, 1), 0);
    pf_store_info info;
    pf_error err = {0};
    assert_int_equal(store_inspect(path, &info, &err), -1);
    assert_int_equal(info.format, 1);
    assert_non_null(strstr(err.msg, "results file format 1 (written by an older poisonfarm)"));
    assert_non_null(strstr(err.msg, "this poisonfarm reads format"));
    assert_null(strchr(err.msg, '\n'));
    pf_results r;
    assert_int_equal(store_load(path, &r, &err), -1);
    assert_non_null(strstr(err.msg, "format 1"));
    assert_int_equal(set_format(path, PF_STORE_FORMAT_CURRENT + 1), 0);
    assert_int_equal(store_inspect(path, &info, &err), -1);
    assert_non_null(strstr(err.msg, "a newer poisonfarm"));
    assert_int_equal(set_format(path, PF_STORE_FORMAT_CURRENT), 0);
    assert_int_equal(store_inspect(path, &info, &err), 0);
    assert_int_equal(info.format, PF_STORE_FORMAT_CURRENT);
}

int main(int argc, char **argv)
{
    pf_error init_err = {0};
    if (pf_mpi_init(&argc, &argv, &init_err) != 0) {
        fprintf(stderr, "%s\n", init_err.msg);
        MPI_Finalize();
        return 1;
    }
    store_quiet_hdf5();
    int rc;
    if (argc >= 4 && strcmp(argv[1], "--mpi-write") == 0) {
        rc = mpi_write(argv[2], atoll(argv[3]));
    } else if (argc >= 4 && strcmp(argv[1], "--mpi-endless") == 0) {
        rc = mpi_endless(argv[2], atoll(argv[3]));
    } else if (argc >= 4 && strcmp(argv[1], "--verify") == 0) {
        int64_t ndone = 0;
        rc = verify_file(argv[2], atoll(argv[3]), 0, &ndone);
        printf("rows done: %lld\n", (long long)ndone);
    } else if (argc >= 4 && strcmp(argv[1], "--set-format") == 0) {
        rc = set_format(argv[2], (int32_t)atoi(argv[3]));
    } else {
        snprintf(tmpdir, sizeof tmpdir, "%s/pf-store.XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (mkdtemp(tmpdir) == NULL) {
            perror("mkdtemp");
            MPI_Finalize();
            return 1;
        }
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(round_trip),
            cmocka_unit_test(simulated_file_marked),
            cmocka_unit_test(h5dump_shows_names_and_attributes),
            cmocka_unit_test(inspect_missing),
            cmocka_unit_test(inspect_empty_file),
            cmocka_unit_test(inspect_not_hdf5),
            cmocka_unit_test(inspect_foreign_hdf5),
            cmocka_unit_test(inspect_good_file),
            cmocka_unit_test(inspect_other_format),
            cmocka_unit_test(runs_append_twice),
            cmocka_unit_test(ranks_table_per_run),
            cmocka_unit_test(lock_acquire_refuse_release),
            cmocka_unit_test(lock_stale_dead_pid_taken_over),
            cmocka_unit_test(lock_same_slurm_job_taken_over),
            cmocka_unit_test(lock_unreadable_refused),
        };
        rc = cmocka_run_group_tests(tests, NULL, NULL);
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    }
    MPI_Finalize();
    return rc;
}
