/* grid.c -- job files (libconfig): validation, expansion into configurations, fingerprints, costs. */
#include "poisonfarm/grid.h"

#include "poisonfarm/data.h"
#include "poisonfarm/fsutil.h"
#include "poisonfarm/rng.h"

#include <errno.h>
#include <libconfig.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A job file is a few hundred bytes; anything this large is not one. */
#define GRID_MAX_TEXT (1 << 20)
/* config_setting_source_line is an unsigned short: beyond this, line numbers would lie. */
#define GRID_MAX_LINES 65535
/* A grid this large is a typo (and its tables would not fit a results file sensibly). */
#define GRID_MAX_CONFIGS 1000000

/* The run's own keys, besides one per configuration field (config.h). */
static const char *const run_keys[] = {"threads", "data_dir", "output", "description", "checkpoint_interval"};
enum { R_THREADS, R_DATA_DIR, R_OUTPUT, R_DESCRIPTION, R_CKPT_INTERVAL, R_COUNT };
#define GRID_NKEYS (PF_NFIELDS + R_COUNT)

/* The job file's key k (a configuration field's or the run's own); NULL for a derived field. */
static const char *key_name(int k) { return k < PF_NFIELDS ? pf_config_fields[k].job_key : run_keys[k - PF_NFIELDS]; }

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

/* A value of field f, formatted as a user writes it (for messages). */
static const char *value_text(int f, pf_field_value v, char *out, size_t size)
{
    pf_config c;
    config_defaults(&c);
    config_set(&c, f, v);
    return config_format_value(&c, f, out, size);
}

/* An example of field f's job-file value, for messages: `["mnist", "fashion_mnist"]`, `[256]`. */
static void example_of(int f, char *out, size_t size)
{
    const pf_field *d = &pf_config_fields[f];
    pf_config def;
    config_defaults(&def);
    char v[64];
    if (d->kind == PF_FK_ENUM && d->enum_count >= 2)
        snprintf(v, sizeof v, "\"%s\", \"%s\"", d->enum_name(0), d->enum_name(1));
    else if (d->kind == PF_FK_ENUM)
        snprintf(v, sizeof v, "\"%s\"", d->enum_name(0));
    else if (d->role == PF_JOB_COUNT)
        snprintf(v, sizeof v, "3");
    else
        config_format_value(&def, f, v, sizeof v);
    snprintf(out, size, d->role == PF_JOB_AXIS ? "[%s]" : "%s", v);
}

/* One value of field f from the job file's setting e (a list entry or a single value). The range
 * is config_validate's to check, once the configurations exist. */
static int read_value(const parse_ctx *ctx, const config_setting_t *e, int f, pf_field_value *out)
{
    const pf_field *d = &pf_config_fields[f];
    const char *key = d->job_key;
    char why[320], ex[128];
    example_of(f, ex, sizeof ex);
    switch (d->kind) {
    case PF_FK_ENUM:
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return fail_at(ctx, line_of(e), "'%s' takes names in quotes, e.g. %s = %s (got %s)", key, key, ex,
                           type_words(e));
        if (config_parse_value(f, config_setting_get_string(e), out, why, sizeof why) != 0)
            return fail_at(ctx, line_of(e), "%s in '%s'", why, key);
        return 0;
    case PF_FK_BOOL:
        if (config_setting_type(e) != CONFIG_TYPE_BOOL)
            return fail_at(ctx, line_of(e), "'%s' takes true or false, e.g. %s = %s (got %s)", key, key, ex,
                           type_words(e));
        out->i = config_setting_get_bool(e) != 0;
        return 0;
    case PF_FK_I32:
    case PF_FK_U64: {
        if (!is_int(e))
            return fail_at(ctx, line_of(e), "'%s' takes whole numbers, e.g. %s = %s (got %s)", key, key, ex,
                           type_words(e));
        int64_t v = config_setting_get_int64(e);
        if (d->kind == PF_FK_U64) {
            if (v < 0) return fail_at(ctx, line_of(e), "'%s': %lld is negative", key, (long long)v);
            out->u = (uint64_t)v;
        } else {
            if (v < INT32_MIN || v > INT32_MAX)
                return fail_at(ctx, line_of(e), "'%s': %lld is outside [%.0f, %.0f]", key, (long long)v, d->lo,
                               d->hi);
            out->i = v;
        }
        return 0;
    }
    case PF_FK_F64:
        if (!is_number(e))
            return fail_at(ctx, line_of(e), "'%s' takes numbers, e.g. %s = %s (got %s)", key, key, ex,
                           type_words(e));
        out->d = number_of(e) + 0.0; /* -0.0 becomes 0.0: one value, one bit pattern */
        return 0;
    case PF_FK_STR:
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return fail_at(ctx, line_of(e), "'%s' takes text in quotes, e.g. %s = \"labels.txt\" (got %s)", key,
                           key, type_words(e));
        if (config_parse_value(f, config_setting_get_string(e), out, why, sizeof why) != 0)
            return fail_at(ctx, line_of(e), "'%s': %s", key, why);
        return 0;
    }
    return 0;
}

