/* test_grid.c -- job files: validation errors with file:line, expansion order, defaults,
 * fingerprints, cost estimates, job-file lookup and the shipped jobs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "poisonfarm/grid.h"

#include "field_perturb.h"

#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The smallest valid job, to which a case appends one line. */
#define BASE "datasets = [\"mnist\"];\nmodes = [\"random\"];\nsubsets = [0];\npercents = [0];\n"

typedef struct {
    const char *text;
    const char *prefix;  /* the message must start with this ("bad.cfg:5: ") */
    const char *words;   /* ... and contain this */
} bad_case;

static const bad_case bad_cases[] = {
    /* libconfig's own errors */
    {BASE "max_epochs = ;\n", "bad.cfg:5: ", "syntax error"},
    {"datasets = [\"mnist\"\nmodes = [\"random\"];\n", "bad.cfg:2: ", "syntax error"},
    {BASE "percents = [1];\n", "bad.cfg:5: ", "duplicate setting"},
    {"datasets = [\"mnist\"];\nmodes = [\"random\"];\nsubsets = [0];\npercents = [0, 0.5];\n", "bad.cfg:4: ",
     "mismatched element type"},
    /* keys */
    {BASE "percent = [1];\n", "bad.cfg:5: ", "unknown key 'percent' (did you mean 'percents'?)"},
    {BASE "\n\ntraining = { max_epochs = 3; };\n", "bad.cfg:7: ", "unknown key 'training'"},
    {"modes = [\"random\"];\nsubsets = [0];\npercents = [0];\n", "bad.cfg: ", "missing key 'datasets'"},
    {"datasets = [\"mnist\"];\nmodes = [\"random\"];\nsubsets = [0];\n", "bad.cfg: ", "missing key 'percents'"},
    {BASE "  @include \"other.cfg\"\n", "bad.cfg:5: ", "@include"},
    /* wrong types */
    {"datasets = [\"mnist\"];\nmodes = [\"random\"];\nsubsets = [0];\npercents = \"ten\";\n", "bad.cfg:4: ",
     "'percents' must be a list"},
    {"datasets = [\"mnist\"];\nmodes = [\"random\"];\nsubsets = [0];\npercents = 5;\n", "bad.cfg:4: ",
     "'percents' must be a list"},
    {"datasets = [\"mnist\"];\nmodes = [\"random\"];\nsubsets = [0];\npercents = [\"ten\"];\n", "bad.cfg:4: ",
     "'percents' takes numbers, e.g. percents = [0] (got a string)"},
    {"datasets = [\"mnist\"];\nmodes = [\"random\"];\nsubsets = [0.5];\npercents = [0];\n", "bad.cfg:3: ",
     "'subsets' takes whole numbers"},
    {"datasets = [mnist];\n", "bad.cfg:1: ", "syntax error"},
    {"datasets = [1];\nmodes = [\"random\"];\nsubsets = [0];\npercents = [0];\n", "bad.cfg:1: ",
     "'datasets' takes names in quotes, e.g. datasets = [\"mnist\", \"fashion_mnist\"]"},
    {BASE "max_epochs = 3.5;\n", "bad.cfg:5: ", "'max_epochs' takes whole numbers"},
    {BASE "max_epochs = [3];\n", "bad.cfg:5: ", "'max_epochs' takes one value, e.g. max_epochs = 100 (got a list)"},
    {BASE "repeats = [1, 2];\n", "bad.cfg:5: ", "'repeats' takes one value"},
    {BASE "lr = \"fast\";\n", "bad.cfg:5: ", "'lr' takes numbers"},
    {BASE "data_dir = 5;\n", "bad.cfg:5: ", "'data_dir' must be a path in quotes"},
    {BASE "output = \"\";\n", "bad.cfg:5: ", "'output' is empty"},
    {BASE "poison_validation = [1];\n", "bad.cfg:5: ", "'poison_validation' takes true or false"},
    {BASE "poison_validation = true;\n", "bad.cfg:5: ", "'poison_validation' must be a list"},
    {BASE "description = 3;\n", "bad.cfg:5: ", "'description' must be a string"},
    /* empty axes and duplicates */
    {"datasets = [\"mnist\"];\nmodes = [];\nsubsets = [0];\npercents = [0];\n", "bad.cfg:2: ", "'modes' is empty"},
    {"datasets = [\"mnist\"];\nmodes = [\"random\"];\nsubsets = [0];\npercents = ();\n", "bad.cfg:4: ",
     "'percents' is empty"},
    {"datasets = [\"mnist\"];\nmodes = [\"random\"];\nsubsets = [0];\npercents = [10,\n 20,\n 10];\n",
     "bad.cfg:6: ", "'percents' lists 10 twice"},
    {"datasets = [\"mnist\"];\nmodes = [\"random\"];\nsubsets = [0];\npercents = (10, 10.0);\n", "bad.cfg:4: ",
     "'percents' lists 10 twice"},
    {"datasets = [\"mnist\", \"mnist\"];\nmodes = [\"random\"];\nsubsets = [0];\npercents = [0];\n", "bad.cfg:1: ",
     "'datasets' lists 'mnist' twice"},
    {"datasets = [\"mnist\"];\nmodes = [\"random\"];\nsubsets = [0, 0];\npercents = [0];\n", "bad.cfg:3: ",
     "'subsets' lists 0 twice"},
    {BASE "poison_validation = [true, true];\n", "bad.cfg:5: ", "lists true twice"},
    {BASE "batch_sizes = [32, 32];\n", "bad.cfg:5: ", "lists 32 twice"},
    /* ranges */
    {"datasets = [\"mnist\"];\nmodes = [\"random\"];\nsubsets = [0];\npercents = [0, 101];\n", "bad.cfg:4: ",
     "'percents': 101 is outside [0, 100]"},
    {"datasets = [\"mnist\"];\nmodes = [\"random\"];\nsubsets = [0];\npercents = [-0.5];\n", "bad.cfg:4: ",
     "outside [0, 100]"},
    {"datasets = [\"mnist\"];\nmodes = [\"random\"];\nsubsets = [-5];\npercents = [0];\n", "bad.cfg:3: ",
     "'subsets': -5 is below 0"},
    {"datasets = [\"mnist\"];\nmodes = [\"random\"];\nsubsets = [0,\n  60001];\npercents = [0];\n", "bad.cfg:4: ",
     "'subsets': 60001 is larger than mnist's training set (60000 items)"},
    {"datasets = [\"mnist\", \"cifar10\"];\nmodes = [\"random\"];\nsubsets = [55000];\npercents = [0];\n",
     "bad.cfg:3: ", "'subsets': 55000 is larger than cifar10's training set (50000 items)"},
    {BASE "batch_sizes = [0];\n", "bad.cfg:5: ", "'batch_sizes': 0 is outside [1, 65536]"},
    {BASE "max_epochs = 0;\n", "bad.cfg:5: ", "'max_epochs': 0 is outside [1, 100000]"},
    {BASE "patience = -1;\n", "bad.cfg:5: ", "'patience': -1 is outside [0, 100000]"},
    {BASE "lr_patience = -1;\n", "bad.cfg:5: ", "'lr_patience': -1 is outside [0, 100000]"},
    {BASE "lr_factor = 0;\n", "bad.cfg:5: ", "'lr_factor': 0 is outside (0, 1]"},
    {BASE "lr_factor = 1.5;\n", "bad.cfg:5: ", "'lr_factor': 1.5 is outside (0, 1]"},
    {BASE "lr = -0.001;\n", "bad.cfg:5: ", "'lr': -0.001 is outside (0, 10]"},
    {BASE "repeats = 0;\n", "bad.cfg:5: ", "'repeats' = 0 is out of range"},
    {BASE "threads = 0;\n", "bad.cfg:5: ", "'threads' = 0 is out of range"},
    {BASE "threads = 5000;\n", "bad.cfg:5: ", "'threads' = 5000 is out of range [1, 1024]"},
    {BASE "checkpoint_interval = -1;\n", "bad.cfg:5: ", "'checkpoint_interval' = -1 is out of range [0, 86400] seconds"},
    {BASE "checkpoint_interval = \"60\";\n", "bad.cfg:5: ", "'checkpoint_interval' must be a number of seconds"},
    {BASE "repeats = 1001;\n", "bad.cfg:5: ", "'repeats' = 1001 is out of range [1, 1000]"},
    {BASE "batch_sizes = [256,\n 100000];\n", "bad.cfg:6: ", "'batch_sizes': 100000 is outside [1, 65536]"},
    {BASE "seed = -1;\n", "bad.cfg:5: ", "'seed': -1 is negative"},
    {BASE "validation_items = -1;\n", "bad.cfg:5: ", "'validation_items': -1 is below 0"},
    {BASE "validation_items = 20000;\n", "bad.cfg:5: ", "'validation_items': 20000 is larger than mnist's test set (10000 items)"},
    /* the one validator's limits (shared with poisonfarm train and the trainer) */
    {"datasets = [\"mnist\"];\nmodes = [\"random\"];\nsubsets = [0];\npercents = (0,\n 100.0001);\n", "bad.cfg:5: ",
     "'percents': 100.0001 is outside [0, 100]"},
    {BASE "selections = [\"test\", \"split\"];\nvalidation_items = 1;\n", "bad.cfg:6: ",
     "'validation_items': 1 is too few for selection split"},
    {BASE "lr = 10.5;\n", "bad.cfg:5: ", "'lr': 10.5 is outside (0, 10]"},
    {BASE "paired_init = 1;\n", "bad.cfg:5: ", "'paired_init' takes true or false"},
    {BASE "paired_init = [true];\n", "bad.cfg:5: ", "'paired_init' takes one value"},
    /* names */
    {"datasets = [\"mnist\", \"mnsit\"];\nmodes = [\"random\"];\nsubsets = [0];\npercents = [0];\n", "bad.cfg:1: ",
     "unknown dataset 'mnsit'"},
    {"datasets = [\"mnist\"];\nmodes = [\"uniform\"];\nsubsets = [0];\npercents = [0];\n", "bad.cfg:2: ",
     "unknown mode 'uniform'"},
    {BASE "models = [\"resnet\"];\n", "bad.cfg:5: ", "unknown model 'resnet'"},
    {BASE "selections = [\"train\"];\n", "bad.cfg:5: ", "unknown selection 'train'"},
    /* the label file and mode file */
    {BASE "label_file = \"labels.txt\";\n", "bad.cfg:5: ",
     "'label_file': only mode file reads a label file, and this configuration's mode is random (a job with a "
     "label file has modes = [\"file\"])"},
    {"datasets = [\"mnist\"];\nmodes = [\"file\"];\nsubsets = [0];\npercents = [0];\n", "bad.cfg:2: ",
     "'modes': file needs a label file (label_file = \"PATH\""},
    {BASE "label_file = 5;\n", "bad.cfg:5: ", "'label_file' takes text in quotes"},
    {BASE "label_file = [\"a\"];\n", "bad.cfg:5: ", "'label_file' takes one value"},
    {BASE "label_file_hash = 5;\n", "bad.cfg:5: ", "unknown key 'label_file_hash'"},
    {"datasets = [\"mnist\"];\nmodes = [\"file\"];\nsubsets = [10];\npercents = [0];\n"
     "poison_validation = [true];\nlabel_file = \"x\";\n",
     "bad.cfg:5: ", "'poison_validation': true does not go with mode file"},
    {"datasets = [\"mnist\"];\nmodes = [\"file\"];\nsubsets = [10];\npercents = [0];\n"
     "label_file = \"/nonexistent/labels.txt\";\n",
     "bad.cfg:5: ", "'label_file' (for mnist, subset 10): /nonexistent/labels.txt: no such label file"},
    {BASE "label_file = \"" "0123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789012345678901234567890123456789\";\n",
     "bad.cfg:5: ", "is longer than 255 characters"},
};

