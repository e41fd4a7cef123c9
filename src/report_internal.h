/* report_internal.h -- what the report's source files (report_*.c) share: the selection of
 * configurations into curves (percent -> median, min, max over repeats) and the figure writer. */
#ifndef POISONFARM_REPORT_INTERNAL_H
#define POISONFARM_REPORT_INTERNAL_H

#include "poisonfarm/grid.h" /* PF_GRID_MAX_AXIS: the most values an axis of a grid holds */
#include "poisonfarm/report.h"
#include "poisonfarm/store.h"

#include <stdint.h>
#include <stdio.h>

/* Which configurations a curve takes: every field must match; -1 = any. Repeats are never part of
 * the key: they are what a curve's point aggregates. */
typedef struct {
    int dataset, mode, model, selection, pv;
    int32_t subset, batch;
} rp_key;

/* Which number of a configuration a curve shows. */
typedef enum {
    RP_VALUE_ACCURACY = 0,    /* store_reported_accuracy: the one compared with the seed */
    RP_VALUE_POISONED_VAL,    /* the watched, poisoned-label validation accuracy */
    RP_VALUE_NOISE_RATE,      /* the realised noise rate */
    RP_VALUE_AUROC,           /* detection (store.h: detect_*) */
    RP_VALUE_PRECISION,
    RP_VALUE_RECALL,
    RP_VALUE_TOP1,
    RP_VALUE_TOP5,
    RP_VALUE_TOP10
} rp_value;

typedef struct {
    double percent;
    int n;                    /* repeats that are done */
    double median, min, max;  /* fractions over the repeats (the median of an even count is the
                                 mean of the middle two) */
    int ncollapsed;           /* repeats that collapsed (report_collapsed) */
} rp_point;

typedef struct {
    int npoints;
    rp_point points[PF_GRID_MAX_AXIS];   /* ascending percent */
} rp_curve;

/* The grid as the report sees it: distinct values of each axis, in the order of first appearance
 * (= the job file's order), and the baseline value of each extra axis (the recipe's default when
 * the grid has it, else its first value) that the main figures and tables hold fixed. */
typedef struct {
    int ndatasets, datasets[PF_DS_COUNT];
    int nmodes, modes[PF_MODE_COUNT];
    int nsubsets; int32_t subsets[PF_GRID_MAX_AXIS];
    int nmodels, models[PF_MODEL_COUNT];
    int nselections, selections[PF_SEL_COUNT];
    int npv, pv[2];
    int nbatches; int32_t batches[PF_GRID_MAX_AXIS];
    rp_key base;                 /* dataset, mode, subset = -1; the rest the baseline */
    int64_t count[PF_STATUS_COUNT];
} rp_grid;

void rp_grid_scan(const pf_results *r, rp_grid *g);

/* The key of one curve: the grid's baseline with this dataset, mode and subset. */
rp_key rp_grid_key(const rp_grid *g, int dataset, int mode, int32_t subset);


/* Builds the curve of the done configurations matching key; points without a value are left out.
 * Returns the number of points. */
int rp_curve_build(const pf_results *r, const rp_key *key, rp_value what, rp_curve *out);

/* The point at percent p, or NULL. */
const rp_point *rp_curve_at(const rp_curve *c, double p);

/* "full" for subset 0, else the number. */
void rp_subset_label(int32_t subset, char *out, size_t size);

/* The official training-set size of a dataset (60000 or 50000). */
int32_t rp_official_train_n(int dataset);

/* Figures. A series is one line (with its min-max band) of a figure. */
typedef struct {
    char title[128];
    const char *color;        /* "#rrggbb" */
    int dash;                 /* gnuplot dash type, 1 = solid */
    int point;                /* gnuplot point type, 0 = the default (7, a filled circle) */
    rp_curve curve;
} rp_series;

typedef struct {
    char name[128];           /* file stem: accuracy_full -> accuracy_full.{dat,gp,png,svg} */
    char title[256];
    const char *xlabel, *ylabel;
    int normalised;           /* y is accuracy / clean accuracy: open-ended y range */
    int fraction;             /* y is a fraction drawn as is on [0, 1] (AUROC), with chance (0.5)
                                 dotted; otherwise fractions are drawn in percent */
    int nseries;
    rp_series *series;        /* owned by the caller */
} rp_figure;

/* Writes DIR/name.dat and DIR/name.gp for fig; appends name to the list of scripts. 0 or -1. */
int rp_figure_write(const char *dir, const rp_figure *fig, pf_error *err);

/* Two figures side by side in one picture (gnuplot's multiplot): DIR/name.dat holds the left
 * figure's series, then the right one's; the legend is the right panel's. 0 or -1. */
int rp_figure_pair_write(const char *dir, const char *name, const char *title, const rp_figure *left,
                         const rp_figure *right, pf_error *err);

/* A mode's dash and point type in every figure (random solid, biased dashed, ...). */
int rp_mode_dash(int mode);
int rp_mode_point(int mode);

/* Training curves: validation accuracy per epoch of the given configurations (one line each,
 * labelled by percent). */
int rp_curves_write(const pf_results *r, const char *dir, const char *name, const char *title,
                    const int64_t *ids, int nids, pf_error *err);

/* Colour of a dataset, and of the i-th of n lines of a gradient. */
const char *rp_dataset_color(int dataset);

/* Runs gnuplot in dir on the given scripts (one process, each script starting with `reset`).
 * 0, or -1 with err (PF_ERR_NONE) when gnuplot fails. */
int rp_gnuplot_run(const char *gnuplot, const char *dir, char **scripts, int nscripts,
                   pf_error *err);

/* summary.md. */
int rp_summary_write(const pf_results *r, const rp_grid *g, const char *name, const char *path,
                     char **figures, int nfigures, int have_gnuplot, pf_error *err);

/* CSV tables: results.csv, history.csv, transitions.csv, suspects.csv. */
int rp_csv_write(const pf_results *r, const char *dir, pf_error *err);

/* The value `what` of configuration i (NaN where it has none). */
double rp_value_of(const pf_results *r, int64_t i, rp_value what);

/* Writes a double so that strtod gives it back exactly; NaN as nothing (an empty CSV field). */
void rp_fprint_double(FILE *f, double v);

#endif
