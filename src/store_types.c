/* store_types.c -- the HDF5 datatypes of the results file: enums named from src/names.c and the
 * compound rows of /configs, /results and /runs. */
#include "store_internal.h"

#include "poisonfarm/data.h"
#include "poisonfarm/nn.h"
#include "poisonfarm/poison.h"
#include "poisonfarm/train.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

const char *const store_history_names[PF_STORE_NHIST] = {"train_loss", "train_acc", "val_loss",
                                                         "val_acc",    "lr",        "epoch_seconds"};

/* The memory enum types are based on int: that is what these C enums are. */
_Static_assert(sizeof(pf_status) == sizeof(int), "pf_status is an int");
_Static_assert(sizeof(pf_stop) == sizeof(int), "pf_stop is an int");
_Static_assert(sizeof(pf_dataset_id) == sizeof(int), "pf_dataset_id is an int");
_Static_assert(sizeof(pf_mode) == sizeof(int), "pf_mode is an int");
_Static_assert(sizeof(pf_model_kind) == sizeof(int), "pf_model_kind is an int");
_Static_assert(sizeof(pf_selection) == sizeof(int), "pf_selection is an int");

typedef const char *(*name_fn)(int v);

static const char *bool_name(int v) { return v ? "true" : "false"; }
static const char *st_name(int v) { return status_name((pf_status)v); }
static const char *sp_name(int v) { return stop_name((pf_stop)v); }
/* The kernels' path of a result; "none" for a row without one (PF_ISA_AUTO is never a result's). */
static const char *isa_col_name(int v) { return v == PF_ISA_AUTO ? "none" : isa_name((pf_isa)v); }

/* An enum pair: memory based on int, file on an 8-bit integer (every value is small). */
static void enum_pair(pf_store_types *t, name_fn name, int count, hid_t *mem, hid_t *file)
{
    *mem = PF_H5_CHECK(H5Tenum_create(H5T_NATIVE_INT));
    *file = PF_H5_CHECK(H5Tenum_create(H5T_STD_I8LE));
    for (int v = 0; v < count; v++) {
        int vi = v;
        int8_t v8 = (int8_t)v;
        PF_H5_CHECK(H5Tenum_insert(*mem, name(v), &vi));
        PF_H5_CHECK(H5Tenum_insert(*file, name(v), &v8));
    }
    PF_ASSERT(t->nenums + 2 <= (int)(sizeof t->enums / sizeof t->enums[0]));
    t->enums[t->nenums++] = *mem;
    t->enums[t->nenums++] = *file;
}

static hid_t str_type(size_t size)
{
    hid_t s = PF_H5_CHECK(H5Tcopy(H5T_C_S1));
    PF_H5_CHECK(H5Tset_size(s, size));
    PF_H5_CHECK(H5Tset_strpad(s, H5T_STR_NULLTERM));
    return s;
}

/* One member of a compound: its name, offset in the C struct, memory and file types. */
typedef struct {
    const char *name;
    size_t offset;
    hid_t mem, file;
} member;

/* Builds the memory compound (size memsize, C offsets) and, when file is not NULL, the packed file
 * compound from a member table. */
static void compound(const member *m, int n, size_t memsize, hid_t *mem, hid_t *file)
{
    size_t fsize = 0;
    for (int i = 0; i < n; i++) fsize += H5Tget_size(m[i].file);
    *mem = PF_H5_CHECK(H5Tcreate(H5T_COMPOUND, memsize));
    for (int i = 0; i < n; i++) PF_H5_CHECK(H5Tinsert(*mem, m[i].name, m[i].offset, m[i].mem));
    if (file == NULL) return;
    *file = PF_H5_CHECK(H5Tcreate(H5T_COMPOUND, fsize));
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        PF_H5_CHECK(H5Tinsert(*file, m[i].name, off, m[i].file));
        off += H5Tget_size(m[i].file);
    }
}

#define CFG(f) offsetof(pf_store_config, f)
#define ROW(f) offsetof(pf_store_row, f)
#define RUN(f) offsetof(pf_store_run, f)
#define SUS(f) offsetof(pf_suspect, f)
#define RNK(f) offsetof(pf_store_rank, f)

