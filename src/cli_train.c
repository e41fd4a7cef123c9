/* cli_train.c -- `poisonfarm train`: one configuration in this process (given by options, or
 * replayed from a results file with --from/--id), one line per epoch and a final key=value
 * summary line for scripts. */
#include "poisonfarm/cli.h"

#include "poisonfarm/common.h"
#include "poisonfarm/cpu.h"
#include "poisonfarm/data.h"
#include "poisonfarm/labelfile.h"
#include "poisonfarm/nn.h"
#include "poisonfarm/poison.h"
#include "poisonfarm/store.h"
#include "poisonfarm/train.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* The realised noise: labels changed, and where they went (true -> poisoned counts; the whole
 * table for up to 10 classes, the number changed per class beyond). */
static void print_noise(const pf_dataset *ds, const uint8_t *used, int32_t n)
{
    const int k = ds->k;
    int64_t *counts = pf_calloc((size_t)k * (size_t)k, sizeof *counts);
    int64_t changed = poison_transitions(ds->train.labels, used, n, k, counts);
    if (changed > 0) {
        printf("realised noise: %lld of %d labels changed, rate %.4f (true -> poisoned: count)\n",
               (long long)changed, (int)n, (double)changed / (double)n);
        for (int y = 0; y < k; y++) {
            int64_t row = 0;
            for (int z = 0; z < k; z++) row += z != y ? counts[y * k + z] : 0;
            if (row == 0) continue;
            printf("  %2d -> ", y);
            if (k <= 10) {
                for (int z = 0; z < k; z++)
                    if (z != y && counts[y * k + z] > 0) printf(" %d:%lld", z, (long long)counts[y * k + z]);
                printf("\n");
            } else {
                printf("%lld changed\n", (long long)row);
            }
        }
    }
    free(counts);
}

static void usage(FILE *out)
{
    fputs("usage: poisonfarm train --dataset NAME --mode MODE --subset N --percent P [options]\n"
          "       poisonfarm train --from RESULTS.h5 --id N [--threads T] [--isa PATH] [--data-dir DIR]\n"
          "                        [--quiet]\n"
          "\n"
          "Trains one configuration in this process (no mpirun needed), prints one line per\n"
          "epoch and ends with one line of key=value pairs (accuracies as fractions). With\n"
          "--from, configuration N of a results file is replayed with every setting taken from\n"
          "the file, and its metrics are printed next to the stored ones.\n"
          "\n"
          "configuration (the same fields and ranges as a job file, docs/job-files.md):\n",
          out);
    pf_config def;
    config_defaults(&def);
    for (int f = 0; f < PF_NFIELDS; f++) {
        const pf_field *d = &pf_config_fields[f];
        char opt[64], val[64], what[160];
        if (d->cli == NULL) continue; /* derived: computed, not given */
        if (d->kind == PF_FK_BOOL)
            snprintf(opt, sizeof opt, "--%s[=false]", d->cli);
        else
            snprintf(opt, sizeof opt, "--%s %s", d->cli,
                     d->kind == PF_FK_ENUM  ? "NAME"
                     : d->kind == PF_FK_F64 ? "X"
                     : d->kind == PF_FK_STR ? "PATH"
                                            : "N");
        config_format_value(&def, f, val, sizeof val);
        if (d->kind == PF_FK_STR && val[0] == '\0') snprintf(val, sizeof val, "none");
        if (d->kind == PF_FK_ENUM) {
            size_t len = (size_t)snprintf(what, sizeof what, "%s:", d->help);
            for (int e = 0; e < d->enum_count && len < sizeof what; e++)
                len += (size_t)snprintf(what + len, sizeof what - len, " %s", d->enum_name(e));
        } else {
            snprintf(what, sizeof what, "%s", d->help);
        }
        if (d->flags & PF_FIELD_REQUIRED)
            fprintf(out, "  %-28s %s (required)\n", opt, what);
        else
            fprintf(out, "  %-28s %s (%s)\n", opt, what, val);
    }
    fputs("options:\n"
          "  --threads T                  compute threads (1); results do not depend on it\n"
          "  --isa PATH                   the kernels' path: auto (this CPU's default), scalar,\n"
          "                               avx2, avx512; avx2 and avx512 give identical results\n"
          "  --data-dir DIR               data directory (default: $POISONFARM_DATA, then ./data)\n"
          "  --quiet                      only the summary line\n"
          "  --help\n"
          "\n"
          "SIGINT, SIGTERM and SIGUSR1 stop after the current batch (the unfinished epoch is\n"
          "discarded) with exit status 4.\n",
          out);
}

