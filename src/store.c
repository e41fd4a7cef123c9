/* store.c -- the results file written in parallel (HDF5 over MPI-IO): collective creation and
 * opening, independent row writes with the status last, the /runs log.
 *
 * Crash consistency (HPC-NOTES.md, "Parallel HDF5 and crash consistency"): every object is created
 * collectively at start, contiguous, allocated early with an explicit fill value, and the file is
 * flushed once; afterwards ranks only write raw bytes into rows they own, which changes no metadata,
 * so a kill -9 at any moment leaves a file h5dump can open. /runs is the one chunked, growing
 * dataset: it only grows at a clean end, when every rank takes part. */
#include "store_internal.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef PF_GIT_COMMIT
#define PF_GIT_COMMIT "unknown"
#endif
#ifndef PF_CFLAGS
#define PF_CFLAGS "unknown"
#endif

struct pf_store {
    MPI_Comm comm;
    int rank;
    hid_t file;
    hid_t dxpl;                        /* independent transfers */
    hid_t configs, results, confusion, runs;
    hid_t history_group, history[PF_STORE_NHIST];
    pf_store_types types;
    int64_t n;
    int32_t kmax, max_epochs;
    int32_t *k;                        /* (n) classes of each configuration */
    int32_t *epochs;                   /* (n) max_epochs of each configuration */
    double *hrow;                      /* (max_epochs) one history row */
    int32_t *crow;                     /* (kmax, kmax) one confusion slab */
};

/* The string root attributes, in the order written. */
enum {
    A_VERSION, A_COMMIT, A_COMPILER, A_CFLAGS, A_BLAS_CONFIG, A_BLAS_CORE, A_HDF5, A_MPI,
    A_JOB_PATH, A_JOB_TEXT, A_FILE_ID, A_CREATED, A_HOSTNAMES, A_CHECKSUMS, A_NSTR
};
static const char *const str_attr_names[A_NSTR] = {
    "poisonfarm_version", "git_commit", "compiler", "cflags", "openblas_config", "openblas_core",
    "hdf5_version", "mpi_library", "job_path", "job_text", "file_id", "created", "hostnames",
    "data_checksums"};

/* The scalar root attributes. */
typedef struct {
    uint64_t fingerprint;
    int32_t ranks, epochs_capped, format;
} scalar_attrs;

static char *dup_or_empty(const char *s)
{
    size_t len = s ? strlen(s) : 0;
    char *d = pf_malloc(len + 1);
    if (len) memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

/* Rank 0's strings for every root attribute; the meta values come from the caller. */
static void collect_str_attrs(const pf_store_meta *meta, char *v[A_NSTR])
{
    char buf[MPI_MAX_LIBRARY_VERSION_STRING + 64];
    v[A_VERSION] = dup_or_empty(PF_VERSION);
    v[A_COMMIT] = dup_or_empty(PF_GIT_COMMIT);
#ifdef __VERSION__
    v[A_COMPILER] = dup_or_empty("gcc-compatible " __VERSION__ " (through mpicc)");
#else
    v[A_COMPILER] = dup_or_empty("unknown");
#endif
    v[A_CFLAGS] = dup_or_empty(PF_CFLAGS);
    v[A_BLAS_CONFIG] = dup_or_empty(openblas_get_config());
    v[A_BLAS_CORE] = dup_or_empty(openblas_get_corename());
    unsigned maj = 0, min = 0, rel = 0;
    H5get_libversion(&maj, &min, &rel);
    snprintf(buf, sizeof buf, "%u.%u.%u (parallel)", maj, min, rel);
    v[A_HDF5] = dup_or_empty(buf);
    int len = 0;
    MPI_Get_library_version(buf, &len);
    /* Open MPI's string is several lines; the first one names it. */
    buf[strcspn(buf, "\n")] = '\0';
    v[A_MPI] = dup_or_empty(buf);
    v[A_JOB_PATH] = dup_or_empty(meta ? meta->job_path : NULL);
    v[A_JOB_TEXT] = dup_or_empty(meta ? meta->job_text : NULL);
    v[A_FILE_ID] = dup_or_empty(meta ? meta->file_id : NULL);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    v[A_CREATED] = dup_or_empty(buf);
    v[A_HOSTNAMES] = dup_or_empty(meta ? meta->hostnames : NULL);
    v[A_CHECKSUMS] = dup_or_empty(meta ? meta->data_checksums : NULL);
}

/* Gives every rank rank 0's copy of a string (allocated on the others). Attribute writes are
 * collective metadata: every rank must write the same bytes, and the creation time or the BLAS
 * core could differ between ranks and nodes. */
static void bcast_str(MPI_Comm comm, int rank, char **s)
{
    uint64_t len = rank == 0 ? strlen(*s) : 0;
    PF_MPI_CHECK(MPI_Bcast(&len, 1, MPI_UINT64_T, 0, comm));
    if (rank != 0) {
        *s = pf_malloc(len + 1);
        (*s)[len] = '\0';
    }
    if (len) PF_MPI_CHECK(MPI_Bcast(*s, (int)len, MPI_CHAR, 0, comm));
}

static void attr_str(hid_t loc, const char *name, const char *value)
{
    hid_t t = PF_H5_CHECK(H5Tcopy(H5T_C_S1));
    PF_H5_CHECK(H5Tset_size(t, strlen(value) + 1));
    PF_H5_CHECK(H5Tset_strpad(t, H5T_STR_NULLTERM));
    hid_t sp = PF_H5_CHECK(H5Screate(H5S_SCALAR));
    hid_t a = PF_H5_CHECK(H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT));
    PF_H5_CHECK(H5Awrite(a, t, value));
    PF_H5_CHECK(H5Aclose(a));
    PF_H5_CHECK(H5Sclose(sp));
    PF_H5_CHECK(H5Tclose(t));
}