/* A string value lives in the axis' own storage (the parsed file's, or a default's, goes away). */
static void own_string(pf_axis *ax, int i, int f)
{
    if (pf_config_fields[f].kind != PF_FK_STR) return;
    if (ax->strings == NULL) ax->strings = pf_calloc((size_t)ax->n, sizeof *ax->strings);
    const char *s = ax->values[i].s != NULL ? ax->values[i].s : "";
    size_t len = strlen(s) + 1;
    free(ax->strings[i]);
    ax->strings[i] = pf_malloc(len);
    memcpy(ax->strings[i], s, len);
    ax->values[i].s = ax->strings[i];
}

static void axis_alloc(pf_axis *ax, int n)
{
    ax->n = n;
    ax->values = pf_calloc((size_t)n, sizeof *ax->values);
    ax->lines = pf_calloc((size_t)n, sizeof *ax->lines);
}

/* Field f's values from its key s: a list (axis), a count (0 .. N-1) or one value (setting). */
static int read_field(const parse_ctx *ctx, const config_setting_t *s, int f, pf_axis *ax)
{
    const pf_field *d = &pf_config_fields[f];
    const char *key = d->job_key;
    char ex[128];
    example_of(f, ex, sizeof ex);
    int is_list = config_setting_type(s) == CONFIG_TYPE_ARRAY || config_setting_type(s) == CONFIG_TYPE_LIST;
    if (d->role == PF_JOB_AXIS) {
        int n = axis_length(ctx, s, PF_GRID_MAX_AXIS, ex);
        if (n < 0) return -1;
        axis_alloc(ax, n);
        for (int i = 0; i < n; i++) {
            const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
            if (read_value(ctx, e, f, &ax->values[i]) != 0) return -1;
            own_string(ax, i, f);
            ax->lines[i] = line_of(e);
            for (int j = 0; j < i; j++) {
                pf_config a, b;
                config_defaults(&a);
                config_defaults(&b);
                config_set(&a, f, ax->values[i]);
                config_set(&b, f, ax->values[j]);
                if (config_diff(&a, &b) < 0) {
                    char v[64];
                    const char *q = d->kind == PF_FK_ENUM ? "'" : "";
                    return fail_at(ctx, line_of(e), "'%s' lists %s%s%s twice", key, q,
                                   value_text(f, ax->values[i], v, sizeof v), q);
                }
            }
        }
        ax->n = n;
        return 0;
    }
    if (is_list || config_setting_type(s) == CONFIG_TYPE_GROUP)
        return fail_at(ctx, line_of(s), "'%s' takes one value, e.g. %s = %s (got %s)", key, key, ex, type_words(s));
    if (d->role == PF_JOB_COUNT) {
        int64_t n = is_int(s) ? config_setting_get_int64(s) : -1;
        if (!is_int(s))
            return fail_at(ctx, line_of(s), "'%s' must be a whole number, e.g. %s = %s (got %s)", key, key, ex,
                           type_words(s));
        if (n < 1 || n > (int64_t)d->hi + 1)
            return fail_at(ctx, line_of(s), "'%s' = %lld is out of range [1, %lld]", key, (long long)n,
                           (long long)d->hi + 1);
        axis_alloc(ax, (int)n);
        for (int i = 0; i < (int)n; i++) {
            ax->values[i].i = i;
            ax->lines[i] = line_of(s);
        }
        ax->n = (int)n;
        return 0;
    }
    axis_alloc(ax, 1);
    if (read_value(ctx, s, f, &ax->values[0]) != 0) return -1;
    own_string(ax, 0, f);
    ax->lines[0] = line_of(s);
    return 0;
}

