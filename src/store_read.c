/* store_read.c -- reading a results file serially and read-only: store_inspect (what rank 0 learns
 * before a run) and store_load (everything, for the report and for replay). Both treat the file as
 * user input: every failure is a one-line error naming it, never an abort, and the file is never
 * opened for writing. */
#include "store_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void store_quiet_hdf5(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

static int read_num_attr(hid_t file, const char *name, hid_t mem_type, void *v)
{
    if (H5Aexists(file, name) <= 0) return -1;
    hid_t a = H5Aopen(file, name, H5P_DEFAULT);
    if (a < 0) return -1;
    herr_t e = H5Aread(a, mem_type, v);
    H5Aclose(a);
    return e < 0 ? -1 : 0;
}

/* Opens path read-only with the serial driver after checking that it is a poisonfarm results file.
 * Returns 0 with *file open, 1 when there is no file at path, -1 with err. HDF5 file locking is
 * off for this reader: a report may read the file while a run writes it, and some cluster file
 * systems refuse flock. */
static int open_readonly(const char *path, hid_t *file, int32_t *format_out, pf_error *err)
{
    *file = H5I_INVALID_HID;
    *format_out = 0;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT) return 1;
        return pf_error_set(err, PF_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode))
        return pf_error_set(err, PF_ERR_CORRUPT, "%s: not a regular file, so not a results file",
                            path);
    /* HDF5 would turn an empty file opened read-write into a new file: never get that far. */
    if (st.st_size == 0)
        return pf_error_set(err, PF_ERR_CORRUPT,
                            "%s: empty file (0 bytes), not a poisonfarm results file; remove it "
                            "or choose another output",
                            path);
    FILE *f = fopen(path, "rb");
    if (f == NULL) return pf_error_set(err, PF_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    fclose(f);
    htri_t is = H5Fis_hdf5(path);
    if (is <= 0)
        return pf_error_set(err, PF_ERR_CORRUPT,
                            "%s: not an HDF5 file, so not a poisonfarm results file", path);
    hid_t fapl = PF_H5_CHECK(H5Pcreate(H5P_FILE_ACCESS));
    PF_H5_CHECK(H5Pset_fapl_sec2(fapl));
    PF_H5_CHECK(H5Pset_file_locking(fapl, 0, 1));
    hid_t fid = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (fid < 0)
        return pf_error_set(err, PF_ERR_CORRUPT, "%s: cannot open as HDF5 (damaged or truncated?)",
                            path);
    int32_t format = 0;
    const char *why = NULL;
    if (H5Aexists(fid, PF_STORE_FORMAT_ATTR) <= 0)
        why = "no " PF_STORE_FORMAT_ATTR " attribute";
    else if (read_num_attr(fid, PF_STORE_FORMAT_ATTR, H5T_NATIVE_INT32, &format) < 0)
        why = "unreadable " PF_STORE_FORMAT_ATTR " attribute";
    else if (H5Lexists(fid, "configs", H5P_DEFAULT) <= 0 || H5Lexists(fid, "results", H5P_DEFAULT) <= 0
             || H5Lexists(fid, "history", H5P_DEFAULT) <= 0
             || H5Lexists(fid, "confusion", H5P_DEFAULT) <= 0)
        why = "/configs, /results, /history or /confusion missing";
    if (why != NULL) {
        H5Fclose(fid);
        return pf_error_set(err, PF_ERR_CORRUPT,
                            "%s: an HDF5 file but not a poisonfarm results file (%s)", path, why);
    }
    *format_out = format;
    if (format != PF_STORE_FORMAT) {
        H5Fclose(fid);
        return pf_error_set(err, PF_ERR_CORRUPT,
                            "%s: results file format %d (written by %s poisonfarm), this poisonfarm "
                            "reads format %d (docs/results-format.md lists them)",
                            path, (int)format, format < PF_STORE_FORMAT ? "an older" : "a newer",
                            PF_STORE_FORMAT);
    }
    *file = fid;
    return 0;
}

