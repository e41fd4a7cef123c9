/* train_names.c -- the names of the trainer's enumerations (train.h): how the best epoch is
 * selected and why training stopped, in job files, output and the results file. */
#include "poisonfarm/train.h"

static const char *const selection_names[PF_SEL_COUNT] = {"test", "split"};
static const char *const stop_names[PF_STOP_COUNT] = {"none", "early", "max_epochs", "diverged"};

const char *selection_name(pf_selection s) { return pf_name_of(selection_names, PF_SEL_COUNT, (int)s); }
const char *stop_name(pf_stop s) { return pf_name_of(stop_names, PF_STOP_COUNT, (int)s); }

int selection_from_name(const char *name, pf_selection *s)
{
    int v = pf_name_lookup(selection_names, PF_SEL_COUNT, name);
    if (v < 0) return -1;
    *s = (pf_selection)v;
    return 0;
}
