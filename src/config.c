/* config.c -- one configuration's defaults (the seed recipe) and its random stream. */
#include "poisonfarm/rng.h"
#include "poisonfarm/train.h"

#include <string.h>

void config_defaults(pf_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->dataset = PF_DS_MNIST;
    cfg->mode = PF_MODE_RANDOM;
    cfg->model = PF_MODEL_SEED;
    cfg->selection = PF_SEL_TEST;
    cfg->subset = 0;
    cfg->percent = 0.0;
    cfg->batch_size = 256;
    cfg->poison_validation = 0;
    cfg->repeat = 0;
    cfg->seed = 1;
    cfg->max_epochs = 100;
    cfg->patience = 10;
    cfg->lr_patience = 5;
    cfg->lr_factor = 0.1;
    cfg->lr = 1e-3;
}

uint64_t config_stream(const pf_config *cfg)
{
    uint64_t s = rng_derive(cfg->seed, (uint64_t)cfg->dataset);
    s = rng_derive(s, (uint64_t)(uint32_t)cfg->subset);
    return rng_derive(s, (uint64_t)(uint32_t)cfg->repeat);
}
