/* report.c -- `report_write`: loads a results file and writes its report (report_results.c). */
#include "poisonfarm/report.h"

#include "poisonfarm/fsutil.h"
#include "poisonfarm/store.h"

#include <string.h>

int report_write(const char *results_path, const char *out_dir, int quiet, pf_error *err)
{
    pf_results r;
    memset(&r, 0, sizeof r);
    if (store_load(results_path, &r, err) != 0) return -1;
    if (r.simulated) {
        store_results_free(&r);
        return pf_error_set(err, PF_ERR_USAGE,
                            "%s is a dry run's file (poisonfarm run --dry-run): its rows are simulated, nothing was "
                            "trained, there are no results to report",
                            results_path);
    }
    /* The report's name: the file name without directory and .h5. */
    char name[256];
    const char *base = fs_base_name(results_path);
    size_t len = strlen(base);
    if (len > 3 && strcmp(base + len - 3, ".h5") == 0) len -= 3;
    if (len >= sizeof name) len = sizeof name - 1;
    memcpy(name, base, len);
    name[len] = '\0';
    int rc = report_write_results(&r, name, out_dir, quiet, err);
    store_results_free(&r);
    return rc;
}
