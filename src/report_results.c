/* report_results.c -- report_write_results: the whole report (tables, figures, summary) from
 * results in memory. Kept apart from report.c so that the tests need no HDF5 file. */
#include "report_internal.h"

#include "poisonfarm/fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RP_MAX_FIGURES 512

typedef struct {
    const pf_results *r;
    const rp_grid *g;
    const char *dir;
    int nfigures;
    char *figures[RP_MAX_FIGURES];
} rp_ctx;

static int add_figure(rp_ctx *x, const char *name)
{
    if (x->nfigures == RP_MAX_FIGURES) return 0;
    size_t n = strlen(name) + 1;
    x->figures[x->nfigures] = pf_malloc(n);
    memcpy(x->figures[x->nfigures], name, n);
    x->nfigures++;
    return 1;
}

static int emit(rp_ctx *x, rp_figure *fig, pf_error *err)
{
    int points = 0;
    for (int s = 0; s < fig->nseries; s++) points += fig->series[s].curve.npoints;
    if (points == 0 || x->nfigures == RP_MAX_FIGURES) return 0;
    if (rp_figure_write(x->dir, fig, err) != 0) return -1;
    add_figure(x, fig->name);
    return 0;
}

static const char *const xlabel_pct = "training labels poisoned (%)";

/* The seed's figure (and its normalised twin) for one subset: a line per dataset and mode. */
static int fig_main(rp_ctx *x, int32_t subset, pf_error *err)
{
    const rp_grid *g = x->g;
    char label[32];
    rp_subset_label(subset, label, sizeof label);
    rp_figure fig = {.xlabel = xlabel_pct, .nseries = 0};
    fig.series = pf_calloc((size_t)g->ndatasets * g->nmodes, sizeof *fig.series);
    int rc = 0;
    for (int di = 0; di < g->ndatasets; di++)
        for (int mi = 0; mi < g->nmodes; mi++) {
            rp_series *s = &fig.series[fig.nseries++];
            rp_key k = rp_grid_key(g, g->datasets[di], g->modes[mi], subset);
            rp_curve_build(x->r, &k, RP_VALUE_ACCURACY, &s->curve);
            snprintf(s->title, sizeof s->title, "%s %s", dataset_name((pf_dataset_id)k.dataset),
                     poison_mode_name((pf_mode)k.mode));
            s->color = rp_dataset_color(k.dataset);
            s->dash = rp_mode_dash(k.mode);   /* a dash type per mode: random solid */
            s->point = rp_mode_point(k.mode);
        }
    snprintf(fig.name, sizeof fig.name, "accuracy_%s", label);
    snprintf(fig.title, sizeof fig.title, "Best validation accuracy vs labels poisoned (%s training %s)",
             label, subset == 0 ? "sets" : "items");
    fig.ylabel = "accuracy (%)";
    if (emit(x, &fig, err) != 0) {
        rc = -1;
        goto cleanup;
    }
    /* Normalised: each line divided by its own clean (0 %) mean; lines without one are left out. */
    for (int s = 0; s < fig.nseries; s++) {
        rp_curve *c = &fig.series[s].curve;
        const rp_point *clean = rp_curve_at(c, 0.0);
        double base = clean ? clean->median : 0.0;
        if (!(base > 0)) {
            c->npoints = 0;
            continue;
        }
        for (int j = 0; j < c->npoints; j++) {
            c->points[j].median /= base;
            c->points[j].min /= base;
            c->points[j].max /= base;
        }
    }
    snprintf(fig.name, sizeof fig.name, "normalised_%s", label);
    snprintf(fig.title, sizeof fig.title,
             "Accuracy relative to clean accuracy vs labels poisoned (%s training %s)", label,
             subset == 0 ? "sets" : "items");
    fig.ylabel = "accuracy / clean accuracy (%)";
    fig.normalised = 1;
    rc = emit(x, &fig, err);
cleanup:
    free(fig.series);
    return rc;
}

/* Detection next to accuracy for one subset: the best accuracy (left) and how well the best
 * model's probability of the given label finds the poisoned items, as AUROC (right), against the
 * percent poisoned; a line per dataset and mode. Clean points have no AUROC. */