/* Reads every key of the parsed file into job (axes and settings). */
static int read_keys(const parse_ctx *ctx, config_t *cf, pf_job *job)
{
    const config_setting_t *root = config_root_setting(cf);
    const config_setting_t *found[GRID_NKEYS] = {0};
    int nroot = config_setting_length(root);
    for (int i = 0; i < nroot; i++) {
        const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        const char *key = config_setting_name(s);
        int k = 0;
        while (k < GRID_NKEYS && (key_name(k) == NULL || strcmp(key_name(k), key) != 0)) k++;
        if (k == GRID_NKEYS) {
            int best = -1, bestd = 3;
            for (int j = 0; j < GRID_NKEYS; j++) {
                if (key_name(j) == NULL) continue;
                int d = edit_distance(key, key_name(j));
                if (d < bestd) bestd = d, best = j;
            }
            if (best >= 0)
                return fail_at(ctx, line_of(s), "unknown key '%s' (did you mean '%s'?)", key, key_name(best));
            return fail_at(ctx, line_of(s), "unknown key '%s' (the keys are listed in docs/job-files.md)", key);
        }
        found[k] = s;
    }
    pf_config def;
    config_defaults(&def);
    for (int f = 0; f < PF_NFIELDS; f++) {
        const pf_field *d = &pf_config_fields[f];
        pf_axis *ax = &job->axes[f];
        if (found[f] != NULL) {
            if (read_field(ctx, found[f], f, ax) != 0) return -1;
            continue;
        }
        /* The four axes without a sensible default. */
        if ((d->flags & PF_FIELD_REQUIRED) && d->role == PF_JOB_AXIS) {
            char ex[128];
            example_of(f, ex, sizeof ex);
            return pf_error_set(ctx->err, PF_ERR_USAGE, "%s: missing key '%s' (%s), e.g. %s = %s", ctx->path,
                                d->job_key, d->help, d->job_key, ex);
        }
        axis_alloc(ax, 1);
        ax->values[0] = config_get(&def, f);
        own_string(ax, 0, f);
        ax->lines[0] = 0;
    }

    const config_setting_t *s;
    job->threads = 1;
    if ((s = found[PF_NFIELDS + R_THREADS]) != NULL) {
        if (!is_int(s))
            return fail_at(ctx, line_of(s), "'threads' must be a whole number (got %s)", type_words(s));
        if (config_setting_get_int64(s) < 1 || config_setting_get_int64(s) > 1024)
            return fail_at(ctx, line_of(s), "'threads' = %lld is out of range [1, 1024]",
                           (long long)config_setting_get_int64(s));
        job->threads = (int32_t)config_setting_get_int64(s);
    }
    job->checkpoint_interval = PF_CHECKPOINT_INTERVAL_DEFAULT;
    if ((s = found[PF_NFIELDS + R_CKPT_INTERVAL]) != NULL) {
        if (!is_number(s))
            return fail_at(ctx, line_of(s), "'checkpoint_interval' must be a number of seconds (got %s)", type_words(s));
        double v = number_of(s);
        if (!(v >= 0 && v <= PF_CHECKPOINT_INTERVAL_MAX))
            return fail_at(ctx, line_of(s), "'checkpoint_interval' = %g is out of range [0, %g] seconds", v,
                           PF_CHECKPOINT_INTERVAL_MAX);
        job->checkpoint_interval = v;
    }
    if ((s = found[PF_NFIELDS + R_DATA_DIR]) != NULL && setting_path(ctx, s, job->data_dir) != 0) return -1;
    if ((s = found[PF_NFIELDS + R_OUTPUT]) != NULL && setting_path(ctx, s, job->output) != 0) return -1;
    if ((s = found[PF_NFIELDS + R_DESCRIPTION]) != NULL && config_setting_type(s) != CONFIG_TYPE_STRING)
        return fail_at(ctx, line_of(s), "'description' must be a string in quotes (got %s)", type_words(s));
    job->epochs_capped = job->axes[PF_FIELD_max_epochs].values[0].i < 100;
    return 0;
}