/* Reads a string root attribute into a new buffer (free it). 0 or -1. */
static int read_str_attr(hid_t file, const char *name, char **out)
{
    *out = NULL;
    int rc = -1;
    hid_t a = H5I_INVALID_HID, ft = H5I_INVALID_HID, mt = H5I_INVALID_HID;
    if (H5Aexists(file, name) <= 0) return -1;
    if ((a = H5Aopen(file, name, H5P_DEFAULT)) < 0) goto cleanup;
    if ((ft = H5Aget_type(a)) < 0 || H5Tget_class(ft) != H5T_STRING || H5Tis_variable_str(ft) != 0)
        goto cleanup;
    size_t size = H5Tget_size(ft);
    if (size == 0) goto cleanup;
    mt = PF_H5_CHECK(H5Tcopy(H5T_C_S1));
    PF_H5_CHECK(H5Tset_size(mt, size + 1));
    PF_H5_CHECK(H5Tset_strpad(mt, H5T_STR_NULLTERM));
    *out = pf_calloc(size + 1, 1);
    if (H5Aread(a, mt, *out) < 0) {
        free(*out);
        *out = NULL;
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    if (a >= 0) H5Aclose(a);
    return rc;
}

/* The first dimensions of a dataset (nd of them), checking its rank. */
static int read_dims(hid_t loc, const char *name, int nd, hsize_t *dims)
{
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) return -1;
    hid_t sp = H5Dget_space(d);
    int ok = sp >= 0 && H5Sget_simple_extent_ndims(sp) == nd
             && H5Sget_simple_extent_dims(sp, dims, NULL) == nd;
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(d);
    return ok ? 0 : -1;
}

static int read_all(hid_t loc, const char *name, hid_t mem_type, void *buf)
{
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) return -1;
    herr_t e = H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    H5Dclose(d);
    return e < 0 ? -1 : 0;
}

/* Status column into out (n), checking every value is a known status. */
static int read_status(hid_t file, const pf_store_types *t, int64_t n, pf_status *out)
{
    if (read_all(file, "results", t->row_status_mem, out) < 0) return -1;
    for (int64_t i = 0; i < n; i++)
        if ((int)out[i] < 0 || out[i] >= PF_STATUS_COUNT) return -1;
    return 0;
}

int store_inspect(const char *path, pf_store_info *info, pf_error *err)
{
    memset(info, 0, sizeof *info);
    hid_t file;
    int rc = open_readonly(path, &file, &info->format, err);
    if (rc == 1) return 0;
    if (rc < 0) return -1;
    info->exists = 1;
    pf_store_types t;
    store_types_create(&t);
    pf_status *st = NULL;
    char *id = NULL;
    hsize_t dims[1];
    rc = -1;
    if (read_num_attr(file, "fingerprint", H5T_NATIVE_UINT64, &info->fingerprint) < 0
        || read_str_attr(file, "file_id", &id) < 0) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: results file without fingerprint or file_id", path);
        goto cleanup;
    }
    snprintf(info->file_id, sizeof info->file_id, "%s", id);
    int32_t simulated = 0;
    if (read_num_attr(file, PF_STORE_SIMULATED_ATTR, H5T_NATIVE_INT32, &simulated) < 0 || (simulated != 0 && simulated != 1)) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: results file without a valid '%s' attribute", path, PF_STORE_SIMULATED_ATTR);
        goto cleanup;
    }
    info->simulated = simulated;
    if (read_dims(file, "results", 1, dims) < 0) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: unreadable /results table", path);
        goto cleanup;
    }
    info->nconfigs = (int64_t)dims[0];
    st = pf_malloc((size_t)info->nconfigs * sizeof *st);
    if (info->nconfigs > 0 && read_status(file, &t, info->nconfigs, st) < 0) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: unreadable status column in /results", path);
        goto cleanup;
    }
    for (int64_t i = 0; i < info->nconfigs; i++) info->count[st[i]]++;
    rc = 0;
cleanup:
    free(st);
    free(id);
    store_types_close(&t);
    H5Fclose(file);
    return rc;
}

void store_results_free(pf_results *r)
{
    if (r == NULL) return;
    free(r->configs);
    free(r->rows);
    for (int h = 0; h < PF_STORE_NHIST; h++) free(r->history[h]);
    free(r->confusion);
    free(r->transitions);
    free(r->suspects);
    free(r->job_text);
    free(r->runs);
    free(r->rank_rows);
    memset(r, 0, sizeof *r);
}

