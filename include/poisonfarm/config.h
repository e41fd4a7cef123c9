/* config.h -- one configuration of the experiment, described by ONE table of its fields.
 *
 * PF_CONFIG_FIELDS below is the only list of a configuration's fields. From it come the struct
 * pf_config, its defaults (the seed recipe), the one validator (config_validate), the per-field
 * hash behind a grid's fingerprint, the random stream that initialises a model, the checkpoint's
 * configuration record, the results file's /configs columns, the job-file keys and the options of
 * `poisonfarm train`. Adding a field is one line here (plus its tests): every one of those follows.
 *
 * Columns of X(name, ctype, kind, enum, job_key, role, cli, flags, def, lo, hi, help):
 *   name     C member, /configs column and checkpoint record name
 *   ctype    C type of the member
 *   kind     PF_FK_*: how the value is parsed, hashed, stored and checked
 *   enum     for PF_FK_ENUM: the enum's descriptor (config.c: dataset, mode, model, selection);
 *            `none` otherwise
 *   job_key  the job file's key: a list for PF_JOB_AXIS, a count N (values 0..N-1) for
 *            PF_JOB_COUNT, one value for PF_JOB_SETTING; NULL for PF_JOB_DERIVED (no key: the
 *            field is computed from the others by config_derive, e.g. a file's hash)
 *   cli      the `poisonfarm train` option (without --); NULL for PF_JOB_DERIVED
 *   flags    PF_FIELD_STREAM: identifies the configuration's own random stream (initial weights and
 *            shuffles, train.h); PF_FIELD_REQUIRED: `poisonfarm train` needs it
 *   def      the default (the seed recipe)
 *   lo, hi   the valid range, inclusive (numbers; enums are checked against their names); a
 *            PF_FK_F64 field with PF_FIELD_POSITIVE excludes lo; unused for strings (any text of
 *            fewer than PF_CONFIG_STR_LEN bytes)
 *
 * Job-file axes expand in table order, the first outermost (configuration ids follow it), so the
 * axes come first here, in the documented expansion order: datasets, modes, subsets, models,
 * batch_sizes, selections, poison_validation, repeats, percents (innermost). */
#ifndef POISONFARM_CONFIG_H
#define POISONFARM_CONFIG_H

#include "poisonfarm/common.h"
#include "poisonfarm/data.h"
#include "poisonfarm/nn.h"
#include "poisonfarm/poison.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
    PF_SEL_TEST = 0,  /* the seed's method: select on the whole test set */
    PF_SEL_SPLIT,     /* select on the first half of the test set, report the second half */
    PF_SEL_COUNT
} pf_selection;

const char *selection_name(pf_selection s);   /* "test", "split" */
int selection_from_name(const char *name, pf_selection *s);

/* A string field: fixed length, NUL-terminated, zero-padded (so that a configuration is plain
 * bytes: MPI broadcasts it, HDF5 stores it as a fixed-length string, which parallel HDF5 can
 * write where it cannot write variable-length ones). */
#define PF_CONFIG_STR_LEN 256
typedef char pf_config_str[PF_CONFIG_STR_LEN];

/* Largest values of the open-ended ranges. */
#define PF_MAX_EPOCHS 100000
#define PF_MAX_BATCH 65536
#define PF_MAX_REPEATS 1000
#define PF_MAX_LR 10.0

