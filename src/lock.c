/* lock.c -- the results file's lock: RESULTS.h5.lock with the holder's host, pid and Slurm job id,
 * created atomically, taken over when stale, removed only by its owner. */
#include "poisonfarm/lock.h"

#include "poisonfarm/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define LOCK_TEXT_MAX 1024

struct pf_lock {
    char path[PF_PATH_MAX + 8];
    char text[LOCK_TEXT_MAX];   /* what we wrote: how we recognise our own lock */
};

/* A parsed lock file. */
typedef struct {
    char host[256];
    long pid;
    char job[64];
    char since[64];
} holder;

static void this_host(char *buf, size_t size)
{
    if (gethostname(buf, size) != 0) snprintf(buf, size, "unknown");
    buf[size - 1] = '\0';
}

static const char *this_job(void)
{
    const char *job = getenv("SLURM_JOB_ID");
    return (job != NULL && job[0] != '\0') ? job : "none";
}

/* Reads the whole lock file into buf. 0, or -1 with errno (ENOENT: it vanished; EINVAL: not a
 * regular file -- a FIFO must not block the run, a directory holds no text). */
static int read_text(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    size_t got = 0;
    while (got < size - 1) {
        ssize_t r = read(fd, buf + got, size - 1 - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    close(fd);
    return 0;
}

/* 0 when text has host= and pid= lines, -1 otherwise. */
static int parse(const char *text, holder *h)
{
    memset(h, 0, sizeof *h);
    h->pid = -1;
    snprintf(h->job, sizeof h->job, "none");
    snprintf(h->since, sizeof h->since, "?");
    int have_host = 0;
    const char *p = text;
    while (*p) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
        if (strncmp(line, "host=", 5) == 0) {
            snprintf(h->host, sizeof h->host, "%.255s", line + 5);
            have_host = h->host[0] != '\0';
        } else if (strncmp(line, "pid=", 4) == 0) {
            char *e;
            long v = strtol(line + 4, &e, 10);
            if (e != line + 4 && *e == '\0' && v > 0) h->pid = v;
        } else if (strncmp(line, "job=", 4) == 0) {
            snprintf(h->job, sizeof h->job, "%.63s", line + 4);
        } else if (strncmp(line, "since=", 6) == 0) {
            snprintf(h->since, sizeof h->since, "%.63s", line + 6);
        }
        p += len;
        if (*p == '\n') p++;
    }
    return (have_host && h->pid > 0) ? 0 : -1;
}

static int write_all(int fd, const char *text)
{
    size_t len = strlen(text), done = 0;
    while (done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        done += (size_t)w;
    }
    return fsync(fd);
}

/* Publishes text at path atomically: written to a private temporary file (O_CREAT|O_EXCL), then
 * hard-linked to path, which fails with EEXIST when a lock is there. A reader therefore never sees
 * a half-written lock. File systems without hard links get O_CREAT|O_EXCL on path itself.
 * Returns 0 when created, 1 when path exists, -1 with errno. */
static int publish(const char *path, const char *host, const char *text)
{
    char tmp[PF_PATH_MAX + 400];
    if (pf_snprintf(tmp, sizeof tmp, "%s.%s.%ld.tmp", path, host, (long)getpid()) != 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0 && errno == EEXIST) {
        /* Our own leftover from an earlier crash of a process with our pid: ours to remove. */
        unlink(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
    }
    if (fd < 0) return -1;
    int rc = write_all(fd, text);
    int saved = errno;
    close(fd);
    if (rc != 0) {
        unlink(tmp);
        errno = saved;
        return -1;
    }
    rc = link(tmp, path);
    saved = errno;
    unlink(tmp);
    if (rc == 0) return 0;
    if (saved == EEXIST) return 1;
    if (saved != EPERM && saved != ENOTSUP && saved != ENOSYS && saved != EXDEV) {
        errno = saved;
        return -1;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) return errno == EEXIST ? 1 : -1;
    rc = write_all(fd, text);
    saved = errno;
    close(fd);
    if (rc != 0) {
        unlink(path);
        errno = saved;
        return -1;
    }
    return 0;
}

/* 1 when pid no longer runs on this host: gone (ESRCH), or a zombie nobody has reaped yet (a
 * rank killed with kill -9 whose parent died first can linger as one, and kill(pid, 0) still
 * succeeds on it). */
static int process_gone(pid_t pid)
{
    if (kill(pid, 0) != 0) return errno == ESRCH;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* "pid (comm) S ...": the state follows the last ')' (comm may hold parentheses). */
    const char *close = strrchr(buf, ')');
    return close != NULL && close[1] == ' ' && close[2] == 'Z';
}

pf_lock *lock_acquire(const char *results_path, pf_error *err)
{
    pf_lock *lk = pf_calloc(1, sizeof *lk);
    if (pf_snprintf(lk->path, sizeof lk->path, "%s.lock", results_path) != 0) {
        pf_error_set(err, PF_ERR_IO, "%s: path too long for its lock file", results_path);
        goto fail;
    }
    char host[256];
    this_host(host, sizeof host);
    const char *job = this_job();
    char since[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(lk->text, sizeof lk->text, "host=%s\npid=%ld\njob=%s\nsince=%s\n", host,
             (long)getpid(), job, since);

    /* A few rounds: a stale lock removed here may be re-created by a racing run. */
    for (int attempt = 0; attempt < 4; attempt++) {
        int rc = publish(lk->path, host, lk->text);
        if (rc == 0) return lk;
        if (rc < 0) {
            pf_error_set(err, PF_ERR_IO, "%s: cannot create the lock file: %s", lk->path,
                         strerror(errno));
            goto fail;
        }
        char text[LOCK_TEXT_MAX];
        if (read_text(lk->path, text, sizeof text) != 0) {
            char kind[PF_PATH_MAX + 64];
            fs_kind(lk->path, kind, sizeof kind);
            /* Released meanwhile: try again. Anything still there that is not a lock file this
               poisonfarm wrote (a dangling symbolic link, a directory, a FIFO): say what it is. */
            if (errno == ENOENT && strcmp(kind, "nothing") == 0) continue;
            if (strcmp(kind, "a regular file") != 0) {
                pf_error_set(err, PF_ERR_IO,
                             "%s: %s, not a lock file this poisonfarm wrote; if no run is using %s, "
                             "remove it: rm '%s'",
                             lk->path, kind, results_path, lk->path);
                goto fail;
            }
            pf_error_set(err, PF_ERR_IO, "%s: cannot read the lock file: %s", lk->path,
                         strerror(errno));
            goto fail;
        }
        holder h;
        if (parse(text, &h) != 0) {
            pf_error_set(err, PF_ERR_IO,
                         "%s: %s is locked by a lock file this poisonfarm cannot read; if no run "
                         "is using it, remove the lock: rm '%s'",
                         lk->path, results_path, lk->path);
            goto fail;
        }
        const int same_host = strcmp(h.host, host) == 0;
        const int dead = same_host && process_gone((pid_t)h.pid);
        const int same_job = strcmp(h.job, "none") != 0 && strcmp(h.job, job) == 0
                             && !(same_host && h.pid == (long)getpid());
        if (!dead && !same_job) {
            pf_error_set(err, PF_ERR_IO,
                         "%s: %s is in use by another run (pid %ld on host %s, Slurm job %s, "
                         "since %s); if that run is dead, remove the lock: rm '%s'",
                         lk->path, results_path, h.pid, h.host, h.job, h.since, lk->path);
            goto fail;
        }
        /* Remove only the lock we judged: if it changed meanwhile, judge again. */
        char again[LOCK_TEXT_MAX];
        if (read_text(lk->path, again, sizeof again) == 0 && strcmp(again, text) == 0) {
            if (dead)
                fprintf(stderr,
                        "poisonfarm: taking over the stale lock %s (pid %ld on this host has "
                        "ended)\n",
                        lk->path, h.pid);
            else
                fprintf(stderr,
                        "poisonfarm: taking over the lock %s of this Slurm job %s (pid %ld on "
                        "%s, before a requeue or restart)\n",
                        lk->path, h.job, h.pid, h.host);
            fflush(stderr);
            if (unlink(lk->path) != 0 && errno != ENOENT) {
                pf_error_set(err, PF_ERR_IO, "%s: cannot remove the stale lock file: %s",
                             lk->path, strerror(errno));
                goto fail;
            }
        }
    }
    pf_error_set(err, PF_ERR_IO, "%s: could not take the lock of %s: other runs keep taking it",
                 lk->path, results_path);
fail:
    free(lk);
    return NULL;
}

void lock_release(pf_lock *lock)
{
    if (lock == NULL) return;
    char text[LOCK_TEXT_MAX];
    if (read_text(lock->path, text, sizeof text) == 0 && strcmp(text, lock->text) == 0)
        unlink(lock->path);
    free(lock);
}

void lock_forget(pf_lock *lock) { free(lock); }

int lock_describe(const char *results_path, char *out, size_t size)
{
    char path[PF_PATH_MAX + 8], text[LOCK_TEXT_MAX], kind[PF_PATH_MAX + 64];
    out[0] = '\0';
    if (pf_snprintf(path, sizeof path, "%s.lock", results_path) != 0 || !fs_exists(path)) return 0;
    holder h;
    if (read_text(path, text, sizeof text) != 0 || parse(text, &h) != 0) {
        fs_kind(path, kind, sizeof kind);
        snprintf(out, size, "%s: %s that is not a lock this poisonfarm can read", path,
                 strcmp(kind, "a regular file") == 0 ? "a file" : kind);
        return 2;
    }
    char host[256];
    this_host(host, sizeof host);
    const char *state = "";
    if (strcmp(h.host, host) == 0)
        state = process_gone((pid_t)h.pid) ? "; that process has ended: the next run takes the lock over"
                                           : "; that process runs";
    snprintf(out, size, "held by pid %ld on host %s (Slurm job %s) since %s%s", h.pid, h.host, h.job, h.since,
             state);
    return 1;
}

const char *lock_path(const pf_lock *lock) { return lock->path; }
