/* fuzz_common.h -- what the libFuzzer harnesses share: a private scratch directory (in /dev/shm
 * when there is one: every input is written to a file there), writing bytes to a file, and the
 * failure of an invariant (abort: libFuzzer reports it with the input that caused it). */
#ifndef POISONFARM_FUZZ_COMMON_H
#define POISONFARM_FUZZ_COMMON_H

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fz_dir[256];

/* The scratch directory holds only files: removed when the harness exits normally (a crash keeps
 * it, next to the input libFuzzer saved). */
static inline void fz_remove_dir(void)
{
    DIR *d = opendir(fz_dir);
    if (d == NULL) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char p[600];
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(p, sizeof p, "%s/%s", fz_dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(fz_dir);
}

static inline void fz_init_dir(const char *name)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    snprintf(fz_dir, sizeof fz_dir, "%s/pf-%s.XXXXXX", base, name);
    if (mkdtemp(fz_dir) == NULL) {
        perror("mkdtemp");
        abort();
    }
    atexit(fz_remove_dir);
}

/* fz_dir/name, written with n bytes of d. */
static inline const char *fz_write(const char *name, const uint8_t *d, size_t n)
{
    static char path[2][512];
    static int which;
    char *p = path[which ^= 1];
    snprintf(p, sizeof path[0], "%s/%s", fz_dir, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) abort();
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, d + done, n - done);
        if (w <= 0) abort();
        done += (size_t)w;
    }
    close(fd);
    return p;
}

#define FZ_REQUIRE(cond)                                                                         \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "invariant broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__);        \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

/* A user error is one line, naming something. */
#define FZ_ONE_LINE(err) FZ_REQUIRE((err).msg[0] != '\0' && strchr((err).msg, '\n') == NULL)

#endif
