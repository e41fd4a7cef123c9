/* grid.c -- job files (libconfig): validation, expansion into configurations, fingerprints, costs. */
#include "poisonfarm/grid.h"

#include "poisonfarm/data.h"
#include "poisonfarm/rng.h"

#include <errno.h>
#include <libconfig.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A job file is a few hundred bytes; anything this large is not one. */
#define GRID_MAX_TEXT (1 << 20)
/* config_setting_source_line is an unsigned short: beyond this, line numbers would lie. */
#define GRID_MAX_LINES 65535
/* A grid this large is a typo (and its tables would not fit a results file sensibly). */
#define GRID_MAX_CONFIGS 1000000

/* Every top-level key a job file may hold (README.md, section "Job files"). */
static const char *const grid_keys[] = {
    "datasets", "modes", "subsets", "percents", "batch_sizes", "models", "poison_validation",
    "selections", "repeats", "max_epochs", "patience", "lr_patience", "lr_factor", "lr", "seed",
    "threads", "validation_items", "data_dir", "output", "description",
};
#define GRID_NKEYS ((int)(sizeof grid_keys / sizeof grid_keys[0]))
/* Indices into grid_keys, in the same order. */
enum {
    K_DATASETS, K_MODES, K_SUBSETS, K_PERCENTS, K_BATCH_SIZES, K_MODELS, K_POISON_VALIDATION,
    K_SELECTIONS, K_REPEATS, K_MAX_EPOCHS, K_PATIENCE, K_LR_PATIENCE, K_LR_FACTOR, K_LR, K_SEED,
    K_THREADS, K_VALIDATION_ITEMS, K_DATA_DIR, K_OUTPUT, K_DESCRIPTION, K_COUNT
};

typedef struct {
    const char *path;
    pf_error *err;
} parse_ctx;

/* "PATH:LINE: message" as a PF_ERR_USAGE error; returns -1. */
static int fail_at(const parse_ctx *ctx, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_at(const parse_ctx *ctx, unsigned line, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return pf_error_set(ctx->err, PF_ERR_USAGE, "%s:%u: %s", ctx->path, line, msg);
}

static unsigned line_of(const config_setting_t *s) { return config_setting_source_line(s); }

static const char *type_words(const config_setting_t *s)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_GROUP: return "a group { }";
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: return "a whole number";
    case CONFIG_TYPE_FLOAT: return "a decimal number";
    case CONFIG_TYPE_STRING: return "a string";
    case CONFIG_TYPE_BOOL: return "true/false";
    case CONFIG_TYPE_ARRAY:
    case CONFIG_TYPE_LIST: return "a list";
    default: return "nothing";
    }
}

/* Edit distance, for "did you mean" on a misspelt key (keys are short). */
static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return 99;
    int d[64][64];
    for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            int del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
    return d[la][lb];
}

static int is_int(const config_setting_t *s)
{
    return config_setting_type(s) == CONFIG_TYPE_INT || config_setting_type(s) == CONFIG_TYPE_INT64;
}

static int is_number(const config_setting_t *s)
{
    return is_int(s) || config_setting_type(s) == CONFIG_TYPE_FLOAT;
}

static double number_of(const config_setting_t *s)
{
    if (config_setting_type(s) == CONFIG_TYPE_FLOAT) return config_setting_get_float(s);
    return (double)config_setting_get_int64(s);
}

/* An axis: a non-empty list or array of at most `max` entries. Returns its length or -1. */
static int axis_length(const parse_ctx *ctx, const config_setting_t *s, int max, const char *example)
{
    const char *key = config_setting_name(s);
    int t = config_setting_type(s);
    if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
        return fail_at(ctx, line_of(s), "'%s' must be a list, e.g. %s = %s (got %s)", key, key, example,
                       type_words(s));
    int n = config_setting_length(s);
    if (n == 0) return fail_at(ctx, line_of(s), "'%s' is empty: give at least one value, e.g. %s = %s", key, key, example);
    if (n > max) return fail_at(ctx, line_of(s), "'%s' has %d values, at most %d are allowed", key, n, max);
    return n;
}

