/* data_internal.h -- the file readers of data.c one at a time, exactly as dataset_load uses them:
 * for the fuzz harnesses (tests/fuzz/) and the unit tests, which cannot afford an official test set
 * (10000 items) for every input. Private to the data module and its tests. */
#ifndef POISONFARM_DATA_INTERNAL_H
#define POISONFARM_DATA_INTERNAL_H

#include "poisonfarm/data.h"

/* Reads an IDX training pair (images, labels: raw or gzip) into ds->train, ds described by
 * dataset_describe (MNIST or Fashion-MNIST): 1 to the official number of items, 28x28, labels
 * below ds->k. 0, or -1 with a one-line err naming the file. Free with dataset_free. */
int data_read_idx_train(pf_dataset *ds, const char *images, const char *labels, unsigned flags, pf_error *err);

/* Reads one CIFAR binary file as training records into ds->train (ds described as CIFAR-10:
 * 3073-byte records, or CIFAR-100: 3074 with the coarse label): a whole number of records, at most
 * the official training set. 0, or -1 with err. */
int data_read_cifar_train(pf_dataset *ds, const char *path, unsigned flags, pf_error *err);

/* Reads a class-names file of ds's directory (one name per line, exactly `expect` of them) into
 * ds->class_names. 0, or -1 with err. */
int data_read_class_names(pf_dataset *ds, const char *file, int expect, unsigned flags, pf_error *err);

#endif
