/* store_read.c -- reading a results file serially and read-only: store_inspect (what rank 0 learns
 * before a run) and store_load (everything, for the report and for replay). Both treat the file as
 * user input: every failure is a one-line error naming it, never an abort, and the file is never
 * opened for writing. */
#include "store_internal.h"

#include "poisonfarm/fsutil.h"

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
    char kind[PF_PATH_MAX + 64];
    if (stat(path, &st) != 0) {
        if (errno == ENOENT && !fs_exists(path)) return 1;
        if (errno == ENOENT || errno == ELOOP) /* a dangling symbolic link, a link loop */
            return pf_error_set(err, PF_ERR_CORRUPT, "%s: %s, not a results file", path,
                                fs_kind(path, kind, sizeof kind));
        return pf_error_set(err, PF_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode))
        return pf_error_set(err, PF_ERR_CORRUPT, "%s: %s, not a results file", path,
                            fs_kind(path, kind, sizeof kind));
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
    /* A results file of this format without its tables is damaged, not something else. */
    static const char *const tables[] = {"configs", "results", "history", "confusion", "transitions",
                                         "suspects", "runs", "ranks"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        if (H5Lexists(fid, tables[i], H5P_DEFAULT) <= 0) {
            H5Fclose(fid);
            return pf_error_set(err, PF_ERR_CORRUPT, "%s: /%s is missing (a damaged results file)", path,
                                tables[i]);
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


/* An enum value of the file that has no name in memory: HDF5 would write -1 (all ones) in its place;
 * the raw value is kept instead, so that the validator names the value the file holds. */
static H5T_conv_ret_t keep_raw_enum(H5T_conv_except_t except, hid_t src, hid_t dst, void *src_buf, void *dst_buf,
                                    void *user)
{
    (void)dst;
    (void)user;
    if ((except != H5T_CONV_EXCEPT_RANGE_HI && except != H5T_CONV_EXCEPT_RANGE_LOW) || H5Tget_class(src) != H5T_ENUM)
        return H5T_CONV_UNHANDLED;
    hid_t base = H5Tget_super(src);
    size_t size = H5Tget_size(src);
    int is_signed = base >= 0 && H5Tget_sign(base) == H5T_SGN_2;
    if (base >= 0) H5Tclose(base);
    int64_t v = 0;
    if (size == 1)
        v = is_signed ? (int64_t) * (int8_t *)src_buf : (int64_t) * (uint8_t *)src_buf;
    else if (size == 2)
        v = is_signed ? (int64_t) * (int16_t *)src_buf : (int64_t) * (uint16_t *)src_buf;
    else if (size == 4)
        v = is_signed ? (int64_t) * (int32_t *)src_buf : (int64_t) * (uint32_t *)src_buf;
    else
        return H5T_CONV_UNHANDLED;
    int out = (int)v;
    memcpy(dst_buf, &out, sizeof out); /* the memory enums are int-based (store_types.c) */
    return H5T_CONV_HANDLED;
}

static int read_table(hid_t file, const char *name, hid_t mem_type, void *buf)
{
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    if (d < 0) return -1;
    hid_t dxpl = PF_H5_CHECK(H5Pcreate(H5P_DATASET_XFER));
    PF_H5_CHECK(H5Pset_type_conv_cb(dxpl, keep_raw_enum, NULL));
    herr_t e = H5Dread(d, mem_type, H5S_ALL, H5S_ALL, dxpl, buf);
    H5Pclose(dxpl);
    H5Dclose(d);
    return e < 0 ? -1 : 0;
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
    if (info->nconfigs < 1 || info->nconfigs > PF_STORE_MAX_CONFIGS) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: /results holds %lld rows (a damaged results file)", path,
                     (long long)info->nconfigs);
        goto cleanup;
    }
    st = pf_malloc((size_t)info->nconfigs * sizeof *st);
    if (read_table(file, "results", t.row_status_mem, st) < 0) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: unreadable status column in /results", path);
        goto cleanup;
    }
    for (int64_t i = 0; i < info->nconfigs; i++)
        if ((int)st[i] < 0 || st[i] >= PF_STATUS_COUNT) {
            pf_error_set(err, PF_ERR_CORRUPT, "%s: /results row %lld, status: %d is not a status (a damaged "
                         "results file)", path, (long long)i, (int)st[i]);
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
    free(r->data_checksums);
    free(r->runs);
    free(r->rank_rows);
    memset(r, 0, sizeof *r);
}

