/* store_names.c -- the names of the statuses of /results rows (store.h), in output and in the
 * results file's enum type. */
#include "poisonfarm/store.h"

static const char *const status_names[PF_STATUS_COUNT] = {"pending", "running", "done", "failed",
                                                              "diverged", "simulated"};

const char *status_name(pf_status s) { return pf_name_of(status_names, PF_STATUS_COUNT, (int)s); }