/* Reads an axis of names into out[] through a parser; rejects unknown names and duplicates. */
static int axis_names(const parse_ctx *ctx, const config_setting_t *s, int max, const char *what,
                      const char *known, int (*parse)(const char *, int *), int *out, const char *example)
{
    const char *key = config_setting_name(s);
    int n = axis_length(ctx, s, max, example);
    if (n < 0) return -1;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return fail_at(ctx, line_of(e), "'%s' entries must be names in quotes, e.g. %s = %s (got %s)", key,
                           key, example, type_words(e));
        const char *name = config_setting_get_string(e);
        if (parse(name, &out[i]) != 0)
            return fail_at(ctx, line_of(e), "unknown %s '%s' in '%s' (known: %s)", what, name, key, known);
        for (int j = 0; j < i; j++)
            if (out[j] == out[i]) return fail_at(ctx, line_of(e), "'%s' lists '%s' twice", key, name);
    }
    return n;
}

/* The enum parsers through one signature (enums are ints here). */
static int parse_dataset(const char *s, int *v)
{
    pf_dataset_id id;
    if (dataset_from_name(s, &id) != 0) return -1;
    *v = (int)id;
    return 0;
}
static int parse_mode(const char *s, int *v)
{
    pf_mode m;
    if (poison_mode_from_name(s, &m) != 0) return -1;
    *v = (int)m;
    return 0;
}
static int parse_model(const char *s, int *v)
{
    pf_model_kind k;
    if (model_kind_from_name(s, &k) != 0) return -1;
    *v = (int)k;
    return 0;
}
static int parse_selection(const char *s, int *v)
{
    pf_selection sel;
    if (selection_from_name(s, &sel) != 0) return -1;
    *v = (int)sel;
    return 0;
}

/* An axis of whole numbers in [lo, hi], no duplicates. lines[] (may be NULL) gets each entry's line. */
static int axis_ints(const parse_ctx *ctx, const config_setting_t *s, int64_t lo, int64_t hi, int32_t *out,
                     unsigned *lines, const char *example)
{
    const char *key = config_setting_name(s);
    int n = axis_length(ctx, s, PF_GRID_MAX_AXIS, example);
    if (n < 0) return -1;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (!is_int(e))
            return fail_at(ctx, line_of(e), "'%s' entries must be whole numbers, e.g. %s = %s (got %s)", key, key,
                           example, type_words(e));
        int64_t v = config_setting_get_int64(e);
        if (v < lo || v > hi)
            return fail_at(ctx, line_of(e), "'%s' entry %lld is out of range [%lld, %lld]", key, (long long)v,
                           (long long)lo, (long long)hi);
        out[i] = (int32_t)v;
        if (lines != NULL) lines[i] = line_of(e);
        for (int j = 0; j < i; j++)
            if (out[j] == out[i]) return fail_at(ctx, line_of(e), "'%s' lists %lld twice", key, (long long)v);
    }
    return n;
}

/* A whole-number setting in [lo, hi]. */
static int setting_int(const parse_ctx *ctx, const config_setting_t *s, int64_t lo, int64_t hi, int64_t *out)
{
    const char *key = config_setting_name(s);
    if (!is_int(s))
        return fail_at(ctx, line_of(s), "'%s' must be a whole number (got %s)", key, type_words(s));
    int64_t v = config_setting_get_int64(s);
    if (v < lo || v > hi)
        return fail_at(ctx, line_of(s), "'%s' = %lld is out of range [%lld, %lld]", key, (long long)v,
                       (long long)lo, (long long)hi);
    *out = v;
    return 0;
}

