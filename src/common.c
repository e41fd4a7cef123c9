/* common.c -- error reporting and small helpers (no MPI, no HDF5). */
#include "poisonfarm/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int pf_error_set(pf_error *err, pf_err_kind kind, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        /* One line, whatever a quoted value holds (a job file's string with a line break in it,
           a file name with control characters): those show as '?'. */
        for (char *c = err->msg; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
        err->kind = kind;
    }
    return -1;
}

/* Set once by the MPI helpers (pf_set_job_ops); zero (serial) otherwise. */
static pf_job_ops job_ops;

void pf_set_job_ops(const pf_job_ops *ops)
{
    if (ops != NULL)
        job_ops = *ops;
    else
        memset(&job_ops, 0, sizeof job_ops);
}

int pf_rank(void) { return job_ops.rank != NULL ? job_ops.rank() : -1; }

noreturn void pf_die(void)
{
    fflush(stdout);
    fflush(stderr);
    if (job_ops.abort_job != NULL) job_ops.abort_job();
    abort();
}

static void vreport(const char *file, int line, const char *fmt, va_list ap)
{
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    int rank = pf_rank();
    if (rank >= 0)
        fprintf(stderr, "poisonfarm: rank %d: %s:%d: %s\n", rank, file, line, msg);
    else
        fprintf(stderr, "poisonfarm: %s:%d: %s\n", file, line, msg);
}

void pf_report(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(file, line, fmt, ap);
    va_end(ap);
}

noreturn void pf_fatal(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(file, line, fmt, ap);
    va_end(ap);
    pf_die();
}

void *pf_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL) pf_fatal(__FILE__, __LINE__, "out of memory (%zu bytes)", size);
    return p;
}

void *pf_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p == NULL) pf_fatal(__FILE__, __LINE__, "out of memory (%zu x %zu bytes)", count, size);
    return p;
}

void *pf_malloc_aligned(size_t size)
{
    void *p = NULL;
    size_t rounded = (size + 63) / 64 * 64;
    if (posix_memalign(&p, 64, rounded ? rounded : 64) != 0)
        pf_fatal(__FILE__, __LINE__, "out of memory (%zu bytes)", size);
    return p;
}

double pf_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void pf_format_duration(double s, char *out, size_t size)
{
    if (!(s >= 0) || s > 1e12) {
        snprintf(out, size, "?");
        return;
    }
    long long t = (long long)(s + 0.5);
    if (t >= 86400)
        snprintf(out, size, "%lldd%02lldh", t / 86400, (t % 86400) / 3600);
    else if (t >= 3600)
        snprintf(out, size, "%lldh%02lldm", t / 3600, (t % 3600) / 60);
    else if (t >= 60)
        snprintf(out, size, "%lldm%02llds", t / 60, t % 60);
    else
        snprintf(out, size, "%llds", t);
}

void pf_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int pf_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return (n < 0 || (size_t)n >= size) ? -1 : 0;
}

const char *pf_name_of(const char *const *names, int count, int v)
{
    return (v >= 0 && v < count) ? names[v] : "?";
}

int pf_name_lookup(const char *const *names, int count, const char *name)
{
    if (name == NULL) return -1;
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], name) == 0) return i;
    return -1;
}

void pf_share_dir(char out[PF_PATH_MAX])
{
    char exe[PF_PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash != NULL) {
            *slash = '\0'; /* <prefix>/bin */
            slash = strrchr(exe, '/');
            struct stat st;
            if (slash != NULL && strcmp(slash, "/bin") == 0) {
                *slash = '\0';
                if (pf_snprintf(out, PF_PATH_MAX, "%s/share/poisonfarm", exe) == 0 && stat(out, &st) == 0 &&
                    S_ISDIR(st.st_mode))
                    return;
            }
        }
    }
    snprintf(out, PF_PATH_MAX, "%s", PF_SHARE_DIR);
}

volatile sig_atomic_t pf_stop_flag = 0;

static void on_stop_signal(int sig) { pf_stop_flag = sig; }

void pf_install_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}