/* Creates or overwrites a scalar numeric attribute. */
static void attr_num(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, const void *v)
{
    hid_t a;
    if (PF_H5_CHECK(H5Aexists(loc, name)) > 0) {
        a = PF_H5_CHECK(H5Aopen(loc, name, H5P_DEFAULT));
    } else {
        hid_t sp = PF_H5_CHECK(H5Screate(H5S_SCALAR));
        a = PF_H5_CHECK(H5Acreate2(loc, name, file_type, sp, H5P_DEFAULT, H5P_DEFAULT));
        PF_H5_CHECK(H5Sclose(sp));
    }
    PF_H5_CHECK(H5Awrite(a, mem_type, v));
    PF_H5_CHECK(H5Aclose(a));
}

/* Contiguous, allocated at creation, filled with fill (of mem_type) at allocation. */
static hid_t contiguous_dcpl(hid_t mem_type, const void *fill)
{
    hid_t dcpl = PF_H5_CHECK(H5Pcreate(H5P_DATASET_CREATE));
    PF_H5_CHECK(H5Pset_layout(dcpl, H5D_CONTIGUOUS));
    PF_H5_CHECK(H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY));
    PF_H5_CHECK(H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC));
    PF_H5_CHECK(H5Pset_fill_value(dcpl, mem_type, fill));
    return dcpl;
}

static hid_t create_dataset(hid_t loc, const char *name, hid_t file_type, int rank,
                            const hsize_t *dims, hid_t dcpl)
{
    hid_t sp = PF_H5_CHECK(H5Screate_simple(rank, dims, NULL));
    hid_t d = PF_H5_CHECK(H5Dcreate2(loc, name, file_type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT));
    PF_H5_CHECK(H5Sclose(sp));
    return d;
}

static hid_t mpio_fapl(MPI_Comm comm, int need_dense_attrs)
{
    hid_t fapl = PF_H5_CHECK(H5Pcreate(H5P_FILE_ACCESS));
    PF_H5_CHECK(H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL));
    /* An attribute over 64 KiB (a very long job file) needs the 1.8 format's dense attribute
     * storage; every other file keeps the oldest format, which the crash trials used. */
    if (need_dense_attrs) PF_H5_CHECK(H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST));
    return fapl;
}

static pf_store *store_alloc(MPI_Comm comm)
{
    pf_store *s = pf_calloc(1, sizeof *s);
    s->comm = comm;
    PF_MPI_CHECK(MPI_Comm_rank(comm, &s->rank));
    s->dxpl = PF_H5_CHECK(H5Pcreate(H5P_DATASET_XFER));
    PF_H5_CHECK(H5Pset_dxpl_mpio(s->dxpl, H5FD_MPIO_INDEPENDENT));
    store_types_create(&s->types);
    return s;
}

