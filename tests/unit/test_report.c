/* test_report.c -- the report on synthetic results in memory: CSV rows, summary.md values,
 * figures (valid PNG and SVG), partial results, no gnuplot, bad output directory. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "poisonfarm/report.h"
#include "poisonfarm/store.h"

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAXEP 6

/* ---- a synthetic pf_results ---- */

static pf_results *res_new(int64_t cap)
{
    pf_results *r = calloc(1, sizeof *r);
    r->max_epochs = MAXEP;
    r->kmax = 100;
    r->confusion = calloc((size_t)cap * 100 * 100, sizeof *r->confusion);
    r->transitions = calloc((size_t)cap * 100 * 100, sizeof *r->transitions);
    r->suspects = calloc((size_t)cap * PF_SUSPECTS, sizeof *r->suspects);
    for (int64_t i = 0; i < cap * PF_SUSPECTS; i++) r->suspects[i].item = -1;
    r->configs = calloc((size_t)cap, sizeof *r->configs);
    r->rows = calloc((size_t)cap, sizeof *r->rows);
    for (int h = 0; h < 6; h++) {
        r->history[h] = malloc((size_t)cap * MAXEP * sizeof(double));
        for (int64_t i = 0; i < cap * MAXEP; i++) r->history[h][i] = NAN;
    }
    return r;
}

static void res_free(pf_results *r)
{
    free(r->configs);
    free(r->rows);
    free(r->confusion);
    free(r->transitions);
    free(r->suspects);
    for (int h = 0; h < 6; h++) free(r->history[h]);
    free(r);
}

/* Adds a done configuration with accuracy acc (best_val_acc, or heldout_acc for split) and a
 * history of `epochs` epochs ending at acc. Returns its index. */
static int64_t add(pf_results *r, pf_dataset_id d, pf_mode m, int32_t subset, double pct, double acc)
{
    int64_t i = r->n++;
    pf_store_config *c = &r->configs[i];
    config_defaults(&c->cfg);
    c->id = i;
    c->cfg.dataset = d;
    c->cfg.mode = m;
    c->cfg.subset = subset;
    c->cfg.percent = pct;
    c->k = d == PF_DS_CIFAR100 ? 100 : 10;
    c->n_train = subset ? subset : (d <= PF_DS_FASHION_MNIST ? 60000 : 50000);
    pf_store_row *w = &r->rows[i];
    w->status = PF_STATUS_DONE;
    w->stop = PF_STOP_EARLY;
    w->best_val_acc = acc;
    w->final_val_acc = acc - 0.001;
    w->heldout_acc = NAN;
    w->poisoned_val_acc = NAN;
    w->best_epoch = 3;
    w->epochs = 4;
    w->n_poisoned = (int64_t)llround(c->n_train * pct / 100.0);
    w->learned_poison = pct > 0 ? 0.1 + pct / 1000.0 : NAN;
    w->learned_true = pct > 0 ? 0.8 : NAN;
    /* Detection: AUROC falls from 0.95 as the poison grows; none on a clean set. */
    w->noise_rate = (double)w->n_poisoned / (double)c->n_train;
    w->detect_auroc = pct > 0 ? 0.95 - pct / 500.0 : NAN;
    w->detect_precision = pct > 0 ? 0.75 : NAN;
    w->detect_recall = pct > 0 ? 0.5 : NAN;
    w->detect_top1 = pct > 0 ? 1.0 : NAN;
    w->detect_top5 = pct > 0 ? 0.9 : NAN;
    w->detect_top10 = pct > 0 ? 0.8 : NAN;
    w->detect_flagged = 7;
    w->train_seconds = 12.25 + (double)i;
    w->rank = 0;
    /* Predictions spread over the classes: no collapse unless a test makes one. */
    for (int t = 0; t < c->k; t++) r->confusion[((size_t)i * r->kmax + (size_t)t) * r->kmax + (size_t)t] = 100;
    for (int e = 0; e < 4; e++) {
        r->history[0][i * MAXEP + e] = 2.0 / (e + 1);
        r->history[1][i * MAXEP + e] = acc * (e + 1) / 4.0;
        r->history[2][i * MAXEP + e] = 1.5 / (e + 1);
        r->history[3][i * MAXEP + e] = acc * (0.7 + 0.1 * e);
        r->history[4][i * MAXEP + e] = 1e-3;
        r->history[5][i * MAXEP + e] = 0.5;
    }
    return i;
}