/* clang-format off */
#define PF_CONFIG_FIELDS(X)                                                                            \
    X(dataset,           pf_dataset_id, PF_FK_ENUM, dataset,   "datasets",          PF_JOB_AXIS,    "dataset",           PF_FIELD_STREAM | PF_FIELD_REQUIRED, PF_DS_MNIST,     0, 0,              "dataset")                                           \
    X(mode,              pf_mode,       PF_FK_ENUM, mode,      "modes",             PF_JOB_AXIS,    "mode",              PF_FIELD_STREAM | PF_FIELD_REQUIRED, PF_MODE_RANDOM,  0, 0,              "how wrong labels are chosen")                       \
    X(subset,            int32_t,       PF_FK_I32,  none,      "subsets",           PF_JOB_AXIS,    "subset",            PF_FIELD_STREAM | PF_FIELD_REQUIRED, 0,               0, INT32_MAX,      "first N training items (0 = all)")                  \
    X(model,             pf_model_kind, PF_FK_ENUM, model,     "models",            PF_JOB_AXIS,    "model",             PF_FIELD_STREAM,                     PF_MODEL_SEED,   0, 0,              "network")                                           \
    X(batch_size,        int32_t,       PF_FK_I32,  none,      "batch_sizes",       PF_JOB_AXIS,    "batch-size",        PF_FIELD_STREAM,                     256,             1, PF_MAX_BATCH,   "training and validation batch size")                \
    X(selection,         pf_selection,  PF_FK_ENUM, selection, "selections",        PF_JOB_AXIS,    "selection",         PF_FIELD_STREAM,                     PF_SEL_TEST,     0, 0,              "where the best epoch is chosen")                    \
    X(poison_validation, int32_t,       PF_FK_BOOL, none,      "poison_validation", PF_JOB_AXIS,    "poison-validation", PF_FIELD_STREAM,                     0,               0, 1,              "poison the validation labels too")                  \
    X(repeat,            int32_t,       PF_FK_I32,  none,      "repeats",           PF_JOB_COUNT,   "repeat",            PF_FIELD_STREAM,                     0,               0, PF_MAX_REPEATS - 1, "repetition index")                              \
    X(percent,           double,        PF_FK_F64,  none,      "percents",          PF_JOB_AXIS,    "percent",           PF_FIELD_STREAM | PF_FIELD_REQUIRED, 0.0,             0, 100,            "percentage of training labels poisoned")            \
    X(seed,              uint64_t,      PF_FK_U64,  none,      "seed",              PF_JOB_SETTING, "seed",              PF_FIELD_STREAM,                     1,               0, 0,              "the job seed every random stream comes from")       \
    X(paired_init,       int32_t,       PF_FK_BOOL, none,      "paired_init",       PF_JOB_SETTING, "paired-init",       0,                                   0,               0, 1,              "share initial weights and shuffles across percents and modes") \
    X(max_epochs,        int32_t,       PF_FK_I32,  none,      "max_epochs",        PF_JOB_SETTING, "max-epochs",        0,                                   100,             1, PF_MAX_EPOCHS,  "epoch cap")                                         \
    X(patience,          int32_t,       PF_FK_I32,  none,      "patience",          PF_JOB_SETTING, "patience",          0,                                   10,              0, PF_MAX_EPOCHS,  "early-stopping patience")                           \
    X(lr_patience,       int32_t,       PF_FK_I32,  none,      "lr_patience",       PF_JOB_SETTING, "lr-patience",       0,                                   5,               0, PF_MAX_EPOCHS,  "ReduceLROnPlateau patience")                        \
    X(lr_factor,         double,        PF_FK_F64,  none,      "lr_factor",         PF_JOB_SETTING, "lr-factor",         PF_FIELD_POSITIVE,                   0.1,             0, 1,              "ReduceLROnPlateau factor")                          \
    X(lr,                double,        PF_FK_F64,  none,      "lr",                PF_JOB_SETTING, "lr",                PF_FIELD_POSITIVE,                   1e-3,            0, PF_MAX_LR,      "Adam's initial learning rate")                      \
    X(val_items,         int32_t,       PF_FK_I32,  none,      "validation_items",  PF_JOB_SETTING, "validation-items",  0,                                   0,               0, INT32_MAX,      "validate on the first N test items (0 = all)") \
    X(label_file,        pf_config_str, PF_FK_STR,  none,      "label_file",        PF_JOB_SETTING, "label-file",        0,                                   "",              0, 0,              "mode file: one label per training item (docs/poisoning.md)") \
    X(label_file_hash,   uint64_t,      PF_FK_U64,  none,      NULL,                PF_JOB_DERIVED, NULL,                0,                                   0,               0, 0,              "the label file's SHA-256, first 64 bits (set from the file)")
/* clang-format on */

typedef enum {
    PF_FK_ENUM,   /* an enum stored as int; named values */
    PF_FK_I32,    /* int32_t */
    PF_FK_U64,    /* uint64_t, any value */
    PF_FK_F64,    /* double, finite */
    PF_FK_BOOL,   /* int32_t 0 or 1 */
    PF_FK_STR     /* pf_config_str: text of fewer than PF_CONFIG_STR_LEN bytes */
} pf_field_kind;

typedef enum {
    PF_JOB_AXIS,     /* a list: the grid takes every value */
    PF_JOB_COUNT,    /* a count N: the grid takes 0 .. N-1 */
    PF_JOB_SETTING,  /* one value for the whole job */
    PF_JOB_DERIVED   /* no key and no option: computed from other fields (config_derive) */
} pf_job_role;

enum {
    PF_FIELD_STREAM = 1 << 0,
    PF_FIELD_REQUIRED = 1 << 1,
    PF_FIELD_POSITIVE = 1 << 2
};

/* One configuration: everything that decides its result. */
typedef struct {
#define PF_X_MEMBER(name, ctype, ...) ctype name;
    PF_CONFIG_FIELDS(PF_X_MEMBER)
#undef PF_X_MEMBER
} pf_config;

/* The field indices, in table order. */
enum {
#define PF_X_INDEX(name, ...) PF_FIELD_##name,
    PF_CONFIG_FIELDS(PF_X_INDEX)
#undef PF_X_INDEX
    PF_NFIELDS
};

