/* store_check.c -- the rules every row of a results file read back must follow (docs/results-
 * format.md): ids equal to their row, every configuration field in its range (config_validate),
 * classes and training items that fit the dataset, sizes within the file's own dimensions, statuses
 * and stop reasons that are names, fractions in [0, 1] or NaN, counts that fit, simulated rows in a
 * dry run's file only (and never a result in one), and the fingerprint that the /configs rows and
 * the data checksums give. A row that breaks one is damage (a bit flip,
 * a hand edit, a truncated copy): the file is refused in one line naming the row and the field,
 * before anything indexes a table with such a value. */
#include "store_internal.h"

#include "poisonfarm/data.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t store_run_fingerprint(uint64_t grid_fp, const char *checksums)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = checksums ? checksums : ""; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    return grid_fp ^ (h * 0x9e3779b97f4a7c15ULL);
}

uint64_t store_configs_fingerprint(const pf_store_config *configs, int64_t n, const char *checksums)
{
    uint64_t *h = pf_malloc((size_t)(n > 0 ? n : 1) * sizeof *h);
    for (int64_t i = 0; i < n; i++) h[i] = config_hash(&configs[i].cfg);
    uint64_t fp = config_set_fingerprint(h, n);
    free(h);
    return store_run_fingerprint(fp, checksums);
}