static void bad_jobs_name_file_and_line(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof bad_cases / sizeof bad_cases[0]; c++) {
        pf_job job;
        pf_error err = {0};
        int rc = grid_load_string(&job, bad_cases[c].text, "bad.cfg", &err);
        int ok = rc == -1 && err.kind == PF_ERR_USAGE &&
                 strncmp(err.msg, bad_cases[c].prefix, strlen(bad_cases[c].prefix)) == 0 &&
                 strstr(err.msg, bad_cases[c].words) != NULL && strchr(err.msg, '\n') == NULL;
        if (!ok)
            fprintf(stderr, "case %zu: rc %d, message \"%s\"; expected \"%s...%s\"\n", c, rc, err.msg,
                    bad_cases[c].prefix, bad_cases[c].words);
        assert_true(ok);
        /* A failed load leaves nothing to free, and freeing is harmless. */
        assert_null(job.configs);
        assert_null(job.text);
        grid_free(&job);
    }
}

static void good_job_expands_in_order(void **state)
{
    (void)state;
    const char *text =
        "# a comment\n"
        "datasets = [\"cifar10\", \"mnist\"];\n"
        "modes = [\"biased\", \"random\"];\n"
        "subsets = [1000, 0];\n"
        "models = [\"wide\", \"seed\"];\n"
        "batch_sizes = [32, 256];\n"
        "selections = [\"split\", \"test\"];\n"
        "poison_validation = [true, false];\n"
        "repeats = 2;\n"
        "percents = (0, 0.5, 100);\n"
        "max_epochs = 7; patience = 3; lr_patience = 2; lr_factor = 0.5; lr = 0.01;\n"
        "seed = 5000000000L; threads = 2; validation_items = 1000; checkpoint_interval = 0.5;\n"
        "data_dir = \"/tmp/d\"; output = \"out/x.h5\"; description = \"a test\";\n";
    pf_job job;
    pf_error err = {0};
    int rc = grid_load_string(&job, text, "dir/good.cfg", &err);
    if (rc != 0) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(job.nconfigs, 2 * 2 * 2 * 2 * 2 * 2 * 2 * 2 * 3);
    assert_string_equal(job.name, "good");
    assert_string_equal(job.path, "dir/good.cfg");
    assert_string_equal(job.text, text);
    assert_string_equal(job.data_dir, "/tmp/d");
    assert_string_equal(job.output, "out/x.h5");
    assert_int_equal(job.threads, 2);
    assert_true(job.checkpoint_interval == 0.5);
    assert_int_equal(job.epochs_capped, 1);
    const pf_dataset_id ds[] = {PF_DS_CIFAR10, PF_DS_MNIST};
    const pf_mode modes[] = {PF_MODE_BIASED, PF_MODE_RANDOM};
    const int32_t subsets[] = {1000, 0};
    const pf_model_kind models[] = {PF_MODEL_WIDE, PF_MODEL_SEED};
    const int32_t batches[] = {32, 256};
    const pf_selection sels[] = {PF_SEL_SPLIT, PF_SEL_TEST};
    const int pv[] = {1, 0};
    const double percents[] = {0, 0.5, 100};
    int64_t id = 0;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 2; c++)
                for (int d = 0; d < 2; d++)
                    for (int e = 0; e < 2; e++)
                        for (int f = 0; f < 2; f++)
                            for (int g = 0; g < 2; g++)
                                for (int r = 0; r < 2; r++)
                                    for (int p = 0; p < 3; p++, id++) {
                                        const pf_config *cfg = &job.configs[id];
                                        assert_int_equal(cfg->dataset, ds[a]);
                                        assert_int_equal(cfg->mode, modes[b]);
                                        assert_int_equal(cfg->subset, subsets[c]);
                                        assert_int_equal(cfg->model, models[d]);
                                        assert_int_equal(cfg->batch_size, batches[e]);
                                        assert_int_equal(cfg->selection, sels[f]);
                                        assert_int_equal(cfg->poison_validation, pv[g]);
                                        assert_int_equal(cfg->repeat, r);
                                        assert_true(cfg->percent == percents[p]);
                                        assert_int_equal(cfg->max_epochs, 7);
                                        assert_int_equal(cfg->patience, 3);
                                        assert_int_equal(cfg->lr_patience, 2);
                                        assert_true(cfg->lr_factor == 0.5);
                                        assert_true(cfg->lr == 0.01);
                                        assert_true(cfg->seed == 5000000000ULL);
                                        assert_int_equal(cfg->val_items, 1000);
                                    }
    grid_free(&job);
    assert_null(job.configs);
}