/* A number setting in (lo, hi] (lo excluded: learning rates and factors must be positive). */
static int setting_positive(const parse_ctx *ctx, const config_setting_t *s, double hi, double *out)
{
    const char *key = config_setting_name(s);
    if (!is_number(s)) return fail_at(ctx, line_of(s), "'%s' must be a number (got %s)", key, type_words(s));
    double v = number_of(s);
    if (!(v > 0.0 && v <= hi)) return fail_at(ctx, line_of(s), "'%s' = %g is out of range (0, %g]", key, v, hi);
    *out = v;
    return 0;
}

static int setting_path(const parse_ctx *ctx, const config_setting_t *s, char out[PF_PATH_MAX])
{
    const char *key = config_setting_name(s);
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return fail_at(ctx, line_of(s), "'%s' must be a path in quotes (got %s)", key, type_words(s));
    const char *v = config_setting_get_string(s);
    if (v[0] == '\0') return fail_at(ctx, line_of(s), "'%s' is empty: leave it out to use the default", key);
    if (pf_snprintf(out, PF_PATH_MAX, "%s", v) != 0)
        return fail_at(ctx, line_of(s), "'%s' is longer than %d characters", key, PF_PATH_MAX - 1);
    return 0;
}

/* Things libconfig accepts that a job file must not hold: @include (the results file stores the
 * job's text, which must be the whole job) and more lines than line numbers can name. */
static int scan_text(const parse_ctx *ctx, const char *text)
{
    unsigned line = 1;
    for (const char *p = text; *p != '\0'; line++) {
        const char *q = p;
        while (*q == ' ' || *q == '\t') q++;
        if (strncmp(q, "@include", 8) == 0)
            return fail_at(ctx, line, "@include is not supported: a job file must be self-contained");
        const char *nl = strchr(p, '\n');
        if (nl == NULL) break;
        if (line >= GRID_MAX_LINES)
            return pf_error_set(ctx->err, PF_ERR_USAGE, "%s: more than %d lines: not a job file", ctx->path,
                                GRID_MAX_LINES);
        p = nl + 1;
    }
    return 0;
}

static void set_name(pf_job *job, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    size_t len = strlen(base);
    if (len >= 4 && strcmp(base + len - 4, ".cfg") == 0) len -= 4;
    if (len >= sizeof job->name) len = sizeof job->name - 1;
    memcpy(job->name, base, len);
    job->name[len] = '\0';
}

