/* h5_util.c -- HDF5's checked calls: the report of a failing call. */
#include "poisonfarm/h5_util.h"

#include <stdio.h>

/* Walks the HDF5 error stack and keeps the innermost description. */
static herr_t h5_walk(unsigned n, const H5E_error2_t *e, void *data)
{
    char *out = data;
    if (n == 0 && e->desc != NULL) snprintf(out, 512, "%s (in %s)", e->desc, e->func_name);
    return 0;
}

noreturn void pf_fatal_h5(const char *file, int line, const char *what)
{
    char msg[512] = "no HDF5 error message";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, h5_walk, msg);
    pf_report(file, line, "%s failed: %s", what, msg);
    pf_die();
}