static void defaults_follow_the_recipe(void **state)
{
    (void)state;
    pf_job job;
    pf_error err = {0};
    assert_int_equal(grid_load_string(&job, BASE, "jobs/min.cfg", &err), 0);
    assert_string_equal(job.name, "min");
    assert_int_equal(job.nconfigs, 1);
    /* Every field not written takes one value, the table's default, from no line. */
    pf_config def;
    config_defaults(&def);
    for (int f = 0; f < PF_NFIELDS; f++) {
        if (f == PF_FIELD_dataset || f == PF_FIELD_mode || f == PF_FIELD_subset || f == PF_FIELD_percent) continue;
        assert_int_equal(job.axes[f].n, 1);
        assert_int_equal(job.axes[f].lines[0], 0);
        assert_int_equal(config_field_bits(&job.configs[0], f), config_field_bits(&def, f));
    }
    assert_int_equal(job.configs[0].max_epochs, 100);
    assert_int_equal(job.configs[0].patience, 10);
    assert_int_equal(job.configs[0].lr_patience, 5);
    assert_true(job.configs[0].lr_factor == 0.1);
    assert_true(job.configs[0].lr == 0.001);
    assert_true(job.configs[0].seed == 1);
    assert_int_equal(job.configs[0].paired_init, 0);
    assert_int_equal(job.threads, 1);
    assert_true(job.checkpoint_interval == 60);
    assert_int_equal(job.epochs_capped, 0);
    assert_string_equal(job.data_dir, "");
    assert_string_equal(job.output, "");
    const pf_config *c = &job.configs[0];
    assert_int_equal(c->dataset, PF_DS_MNIST);
    assert_int_equal(c->mode, PF_MODE_RANDOM);
    assert_int_equal(c->batch_size, 256);
    assert_int_equal(c->max_epochs, 100);
    assert_int_equal(c->val_items, 0);
    assert_int_equal(c->repeat, 0);
    grid_free(&job);
}