/* Per-configuration sizes and the row workspaces, once n, kmax and max_epochs are known. */
static void store_index(pf_store *s, const pf_store_config *configs)
{
    s->k = pf_malloc((size_t)s->n * sizeof *s->k);
    s->epochs = pf_malloc((size_t)s->n * sizeof *s->epochs);
    for (int64_t i = 0; i < s->n; i++) {
        s->k[i] = configs[i].k;
        s->epochs[i] = configs[i].cfg.max_epochs;
        PF_ASSERT(s->k[i] >= 1 && s->k[i] <= s->kmax);
        PF_ASSERT(s->epochs[i] >= 0 && s->epochs[i] <= s->max_epochs);
    }
    s->hrow = pf_malloc((size_t)s->max_epochs * sizeof *s->hrow);
    s->crow = pf_malloc((size_t)s->kmax * (size_t)s->kmax * sizeof *s->crow);
}

pf_store *store_create(MPI_Comm comm, const char *path, const pf_store_config *configs, int64_t n,
                       const pf_store_meta *meta)
{
    pf_store *s = store_alloc(comm);
    const int root = s->rank == 0;

    /* Rank 0's configurations and metadata are the truth: every rank writes the same metadata. */
    int64_t n0 = n;
    PF_MPI_CHECK(MPI_Bcast(&n0, 1, MPI_INT64_T, 0, comm));
    PF_ASSERT(n0 == n && n > 0);
    pf_store_config *cfgs = pf_malloc((size_t)n * sizeof *cfgs);
    if (root) memcpy(cfgs, configs, (size_t)n * sizeof *cfgs);
    PF_MPI_CHECK(MPI_Bcast(cfgs, (int)((size_t)n * sizeof *cfgs), MPI_BYTE, 0, comm));
    char *sv[A_NSTR] = {0};
    scalar_attrs sc = {0};
    if (root) {
        collect_str_attrs(meta, sv);
        sc.fingerprint = meta ? meta->fingerprint : 0;
        sc.ranks = meta ? meta->ranks : 0;
        sc.epochs_capped = meta ? meta->epochs_capped : 0;
        sc.format = PF_STORE_FORMAT;
    }
    for (int i = 0; i < A_NSTR; i++) bcast_str(comm, s->rank, &sv[i]);
    PF_MPI_CHECK(MPI_Bcast(&sc, (int)sizeof sc, MPI_BYTE, 0, comm));

    s->n = n;
    s->kmax = 1;
    s->max_epochs = 1;
    for (int64_t i = 0; i < n; i++) {
        cfgs[i].id = i;
        if (cfgs[i].k > s->kmax) s->kmax = cfgs[i].k;
        if (cfgs[i].cfg.max_epochs > s->max_epochs) s->max_epochs = cfgs[i].cfg.max_epochs;
    }
    store_index(s, cfgs);

    int dense = 0;
    for (int i = 0; i < A_NSTR; i++) dense |= strlen(sv[i]) > 60000;
    hid_t fapl = mpio_fapl(comm, dense);
    /* EXCL: never overwrite a file that appeared after the caller's checks. */
    s->file = PF_H5_CHECK(H5Fcreate(path, H5F_ACC_EXCL, H5P_DEFAULT, fapl));
    PF_H5_CHECK(H5Pclose(fapl));

    pf_store_types *t = &s->types;
    hsize_t dn[1] = {(hsize_t)n};
    pf_store_config cfg_fill;
    memset(&cfg_fill, 0, sizeof cfg_fill);
    cfg_fill.id = -1;
    hid_t dcpl = contiguous_dcpl(t->cfg_mem, &cfg_fill);
    s->configs = create_dataset(s->file, "configs", t->cfg_file, 1, dn, dcpl);
    PF_H5_CHECK(H5Pclose(dcpl));

    pf_store_row row_fill;
    store_row_pending(&row_fill);
    dcpl = contiguous_dcpl(t->row_mem, &row_fill);
    s->results = create_dataset(s->file, "results", t->row_file, 1, dn, dcpl);
    PF_H5_CHECK(H5Pclose(dcpl));

    const double nan = NAN;
    dcpl = contiguous_dcpl(H5T_NATIVE_DOUBLE, &nan);
    s->history_group = PF_H5_CHECK(H5Gcreate2(s->file, "history", H5P_DEFAULT, H5P_DEFAULT,
                                              H5P_DEFAULT));
    hsize_t dh[2] = {(hsize_t)n, (hsize_t)s->max_epochs};
    for (int h = 0; h < PF_STORE_NHIST; h++)
        s->history[h] = create_dataset(s->history_group, store_history_names[h], H5T_IEEE_F64LE,
                                       2, dh, dcpl);
    PF_H5_CHECK(H5Pclose(dcpl));

    const int32_t zero = 0;
    dcpl = contiguous_dcpl(H5T_NATIVE_INT32, &zero);
    hsize_t dc[3] = {(hsize_t)n, (hsize_t)s->kmax, (hsize_t)s->kmax};
    s->confusion = create_dataset(s->file, "confusion", H5T_STD_I32LE, 3, dc, dcpl);
    PF_H5_CHECK(H5Pclose(dcpl));

    /* /runs grows at each clean end: chunked and unlimited, no filters (parallel HDF5 writes
     * filtered data only collectively). */
    pf_store_run run_fill;
    store_run_fill(&run_fill);
    dcpl = PF_H5_CHECK(H5Pcreate(H5P_DATASET_CREATE));
    hsize_t chunk[1] = {16}, d0[1] = {0}, dmax[1] = {H5S_UNLIMITED};
    PF_H5_CHECK(H5Pset_chunk(dcpl, 1, chunk));
    PF_H5_CHECK(H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY));
    PF_H5_CHECK(H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC));
    PF_H5_CHECK(H5Pset_fill_value(dcpl, t->run_mem, &run_fill));
    hid_t sp = PF_H5_CHECK(H5Screate_simple(1, d0, dmax));
    s->runs = PF_H5_CHECK(H5Dcreate2(s->file, "runs", t->run_file, sp, H5P_DEFAULT, dcpl,
                                     H5P_DEFAULT));
    PF_H5_CHECK(H5Sclose(sp));
    PF_H5_CHECK(H5Pclose(dcpl));

    for (int i = 0; i < A_NSTR; i++) attr_str(s->file, str_attr_names[i], sv[i]);
    attr_num(s->file, PF_STORE_FORMAT_ATTR, H5T_STD_I32LE, H5T_NATIVE_INT32, &sc.format);
    attr_num(s->file, "fingerprint", H5T_STD_U64LE, H5T_NATIVE_UINT64, &sc.fingerprint);
    attr_num(s->file, "ranks", H5T_STD_I32LE, H5T_NATIVE_INT32, &sc.ranks);
    attr_num(s->file, "epochs_capped", H5T_STD_I32LE, H5T_NATIVE_INT32, &sc.epochs_capped);

    /* The configuration table is raw data: rank 0 alone writes it, before the one flush. */
    if (root) PF_H5_CHECK(H5Dwrite(s->configs, t->cfg_mem, H5S_ALL, H5S_ALL, s->dxpl, cfgs));
    PF_H5_CHECK(H5Fflush(s->file, H5F_SCOPE_GLOBAL));

    for (int i = 0; i < A_NSTR; i++) free(sv[i]);
    free(cfgs);
    return s;
}

