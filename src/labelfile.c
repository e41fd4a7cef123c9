/* labelfile.c -- reading and checking the label files of the poisoning mode `file` (labelfile.h). */
#include "poisonfarm/labelfile.h"

#include "poisonfarm/fsutil.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The first 8 bytes of SHA-256(p[0..n)) as a big-endian number. */
static uint64_t sha256_prefix(const unsigned char *p, size_t n)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    PF_CHECK_ALLOC(ctx);
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 || (n > 0 && EVP_DigestUpdate(ctx, p, n) != 1) ||
        EVP_DigestFinal_ex(ctx, d, &len) != 1 || len != 32)
        pf_fatal(__FILE__, __LINE__, "SHA-256 failed");
    EVP_MD_CTX_free(ctx);
    uint64_t h = 0;
    for (int i = 0; i < 8; i++) h = (h << 8) | d[i];
    return h;
}

char *label_file_hash_hex(uint64_t hash, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)hash);
    return out;
}

void label_file_free(pf_label_file *lf)
{
    if (lf == NULL) return;
    free(lf->labels);
    memset(lf, 0, sizeof *lf);
}

/* The whole file in memory (NUL-terminated). 0, or -1 with err. */
static int slurp(const char *path, unsigned char **out, size_t *size, pf_error *err)
{
    *out = NULL;
    /* Only a regular file: a FIFO or a device must not block or feed the parser. */
    int fd = fs_open_regular(path, "label file", err);
    if (fd < 0) return -1;
    FILE *f = fdopen(fd, "rb");
    if (f == NULL) {
        close(fd);
        return pf_error_set(err, PF_ERR_CORRUPT, "%s: cannot read the label file: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        fclose(f);
        return pf_error_set(err, PF_ERR_CORRUPT, "%s: cannot read the label file: %s", path, strerror(errno));
    }
    if ((int64_t)st.st_size > PF_LABEL_FILE_MAX_BYTES) {
        fclose(f);
        return pf_error_set(err, PF_ERR_CORRUPT, "%s: %lld bytes, more than a label file may have (%lld)", path,
                            (long long)st.st_size, (long long)PF_LABEL_FILE_MAX_BYTES);
    }
    size_t n = (size_t)st.st_size;
    unsigned char *buf = pf_malloc(n + 1);
    size_t got = fread(buf, 1, n, f);
    int bad = ferror(f) || got != n || fgetc(f) != EOF;
    fclose(f);
    if (bad) {
        free(buf);
        return pf_error_set(err, PF_ERR_CORRUPT, "%s: read error (or the file changed while it was read)", path);
    }
    buf[n] = '\0';
    *out = buf;
    *size = n;
    return 0;
}

int label_file_read(const char *path, int k, pf_label_file *lf, pf_error *err)
{
    PF_ASSERT(k >= 2 && k <= 256);
    memset(lf, 0, sizeof *lf);
    unsigned char *buf = NULL;
    size_t size = 0;
    if (slurp(path, &buf, &size, err) != 0) return -1;
    /* At most one label per line, and a line has at least two bytes (a digit and its end). */
    uint8_t *labels = pf_malloc(size / 2 + 2);
    int64_t n = 0, line = 0;
    size_t pos = 0;
    int rc = -1;
    while (pos < size) {
        line++;
        size_t end = pos;
        while (end < size && buf[end] != '\n') end++;
        /* The line is buf[pos, end); trim blanks and a CR at its end. */
        size_t a = pos, b = end;
        if (b > a && buf[b - 1] == '\r') b--;
        while (a < b && (buf[a] == ' ' || buf[a] == '\t')) a++;
        while (b > a && (buf[b - 1] == ' ' || buf[b - 1] == '\t')) b--;
        pos = end + 1;
        if (a < b && buf[a] == '#') continue;
        if (memchr(buf + a, '\0', b - a) != NULL) {
            pf_error_set(err, PF_ERR_CORRUPT, "%s:%lld: a NUL byte: not a text file", path, (long long)line);
            goto cleanup;
        }
        if (a == b) {
            pf_error_set(err, PF_ERR_CORRUPT,
                         "%s:%lld: an empty line; a label file has one label per line (comments start "
                         "with #)",
                         path, (long long)line);
            goto cleanup;
        }
        long v = 0;
        size_t i = a;
        while (i < b && buf[i] >= '0' && buf[i] <= '9' && v <= 1000) v = v * 10 + (buf[i++] - '0');
        if (i != b || b - a > 4) {
            int len = (int)(b - a > 40 ? 40 : b - a);
            pf_error_set(err, PF_ERR_CORRUPT, "%s:%lld: '%.*s%s' is not a label (a whole number 0..%d)", path,
                         (long long)line, len, (const char *)buf + a, b - a > 40 ? "..." : "", k - 1);
            goto cleanup;
        }
        if (v >= k) {
            pf_error_set(err, PF_ERR_CORRUPT, "%s:%lld: label %ld is outside 0..%d (%d classes)", path,
                         (long long)line, v, k - 1, k);
            goto cleanup;
        }
        labels[n++] = (uint8_t)v;
    }
    lf->n = n;
    lf->lines = line;
    lf->labels = labels;
    lf->hash = sha256_prefix(buf, size);
    labels = NULL;
    rc = 0;
cleanup:
    free(labels);
    free(buf);
    return rc;
}

int label_file_check_count(const pf_label_file *lf, const char *path, int64_t n_used, pf_error *err)
{
    if (lf->n >= n_used) return 0;
    return pf_error_set(err, PF_ERR_CORRUPT,
                        "%s:%lld: the file ends after %lld labels, but %lld training items are used "
                        "(one label per training item, in the training set's order)",
                        path, (long long)(lf->lines + 1), (long long)lf->n, (long long)n_used);
}
