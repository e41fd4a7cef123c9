/* report_data.c -- the report's view of a results file: axes, baselines, curves over repeats, and
 * the CSV tables (results.csv, history.csv, transitions.csv, suspects.csv). */
#include "report_internal.h"

#include "poisonfarm/data.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rp_subset_label(int32_t subset, char *out, size_t size)
{
    if (subset == 0)
        snprintf(out, size, "full");
    else
        snprintf(out, size, "%ld", (long)subset);
}

int32_t rp_official_train_n(int dataset)
{
    pf_dataset ds;
    dataset_describe((pf_dataset_id)dataset, &ds);
    return ds.train_official_n;
}

static int add_int(int *vals, int *n, int cap, int v)
{
    for (int i = 0; i < *n; i++)
        if (vals[i] == v) return 0;
    if (*n < cap) vals[(*n)++] = v;
    return 1;
}

static int add_i32(int32_t *vals, int *n, int cap, int32_t v)
{
    for (int i = 0; i < *n; i++)
        if (vals[i] == v) return 0;
    if (*n < cap) vals[(*n)++] = v;
    return 1;
}

static int has_int(const int *vals, int n, int v)
{
    for (int i = 0; i < n; i++)
        if (vals[i] == v) return 1;
    return 0;
}

static int has_i32(const int32_t *vals, int n, int32_t v)
{
    for (int i = 0; i < n; i++)
        if (vals[i] == v) return 1;
    return 0;
}

rp_key rp_grid_key(const rp_grid *g, int dataset, int mode, int32_t subset)
{
    rp_key k = g->base;
    k.dataset = dataset;
    k.mode = mode;
    k.subset = subset;
    return k;
}

void rp_grid_scan(const pf_results *r, rp_grid *g)
{
    memset(g, 0, sizeof *g);
    for (int64_t i = 0; i < r->n; i++) {
        const pf_config *c = &r->configs[i].cfg;
        add_int(g->datasets, &g->ndatasets, PF_DS_COUNT, (int)c->dataset);
        add_int(g->modes, &g->nmodes, PF_MODE_COUNT, (int)c->mode);
        add_i32(g->subsets, &g->nsubsets, PF_GRID_MAX_AXIS, c->subset);
        add_int(g->models, &g->nmodels, PF_MODEL_COUNT, (int)c->model);
        add_int(g->selections, &g->nselections, PF_SEL_COUNT, (int)c->selection);
        add_int(g->pv, &g->npv, 2, c->poison_validation ? 1 : 0);
        add_i32(g->batches, &g->nbatches, PF_GRID_MAX_AXIS, c->batch_size);
        int s = (int)r->rows[i].status;
        if (s >= 0 && s < PF_STATUS_COUNT) g->count[s]++;
    }
    /* The main figures hold the extra axes at the seed's recipe when the grid has it. */
    pf_config def;
    config_defaults(&def);
    g->base.dataset = g->base.mode = -1;
    g->base.subset = -1;
    g->base.model = has_int(g->models, g->nmodels, (int)def.model) ? (int)def.model : g->models[0];
    g->base.selection = has_int(g->selections, g->nselections, (int)def.selection)
                            ? (int)def.selection : g->selections[0];
    g->base.pv = has_int(g->pv, g->npv, 0) ? 0 : g->pv[0];
    g->base.batch = has_i32(g->batches, g->nbatches, def.batch_size) ? def.batch_size : g->batches[0];
}

static int key_match(const rp_key *k, const pf_config *c)
{
    return (k->dataset < 0 || k->dataset == (int)c->dataset) &&
           (k->mode < 0 || k->mode == (int)c->mode) && (k->subset < 0 || k->subset == c->subset) &&
           (k->model < 0 || k->model == (int)c->model) &&
           (k->selection < 0 || k->selection == (int)c->selection) &&
           (k->pv < 0 || k->pv == (c->poison_validation ? 1 : 0)) &&
           (k->batch < 0 || k->batch == c->batch_size);
}

int report_collapsed(const pf_results *r, int64_t i, int *cls, double *share)
{
    const int32_t k = r->configs[i].k, km = r->kmax;
    int64_t total = 0, top = -1;
    int top_cls = -1;
    for (int32_t p = 0; r->confusion != NULL && k <= km && p < k; p++) {
        int64_t col = 0;
        for (int32_t t = 0; t < k; t++) col += r->confusion[((size_t)i * km + (size_t)t) * km + (size_t)p];
        total += col;
        if (col > top) top = col, top_cls = p;
    }
    double sh = total > 0 ? (double)top / (double)total : NAN;
    if (cls != NULL) *cls = total > 0 ? top_cls : -1;
    if (share != NULL) *share = sh;
    return r->rows[i].status == PF_STATUS_DONE && sh >= PF_COLLAPSE_SHARE;
}