/* Validates the parsed file into job (axes and settings); *val_items gets validation_items. */
static int read_keys(const parse_ctx *ctx, config_t *cfg, pf_job *job, int32_t *val_items_out)
{
    _Static_assert(K_COUNT == GRID_NKEYS, "grid_keys and the K_ indices must agree");
    const config_setting_t *root = config_root_setting(cfg);
    const config_setting_t *found[GRID_NKEYS] = {0};
    int nroot = config_setting_length(root);
    for (int i = 0; i < nroot; i++) {
        const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        const char *key = config_setting_name(s);
        int k = 0;
        while (k < GRID_NKEYS && strcmp(grid_keys[k], key) != 0) k++;
        if (k == GRID_NKEYS) {
            int best = -1, bestd = 3;
            for (int j = 0; j < GRID_NKEYS; j++) {
                int d = edit_distance(key, grid_keys[j]);
                if (d < bestd) bestd = d, best = j;
            }
            if (best >= 0)
                return fail_at(ctx, line_of(s), "unknown key '%s' (did you mean '%s'?)", key, grid_keys[best]);
            return fail_at(ctx, line_of(s), "unknown key '%s' (the keys are listed in README.md, section 'Job files')", key);
        }
        found[k] = s;
    }
    /* The four axes without a sensible default (K_DATASETS..K_PERCENTS). */
    static const char *const examples[] = {"[\"mnist\", \"cifar10\"]", "[\"random\", \"biased\"]", "[0, 1000]",
                                           "[0, 10, 20]"};
    for (int k = K_DATASETS; k <= K_PERCENTS; k++)
        if (found[k] == NULL)
            return pf_error_set(ctx->err, PF_ERR_USAGE, "%s: missing key '%s', e.g. %s = %s", ctx->path, grid_keys[k],
                                grid_keys[k], examples[k]);

    int tmp[PF_GRID_MAX_AXIS];
    const config_setting_t *s;
    int n;
    s = found[K_DATASETS];
    if ((n = axis_names(ctx, s, PF_DS_COUNT * 4, "dataset", "mnist, fashion_mnist, cifar10, cifar100",
                        parse_dataset, tmp, "[\"mnist\", \"cifar10\"]")) < 0)
        return -1;
    job->ndatasets = n;
    for (int i = 0; i < n; i++) job->datasets[i] = (pf_dataset_id)tmp[i];

    s = found[K_MODES];
    if ((n = axis_names(ctx, s, PF_MODE_COUNT * 4, "mode", "random, biased", parse_mode, tmp,
                        "[\"random\", \"biased\"]")) < 0)
        return -1;
    job->nmodes = n;
    for (int i = 0; i < n; i++) job->modes[i] = (pf_mode)tmp[i];

    unsigned subset_lines[PF_GRID_MAX_AXIS];
    s = found[K_SUBSETS];
    if ((n = axis_ints(ctx, s, 0, INT32_MAX, job->subsets, subset_lines, "[0, 1000]")) < 0) return -1;
    job->nsubsets = n;

    s = found[K_PERCENTS];
    if ((n = axis_length(ctx, s, PF_GRID_MAX_AXIS, "[0, 10, 20]")) < 0) return -1;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (!is_number(e))
            return fail_at(ctx, line_of(e), "'percents' entries must be numbers from 0 to 100 (got %s)",
                           type_words(e));
        double p = number_of(e);
        if (!(p >= 0.0 && p <= 100.0))
            return fail_at(ctx, line_of(e), "percent %g is outside [0, 100]", p);
        job->percents[i] = p + 0.0; /* -0.0 becomes 0.0: one value, one bit pattern */
        for (int j = 0; j < i; j++)
            if (job->percents[j] == job->percents[i])
                return fail_at(ctx, line_of(e), "'percents' lists %g twice", p);
    }
    job->npercents = n;

    if ((s = found[K_BATCH_SIZES]) != NULL) {
        if ((n = axis_ints(ctx, s, 1, 65536, job->batch_sizes, NULL, "[256, 32]")) < 0) return -1;
        job->nbatch_sizes = n;
    }
    if ((s = found[K_MODELS]) != NULL) {
        if ((n = axis_names(ctx, s, PF_MODEL_COUNT * 4, "model", "seed, wide", parse_model, tmp,
                            "[\"seed\", \"wide\"]")) < 0)
            return -1;
        job->nmodels = n;
        for (int i = 0; i < n; i++) job->models[i] = (pf_model_kind)tmp[i];
    }
    if ((s = found[K_POISON_VALIDATION]) != NULL) {
        if ((n = axis_length(ctx, s, PF_GRID_MAX_AXIS, "[false, true]")) < 0) return -1;
        int seen[2] = {0, 0};
        for (int i = 0; i < n; i++) {
            const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
            if (config_setting_type(e) != CONFIG_TYPE_BOOL)
                return fail_at(ctx, line_of(e), "'poison_validation' entries must be true or false (got %s)",
                               type_words(e));
            int b = config_setting_get_bool(e) != 0;
            if (seen[b]++) return fail_at(ctx, line_of(e), "'poison_validation' lists %s twice", b ? "true" : "false");
            job->poison_validation[i] = b; /* i < 2: a third entry is always a duplicate */
        }
        job->npoison_validation = n;
    }
    if ((s = found[K_SELECTIONS]) != NULL) {
        if ((n = axis_names(ctx, s, PF_SEL_COUNT * 4, "selection", "test, split", parse_selection, tmp,
                            "[\"test\", \"split\"]")) < 0)
            return -1;
        job->nselections = n;
        for (int i = 0; i < n; i++) job->selections[i] = (pf_selection)tmp[i];
    }

    int64_t v;
    double d;
    if ((s = found[K_REPEATS]) != NULL) {
        if (setting_int(ctx, s, 1, 1000, &v) != 0) return -1;
        job->repeats = (int32_t)v;
    }
    if ((s = found[K_MAX_EPOCHS]) != NULL) {
        if (setting_int(ctx, s, 1, 100000, &v) != 0) return -1;
        job->max_epochs = (int32_t)v;
    }
    if ((s = found[K_PATIENCE]) != NULL) {
        if (setting_int(ctx, s, 1, 100000, &v) != 0) return -1;
        job->patience = (int32_t)v;
    }
    if ((s = found[K_LR_PATIENCE]) != NULL) {
        if (setting_int(ctx, s, 1, 100000, &v) != 0) return -1;
        job->lr_patience = (int32_t)v;
    }
    if ((s = found[K_LR_FACTOR]) != NULL) {
        if (setting_positive(ctx, s, 1.0, &d) != 0) return -1;
        job->lr_factor = d;
    }
    if ((s = found[K_LR]) != NULL) {
        if (setting_positive(ctx, s, 10.0, &d) != 0) return -1;
        job->lr = d;
    }
    if ((s = found[K_SEED]) != NULL) {
        if (setting_int(ctx, s, 0, INT64_MAX, &v) != 0) return -1;
        job->seed = (uint64_t)v;
    }
    if ((s = found[K_THREADS]) != NULL) {
        if (setting_int(ctx, s, 1, 1024, &v) != 0) return -1;
        job->threads = (int32_t)v;
    }
    int32_t val_items = 0;
    const config_setting_t *val_setting = found[K_VALIDATION_ITEMS];
    if (val_setting != NULL) {
        if (setting_int(ctx, val_setting, 0, INT32_MAX, &v) != 0) return -1;
        val_items = (int32_t)v;
    }
    if ((s = found[K_DATA_DIR]) != NULL && setting_path(ctx, s, job->data_dir) != 0) return -1;
    if ((s = found[K_OUTPUT]) != NULL && setting_path(ctx, s, job->output) != 0) return -1;
    if ((s = found[K_DESCRIPTION]) != NULL && config_setting_type(s) != CONFIG_TYPE_STRING)
        return fail_at(ctx, line_of(s), "'description' must be a string in quotes (got %s)", type_words(s));

    /* Sizes that depend on the dataset: what the official files hold (the run checks the loaded
     * files again, which may be partial). */
    for (int a = 0; a < job->ndatasets; a++) {
        pf_dataset ds;
        dataset_describe(job->datasets[a], &ds);
        for (int j = 0; j < job->nsubsets; j++)
            if (job->subsets[j] > ds.train_official_n)
                return fail_at(ctx, subset_lines[j], "subset %d is larger than %s's training set (%d items)",
                               job->subsets[j], dataset_name(job->datasets[a]), ds.train_official_n);
        if (val_items > ds.test_official_n)
            return fail_at(ctx, line_of(val_setting), "'validation_items' = %d is larger than %s's test set (%d items)",
                           val_items, dataset_name(job->datasets[a]), ds.test_official_n);
    }
    *val_items_out = val_items;
    return 0;
}