static int fig_detection(rp_ctx *x, int32_t subset, pf_error *err)
{
    const rp_grid *g = x->g;
    char label[32];
    rp_subset_label(subset, label, sizeof label);
    rp_figure acc = {.xlabel = xlabel_pct, .ylabel = "accuracy (%)"};
    rp_figure auc = {.xlabel = xlabel_pct, .ylabel = "AUROC", .fraction = 1};
    const size_t n = (size_t)g->ndatasets * (size_t)g->nmodes;
    acc.series = pf_calloc(n, sizeof *acc.series);
    auc.series = pf_calloc(n, sizeof *auc.series);
    int points = 0;
    for (int di = 0; di < g->ndatasets; di++)
        for (int mi = 0; mi < g->nmodes; mi++) {
            rp_key k = rp_grid_key(g, g->datasets[di], g->modes[mi], subset);
            rp_series *a = &acc.series[acc.nseries++], *b = &auc.series[auc.nseries++];
            rp_curve_build(x->r, &k, RP_VALUE_ACCURACY, &a->curve);
            points += rp_curve_build(x->r, &k, RP_VALUE_AUROC, &b->curve);
            snprintf(a->title, sizeof a->title, "%s %s", dataset_name((pf_dataset_id)k.dataset),
                     poison_mode_name((pf_mode)k.mode));
            snprintf(b->title, sizeof b->title, "%s", a->title);
            a->color = b->color = rp_dataset_color(k.dataset);
            a->dash = b->dash = rp_mode_dash(k.mode);
            a->point = b->point = rp_mode_point(k.mode);
        }
    snprintf(acc.title, sizeof acc.title, "Best validation accuracy");
    snprintf(auc.title, sizeof auc.title, "Finding the poisoned items: AUROC of p(given label)");
    int rc = 0;
    if (points > 0 && x->nfigures < RP_MAX_FIGURES) {
        char name[64], title[256];
        snprintf(name, sizeof name, "detection_%s", label);
        snprintf(title, sizeof title, "Accuracy and detection vs labels poisoned (%s training %s)", label,
                 subset == 0 ? "sets" : "items");
        rc = rp_figure_pair_write(x->dir, name, title, &acc, &auc, err);
        if (rc == 0) add_figure(x, name);
    }
    free(acc.series);
    free(auc.series);
    return rc;
}

typedef enum { AX_BATCH, AX_MODEL, AX_SELECTION, AX_PV, AX_COUNT } rp_axis;

/* One figure per subset and mode for an extra axis with several values: a colour per dataset, a
 * dash type per value, the other axes at their baseline. */
