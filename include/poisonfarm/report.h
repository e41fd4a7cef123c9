/* report.h -- figures (gnuplot), CSV tables and a written summary from a results file. */
#ifndef POISONFARM_REPORT_H
#define POISONFARM_REPORT_H

#include "poisonfarm/common.h"
#include "poisonfarm/store.h"

/* Writes the report of results_path into out_dir (created if missing; NULL = the default
 * output/report/<results name>/). Works on partial files. Returns 0, or -1 with a one-line error. */
int report_write(const char *results_path, const char *out_dir, int quiet, pf_error *err);

/* The same from results already in memory (store_load's, or built by a test). `name` is the
 * results file's name without directory and .h5 (used in titles and the default directory);
 * out_dir NULL = output/report/<name>/. Writes results.csv, history.csv, summary.md, and for each
 * figure its .dat data, .gp script and, when gnuplot can be run, .png and .svg. gnuplot is
 * $POISONFARM_GNUPLOT when set (a path, or a name looked up in PATH), else `gnuplot` in PATH; when
 * it is not found, everything but the pictures is written and a line says so (not an error).
 * Unless quiet, prints what it wrote on stdout. Returns 0; -1 with err when DIR cannot be created
 * or written (PF_ERR_IO), or when gnuplot ran and failed (PF_ERR_NONE: not the user's fault).
 * r is not modified. */
int report_write_results(const pf_results *r, const char *name, const char *out_dir, int quiet,
                         pf_error *err);

/* A configuration collapsed when, at its best epoch, one class took at least this share of the
 * watched test predictions (its confusion matrix's column sums): the model answers one class. */
#define PF_COLLAPSE_SHARE 0.9

/* 1 when done configuration i of r collapsed; *cls and *share (may be NULL) get the most predicted
 * class and its share of the predictions (also when it did not collapse; -1 and NaN without a
 * confusion matrix). */
int report_collapsed(const pf_results *r, int64_t i, int *cls, double *share);

/* Finds the gnuplot to run (see above). Returns 1 and writes its path to out when it is found and
 * executable, 0 otherwise. */
int report_find_gnuplot(char *out, size_t size);

#endif