static const double pcts[7] = {0, 10, 25, 50, 75, 90, 100};
/* MNIST random, full: robust (within 5 points of 99 %) up to 50 %, chance at 100 %. */
static const double mnist_full[7] = {0.99, 0.98, 0.96, 0.95, 0.90, 0.50, 0.05};
/* MNIST random, first 1000: clean 93 %: the full set beats it up to 50 %, not at 75 %. */
static const double mnist_1000[7] = {0.93, 0.90, 0.85, 0.70, 0.40, 0.10, 0.02};

/* The standard grid: MNIST random full + 1000, MNIST biased full with two repeats, CIFAR-10 random
 * full with a partial training set (10000 items). */
static pf_results *standard(void)
{
    pf_results *r = res_new(64);
    for (int j = 0; j < 7; j++) add(r, PF_DS_MNIST, PF_MODE_RANDOM, 0, pcts[j], mnist_full[j]);
    for (int j = 0; j < 7; j++) add(r, PF_DS_MNIST, PF_MODE_RANDOM, 1000, pcts[j], mnist_1000[j]);
    for (int rep = 0; rep < 2; rep++)
        for (int j = 0; j < 7; j++) {
            int64_t i = add(r, PF_DS_MNIST, PF_MODE_BIASED, 0, pcts[j],
                            0.9 - 0.008 * pcts[j] + (rep ? 0.1 : -0.1) * (pcts[j] == 25));
            r->configs[i].cfg.repeat = rep;
        }
    for (int j = 0; j < 7; j++) {
        int64_t i = add(r, PF_DS_CIFAR10, PF_MODE_RANDOM, 0, pcts[j], 0.7 - 0.006 * pcts[j]);
        r->configs[i].n_train = 10000;
    }
    return r;
}

/* ---- helpers ---- */

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static char *tmpdir_new(void)
{
    char *t = strdup("/tmp/pf-report-test.XXXXXX");
    assert_non_null(mkdtemp(t));
    return t;
}