typedef struct {
    double percent, v;
    int collapsed;
} rp_sample;

static int cmp_sample(const void *a, const void *b)
{
    const rp_sample *x = a, *y = b;
    if (x->percent != y->percent) return x->percent < y->percent ? -1 : 1;
    return (x->v > y->v) - (x->v < y->v);
}

double rp_value_of(const pf_results *r, int64_t i, rp_value what)
{
    const pf_store_row *w = &r->rows[i];
    switch (what) {
    case RP_VALUE_ACCURACY: return store_reported_accuracy(&r->configs[i].cfg, w);
    case RP_VALUE_POISONED_VAL: return w->poisoned_val_acc;
    case RP_VALUE_NOISE_RATE: return w->noise_rate;
    case RP_VALUE_AUROC: return w->detect_auroc;
    case RP_VALUE_PRECISION: return w->detect_precision;
    case RP_VALUE_RECALL: return w->detect_recall;
    case RP_VALUE_TOP1: return w->detect_top1;
    case RP_VALUE_TOP5: return w->detect_top5;
    case RP_VALUE_TOP10: return w->detect_top10;
    }
    return NAN;
}

int rp_curve_build(const pf_results *r, const rp_key *key, rp_value what, rp_curve *out)
{
    out->npoints = 0;
    rp_sample *s = pf_malloc((size_t)(r->n > 0 ? r->n : 1) * sizeof *s);
    int64_t ns = 0;
    for (int64_t i = 0; i < r->n; i++) {
        const pf_store_config *sc = &r->configs[i];
        if (r->rows[i].status != PF_STATUS_DONE || !key_match(key, &sc->cfg)) continue;
        double v = rp_value_of(r, i, what);
        if (isnan(v)) continue;
        s[ns++] = (rp_sample){sc->cfg.percent, v, report_collapsed(r, i, NULL, NULL)};
    }
    /* Sorted by percent, then value: each point's repeats are a sorted run. */
    qsort(s, (size_t)ns, sizeof *s, cmp_sample);
    for (int64_t a = 0; a < ns && out->npoints < PF_GRID_MAX_AXIS;) {
        int64_t b = a;
        int ncol = 0;
        while (b < ns && s[b].percent == s[a].percent) ncol += s[b++].collapsed;
        int64_t n = b - a;
        double med = n % 2 ? s[a + n / 2].v : (s[a + n / 2 - 1].v + s[a + n / 2].v) / 2;
        out->points[out->npoints++] = (rp_point){.percent = s[a].percent, .n = (int)n, .median = med,
                                                 .min = s[a].v, .max = s[b - 1].v, .ncollapsed = ncol};
        a = b;
    }
    free(s);
    return out->npoints;
}

const rp_point *rp_curve_at(const rp_curve *c, double p)
{
    for (int j = 0; j < c->npoints; j++)
        if (c->points[j].percent == p) return &c->points[j];
    return NULL;
}

void rp_fprint_double(FILE *f, double v)
{
    if (isnan(v)) return;
    char buf[40];
    /* The shortest of %.15g / %.16g / %.17g that reads back as the same double. */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    fputs(buf, f);
}

static FILE *open_out(const char *dir, const char *file, char *path, size_t size, pf_error *err)
{
    if (pf_snprintf(path, size, "%s/%s", dir, file) != 0) {
        pf_error_set(err, PF_ERR_IO, "%s/%s: path too long", dir, file);
        return NULL;
    }
    FILE *f = fopen(path, "w");
    if (f == NULL) pf_error_set(err, PF_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    return f;
}

static int close_out(FILE *f, const char *path, pf_error *err)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return pf_error_set(err, PF_ERR_IO, "%s: write failed", path);
    return 0;
}

