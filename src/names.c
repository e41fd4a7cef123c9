/* names.c -- the names of every enumeration that appears in job files, output and the results
 * file, in one place so that parsing and printing always agree. */
#include "poisonfarm/data.h"
#include "poisonfarm/nn.h"
#include "poisonfarm/poison.h"
#include "poisonfarm/store.h"
#include "poisonfarm/train.h"

#include <string.h>

static const char *const dataset_names[PF_DS_COUNT] = {"mnist", "fashion_mnist", "cifar10", "cifar100"};
static const char *const mode_names[PF_MODE_COUNT] = {"random", "biased", "first_wrong", "pairflip",
                                                      "asymmetric", "file"};
static const char *const model_names[PF_MODEL_COUNT] = {"seed", "wide"};
static const char *const stop_names[PF_STOP_COUNT] = {"none", "early", "max_epochs", "diverged"};
static const char *const status_names[PF_STATUS_COUNT] = {"pending", "running", "done", "failed",
                                                          "diverged"};

static const char *name_of(const char *const *names, int count, int v)
{
    return (v >= 0 && v < count) ? names[v] : "?";
}

static int lookup(const char *const *names, int count, const char *name)
{
    if (name == NULL) return -1;
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], name) == 0) return i;
    return -1;
}

const char *dataset_name(pf_dataset_id id) { return name_of(dataset_names, PF_DS_COUNT, (int)id); }
const char *poison_mode_name(pf_mode m) { return name_of(mode_names, PF_MODE_COUNT, (int)m); }
const char *model_kind_name(pf_model_kind k) { return name_of(model_names, PF_MODEL_COUNT, (int)k); }
const char *stop_name(pf_stop s) { return name_of(stop_names, PF_STOP_COUNT, (int)s); }
const char *status_name(pf_status s) { return name_of(status_names, PF_STATUS_COUNT, (int)s); }

int dataset_from_name(const char *name, pf_dataset_id *id)
{
    int v = lookup(dataset_names, PF_DS_COUNT, name);
    if (v < 0) return -1;
    *id = (pf_dataset_id)v;
    return 0;
}

int poison_mode_from_name(const char *name, pf_mode *mode)
{
    int v = lookup(mode_names, PF_MODE_COUNT, name);
    if (v < 0) return -1;
    *mode = (pf_mode)v;
    return 0;
}

int model_kind_from_name(const char *name, pf_model_kind *kind)
{
    int v = lookup(model_names, PF_MODEL_COUNT, name);
    if (v < 0) return -1;
    *kind = (pf_model_kind)v;
    return 0;
}
