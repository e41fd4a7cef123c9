/* train_names.c -- the names of why training stopped (train.h), in output and in the results
 * file's enum type. (The selection's names are a configuration field's: config.c.) */
#include "poisonfarm/train.h"

static const char *const stop_names[PF_STOP_COUNT] = {"none", "early", "max_epochs", "diverged"};

const char *stop_name(pf_stop s) { return pf_name_of(stop_names, PF_STOP_COUNT, (int)s); }