int store_load(const char *path, pf_results *r, pf_error *err)
{
    memset(r, 0, sizeof *r);
    hid_t file;
    int32_t format;
    int rc = open_readonly(path, &file, &format, err);
    if (rc == 1) return pf_error_set(err, PF_ERR_MISSING, "%s: no such results file", path);
    if (rc < 0) return -1;
    pf_store_types t;
    store_types_create(&t);
    char *id = NULL;
    const char *what = NULL;
    hsize_t d1[1], d2[2], d3[3];

    what = "the root attributes";
    if (read_num_attr(file, "fingerprint", H5T_NATIVE_UINT64, &r->fingerprint) < 0
        || read_str_attr(file, "file_id", &id) < 0 || read_str_attr(file, "job_text", &r->job_text) < 0
        || read_num_attr(file, "epochs_capped", H5T_NATIVE_INT, &r->epochs_capped) < 0
        || read_num_attr(file, PF_STORE_SIMULATED_ATTR, H5T_NATIVE_INT, &r->simulated) < 0
        || read_num_attr(file, "dry_run_scale", H5T_NATIVE_DOUBLE, &r->dry_run_scale) < 0
        || (r->simulated != 0 && r->simulated != 1))
        goto fail;
    snprintf(r->file_id, sizeof r->file_id, "%s", id);

    what = "the dataset shapes";
    if (read_dims(file, "results", 1, d1) < 0 || read_dims(file, "history/val_acc", 2, d2) < 0
        || read_dims(file, "confusion", 3, d3) < 0)
        goto fail;
    r->n = (int64_t)d1[0];
    r->max_epochs = (int32_t)d2[1];
    r->kmax = (int32_t)d3[1];
    if (read_dims(file, "configs", 1, d1) < 0 || (int64_t)d1[0] != r->n || (int64_t)d2[0] != r->n
        || (int64_t)d3[0] != r->n || d3[2] != d3[1])
        goto fail;

    const size_t n = (size_t)r->n, ne = n * (size_t)r->max_epochs;
    r->configs = pf_calloc(n, sizeof *r->configs);
    for (size_t i = 0; i < n; i++) config_defaults(&r->configs[i].cfg);
    what = "/configs";
    if (n > 0 && read_all(file, "configs", t.cfg_mem, r->configs) < 0) goto fail;
    r->rows = pf_calloc(n, sizeof *r->rows);
    what = "/results";
    if (n > 0 && read_all(file, "results", t.row_mem, r->rows) < 0) goto fail;
    for (size_t i = 0; i < n; i++)
        if ((int)r->rows[i].status < 0 || r->rows[i].status >= PF_STATUS_COUNT
            || (int)r->rows[i].stop < 0 || r->rows[i].stop >= PF_STOP_COUNT)
            goto fail;
    for (int h = 0; h < PF_STORE_NHIST; h++) {
        char name[64];
        snprintf(name, sizeof name, "history/%s", store_history_names[h]);
        r->history[h] = pf_malloc((ne ? ne : 1) * sizeof(double));
        what = store_history_names[h];
        if (read_dims(file, name, 2, d2) < 0 || d2[0] != n || d2[1] != (hsize_t)r->max_epochs
            || (ne > 0 && read_all(file, name, H5T_NATIVE_DOUBLE, r->history[h]) < 0))
            goto fail;
    }
    const size_t nc = n * (size_t)r->kmax * (size_t)r->kmax;
    r->confusion = pf_malloc((nc ? nc : 1) * sizeof(int32_t));
    what = "/confusion";
    if (nc > 0 && read_all(file, "confusion", H5T_NATIVE_INT32, r->confusion) < 0) goto fail;
    r->transitions = pf_malloc((nc ? nc : 1) * sizeof(int32_t));
    what = "/transitions";
    if (read_dims(file, "transitions", 3, d3) < 0 || d3[0] != n || d3[1] != (hsize_t)r->kmax
        || d3[2] != (hsize_t)r->kmax
        || (nc > 0 && read_all(file, "transitions", H5T_NATIVE_INT32, r->transitions) < 0))
        goto fail;
    r->suspects = pf_malloc((n ? n : 1) * PF_SUSPECTS * sizeof *r->suspects);
    what = "/suspects";
    if (read_dims(file, "suspects", 2, d2) < 0 || d2[0] != n || d2[1] != PF_SUSPECTS
        || (n > 0 && read_all(file, "suspects", t.susp_mem, r->suspects) < 0))
        goto fail;

    /* /runs is empty until a run ends cleanly. */
    what = "/runs";
    if (read_dims(file, "runs", 1, d1) < 0) goto fail;
    r->nruns = (int64_t)d1[0];
    r->runs = pf_calloc(r->nruns ? (size_t)r->nruns : 1, sizeof *r->runs);
    if (r->nruns > 0 && read_all(file, "runs", t.run_mem, r->runs) < 0) goto fail;
    /* /ranks: every rank of every run that started. */
    what = "/ranks";
    if (read_dims(file, "ranks", 1, d1) < 0) goto fail;
    r->nrank_rows = (int64_t)d1[0];
    r->rank_rows = pf_calloc(r->nrank_rows ? (size_t)r->nrank_rows : 1, sizeof *r->rank_rows);
    if (r->nrank_rows > 0 && read_all(file, "ranks", t.rank_mem, r->rank_rows) < 0) goto fail;

    free(id);
    store_types_close(&t);
    H5Fclose(file);
    return 0;
fail:
    pf_error_set(err, PF_ERR_CORRUPT, "%s: cannot read %s of the results file (damaged?)", path,
                 what);
    free(id);
    store_types_close(&t);
    H5Fclose(file);
    store_results_free(r);
    return -1;
}