pf_store *store_open(MPI_Comm comm, const char *path)
{
    pf_store *s = store_alloc(comm);
    hid_t fapl = mpio_fapl(comm, 0);
    s->file = PF_H5_CHECK(H5Fopen(path, H5F_ACC_RDWR, fapl));
    PF_H5_CHECK(H5Pclose(fapl));
    s->configs = PF_H5_CHECK(H5Dopen2(s->file, "configs", H5P_DEFAULT));
    s->results = PF_H5_CHECK(H5Dopen2(s->file, "results", H5P_DEFAULT));
    s->confusion = PF_H5_CHECK(H5Dopen2(s->file, "confusion", H5P_DEFAULT));
    s->runs = PF_H5_CHECK(H5Dopen2(s->file, "runs", H5P_DEFAULT));
    s->history_group = PF_H5_CHECK(H5Gopen2(s->file, "history", H5P_DEFAULT));
    for (int h = 0; h < PF_STORE_NHIST; h++)
        s->history[h] = PF_H5_CHECK(H5Dopen2(s->history_group, store_history_names[h], H5P_DEFAULT));

    hsize_t dims[3];
    hid_t sp = PF_H5_CHECK(H5Dget_space(s->results));
    PF_ASSERT(H5Sget_simple_extent_ndims(sp) == 1);
    PF_H5_CHECK(H5Sget_simple_extent_dims(sp, dims, NULL));
    PF_H5_CHECK(H5Sclose(sp));
    s->n = (int64_t)dims[0];
    sp = PF_H5_CHECK(H5Dget_space(s->history[0]));
    PF_ASSERT(H5Sget_simple_extent_ndims(sp) == 2);
    PF_H5_CHECK(H5Sget_simple_extent_dims(sp, dims, NULL));
    PF_H5_CHECK(H5Sclose(sp));
    s->max_epochs = (int32_t)dims[1];
    sp = PF_H5_CHECK(H5Dget_space(s->confusion));
    PF_ASSERT(H5Sget_simple_extent_ndims(sp) == 3);
    PF_H5_CHECK(H5Sget_simple_extent_dims(sp, dims, NULL));
    PF_H5_CHECK(H5Sclose(sp));
    s->kmax = (int32_t)dims[1];

    pf_store_config *cfgs = pf_malloc((size_t)s->n * sizeof *cfgs);
    store_read_configs(s, cfgs);
    store_index(s, cfgs);
    free(cfgs);
    return s;
}

