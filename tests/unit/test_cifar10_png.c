/* test_cifar10_png.c -- the CIFAR-10 converter's code (tools/cifar10_png.c): PNGs written here with
 * libpng (right ones, wrong sizes and formats, truncated and damaged) and label files of every bad
 * shape. Small images (a few rows of 1024 pixels) keep it fast; the real package's six batches and
 * their md5s are tests/integ/data_npm.sh's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cifar10_png.h"

#include <dirent.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define W CIFAR10_PNG_PIXELS

/* ---- fixtures ---- */

typedef struct {
    char root[64];
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL) return -1;
    snprintf(fx->root, sizeof fx->root, "%s", "/tmp/pf-c10png.XXXXXX");
    if (mkdtemp(fx->root) == NULL) return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    DIR *d = opendir(fx->root);
    if (d != NULL) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            snprintf(p, sizeof p, "%s/%s", fx->root, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(fx->root);
    free(fx);
    return 0;
}

static void fx_path(const fixture *fx, const char *name, char out[512]) { snprintf(out, 512, "%s/%s", fx->root, name); }

/* Entries of the fixture directory (leftover temporary files show here). */
static int count_entries(const fixture *fx)
{
    DIR *d = opendir(fx->root);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static int exists(const char *path) { return access(path, F_OK) == 0; }

/* Channel c of pixel p of image i: distinct per channel, so that a swapped plane shows. */
static unsigned char pattern(size_t i, int p, int c) { return (unsigned char)(i * 7 + (size_t)p * 3 + (size_t)c * 101); }

/* Writes a PNG of width x height with libpng. An 8-bit RGB image holds pattern(); other formats
 * hold bytes of no meaning (they must be refused before their pixels matter). */
static void write_png(const char *path, png_uint_32 width, png_uint_32 height, int color, int depth, int interlace)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    assert_non_null(png);
    png_infop info = png_create_info_struct(png);
    assert_non_null(info);
    unsigned char *pixels = NULL;
    png_bytep *rows = NULL;
    if (setjmp(png_jmpbuf(png))) fail_msg("libpng could not write the fixture %s", path);
    png_init_io(png, f);
    png_set_compression_level(png, 1);
    png_set_IHDR(png, info, width, height, depth, color, interlace, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (color == PNG_COLOR_TYPE_PALETTE) {
        png_color palette[256];
        for (int i = 0; i < 256; i++) palette[i].red = palette[i].green = palette[i].blue = (png_byte)i;
        png_set_PLTE(png, info, palette, 256);
    }
    png_write_info(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    pixels = malloc(rowbytes * height);
    rows = malloc(sizeof *rows * height);
    assert_non_null(pixels);
    assert_non_null(rows);
    for (png_uint_32 i = 0; i < height; i++) {
        rows[i] = pixels + rowbytes * i;
        for (size_t b = 0; b < rowbytes; b++)
            rows[i][b] = color == PNG_COLOR_TYPE_RGB && depth == 8 ? pattern(i, (int)(b / 3), (int)(b % 3))
                                                                   : (unsigned char)(b + i);
    }
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    free(pixels);
    assert_int_equal(fclose(f), 0);
}

static void write_text(const char *path, const char *text, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Converts png with rows labels and expects a failure whose message starts with png's path and
 * holds want; nothing may be left but png itself. */
static void expect_convert_error(const fixture *fx, const char *png, size_t rows, const char *want)
{
    char out[512];
    uint8_t labels[8] = {0};
    cifar10_png_error err = {{0}};
    fx_path(fx, "out.bin", out);
    int before = count_entries(fx);
    assert_int_equal(cifar10_png_convert(png, labels, rows, out, &err), -1);
    if (strncmp(err.msg, png, strlen(png)) != 0 || strstr(err.msg, want) == NULL)
        fail_msg("expected '%s: ...%s...', got '%s'", png, want, err.msg);
    assert_null(strchr(err.msg, '\n'));
    assert_false(exists(out));
    assert_int_equal(count_entries(fx), before);
}

/* ---- conversion ---- */

static void convert_round_trip(void **state)
{
    fixture *fx = *state;
    char png[512], out[512];
    fx_path(fx, "batch.png", png);
    fx_path(fx, "batch.bin", out);
    write_png(png, W, 3, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE);
    const uint8_t labels[3] = {7, 0, 9};
    cifar10_png_error err = {{0}};
    mode_t old = umask(022);
    int rc = cifar10_png_convert(png, labels, 3, out, &err);
    umask(old);
    if (rc != 0) fail_msg("%s", err.msg);
    assert_int_equal(file_size(out), 3 * CIFAR10_PNG_RECORD);
    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    unsigned char rec[3 * CIFAR10_PNG_RECORD];
    FILE *f = fopen(out, "rb");
    assert_non_null(f);
    assert_int_equal(fread(rec, 1, sizeof rec, f), sizeof rec);
    fclose(f);
    /* (label, R plane, G plane, B plane) per record, in row order. */
    for (size_t i = 0; i < 3; i++) {
        const unsigned char *r = rec + i * CIFAR10_PNG_RECORD;
        assert_int_equal(r[0], labels[i]);
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < W; p++)
                if (r[1 + c * W + p] != pattern(i, p, c))
                    fail_msg("record %zu, channel %d, pixel %d: %d, expected %d", i, c, p, r[1 + c * W + p],
                             pattern(i, p, c));
    }
    assert_int_equal(count_entries(fx), 2);
}

static void convert_wrong_size(void **state)
{
    fixture *fx = *state;
    char png[512];
    fx_path(fx, "narrow.png", png);
    write_png(png, W - 1, 3, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE);
    expect_convert_error(fx, png, 3, "a 1023x3 8-bit RGB image, expected 1024x3 8-bit RGB");
    unlink(png);
    fx_path(fx, "tall.png", png);
    write_png(png, W, 4, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE);
    expect_convert_error(fx, png, 3, "a 1024x4 8-bit RGB image, expected 1024x3");
    expect_convert_error(fx, png, 5, "a 1024x4 8-bit RGB image, expected 1024x5");
    unlink(png);
}

static void convert_wrong_format(void **state)
{
    fixture *fx = *state;
    static const struct {
        int color, depth, interlace;
        const char *want;
    } cases[] = {
        {PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_NONE, "a 1024x2 8-bit grey image"},
        {PNG_COLOR_TYPE_RGB_ALPHA, 8, PNG_INTERLACE_NONE, "a 1024x2 8-bit RGBA image"},
        {PNG_COLOR_TYPE_RGB, 16, PNG_INTERLACE_NONE, "a 1024x2 16-bit RGB image"},
        {PNG_COLOR_TYPE_PALETTE, 8, PNG_INTERLACE_NONE, "a 1024x2 8-bit palette image"},
        {PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_ADAM7, "a 1024x2 8-bit RGB interlaced image"},
    };
    char png[512];
    fx_path(fx, "format.png", png);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_png(png, W, 2, cases[i].color, cases[i].depth, cases[i].interlace);
        expect_convert_error(fx, png, 2, cases[i].want);
        unlink(png);
    }
}

static void convert_truncated(void **state)
{
    fixture *fx = *state;
    char png[512];
    fx_path(fx, "cut.png", png);
    write_png(png, W, 3, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE);
    long n = file_size(png);
    /* Cut in the image data, then just before IEND (all pixels there, the end missing). */
    assert_int_equal(truncate(png, n / 2), 0);
    expect_convert_error(fx, png, 3, "the file ends before the image does (truncated?)");
    write_png(png, W, 3, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE);
    assert_int_equal(truncate(png, n - 12), 0);
    expect_convert_error(fx, png, 3, "truncated");
    unlink(png);
}

static void convert_damaged(void **state)
{
    fixture *fx = *state;
    char png[512];
    fx_path(fx, "damaged.png", png);
    write_png(png, W, 3, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE);
    /* One byte inside the image data: its chunk's CRC no longer matches. */
    FILE *f = fopen(png, "r+b");
    assert_non_null(f);
    long at = file_size(png) / 2;
    assert_int_equal(fseek(f, at, SEEK_SET), 0);
    int c = getc(f);
    assert_int_equal(fseek(f, at, SEEK_SET), 0);
    putc(c ^ 0x55, f);
    assert_int_equal(fclose(f), 0);
    expect_convert_error(fx, png, 3, "damaged PNG (libpng: ");
    unlink(png);
}

static void convert_not_png(void **state)
{
    fixture *fx = *state;
    char path[512];
    fx_path(fx, "text.png", path);
    write_text(path, "[1,2,3]", 7);
    expect_convert_error(fx, path, 3, "not a PNG file");
    unlink(path);
    fx_path(fx, "absent.png", path);
    expect_convert_error(fx, path, 3, "cannot open");
}

static void convert_keeps_existing_output(void **state)
{
    fixture *fx = *state;
    char png[512], out[512];
    fx_path(fx, "batch.png", png);
    fx_path(fx, "out.bin", out);
    write_png(png, W, 2, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE);
    write_text(out, "mine", 4);
    const uint8_t labels[2] = {1, 2};
    cifar10_png_error err = {{0}};
    assert_int_equal(cifar10_png_convert(png, labels, 2, out, &err), -1);
    assert_non_null(strstr(err.msg, "out.bin: already exists (not replaced)"));
    assert_int_equal(file_size(out), 4);
    unlink(out);
    unlink(png);
}

/* ---- labels ---- */

static void labels_valid(void **state)
{
    fixture *fx = *state;
    char path[512];
    fx_path(fx, "labels.json", path);
    static const char *ok[] = {"[3,8,8,0,9]", " \n[ 3 , 8,\t8,0\r\n,9 ] \n", "[3,8,8,0,9]\n"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        write_text(path, ok[i], strlen(ok[i]));
        uint8_t labels[5] = {0};
        cifar10_png_error err = {{0}};
        if (cifar10_png_read_labels(path, 5, labels, &err) != 0) fail_msg("'%s': %s", ok[i], err.msg);
        assert_memory_equal(labels, ((const uint8_t[]){3, 8, 8, 0, 9}), 5);
    }
    write_text(path, "[ ]", 3);
    cifar10_png_error err = {{0}};
    assert_int_equal(cifar10_png_read_labels(path, 0, NULL, &err), 0);
    unlink(path);
}

static void labels_bad(void **state)
{
    fixture *fx = *state;
    static const struct {
        const char *text;
        size_t len, n;
        const char *want;
    } cases[] = {
#define T(s) s, sizeof s - 1
        {T(""), 1, "byte offset 0: expected '[' (a JSON array of labels), found the end of the file"},
        {T("{\"labels\": [1]}"), 1, "byte offset 0: expected '['"},
        {T("[1,2"), 2, "byte offset 4: expected ',' or ']' after a label, found the end of the file"},
        {T("[1,2,]"), 2, "byte offset 5: expected a label 0-9, found ']'"},
        {T("[1,,2]"), 2, "byte offset 3: expected a label 0-9, found ','"},
        {T("[1,2,x]"), 3, "byte offset 5: expected a label 0-9, found 'x'"},
        {T("[\"1\"]"), 1, "byte offset 1: expected a label 0-9, found '\"'"},
        {T("[10]"), 1, "byte offset 1: label 10 is out of range 0-9"},
        {T("[123456789012345678901234]"), 1, "a 24-digit label is out of range 0-9"},
        {T("[-1]"), 1, "expected a label 0-9, found '-'"},
        {T("[01]"), 1, "byte offset 1: a number with a leading zero is not JSON"},
        {T("[1.0]"), 1, "expected an integer label, found a fraction or exponent"},
        {T("[1e0]"), 1, "expected an integer label"},
        {T("[1 2]"), 2, "byte offset 3: expected ',' or ']' after a label, found '2'"},
        {T("[1,2,3]"), 2, "byte offset 5: more than 2 labels"},
        {T("[1]"), 2, "holds 1 labels, expected 2"},
        {T("[]"), 2, "holds 0 labels, expected 2"},
        {T("[1,2] x"), 2, "byte offset 6: unexpected 'x' after the array"},
        {T("[1,2][3]"), 2, "unexpected '[' after the array"},
        {T("[1,2]\0"), 2, "byte offset 5: unexpected byte 0x00 after the array"},
#undef T
    };
    char path[512];
    fx_path(fx, "labels.json", path);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_text(path, cases[i].text, cases[i].len);
        uint8_t labels[4];
        cifar10_png_error err = {{0}};
        assert_int_equal(cifar10_png_read_labels(path, cases[i].n, labels, &err), -1);
        if (strncmp(err.msg, path, strlen(path)) != 0 || strstr(err.msg, cases[i].want) == NULL)
            fail_msg("'%.*s': expected '%s: ...%s', got '%s'", (int)cases[i].len, cases[i].text, path, cases[i].want,
                     err.msg);
    }
    unlink(path);
    cifar10_png_error err = {{0}};
    uint8_t one;
    assert_int_equal(cifar10_png_read_labels(path, 1, &one, &err), -1);
    assert_non_null(strstr(err.msg, "labels.json: cannot open"));
    /* A directory opens but cannot be read. */
    assert_int_equal(cifar10_png_read_labels(fx->root, 1, &one, &err), -1);
    if (strstr(err.msg, ": read error: ") == NULL) fail_msg("got '%s'", err.msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(convert_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(convert_wrong_size, setup, teardown),
        cmocka_unit_test_setup_teardown(convert_wrong_format, setup, teardown),
        cmocka_unit_test_setup_teardown(convert_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(convert_damaged, setup, teardown),
        cmocka_unit_test_setup_teardown(convert_not_png, setup, teardown),
        cmocka_unit_test_setup_teardown(convert_keeps_existing_output, setup, teardown),
        cmocka_unit_test_setup_teardown(labels_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(labels_bad, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
