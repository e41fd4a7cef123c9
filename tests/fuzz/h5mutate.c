/* h5mutate.c -- value-level changes to an HDF5 file through its API (h5mutate.h). */
#include "h5mutate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The file type of dataset d's member (or of d itself when member is NULL); -1 when none. */
static hid_t member_type(hid_t d, const char *member)
{
    hid_t t = H5Dget_type(d);
    if (t < 0) return -1;
    if (member == NULL) return t;
    hid_t m = -1;
    if (H5Tget_class(t) == H5T_COMPOUND) {
        int i = H5Tget_member_index(t, member);
        if (i >= 0) m = H5Tget_member_type(t, (unsigned)i);
    }
    H5Tclose(t);
    return m;
}

int h5m_set_raw(hid_t file, const char *dset, uint64_t index, const char *member, const void *bytes, size_t n)
{
    int rc = -1;
    hid_t d = -1, mt = -1, mem = -1, fsp = -1, msp = -1;
    unsigned char buf[4096];
    H5E_BEGIN_TRY { d = H5Dopen2(file, dset, H5P_DEFAULT); } H5E_END_TRY;
    if (d < 0) goto cleanup;
    if ((mt = member_type(d, member)) < 0) goto cleanup;
    size_t size = H5Tget_size(mt);
    if (size == 0 || size > sizeof buf) goto cleanup;
    memset(buf, 0, size);
    memcpy(buf, bytes, n < size ? n : size);
    if (member != NULL) {
        mem = H5Tcreate(H5T_COMPOUND, size);
        if (mem < 0 || H5Tinsert(mem, member, 0, mt) < 0) goto cleanup;
    } else {
        mem = H5Tcopy(mt);
    }
    fsp = H5Dget_space(d);
    int nd = H5Sget_simple_extent_ndims(fsp);
    hsize_t dims[8], coord[8];
    if (nd < 0 || nd > 8 || H5Sget_simple_extent_dims(fsp, dims, NULL) < 0) goto cleanup;
    uint64_t total = 1;
    for (int i = 0; i < nd; i++) total *= dims[i];
    if (index >= total) goto cleanup;
    uint64_t rest = index;
    for (int i = nd - 1; i >= 0; i--) {
        coord[i] = rest % dims[i];
        rest /= dims[i];
    }
    if (nd == 0) {
        if (H5Sselect_all(fsp) < 0) goto cleanup;
    } else if (H5Sselect_elements(fsp, H5S_SELECT_SET, 1, coord) < 0) {
        goto cleanup;
    }
    hsize_t one = 1;
    msp = H5Screate_simple(1, &one, NULL);
    rc = H5Dwrite(d, mem, msp, fsp, H5P_DEFAULT, buf) < 0 ? -1 : 0;
cleanup:
    if (msp >= 0) H5Sclose(msp);
    if (fsp >= 0) H5Sclose(fsp);
    if (mem >= 0) H5Tclose(mem);
    if (mt >= 0) H5Tclose(mt);
    if (d >= 0) H5Dclose(d);
    return rc;
}

/* Encodes text as the bytes of file type t into buf; returns their number, or 0. */
static size_t encode(hid_t t, const char *text, unsigned char *buf, size_t cap)
{
    size_t size = H5Tget_size(t);
    if (size == 0 || size > cap) return 0;
    memset(buf, 0, size);
    switch (H5Tget_class(t)) {
    case H5T_INTEGER:
    case H5T_ENUM: {
        long long v = strtoll(text, NULL, 0);
        unsigned long long u = (unsigned long long)v;
        for (size_t i = 0; i < size && i < 8; i++) buf[i] = (unsigned char)(u >> (8 * i));
        return size;
    }
    case H5T_FLOAT: {
        double x = strtod(text, NULL);
        if (size == 8) {
            memcpy(buf, &x, 8); /* little-endian hosts only: the file types are little-endian */
        } else if (size == 4) {
            float f = (float)x;
            memcpy(buf, &f, 4);
        } else {
            return 0;
        }
        return size;
    }
    case H5T_STRING: memcpy(buf, text, strlen(text) < size ? strlen(text) : size); return size;
    default: return 0;
    }
}