static void tmpdir_free(char *t)
{
    nftw(t, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(t);
}

static char *slurp(const char *dir, const char *file)
{
    char path[8600];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

static int exists(const char *dir, const char *file)
{
    char path[8600];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return access(path, F_OK) == 0;
}

/* Splits a CSV line into fields (no quoting in our files). */
static int split(char *line, char **fields, int max)
{
    int n = 0;
    fields[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == ',') {
            *p = '\0';
            fields[n++] = p + 1;
        }
    return n;
}

static int column(char **hdr, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(hdr[i], name) == 0) return i;
    fail_msg("no column %s", name);
    return -1;
}

static double field_double(const char *s) { return s[0] == '\0' ? NAN : strtod(s, NULL); }

static int write_quiet(const pf_results *r, const char *dir)
{
    pf_error err = {0};
    int rc = report_write_results(r, "synthetic", dir, 1, &err);
    if (rc != 0) print_error("report_write_results: %s\n", err.msg);
    return rc;
}

/* ---- tests ---- */

static void csv_rows_match_the_results(void **state)
{
    (void)state;
    setenv("POISONFARM_GNUPLOT", "/nonexistent/gnuplot", 1); /* tables only: fast */
    pf_results *r = standard();
    /* One split configuration: its accuracy column is the held-out one. */
    int64_t s = add(r, PF_DS_FASHION_MNIST, PF_MODE_RANDOM, 0, 0, 0.91);
    r->configs[s].cfg.selection = PF_SEL_SPLIT;
    r->rows[s].heldout_acc = 0.8876543210987654;
    char *dir = tmpdir_new();
    assert_int_equal(write_quiet(r, dir), 0);

    char *csv = slurp(dir, "results.csv");
    assert_non_null(csv);
    char *save = NULL, *line = strtok_r(csv, "\n", &save);
    char *hdr[64];
    int nh = split(line, hdr, 64);
    assert_int_equal(nh, 37);
    int c_id = column(hdr, nh, "id"), c_ds = column(hdr, nh, "dataset"),
        c_mode = column(hdr, nh, "mode"), c_pct = column(hdr, nh, "percent"),
        c_best = column(hdr, nh, "best_val_acc"), c_held = column(hdr, nh, "heldout_acc"),
        c_acc = column(hdr, nh, "accuracy"), c_status = column(hdr, nh, "status"),
        c_sec = column(hdr, nh, "train_seconds"), c_lp = column(hdr, nh, "learned_poison"),
        c_np = column(hdr, nh, "n_poisoned"), c_sel = column(hdr, nh, "selection"),
        c_ntr = column(hdr, nh, "n_train"), c_auc = column(hdr, nh, "detect_auroc"),
        c_noise = column(hdr, nh, "noise_rate"), c_t10 = column(hdr, nh, "detect_top10"),
        c_flag = column(hdr, nh, "detect_flagged");
    int64_t rows = 0;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        char *f[64];
        assert_int_equal(split(line, f, 64), 37);
        int64_t i = strtoll(f[c_id], NULL, 10);
        assert_int_equal(i, rows);
        const pf_store_config *c = &r->configs[i];
        const pf_store_row *w = &r->rows[i];
        assert_string_equal(f[c_ds], dataset_name(c->cfg.dataset));
        assert_string_equal(f[c_mode], poison_mode_name(c->cfg.mode));
        assert_string_equal(f[c_sel], selection_name(c->cfg.selection));
        assert_string_equal(f[c_status], "done");
        assert_true(field_double(f[c_pct]) == c->cfg.percent);
        assert_true(field_double(f[c_best]) == w->best_val_acc); /* exact, not close */
        assert_true(field_double(f[c_sec]) == w->train_seconds);
        assert_int_equal(strtoll(f[c_np], NULL, 10), w->n_poisoned);
        assert_int_equal(strtol(f[c_ntr], NULL, 10), c->n_train);
        if (isnan(w->learned_poison))
            assert_string_equal(f[c_lp], "");
        else
            assert_true(field_double(f[c_lp]) == w->learned_poison);
        if (isnan(w->detect_auroc))
            assert_string_equal(f[c_auc], "");
        else
            assert_true(field_double(f[c_auc]) == w->detect_auroc);
        assert_true(field_double(f[c_noise]) == w->noise_rate);
        assert_true(isnan(w->detect_top10) ? f[c_t10][0] == '\0' : field_double(f[c_t10]) == w->detect_top10);
        assert_int_equal(strtoll(f[c_flag], NULL, 10), w->detect_flagged);
        if (c->cfg.selection == PF_SEL_SPLIT) {
            assert_true(field_double(f[c_held]) == 0.8876543210987654);
            assert_true(field_double(f[c_acc]) == 0.8876543210987654);
        } else {
            assert_string_equal(f[c_held], ""); /* NaN is an empty field */
            assert_true(field_double(f[c_acc]) == w->best_val_acc);
        }
        rows++;
    }
    assert_int_equal(rows, r->n);
    free(csv);

    /* history.csv: 4 epochs per configuration, values exact. */
    char *hist = slurp(dir, "history.csv");
    assert_non_null(hist);
    int64_t lines = 0;
    int found = 0;
    char *p = strchr(hist, '\n') + 1;
    assert_true(strncmp(hist, "id,epoch,train_loss,train_acc,val_loss,val_acc,lr,epoch_seconds",
                        60) == 0);
    while ((line = strtok_r(lines ? NULL : p, "\n", &save)) != NULL) {
        char *f[16];
        assert_int_equal(split(line, f, 16), 8);
        int64_t i = strtoll(f[0], NULL, 10);
        long e = strtol(f[1], NULL, 10);
        assert_true(e >= 1 && e <= 4);
        assert_true(field_double(f[5]) == r->history[3][i * MAXEP + e - 1]);
        found += i == 3 && e == 4;
        lines++;
    }
    assert_int_equal(lines, r->n * 4);
    assert_int_equal(found, 1);
    free(hist);
    tmpdir_free(dir);
    res_free(r);
}