/* "PATH: /TABLE row I, FIELD: what (a damaged results file ...)" ; returns -1. */
static int bad_row(pf_error *err, const char *path, const char *table, int64_t row, const char *field,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int bad_row(pf_error *err, const char *path, const char *table, int64_t row, const char *field,
                   const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return pf_error_set(err, PF_ERR_CORRUPT, "%s: /%s row %" PRId64 ", %s: %s (a damaged results file)", path,
                        table, row, field, what);
}

static int is_fraction(double x) { return isnan(x) || (x >= 0.0 && x <= 1.0); }

/* An integer that is -1 (does not apply) or in [lo, hi]. */
static int opt_in(int64_t v, int64_t lo, int64_t hi) { return v == -1 || (v >= lo && v <= hi); }

static int check_config(const pf_results *r, int64_t i, const char *path, pf_error *err)
{
    const pf_store_config *c = &r->configs[i];
    if (c->id != i) return bad_row(err, path, "configs", i, "id", "%" PRId64 " differs from its row", c->id);
    int field = -1;
    char why[512];
    if (config_validate(&c->cfg, &field, why, sizeof why) != 0)
        return bad_row(err, path, "configs", i, pf_config_fields[field].name, "%s", why);
    pf_dataset_shape ds;
    dataset_shape(c->cfg.dataset, &ds);
    if (c->k != ds.k)
        return bad_row(err, path, "configs", i, "k", "%d, but %s has %d classes", (int)c->k,
                       dataset_name(c->cfg.dataset), (int)ds.k);
    if (c->k > r->kmax)
        return bad_row(err, path, "configs", i, "k", "%d is larger than /confusion's %d classes", (int)c->k,
                       (int)r->kmax);
    if (c->cfg.max_epochs > r->max_epochs)
        return bad_row(err, path, "configs", i, "max_epochs", "%d is larger than /history's %d epochs",
                       (int)c->cfg.max_epochs, (int)r->max_epochs);
    if (c->n_train < 1 || c->n_train > ds.train_official_n)
        return bad_row(err, path, "configs", i, "n_train", "%d is outside [1, %d]", (int)c->n_train,
                       (int)ds.train_official_n);
    if (c->cfg.subset > 0 && c->n_train != c->cfg.subset)
        return bad_row(err, path, "configs", i, "n_train", "%d differs from the subset, %d", (int)c->n_train,
                       (int)c->cfg.subset);
    return 0;
}

static int check_result(const pf_results *r, int64_t i, const char *path, pf_error *err)
{
    const pf_store_row *w = &r->rows[i];
    const pf_store_config *c = &r->configs[i];
    if ((int)w->status < 0 || w->status >= PF_STATUS_COUNT)
        return bad_row(err, path, "results", i, "status", "%d is not a status", (int)w->status);
    if ((int)w->stop < 0 || w->stop >= PF_STOP_COUNT)
        return bad_row(err, path, "results", i, "stop", "%d is not a stop reason", (int)w->stop);
    if ((int)w->isa < 0 || w->isa >= PF_ISA_COUNT)
        return bad_row(err, path, "results", i, "isa", "%d is not a kernel path", (int)w->isa);
    const struct {
        const char *name;
        double v;
    } frac[] = {{"best_val_acc", w->best_val_acc},       {"final_val_acc", w->final_val_acc},
                {"heldout_acc", w->heldout_acc},         {"poisoned_val_acc", w->poisoned_val_acc},
                {"noise_rate", w->noise_rate},           {"learned_poison", w->learned_poison},
                {"learned_true", w->learned_true},       {"detect_auroc", w->detect_auroc},
                {"detect_precision", w->detect_precision}, {"detect_recall", w->detect_recall},
                {"detect_top1", w->detect_top1},         {"detect_top5", w->detect_top5},
                {"detect_top10", w->detect_top10}};
    for (size_t f = 0; f < sizeof frac / sizeof frac[0]; f++)
        if (!is_fraction(frac[f].v))
            return bad_row(err, path, "results", i, frac[f].name, "%.17g is not a fraction in [0, 1] (nor NaN)",
                           frac[f].v);
    const int32_t cap = c->cfg.max_epochs;
    if (!opt_in(w->epochs, 0, cap))
        return bad_row(err, path, "results", i, "epochs", "%d is outside [0, %d] (max_epochs)", (int)w->epochs,
                       (int)cap);
    if (!opt_in(w->best_epoch, 1, w->epochs < 0 ? 0 : w->epochs))
        return bad_row(err, path, "results", i, "best_epoch", "%d is outside [1, %d] (the epochs run)",
                       (int)w->best_epoch, (int)w->epochs);
    if (!opt_in(w->n_poisoned, 0, c->n_train))
        return bad_row(err, path, "results", i, "n_poisoned", "%" PRId64 " is outside [0, %d] (n_train)",
                       w->n_poisoned, (int)c->n_train);
    if (!opt_in(w->detect_flagged, 0, c->n_train))
        return bad_row(err, path, "results", i, "detect_flagged", "%" PRId64 " is outside [0, %d] (n_train)",
                       w->detect_flagged, (int)c->n_train);
    pf_dataset_shape ds;
    dataset_shape(c->cfg.dataset, &ds);
    if (!opt_in(w->n_val_poisoned, 0, ds.test_official_n))
        return bad_row(err, path, "results", i, "n_val_poisoned", "%" PRId64 " is outside [0, %d]",
                       w->n_val_poisoned, (int)ds.test_official_n);
    if (!(isnan(w->train_seconds) || (w->train_seconds >= 0 && isfinite(w->train_seconds))))
        return bad_row(err, path, "results", i, "train_seconds", "%.17g is not a duration", w->train_seconds);
    if (w->rank < -1) return bad_row(err, path, "results", i, "rank", "%d is not a rank", (int)w->rank);

    /* A dry run's file holds simulated rows, never results; a file of results never a simulated
       row (format 7). */
    if (w->status == PF_STATUS_SIMULATED && !r->simulated)
        return bad_row(err, path, "results", i, "status", "simulated in a file of results (root attribute %s 0)",
                       PF_STORE_SIMULATED_ATTR);
    if (r->simulated && (w->status == PF_STATUS_DONE || w->status == PF_STATUS_FAILED || w->status == PF_STATUS_DIVERGED))
        return bad_row(err, path, "results", i, "status", "%s in a dry run's file (nothing was trained in it)",
                       status_name(w->status));
    if (w->status == PF_STATUS_SIMULATED && w->stop != PF_STOP_NONE)
        return bad_row(err, path, "results", i, "stop", "%s for a simulated row", stop_name(w->stop));

    /* What a finished row implies. (A pending or running row may hold anything in range: a run
       killed between a row's metrics and its status -- the commit mark, written last -- leaves a
       running row with finished metrics.) */
    const int finished = w->status == PF_STATUS_DONE || w->status == PF_STATUS_DIVERGED;
    if (w->status == PF_STATUS_DIVERGED && w->stop != PF_STOP_DIVERGED)
        return bad_row(err, path, "results", i, "stop", "%s for a row that diverged", stop_name(w->stop));
    if (w->status == PF_STATUS_DONE && w->stop != PF_STOP_EARLY && w->stop != PF_STOP_MAX_EPOCHS)
        return bad_row(err, path, "results", i, "stop", "%s for a row that is done", stop_name(w->stop));
    if (finished && w->epochs < 1)
        return bad_row(err, path, "results", i, "epochs", "%d for a row that is %s", (int)w->epochs,
                       status_name(w->status));
    if (w->status == PF_STATUS_DONE) {
        if (w->best_epoch < 1)
            return bad_row(err, path, "results", i, "best_epoch", "%d for a row that is done", (int)w->best_epoch);
        if (isnan(w->best_val_acc) || isnan(w->final_val_acc))
            return bad_row(err, path, "results", i, isnan(w->best_val_acc) ? "best_val_acc" : "final_val_acc",
                           "NaN for a row that is done");
        if (w->n_poisoned < 0)
            return bad_row(err, path, "results", i, "n_poisoned", "-1 for a row that is done");
    }
    return 0;
}

int store_validate(const pf_results *r, const char *path, const char *checksums, pf_error *err)
{
    if (r->n < 1) return pf_error_set(err, PF_ERR_CORRUPT, "%s: no configurations (a damaged results file)", path);
    if (r->kmax < 2 || r->kmax > PF_MAX_CLASSES)
        return pf_error_set(err, PF_ERR_CORRUPT, "%s: /confusion holds %d classes, outside [2, %d] (a damaged "
                            "results file)", path, (int)r->kmax, PF_MAX_CLASSES);
    if (r->max_epochs < 1 || r->max_epochs > PF_MAX_EPOCHS)
        return pf_error_set(err, PF_ERR_CORRUPT, "%s: /history holds %d epochs, outside [1, %d] (a damaged "
                            "results file)", path, (int)r->max_epochs, PF_MAX_EPOCHS);
    /* A dry run's file (format 7) says so, with the scale it slept at; a file of results has 0. */
    if (r->simulated && !(r->dry_run_scale > 0 && r->dry_run_scale <= PF_DRY_RUN_SCALE_MAX))
        return pf_error_set(err, PF_ERR_CORRUPT,
                            "%s: root attribute dry_run_scale %.17g is outside (0, %g] in a dry run's file (a "
                            "damaged results file)",
                            path, r->dry_run_scale, PF_DRY_RUN_SCALE_MAX);
    if (!r->simulated && r->dry_run_scale != 0)
        return pf_error_set(err, PF_ERR_CORRUPT,
                            "%s: root attribute dry_run_scale %.17g is not 0 in a file of results (a damaged "
                            "results file)",
                            path, r->dry_run_scale);
    for (int64_t i = 0; i < r->n; i++)
        if (check_config(r, i, path, err) != 0) return -1;
    for (int64_t i = 0; i < r->n; i++)
        if (check_result(r, i, path, err) != 0) return -1;
    /* Rows that each look fine but are not the configurations the file was made for (a value
       changed within its range): the fingerprint the run stored says so. */
    if (store_configs_fingerprint(r->configs, r->n, checksums) != r->fingerprint)
        return pf_error_set(err, PF_ERR_CORRUPT,
                            "%s: the /configs rows and the data checksums do not give the file's fingerprint "
                            "%016" PRIx64 " (a damaged results file)",
                            path, r->fingerprint);
    return 0;
}