static int fig_axis(rp_ctx *x, rp_axis ax, int32_t subset, int mode, pf_error *err)
{
    const rp_grid *g = x->g;
    int nvals = ax == AX_BATCH ? g->nbatches : ax == AX_MODEL ? g->nmodels
                : ax == AX_SELECTION ? g->nselections : g->npv;
    if (nvals < 2) return 0;
    char label[32];
    rp_subset_label(subset, label, sizeof label);
    /* Poisoned validation adds a third line: the watched (poisoned-label) accuracy. */
    int per = ax == AX_PV ? 3 : nvals;
    rp_figure fig = {.xlabel = xlabel_pct, .ylabel = "accuracy (%)"};
    fig.series = pf_calloc((size_t)g->ndatasets * per, sizeof *fig.series);
    static const char *const stems[AX_COUNT] = {"batch_size", "model", "selection",
                                                "poison_validation"};
    static const char *const what[AX_COUNT] = {"batch size", "model", "selection",
                                               "clean vs poisoned validation"};
    for (int di = 0; di < g->ndatasets; di++) {
        const char *dn = dataset_name((pf_dataset_id)g->datasets[di]);
        for (int v = 0; v < per; v++) {
            rp_series *s = &fig.series[fig.nseries++];
            rp_key k = rp_grid_key(g, g->datasets[di], mode, subset);
            rp_value val = RP_VALUE_ACCURACY;
            switch (ax) {
            case AX_BATCH:
                k.batch = g->batches[v];
                snprintf(s->title, sizeof s->title, "%s batch %ld", dn, (long)k.batch);
                break;
            case AX_MODEL:
                k.model = g->models[v];
                snprintf(s->title, sizeof s->title, "%s model %s", dn,
                         model_kind_name((pf_model_kind)k.model));
                break;
            case AX_SELECTION:
                k.selection = g->selections[v];
                snprintf(s->title, sizeof s->title, "%s %s", dn,
                         k.selection == PF_SEL_SPLIT ? "split (held-out half)" : "test (whole test set)");
                break;
            case AX_PV:
            case AX_COUNT:
                k.pv = v == 0 ? 0 : 1;
                val = v == 2 ? RP_VALUE_POISONED_VAL : RP_VALUE_ACCURACY;
                snprintf(s->title, sizeof s->title, "%s %s", dn,
                         v == 0   ? "clean validation"
                         : v == 1 ? "poisoned validation: clean acc."
                                  : "poisoned validation: watched acc.");
                break;
            }
            rp_curve_build(x->r, &k, val, &s->curve);
            s->color = rp_dataset_color(k.dataset);
            s->dash = v + 1;
        }
    }
    snprintf(fig.name, sizeof fig.name, "%s_%s_%s", stems[ax], label,
             poison_mode_name((pf_mode)mode));
    snprintf(fig.title, sizeof fig.title, "Accuracy by %s (%s, %s training %s)", what[ax],
             poison_mode_name((pf_mode)mode), label, subset == 0 ? "sets" : "items");
    int rc = emit(x, &fig, err);
    free(fig.series);
    return rc;
}

/* Training curves of one dataset, mode and subset at the baseline, first repeat: a line per
 * percent. */
