/* report_summary.c -- summary.md: the seed's findings in words and tables, from the data. */
#include "report_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* "Within 5 points of clean" and "at chance": the thresholds of the summary's columns. The chance
 * margin absorbs the noise of a mean over a balanced test set (1/K exactly is rare). */
#define RP_ROBUST_DROP 0.05
#define RP_CHANCE_MARGIN 0.005

/* The seed's published clean accuracies (docs/recipe.md, read off its figures), in percent. */
static const char *seed_clean(int dataset, int32_t subset)
{
    static const char *const full[PF_DS_COUNT] = {"99.2 %", "92.2 %", "73-74 %", "37-38 %"};
    static const char *const first1000[PF_DS_COUNT] = {"92-94 %", "79 %", "38-40 %", "~6 %"};
    if (dataset < 0 || dataset >= PF_DS_COUNT) return "-";
    if (subset == 0) return full[dataset];
    if (subset == 1000) return first1000[dataset];
    return "-";
}

static void pct(char *out, size_t size, double frac) { snprintf(out, size, "%.1f %%", 100.0 * frac); }

/* A point as text: its median, and with several repeats their range ("83.5 % [80.1-84.2]"). */
static void point_text(char *out, size_t size, const rp_point *p)
{
    if (p->n > 1)
        snprintf(out, size, "%.1f %% [%.1f-%.1f]", 100.0 * p->median, 100.0 * p->min, 100.0 * p->max);
    else
        pct(out, size, p->median);
}

/* The accuracy at p: exact, else the nearest grid point within 5 percent (saying which), else "-". */
static void at_level(const rp_curve *c, double p, char *out, size_t size)
{
    const rp_point *best = NULL;
    for (int j = 0; j < c->npoints; j++) {
        double d = fabs(c->points[j].percent - p);
        if (d <= 5.0 && (best == NULL || d < fabs(best->percent - p))) best = &c->points[j];
    }
    if (best == NULL) {
        snprintf(out, size, "-");
    } else if (best->percent == p) {
        point_text(out, size, best);
    } else {
        char v[48];
        point_text(v, sizeof v, best);
        snprintf(out, size, "%s (at %g %%)", v, best->percent);
    }
}

/* Largest p with every point up to p at or above threshold, walking up from the first point; -1
 * when the first point is already below. *first_below gets the first point below, or -1. */
static double holds_up_to(const rp_curve *c, double threshold, int strictly_above,
                          double *first_below)
{
    double last = -1;
    *first_below = -1;
    for (int j = 0; j < c->npoints; j++) {
        double m = c->points[j].median;
        int ok = strictly_above ? m > threshold : m >= threshold;
        if (!ok) {
            *first_below = c->points[j].percent;
            break;
        }
        last = c->points[j].percent;
    }
    return last;
}

static int32_t classes_of(const pf_results *r, int dataset)
{
    for (int64_t i = 0; i < r->n; i++)
        if ((int)r->configs[i].cfg.dataset == dataset && r->configs[i].k > 0) return r->configs[i].k;
    return 0;
}

static void subset_table(FILE *f, const pf_results *r, const rp_grid *g, int32_t subset)
{
    char label[32];
    rp_subset_label(subset, label, sizeof label);
    if (subset == 0)
        fprintf(f, "## Full training sets\n\n");
    else
        fprintf(f, "## First %s training items\n\n", label);
    fprintf(f, "| dataset | mode | clean | seed's clean | 25 %% | 50 %% | 75 %% | robust up to | "
               "chance at | points |\n"
               "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    int rows = 0;
    for (int di = 0; di < g->ndatasets; di++) {
        for (int mi = 0; mi < g->nmodes; mi++) {
            rp_key k = rp_grid_key(g, g->datasets[di], g->modes[mi], subset);
            rp_curve c;
            if (rp_curve_build(r, &k, RP_VALUE_ACCURACY, &c) == 0) continue;
            const rp_point *clean = rp_curve_at(&c, 0.0);
            char sclean[48] = "-", s25[80], s50[80], s75[80], robust[48] = "-", chance[48] = "-";
            if (clean != NULL) point_text(sclean, sizeof sclean, clean);
            at_level(&c, 25, s25, sizeof s25);
            at_level(&c, 50, s50, sizeof s50);
            at_level(&c, 75, s75, sizeof s75);
            if (clean != NULL) {
                double below;
                double p = holds_up_to(&c, clean->median - RP_ROBUST_DROP, 0, &below);
                if (below < 0)
                    snprintf(robust, sizeof robust, "%g %% (all)", p);
                else
                    snprintf(robust, sizeof robust, "%g %%", p);
            }
            int32_t kk = classes_of(r, k.dataset);
            if (kk > 0) {
                double below;
                holds_up_to(&c, 1.0 / kk + RP_CHANCE_MARGIN, 1, &below);
                if (below >= 0)
                    snprintf(chance, sizeof chance, "%g %%", below);
                else
                    snprintf(chance, sizeof chance, "not reached");
            }
            fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %d |\n",
                    dataset_name((pf_dataset_id)k.dataset), poison_mode_name((pf_mode)k.mode),
                    sclean, seed_clean(k.dataset, subset), s25, s50, s75, robust, chance, c.npoints);
            rows++;
        }
    }
    if (rows == 0) fprintf(f, "| (no done configuration yet) | | | | | | | | | |\n");
    fputc('\n', f);
}

