/* config.c -- everything generated from the configuration field table (config.h): descriptors,
 * defaults, the one validator, value parsing and printing, the hash and the random streams. */
#include "poisonfarm/config.h"

#include "poisonfarm/labelfile.h"
#include "poisonfarm/rng.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const selection_names[PF_SEL_COUNT] = {"test", "split"};

const char *selection_name(pf_selection s)
{
    return ((int)s >= 0 && s < PF_SEL_COUNT) ? selection_names[s] : "?";
}

int selection_from_name(const char *name, pf_selection *s)
{
    for (int i = 0; name != NULL && i < PF_SEL_COUNT; i++)
        if (strcmp(selection_names[i], name) == 0) {
            *s = (pf_selection)i;
            return 0;
        }
    return -1;
}

/* ---- the descriptors ------------------------------------------------------------------------ */

/* The enums of the table, as int -> name functions and counts (the `enum` column). */
static const char *en_dataset(int v) { return dataset_name((pf_dataset_id)v); }
static const char *en_mode(int v) { return poison_mode_name((pf_mode)v); }
static const char *en_model(int v) { return model_kind_name((pf_model_kind)v); }
static const char *en_selection(int v) { return selection_name((pf_selection)v); }
#define PF_ENUM_NAME_dataset en_dataset
#define PF_ENUM_COUNT_dataset PF_DS_COUNT
#define PF_ENUM_NAME_mode en_mode
#define PF_ENUM_COUNT_mode PF_MODE_COUNT
#define PF_ENUM_NAME_model en_model
#define PF_ENUM_COUNT_model PF_MODEL_COUNT
#define PF_ENUM_NAME_selection en_selection
#define PF_ENUM_COUNT_selection PF_SEL_COUNT
#define PF_ENUM_NAME_none NULL
#define PF_ENUM_COUNT_none 0