/* Fills the axes' defaults and expands the grid (order: grid.h). */
static int expand(const parse_ctx *ctx, pf_job *job, int32_t val_items)
{
    int64_t total = 1;
    const int64_t factors[] = {job->ndatasets, job->nmodes, job->nsubsets, job->nmodels, job->nbatch_sizes,
                               job->nselections, job->npoison_validation, job->repeats, job->npercents};
    for (size_t f = 0; f < sizeof factors / sizeof factors[0]; f++) {
        total *= factors[f];
        if (total > GRID_MAX_CONFIGS)
            return pf_error_set(ctx->err, PF_ERR_USAGE, "%s: the grid has more than %d configurations", ctx->path,
                                GRID_MAX_CONFIGS);
    }
    job->configs = pf_calloc((size_t)total, sizeof *job->configs);
    int64_t id = 0;
    for (int a = 0; a < job->ndatasets; a++)
        for (int b = 0; b < job->nmodes; b++)
            for (int c = 0; c < job->nsubsets; c++)
                for (int d = 0; d < job->nmodels; d++)
                    for (int e = 0; e < job->nbatch_sizes; e++)
                        for (int f = 0; f < job->nselections; f++)
                            for (int g = 0; g < job->npoison_validation; g++)
                                for (int r = 0; r < job->repeats; r++)
                                    for (int p = 0; p < job->npercents; p++) {
                                        pf_config *cfg = &job->configs[id++];
                                        config_defaults(cfg);
                                        cfg->dataset = job->datasets[a];
                                        cfg->mode = job->modes[b];
                                        cfg->subset = job->subsets[c];
                                        cfg->model = job->models[d];
                                        cfg->batch_size = job->batch_sizes[e];
                                        cfg->selection = job->selections[f];
                                        cfg->poison_validation = job->poison_validation[g];
                                        cfg->repeat = r;
                                        cfg->percent = job->percents[p];
                                        cfg->seed = job->seed;
                                        cfg->max_epochs = job->max_epochs;
                                        cfg->patience = job->patience;
                                        cfg->lr_patience = job->lr_patience;
                                        cfg->lr_factor = job->lr_factor;
                                        cfg->lr = job->lr;
                                        cfg->val_items = val_items;
                                    }
    PF_ASSERT(id == total);
    job->nconfigs = total;
    return 0;
}

