/* nn_names.c -- the names of the model kinds (nn.h) in job files, output and the results file. */
#include "poisonfarm/nn.h"

#include "poisonfarm/common.h"

static const char *const model_names[PF_MODEL_COUNT] = {"seed", "wide"};

const char *model_kind_name(pf_model_kind k) { return pf_name_of(model_names, PF_MODEL_COUNT, (int)k); }

int model_kind_from_name(const char *name, pf_model_kind *kind)
{
    int v = pf_name_lookup(model_names, PF_MODEL_COUNT, name);
    if (v < 0) return -1;
    *kind = (pf_model_kind)v;
    return 0;
}