int rp_csv_write(const pf_results *r, const char *dir, pf_error *err)
{
    char path[PF_PATH_MAX];
    FILE *f = open_out(dir, "results.csv", path, sizeof path, err);
    if (f == NULL) return -1;
    fputs("id,dataset,mode,model,selection,subset,percent,batch_size,poison_validation,repeat,seed,"
          "k,n_train,status,stop,best_val_acc,final_val_acc,heldout_acc,poisoned_val_acc,"
          "best_epoch,epochs,n_poisoned,learned_poison,learned_true,train_seconds,accuracy,"
          "paired_init,collapsed,top_class_share,noise_rate,detect_auroc,detect_precision,"
          "detect_recall,detect_top1,detect_top5,detect_top10,detect_flagged\n",
          f);
    for (int64_t i = 0; i < r->n; i++) {
        const pf_store_config *sc = &r->configs[i];
        const pf_config *c = &sc->cfg;
        const pf_store_row *w = &r->rows[i];
        fprintf(f, "%lld,%s,%s,%s,%s,%ld,", (long long)sc->id, dataset_name(c->dataset),
                poison_mode_name(c->mode), model_kind_name(c->model), selection_name(c->selection),
                (long)c->subset);
        rp_fprint_double(f, c->percent);
        fprintf(f, ",%ld,%d,%ld,%llu,%ld,%ld,%s,%s,", (long)c->batch_size,
                c->poison_validation ? 1 : 0, (long)c->repeat, (unsigned long long)c->seed,
                (long)sc->k, (long)sc->n_train, status_name(w->status), stop_name(w->stop));
        const double accs[4] = {w->best_val_acc, w->final_val_acc, w->heldout_acc,
                                w->poisoned_val_acc};
        for (int j = 0; j < 4; j++) {
            rp_fprint_double(f, accs[j]);
            fputc(',', f);
        }
        fprintf(f, "%ld,%ld,%lld,", (long)w->best_epoch, (long)w->epochs, (long long)w->n_poisoned);
        rp_fprint_double(f, w->learned_poison);
        fputc(',', f);
        rp_fprint_double(f, w->learned_true);
        fputc(',', f);
        rp_fprint_double(f, w->train_seconds);
        fputc(',', f);
        rp_fprint_double(f, store_reported_accuracy(c, w));
        double share;
        int col = report_collapsed(r, i, NULL, &share);
        fprintf(f, ",%d,%d,", c->paired_init ? 1 : 0, col);
        rp_fprint_double(f, share);
        const double det[7] = {w->noise_rate,  w->detect_auroc, w->detect_precision, w->detect_recall,
                               w->detect_top1, w->detect_top5,  w->detect_top10};
        for (int j = 0; j < 7; j++) {
            fputc(',', f);
            rp_fprint_double(f, det[j]);
        }
        fprintf(f, ",%lld\n", (long long)w->detect_flagged);
    }
    if (close_out(f, path, err) != 0) return -1;

    /* The realised noise: true -> trained label counts, the non-zero ones. */
    f = open_out(dir, "transitions.csv", path, sizeof path, err);
    if (f == NULL) return -1;
    fputs("id,true_label,given_label,count\n", f);
    for (int64_t i = 0; i < r->n && r->transitions != NULL; i++) {
        const int32_t k = r->configs[i].k, km = r->kmax;
        for (int32_t a = 0; a < k && k <= km; a++)
            for (int32_t b = 0; b < k; b++) {
                int32_t v = r->transitions[((size_t)i * km + (size_t)a) * km + (size_t)b];
                if (v != 0) fprintf(f, "%lld,%ld,%ld,%ld\n", (long long)r->configs[i].id, (long)a, (long)b, (long)v);
            }
    }
    if (close_out(f, path, err) != 0) return -1;

    /* The most suspicious training items of each configuration, most suspicious first. */
    f = open_out(dir, "suspects.csv", path, sizeof path, err);
    if (f == NULL) return -1;
    fputs("id,rank,item,given_label,true_label,predicted,prob_given,log_prob_given,poisoned\n", f);
    for (int64_t i = 0; i < r->n && r->suspects != NULL; i++) {
        if (r->rows[i].status != PF_STATUS_DONE && r->rows[i].status != PF_STATUS_DIVERGED) continue;
        for (int j = 0; j < PF_SUSPECTS; j++) {
            const pf_suspect *x = &r->suspects[i * PF_SUSPECTS + j];
            if (x->item < 0) break;
            fprintf(f, "%lld,%d,%ld,%ld,%ld,%ld,", (long long)r->configs[i].id, j + 1, (long)x->item,
                    (long)x->given, (long)x->truth, (long)x->predicted);
            rp_fprint_double(f, exp(x->log_prob));
            fputc(',', f);
            rp_fprint_double(f, x->log_prob);
            fprintf(f, ",%d\n", x->given != x->truth);
        }
    }
    if (close_out(f, path, err) != 0) return -1;

    f = open_out(dir, "history.csv", path, sizeof path, err);
    if (f == NULL) return -1;
    /* The order of pf_results.history (store.h). */
    fputs("id,epoch,train_loss,train_acc,val_loss,val_acc,lr,epoch_seconds\n", f);
    for (int64_t i = 0; i < r->n; i++) {
        /* Epochs up to the last one with any value: the rest is NaN fill. */
        int32_t last = 0;
        for (int32_t e = 0; e < r->max_epochs; e++)
            for (int h = 0; h < 6; h++)
                if (!isnan(r->history[h][i * r->max_epochs + e])) last = e + 1;
        for (int32_t e = 0; e < last; e++) {
            fprintf(f, "%lld,%ld", (long long)r->configs[i].id, (long)(e + 1));
            for (int h = 0; h < 6; h++) {
                fputc(',', f);
                rp_fprint_double(f, r->history[h][i * r->max_epochs + e]);
            }
            fputc('\n', f);
        }
    }
    return close_out(f, path, err);
}