/* Every member's type must be what its kind says: the generic code reads it through that type. */
#define PF_X_KIND_CHECK(name, ctype, kind, ...)                                                      \
    _Static_assert(sizeof(ctype) == ((kind) == PF_FK_STR                              ? PF_CONFIG_STR_LEN \
                                     : (kind) == PF_FK_F64 || (kind) == PF_FK_U64 ? 8                 \
                                                                                  : 4),               \
                   "field " #name ": its C type does not match its kind");
PF_CONFIG_FIELDS(PF_X_KIND_CHECK)
#undef PF_X_KIND_CHECK

const pf_field pf_config_fields[PF_NFIELDS] = {
#define PF_X_DESC(name, ctype, kind, en, job_key, role, cli, flags, def, lo, hi, help)               \
    {#name, kind, job_key, role, cli, flags, offsetof(pf_config, name), (double)(lo), (double)(hi), \
     help, PF_ENUM_NAME_##en, PF_ENUM_COUNT_##en},
    PF_CONFIG_FIELDS(PF_X_DESC)
#undef PF_X_DESC
};

const pf_field *config_field_by_name(const char *name)
{
    for (int f = 0; f < PF_NFIELDS; f++)
        if (strcmp(pf_config_fields[f].name, name) == 0) return &pf_config_fields[f];
    return NULL;
}

/* A default by kind: strings are copied, everything else is assigned. */
#define PF_DEFAULT_PF_FK_ENUM(member, ctype, def) member = (ctype)(def)
#define PF_DEFAULT_PF_FK_I32(member, ctype, def) member = (ctype)(def)
#define PF_DEFAULT_PF_FK_U64(member, ctype, def) member = (ctype)(def)
#define PF_DEFAULT_PF_FK_F64(member, ctype, def) member = (ctype)(def)
#define PF_DEFAULT_PF_FK_BOOL(member, ctype, def) member = (ctype)(def)
#define PF_DEFAULT_PF_FK_STR(member, ctype, def) snprintf(member, sizeof member, "%s", def)

void config_defaults(pf_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
#define PF_X_DEFAULT(name, ctype, kind, en, job_key, role, cli, flags, def, ...)                     \
    PF_DEFAULT_##kind(cfg->name, ctype, def);
    PF_CONFIG_FIELDS(PF_X_DEFAULT)
#undef PF_X_DEFAULT
}

/* ---- generic access ------------------------------------------------------------------------- */

pf_field_value config_get(const pf_config *cfg, int field)
{
    const pf_field *f = &pf_config_fields[field];
    const char *p = (const char *)cfg + f->offset;
    pf_field_value v = {.u = 0};
    switch (f->kind) {
    case PF_FK_ENUM: {
        int x;
        memcpy(&x, p, sizeof x);
        v.i = x;
        break;
    }
    case PF_FK_I32:
    case PF_FK_BOOL: {
        int32_t x;
        memcpy(&x, p, sizeof x);
        v.i = x;
        break;
    }
    case PF_FK_U64: memcpy(&v.u, p, sizeof v.u); break;
    case PF_FK_F64: memcpy(&v.d, p, sizeof v.d); break;
    case PF_FK_STR: v.s = p; break;
    }
    return v;
}

void config_set(pf_config *cfg, int field, pf_field_value v)
{
    const pf_field *f = &pf_config_fields[field];
    char *p = (char *)cfg + f->offset;
    switch (f->kind) {
    case PF_FK_ENUM: {
        int x = (int)v.i;
        memcpy(p, &x, sizeof x);
        break;
    }
    case PF_FK_I32:
    case PF_FK_BOOL: {
        int32_t x = (int32_t)v.i;
        memcpy(p, &x, sizeof x);
        break;
    }
    case PF_FK_U64: memcpy(p, &v.u, sizeof v.u); break;
    case PF_FK_F64: {
        double d = v.d + 0.0; /* -0.0 becomes 0.0: one value, one bit pattern */
        memcpy(p, &d, sizeof d);
        break;
    }
    case PF_FK_STR: {
        /* Zero-padded: equal strings are equal bytes (broadcasts, HDF5, comparisons). */
        size_t len = v.s != NULL ? strlen(v.s) : 0;
        PF_ASSERT(len < PF_CONFIG_STR_LEN);
        if (v.s == p) break;
        memset(p, 0, PF_CONFIG_STR_LEN);
        if (len > 0) memcpy(p, v.s, len);
        break;
    }
    }
}

/* A 64-bit hash of a string field's text (its length, then its bytes in 8-byte words). */
static uint64_t str_bits(const char *s)
{
    size_t len = strnlen(s, PF_CONFIG_STR_LEN);
    uint64_t h = rng_derive(0x737472696e67ULL, (uint64_t)len); /* "string" */
    for (size_t i = 0; i < len; i += 8) {
        uint64_t w = 0;
        for (size_t j = 0; j < 8 && i + j < len; j++) w |= (uint64_t)(unsigned char)s[i + j] << (8 * j);
        h = rng_derive(h, w);
    }
    return h;
}

uint64_t config_field_bits(const pf_config *cfg, int field)
{
    pf_field_value v = config_get(cfg, field);
    switch (pf_config_fields[field].kind) {
    case PF_FK_U64: return v.u;
    case PF_FK_F64: {
        double d = v.d + 0.0;
        uint64_t b;
        memcpy(&b, &d, sizeof b);
        return b;
    }
    case PF_FK_STR: return str_bits(v.s);
    default: return (uint64_t)v.i;
    }
}

/* The shortest form that reads back to exactly x: whole numbers without exponent ("100"), others
 * in the shortest %g ("0.001", "100.0001", "1e-12"). */
static void format_double(double x, char *out, size_t size)
{
    if (x == floor(x) && fabs(x) < 1e15) {
        snprintf(out, size, "%.0f", x);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, size, "%.*g", prec, x);
        if (strtod(out, NULL) == x) return;
    }
}

char *config_format_value(const pf_config *cfg, int field, char *out, size_t size)
{
    const pf_field *f = &pf_config_fields[field];
    pf_field_value v = config_get(cfg, field);
    switch (f->kind) {
    case PF_FK_ENUM:
        if (v.i >= 0 && v.i < f->enum_count)
            snprintf(out, size, "%s", f->enum_name((int)v.i));
        else
            snprintf(out, size, "%" PRId64 " (not a %s)", v.i, f->name);
        break;
    case PF_FK_BOOL:
        if (v.i == 0 || v.i == 1)
            snprintf(out, size, "%s", v.i ? "true" : "false");
        else
            snprintf(out, size, "%" PRId64, v.i);
        break;
    case PF_FK_I32: snprintf(out, size, "%" PRId64, v.i); break;
    case PF_FK_U64: snprintf(out, size, "%" PRIu64, v.u); break;
    case PF_FK_F64: format_double(v.d, out, size); break;
    case PF_FK_STR: snprintf(out, size, "%.*s", PF_CONFIG_STR_LEN - 1, v.s); break;
    }
    return out;
}

static void enum_list(const pf_field *f, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (int e = 0; e < f->enum_count && len < size; e++)
        len += (size_t)snprintf(out + len, size - len, "%s%s", e ? ", " : "", f->enum_name(e));
}

int config_parse_value(int field, const char *text, pf_field_value *out, char *why, size_t whysize)
{
    const pf_field *f = &pf_config_fields[field];
    pf_field_value v = {.u = 0};
    char *end = NULL;
    errno = 0;
    switch (f->kind) {
    case PF_FK_ENUM: {
        for (int e = 0; e < f->enum_count; e++)
            if (strcmp(text, f->enum_name(e)) == 0) {
                v.i = e;
                *out = v;
                return 0;
            }
        char known[256];
        enum_list(f, known, sizeof known);
        snprintf(why, whysize, "unknown %s '%s' (known: %s)", f->name, text, known);
        return -1;
    }
    case PF_FK_BOOL:
        if (strcmp(text, "true") == 0 || strcmp(text, "1") == 0) v.i = 1;
        else if (strcmp(text, "false") == 0 || strcmp(text, "0") == 0) v.i = 0;
        else {
            snprintf(why, whysize, "'%s': expected true or false", text);
            return -1;
        }
        break;
    case PF_FK_I32: {
        long long x = strtoll(text, &end, 10);
        if (errno != 0 || end == text || *end != '\0' || x < INT32_MIN || x > INT32_MAX) {
            snprintf(why, whysize, "'%s': expected a whole number", text);
            return -1;
        }
        v.i = x;
        break;
    }
    case PF_FK_U64: {
        while (*text == ' ') text++;
        unsigned long long x = strtoull(text, &end, 10);
        if (errno != 0 || end == text || *end != '\0' || text[0] == '-') {
            snprintf(why, whysize, "'%s': expected a whole number >= 0", text);
            return -1;
        }
        v.u = (uint64_t)x;
        break;
    }
    case PF_FK_F64: {
        double x = strtod(text, &end);
        if (errno == ERANGE || end == text || *end != '\0' || !isfinite(x)) {
            snprintf(why, whysize, "'%s': expected a number", text);
            return -1;
        }
        v.d = x;
        break;
    }
    case PF_FK_STR:
        if (strlen(text) >= PF_CONFIG_STR_LEN) {
            snprintf(why, whysize, "'%.40s...' is longer than %d characters", text, PF_CONFIG_STR_LEN - 1);
            return -1;
        }
        v.s = text;
        break;
    }
    *out = v;
    return 0;
}

/* ---- the validator -------------------------------------------------------------------------- */

static int bad(int *field, int f, char *why, size_t whysize, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int bad(int *field, int f, char *why, size_t whysize, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whysize, fmt, ap);
    va_end(ap);
    if (field != NULL) *field = f;
    return -1;
}

/* One field against its own range. */
static int check_range(const pf_config *cfg, int f, int *field, char *why, size_t whysize)
{
    const pf_field *d = &pf_config_fields[f];
    pf_field_value v = config_get(cfg, f);
    char val[64], lo[32], hi[32];
    config_format_value(cfg, f, val, sizeof val);
    switch (d->kind) {
    case PF_FK_ENUM:
        if (v.i < 0 || v.i >= d->enum_count) return bad(field, f, why, whysize, "%" PRId64 " is not a known %s", v.i, d->name);
        return 0;
    case PF_FK_BOOL:
        if (v.i != 0 && v.i != 1) return bad(field, f, why, whysize, "%s is neither true nor false", val);
        return 0;
    case PF_FK_U64: return 0;
    case PF_FK_STR:
        if (memchr(v.s, '\0', PF_CONFIG_STR_LEN) == NULL)
            return bad(field, f, why, whysize, "is longer than %d characters", PF_CONFIG_STR_LEN - 1);
        return 0;
    case PF_FK_I32:
        if (d->hi >= INT32_MAX && (double)v.i < d->lo) /* open-ended: bounded by the data */
            return bad(field, f, why, whysize, "%s is below %.0f", val, d->lo);
        if ((double)v.i < d->lo || (double)v.i > d->hi)
            return bad(field, f, why, whysize, "%s is outside [%.0f, %.0f]", val, d->lo, d->hi);
        return 0;
    case PF_FK_F64: {
        format_double(d->lo, lo, sizeof lo);
        format_double(d->hi, hi, sizeof hi);
        int open = (d->flags & PF_FIELD_POSITIVE) != 0;
        if (!isfinite(v.d) || (open ? !(v.d > d->lo) : !(v.d >= d->lo)) || !(v.d <= d->hi))
            return bad(field, f, why, whysize, "%s is outside %s%s, %s]", val, open ? "(" : "[", lo, hi);
        return 0;
    }
    }
    return 0;
}

int config_validate(const pf_config *cfg, int *field, char *why, size_t whysize)
{
    for (int f = 0; f < PF_NFIELDS; f++)
        if (check_range(cfg, f, field, why, whysize) != 0) return -1;

    /* Against the dataset's official sizes (a partial copy is checked when it is loaded). */
    pf_dataset_shape ds;
    dataset_shape(cfg->dataset, &ds);
    if (cfg->subset > ds.train_official_n)
        return bad(field, PF_FIELD_subset, why, whysize, "%d is larger than %s's training set (%d items)",
                   (int)cfg->subset, dataset_name(cfg->dataset), (int)ds.train_official_n);
    if (cfg->val_items > ds.test_official_n)
        return bad(field, PF_FIELD_val_items, why, whysize, "%d is larger than %s's test set (%d items)",
                   (int)cfg->val_items, dataset_name(cfg->dataset), (int)ds.test_official_n);
    /* Split selection watches the first half and reports the second: each needs an item. */
    if (cfg->selection == PF_SEL_SPLIT && cfg->val_items == 1)
        return bad(field, PF_FIELD_val_items, why, whysize,
                   "1 is too few for selection split (it needs at least 2 validation items, 0 = all)");
    /* The label file and mode file go together. */
    const int has_file = cfg->label_file[0] != '\0';
    if (cfg->mode == PF_MODE_FILE && !has_file)
        return bad(field, PF_FIELD_mode, why, whysize,
                   "file needs a label file (label_file = \"PATH\" in a job file, --label-file PATH "
                   "for poisonfarm train; docs/poisoning.md)");
    if (has_file && cfg->mode != PF_MODE_FILE)
        return bad(field, PF_FIELD_label_file, why, whysize,
                   "only mode file reads a label file, and this configuration's mode is %s (a job "
                   "with a label file has modes = [\"file\"])",
                   poison_mode_name(cfg->mode));
    if (!has_file && cfg->label_file_hash != 0)
        return bad(field, PF_FIELD_label_file_hash, why, whysize, "is set but there is no label file");
    if (cfg->mode == PF_MODE_FILE && cfg->poison_validation)
        return bad(field, PF_FIELD_poison_validation, why, whysize,
                   "true does not go with mode file: a label file holds training labels only");
    return 0;
}

int config_check(const pf_config *cfg, pf_error *err)
{
    int field = -1;
    char why[512];
    if (config_validate(cfg, &field, why, sizeof why) == 0) return 0;
    return pf_error_set(err, PF_ERR_USAGE, "%s: %s", pf_config_fields[field].name, why);
}

int config_derive(pf_config *cfg, pf_error *err)
{
    if (cfg->label_file[0] == '\0') {
        cfg->label_file_hash = 0;
        return 0;
    }
    if ((int)cfg->dataset < 0 || cfg->dataset >= PF_DS_COUNT)
        return pf_error_set(err, PF_ERR_USAGE, "dataset: %d is not a known dataset", (int)cfg->dataset);
    pf_dataset_shape ds;
    dataset_shape(cfg->dataset, &ds);
    pf_label_file lf;
    if (label_file_read(cfg->label_file, ds.k, &lf, err) != 0) return -1;
    int64_t need = cfg->subset > 0 ? cfg->subset : ds.train_official_n;
    int rc = label_file_check_count(&lf, cfg->label_file, need, err);
    if (rc == 0) cfg->label_file_hash = lf.hash;
    label_file_free(&lf);
    return rc;
}

/* ---- hashes and streams --------------------------------------------------------------------- */

uint64_t config_hash(const pf_config *cfg)
{
    /* Field by field (never the struct's bytes: padding), each mixed in turn, after the number of
     * fields, so that a table with a field more or less never hashes alike. */
    uint64_t h = rng_derive(0x706f69736f6e6661ULL, 2);
    h = rng_derive(h, (uint64_t)PF_NFIELDS);
    for (int f = 0; f < PF_NFIELDS; f++) h = rng_derive(h, config_field_bits(cfg, f));
    return h;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

uint64_t config_set_fingerprint(uint64_t *hashes, int64_t n)
{
    /* Sorting the per-configuration hashes makes the fingerprint a function of the set. */
    qsort(hashes, (size_t)n, sizeof *hashes, cmp_u64);
    uint64_t fp = rng_derive(0x6772696466707631ULL, (uint64_t)n);
    for (int64_t i = 0; i < n; i++) fp = rng_derive(fp, hashes[i]);
    return fp;
}

uint64_t config_stream_paired(const pf_config *cfg)
{
    uint64_t s = rng_derive(cfg->seed, (uint64_t)cfg->dataset);
    s = rng_derive(s, (uint64_t)(uint32_t)cfg->subset);
    return rng_derive(s, (uint64_t)(uint32_t)cfg->repeat);
}

uint64_t config_stream_init(const pf_config *cfg)
{
    if (cfg->paired_init) return config_stream_paired(cfg);
    uint64_t s = rng_derive(config_stream_paired(cfg), 0x696e6974ULL); /* "init" */
    for (int f = 0; f < PF_NFIELDS; f++)
        if (pf_config_fields[f].flags & PF_FIELD_STREAM) s = rng_derive(s, config_field_bits(cfg, f));
    return s;
}

int config_diff(const pf_config *a, const pf_config *b)
{
    for (int f = 0; f < PF_NFIELDS; f++) {
        if (pf_config_fields[f].kind == PF_FK_STR) {
            /* The text itself, not its hash. */
            if (strncmp(config_get(a, f).s, config_get(b, f).s, PF_CONFIG_STR_LEN) != 0) return f;
        } else if (config_field_bits(a, f) != config_field_bits(b, f)) {
            return f;
        }
    }
    return -1;
}