/* The seed's headline: up to which poison level does the full noisy set beat a clean subset? */
static void full_vs_subset(FILE *f, const pf_results *r, const rp_grid *g, int32_t subset)
{
    fprintf(f, "## Full noisy set vs the clean first %ld items\n\n"
               "Up to which poison level does training on the whole (poisoned) training set still "
               "beat training on the clean first %ld items?\n\n"
               "| dataset | mode | clean first %ld | full set beats it up to | first level below |\n"
               "|---|---|---:|---:|---:|\n",
            (long)subset, (long)subset, (long)subset);
    int rows = 0;
    for (int di = 0; di < g->ndatasets; di++) {
        for (int mi = 0; mi < g->nmodes; mi++) {
            rp_key k = rp_grid_key(g, g->datasets[di], g->modes[mi], subset);
            rp_curve small, full;
            /* At 0 % the modes do not differ (the labels are the same; the runs are independent
             * unless paired_init): the clean subset points of every mode together are the
             * reference, so a grid with one mode on the subset works. */
            k.mode = -1;
            rp_curve_build(r, &k, RP_VALUE_ACCURACY, &small);
            k.mode = g->modes[mi];
            k.subset = 0;
            rp_curve_build(r, &k, RP_VALUE_ACCURACY, &full);
            const rp_point *clean = rp_curve_at(&small, 0.0);
            if (clean == NULL || full.npoints == 0) continue;
            char sclean[48], upto[48], below_s[48];
            point_text(sclean, sizeof sclean, clean);
            double below;
            double p = holds_up_to(&full, clean->median, 1, &below);
            if (p < 0)
                snprintf(upto, sizeof upto, "never");
            else
                snprintf(upto, sizeof upto, "%g %%", p);
            if (below < 0)
                snprintf(below_s, sizeof below_s, "none up to %g %%",
                         full.points[full.npoints - 1].percent);
            else
                snprintf(below_s, sizeof below_s, "%g %%", below);
            fprintf(f, "| %s | %s | %s | %s | %s |\n", dataset_name((pf_dataset_id)k.dataset),
                    poison_mode_name((pf_mode)k.mode), sclean, upto, below_s);
            rows++;
        }
    }
    if (rows == 0)
        fprintf(f, "| (needs done full-set points and a done clean first-%ld point) | | | | |\n",
                (long)subset);
    fprintf(f, "\n\"Beats\" means a strictly higher accuracy at every grid point from 0 %% up to "
               "that level; \"never\" means even the clean full set did not.\n\n");
}

/* Up to RP_DET_LEVELS poison levels a detection table shows for a subset: every level above 0 % of
 * its done configurations when there are at most that many, else the level nearest to each of 10,
 * 25, 50, 75 and 90 %. Ascending; returns how many. */
