/* fsutil.c -- small file-system helpers: mkdir -p, parent directory, base name, path kinds. */
#include "poisonfarm/fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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
    if (!fs_is_dir(dir)) return pf_error_set(err, PF_ERR_IO, "%s: not a directory", dir);
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