int grid_load_string(pf_job *job, const char *text, const char *path, pf_error *err)
{
    parse_ctx ctx = {path != NULL ? path : "<job>", err};
    config_t cfg;
    int rc = -1;

    memset(job, 0, sizeof *job);
    config_init(&cfg);
    pf_snprintf(job->path, sizeof job->path, "%s", ctx.path);
    set_name(job, ctx.path);
    size_t len = strlen(text);
    job->text = pf_malloc(len + 1);
    memcpy(job->text, text, len + 1);

    /* The recipe's settings, then the defaults of the optional axes. */
    pf_config def;
    config_defaults(&def);
    job->repeats = 1;
    job->max_epochs = def.max_epochs;
    job->patience = def.patience;
    job->lr_patience = def.lr_patience;
    job->lr_factor = def.lr_factor;
    job->lr = def.lr;
    job->seed = def.seed;
    job->threads = 1;

    if (scan_text(&ctx, text) != 0) goto cleanup;
    if (config_read_string(&cfg, text) != CONFIG_TRUE) {
        const char *what = config_error_text(&cfg);
        const char *hint = "";
        /* libconfig's arrays [ ] hold one type: [0, 0.5, 1] mixes whole and decimal numbers. */
        if (what != NULL && strstr(what, "mismatched element type") != NULL)
            hint = " (in [ ] write every number the same way, e.g. [0.0, 0.5, 1.0]; round brackets (0, 0.5, 1) allow both)";
        pf_error_set(err, PF_ERR_USAGE, "%s:%d: %s%s", ctx.path, config_error_line(&cfg),
                     what != NULL ? what : "syntax error", hint);
        goto cleanup;
    }
    int32_t val_items = 0;
    if (read_keys(&ctx, &cfg, job, &val_items) != 0) goto cleanup;

    if (job->nbatch_sizes == 0) job->batch_sizes[job->nbatch_sizes++] = def.batch_size;
    if (job->nmodels == 0) job->models[job->nmodels++] = def.model;
    if (job->npoison_validation == 0) job->poison_validation[job->npoison_validation++] = 0;
    if (job->nselections == 0) job->selections[job->nselections++] = def.selection;
    job->epochs_capped = job->max_epochs < 100;

    if (expand(&ctx, job, val_items) != 0) goto cleanup;
    rc = 0;
cleanup:
    config_destroy(&cfg);
    if (rc != 0) grid_free(job);
    return rc;
}