#define RP_DET_LEVELS 8
static int detection_levels(const pf_results *r, int32_t subset, double *out)
{
    double all[PF_GRID_MAX_AXIS];
    int n = 0;
    for (int64_t i = 0; i < r->n; i++) {
        double p = r->configs[i].cfg.percent;
        if (r->configs[i].cfg.subset != subset || r->rows[i].status != PF_STATUS_DONE || !(p > 0)) continue;
        int seen = 0;
        for (int j = 0; j < n; j++) seen |= all[j] == p;
        if (!seen && n < PF_GRID_MAX_AXIS) all[n++] = p;
    }
    for (int a = 1; a < n; a++) /* insertion sort: a few dozen values */
        for (int b = a; b > 0 && all[b - 1] > all[b]; b--) {
            double t = all[b];
            all[b] = all[b - 1];
            all[b - 1] = t;
        }
    if (n <= RP_DET_LEVELS) {
        memcpy(out, all, (size_t)n * sizeof *out);
        return n;
    }
    static const double targets[5] = {10, 25, 50, 75, 90};
    int m = 0;
    for (int t = 0; t < 5; t++) {
        int best = 0;
        for (int j = 1; j < n; j++)
            if (fabs(all[j] - targets[t]) < fabs(all[best] - targets[t])) best = j;
        if (m == 0 || out[m - 1] != all[best]) out[m++] = all[best];
    }
    return m;
}

/* A detection measure as text: "-" when there is none. */
static void det_text(char *out, size_t size, const rp_curve *c, double p, int as_percent)
{
    const rp_point *q = rp_curve_at(c, p);
    if (q == NULL)
        snprintf(out, size, "-");
    else if (as_percent)
        snprintf(out, size, "%.1f %%", 100.0 * q->median);
    else
        snprintf(out, size, "%.3f", q->median);
}

/* Could the poisoned items have been found? Per subset, dataset, mode and level: the realised
 * noise, the accuracy and the detection measures (medians over repeats). */
static void detection(FILE *f, const pf_results *r, const rp_grid *g)
{
    fprintf(f, "## Finding the poisoned items\n\n"
               "After training, every training item is scored by the best epoch's probability of the "
               "label it was trained with (low = suspicious). *AUROC*: how well that score separates "
               "the poisoned items (label changed) from the clean ones (0.5 = chance, 1 = every "
               "poisoned item scores below every clean one). *Flag precision / recall*: of the rule "
               "\"the predicted class differs from the given label\". *Top 1/5/10 %%*: the share of "
               "poisoned items among the 1, 5 and 10 %% most suspicious items. *Noise*: the share of "
               "labels actually changed (below the level for asymmetric and file). The 100 most "
               "suspicious items of each configuration are in `suspects.csv`, the realised noise "
               "(true -> given label counts) in `transitions.csv`.\n\n");
    int rows = 0;
    const rp_value vals[8] = {RP_VALUE_NOISE_RATE, RP_VALUE_ACCURACY, RP_VALUE_AUROC, RP_VALUE_PRECISION,
                              RP_VALUE_RECALL,     RP_VALUE_TOP1,     RP_VALUE_TOP5,  RP_VALUE_TOP10};
    for (int si = 0; si < g->nsubsets; si++) {
        int32_t subset = g->subsets[si];
        double levels[RP_DET_LEVELS];
        int nl = detection_levels(r, subset, levels);
        int head = 0;
        for (int di = 0; di < g->ndatasets; di++)
            for (int mi = 0; mi < g->nmodes; mi++) {
                rp_key k = rp_grid_key(g, g->datasets[di], g->modes[mi], subset);
                rp_curve c[8];
                for (int v = 0; v < 8; v++) rp_curve_build(r, &k, vals[v], &c[v]);
                for (int l = 0; l < nl; l++) {
                    if (rp_curve_at(&c[2], levels[l]) == NULL && rp_curve_at(&c[0], levels[l]) == NULL) continue;
                    if (!head) {
                        char label[32];
                        rp_subset_label(subset, label, sizeof label);
                        fprintf(f, "### %s%s training %s\n\n"
                                   "| dataset | mode | level | noise | accuracy | AUROC | flag precision | "
                                   "flag recall | top 1 %% | top 5 %% | top 10 %% |\n"
                                   "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
                                subset == 0 ? "Full" : "First ", subset == 0 ? "" : label,
                                subset == 0 ? "sets" : "items");
                        head = 1;
                    }
                    char t[8][32];
                    for (int v = 0; v < 8; v++) det_text(t[v], sizeof t[v], &c[v], levels[l], v != 2);
                    fprintf(f, "| %s | %s | %g %% | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                            dataset_name((pf_dataset_id)k.dataset), poison_mode_name((pf_mode)k.mode), levels[l],
                            t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]);
                    rows++;
                }
            }
        if (head) fputc('\n', f);
    }
    if (rows == 0) fprintf(f, "No done configuration with poisoned items yet.\n\n");
}