static void summary_has_the_findings(void **state)
{
    (void)state;
    setenv("POISONFARM_GNUPLOT", "/nonexistent/gnuplot", 1);
    pf_results *r = standard();
    r->epochs_capped = 1;
    char *dir = tmpdir_new();
    assert_int_equal(write_quiet(r, dir), 0);
    char *md = slurp(dir, "summary.md");
    assert_non_null(md);
    /* clean, seed's clean, 25/50/75, robust up to, chance at, points */
    assert_non_null(strstr(md, "| mnist | random | 99.0 % | 99.2 % | 96.0 % | 95.0 % | 90.0 % | "
                               "50 % | 100 % | 7 |"));
    assert_non_null(strstr(md, "| mnist | random | 93.0 % | 92-94 % | 85.0 % | 70.0 % | 40.0 % | "
                               "10 % | 90 % | 7 |"));
    /* Repeats: the median (of 0.6 and 0.8 at 25 %: 0.7) with the range. */
    assert_non_null(strstr(md, "| mnist | biased | 90.0 % [90.0-90.0] | 99.2 % | 70.0 % [60.0-80.0] | "
                               "50.0 % [50.0-50.0] | 30.0 % [30.0-30.0] |"));
    assert_non_null(strstr(md, "## Collapsed configurations\n\nNone"));
    /* The headline: full noisy beats clean first 1000 (93 %) up to 50 %, first below at 75 %. */
    assert_non_null(strstr(md, "| mnist | random | 93.0 % | 50 % | 75 % |"));
    /* Biased full: clean 90 % < 93 % from the start. */
    assert_non_null(strstr(md, "| mnist | biased | 93.0 % | never | 0 % |"));
    assert_non_null(strstr(md, "**Partial data**: cifar10's \"full\" training set had 10000 items"));
    assert_non_null(strstr(md, "**Capped epochs**"));
    assert_null(strstr(md, "**Partial results**"));
    assert_non_null(strstr(md, "The pictures need gnuplot"));
    free(md);
    /* The repeats' band in the data file: median, min, max, count, collapsed. */
    char *dat = slurp(dir, "accuracy_full.dat");
    assert_non_null(dat);
    assert_non_null(strstr(dat, "25 0.7 0.6 0.8 2 0\n"));
    free(dat);
    tmpdir_free(dir);
    res_free(r);
}

/* Three repeats, one of which collapsed onto class 0: the point is their median (not the mean),
 * the collapse is listed, ringed in the figure and flagged in results.csv. */
static void repeats_median_and_collapsed(void **state)
{
    (void)state;
    setenv("POISONFARM_GNUPLOT", "/nonexistent/gnuplot", 1);
    pf_results *r = res_new(8);
    add(r, PF_DS_MNIST, PF_MODE_BIASED, 1000, 0, 0.93);
    const double accs[3] = {0.098, 0.80, 0.82};
    int64_t col = -1;
    for (int rep = 0; rep < 3; rep++) {
        int64_t i = add(r, PF_DS_MNIST, PF_MODE_BIASED, 1000, 30, accs[rep]);
        r->configs[i].cfg.repeat = rep;
        if (rep == 0) col = i;
    }
    /* At its best epoch run `col` answered class 0 for 95 % of the items. */
    int32_t *cm = r->confusion + (size_t)col * r->kmax * r->kmax;
    memset(cm, 0, (size_t)r->kmax * r->kmax * sizeof *cm);
    for (int t = 0; t < 10; t++) {
        cm[(size_t)t * r->kmax + 0] = 95;
        cm[(size_t)t * r->kmax + t] += 5;
    }
    int cls;
    double share;
    assert_int_equal(report_collapsed(r, col, &cls, &share), 1);
    assert_int_equal(cls, 0);
    assert_true(fabs(share - 0.955) < 1e-12);
    assert_int_equal(report_collapsed(r, col + 1, &cls, &share), 0);
    char *dir = tmpdir_new();
    assert_int_equal(write_quiet(r, dir), 0);
    char *md = slurp(dir, "summary.md");
    assert_non_null(md);
    assert_non_null(strstr(md, "| mnist | biased | 93.0 % | 92-94 % | 80.0 % [9.8-82.0] (at 30 %) |"));
    char want[160];
    snprintf(want, sizeof want, "| %lld | mnist | biased | 1000 | 30 | 0 | 9.8 %% | 0 | 95.5 %% |", (long long)col);
    assert_non_null(strstr(md, want));
    free(md);
    char *dat = slurp(dir, "accuracy_1000.dat");
    assert_non_null(dat);
    assert_non_null(strstr(dat, "30 0.8 0.098 0.82 3 1\n"));
    free(dat);
    char *gp = slurp(dir, "accuracy_1000.gp");
    assert_non_null(gp);
    assert_non_null(strstr(gp, "keyentry with points pt 6"));
    assert_non_null(strstr(gp, "($6>0 ? $2*100 : NaN) with points pt 6"));
    free(gp);
    char *csv = slurp(dir, "results.csv");
    assert_non_null(csv);
    assert_non_null(strstr(csv, ",0.098,0,1,0.955,"));
    free(csv);
    tmpdir_free(dir);
    res_free(r);
}

