/* test_data.c -- the dataset loaders: the real files under the data directory ($POISONFARM_DATA or
 * ./data; each case is skipped when its files are absent) and bad files made here in a temporary
 * directory. The CIFAR fixtures write a few 30 MB files (the official sizes are checked), so the
 * whole binary takes a couple of seconds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "poisonfarm/data.h"
#include "poisonfarm/poison.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define C10_REC 3073
#define C100_REC 3074

/* ---- helpers ---- */

static const char *real_dir(void)
{
    const char *env = getenv("POISONFARM_DATA");
    return env != NULL && env[0] != '\0' ? env : "data";
}

/* Loads a real dataset, or skips the test (with a message) when its files are absent. */
static void load_real(pf_dataset *ds, pf_dataset_id id, unsigned flags)
{
    pf_error err = {0};
    if (dataset_load(ds, id, real_dir(), flags, &err) != 0) {
        if (err.kind == PF_ERR_MISSING) {
            print_message("skipping %s: %s\n", dataset_name(id), err.msg);
            skip();
        }
        fail_msg("%s: %s", dataset_name(id), err.msg);
    }
}

static void md5_hex(const void *p, size_t n, char hex[33])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    assert_int_equal(EVP_Digest(p, n, d, &len, EVP_md5(), NULL), 1);
    for (unsigned i = 0; i < 16; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

static int64_t image_sum(const pf_dataset *ds, const pf_split *sp, int32_t i)
{
    int64_t s = 0, n = dataset_image_bytes(ds);
    for (int64_t j = 0; j < n; j++) s += sp->images[i * n + j];
    return s;
}

static void assert_first_labels(const pf_split *sp, const int *want)
{
    for (int i = 0; i < 10; i++) assert_int_equal(sp->labels[i], want[i]);
}

static void assert_class_counts(const pf_dataset *ds, const pf_split *sp, const int *want)
{
    int32_t counts[PF_MAX_CLASSES];
    dataset_count_classes(ds, sp, counts);
    for (int c = 0; c < ds->k; c++) assert_int_equal(counts[c], want[c]);
}

static void rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d != NULL && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            char sub[PF_PATH_MAX];
            if (pf_snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) == 0) rm_tree(sub);
        }
        if (d != NULL) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* A fresh DATA_DIR with the dataset's subdirectory, per test. */
typedef struct {
    char root[PF_PATH_MAX]; /* the data directory */
    char dir[PF_PATH_MAX];  /* root/<dataset> */
} fixture;