static int bad_usage(const char *fmt, const char *arg)
{
    fputs("poisonfarm train: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n\n", stderr);
    usage(stderr);
    return PF_EXIT_USAGE;
}

/* Strict integer parsing: the whole argument, within [lo, hi]. */
static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* 80874 -> "80,874". */
static void with_commas(size_t v, char *buf, size_t size)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%zu", v);
    size_t n = strlen(digits), o = 0;
    for (size_t i = 0; i < n && o + 2 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

typedef struct {
    int quiet;
    int max_epochs;
} epoch_printer;

static void print_epoch(void *ctx, const pf_trainer *t)
{
    const epoch_printer *p = ctx;
    if (p->quiet) return;
    const pf_result *r = trainer_result(t);
    int h = r->epochs - 1;
    printf("epoch %3d/%d  train loss %.4f acc %6.2f%%  val loss %.4f acc %6.2f%%  lr %.1e  %.1f s%s\n",
           r->epochs, p->max_epochs, r->train_loss[h], 100.0 * r->train_acc[h], r->val_loss[h],
           100.0 * r->val_acc[h], r->lr[h], r->epoch_seconds[h], r->best_epoch == r->epochs ? "  *" : "");
    fflush(stdout);
}

/* What a replay compares against: the stored row of configuration `id` of `path`. */
typedef struct {
    const char *path;
    int64_t id;
    const pf_store_row *row;
} replay_info;

static void print_metrics(const char *who, pf_stop stop, int32_t epochs, int32_t best_epoch,
                          double best, double final, double heldout, double learned_poison,
                          double learned_true, double auroc)
{
    printf("%-9s best %.6f at epoch %d, final %.6f, heldout %.6f, %d epochs (%s), learned poison "
           "%.6f true %.6f, detection AUROC %.6f\n",
           who, best, (int)best_epoch, final, heldout, (int)epochs, stop_name(stop), learned_poison,
           learned_true, auroc);
}

/* Detection at the best epoch, for people (train.h). */
static void print_detection(const pf_result *r)
{
    const pf_detect *d = &r->detect;
    if (r->best_epoch < 0) return;
    if (r->n_poisoned > 0)
        printf("detection at the best epoch (score: probability of the given label): AUROC %.4f; "
               "prediction != given label flags %lld items, precision %.4f, recall %.4f; poisoned "
               "among the most suspicious 1/5/10 %%: %.1f/%.1f/%.1f %%\n",
               d->auroc, (long long)d->flagged, d->precision, d->recall, 100.0 * d->top[0],
               100.0 * d->top[1], 100.0 * d->top[2]);
    printf("most suspicious training items (item: given -> predicted, p(given)):");
    for (int j = 0; j < 5 && j < PF_SUSPECTS && r->suspects[j].item >= 0; j++)
        printf(" %d: %d -> %d, %.3g;", (int)r->suspects[j].item, (int)r->suspects[j].given,
               (int)r->suspects[j].predicted, exp(r->suspects[j].log_prob));
    printf(" ...\n");
}

/* Doubles equal bit for bit, NaN equal to NaN: a replay is exact or it is not. */
static int same_double(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

/* Loads the data, trains cfg and prints the epoch lines and the summary line. */
static int train_and_report(const pf_config *cfg, long threads, pf_isa isa, const char *data_dir_arg,
                            int quiet, const replay_info *replay)
{
    int status = PF_EXIT_FAIL;
    pf_dataset ds;
    memset(&ds, 0, sizeof ds);
    pf_trainer *t = NULL;
    pf_error err = {0};
    char dir[PF_PATH_MAX];
    if (dataset_resolve_dir(data_dir_arg, NULL, dir) != 0) {
        cli_error("data directory path too long");
        return PF_EXIT_USAGE;
    }

    /* Handlers before the long data load, so an early Ctrl-C is graceful too. */
    pf_install_stop_signals();

    if (dataset_load(&ds, cfg->dataset, dir, 0, &err) != 0) {
        cli_error("%s", err.msg);
        status = PF_EXIT_USAGE;
        goto cleanup;
    }
    t = trainer_create(cfg, &ds, (int)threads, &err);
    if (t == NULL || trainer_set_isa(t, isa, &err) != 0) {
        cli_error("%s", err.msg);
        status = PF_EXIT_USAGE;
        goto cleanup;
    }
    blas_core_warn(); /* after validation: a user error stays one line */
    const pf_result *r = trainer_result(t);
    if (!quiet) {
        char np[32];
        with_commas(trainer_param_count(t), np, sizeof np);
        if (replay != NULL)
            printf("replaying configuration %lld of %s\n", (long long)replay->id, replay->path);
        printf("model %s: %s parameters (%dx%dx%d input, %d classes)\n", model_kind_name(cfg->model),
               np, ds.h, ds.w, ds.c, ds.k);
        printf("data: %s from %s: %d of %d training items, %lld poisoned (%s, %g %%); "
               "validation on %d of %d test items, selection %s\n",
               dataset_name(cfg->dataset), ds.dir, (int)r->n_train, (int)ds.train.n,
               (long long)r->n_poisoned, poison_mode_name(cfg->mode), cfg->percent,
               cfg->val_items > 0 ? (int)cfg->val_items : (int)ds.test.n, (int)ds.test.n,
               selection_name(cfg->selection));
        if (ds.partial && ds.partial_hint[0] != '\0')
            printf("note: partial training set: %s\n", ds.partial_hint);
        else if (ds.partial)
            printf("note: partial training set (%d of %d official items)\n", (int)ds.train.n,
                   (int)ds.train_official_n);
        if (cfg->mode == PF_MODE_FILE) {
            char hex[17];
            printf("labels from %s (SHA-256 %s...)\n", cfg->label_file, label_file_hash_hex(cfg->label_file_hash, hex));
        }
        print_noise(&ds, trainer_train_labels(t), r->n_train);
        if (cfg->poison_validation)
            printf("validation labels poisoned: %lld; early stopping watches the poisoned accuracy\n",
                   (long long)r->n_val_poisoned);
        printf("threads %ld, batch %d, up to %d epochs, seed %llu, repeat %d, kernels %s (%s)\n",
               threads, (int)cfg->batch_size, (int)cfg->max_epochs, (unsigned long long)cfg->seed,
               (int)cfg->repeat, isa_name(trainer_isa(t)),
               isa == PF_ISA_AUTO ? "this CPU's default" : "pinned by --isa");
        fflush(stdout);
    }

    epoch_printer printer = {quiet, (int)cfg->max_epochs};
    pf_train_hooks hooks = {NULL, print_epoch, &printer, &pf_stop_flag};
    int rc = trainer_run(t, &hooks);
    if (rc < 0) {
        printf("stopped by signal %d after epoch %d (the unfinished epoch was discarded)\n",
               (int)pf_stop_flag, (int)r->epochs);
        fflush(stdout);
        status = PF_EXIT_STOPPED;
        goto cleanup;
    }
    if (!quiet) print_detection(r);
    int matches = -1;
    if (replay != NULL) {
        const pf_store_row *s = replay->row;
        int done = s->status == PF_STATUS_DONE || s->status == PF_STATUS_DIVERGED;
        if (!quiet) {
            if (done)
                print_metrics("stored:", s->stop, s->epochs, s->best_epoch, s->best_val_acc,
                              s->final_val_acc, s->heldout_acc, s->learned_poison, s->learned_true,
                              s->detect_auroc);
            else
                printf("stored:   none (status %s)\n", status_name(s->status));
            print_metrics("replayed:", r->stop, r->epochs, r->best_epoch, r->best_val_acc,
                          r->final_val_acc, r->heldout_acc, r->learned_poison, r->learned_true,
                          r->detect.auroc);
        }
        matches = done && s->stop == r->stop && s->epochs == r->epochs && s->best_epoch == r->best_epoch &&
                  same_double(s->best_val_acc, r->best_val_acc) &&
                  same_double(s->final_val_acc, r->final_val_acc) &&
                  same_double(s->heldout_acc, r->heldout_acc) &&
                  same_double(s->poisoned_val_acc, r->poisoned_val_acc) &&
                  same_double(s->learned_poison, r->learned_poison) &&
                  same_double(s->learned_true, r->learned_true) &&
                  same_double(s->noise_rate, r->noise_rate) && same_double(s->detect_auroc, r->detect.auroc) &&
                  same_double(s->detect_precision, r->detect.precision) &&
                  same_double(s->detect_recall, r->detect.recall) &&
                  same_double(s->detect_top1, r->detect.top[0]) && same_double(s->detect_top5, r->detect.top[1]) &&
                  same_double(s->detect_top10, r->detect.top[2]);
        if (!quiet) {
            printf("%s\n", !done      ? "the stored configuration has no result to compare with"
                           : matches ? "the replay reproduces the stored result exactly"
                                     : "the replay DIFFERS from the stored result");
            /* scalar rounds differently from avx2/avx512 (which agree): say which path to pin */
            const pf_isa now = trainer_isa(t);
            if (done && s->isa != PF_ISA_AUTO && (s->isa == PF_ISA_SCALAR) != (now == PF_ISA_SCALAR))
                printf("note: the stored result came from the %s kernels, this replay ran %s "
                       "(--isa %s replays with the stored path)\n",
                       isa_name(s->isa), isa_name(now), isa_name(s->isa));
        }
    }
    printf("dataset=%s mode=%s subset=%d percent=%g seed=%llu repeat=%d model=%s selection=%s "
           "batch_size=%d best_val_acc=%.6f best_epoch=%d final_val_acc=%.6f epochs=%d stop=%s",
           dataset_name(cfg->dataset), poison_mode_name(cfg->mode), (int)cfg->subset, cfg->percent,
           (unsigned long long)cfg->seed, (int)cfg->repeat, model_kind_name(cfg->model),
           selection_name(cfg->selection), (int)cfg->batch_size, r->best_val_acc, (int)r->best_epoch,
           r->final_val_acc, (int)r->epochs, stop_name(r->stop));
    if (cfg->selection == PF_SEL_SPLIT) printf(" heldout_acc=%.6f", r->heldout_acc);
    if (cfg->poison_validation)
        printf(" poisoned_val_acc=%.6f n_val_poisoned=%lld", r->poisoned_val_acc,
               (long long)r->n_val_poisoned);
    printf(" n_train=%d n_val=%d n_poisoned=%lld noise_rate=%.6f learned_poison=%.6f learned_true=%.6f",
           (int)r->n_train, (int)r->n_val, (long long)r->n_poisoned, r->noise_rate, r->learned_poison,
           r->learned_true);
    printf(" detect_auroc=%.6f detect_precision=%.6f detect_recall=%.6f detect_top1=%.6f detect_top5=%.6f "
           "detect_top10=%.6f detect_flagged=%lld seconds=%.2f",
           r->detect.auroc, r->detect.precision, r->detect.recall, r->detect.top[0], r->detect.top[1],
           r->detect.top[2], (long long)(r->best_epoch >= 0 ? r->detect.flagged : -1), r->train_seconds);
    printf(" isa=%s", isa_name(trainer_isa(t)));
    if (replay != NULL) printf(" id=%lld matches_stored=%d", (long long)replay->id, matches > 0);
    printf("\n");
    fflush(stdout);
    status = PF_EXIT_OK;
cleanup:
    trainer_free(t);
    dataset_free(&ds);
    return status;
}

/* --from PATH --id N: the configuration's settings and its stored row. */
static int replay(const char *path, int64_t id, long threads, pf_isa isa, const char *data_dir_arg,
                  int quiet)
{
    pf_results res;
    pf_error err = {0};
    store_quiet_hdf5();
    if (store_load(path, &res, &err) != 0) {
        cli_error("%s", err.msg);
        return PF_EXIT_USAGE;
    }
    int status = PF_EXIT_USAGE;
    if (res.simulated) {
        cli_error("%s is a dry run's file (poisonfarm run --dry-run): its rows are simulated, nothing was trained, "
                  "there is no result to replay",
                  path);
        store_results_free(&res);
        return status;
    }
    int64_t at = -1;
    for (int64_t i = 0; i < res.n; i++)
        if (res.configs[i].id == id) at = i;
    if (at < 0) {
        cli_error("%s: no configuration with id %lld (the file has %lld configurations)", path,
                  (long long)id, (long long)res.n);
    } else {
        replay_info info = {path, id, &res.rows[at]};
        status = train_and_report(&res.configs[at].cfg, threads, isa, data_dir_arg, quiet, &info);
    }
    store_results_free(&res);
    return status;
}

int cmd_train(int argc, char **argv)
{
    /* The configuration's options come from the field table (ids 0 .. PF_NFIELDS-1); the rest
     * are this command's own. */
    enum { O_THREADS = 256, O_DATADIR, O_QUIET, O_FROM, O_ID, O_HELP, O_ISA };
    struct option opts[PF_NFIELDS + 9];
    int no = 0;
    for (int f = 0; f < PF_NFIELDS; f++)
        if (pf_config_fields[f].cli != NULL)
            opts[no++] = (struct option){pf_config_fields[f].cli,
                                         pf_config_fields[f].kind == PF_FK_BOOL ? optional_argument
                                                                                : required_argument,
                                         NULL, f};
    opts[no++] = (struct option){"threads", required_argument, NULL, O_THREADS};
    opts[no++] = (struct option){"isa", required_argument, NULL, O_ISA};
    opts[no++] = (struct option){"data-dir", required_argument, NULL, O_DATADIR};
    opts[no++] = (struct option){"quiet", no_argument, NULL, O_QUIET};
    opts[no++] = (struct option){"from", required_argument, NULL, O_FROM};
    opts[no++] = (struct option){"id", required_argument, NULL, O_ID};
    opts[no++] = (struct option){"help", no_argument, NULL, O_HELP};
    opts[no++] = (struct option){NULL, 0, NULL, 0};

    pf_config cfg;
    config_defaults(&cfg);
    int given[PF_NFIELDS] = {0};
    int quiet = 0;
    long threads = 1, v = 0;
    pf_isa isa = PF_ISA_AUTO;
    const char *data_dir_arg = NULL, *from = NULL;
    long long replay_id = -1;
    const char *setting = NULL;   /* the first configuration option given (not allowed with --from) */

    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        const char *a = optarg;
        if (c >= 0 && c < PF_NFIELDS) {
            const pf_field *d = &pf_config_fields[c];
            char why[320], opt[80];
            pf_field_value val;
            if (setting == NULL) setting = argv[optind - 1 - (optarg != NULL && argv[optind - 1] == optarg)];
            snprintf(opt, sizeof opt, "--%s", d->cli);
            if (config_parse_value(c, a != NULL ? a : "true", &val, why, sizeof why) != 0) {
                char msg[512];
                snprintf(msg, sizeof msg, "%s %s", opt, why);
                return bad_usage("%s", msg);
            }
            config_set(&cfg, c, val);
            given[c] = 1;
            continue;
        }
        switch (c) {
        case O_THREADS:
            if (parse_long(a, 1, 1024, &threads) != 0)
                return bad_usage("--threads '%s': expected an integer from 1 to 1024", a);
            break;
        case O_ISA:
            if (isa_from_name(a, &isa) != 0)
                return bad_usage("unknown --isa '%s' (auto, scalar, avx2, avx512)", a);
            break;
        case O_DATADIR: data_dir_arg = a; break;
        case O_FROM: from = a; break;
        case O_ID:
            if (parse_long(a, 0, INT32_MAX, &v) != 0)
                return bad_usage("--id '%s': expected a configuration id >= 0", a);
            replay_id = v;
            break;
        case O_QUIET: quiet = 1; break;
        case O_HELP:
        case 'h': usage(stdout); return PF_EXIT_OK;
        case ':': return bad_usage("option '%s' needs a value", argv[optind - 1]);
        default: return bad_usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return bad_usage("unexpected argument '%s'", argv[optind]);
    if (from != NULL || replay_id >= 0) {
        if (from == NULL) return bad_usage("%s", "--id needs --from RESULTS.h5");
        if (replay_id < 0) return bad_usage("%s", "--from needs --id N");
        if (setting != NULL)
            return bad_usage("%s: --from takes every setting from the results file", setting);
        return replay(from, (int64_t)replay_id, threads, isa, data_dir_arg, quiet);
    }
    for (int f = 0; f < PF_NFIELDS; f++)
        if ((pf_config_fields[f].flags & PF_FIELD_REQUIRED) && !given[f]) {
            char msg[96];
            snprintf(msg, sizeof msg, "--%s is required", pf_config_fields[f].cli);
            return bad_usage("%s", msg);
        }
    int bad = -1;
    char why[512];
    if (config_validate(&cfg, &bad, why, sizeof why) != 0) {
        char msg[640];
        const pf_field *d = &pf_config_fields[bad];
        snprintf(msg, sizeof msg, "%s%s %s", d->cli ? "--" : "", d->cli ? d->cli : d->name, why);
        return bad_usage("%s", msg);
    }
    pf_error err = {0};
    if (config_derive(&cfg, &err) != 0) {
        cli_error("%s", err.msg);
        return PF_EXIT_USAGE;
    }
    return train_and_report(&cfg, threads, isa, data_dir_arg, quiet, NULL);
}