static uint64_t fingerprint_of(const char *text)
{
    pf_job job;
    pf_error err = {0};
    int rc = grid_load_string(&job, text, "fp.cfg", &err);
    if (rc != 0) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    uint64_t fp = grid_fingerprint(&job);
    grid_free(&job);
    return fp;
}

static void fingerprint_is_the_set_of_configurations(void **state)
{
    (void)state;
    const char *a = "datasets = [\"mnist\", \"cifar10\"]; modes = [\"random\", \"biased\"];\n"
                    "subsets = [0, 1000]; percents = [0, 10, 20]; seed = 3; max_epochs = 50;\n";
    /* Same grid: axes reordered, comments, other layout, 10 written as 10.0, defaults spelt out. */
    const char *b = "# the same grid\n"
                    "percents = (20, 10.0, 0);   // reordered\n"
                    "subsets  = [1000, 0];\n"
                    "modes    = [\"biased\", \"random\"];\n"
                    "datasets = [\"cifar10\",\n             \"mnist\"];\n"
                    "max_epochs = 50;\nseed = 3;\nbatch_sizes = [256];\nlr = 0.001;\nthreads = 2;\n"
                    "output = \"elsewhere.h5\"; checkpoint_interval = 5;\n";
    uint64_t fa = fingerprint_of(a);
    assert_true(fa == fingerprint_of(b));
    const char *changed[] = {
        "datasets = [\"mnist\", \"cifar10\"]; modes = [\"random\", \"biased\"];\n"
        "subsets = [0, 1000]; percents = [0, 10, 25]; seed = 3; max_epochs = 50;\n",
        "datasets = [\"mnist\", \"cifar10\"]; modes = [\"random\", \"biased\"];\n"
        "subsets = [0, 1000]; percents = [0, 10, 20]; seed = 4; max_epochs = 50;\n",
        "datasets = [\"mnist\", \"cifar10\"]; modes = [\"random\", \"biased\"];\n"
        "subsets = [0, 1000]; percents = [0, 10, 20]; seed = 3; max_epochs = 51;\n",
        "datasets = [\"mnist\", \"cifar10\"]; modes = [\"random\", \"biased\"];\n"
        "subsets = [0, 1000]; percents = [0, 10, 20]; seed = 3; max_epochs = 50; lr = 0.002;\n",
        "datasets = [\"mnist\", \"cifar10\"]; modes = [\"random\", \"biased\"];\n"
        "subsets = [0, 1000]; percents = [0, 10, 20]; seed = 3; max_epochs = 50; validation_items = 100;\n",
        "datasets = [\"mnist\", \"cifar10\"]; modes = [\"random\", \"biased\"];\n"
        "subsets = [0, 1000]; percents = [0, 10]; seed = 3; max_epochs = 50;\n",
        "datasets = [\"mnist\", \"cifar10\"]; modes = [\"random\", \"biased\"];\n"
        "subsets = [0, 1000]; percents = [0, 10, 20]; seed = 3; max_epochs = 50; repeats = 2;\n",
    };
    for (size_t i = 0; i < sizeof changed / sizeof changed[0]; i++) {
        uint64_t fc = fingerprint_of(changed[i]);
        if (fc == fa) fprintf(stderr, "change %zu left the fingerprint unchanged\n", i);
        assert_true(fc != fa);
    }
}