int64_t store_nconfigs(const pf_store *s) { return s->n; }
int32_t store_max_epochs(const pf_store *s) { return s->max_epochs; }

void store_read_configs(pf_store *s, pf_store_config *out)
{
    for (int64_t i = 0; i < s->n; i++) {
        memset(&out[i], 0, sizeof out[i]);
        /* Fields a newer pf_config may have and this file lacks keep their defaults. */
        config_defaults(&out[i].cfg);
    }
    PF_H5_CHECK(H5Dread(s->configs, s->types.cfg_mem, H5S_ALL, H5S_ALL, s->dxpl, out));
}

void store_read_status(pf_store *s, pf_status *out)
{
    PF_H5_CHECK(H5Dread(s->results, s->types.row_status_mem, H5S_ALL, H5S_ALL, s->dxpl, out));
}

/* Writes buf (one element of mem_type, or one row of a 2-D / 3-D dataset) into row id. */
static void write_row(pf_store *s, hid_t dset, hid_t mem_type, int64_t id, const void *buf)
{
    hsize_t dims[3] = {0}, start[3] = {0}, count[3] = {1, 1, 1};
    hid_t fsp = PF_H5_CHECK(H5Dget_space(dset));
    int nd = PF_H5_CHECK(H5Sget_simple_extent_ndims(fsp));
    PF_H5_CHECK(H5Sget_simple_extent_dims(fsp, dims, NULL));
    start[0] = (hsize_t)id;
    for (int d = 1; d < nd; d++) count[d] = dims[d];
    PF_H5_CHECK(H5Sselect_hyperslab(fsp, H5S_SELECT_SET, start, NULL, count, NULL));
    hid_t msp = PF_H5_CHECK(H5Screate_simple(nd, count, NULL));
    PF_H5_CHECK(H5Dwrite(dset, mem_type, msp, fsp, s->dxpl, buf));
    PF_H5_CHECK(H5Sclose(msp));
    PF_H5_CHECK(H5Sclose(fsp));
}

/* History rows (NaN where res has none) and the confusion slab (zero outside the row's K). */
static void write_history_confusion(pf_store *s, int64_t id, const pf_result *res)
{
    const double *src[PF_STORE_NHIST] = {NULL};
    if (res != NULL) {
        src[0] = res->train_loss;
        src[1] = res->train_acc;
        src[2] = res->val_loss;
        src[3] = res->val_acc;
        src[4] = res->lr;
        src[5] = res->epoch_seconds;
    }
    for (int h = 0; h < PF_STORE_NHIST; h++) {
        for (int32_t e = 0; e < s->max_epochs; e++)
            s->hrow[e] = (src[h] != NULL && e < s->epochs[id]) ? src[h][e] : NAN;
        write_row(s, s->history[h], H5T_NATIVE_DOUBLE, id, s->hrow);
    }
    const size_t km = (size_t)s->kmax;
    memset(s->crow, 0, km * km * sizeof *s->crow);
    if (res != NULL && res->confusion != NULL) {
        PF_ASSERT(res->k >= 1 && res->k <= s->kmax);
        for (int i = 0; i < res->k; i++)
            for (int j = 0; j < res->k; j++)
                s->crow[(size_t)i * km + (size_t)j] = res->confusion[(size_t)i * (size_t)res->k + (size_t)j];
    }
    write_row(s, s->confusion, H5T_NATIVE_INT32, id, s->crow);
}