void store_types_create(pf_store_types *t)
{
    memset(t, 0, sizeof *t);
    hid_t b_m, b_f, st_m, st_f, sp_m, sp_f, isa_m, isa_f;
    enum_pair(t, bool_name, 2, &b_m, &b_f);
    enum_pair(t, st_name, PF_STATUS_COUNT, &st_m, &st_f);
    enum_pair(t, sp_name, PF_STOP_COUNT, &sp_m, &sp_f);
    enum_pair(t, isa_col_name, PF_ISA_COUNT, &isa_m, &isa_f);

    const hid_t I32 = H5T_NATIVE_INT32, I32F = H5T_STD_I32LE;
    const hid_t I64 = H5T_NATIVE_INT64, I64F = H5T_STD_I64LE;
    const hid_t F64 = H5T_NATIVE_DOUBLE, F64F = H5T_IEEE_F64LE;
    /* /configs: the id, every configuration field in the table's order (config.h), then what
     * the farm knows of it before training. */
    member cfg[PF_NFIELDS + 3];
    int ncfg = 0;
    hid_t cfg_str = str_type(PF_CONFIG_STR_LEN);
    cfg[ncfg++] = (member){"id", CFG(id), I64, I64F};
    for (int f = 0; f < PF_NFIELDS; f++) {
        const pf_field *d = &pf_config_fields[f];
        member *m = &cfg[ncfg++];
        m->name = d->name;
        m->offset = CFG(cfg) + d->offset;
        switch (d->kind) {
        case PF_FK_ENUM: enum_pair(t, d->enum_name, d->enum_count, &m->mem, &m->file); break;
        case PF_FK_BOOL: m->mem = b_m, m->file = b_f; break;
        case PF_FK_I32: m->mem = I32, m->file = I32F; break;
        case PF_FK_U64: m->mem = H5T_NATIVE_UINT64, m->file = H5T_STD_U64LE; break;
        case PF_FK_F64: m->mem = F64, m->file = F64F; break;
        case PF_FK_STR: m->mem = cfg_str, m->file = cfg_str; break;
        }
    }
    cfg[ncfg++] = (member){"k", CFG(k), I32, I32F};
    cfg[ncfg++] = (member){"n_train", CFG(n_train), I32, I32F};
    compound(cfg, ncfg, sizeof(pf_store_config), &t->cfg_mem, &t->cfg_file);
    PF_H5_CHECK(H5Tclose(cfg_str));

    hid_t host = str_type(PF_HOST_LEN), reason = str_type(PF_REASON_LEN);
    const member row[] = {
        {"status", ROW(status), st_m, st_f},
        {"stop", ROW(stop), sp_m, sp_f},
        {"best_val_acc", ROW(best_val_acc), F64, F64F},
        {"final_val_acc", ROW(final_val_acc), F64, F64F},
        {"heldout_acc", ROW(heldout_acc), F64, F64F},
        {"poisoned_val_acc", ROW(poisoned_val_acc), F64, F64F},
        {"best_epoch", ROW(best_epoch), I32, I32F},
        {"epochs", ROW(epochs), I32, I32F},
        {"n_poisoned", ROW(n_poisoned), I64, I64F},
        {"n_val_poisoned", ROW(n_val_poisoned), I64, I64F},
        {"learned_poison", ROW(learned_poison), F64, F64F},
        {"learned_true", ROW(learned_true), F64, F64F},
        {"train_seconds", ROW(train_seconds), F64, F64F},
        {"rank", ROW(rank), I32, I32F},
        {"host", ROW(host), host, host},
        {"reason", ROW(reason), reason, reason},
        /* Format 4's columns, after the older ones (scripts that count columns keep working). */
        {"noise_rate", ROW(noise_rate), F64, F64F},
        {"detect_auroc", ROW(detect_auroc), F64, F64F},
        {"detect_precision", ROW(detect_precision), F64, F64F},
        {"detect_recall", ROW(detect_recall), F64, F64F},
        {"detect_top1", ROW(detect_top1), F64, F64F},
        {"detect_top5", ROW(detect_top5), F64, F64F},
        {"detect_top10", ROW(detect_top10), F64, F64F},
        {"detect_flagged", ROW(detect_flagged), I64, I64F},
        /* Format 6's. */
        {"isa", ROW(isa), isa_m, isa_f},
    };
    const int nrow = (int)(sizeof row / sizeof row[0]);
    compound(row, nrow, sizeof(pf_store_row), &t->row_mem, &t->row_file);
    /* Row minus status (member 0): the metrics write that precedes the commit marker. */
    compound(row + 1, nrow - 1, sizeof(pf_store_row), &t->row_metrics_mem, NULL);
    compound(row, 1, sizeof(pf_status), &t->row_status_mem, NULL);

    hid_t ended = str_type(sizeof(((pf_store_run *)0)->ended));
    const member run[] = {
        {"start", RUN(start), F64, F64F},
        {"end", RUN(end), F64, F64F},
        {"run", RUN(run), I32, I32F},
        {"ranks", RUN(ranks), I32, I32F},
        {"threads", RUN(threads), I32, I32F},
        {"nhosts", RUN(nhosts), I32, I32F},
        {"configs_done", RUN(configs_done), I64, I64F},
        {"efficiency", RUN(efficiency), F64, F64F},
        {"ended", RUN(ended), ended, ended},
    };
    compound(run, (int)(sizeof run / sizeof run[0]), sizeof(pf_store_run), &t->run_mem,
             &t->run_file);
    const member sus[] = {
        {"item", SUS(item), I32, I32F},
        {"given_label", SUS(given), I32, I32F},
        {"true_label", SUS(truth), I32, I32F},
        {"predicted", SUS(predicted), I32, I32F},
        {"log_prob", SUS(log_prob), F64, F64F},
    };
    compound(sus, (int)(sizeof sus / sizeof sus[0]), sizeof(pf_suspect), &t->susp_mem, &t->susp_file);

    const member rnk[] = {
        {"run", RNK(run), I32, I32F},
        {"rank", RNK(rank), I32, I32F},
        {"host", RNK(host), host, host},
    };
    compound(rnk, (int)(sizeof rnk / sizeof rnk[0]), sizeof(pf_store_rank), &t->rank_mem,
             &t->rank_file);
    /* Compound members hold copies of their types: the string types can go now. */
    PF_H5_CHECK(H5Tclose(host));
    PF_H5_CHECK(H5Tclose(reason));
    PF_H5_CHECK(H5Tclose(ended));
}

