/* fuzz_cifar.c -- libFuzzer harness of the CIFAR readers: a binary batch read as training records
 * (3073-byte CIFAR-10 records, or 3074-byte CIFAR-100 ones with the coarse label) and the class-name
 * files, exactly as dataset_load reads them. Input: byte 0 (bit 0: CIFAR-100, bit 1: a names file
 * instead of a batch, bit 2: checksums), then the file. Accepted data must be what the reader
 * promises (whole records, labels in range, the right number of names); refused data a one-line
 * error. */
#include "../../src/data_internal.h"
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init_dir("fuzz-cifar");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (n < 1) return 0;
    const int c100 = d[0] & 1, names = d[0] & 2;
    const unsigned flags = (d[0] & 4) ? PF_LOAD_CHECKSUMS : 0;
    pf_dataset ds;
    dataset_describe(c100 ? PF_DS_CIFAR100 : PF_DS_CIFAR10, &ds);
    snprintf(ds.dir, sizeof ds.dir, "%s", fz_dir);
    pf_error err = {0};
    if (names) {
        const int expect = c100 ? 100 : 10;
        fz_write("names.txt", d + 1, n - 1);
        if (data_read_class_names(&ds, "names.txt", expect, flags, &err) == 0) {
            for (int i = 0; i < expect; i++) {
                size_t len = strnlen(ds.class_names[i], sizeof ds.class_names[i]);
                FZ_REQUIRE(len >= 1 && len < sizeof ds.class_names[i]);
            }
        } else {
            FZ_ONE_LINE(err);
        }
        return 0;
    }
    const char *path = fz_write("batch.bin", d + 1, n - 1);
    if (data_read_cifar_train(&ds, path, flags, &err) == 0) {
        FZ_REQUIRE(ds.train.n >= 1 && ds.train.n <= ds.train_official_n);
        FZ_REQUIRE((size_t)ds.train.n * (size_t)(3073 + c100) == n - 1);
        for (int32_t i = 0; i < ds.train.n; i++) {
            FZ_REQUIRE(ds.train.labels[i] < ds.k);
            if (c100) FZ_REQUIRE(ds.train.coarse[i] < 20);
        }
    } else {
        FZ_ONE_LINE(err);
    }
    dataset_free(&ds);
    return 0;
}
