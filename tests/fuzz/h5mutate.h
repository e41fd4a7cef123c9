/* h5mutate.h -- changes values inside a results file through the HDF5 API (never its bytes): one
 * member of one row of a compound table (/configs, /results, /runs, /ranks, /suspects), one element
 * of a numeric dataset (/history/..., /confusion, /transitions), a root attribute, or a whole
 * object removed. For tests/fuzz/fuzz_results.c and the h5poke tool of the integration tests:
 * byte-level damage mostly finds faults inside HDF5 itself, which poisonfarm cannot fix; value-level
 * damage is what a reader of poisonfarm must survive. Serial HDF5, no MPI. */
#ifndef POISONFARM_H5MUTATE_H
#define POISONFARM_H5MUTATE_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

/* Writes raw bytes (little-endian, the file's own type: an enum's integer, an IEEE double, a
 * string's characters) into member `member` of element `index` (the flat index over every
 * dimension) of dataset `dset`; member NULL for a dataset of a simple type. The bytes are
 * truncated or zero-padded to the member's size. 0, or -1 when there is no such dataset, member or
 * element. */
int h5m_set_raw(hid_t file, const char *dset, uint64_t index, const char *member, const void *bytes, size_t n);

/* The same from text: an integer for integer and enum members ("-1", "7"), a number for floating
 * point ones ("nan", "-1.1e-64"), the characters themselves for strings. */
int h5m_set_text(hid_t file, const char *dset, uint64_t index, const char *member, const char *text);

/* Rewrites a root attribute: numeric ones from text as above, strings replaced by text (a new
 * attribute of the same name). 0 or -1. */
int h5m_set_attr(hid_t file, const char *name, const char *text);

/* Removes an object (a dataset, a group) or a root attribute ("@name"). 0 or -1. */
int h5m_remove(hid_t file, const char *name);

/* The number of members of a compound dataset (0 for other types, -1 when missing), and the name
 * of member i (into out). */
int h5m_members(hid_t file, const char *dset);
int h5m_member_name(hid_t file, const char *dset, int i, char *out, size_t size);

/* The number of elements of a dataset (every dimension), -1 when missing. */
int64_t h5m_elements(hid_t file, const char *dset);

#endif
