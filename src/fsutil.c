/* fsutil.c -- small file-system helpers: mkdir -p, parent directory, base name, path kinds,
 * regular-file opens that never block, renames that never replace, free space. */
#define _GNU_SOURCE /* renameat2 and RENAME_NOREPLACE, fallocate (Linux) */
#include "poisonfarm/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

int fs_mkdir_p(const char *dir, pf_error *err)
{
    char buf[PF_PATH_MAX];
    if (pf_snprintf(buf, sizeof buf, "%s", dir) != 0)
        return pf_error_set(err, PF_ERR_IO, "%s: path too long", dir);
    if (buf[0] == '\0') return pf_error_set(err, PF_ERR_IO, "empty directory name");
    /* Every prefix that ends before a '/', then the whole path. */
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char c = *p;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return pf_error_set(err, PF_ERR_IO, "%s: cannot create directory: %s", buf, strerror(errno));
        *p = c;
        if (c == '\0') break;
    }
    if (!fs_is_dir(dir)) {
        char kind[PF_PATH_MAX + 64];
        return pf_error_set(err, PF_ERR_IO, "%s: %s, not a directory", dir, fs_kind(dir, kind, sizeof kind));
    }
    return 0;
}

void fs_parent_dir(const char *path, char out[PF_PATH_MAX])
{
    snprintf(out, PF_PATH_MAX, "%s", path);
    char *slash = strrchr(out, '/');
    if (slash == NULL)
        snprintf(out, PF_PATH_MAX, ".");
    else if (slash == out)
        out[1] = '\0';
    else
        *slash = '\0';
}

const char *fs_base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

int fs_is_regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int fs_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int fs_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static const char *mode_kind(mode_t m)
{
    if (S_ISREG(m)) return "a regular file";
    if (S_ISDIR(m)) return "a directory";
    if (S_ISFIFO(m)) return "a FIFO (named pipe)";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}

const char *fs_kind(const char *path, char *out, size_t size)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        snprintf(out, size, "%s", mode_kind(st.st_mode));
        return out;
    }
    int e = errno;
    struct stat lst;
    if (e == ELOOP) {
        snprintf(out, size, "a symbolic link loop");
    } else if (e == ENOENT && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
        char target[PF_PATH_MAX];
        ssize_t n = readlink(path, target, sizeof target - 1);
        target[n > 0 ? n : 0] = '\0';
        snprintf(out, size, "a dangling symbolic link (to %s)", n > 0 ? target : "?");
    } else if (e == ENOENT || e == ENOTDIR) {
        snprintf(out, size, "nothing");
    } else {
        snprintf(out, size, "unreadable (%s)", strerror(e));
    }
    return out;
}

int fs_open_regular(const char *path, const char *what, pf_error *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    char kind[PF_PATH_MAX + 64];
    if (fd < 0) {
        int e = errno;
        fs_kind(path, kind, sizeof kind);
        if (e == ENOENT && strcmp(kind, "nothing") == 0)
            return pf_error_set(err, PF_ERR_MISSING, "%s: no such %s", path, what);
        if (e == ENOENT || e == ELOOP || e == ENXIO || e == ENODEV)
            return pf_error_set(err, PF_ERR_CORRUPT, "%s: %s, not a %s", path, kind, what);
        return pf_error_set(err, PF_ERR_IO, "%s: cannot open the %s: %s", path, what, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return pf_error_set(err, PF_ERR_IO, "%s: cannot read the %s: %s", path, what, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return pf_error_set(err, PF_ERR_CORRUPT, "%s: %s, not a %s", path, mode_kind(st.st_mode), what);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        int e = errno;
        close(fd);
        return pf_error_set(err, PF_ERR_IO, "%s: cannot read the %s: %s", path, what, strerror(e));
    }
    return fd;
}

int fs_rename_noreplace(const char *from, const char *to)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) return -1;
    /* No RENAME_NOREPLACE here (some network file systems): a hard link fails with EEXIST
     * instead of replacing. */
    if (link(from, to) != 0) return -1;
    if (unlink(from) != 0) {
        int e = errno;
        (void)unlink(to);
        errno = e;
        return -1;
    }
    return 0;
}

int64_t fs_free_bytes(const char *path)
{
    struct statvfs sv;
    if (statvfs(path, &sv) != 0) return -1;
    double bytes = (double)sv.f_bavail * (double)(sv.f_frsize ? sv.f_frsize : sv.f_bsize);
    return bytes > 9.0e18 ? INT64_MAX : (int64_t)bytes;
}

int fs_try_reserve(const char *path, const char *suffix, int64_t bytes)
{
    char tmp[PF_PATH_MAX + 64];
    if (pf_snprintf(tmp, sizeof tmp, "%s%s", path, suffix) != 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) { /* a leftover of ours (the caller holds the lock) */
        (void)unlink(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    }
    if (fd < 0) return -1;
    int rc = 0;
    if (bytes > 0 && fallocate(fd, 0, 0, (off_t)bytes) != 0) {
        /* A file system without fallocate cannot tell: not an answer. */
        rc = (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL) ? 0 : -1;
    }
    int e = errno;
    close(fd);
    (void)unlink(tmp);
    errno = e;
    return rc;
}

const char *fs_format_bytes(double bytes, char *out, size_t size)
{
    static const char *const unit[] = {"B", "KB", "MB", "GB", "TB", "PB", "EB"};
    int u = 0;
    while (bytes >= 1000.0 && u < 6) {
        bytes /= 1000.0;
        u++;
    }
    if (u == 0)
        snprintf(out, size, "%.0f B", bytes);
    else
        snprintf(out, size, "%.1f %s", bytes, unit[u]);
    return out;
}
