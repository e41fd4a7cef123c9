/* fsutil.h -- small file-system helpers shared by the farm, the report, the data loader and the
 * command line: a directory with its parents, a path's parent and base name, what a path is,
 * opening only regular files, renaming without replacing, free space. */
#ifndef POISONFARM_FSUTIL_H
#define POISONFARM_FSUTIL_H

#include "poisonfarm/common.h"

#include <stdint.h>

/* mkdir -p: creates dir and its missing parents (mode 0777 less the umask, as mkdir -p does).
 * Returns 0 when dir is (now) a directory; -1 with a one-line err (PF_ERR_IO) naming the path that
 * could not be created or that is not a directory. */
int fs_mkdir_p(const char *dir, pf_error *err);

/* The directory part of path: "a/b/c" -> "a/b", "c" -> ".", "/c" -> "/". */
void fs_parent_dir(const char *path, char out[PF_PATH_MAX]);

/* The part of path after its last '/' (a pointer into path). */
const char *fs_base_name(const char *path);

/* 1 when path (symbolic links followed) is a regular file / a directory, else 0. */
int fs_is_regular_file(const char *path);
int fs_is_dir(const char *path);

/* 1 when something is at path, whatever it is (a dangling symbolic link or a loop counts), else 0.
 * Never opens it. */
int fs_exists(const char *path);

/* What is at path, for messages, symbolic links followed: "a regular file", "a directory", "a FIFO
 * (named pipe)", "a character device", "a block device", "a socket", "a symbolic link loop", "a
 * dangling symbolic link (to TARGET)", "nothing" (no such path), or "unreadable (why)". Never opens
 * it. Returns out. */
const char *fs_kind(const char *path, char *out, size_t size);

/* Opens path read-only, only when it is a regular file: the open does not block (O_NONBLOCK, so a
 * FIFO cannot hang it) and fstat decides; the descriptor is then blocking again. Returns the
 * descriptor, or -1 with a one-line err naming the path and what it is instead ("PATH: a FIFO
 * (named pipe), not a WHAT"): PF_ERR_MISSING when nothing is there (a dangling symbolic link is
 * named as one), PF_ERR_CORRUPT when it is not a regular file, PF_ERR_IO when it cannot be opened. */
int fs_open_regular(const char *path, const char *what, pf_error *err);

/* Renames from to to, never replacing an existing to: renameat2(RENAME_NOREPLACE), or where the
 * file system lacks it, link(2) then unlink(2) of from. 0, or -1 with errno (EEXIST when to
 * exists). */
int fs_rename_noreplace(const char *from, const char *to);

/* Bytes an unprivileged process may still write on the file system holding path (a directory or a
 * file): statvfs's available blocks (root may use a reserve beyond them). -1 when unknown. Quotas
 * are not seen: a hint, not a promise. */
int64_t fs_free_bytes(const char *path);

/* Asks the file system for bytes of space in a scratch file next to path (path + suffix), then
 * removes it: ENOSPC and EDQUOT (a quota) show up here, before anything that cannot fail cleanly.
 * 0 when the space was there or the file system cannot tell (no fallocate); -1 with errno set to
 * ENOSPC or EDQUOT (or why the scratch file could not be made). */
int fs_try_reserve(const char *path, const char *suffix, int64_t bytes);

/* Bytes for people: "512 B", "84.0 KB", "1.2 GB", "4.8 TB" (powers of 1000). Returns out. */
const char *fs_format_bytes(double bytes, char *out, size_t size);

#endif
