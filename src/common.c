/* common.c -- error reporting, checked library calls and small helpers. */
#include "poisonfarm/common.h"

#include <hdf5.h>
#include <mpi.h>
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
        err->kind = kind;
    }
    return -1;
}

int pf_rank(void)
{
    int init = 0, fini = 0, rank = -1;
    MPI_Initialized(&init);
    MPI_Finalized(&fini);
    if (init && !fini) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank;
}

static noreturn void die_now(void)
{
    int init = 0, fini = 0;
    fflush(stdout);
    fflush(stderr);
    MPI_Initialized(&init);
    MPI_Finalized(&fini);
    if (init && !fini) MPI_Abort(MPI_COMM_WORLD, PF_EXIT_FAIL);
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

noreturn void pf_fatal(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(file, line, fmt, ap);
    va_end(ap);
    die_now();
}

static void report(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(file, line, fmt, ap);
    va_end(ap);
}

noreturn void pf_fatal_mpi(const char *file, int line, const char *what, int code)
{
    char msg[MPI_MAX_ERROR_STRING + 1] = "";
    int len = 0;
    if (MPI_Error_string(code, msg, &len) != MPI_SUCCESS) snprintf(msg, sizeof msg, "code %d", code);
    report(file, line, "%s failed: %s", what, msg);
    die_now();
}

/* Walks the HDF5 error stack and keeps the innermost description. */
static herr_t h5_walk(unsigned n, const H5E_error2_t *e, void *data)
{
    char *out = data;
    if (n == 0 && e->desc != NULL) snprintf(out, 512, "%s (in %s)", e->desc, e->func_name);
    return 0;
}

noreturn void pf_fatal_h5(const char *file, int line, const char *what)
{
    char msg[512] = "no HDF5 error message";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, h5_walk, msg);
    report(file, line, "%s failed: %s", what, msg);
    die_now();
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

int pf_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return (n < 0 || (size_t)n >= size) ? -1 : 0;
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