int h5m_set_text(hid_t file, const char *dset, uint64_t index, const char *member, const char *text)
{
    hid_t d = -1;
    H5E_BEGIN_TRY { d = H5Dopen2(file, dset, H5P_DEFAULT); } H5E_END_TRY;
    if (d < 0) return -1;
    hid_t t = member_type(d, member);
    H5Dclose(d);
    if (t < 0) return -1;
    unsigned char buf[4096];
    size_t n = encode(t, text, buf, sizeof buf);
    H5Tclose(t);
    if (n == 0) return -1;
    return h5m_set_raw(file, dset, index, member, buf, n);
}

int h5m_set_attr(hid_t file, const char *name, const char *text)
{
    hid_t a = -1;
    H5E_BEGIN_TRY { a = H5Aopen(file, name, H5P_DEFAULT); } H5E_END_TRY;
    if (a < 0) return -1;
    hid_t t = H5Aget_type(a);
    int rc = -1;
    if (H5Tget_class(t) == H5T_STRING) {
        H5Aclose(a);
        H5Tclose(t);
        if (H5Adelete(file, name) < 0) return -1;
        hid_t st = H5Tcopy(H5T_C_S1);
        H5Tset_size(st, strlen(text) + 1);
        hid_t sp = H5Screate(H5S_SCALAR);
        a = H5Acreate2(file, name, st, sp, H5P_DEFAULT, H5P_DEFAULT);
        rc = a >= 0 && H5Awrite(a, st, text) >= 0 ? 0 : -1;
        if (a >= 0) H5Aclose(a);
        H5Sclose(sp);
        H5Tclose(st);
        return rc;
    }
    unsigned char buf[64];
    size_t n = encode(t, text, buf, sizeof buf);
    if (n > 0) rc = H5Awrite(a, t, buf) < 0 ? -1 : 0;
    H5Tclose(t);
    H5Aclose(a);
    return rc;
}

int h5m_remove(hid_t file, const char *name)
{
    herr_t e;
    H5E_BEGIN_TRY {
        e = name[0] == '@' ? H5Adelete(file, name + 1) : H5Ldelete(file, name, H5P_DEFAULT);
    } H5E_END_TRY;
    return e < 0 ? -1 : 0;
}

int h5m_members(hid_t file, const char *dset)
{
    hid_t d = -1;
    H5E_BEGIN_TRY { d = H5Dopen2(file, dset, H5P_DEFAULT); } H5E_END_TRY;
    if (d < 0) return -1;
    hid_t t = H5Dget_type(d);
    int n = H5Tget_class(t) == H5T_COMPOUND ? H5Tget_nmembers(t) : 0;
    H5Tclose(t);
    H5Dclose(d);
    return n;
}

int h5m_member_name(hid_t file, const char *dset, int i, char *out, size_t size)
{
    hid_t d = -1;
    H5E_BEGIN_TRY { d = H5Dopen2(file, dset, H5P_DEFAULT); } H5E_END_TRY;
    if (d < 0) return -1;
    hid_t t = H5Dget_type(d);
    int rc = -1;
    if (H5Tget_class(t) == H5T_COMPOUND && i >= 0 && i < H5Tget_nmembers(t)) {
        char *name = H5Tget_member_name(t, (unsigned)i);
        if (name != NULL) {
            snprintf(out, size, "%s", name);
            H5free_memory(name);
            rc = 0;
        }
    }
    H5Tclose(t);
    H5Dclose(d);
    return rc;
}

int64_t h5m_elements(hid_t file, const char *dset)
{
    hid_t d = -1;
    H5E_BEGIN_TRY { d = H5Dopen2(file, dset, H5P_DEFAULT); } H5E_END_TRY;
    if (d < 0) return -1;
    hid_t sp = H5Dget_space(d);
    int64_t n = (int64_t)H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    H5Dclose(d);
    return n;
}