static void partial_results_use_the_done_ones(void **state)
{
    (void)state;
    setenv("POISONFARM_GNUPLOT", "/nonexistent/gnuplot", 1);
    pf_results *r = standard();
    /* MNIST random full at 50 % (the first point below 99 - 5 is then 75 %) is still pending,
     * 75 % is running, 90 % failed. */
    r->rows[3].status = PF_STATUS_PENDING;
    r->rows[3].best_val_acc = NAN;
    r->rows[4].status = PF_STATUS_RUNNING;
    r->rows[5].status = PF_STATUS_FAILED;
    snprintf(r->rows[5].reason, sizeof r->rows[5].reason, "bad data");
    char *dir = tmpdir_new();
    assert_int_equal(write_quiet(r, dir), 0);
    char *md = slurp(dir, "summary.md");
    assert_non_null(md);
    assert_non_null(strstr(md, "3 of 35 configurations are missing"));
    assert_non_null(strstr(md, "32 done, 1 pending, 1 running, 1 failed, 0 diverged"));
    /* 4 points left: 0 10 25 100; robust up to 25 (100 is the first below), 50 % shown from the
     * nearest? none within 5: "-". */
    assert_non_null(strstr(md, "| mnist | random | 99.0 % | 99.2 % | 96.0 % | - | - | 25 % | "
                               "100 % | 4 |"));
    assert_non_null(strstr(md, "Configuration 5 (mnist random subset 0, 90 %) failed: bad data"));
    free(md);
    char *csv = slurp(dir, "results.csv");
    assert_non_null(strstr(csv, "\n3,mnist,random,seed,test,0,50,256,0,0,1,10,60000,pending,"));
    free(csv);
    tmpdir_free(dir);
    res_free(r);
}

static void without_gnuplot_scripts_but_no_pictures(void **state)
{
    (void)state;
    setenv("POISONFARM_GNUPLOT", "/nonexistent/gnuplot", 1);
    char gp[4096];
    assert_int_equal(report_find_gnuplot(gp, sizeof gp), 0);
    pf_results *r = standard();
    char *dir = tmpdir_new();
    assert_int_equal(write_quiet(r, dir), 0);
    assert_true(exists(dir, "accuracy_full.gp"));
    assert_true(exists(dir, "accuracy_full.dat"));
    assert_true(exists(dir, "normalised_1000.gp"));
    assert_true(exists(dir, "curves_mnist_random_full.gp"));
    assert_true(exists(dir, "summary.md"));
    assert_false(exists(dir, "accuracy_full.png"));
    assert_false(exists(dir, "accuracy_full.svg"));
    /* No extra axes in this grid: no figures for them. */
    assert_false(exists(dir, "batch_size_full_random.gp"));
    tmpdir_free(dir);
    res_free(r);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void check_png_width(const char *dir, const char *file, uint32_t width)
{
    char path[8600];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "rb");
    if (f == NULL) fail_msg("%s missing", path);
    unsigned char b[24];
    assert_int_equal(fread(b, 1, 24, f), 24);
    fclose(f);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    assert_memory_equal(b, sig, 8);
    assert_memory_equal(b + 12, "IHDR", 4);
    assert_int_equal(be32(b + 16), width);
    assert_int_equal(be32(b + 20), 620);  /* height */
}

static void check_png(const char *dir, const char *file) { check_png_width(dir, file, 1000); }

static void check_svg(const char *dir, const char *file)
{
    char *s = slurp(dir, file);
    if (s == NULL) fail_msg("%s/%s missing", dir, file);
    assert_true(strncmp(s, "<?xml", 5) == 0 || strncmp(s, "<svg", 4) == 0);
    assert_non_null(strstr(s, "</svg>"));
    free(s);
}