/* Expands the grid in the table's order (the last field varies fastest) and validates every
 * configuration with the one validator, naming the line of the value at fault. */
static int expand(const parse_ctx *ctx, pf_job *job)
{
    int64_t total = 1;
    for (int f = 0; f < PF_NFIELDS; f++) {
        total *= job->axes[f].n;
        if (total > GRID_MAX_CONFIGS)
            return pf_error_set(ctx->err, PF_ERR_USAGE, "%s: the grid has more than %d configurations", ctx->path,
                                GRID_MAX_CONFIGS);
    }
    job->configs = pf_calloc((size_t)total, sizeof *job->configs);
    int idx[PF_NFIELDS] = {0};
    /* The label file of the last configuration that needed one: read once per dataset and size. */
    int derived_ds = -1;
    int32_t derived_subset = -1;
    uint64_t derived_hash = 0;
    for (int64_t id = 0; id < total; id++) {
        pf_config *c = &job->configs[id];
        for (int f = 0; f < PF_NFIELDS; f++) config_set(c, f, job->axes[f].values[idx[f]]);
        int bad = -1;
        char why[512];
        if (config_validate(c, &bad, why, sizeof why) != 0) {
            const char *key = pf_config_fields[bad].job_key;
            unsigned line = job->axes[bad].lines[idx[bad]];
            if (line > 0) return fail_at(ctx, line, "'%s': %s", key, why);
            return pf_error_set(ctx->err, PF_ERR_USAGE, "%s: '%s' (not set, the default): %s", ctx->path, key, why);
        }
        if (c->label_file[0] != '\0') {
            if ((int)c->dataset == derived_ds && c->subset == derived_subset) {
                c->label_file_hash = derived_hash;
            } else {
                pf_error e = {0};
                if (config_derive(c, &e) != 0)
                    return fail_at(ctx, job->axes[PF_FIELD_label_file].lines[0], "'label_file' (for %s, subset %ld): %s",
                                   dataset_name(c->dataset), (long)c->subset, e.msg);
                derived_ds = (int)c->dataset;
                derived_subset = c->subset;
                derived_hash = c->label_file_hash;
            }
        }
        for (int f = PF_NFIELDS - 1; f >= 0; f--) {
            if (++idx[f] < job->axes[f].n) break;
            idx[f] = 0;
        }
    }
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
    if (read_keys(&ctx, &cfg, job) != 0) goto cleanup;
    if (expand(&ctx, job) != 0) goto cleanup;
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
    /* Only a regular file: a FIFO or a device never blocks or feeds the parser. */
    int fd = fs_open_regular(path, "job file", err);
    if (fd < 0) {
        if (err != NULL) err->kind = PF_ERR_USAGE;
        return -1;
    }
    FILE *f = fdopen(fd, "rb");
    if (f == NULL) {
        close(fd);
        return pf_error_set(err, PF_ERR_USAGE, "%s: cannot read: %s", path, strerror(errno));
    }

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
    for (int f = 0; f < PF_NFIELDS; f++) {
        for (int i = 0; job->axes[f].strings != NULL && i < job->axes[f].n; i++) free(job->axes[f].strings[i]);
        free(job->axes[f].strings);
        free(job->axes[f].values);
        free(job->axes[f].lines);
    }
    memset(job, 0, sizeof *job);
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
    char other[PF_PATH_MAX] = ""; /* the first candidate that is there but not a regular file */
    for (int i = 0; i < nprefix; i++) {
        for (int cfg = 0; cfg < 2; cfg++) {
            char cand[PF_PATH_MAX];
            if (pf_snprintf(cand, sizeof cand, "%s%s%s", prefixes[i], path, cfg ? ".cfg" : "") != 0) continue;
            if (fs_is_regular_file(cand)) {
                memcpy(out, cand, strlen(cand) + 1);
                return 0;
            }
            if (other[0] == '\0' && fs_exists(cand)) memcpy(other, cand, strlen(cand) + 1);
        }
    }
    /* Something is there, only not a job file (a directory, a FIFO, a device, a link loop): say
     * what, rather than "no such job file". */
    if (other[0] != '\0') {
        char kind[PF_PATH_MAX + 64];
        return pf_error_set(err, PF_ERR_USAGE, "%s: %s, not a job file", other, fs_kind(other, kind, sizeof kind));
    }
    return pf_error_set(err, PF_ERR_MISSING,
                        "%s: no such job file (looked in the working directory, ./jobs and %s/jobs)", path,
                        share);
}

