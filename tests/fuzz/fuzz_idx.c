/* fuzz_idx.c -- libFuzzer harness of the IDX reader (MNIST, Fashion-MNIST; raw or gzip): an input is
 * a label file and an image file, read as a training split exactly as dataset_load reads one.
 * Input: byte 0 (bit 0: checksums, bit 1: Fashion-MNIST), bytes 1-2 the label file's length, then
 * the label file, then the image file. Accepted data must be what the reader promises (1 to 60000
 * items, labels below 10); refused data a one-line error. */
#include "../../src/data_internal.h"
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init_dir("fuzz-idx");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (n < 3) return 0;
    const unsigned flags = (d[0] & 1) ? PF_LOAD_CHECKSUMS : 0;
    const pf_dataset_id id = (d[0] & 2) ? PF_DS_FASHION_MNIST : PF_DS_MNIST;
    size_t nl = (size_t)d[1] << 8 | d[2];
    if (nl > n - 3) nl = n - 3;
    const char *labels = fz_write("train-labels-idx1-ubyte", d + 3, nl);
    const char *images = fz_write("train-images-idx3-ubyte", d + 3 + nl, n - 3 - nl);
    pf_dataset ds;
    dataset_describe(id, &ds);
    snprintf(ds.dir, sizeof ds.dir, "%s", fz_dir);
    pf_error err = {0};
    if (data_read_idx_train(&ds, images, labels, flags, &err) == 0) {
        FZ_REQUIRE(ds.train.n >= 1 && ds.train.n <= ds.train_official_n);
        for (int32_t i = 0; i < ds.train.n; i++) FZ_REQUIRE(ds.train.labels[i] < ds.k);
        FZ_REQUIRE(ds.train.images[(size_t)ds.train.n * 784 - 1] == ds.train.images[(size_t)ds.train.n * 784 - 1]);
        FZ_REQUIRE(ds.nfiles == 2);
        if (flags & PF_LOAD_CHECKSUMS) FZ_REQUIRE(strlen(ds.files[0].md5) == 32 && strlen(ds.files[1].md5) == 32);
    } else {
        FZ_ONE_LINE(err);
    }
    dataset_free(&ds);
    return 0;
}
