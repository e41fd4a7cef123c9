/* fsutil.h -- small file-system helpers shared by the farm, the report, the data loader and the
 * command line: a directory with its parents, a path's parent and base name, what a path is. */
#ifndef POISONFARM_FSUTIL_H
#define POISONFARM_FSUTIL_H

#include "poisonfarm/common.h"

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

#endif