/* Configurations whose model answered (almost) one class: the best epoch of a run that never left
 * the majority-class phase. Listed, because a curve's point may rest on one such run. */
static void collapsed(FILE *f, const pf_results *r)
{
    fprintf(f, "## Collapsed configurations\n\n");
    int64_t n = 0;
    for (int64_t i = 0; i < r->n; i++) {
        int cls;
        double share;
        if (!report_collapsed(r, i, &cls, &share)) continue;
        if (n++ == 0)
            fprintf(f, "At the best epoch one class took at least %.0f %% of the test predictions "
                       "(figures ring these points):\n\n"
                       "| id | dataset | mode | subset | percent | repeat | accuracy | class | its share | best epoch | epochs | stop |\n"
                       "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
                    100.0 * PF_COLLAPSE_SHARE);
        const pf_store_config *c = &r->configs[i];
        char label[32], acc[24];
        rp_subset_label(c->cfg.subset, label, sizeof label);
        pct(acc, sizeof acc, store_reported_accuracy(&c->cfg, &r->rows[i]));
        fprintf(f, "| %lld | %s | %s | %s | %g | %d | %s | %d | %.1f %% | %d | %d | %s |\n", (long long)c->id,
                dataset_name(c->cfg.dataset), poison_mode_name(c->cfg.mode), label, c->cfg.percent,
                (int)c->cfg.repeat, acc, cls, 100.0 * share, (int)r->rows[i].best_epoch,
                (int)r->rows[i].epochs, stop_name(r->rows[i].stop));
    }
    if (n == 0)
        fprintf(f, "None: at every done configuration's best epoch no class took %.0f %% of the test "
                   "predictions.\n",
                100.0 * PF_COLLAPSE_SHARE);
    fputc('\n', f);
}

static void flags(FILE *f, const pf_results *r, const rp_grid *g)
{
    fprintf(f, "## Flags\n\n");
    int any = 0;
    /* Partial data: a "full" set smaller than the official one (e.g. CIFAR-100 with only the
     * first 10000 training records). */
    for (int di = 0; di < g->ndatasets; di++) {
        int d = g->datasets[di];
        int32_t nmin = 0;
        for (int64_t i = 0; i < r->n; i++) {
            const pf_store_config *c = &r->configs[i];
            if ((int)c->cfg.dataset != d || c->cfg.subset != 0 ||
                r->rows[i].status != PF_STATUS_DONE || c->n_train <= 0)
                continue;
            if (nmin == 0 || c->n_train < nmin) nmin = c->n_train;
        }
        if (nmin > 0 && nmin < rp_official_train_n(d)) {
            fprintf(f, "- **Partial data**: %s's \"full\" training set had %ld items, the official "
                       "one %ld; its full-set numbers are not comparable with the seed's.\n",
                    dataset_name((pf_dataset_id)d), (long)nmin, (long)rp_official_train_n(d));
            any = 1;
        }
    }
    int32_t max_epochs = 0;
    int64_t at_cap = 0;
    for (int64_t i = 0; i < r->n; i++) {
        if (r->configs[i].cfg.max_epochs > max_epochs) max_epochs = r->configs[i].cfg.max_epochs;
        if (r->rows[i].status == PF_STATUS_DONE && r->rows[i].stop == PF_STOP_MAX_EPOCHS) at_cap++;
    }
    if (r->epochs_capped || (max_epochs > 0 && max_epochs < 100)) {
        fprintf(f, "- **Capped epochs**: training stopped after at most %ld epochs (the recipe "
                   "allows 100); %lld done configuration(s) reached the cap before early stopping, "
                   "so their accuracies may be below the recipe's.\n",
                (long)max_epochs, (long long)at_cap);
        any = 1;
    }
    int64_t nbad = 0;
    for (int64_t i = 0; i < r->n; i++) {
        pf_status s = r->rows[i].status;
        if (s != PF_STATUS_FAILED && s != PF_STATUS_DIVERGED) continue;
        if (nbad++ < 10)
            fprintf(f, "- Configuration %lld (%s %s subset %ld, %g %%) %s%s%s\n",
                    (long long)r->configs[i].id, dataset_name(r->configs[i].cfg.dataset),
                    poison_mode_name(r->configs[i].cfg.mode), (long)r->configs[i].cfg.subset,
                    r->configs[i].cfg.percent, status_name(s), r->rows[i].reason[0] ? ": " : "",
                    r->rows[i].reason);
        any = 1;
    }
    if (nbad > 10) fprintf(f, "- ... and %lld more failed or diverged\n", (long long)(nbad - 10));
    if (!any) fprintf(f, "None: full data sets, uncapped epochs, no failures.\n");
    fputc('\n', f);
}