static void figures_are_valid_images(void **state)
{
    (void)state;
    unsetenv("POISONFARM_GNUPLOT");
    char gp[4096];
    if (!report_find_gnuplot(gp, sizeof gp)) {
        print_message("gnuplot not found in PATH: install gnuplot-nox\n");
        skip();
    }
    pf_results *r = standard();
    /* An extra axis: batch size 32 for MNIST random full. */
    for (int j = 0; j < 7; j++) {
        int64_t i = add(r, PF_DS_MNIST, PF_MODE_RANDOM, 0, pcts[j], mnist_full[j] - 0.02);
        r->configs[i].cfg.batch_size = 32;
    }
    char *dir = tmpdir_new();
    char nested[4200];
    snprintf(nested, sizeof nested, "%s/a/b", dir); /* parents are created */
    assert_int_equal(write_quiet(r, nested), 0);
    const char *figs[] = {"accuracy_full", "accuracy_1000", "normalised_full",
                          "batch_size_full_random", "curves_mnist_random_full"};
    for (size_t i = 0; i < sizeof figs / sizeof *figs; i++) {
        char png[256], svg[256];
        snprintf(png, sizeof png, "%s.png", figs[i]);
        snprintf(svg, sizeof svg, "%s.svg", figs[i]);
        check_png(nested, png);
        check_svg(nested, svg);
    }
    /* Detection next to accuracy: one picture of two panels. */
    check_png_width(nested, "detection_full.png", 1600);
    check_svg(nested, "detection_full.svg");
    /* Batch 32 is not in the main figure (baseline 256): the 0 % point is 0.99, not 0.97. */
    char *dat = slurp(nested, "accuracy_full.dat");
    assert_non_null(strstr(dat, "# mnist random\n# percent median min max repeats collapsed\n0 0.99 0.99 0.99 1 0\n"));
    free(dat);
    char *md = slurp(nested, "summary.md");
    assert_non_null(strstr(md, "![accuracy_full](accuracy_full.png)"));
    free(md);
    tmpdir_free(dir);
    res_free(r);
}


/* Could the poisoned items have been found: the summary's table (medians, realised noise, "-" for
 * what a point lacks), the detection figure's data and script, transitions.csv and suspects.csv. */