static int fig_curves(rp_ctx *x, int dataset, int mode, int32_t subset, pf_error *err)
{
    const pf_results *r = x->r;
    rp_key k = x->g->base;
    k.dataset = dataset;
    k.mode = mode;
    k.subset = subset;
    int64_t *idx = pf_calloc(r->n > 0 ? (size_t)r->n : 1, sizeof *idx);
    int32_t rep = -1;
    for (int64_t i = 0; i < r->n; i++) {
        const pf_config *c = &r->configs[i].cfg;
        if (r->rows[i].status != PF_STATUS_DONE || (int)c->dataset != dataset ||
            (int)c->mode != mode || c->subset != subset || (int)c->model != k.model ||
            (int)c->selection != k.selection || (c->poison_validation ? 1 : 0) != k.pv ||
            c->batch_size != k.batch)
            continue;
        if (rep < 0 || c->repeat < rep) rep = c->repeat;
    }
    int n = 0;
    for (int64_t i = 0; i < r->n && rep >= 0; i++) {
        const pf_config *c = &r->configs[i].cfg;
        if (r->rows[i].status != PF_STATUS_DONE || (int)c->dataset != dataset ||
            (int)c->mode != mode || c->subset != subset || (int)c->model != k.model ||
            (int)c->selection != k.selection || (c->poison_validation ? 1 : 0) != k.pv ||
            c->batch_size != k.batch || c->repeat != rep || r->rows[i].epochs <= 0)
            continue;
        /* Keep the lines in percent order (the legend reads top to bottom). */
        int j = n++;
        while (j > 0 && r->configs[idx[j - 1]].cfg.percent > c->percent) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
    int rc = 0;
    if (n > 0 && x->nfigures < RP_MAX_FIGURES) {
        char label[32], name[128], title[256];
        rp_subset_label(subset, label, sizeof label);
        snprintf(name, sizeof name, "curves_%s_%s_%s", dataset_name((pf_dataset_id)dataset),
                 poison_mode_name((pf_mode)mode), label);
        snprintf(title, sizeof title, "Validation accuracy per epoch: %s, %s, %s training %s",
                 dataset_name((pf_dataset_id)dataset), poison_mode_name((pf_mode)mode), label,
                 subset == 0 ? "set" : "items");
        rc = rp_curves_write(r, x->dir, name, title, idx, n, err);
        if (rc == 0) add_figure(x, name);
    }
    free(idx);
    return rc;
}

int report_write_results(const pf_results *r, const char *name, const char *out_dir, int quiet,
                         pf_error *err)
{
    char dir[PF_PATH_MAX], path[PF_PATH_MAX], gnuplot[PF_PATH_MAX];
    rp_grid g;
    rp_ctx x = {0};
    int rc = -1;
    if (out_dir == NULL || out_dir[0] == '\0') {
        if (pf_snprintf(dir, sizeof dir, "output/report/%s", name) != 0)
            return pf_error_set(err, PF_ERR_IO, "output/report/%s: path too long", name);
    } else if (pf_snprintf(dir, sizeof dir, "%s", out_dir) != 0) {
        return pf_error_set(err, PF_ERR_IO, "%s: path too long", out_dir);
    }
    if (fs_mkdir_p(dir, err) != 0) return -1;
    rp_grid_scan(r, &g);
    x.r = r;
    x.g = &g;
    x.dir = dir;

    if (rp_csv_write(r, dir, err) != 0) goto cleanup;
    for (int si = 0; si < g.nsubsets; si++)
        if (fig_main(&x, g.subsets[si], err) != 0 || fig_detection(&x, g.subsets[si], err) != 0) goto cleanup;
    for (int ax = 0; ax < AX_COUNT; ax++)
        for (int si = 0; si < g.nsubsets; si++)
            for (int mi = 0; mi < g.nmodes; mi++)
                if (fig_axis(&x, (rp_axis)ax, g.subsets[si], g.modes[mi], err) != 0) goto cleanup;
    for (int di = 0; di < g.ndatasets; di++)
        for (int mi = 0; mi < g.nmodes; mi++)
            for (int si = 0; si < g.nsubsets; si++)
                if (fig_curves(&x, g.datasets[di], g.modes[mi], g.subsets[si], err) != 0)
                    goto cleanup;

    int have_gnuplot = report_find_gnuplot(gnuplot, sizeof gnuplot);
    if (pf_snprintf(path, sizeof path, "%s/summary.md", dir) != 0) {
        pf_error_set(err, PF_ERR_IO, "%s/summary.md: path too long", dir);
        goto cleanup;
    }
    if (rp_summary_write(r, &g, name, path, x.figures, x.nfigures, have_gnuplot, err) != 0)
        goto cleanup;

    char **scripts = pf_calloc((size_t)x.nfigures + 1, sizeof *scripts);
    for (int i = 0; i < x.nfigures; i++) {
        size_t n = strlen(x.figures[i]) + 4;
        scripts[i] = pf_malloc(n);
        snprintf(scripts[i], n, "%s.gp", x.figures[i]);
    }
    int prc = have_gnuplot ? rp_gnuplot_run(gnuplot, dir, scripts, x.nfigures, err) : 0;
    for (int i = 0; i < x.nfigures; i++) free(scripts[i]);
    free(scripts);
    if (prc != 0) goto cleanup;

    if (!quiet) {
        int64_t done = g.count[PF_STATUS_DONE];
        printf("report: %lld of %lld configurations done", (long long)done, (long long)r->n);
        if (done < r->n)
            printf(" (%lld missing: %lld pending, %lld running, %lld failed, %lld diverged)",
                   (long long)(r->n - done), (long long)g.count[PF_STATUS_PENDING],
                   (long long)g.count[PF_STATUS_RUNNING], (long long)g.count[PF_STATUS_FAILED],
                   (long long)g.count[PF_STATUS_DIVERGED]);
        printf("\nreport: tables %s/results.csv, %s/history.csv, %s/transitions.csv, %s/suspects.csv; "
               "summary %s/summary.md\n",
               dir, dir, dir, dir, dir);
        if (have_gnuplot)
            printf("report: %d figures (PNG and SVG) in %s/\n", x.nfigures, dir);
        else
            printf("report: the pictures need gnuplot (install gnuplot-nox); %d scripts written: "
                   "cd %s && gnuplot NAME.gp\n",
                   x.nfigures, dir);
        fflush(stdout);
    }
    rc = 0;
cleanup:
    for (int i = 0; i < x.nfigures; i++) free(x.figures[i]);
    return rc;
}