int rp_summary_write(const pf_results *r, const rp_grid *g, const char *name, const char *path,
                     char **figures, int nfigures, int have_gnuplot, pf_error *err)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) return pf_error_set(err, PF_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    int64_t done = g->count[PF_STATUS_DONE];
    fprintf(f, "# poisonfarm report: %s\n\n", name);
    fprintf(f, "%lld configurations: %lld done, %lld pending, %lld running, %lld failed, "
               "%lld diverged.\n\n",
            (long long)r->n, (long long)done, (long long)g->count[PF_STATUS_PENDING],
            (long long)g->count[PF_STATUS_RUNNING], (long long)g->count[PF_STATUS_FAILED],
            (long long)g->count[PF_STATUS_DIVERGED]);
    if (done < r->n)
        fprintf(f, "**Partial results**: %lld of %lld configurations are missing from this report "
                   "(not done); the tables and figures use the done ones.\n\n",
                (long long)(r->n - done), (long long)r->n);
    fprintf(f, "Accuracy is the one to compare with the seed: the best validation accuracy on the "
               "clean test set (selection `test`), the held-out half's (`split`), the clean "
               "accuracy at the epoch chosen on poisoned validation labels (poisoned validation); "
               "where there are several repeats, their median with the range [min-max] in brackets "
               "(the figures draw the median inside a min-max band). ");
    fprintf(f, "Tables and the main figures hold the other axes at: model `%s`, batch size %ld, "
               "selection `%s`, %s validation labels.\n\n",
            g->nmodels ? model_kind_name((pf_model_kind)g->base.model) : "-", (long)g->base.batch,
            g->nselections ? selection_name((pf_selection)g->base.selection) : "-",
            g->base.pv ? "poisoned" : "clean");
    for (int si = 0; si < g->nsubsets; si++) subset_table(f, r, g, g->subsets[si]);
    fprintf(f, "Columns: *clean* = accuracy at 0 %% poisoned; *seed's clean* = the seed's published "
               "number (full sets and first 1000 items only); *25/50/75 %%* = the accuracy at "
               "that level, or at the nearest grid level within 5 (said in brackets), or - ; "
               "*robust up to* = the largest level p such that every grid level up to p stays "
               "within %g points of clean; *chance at* = the first level whose accuracy is at or "
               "below chance, 1/K (+ %g points); *points* = grid levels done.\n\n",
            100 * RP_ROBUST_DROP, 100 * RP_CHANCE_MARGIN);
    int have_full = 0;
    for (int si = 0; si < g->nsubsets; si++) have_full |= g->subsets[si] == 0;
    for (int si = 0; si < g->nsubsets && have_full; si++)
        if (g->subsets[si] != 0) full_vs_subset(f, r, g, g->subsets[si]);
    detection(f, r, g);
    collapsed(f, r);
    flags(f, r, g);
    fprintf(f, "## Figures\n\n");
    if (!have_gnuplot)
        fprintf(f, "The pictures need gnuplot (`gnuplot-nox`); the scripts are here: "
                   "`cd` to this directory and run `gnuplot NAME.gp`.\n\n");
    for (int i = 0; i < nfigures; i++) {
        if (have_gnuplot)
            fprintf(f, "- [%s](%s.svg)\n\n  ![%s](%s.png)\n", figures[i], figures[i], figures[i],
                    figures[i]);
        else
            fprintf(f, "- %s (%s.gp)\n", figures[i], figures[i]);
    }
    fprintf(f, "\nTables: `results.csv` (one row per configuration), `history.csv` (one row per "
               "configuration and epoch), `transitions.csv` (one row per configuration and true -> given "
               "label pair that occurs), `suspects.csv` (the 100 most suspicious training items of each "
               "configuration, most suspicious first); accuracies and other measures there are "
               "fractions.\n");
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return pf_error_set(err, PF_ERR_IO, "%s: write failed", path);
    return 0;
}
