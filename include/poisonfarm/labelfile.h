/* labelfile.h -- label files for the poisoning mode `file`: labels that come from outside (real
 * annotators' noise, or any noise of one's own), one per training item in the training set's order.
 *
 * Format (docs/poisoning.md): plain text, one line per training item holding its label as a whole
 * number 0..K-1 in decimal (spaces or tabs around it are allowed, and so are CRLF line ends); a line
 * whose first non-blank character is '#' is a comment and does not count as an item. Nothing else:
 * an empty line is an error (a stray one would shift every label after it by one item). The file's
 * identity is its content: the first 64 bits of its SHA-256. */
#ifndef POISONFARM_LABELFILE_H
#define POISONFARM_LABELFILE_H

#include "poisonfarm/common.h"

#include <stdint.h>

/* Largest label file read (bytes): far above a 60000-item set's few hundred kilobytes. */
#define PF_LABEL_FILE_MAX_BYTES ((int64_t)64 << 20)

typedef struct {
    int64_t n;          /* labels read (items) */
    int64_t lines;      /* lines read, comments included */
    uint8_t *labels;    /* (n), owned */
    uint64_t hash;      /* the first 8 bytes of the file's SHA-256 read as a big-endian number: its
                           hex form is the first 16 digits sha256sum prints */
} pf_label_file;

/* Reads and checks path for a dataset of k classes (2 <= k <= 256). Returns 0 with *lf filled (free
 * with label_file_free), or -1 with a one-line error (PF_ERR_MISSING when the file is not there,
 * PF_ERR_CORRUPT otherwise) naming the file and, for a bad label, the line: "labels.txt:17: label
 * 12 is outside 0..9 (10 classes)". *lf is then zeroed. */
int label_file_read(const char *path, int k, pf_label_file *lf, pf_error *err);

/* Checks that lf (read from path) holds a label for each of n_used training items. 0, or -1 with an
 * error naming the file and the line where the missing label would be. */
int label_file_check_count(const pf_label_file *lf, const char *path, int64_t n_used, pf_error *err);

/* The 16 hex digits of a hash (out: 17 bytes). Returns out. */
char *label_file_hash_hex(uint64_t hash, char out[17]);

/* Frees what label_file_read allocated and zeroes *lf. NULL-safe. */
void label_file_free(pf_label_file *lf);

#endif