void store_types_close(pf_store_types *t)
{
    hid_t all[] = {t->cfg_mem, t->cfg_file, t->row_mem, t->row_file, t->row_metrics_mem,
                   t->row_status_mem, t->run_mem, t->run_file, t->susp_mem, t->susp_file,
                   t->rank_mem, t->rank_file};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i] > 0) H5Tclose(all[i]);
    for (int i = 0; i < t->nenums; i++) H5Tclose(t->enums[i]);
    memset(t, 0, sizeof *t);
}

void store_row_pending(pf_store_row *row)
{
    memset(row, 0, sizeof *row);
    row->status = PF_STATUS_PENDING;
    row->stop = PF_STOP_NONE;
    row->best_val_acc = row->final_val_acc = row->heldout_acc = row->poisoned_val_acc = NAN;
    row->best_epoch = row->epochs = -1;
    row->n_poisoned = row->n_val_poisoned = -1;
    row->noise_rate = NAN;
    row->learned_poison = row->learned_true = row->train_seconds = NAN;
    row->detect_auroc = row->detect_precision = row->detect_recall = NAN;
    row->detect_top1 = row->detect_top5 = row->detect_top10 = NAN;
    row->detect_flagged = -1;
    row->rank = -1;
    row->isa = PF_ISA_AUTO;
}

void store_run_fill(pf_store_run *run)
{
    memset(run, 0, sizeof *run);
    run->start = run->end = run->efficiency = NAN;
    run->run = run->ranks = run->threads = run->nhosts = -1;
    run->configs_done = -1;
}

void store_rank_fill(pf_store_rank *row)
{
    memset(row, 0, sizeof *row);
    row->run = row->rank = -1;
}