int grid_load(pf_job *job, const char *path, pf_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = -1;
    memset(job, 0, sizeof *job);
    FILE *f = fopen(path, "rb");
    if (f == NULL) return pf_error_set(err, PF_ERR_USAGE, "%s: cannot read: %s", path, strerror(errno));

    text = pf_malloc(GRID_MAX_TEXT + 1);
    len = fread(text, 1, GRID_MAX_TEXT + 1, f);
    if (ferror(f)) {
        pf_error_set(err, PF_ERR_USAGE, "%s: cannot read: %s", path, strerror(errno));
        goto cleanup;
    }
    if (len > GRID_MAX_TEXT) {
        pf_error_set(err, PF_ERR_USAGE, "%s: cannot read: larger than %d bytes, not a job file", path,
                     GRID_MAX_TEXT);
        goto cleanup;
    }
    const char *nul = memchr(text, '\0', len);
    if (nul != NULL) {
        pf_error_set(err, PF_ERR_USAGE, "%s: cannot read: a NUL byte at offset %td, not a text file", path,
                     nul - text);
        goto cleanup;
    }
    text[len] = '\0';
    rc = grid_load_string(job, text, path, err);
cleanup:
    free(text);
    fclose(f);
    return rc;
}

void grid_free(pf_job *job)
{
    if (job == NULL) return;
    free(job->text);
    free(job->configs);
    memset(job, 0, sizeof *job);
}

static int is_regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int grid_find(const char *path, char out[PF_PATH_MAX], pf_error *err)
{
    if (path == NULL || path[0] == '\0')
        return pf_error_set(err, PF_ERR_USAGE, "no job file given");
    /* The working directory first, then the installed job files: `poisonfarm run quick` and the
     * default `jobs/seed.cfg` work from the source tree and from any directory after make install. */
    char share[PF_PATH_MAX];
    pf_share_dir(share);
    char prefixes[4][PF_PATH_MAX + 8];
    snprintf(prefixes[0], sizeof prefixes[0], "%s", "");
    snprintf(prefixes[1], sizeof prefixes[1], "%s", "jobs/");
    snprintf(prefixes[2], sizeof prefixes[2], "%s/jobs/", share);
    snprintf(prefixes[3], sizeof prefixes[3], "%s/", share);
    /* An absolute path is looked up as given (and with .cfg). */
    int nprefix = path[0] == '/' ? 1 : 4;
    for (int i = 0; i < nprefix; i++) {
        for (int cfg = 0; cfg < 2; cfg++) {
            char cand[PF_PATH_MAX];
            if (pf_snprintf(cand, sizeof cand, "%s%s%s", prefixes[i], path, cfg ? ".cfg" : "") != 0) continue;
            if (is_regular_file(cand)) {
                memcpy(out, cand, strlen(cand) + 1);
                return 0;
            }
        }
    }
    return pf_error_set(err, PF_ERR_MISSING,
                        "%s: no such job file (looked in the working directory, ./jobs and %s/jobs)", path,
                        share);
}

/* The bits of a double, with -0.0 folded onto 0.0. */
static uint64_t double_bits(double x)
{
    uint64_t b;
    x += 0.0;
    memcpy(&b, &x, sizeof b);
    return b;
}