static void fixture_make(fixture *fx, pf_dataset_id id)
{
    snprintf(fx->root, sizeof fx->root, "%s/pf-data-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(fx->root));
    assert_int_equal(pf_snprintf(fx->dir, sizeof fx->dir, "%s/%s", fx->root, dataset_name(id)), 0);
    assert_int_equal(mkdir(fx->dir, 0755), 0);
}

static void fx_path(const fixture *fx, const char *name, char out[PF_PATH_MAX])
{
    assert_int_equal(pf_snprintf(out, PF_PATH_MAX, "%s/%s", fx->dir, name), 0);
}

/* Writes bytes to DIR/name, gzip-compressed when gz. */
static void write_file(const fixture *fx, const char *name, const void *p, size_t n, int gz)
{
    char path[PF_PATH_MAX];
    fx_path(fx, name, path);
    if (gz) {
        gzFile g = gzopen(path, "wb1");
        assert_non_null(g);
        if (n > 0) assert_int_equal(gzwrite(g, p, (unsigned)n), (int)n);
        assert_int_equal(gzclose(g), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        if (n > 0) assert_int_equal(fwrite(p, 1, n, f), n);
        assert_int_equal(fclose(f), 0);
    }
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Official-size test files written once per run (group setup) and linked into each fixture:
 * the CIFAR ones are 30 MB each. */
typedef struct {
    fixture fx;
} shared_files;

static void link_shared(const fixture *fx, void **state, const char *shared_name, const char *name)
{
    const shared_files *sh = *state;
    char src[PF_PATH_MAX], dst[PF_PATH_MAX];
    fx_path(&sh->fx, shared_name, src);
    fx_path(fx, name, dst);
    assert_int_equal(symlink(src, dst), 0);
}

/* IDX pixel of item i, byte j: a pattern the loader must reproduce. */
static unsigned char idx_pixel(int i, int j) { return (unsigned char)((i * 7 + j) & 255); }

typedef struct {
    uint32_t img_magic, lbl_magic;
    uint32_t n_img, n_lbl, rows, cols;
    long chop;          /* bytes removed from the end of the images file */
    int extra;          /* bytes added at the end of the images file */
    int bad_label_at;   /* -1, or the item whose label is 10 */
    int gz;
} idx_spec;

static idx_spec idx_ok(uint32_t n, int gz)
{
    idx_spec s = {0x803, 0x801, n, n, 28, 28, 0, 0, -1, gz};
    return s;
}

/* Writes PREFIX-images-idx3-ubyte and PREFIX-labels-idx1-ubyte (plus .gz when spec.gz). */
static void write_idx(const fixture *fx, const char *prefix, idx_spec s)
{
    size_t isz = 16 + (size_t)s.n_img * s.rows * s.cols + (size_t)s.extra;
    unsigned char *im = calloc(isz, 1), *lb = calloc(8 + (size_t)s.n_lbl, 1);
    assert_non_null(im);
    assert_non_null(lb);
    put_be32(im, s.img_magic), put_be32(im + 4, s.n_img), put_be32(im + 8, s.rows), put_be32(im + 12, s.cols);
    for (size_t j = 16; j < isz; j++) {
        size_t k = j - 16, per = (size_t)s.rows * s.cols;
        im[j] = idx_pixel((int)(k / per), (int)(k % per));
    }
    put_be32(lb, s.lbl_magic), put_be32(lb + 4, s.n_lbl);
    for (uint32_t i = 0; i < s.n_lbl; i++) lb[8 + i] = (unsigned char)((int)i == s.bad_label_at ? 10 : i % 10);
    char name[64];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte%s", prefix, s.gz ? ".gz" : "");
    write_file(fx, name, im, isz - (size_t)s.chop, s.gz);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte%s", prefix, s.gz ? ".gz" : "");
    write_file(fx, name, lb, 8 + (size_t)s.n_lbl, s.gz);
    free(im);
    free(lb);
}

/* A valid official-size IDX test set (gzip: small on disk), linked from the shared files. */
static void write_idx_test(const fixture *fx, void **state)
{
    link_shared(fx, state, "t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz");
    link_shared(fx, state, "t10k-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz");
}

/* Loads the fixture's dataset, expecting failure of `kind` with a message containing each of the
 * given strings (NULL-terminated). */
static void expect_error(const fixture *fx, pf_dataset_id id, pf_err_kind kind, ...)
{
    pf_dataset ds;
    pf_error err = {0};
    assert_int_equal(dataset_load(&ds, id, fx->root, PF_LOAD_CHECKSUMS, &err), -1);
    print_message("    error (expected): %s\n", err.msg);
    assert_int_equal(err.kind, kind);
    assert_null(strchr(err.msg, '\n'));
    va_list ap;
    va_start(ap, kind);
    for (const char *want = va_arg(ap, const char *); want != NULL; want = va_arg(ap, const char *))
        if (strstr(err.msg, want) == NULL) fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
    va_end(ap);
    assert_null(ds.train.images);
    assert_null(ds.test.images);
    dataset_free(&ds);
}

/* ---- the real files ---- */

static void real_mnist(void **state)
{
    (void)state;
    pf_dataset ds;
    load_real(&ds, PF_DS_MNIST, PF_LOAD_CHECKSUMS);
    assert_int_equal(ds.train.n, 60000);
    assert_int_equal(ds.test.n, 10000);
    assert_int_equal(ds.c * ds.h * ds.w, 784);
    assert_int_equal(ds.partial, 0);
    assert_null(ds.train.coarse);
    assert_first_labels(&ds.train, (const int[]){5, 0, 4, 1, 9, 2, 1, 3, 1, 4});
    assert_first_labels(&ds.test, (const int[]){7, 2, 1, 0, 4, 1, 4, 9, 5, 9});
    assert_class_counts(&ds, &ds.train, (const int[]){5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949});
    assert_class_counts(&ds, &ds.test, (const int[]){980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009});
    char hex[33];
    md5_hex(ds.train.images, 784, hex);
    assert_string_equal(hex, "2ce86e4daeeff3a0cdebce6897c784ba");
    assert_int_equal(image_sum(&ds, &ds.train, 0), 27525);
    assert_int_equal(ds.train.images[14 * 28 + 14], 240);
    assert_int_equal(image_sum(&ds, &ds.test, 0), 18454);
    assert_int_equal(ds.nfiles, 4);
    for (int i = 0; i < ds.nfiles; i++) assert_int_equal(ds.files[i].official, 1);
    int32_t used;
    pf_error err = {0};
    assert_int_equal(dataset_check_subset(&ds, 0, &used, &err), 0);
    assert_int_equal(used, 60000);
    assert_int_equal(dataset_check_subset(&ds, 1000, &used, &err), 0);
    assert_int_equal(used, 1000);
    dataset_free(&ds);
    assert_null(ds.train.images);
}

static void real_fashion_mnist(void **state)
{
    (void)state;
    pf_dataset ds;
    load_real(&ds, PF_DS_FASHION_MNIST, PF_LOAD_CHECKSUMS);
    assert_int_equal(ds.train.n, 60000);
    assert_int_equal(ds.test.n, 10000);
    assert_int_equal(ds.partial, 0);
    assert_first_labels(&ds.train, (const int[]){9, 0, 0, 3, 0, 2, 7, 2, 5, 5});
    assert_first_labels(&ds.test, (const int[]){9, 2, 1, 1, 6, 1, 4, 6, 5, 7});
    int each[10];
    for (int c = 0; c < 10; c++) each[c] = 6000;
    assert_class_counts(&ds, &ds.train, each);
    for (int c = 0; c < 10; c++) each[c] = 1000;
    assert_class_counts(&ds, &ds.test, each);
    char hex[33];
    md5_hex(ds.train.images, 784, hex);
    assert_string_equal(hex, "4faf81e309af5194c477affdbefc6116");
    assert_int_equal(image_sum(&ds, &ds.test, 0), 33456);
    assert_string_equal(ds.class_names[9], "Ankle boot");
    /* The Debian package's .gz files are recompressed; their contents are the official ones. */
    for (int i = 0; i < ds.nfiles; i++) assert_int_equal(ds.files[i].official, 1);
    dataset_free(&ds);
}

static void real_cifar10(void **state)
{
    (void)state;
    pf_dataset ds;
    load_real(&ds, PF_DS_CIFAR10, PF_LOAD_CHECKSUMS);
    assert_int_equal(ds.c * ds.h * ds.w, 3072);
    assert_int_equal(ds.test.n, 10000);
    assert_int_equal(ds.train.n % 10000, 0);
    assert_first_labels(&ds.train, (const int[]){6, 9, 9, 4, 1, 1, 2, 7, 8, 3});
    assert_first_labels(&ds.test, (const int[]){3, 8, 8, 0, 6, 6, 1, 6, 3, 1});
    /* The first 10000 training items are data_batch_1.bin. */
    int32_t counts[10];
    pf_split batch1 = ds.train;
    batch1.n = 10000;
    dataset_count_classes(&ds, &batch1, counts);
    const int want1[10] = {1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981};
    for (int c = 0; c < 10; c++) assert_int_equal(counts[c], want1[c]);
    int each[10];
    for (int c = 0; c < 10; c++) each[c] = 1000;
    assert_class_counts(&ds, &ds.test, each);
    /* (C, H, W): the frog's top-left pixel is R 59, G 62, B 63. */
    assert_int_equal(ds.train.images[0], 59);
    assert_int_equal(ds.train.images[1024], 62);
    assert_int_equal(ds.train.images[2048], 63);
    char hex[33];
    md5_hex(ds.train.images, 3072, hex);
    assert_string_equal(hex, "564903faacb68848fabcb0f46460d2b5");
    assert_int_equal(image_sum(&ds, &ds.test, 0), 332962);
    assert_string_equal(ds.class_names[0], "airplane");
    assert_string_equal(ds.class_names[9], "truck");
    assert_int_equal(ds.partial, ds.train.n < 50000);
    int32_t used;
    pf_error err = {0};
    if (ds.partial) {
        assert_non_null(strstr(ds.partial_hint, "data_batch_"));
        assert_int_equal(dataset_check_subset(&ds, ds.train.n + 1, &used, &err), -1);
        assert_int_equal(err.kind, PF_ERR_MISSING);
        assert_non_null(strstr(err.msg, "data_batch_"));
    }
    /* Every batch's md5 is recorded (whichever source it came from: archive, npm PNGs, mirror). */
    for (int i = 0; i < ds.nfiles; i++)
        if (strstr(ds.files[i].path, ".bin") != NULL) assert_int_equal(ds.files[i].official, 1);
    dataset_free(&ds);
}

static void real_cifar100(void **state)
{
    (void)state;
    pf_dataset ds;
    load_real(&ds, PF_DS_CIFAR100, PF_LOAD_CHECKSUMS);
    assert_int_equal(ds.k, 100);
    assert_int_equal(ds.test.n, 10000);
    assert_first_labels(&ds.train, (const int[]){19, 29, 0, 11, 1, 86, 90, 28, 23, 31});
    assert_first_labels(&ds.test, (const int[]){49, 33, 72, 51, 71, 92, 15, 14, 23, 0});
    const int coarse[10] = {11, 15, 4, 14, 1, 5, 18, 3, 10, 11};
    for (int i = 0; i < 10; i++) assert_int_equal(ds.train.coarse[i], coarse[i]);
    /* The superclass table of the asymmetric noise (poison.h) is the data's own, record by record. */
    for (int32_t i = 0; i < ds.train.n; i++)
        assert_int_equal(poison_cifar100_coarse[ds.train.labels[i]], ds.train.coarse[i]);
    for (int32_t i = 0; i < ds.test.n; i++)
        assert_int_equal(poison_cifar100_coarse[ds.test.labels[i]], ds.test.coarse[i]);
    assert_int_equal(ds.test.coarse[0], 10);
    int each[100];
    for (int c = 0; c < 100; c++) each[c] = 100;
    assert_class_counts(&ds, &ds.test, each);
    char hex[33];
    md5_hex(ds.train.images, 3072, hex);
    assert_string_equal(hex, "58ea78abb4f30d48e42fc5d25239ba10");
    assert_int_equal(image_sum(&ds, &ds.test, 0), 559205);
    assert_string_equal(ds.class_names[0], "apple");
    assert_string_equal(ds.class_names[99], "worm");
    assert_int_equal(ds.ncoarse_names, 20);
    assert_string_equal(ds.coarse_names[0], "aquatic_mammals");
    assert_int_equal(ds.partial, ds.train.n < 50000);
    if (ds.partial) {
        int32_t used;
        pf_error err = {0};
        assert_non_null(strstr(ds.partial_hint, "train.bin"));
        assert_int_equal(dataset_check_subset(&ds, 50000, &used, &err), -1);
        assert_non_null(strstr(err.msg, "train.bin"));
        for (int i = 0; i < ds.nfiles; i++)
            if (strstr(ds.files[i].path, "train.bin") != NULL) assert_int_equal(ds.files[i].official, 0);
    }
    dataset_free(&ds);
}

static void real_test_only(void **state)
{
    (void)state;
    pf_dataset ds;
    load_real(&ds, PF_DS_CIFAR10, PF_LOAD_TEST_ONLY);
    assert_int_equal(ds.train.n, 0);
    assert_null(ds.train.images);
    assert_int_equal(ds.test.n, 10000);
    assert_string_equal(ds.files[0].md5, ""); /* no checksums asked for */
    dataset_free(&ds);
}

/* ---- IDX fixtures ---- */

static void idx_fixture_loads(void **state)
{
    (void)state;
    for (int gz = 0; gz <= 1; gz++) {
        fixture fx;
        fixture_make(&fx, PF_DS_MNIST);
        write_idx_test(&fx, state);
        write_idx(&fx, "train", idx_ok(50, gz));
        pf_dataset ds;
        pf_error err = {0};
        assert_int_equal(dataset_load(&ds, PF_DS_MNIST, fx.root, PF_LOAD_CHECKSUMS, &err), 0);
        assert_int_equal(ds.train.n, 50);
        assert_int_equal(ds.test.n, 10000);
        assert_int_equal(ds.partial, 1);
        assert_non_null(strstr(ds.partial_hint, "50 of 60000"));
        for (int i = 0; i < 50; i++) assert_int_equal(ds.train.labels[i], i % 10);
        for (int j = 0; j < 784; j += 97) assert_int_equal(ds.train.images[49 * 784 + j], idx_pixel(49, j));
        /* Not the official files: their md5s differ from the recorded ones. */
        for (int i = 0; i < ds.nfiles; i++) {
            assert_int_equal(strlen(ds.files[i].md5), 32);
            assert_int_equal(ds.files[i].official, 0);
        }
        int32_t used;
        assert_int_equal(dataset_check_subset(&ds, 51, &used, &err), -1);
        assert_non_null(strstr(err.msg, "train-images-idx3-ubyte"));
        assert_int_equal(dataset_check_subset(&ds, 50, &used, &err), 0);
        assert_int_equal(used, 50);
        dataset_free(&ds);
        rm_tree(fx.root);
    }
}

/* One bad training set per call, both raw and gzip. */
static void idx_bad(void **state, idx_spec s, pf_err_kind kind, const char *file, const char *what)
{
    for (int gz = 0; gz <= 1; gz++) {
        fixture fx;
        fixture_make(&fx, PF_DS_FASHION_MNIST);
        write_idx_test(&fx, state);
        s.gz = gz;
        write_idx(&fx, "train", s);
        expect_error(&fx, PF_DS_FASHION_MNIST, kind, file, what, "run make data", NULL);
        rm_tree(fx.root);
    }
}

static void idx_truncated(void **state)
{
    (void)state;
    idx_spec s = idx_ok(40, 0);
    s.chop = 100;
    idx_bad(state, s, PF_ERR_CORRUPT, "train-images-idx3-ubyte", "truncated");
}

static void idx_trailing_bytes(void **state)
{
    (void)state;
    idx_spec s = idx_ok(40, 0);
    s.extra = 3;
    idx_bad(state, s, PF_ERR_CORRUPT, "train-images-idx3-ubyte", "after");
}

static void idx_wrong_magic(void **state)
{
    (void)state;
    idx_spec s = idx_ok(40, 0);
    s.img_magic = 0x801;
    idx_bad(state, s, PF_ERR_CORRUPT, "train-images-idx3-ubyte", "magic");
    s = idx_ok(40, 0);
    s.lbl_magic = 0x803;
    idx_bad(state, s, PF_ERR_CORRUPT, "train-labels-idx1-ubyte", "magic");
}

static void idx_wrong_dims(void **state)
{
    (void)state;
    idx_spec s = idx_ok(40, 0);
    s.rows = 32;
    idx_bad(state, s, PF_ERR_CORRUPT, "train-images-idx3-ubyte", "32x28");
}

static void idx_label_out_of_range(void **state)
{
    (void)state;
    idx_spec s = idx_ok(40, 0);
    s.bad_label_at = 17;
    idx_bad(state, s, PF_ERR_CORRUPT, "train-labels-idx1-ubyte", "label 10 of item 17");
}

static void idx_count_mismatch(void **state)
{
    (void)state;
    idx_spec s = idx_ok(40, 0);
    s.n_lbl = 39;
    idx_bad(state, s, PF_ERR_CORRUPT, "40 images", "39 labels");
}

static void idx_too_many_items(void **state)
{
    (void)state;
    fixture fx;
    fixture_make(&fx, PF_DS_MNIST);
    write_idx(&fx, "t10k", idx_ok(9999, 1));
    write_idx(&fx, "train", idx_ok(10, 0));
    expect_error(&fx, PF_DS_MNIST, PF_ERR_CORRUPT, "t10k-images-idx3-ubyte", "9999", "10000", NULL);
    rm_tree(fx.root);
}

static void idx_empty_file(void **state)
{
    (void)state;
    for (int gz = 0; gz <= 1; gz++) {
        fixture fx;
        fixture_make(&fx, PF_DS_MNIST);
        write_idx_test(&fx, state);
        write_idx(&fx, "train", idx_ok(10, gz));
        write_file(&fx, gz ? "train-labels-idx1-ubyte.gz" : "train-labels-idx1-ubyte", "", 0, gz);
        expect_error(&fx, PF_DS_MNIST, PF_ERR_CORRUPT, "train-labels-idx1-ubyte", "empty", NULL);
        rm_tree(fx.root);
    }
}

static void idx_damaged_gzip(void **state)
{
    (void)state;
    fixture fx;
    fixture_make(&fx, PF_DS_MNIST);
    write_idx_test(&fx, state);
    write_idx(&fx, "train", idx_ok(300, 1));
    /* Cut the compressed images file in half: a truncated gzip stream. */
    char path[PF_PATH_MAX];
    fx_path(&fx, "train-images-idx3-ubyte.gz", path);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size / 2), 0);
    expect_error(&fx, PF_DS_MNIST, PF_ERR_CORRUPT, "train-images-idx3-ubyte.gz", NULL);
    rm_tree(fx.root);
}

static void idx_missing(void **state)
{
    (void)state;
    fixture fx;
    fixture_make(&fx, PF_DS_MNIST);
    expect_error(&fx, PF_DS_MNIST, PF_ERR_MISSING, "t10k-images-idx3-ubyte", "run make data", "npm", NULL);
    write_idx_test(&fx, state);
    expect_error(&fx, PF_DS_MNIST, PF_ERR_MISSING, "no training files", NULL);
    /* Test set only: loads with PF_LOAD_TEST_ONLY. */
    pf_dataset ds;
    pf_error err = {0};
    assert_int_equal(dataset_load(&ds, PF_DS_MNIST, fx.root, PF_LOAD_TEST_ONLY, &err), 0);
    assert_int_equal(ds.train.n, 0);
    assert_int_equal(ds.test.n, 10000);
    dataset_free(&ds);
    /* Images without labels. */
    write_idx(&fx, "train", idx_ok(10, 0));
    char path[PF_PATH_MAX];
    fx_path(&fx, "train-labels-idx1-ubyte", path);
    assert_int_equal(unlink(path), 0);
    expect_error(&fx, PF_DS_MNIST, PF_ERR_MISSING, "no train-labels-idx1-ubyte", NULL);
    rm_tree(fx.root);
    /* Fashion-MNIST's hint names the Debian package. */
    fixture_make(&fx, PF_DS_FASHION_MNIST);
    expect_error(&fx, PF_DS_FASHION_MNIST, PF_ERR_MISSING, "dataset-fashion-mnist", NULL);
    rm_tree(fx.root);
    /* No directory at all. */
    expect_error(&fx, PF_DS_FASHION_MNIST, PF_ERR_MISSING, "make data", NULL);
}

/* ---- CIFAR fixtures ---- */

/* A CIFAR file of n records: fine/CIFAR-10 label i % k, coarse i % 20, pixels a pattern; record
 * bad_at (-1: none) gets label bad_label and, for CIFAR-100, coarse label bad_coarse. */
static void write_cifar(const fixture *fx, const char *name, int rec, int n, int bad_at, int bad_label, int bad_coarse)
{
    size_t size = (size_t)n * rec;
    unsigned char *b = malloc(size > 0 ? size : 1);
    assert_non_null(b);
    for (int i = 0; i < n; i++) {
        unsigned char *r = b + (size_t)i * rec;
        if (rec == C100_REC) r[0] = (unsigned char)(i == bad_at ? bad_coarse : i % 20);
        r[rec - 3073] = (unsigned char)(i == bad_at ? bad_label : i % (rec == C100_REC ? 100 : 10));
        for (int j = 0; j < 3072; j++) r[rec - 3072 + j] = (unsigned char)((i + 3 * j) & 255);
    }
    write_file(fx, name, b, size, 0);
    free(b);
}

static void write_text(const fixture *fx, const char *name, const char *text)
{
    write_file(fx, name, text, strlen(text), 0);
}

static const char cifar10_meta[] =
    "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n";

/* CIFAR-10 test_batch.bin + data_batch_1.bin (both official size, the same shared file) + names. */
static void cifar10_fixture(fixture *fx, void **state)
{
    fixture_make(fx, PF_DS_CIFAR10);
    link_shared(fx, state, "cifar10.bin", "test_batch.bin");
    link_shared(fx, state, "cifar10.bin", "data_batch_1.bin");
    write_text(fx, "batches.meta.txt", cifar10_meta);
}

static void cifar10_fixture_loads(void **state)
{
    (void)state;
    fixture fx;
    cifar10_fixture(&fx, state);
    pf_dataset ds;
    pf_error err = {0};
    assert_int_equal(dataset_load(&ds, PF_DS_CIFAR10, fx.root, PF_LOAD_CHECKSUMS, &err), 0);
    assert_int_equal(ds.train.n, 10000);
    assert_int_equal(ds.partial, 1);
    assert_string_equal(ds.partial_hint, "10000 of 50000 training items: add data_batch_2.bin .. data_batch_5.bin");
    assert_int_equal(ds.train.labels[9999], 9999 % 10);
    assert_int_equal(ds.train.images[(size_t)77 * 3072 + 2000], (77 + 3 * 2000) & 255);
    assert_string_equal(ds.class_names[6], "frog");
    assert_int_equal(ds.nfiles, 3);
    int32_t used;
    assert_int_equal(dataset_check_subset(&ds, 20000, &used, &err), -1);
    assert_int_equal(err.kind, PF_ERR_MISSING);
    assert_non_null(strstr(err.msg, "needs data_batch_2.bin in"));
    assert_int_equal(dataset_check_subset(&ds, 30000, &used, &err), -1);
    assert_non_null(strstr(err.msg, "data_batch_2.bin .. data_batch_3.bin"));
    assert_int_equal(dataset_check_subset(&ds, 60000, &used, &err), -1);
    assert_int_equal(err.kind, PF_ERR_USAGE);
    assert_int_equal(dataset_check_subset(&ds, 10000, &used, &err), 0);
    assert_int_equal(used, 10000);
    dataset_free(&ds);

    /* A second batch (a copy of the first) makes 20000 items in order. */
    link_shared(&fx, state, "cifar10.bin", "data_batch_2.bin");
    assert_int_equal(dataset_load(&ds, PF_DS_CIFAR10, fx.root, 0, &err), 0);
    assert_int_equal(ds.train.n, 20000);
    assert_non_null(strstr(ds.partial_hint, "add data_batch_3.bin .. data_batch_5.bin"));
    assert_int_equal(ds.train.labels[10003], 3);
    dataset_free(&ds);

    /* A gap: batch 4 without batch 3. */
    link_shared(&fx, state, "cifar10.bin", "data_batch_4.bin");
    expect_error(&fx, PF_DS_CIFAR10, PF_ERR_MISSING, "data_batch_3.bin is missing", "although data_batch_4.bin is there", NULL);
    rm_tree(fx.root);
}

static void cifar10_bad_sizes(void **state)
{
    (void)state;
    fixture fx;
    cifar10_fixture(&fx, state);
    write_cifar(&fx, "data_batch_2.bin", C10_REC, 3, -1, 0, 0);
    expect_error(&fx, PF_DS_CIFAR10, PF_ERR_CORRUPT, "data_batch_2.bin", "holds 3 records, expected 10000", NULL);
    char path[PF_PATH_MAX];
    fx_path(&fx, "data_batch_2.bin", path);
    assert_int_equal(truncate(path, 3 * C10_REC - 5), 0);
    expect_error(&fx, PF_DS_CIFAR10, PF_ERR_CORRUPT, "data_batch_2.bin", "expected 3073-byte records", "run make data",
                 NULL);
    assert_int_equal(truncate(path, 0), 0);
    expect_error(&fx, PF_DS_CIFAR10, PF_ERR_CORRUPT, "data_batch_2.bin", "empty", NULL);
    rm_tree(fx.root);
}

static void cifar10_label_out_of_range(void **state)
{
    (void)state;
    fixture fx;
    fixture_make(&fx, PF_DS_CIFAR10);
    write_cifar(&fx, "data_batch_1.bin", C10_REC, 10000, 4321, 10, 0);
    link_shared(&fx, state, "cifar10.bin", "test_batch.bin");
    write_text(&fx, "batches.meta.txt", cifar10_meta);
    expect_error(&fx, PF_DS_CIFAR10, PF_ERR_CORRUPT, "data_batch_1.bin", "record 4321 has label 10", NULL);
    rm_tree(fx.root);
}

static void cifar10_names(void **state)
{
    (void)state;
    fixture fx;
    cifar10_fixture(&fx, state);
    char path[PF_PATH_MAX];
    fx_path(&fx, "batches.meta.txt", path);
    assert_int_equal(unlink(path), 0);
    expect_error(&fx, PF_DS_CIFAR10, PF_ERR_MISSING, "batches.meta.txt", "make data", NULL);
    write_text(&fx, "batches.meta.txt", "airplane\nautomobile\n\nbird\n");
    expect_error(&fx, PF_DS_CIFAR10, PF_ERR_CORRUPT, "batches.meta.txt", "3 class names, expected 10", NULL);
    /* Windows line ends and blank lines in between are fine. */
    assert_int_equal(unlink(path), 0);
    write_text(&fx, "batches.meta.txt", "\r\nairplane\r\nautomobile\r\nbird\r\ncat\r\n\r\ndeer\r\ndog\r\nfrog\r\nhorse\r\n"
                                        "ship\r\ntruck\r\n\r\n");
    pf_dataset ds;
    pf_error err = {0};
    assert_int_equal(dataset_load(&ds, PF_DS_CIFAR10, fx.root, 0, &err), 0);
    assert_string_equal(ds.class_names[4], "deer");
    assert_string_equal(ds.class_names[9], "truck");
    dataset_free(&ds);
    rm_tree(fx.root);
}

static void cifar10_missing(void **state)
{
    (void)state;
    fixture fx;
    fixture_make(&fx, PF_DS_CIFAR10);
    expect_error(&fx, PF_DS_CIFAR10, PF_ERR_MISSING, "no test_batch.bin", "cifar-10-binary.tar.gz", NULL);
    link_shared(&fx, state, "cifar10.bin", "test_batch.bin");
    expect_error(&fx, PF_DS_CIFAR10, PF_ERR_MISSING, "no training batch", NULL);
    rm_tree(fx.root);
}

static const char *cifar100_fine(void)
{
    static char text[2000];
    text[0] = '\0';
    for (int c = 0; c < 100; c++) {
        char line[32];
        snprintf(line, sizeof line, "fine%d\n%s", c, c % 10 == 0 ? "\n" : "");
        strcat(text, line);
    }
    return text;
}

static const char *cifar100_coarse(void)
{
    static char text[400];
    text[0] = '\0';
    for (int c = 0; c < 20; c++) {
        char line[32];
        snprintf(line, sizeof line, "coarse%d\n", c);
        strcat(text, line);
    }
    return text;
}

static void cifar100_fixture(fixture *fx, void **state, int ntrain)
{
    fixture_make(fx, PF_DS_CIFAR100);
    link_shared(fx, state, "cifar100.bin", "test.bin");
    write_cifar(fx, "train.bin", C100_REC, ntrain, -1, 0, 0);
    write_text(fx, "fine_label_names.txt", cifar100_fine());
    write_text(fx, "coarse_label_names.txt", cifar100_coarse());
}

static void cifar100_fixture_loads(void **state)
{
    (void)state;
    fixture fx;
    cifar100_fixture(&fx, state, 250);
    pf_dataset ds;
    pf_error err = {0};
    assert_int_equal(dataset_load(&ds, PF_DS_CIFAR100, fx.root, PF_LOAD_CHECKSUMS, &err), 0);
    assert_int_equal(ds.train.n, 250);
    assert_int_equal(ds.partial, 1);
    assert_string_equal(ds.partial_hint,
                        "train.bin holds 250 of 50000 records: replace it with the official one (run make data)");
    assert_int_equal(ds.train.labels[123], 23);  /* fine */
    assert_int_equal(ds.train.coarse[123], 3);   /* coarse */
    assert_int_equal(ds.test.labels[9999], 99);
    assert_int_equal(ds.test.images[(size_t)5 * 3072 + 7], (5 + 21) & 255);
    assert_string_equal(ds.class_names[99], "fine99");
    assert_string_equal(ds.coarse_names[19], "coarse19");
    for (int i = 0; i < ds.nfiles; i++)
        if (strstr(ds.files[i].path, ".bin") != NULL) assert_int_equal(ds.files[i].official, 0);
    int32_t used;
    assert_int_equal(dataset_check_subset(&ds, 1000, &used, &err), -1);
    assert_non_null(strstr(err.msg, "needs the official train.bin"));
    dataset_free(&ds);
    rm_tree(fx.root);
}

static void cifar100_bad(void **state)
{
    (void)state;
    fixture fx;
    cifar100_fixture(&fx, state, 30);
    char path[PF_PATH_MAX];
    fx_path(&fx, "train.bin", path);
    write_cifar(&fx, "train.bin", C100_REC, 30, 12, 100, 3);
    expect_error(&fx, PF_DS_CIFAR100, PF_ERR_CORRUPT, "train.bin", "record 12 has label 100", NULL);
    write_cifar(&fx, "train.bin", C100_REC, 30, 29, 5, 20);
    expect_error(&fx, PF_DS_CIFAR100, PF_ERR_CORRUPT, "train.bin", "coarse label 20", NULL);
    assert_int_equal(truncate(path, 2 * C100_REC + 1), 0);
    expect_error(&fx, PF_DS_CIFAR100, PF_ERR_CORRUPT, "train.bin", "expected 3074-byte records", NULL);
    /* CIFAR-10 records in CIFAR-100's place: 10 * 3073 bytes are not whole 3074-byte records. */
    write_cifar(&fx, "train.bin", C10_REC, 10, -1, 0, 0);
    expect_error(&fx, PF_DS_CIFAR100, PF_ERR_CORRUPT, "train.bin", "3074-byte", NULL);
    write_cifar(&fx, "train.bin", C100_REC, 1, -1, 0, 0);
    fx_path(&fx, "coarse_label_names.txt", path);
    assert_int_equal(unlink(path), 0);
    expect_error(&fx, PF_DS_CIFAR100, PF_ERR_MISSING, "coarse_label_names.txt", NULL);
    fx_path(&fx, "test.bin", path);
    assert_int_equal(unlink(path), 0);
    expect_error(&fx, PF_DS_CIFAR100, PF_ERR_MISSING, "no test.bin", "cifar-100-binary.tar.gz", NULL);
    rm_tree(fx.root);
}

/* ---- the data directory ---- */

static void resolve_dir_precedence(void **state)
{
    (void)state;
    char out[PF_PATH_MAX], cwd[PF_PATH_MAX];
    const char *old = getenv("POISONFARM_DATA");
    char *saved = old != NULL ? strdup(old) : NULL;
    assert_non_null(getcwd(cwd, sizeof cwd));
    fixture fx;
    fixture_make(&fx, PF_DS_MNIST);
    assert_int_equal(chdir(fx.root), 0);

    setenv("POISONFARM_DATA", "/env/data", 1);
    assert_int_equal(dataset_resolve_dir("/cli", "/job", out), 0);
    assert_string_equal(out, "/cli");
    assert_int_equal(dataset_resolve_dir("", "/job", out), 0);
    assert_string_equal(out, "/job");
    assert_int_equal(dataset_resolve_dir(NULL, NULL, out), 0);
    assert_string_equal(out, "/env/data");
    unsetenv("POISONFARM_DATA");
    assert_int_equal(dataset_resolve_dir(NULL, "", out), 0);
    assert_string_equal(out, PF_SHARE_DIR "/data"); /* no ./data here */
    assert_int_equal(mkdir("data", 0755), 0);
    assert_int_equal(dataset_resolve_dir(NULL, NULL, out), 0);
    assert_string_equal(out, "data");
    char big[PF_PATH_MAX + 10];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(dataset_resolve_dir(big, NULL, out), -1);

    assert_int_equal(chdir(cwd), 0);
    rm_tree(fx.root);
    if (saved != NULL) {
        setenv("POISONFARM_DATA", saved, 1);
        free(saved);
    }
}

static void describe_shapes(void **state)
{
    (void)state;
    pf_dataset ds;
    dataset_describe(PF_DS_CIFAR100, &ds);
    assert_int_equal(ds.c * 100 + ds.h, 332);
    assert_int_equal(ds.k, 100);
    assert_int_equal(ds.train_official_n, 50000);
    assert_int_equal(ds.train.n, 0);
    dataset_describe(PF_DS_FASHION_MNIST, &ds);
    assert_int_equal(dataset_image_bytes(&ds), 784);
    assert_int_equal(ds.train_official_n, 60000);
    assert_int_equal(ds.test_official_n, 10000);
}

static int shared_setup(void **state)
{
    shared_files *sh = calloc(1, sizeof *sh);
    if (sh == NULL) return -1;
    fixture_make(&sh->fx, PF_DS_MNIST);
    write_idx(&sh->fx, "t10k", idx_ok(10000, 1));
    write_cifar(&sh->fx, "cifar10.bin", C10_REC, 10000, -1, 0, 0);
    write_cifar(&sh->fx, "cifar100.bin", C100_REC, 10000, -1, 0, 0);
    *state = sh;
    return 0;
}

static int shared_teardown(void **state)
{
    shared_files *sh = *state;
    rm_tree(sh->fx.root);
    free(sh);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_mnist),
        cmocka_unit_test(real_fashion_mnist),
        cmocka_unit_test(real_cifar10),
        cmocka_unit_test(real_cifar100),
        cmocka_unit_test(real_test_only),
        cmocka_unit_test(idx_fixture_loads),
        cmocka_unit_test(idx_truncated),
        cmocka_unit_test(idx_trailing_bytes),
        cmocka_unit_test(idx_wrong_magic),
        cmocka_unit_test(idx_wrong_dims),
        cmocka_unit_test(idx_label_out_of_range),
        cmocka_unit_test(idx_count_mismatch),
        cmocka_unit_test(idx_too_many_items),
        cmocka_unit_test(idx_empty_file),
        cmocka_unit_test(idx_damaged_gzip),
        cmocka_unit_test(idx_missing),
        cmocka_unit_test(cifar10_fixture_loads),
        cmocka_unit_test(cifar10_bad_sizes),
        cmocka_unit_test(cifar10_label_out_of_range),
        cmocka_unit_test(cifar10_names),
        cmocka_unit_test(cifar10_missing),
        cmocka_unit_test(cifar100_fixture_loads),
        cmocka_unit_test(cifar100_bad),
        cmocka_unit_test(resolve_dir_precedence),
        cmocka_unit_test(describe_shapes),
    };
    return cmocka_run_group_tests(tests, shared_setup, shared_teardown);
}