void store_write_running(pf_store *s, int64_t id, int32_t rank, const char *host)
{
    PF_ASSERT(id >= 0 && id < s->n);
    pf_store_row row;
    store_row_pending(&row);
    row.status = PF_STATUS_RUNNING;
    row.rank = rank;
    snprintf(row.host, sizeof row.host, "%s", host ? host : "");
    write_row(s, s->results, s->types.row_mem, id, &row);
}

void store_write_result(pf_store *s, int64_t id, const pf_store_row *row, const pf_result *res)
{
    PF_ASSERT(id >= 0 && id < s->n);
    PF_ASSERT(row->status >= 0 && row->status < PF_STATUS_COUNT);
    write_history_confusion(s, id, res);
    /* Strings may hold garbage after their terminator; store them clean. */
    pf_store_row clean = *row;
    memset(clean.host, 0, sizeof clean.host);
    memset(clean.reason, 0, sizeof clean.reason);
    snprintf(clean.host, sizeof clean.host, "%.*s", (int)sizeof row->host - 1, row->host);
    snprintf(clean.reason, sizeof clean.reason, "%.*s", (int)sizeof row->reason - 1, row->reason);
    write_row(s, s->results, s->types.row_metrics_mem, id, &clean);
    /* The commit marker, last: a row reads "done" only once everything above is on disk. */
    pf_status st = clean.status;
    write_row(s, s->results, s->types.row_status_mem, id, &st);
}

void store_write_pending(pf_store *s, int64_t id)
{
    PF_ASSERT(id >= 0 && id < s->n);
    write_history_confusion(s, id, NULL);
    pf_store_row row;
    store_row_pending(&row);
    write_row(s, s->results, s->types.row_mem, id, &row);
}

void store_append_run(pf_store *s, const pf_store_run *run)
{
    pf_store_run r = *run;
    PF_MPI_CHECK(MPI_Bcast(&r, (int)sizeof r, MPI_BYTE, 0, s->comm));
    r.hosts[sizeof r.hosts - 1] = '\0';
    r.ended[sizeof r.ended - 1] = '\0';
    hsize_t dims[1];
    hid_t sp = PF_H5_CHECK(H5Dget_space(s->runs));
    PF_H5_CHECK(H5Sget_simple_extent_dims(sp, dims, NULL));
    PF_H5_CHECK(H5Sclose(sp));
    /* Collective: every rank extends; the chunk is allocated here, so the write below is raw. */
    hsize_t grown[1] = {dims[0] + 1};
    PF_H5_CHECK(H5Dset_extent(s->runs, grown));
    if (s->rank == 0) write_row(s, s->runs, s->types.run_mem, (int64_t)dims[0], &r);
    attr_num(s->file, "efficiency", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &r.efficiency);
    PF_H5_CHECK(H5Fflush(s->file, H5F_SCOPE_GLOBAL));
}

void store_close(pf_store *s)
{
    if (s == NULL) return;
    for (int h = 0; h < PF_STORE_NHIST; h++) PF_H5_CHECK(H5Dclose(s->history[h]));
    PF_H5_CHECK(H5Gclose(s->history_group));
    PF_H5_CHECK(H5Dclose(s->configs));
    PF_H5_CHECK(H5Dclose(s->results));
    PF_H5_CHECK(H5Dclose(s->confusion));
    PF_H5_CHECK(H5Dclose(s->runs));
    PF_H5_CHECK(H5Fclose(s->file));
    PF_H5_CHECK(H5Pclose(s->dxpl));
    store_types_close(&s->types);
    free(s->k);
    free(s->epochs);
    free(s->hrow);
    free(s->crow);
    free(s);
}