uint64_t grid_config_hash(const pf_config *cfg)
{
    /* Field by field (never the struct's bytes: padding), each mixed in turn. The first value
     * versions the scheme: change it when a field is added. */
    uint64_t h = rng_derive(0x706f69736f6e6661ULL, 1);
    h = rng_derive(h, (uint64_t)cfg->dataset);
    h = rng_derive(h, (uint64_t)cfg->mode);
    h = rng_derive(h, (uint64_t)cfg->model);
    h = rng_derive(h, (uint64_t)cfg->selection);
    h = rng_derive(h, (uint64_t)(uint32_t)cfg->subset);
    h = rng_derive(h, double_bits(cfg->percent));
    h = rng_derive(h, (uint64_t)(uint32_t)cfg->batch_size);
    h = rng_derive(h, (uint64_t)(cfg->poison_validation != 0));
    h = rng_derive(h, (uint64_t)(uint32_t)cfg->repeat);
    h = rng_derive(h, cfg->seed);
    h = rng_derive(h, (uint64_t)(uint32_t)cfg->max_epochs);
    h = rng_derive(h, (uint64_t)(uint32_t)cfg->patience);
    h = rng_derive(h, (uint64_t)(uint32_t)cfg->lr_patience);
    h = rng_derive(h, double_bits(cfg->lr_factor));
    h = rng_derive(h, double_bits(cfg->lr));
    h = rng_derive(h, (uint64_t)(uint32_t)cfg->val_items);
    return h;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

uint64_t grid_fingerprint(const pf_job *job)
{
    /* Sorting the per-configuration hashes makes the fingerprint a function of the set. */
    int64_t n = job->nconfigs;
    uint64_t *h = pf_malloc((size_t)(n > 0 ? n : 1) * sizeof *h);
    for (int64_t i = 0; i < n; i++) h[i] = grid_config_hash(&job->configs[i]);
    qsort(h, (size_t)n, sizeof *h, cmp_u64);
    uint64_t fp = rng_derive(0x6772696466707631ULL, (uint64_t)n);
    for (int64_t i = 0; i < n; i++) fp = rng_derive(fp, h[i]);
    free(h);
    return fp;
}

/* Multiply-adds of one forward pass on one (c, h, w) image with k classes (nn.h's architectures:
 * seed = 32 filters and dense 128, wide = 64 filters and dense 256). */
static double forward_macs(pf_model_kind kind, int c, int h, int w, int k)
{
    const double f = kind == PF_MODEL_WIDE ? 64 : 32, d = kind == PF_MODEL_WIDE ? 256 : 128;
    double macs = 0, ch = c;
    /* conv valid, conv valid, pool, conv valid, conv valid, pool, conv valid, conv same */
    for (int stage = 0; stage < 3; stage++) {
        for (int conv = 0; conv < 2; conv++) {
            int same = stage == 2 && conv == 1;
            if (!same) h -= 2, w -= 2;
            macs += (double)h * w * f * ch * 9;
            ch = f;
        }
        if (stage < 2) h /= 2, w /= 2;
    }
    double flat = (double)h * w * f;
    macs += flat * d + d * d + d * k;
    return macs;
}

double grid_config_cost(const pf_config *cfg, int32_t n_train)
{
    pf_dataset ds;
    dataset_describe(cfg->dataset, &ds);
    if (n_train <= 0) n_train = cfg->subset > 0 ? cfg->subset : ds.train_official_n;
    double n_val = cfg->val_items > 0 ? cfg->val_items : ds.test_official_n;
    /* Training a sample costs about three forward passes (forward, backward to the inputs,
     * backward to the weights); validation is one. */
    double passes = 3.0 * n_train + n_val;
    double unit = forward_macs(PF_MODEL_SEED, 1, 28, 28, 10);
    double per_sample = forward_macs(cfg->model, ds.c, ds.h, ds.w, ds.k) / unit;
    /* Expected epochs before early stopping, from the seed's runs: small subsets stop sooner. */
    double cap = cfg->subset > 0 && cfg->subset < ds.train_official_n ? 30 : 40;
    double epochs = cfg->max_epochs < cap ? cfg->max_epochs : cap;
    return passes * per_sample * epochs;
}