static void config_hash_covers_every_setting(void **state)
{
    (void)state;
    pf_config base;
    config_defaults(&base);
    uint64_t h0 = config_hash(&base);
    assert_true(h0 == config_hash(&base));
    /* Every field of the table, whatever it is: a new field is covered without editing this. */
    for (int f = 0; f < PF_NFIELDS; f++) {
        pf_config c = base;
        field_perturb(&c, f);
        assert_int_equal(config_diff(&c, &base), f);
        if (config_hash(&c) == h0) fprintf(stderr, "field %s is not hashed\n", pf_config_fields[f].name);
        assert_true(config_hash(&c) != h0);
    }
    /* -0 % and 0 % are the same configuration. */
    pf_config z = base;
    z.percent = -0.0;
    assert_true(config_hash(&z) == h0);
}

static void cost_tracks_the_work(void **state)
{
    (void)state;
    pf_config c;
    config_defaults(&c);
    c.subset = 1000;
    /* Units: MNIST seed-model forward passes. 1000 items x 3 + 10000 validation, 30 epochs. */
    assert_float_equal(grid_config_cost(&c, 1000), (3.0 * 1000 + 10000) * 30, 1e-6);
    /* n_train <= 0: taken from the subset. */
    assert_float_equal(grid_config_cost(&c, 0), grid_config_cost(&c, 1000), 1e-6);
    /* The full set: 60000 items, 40 epochs. */
    pf_config full = c;
    full.subset = 0;
    assert_float_equal(grid_config_cost(&full, 0), (3.0 * 60000 + 10000) * 40, 1e-6);
    /* An epoch cap below the estimate counts. */
    pf_config capped = c;
    capped.max_epochs = 3;
    assert_float_equal(grid_config_cost(&capped, 1000), (3.0 * 1000 + 10000) * 3, 1e-6);
    /* Fewer validation items, less work. */
    pf_config small_val = c;
    small_val.val_items = 500;
    assert_float_equal(grid_config_cost(&small_val, 1000), (3.0 * 1000 + 500) * 30, 1e-6);
    /* The wide model costs about 4x, CIFAR's 32x32x3 images about 1.5x MNIST's. */
    pf_config wide = c;
    wide.model = PF_MODEL_WIDE;
    double r = grid_config_cost(&wide, 1000) / grid_config_cost(&c, 1000);
    assert_true(r > 3.5 && r < 4.1);
    pf_config cifar = c;
    cifar.dataset = PF_DS_CIFAR10;
    r = grid_config_cost(&cifar, 1000) / grid_config_cost(&c, 1000);
    assert_true(r > 1.3 && r < 1.7);
    pf_config cifar100 = cifar;
    cifar100.dataset = PF_DS_CIFAR100;
    assert_true(grid_config_cost(&cifar100, 1000) > grid_config_cost(&cifar, 1000));
    /* Mode and percent do not change the work. */
    pf_config biased = c;
    biased.mode = PF_MODE_BIASED;
    biased.percent = 50;
    assert_float_equal(grid_config_cost(&biased, 1000), grid_config_cost(&c, 1000), 1e-6);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A scratch directory to work in, left (and removed) by the teardown even when a test fails. */
typedef struct {
    char cwd[PF_PATH_MAX];
    char dir[64];
} scratch;

static int scratch_enter(void **state)
{
    scratch *s = calloc(1, sizeof *s);
    if (s == NULL || getcwd(s->cwd, sizeof s->cwd) == NULL) return -1;
    snprintf(s->dir, sizeof s->dir, "/tmp/pf_test_grid_XXXXXX");
    if (mkdtemp(s->dir) == NULL || chdir(s->dir) != 0) return -1;
    *state = s;
    return 0;
}

static int scratch_leave(void **state)
{
    scratch *s = *state;
    const char *files[] = {"here.cfg", "jobs/there.cfg", "nul.cfg", "bad.cfg", "labels.txt"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) remove(files[i]);
    rmdir("jobs");
    int rc = chdir(s->cwd);
    rmdir(s->dir);
    free(s);
    return rc;
}

static void find_and_read_job_files(void **state)
{
    (void)state;
    char out[PF_PATH_MAX];
    assert_int_equal(mkdir("jobs", 0755), 0);
    write_file("here.cfg", BASE);
    write_file("jobs/there.cfg", BASE);
    pf_error err = {0};

    assert_int_equal(grid_find("here.cfg", out, &err), 0);
    assert_string_equal(out, "here.cfg");
    assert_int_equal(grid_find("here", out, &err), 0);
    assert_string_equal(out, "here.cfg");
    assert_int_equal(grid_find("there", out, &err), 0);
    assert_string_equal(out, "jobs/there.cfg");
    assert_int_equal(grid_find("there.cfg", out, &err), 0);
    assert_string_equal(out, "jobs/there.cfg");
    assert_int_equal(grid_find("jobs/there.cfg", out, &err), 0);
    assert_string_equal(out, "jobs/there.cfg");
    assert_int_equal(grid_find("nowhere_to_be_found", out, &err), -1);
    assert_non_null(strstr(err.msg, "nowhere_to_be_found: no such job file"));
    /* A directory is not a job file. */
    assert_int_equal(grid_find("jobs", out, &err), -1);

    /* grid_load from disk: name from the file name, the text kept whole. */
    pf_job job;
    assert_int_equal(grid_load(&job, "jobs/there.cfg", &err), 0);
    assert_string_equal(job.name, "there");
    assert_string_equal(job.text, BASE);
    grid_free(&job);
    /* Unreadable, a directory, not text. */
    assert_int_equal(grid_load(&job, "missing.cfg", &err), -1);
    assert_string_equal(err.msg, "missing.cfg: no such job file");
    assert_int_equal(grid_load(&job, "jobs", &err), -1);
    assert_non_null(strstr(err.msg, "jobs: a directory, not a job file"));
    FILE *f = fopen("nul.cfg", "wb");
    assert_non_null(f);
    fwrite("datasets = [\"mnist\"];\0", 1, 22, f);
    fclose(f);
    assert_int_equal(grid_load(&job, "nul.cfg", &err), -1);
    assert_non_null(strstr(err.msg, "nul.cfg: cannot read: a NUL byte"));
    /* Errors in a file read from disk name that file. */
    write_file("bad.cfg", BASE "\nmax_epochs = 0;\n");
    assert_int_equal(grid_load(&job, "bad.cfg", &err), -1);
    assert_non_null(strstr(err.msg, "bad.cfg:6: 'max_epochs': 0 is outside"));

    /* A job with a label file: every configuration records the file's hash (the first 64 bits of
     * its SHA-256: `printf '# 12\n1\n...' | sha256sum` starts 2bd3...); its errors name the job's
     * line and the label file's. */
    const char *job_text = "datasets = [\"mnist\"];\nmodes = [\"file\"];\nsubsets = [10, 12];\n"
                           "percents = [0, 50];\nlabel_file = \"labels.txt\";\n";
    write_file("labels.txt", "# 12\n1\n2\n3\n4\n5\n6\n7\n8\n9\n0\n1\n2\n");
    write_file("here.cfg", job_text);
    assert_int_equal(grid_load(&job, "here.cfg", &err), 0);
    assert_int_equal(job.nconfigs, 4);
    for (int i = 0; i < 4; i++) {
        assert_string_equal(job.configs[i].label_file, "labels.txt");
        assert_true(job.configs[i].label_file_hash == job.configs[0].label_file_hash);
        assert_int_equal(job.configs[i].mode, PF_MODE_FILE);
    }
    FILE *sh = popen("sha256sum labels.txt", "r");
    char hex[80] = "";
    assert_non_null(sh);
    assert_non_null(fgets(hex, sizeof hex, sh));
    pclose(sh);
    char mine[17];
    snprintf(mine, sizeof mine, "%016llx", (unsigned long long)job.configs[0].label_file_hash);
    assert_int_equal(strncmp(hex, mine, 16), 0);
    uint64_t fp = grid_fingerprint(&job);
    grid_free(&job);
    /* Other content, same path: another grid. */
    write_file("labels.txt", "# 12\n1\n2\n3\n4\n5\n6\n7\n8\n9\n0\n1\n3\n");
    assert_int_equal(grid_load(&job, "here.cfg", &err), 0);
    assert_true(grid_fingerprint(&job) != fp);
    grid_free(&job);
    /* Too short for subset 20, a label beyond MNIST's classes. */
    write_file("here.cfg", "datasets = [\"mnist\"];\nmodes = [\"file\"];\nsubsets = [10, 20];\n"
                           "percents = [0];\n\nlabel_file = \"labels.txt\";\n");
    assert_int_equal(grid_load(&job, "here.cfg", &err), -1);
    assert_string_equal(err.msg, "here.cfg:6: 'label_file' (for mnist, subset 20): labels.txt:14: the file ends "
                                 "after 12 labels, but 20 training items are used (one label per training "
                                 "item, in the training set's order)");
    write_file("labels.txt", "1\n2\n42\n");
    write_file("here.cfg", "datasets = [\"mnist\"];\nmodes = [\"file\"];\nsubsets = [3];\n"
                           "percents = [0];\nlabel_file = \"labels.txt\";\n");
    assert_int_equal(grid_load(&job, "here.cfg", &err), -1);
    assert_non_null(strstr(err.msg, "here.cfg:5: 'label_file' (for mnist, subset 3): labels.txt:3: label 42 is "
                                    "outside 0..9 (10 classes)"));
}

static void shipped_jobs_parse(void **state)
{
    (void)state;
    pf_job job;
    pf_error err = {0};

    int rc = grid_load(&job, "jobs/seed.cfg", &err);
    if (rc != 0) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(job.nconfigs, 4 * 2 * 2 * 20);
    assert_int_equal(job.axes[PF_FIELD_dataset].n, 4);
    assert_int_equal(job.axes[PF_FIELD_percent].n, 20);
    assert_true(job.axes[PF_FIELD_percent].values[6].d == 7 && job.axes[PF_FIELD_percent].values[19].d == 100);
    assert_int_equal(job.configs[0].max_epochs, 100);
    assert_int_equal(job.epochs_capped, 0);
    assert_true(job.configs[0].seed == 1);
    assert_int_equal(job.configs[0].paired_init, 0);
    assert_int_equal(job.configs[0].mode, PF_MODE_RANDOM);
    assert_int_equal(job.configs[40].mode, PF_MODE_BIASED);   /* the figures' two curves */
    assert_int_equal(job.axes[PF_FIELD_mode].n, 2);
    assert_int_equal(job.configs[0].batch_size, 256);
    assert_int_equal(job.configs[0].val_items, 0);
    grid_free(&job);

    rc = grid_load(&job, "jobs/quick.cfg", &err);
    if (rc != 0) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_string_equal(job.name, "quick");
    assert_int_equal(job.nconfigs, 1 * 2 * 1 * 5);
    /* The demo runs the recipe uncapped, each point an independent run. */
    assert_int_equal(job.configs[0].max_epochs, 100);
    assert_int_equal(job.epochs_capped, 0);
    assert_int_equal(job.configs[0].paired_init, 0);
    assert_int_equal(job.configs[0].subset, 1000);
    grid_free(&job);

    rc = grid_load(&job, "jobs/smoke.cfg", &err);
    if (rc != 0) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(job.nconfigs, 4);
    assert_int_equal(job.configs[0].max_epochs, 3);
    assert_int_equal(job.configs[0].batch_size, 64);
    assert_int_equal(job.configs[0].val_items, 500);
    assert_int_equal(job.configs[0].subset, 200);
    grid_free(&job);
}

int main(int argc, char **argv)
{
    /* The shipped jobs are read relative to the source tree: run from it, or from anywhere via
     * the binary's place in it (build/tests/test_grid). */
    (void)argc;
    if (access("jobs/seed.cfg", R_OK) != 0) {
        char self[PF_PATH_MAX];
        snprintf(self, sizeof self, "%s", argv[0]);
        char *root = dirname(dirname(dirname(self)));
        if (chdir(root) != 0) perror(root);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_jobs_name_file_and_line),
        cmocka_unit_test(good_job_expands_in_order),
        cmocka_unit_test(defaults_follow_the_recipe),
        cmocka_unit_test(fingerprint_is_the_set_of_configurations),
        cmocka_unit_test(config_hash_covers_every_setting),
        cmocka_unit_test(cost_tracks_the_work),
        cmocka_unit_test_setup_teardown(find_and_read_job_files, scratch_enter, scratch_leave),
        cmocka_unit_test(shipped_jobs_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