uint64_t grid_fingerprint(const pf_job *job)
{
    int64_t n = job->nconfigs;
    uint64_t *h = pf_malloc((size_t)(n > 0 ? n : 1) * sizeof *h);
    for (int64_t i = 0; i < n; i++) h[i] = config_hash(&job->configs[i]);
    uint64_t fp = config_set_fingerprint(h, n);
    free(h);
    return fp;
}

double grid_config_cost(const pf_config *cfg, int32_t n_train)
{
    pf_dataset_shape ds;
    dataset_shape(cfg->dataset, &ds);
    if (n_train <= 0) n_train = cfg->subset > 0 ? cfg->subset : ds.train_official_n;
    double n_val = cfg->val_items > 0 ? cfg->val_items : ds.test_official_n;
    /* Training a sample costs about three forward passes (forward, backward to the inputs,
     * backward to the weights); validation is one. */
    double passes = 3.0 * n_train + n_val;
    double unit = model_forward_macs(PF_MODEL_SEED, 1, 28, 28, 10);
    double per_sample = model_forward_macs(cfg->model, ds.c, ds.h, ds.w, ds.k) / unit;
    /* Expected epochs before early stopping, from the seed's runs: small subsets stop sooner. */
    double cap = cfg->subset > 0 && cfg->subset < ds.train_official_n ? 30 : 40;
    double epochs = cfg->max_epochs < cap ? cfg->max_epochs : cap;
    return passes * per_sample * epochs;
}

double grid_batch_cost(const pf_config *cfg)
{
    pf_dataset_shape ds;
    dataset_shape(cfg->dataset, &ds);
    double unit = model_forward_macs(PF_MODEL_SEED, 1, 28, 28, 10);
    return 3.0 * cfg->batch_size * model_forward_macs(cfg->model, ds.c, ds.h, ds.w, ds.k) / unit;
}

double grid_calibrate(int threads)
{
    enum { B = 256 };
    pf_model *m = model_create(PF_MODEL_SEED, 1, 28, 28, 10, B);
    model_init(m, 1);
    model_set_threads(m, threads);
    uint8_t *img = pf_malloc((size_t)B * 28 * 28);
    uint8_t lab[B];
    pf_rng rng;
    rng_seed(&rng, 7);
    for (size_t i = 0; i < (size_t)B * 28 * 28; i++) img[i] = (uint8_t)rng_below(&rng, 256);
    for (int i = 0; i < B; i++) lab[i] = (uint8_t)rng_below(&rng, 10);
    pf_batch b = {img, lab, NULL, 0, B};
    (void)model_eval_batch(m, &b, NULL); /* warm-up */
    int64_t samples = 0;
    double t0 = pf_now(), dt = 0;
    do {
        (void)model_eval_batch(m, &b, NULL);
        samples += B;
        dt = pf_now() - t0;
    } while (dt < 0.5);
    free(img);
    model_free(m);
    return (double)samples / dt;
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

double grid_lpt_makespan(const double *secs, int64_t n, long ranks)
{
    PF_ASSERT(ranks >= 1);
    double *s = pf_malloc(sizeof *s * (size_t)(n ? n : 1));
    if (n) memcpy(s, secs, sizeof *s * (size_t)n);
    qsort(s, (size_t)n, sizeof *s, cmp_desc);
    /* Most expensive first to the least loaded rank, as the scheduler does. */
    long nr = ranks < n ? ranks : (long)(n ? n : 1);
    double *load = pf_calloc((size_t)nr, sizeof *load);
    for (int64_t i = 0; i < n; i++) {
        long best = 0;
        for (long r = 1; r < nr; r++)
            if (load[r] < load[best]) best = r;
        load[best] += s[i];
    }
    double makespan = 0;
    for (long r = 0; r < nr; r++)
        if (load[r] > makespan) makespan = load[r];
    free(load);
    free(s);
    return makespan;
}