/* A field's description, for code that treats every field alike. */
typedef struct {
    const char *name;
    pf_field_kind kind;
    const char *job_key;
    pf_job_role role;
    const char *cli;
    unsigned flags;
    size_t offset;
    double lo, hi;
    const char *help;
    /* PF_FK_ENUM: the value names and their count; NULL / 0 otherwise. */
    const char *(*enum_name)(int v);
    int enum_count;
} pf_field;

/* The table, PF_NFIELDS entries in table order. */
extern const pf_field pf_config_fields[PF_NFIELDS];

/* Looks a field up by its C name; NULL when there is none. */
const pf_field *config_field_by_name(const char *name);

/* A field's value, widened: integers, enums and bools as i, doubles as d, uint64 as u, strings as
 * s (config_get: a pointer into the configuration; config_set copies the text). */
typedef union {
    int64_t i;
    double d;
    uint64_t u;
    const char *s;
} pf_field_value;

pf_field_value config_get(const pf_config *cfg, int field);
void config_set(pf_config *cfg, int field, pf_field_value v);

/* The field's value as 64 bits for hashing and stream derivation: integers as their two's
 * complement, doubles by their bit pattern with -0 folded onto 0, strings as a 64-bit hash of their
 * text. */
uint64_t config_field_bits(const pf_config *cfg, int field);

/* Prints a field's value the way a user writes it ("mnist", "25", "0.001", "true"); doubles in the
 * shortest form that reads back to the same value. Returns out. */
char *config_format_value(const pf_config *cfg, int field, char *out, size_t size);

/* Parses text as a value of field (names for enums, whole numbers, decimal numbers, true/false or
 * 1/0 for bools, any text shorter than PF_CONFIG_STR_LEN for strings: out->s then points into
 * text). Does not check the range (config_validate does). 0, or -1 with why (a short phrase, e.g.
 * "expected a whole number"). */
int config_parse_value(int field, const char *text, pf_field_value *out, char *why, size_t whysize);

/* Fills the seed recipe's defaults (the table's def column). */
void config_defaults(pf_config *cfg);

/* The one validator, used by the job-file loader, `poisonfarm train` and the trainer. Checks every
 * field against its range and the fields against each other (mode file needs a label file, a
 * label file needs mode file, a label file's hash needs a label file, mode file poisons no
 * validation labels) and against the dataset's official sizes (subset and validation items). No
 * I/O: the label file itself is config_derive's to read. Returns 0, or -1 with *field set to the
 * offending field (index) and why filled with what is wrong, without the field's name ("100.0001
 * is outside [0, 100]", "1 item is too few for selection split (needs 2)"). */
int config_validate(const pf_config *cfg, int *field, char *why, size_t whysize);

/* config_validate as one pf_error (PF_ERR_USAGE): "percent: 100.0001 is outside [0, 100]". */
int config_check(const pf_config *cfg, pf_error *err);

/* Computes the PF_JOB_DERIVED fields from the others, for the job-file loader and `poisonfarm
 * train`: with a label file, reads it (labelfile.h) for the dataset's classes, checks that it has a
 * label for every training item the configuration may use (its subset; for subset 0 the dataset's
 * official training set) and sets label_file_hash; without one, sets label_file_hash to 0. 0, or
 * -1 with a one-line error naming the file (and line). The trainer reads the file again and
 * refuses it when its hash differs (the file changed since). */
int config_derive(pf_config *cfg, pf_error *err);

/* A 64-bit hash of every field (doubles by their bit patterns, -0 folded onto 0). Stable across
 * runs and machines; a grid's fingerprint is built from it. */
uint64_t config_hash(const pf_config *cfg);

/* A 64-bit fingerprint of a SET of configurations from their config_hash values (n of them,
 * sorted in place): independent of their order. A grid's fingerprint (grid.h) is this of its
 * expanded configurations. */
uint64_t config_set_fingerprint(uint64_t *hashes, int64_t n);

/* The random streams of a configuration (train.h says which purpose uses which). The paired stream
 * depends on (seed, dataset, subset, repeat) only: the poisoned labels come from it, so poisoned
 * sets are nested across percents and shared by a curve's points. The init stream gives the
 * initial weights and the shuffles: by default it depends on every PF_FIELD_STREAM field, so every
 * point of a curve is an independent run; with paired_init it is the paired stream (common random
 * numbers across percents and modes). */
uint64_t config_stream_paired(const pf_config *cfg);
uint64_t config_stream_init(const pf_config *cfg);

/* The first field in which a and b differ (bit for bit; strings by their text), or -1 when they
 * are equal. */
int config_diff(const pf_config *a, const pf_config *b);

#endif