/* Fixed-length strings as C strings, whatever the file holds. */
static void terminate_strings(pf_results *r)
{
    for (int64_t i = 0; i < r->n; i++) {
        r->rows[i].host[PF_HOST_LEN - 1] = '\0';
        r->rows[i].reason[PF_REASON_LEN - 1] = '\0';
    }
}

/* store_load (everything) and store_load_tables (everything = 0). */
static int load(const char *path, pf_results *r, int everything, pf_error *err)
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
        || read_str_attr(file, "data_checksums", &r->data_checksums) < 0
        || read_num_attr(file, "epochs_capped", H5T_NATIVE_INT, &r->epochs_capped) < 0
        || read_num_attr(file, PF_STORE_SIMULATED_ATTR, H5T_NATIVE_INT, &r->simulated) < 0
        || read_num_attr(file, "dry_run_scale", H5T_NATIVE_DOUBLE, &r->dry_run_scale) < 0
        || (r->simulated != 0 && r->simulated != 1))
        goto fail;
    snprintf(r->file_id, sizeof r->file_id, "%s", id);

    /* The shapes are metadata: the tables' sizes are known without reading them. */
    what = "the dataset shapes";
    if (read_dims(file, "results", 1, d1) < 0 || read_dims(file, "history/val_acc", 2, d2) < 0
        || read_dims(file, "confusion", 3, d3) < 0)
        goto fail;
    if (d1[0] > (hsize_t)PF_STORE_MAX_CONFIGS || d2[1] > (hsize_t)PF_MAX_EPOCHS || d3[1] > (hsize_t)PF_MAX_CLASSES)
        goto fail;
    r->n = (int64_t)d1[0];
    r->max_epochs = (int32_t)d2[1];
    r->kmax = (int32_t)d3[1];
    if (read_dims(file, "configs", 1, d1) < 0 || (int64_t)d1[0] != r->n || (int64_t)d2[0] != r->n
        || (int64_t)d3[0] != r->n || d3[2] != d3[1])
        goto fail;

    const size_t n = (size_t)r->n, ne = n * (size_t)r->max_epochs;
    r->configs = pf_calloc(n ? n : 1, sizeof *r->configs);
    for (size_t i = 0; i < n; i++) config_defaults(&r->configs[i].cfg);
    what = "/configs";
    if (n > 0 && read_table(file, "configs", t.cfg_mem, r->configs) < 0) goto fail;
    r->rows = pf_calloc(n ? n : 1, sizeof *r->rows);
    what = "/results";
    if (n > 0 && read_table(file, "results", t.row_mem, r->rows) < 0) goto fail;
    terminate_strings(r);
    if (store_validate(r, path, r->data_checksums, err) != 0) {
        what = NULL;
        goto fail;
    }
    if (!everything) goto done;

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
    if (read_dims(file, "runs", 1, d1) < 0 || d1[0] > (hsize_t)PF_STORE_MAX_CONFIGS) goto fail;
    r->nruns = (int64_t)d1[0];
    r->runs = pf_calloc(r->nruns ? (size_t)r->nruns : 1, sizeof *r->runs);
    if (r->nruns > 0 && read_all(file, "runs", t.run_mem, r->runs) < 0) goto fail;
    for (int64_t i = 0; i < r->nruns; i++) r->runs[i].ended[sizeof r->runs[i].ended - 1] = '\0';
    /* /ranks: every rank of every run that started. */
    what = "/ranks";
    if (read_dims(file, "ranks", 1, d1) < 0 || d1[0] > (hsize_t)PF_STORE_MAX_CONFIGS) goto fail;
    r->nrank_rows = (int64_t)d1[0];
    r->rank_rows = pf_calloc(r->nrank_rows ? (size_t)r->nrank_rows : 1, sizeof *r->rank_rows);
    if (r->nrank_rows > 0 && read_all(file, "ranks", t.rank_mem, r->rank_rows) < 0) goto fail;
    for (int64_t i = 0; i < r->nrank_rows; i++) r->rank_rows[i].host[PF_HOST_LEN - 1] = '\0';

done:
    free(id);
    store_types_close(&t);
    H5Fclose(file);
    return 0;
fail:
    if (what != NULL)
        pf_error_set(err, PF_ERR_CORRUPT, "%s: cannot read %s of the results file (damaged?)", path, what);
    free(id);
    store_types_close(&t);
    H5Fclose(file);
    store_results_free(r);
    return -1;
}

int store_load(const char *path, pf_results *r, pf_error *err) { return load(path, r, 1, err); }

int store_load_tables(const char *path, pf_results *r, pf_error *err) { return load(path, r, 0, err); }
