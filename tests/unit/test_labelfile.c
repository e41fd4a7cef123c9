/* test_labelfile.c -- label files of mode file: the format, the hash, every refusal with its line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "poisonfarm/labelfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/pf-labelfile-XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes text to DIR/name; returns the path (static buffer). */
static const char *file_with(const char *name, const char *text, size_t len)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

#define TEXT(s) s, sizeof(s) - 1

static void reads_labels_comments_and_line_ends(void **state)
{
    (void)state;
    const char *p = file_with("ok.txt", TEXT("# three labels\n3\n 7 \r\n0\n"));
    pf_label_file lf;
    pf_error err = {0};
    assert_int_equal(label_file_read(p, 10, &lf, &err), 0);
    assert_int_equal(lf.n, 3);
    assert_int_equal(lf.lines, 4);
    const uint8_t want[3] = {3, 7, 0};
    assert_memory_equal(lf.labels, want, 3);
    /* The first 16 hex digits of `sha256sum` of the same bytes. */
    char hex[17];
    assert_string_equal(label_file_hash_hex(lf.hash, hex), "44a63f4ff2eb8561");
    assert_true(lf.hash == 0x44a63f4ff2eb8561ULL);
    label_file_free(&lf);
    assert_null(lf.labels);

    /* No newline at the end; labels up to K - 1 of a 100-class set. */
    p = file_with("last.txt", TEXT("99\n0\n42"));
    assert_int_equal(label_file_read(p, 100, &lf, &err), 0);
    assert_int_equal(lf.n, 3);
    assert_int_equal(lf.labels[2], 42);
    label_file_free(&lf);

    /* Another content, another hash; an empty file is zero labels. */
    p = file_with("two.txt", TEXT("1\n2\n"));
    assert_int_equal(label_file_read(p, 10, &lf, &err), 0);
    assert_true(lf.hash == 0xa6e2b7a040683432ULL);
    label_file_free(&lf);
    p = file_with("empty.txt", "", 0);
    assert_int_equal(label_file_read(p, 10, &lf, &err), 0);
    assert_int_equal(lf.n, 0);
    label_file_free(&lf);
}

/* Every refusal names the file and, where there is one, the line. */
static void refuses_with_file_and_line(void **state)
{
    (void)state;
    static const struct {
        const char *name, *text, *want;
    } bad[] = {
        {"range.txt", "1\n2\n# fine\n10\n", "range.txt:4: label 10 is outside 0..9 (10 classes)"},
        {"word.txt", "1\ncat\n", "word.txt:2: 'cat' is not a label (a whole number 0..9)"},
        {"minus.txt", "-1\n", "minus.txt:1: '-1' is not a label"},
        {"two.txt", "1 2\n", "two.txt:1: '1 2' is not a label"},
        {"blank.txt", "1\n\n2\n", "blank.txt:2: an empty line"},
        {"spaces.txt", "1\n   \n", "spaces.txt:2: an empty line"},
        {"long.txt", "00000001\n", "long.txt:1: '00000001' is not a label"},
        {"huge.txt", "4294967297\n", "huge.txt:1: '4294967297' is not a label"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *p = file_with(bad[i].name, bad[i].text, strlen(bad[i].text));
        pf_label_file lf;
        pf_error err = {0};
        assert_int_equal(label_file_read(p, 10, &lf, &err), -1);
        if (strstr(err.msg, bad[i].want) == NULL) fprintf(stderr, "%s: %s\n", bad[i].name, err.msg);
        assert_non_null(strstr(err.msg, bad[i].want));
        assert_int_equal(err.kind, PF_ERR_CORRUPT);
        assert_null(lf.labels);
        assert_null(strchr(err.msg, '\n'));
    }
    /* A NUL byte. */
    const char *p = file_with("nul.txt", "1\n2\0\n", 5);
    pf_label_file lf;
    pf_error err = {0};
    assert_int_equal(label_file_read(p, 10, &lf, &err), -1);
    assert_non_null(strstr(err.msg, "nul.txt:2: a NUL byte"));
    /* Missing, and a directory. */
    char missing[160];
    snprintf(missing, sizeof missing, "%s/none.txt", dir);
    assert_int_equal(label_file_read(missing, 10, &lf, &err), -1);
    assert_int_equal(err.kind, PF_ERR_MISSING);
    assert_non_null(strstr(err.msg, "none.txt: no such label file"));
    assert_int_equal(label_file_read(dir, 10, &lf, &err), -1);
    assert_non_null(strstr(err.msg, ": a directory, not a label file"));
}

/* Too few labels for the items used: the line where the next label would be. */
static void too_short_names_the_line(void **state)
{
    (void)state;
    const char *p = file_with("short.txt", TEXT("# header\n1\n2\n3\n"));
    pf_label_file lf;
    pf_error err = {0};
    assert_int_equal(label_file_read(p, 10, &lf, &err), 0);
    assert_int_equal(label_file_check_count(&lf, p, 3, &err), 0);
    assert_int_equal(label_file_check_count(&lf, p, 2, &err), 0);
    assert_int_equal(label_file_check_count(&lf, p, 1000, &err), -1);
    assert_non_null(strstr(err.msg, "short.txt:5: the file ends after 3 labels, but 1000 training items are used"));
    label_file_free(&lf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_labels_comments_and_line_ends),
        cmocka_unit_test(refuses_with_file_and_line),
        cmocka_unit_test(too_short_names_the_line),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
