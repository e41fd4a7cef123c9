/* report.h -- figures (gnuplot), CSV tables and a written summary from a results file. */
#ifndef POISONFARM_REPORT_H
#define POISONFARM_REPORT_H

#include "poisonfarm/common.h"

/* Writes the report of results_path into out_dir (created if missing; NULL = the default
 * output/report/<results name>/). Works on partial files. Returns 0, or -1 with a one-line error. */
int report_write(const char *results_path, const char *out_dir, int quiet, pf_error *err);

#endif