static void detection_tables_and_figure(void **state)
{
    (void)state;
    setenv("POISONFARM_GNUPLOT", "/nonexistent/gnuplot", 1);
    pf_results *r = res_new(32);
    const double lv[3] = {0, 20, 40};
    for (int j = 0; j < 3; j++) {
        add(r, PF_DS_MNIST, PF_MODE_PAIRFLIP, 1000, lv[j], 0.9 - lv[j] / 200.0);
        int64_t i = add(r, PF_DS_MNIST, PF_MODE_ASYMMETRIC, 1000, lv[j], 0.9 - lv[j] / 400.0);
        /* asymmetric changes half of the chosen labels here */
        r->rows[i].noise_rate = lv[j] / 200.0;
    }
    /* Two repeats of pairflip at 40 %: AUROC 0.87 (from add) and 0.67: the median is 0.77. */
    int64_t rep = add(r, PF_DS_MNIST, PF_MODE_PAIRFLIP, 1000, 40, 0.7);
    r->configs[rep].cfg.repeat = 1;
    r->rows[rep].detect_auroc = 0.67;
    /* A failed configuration lists nothing. */
    int64_t bad = add(r, PF_DS_MNIST, PF_MODE_PAIRFLIP, 1000, 60, 0.5);
    r->rows[bad].status = PF_STATUS_FAILED;
    /* Suspects of configuration 4 (pairflip 40 %): two listed items. */
    r->suspects[4 * PF_SUSPECTS + 0] = (pf_suspect){917, 3, 2, 2, -6.5};
    r->suspects[4 * PF_SUSPECTS + 1] = (pf_suspect){12, 7, 7, 1, -1.25};
    r->suspects[bad * PF_SUSPECTS + 0] = (pf_suspect){5, 1, 1, 1, -1};
    /* Transitions of configuration 2 (pairflip 20 %) */
    r->transitions[(2 * 100 + 3) * 100 + 4] = 17;
    r->transitions[(2 * 100 + 3) * 100 + 3] = 80;
    char *dir = tmpdir_new();
    assert_int_equal(write_quiet(r, dir), 0);

    char *md = slurp(dir, "summary.md");
    assert_non_null(md);
    assert_non_null(strstr(md, "## Finding the poisoned items"));
    assert_non_null(strstr(md, "### First 1000 training items\n\n| dataset | mode | level | noise | accuracy | AUROC |"));
    /* level, noise, accuracy, AUROC, precision, recall, top 1/5/10 % (from add) */
    assert_non_null(strstr(md, "| mnist | pairflip | 20 % | 20.0 % | 80.0 % | 0.910 | 75.0 % | 50.0 % | 100.0 % | "
                               "90.0 % | 80.0 % |"));
    assert_non_null(strstr(md, "| mnist | pairflip | 40 % | 40.0 % | 70.0 % | 0.770 |"));
    assert_non_null(strstr(md, "| mnist | asymmetric | 40 % | 20.0 % | 80.0 % | 0.870 |"));
    /* No row at 0 % (nothing to find), none for the failed 60 %. */
    assert_null(strstr(md, "| pairflip | 0 % |"));
    assert_null(strstr(md, "| asymmetric | 0 % |"));
    assert_null(strstr(md, "| pairflip | 60 % |"));
    free(md);

    char *dat = slurp(dir, "detection_1000.dat");
    assert_non_null(dat);
    /* The accuracy blocks, then the AUROC ones (no point at 0 %). */
    assert_non_null(strstr(dat, "# mnist pairflip\n# percent median min max repeats collapsed\n0 0.9 0.9 0.9 1 0\n"));
    assert_non_null(strstr(dat, "# mnist pairflip\n# percent median min max repeats collapsed\n20 0.91 0.91 0.91 1 0\n"
                                "40 0.77 0.67 0.87 2 0\n"));
    free(dat);
    char *gp = slurp(dir, "detection_1000.gp");
    assert_non_null(gp);
    assert_non_null(strstr(gp, "set multiplot layout 1,2"));
    assert_non_null(strstr(gp, "set yrange [0:1]"));
    assert_non_null(strstr(gp, "chance (0.5)"));
    assert_non_null(strstr(gp, "set output \"detection_1000.svg\""));
    free(gp);

    char *csv = slurp(dir, "suspects.csv");
    assert_non_null(csv);
    /* id, rank, item, given, true, predicted, probability (exp of the log: compared loosely), its
     * log (exact), poisoned (given != true). */
    char *save = NULL, *line = strtok_r(csv, "\n", &save);
    assert_string_equal(line, "id,rank,item,given_label,true_label,predicted,prob_given,log_prob_given,poisoned");
    const char *want[2] = {"4,1,917,3,2,2,", "4,2,12,7,7,1,"};
    const char *tail[2] = {",-6.5,1", ",-1.25,0"};
    const double prob[2] = {exp(-6.5), exp(-1.25)};
    for (int j = 0; j < 2; j++) {
        line = strtok_r(NULL, "\n", &save);
        assert_non_null(line);
        assert_int_equal(strncmp(line, want[j], strlen(want[j])), 0);
        assert_true(fabs(strtod(line + strlen(want[j]), NULL) - prob[j]) < 1e-15);
        assert_string_equal(line + strlen(line) - strlen(tail[j]), tail[j]);
    }
    assert_null(strtok_r(NULL, "\n", &save));
    free(csv);
    csv = slurp(dir, "transitions.csv");
    assert_non_null(csv);
    assert_string_equal(csv, "id,true_label,given_label,count\n2,3,3,80\n2,3,4,17\n");
    free(csv);
    tmpdir_free(dir);
    res_free(r);
}

static void unwritable_directory_is_an_error(void **state)
{
    (void)state;
    setenv("POISONFARM_GNUPLOT", "/nonexistent/gnuplot", 1);
    pf_results *r = standard();
    char *dir = tmpdir_new();
    char file[4200], below[4300];
    snprintf(file, sizeof file, "%s/plain", dir);
    FILE *f = fopen(file, "w");
    fclose(f);
    snprintf(below, sizeof below, "%s/sub", file);
    pf_error err = {0};
    assert_int_equal(report_write_results(r, "x", below, 1, &err), -1);
    assert_int_equal(err.kind, PF_ERR_IO);
    assert_non_null(strstr(err.msg, file));
    tmpdir_free(dir);
    res_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_rows_match_the_results),
        cmocka_unit_test(summary_has_the_findings),
        cmocka_unit_test(repeats_median_and_collapsed),
        cmocka_unit_test(partial_results_use_the_done_ones),
        cmocka_unit_test(without_gnuplot_scripts_but_no_pictures),
        cmocka_unit_test(figures_are_valid_images),
        cmocka_unit_test(detection_tables_and_figure),
        cmocka_unit_test(unwritable_directory_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
