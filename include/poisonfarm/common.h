/* common.h -- error reporting and small helpers shared by every module (no MPI, no HDF5: their
 * checked-call helpers are mpi_util.h and h5_util.h). */
#ifndef POISONFARM_COMMON_H
#define POISONFARM_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdnoreturn.h>

#define PF_VERSION "0.1.0"
#define PF_PATH_MAX 4096

/* Exit statuses of the command line (docs/running.md, "Exit status"). */
enum {
    PF_EXIT_OK = 0,
    PF_EXIT_FAIL = 1,      /* internal failure */
    PF_EXIT_USAGE = 2,     /* bad usage or bad input: the user's to fix */
    PF_EXIT_CONFIGS = 3,   /* grid finished, some configurations failed or diverged */
    PF_EXIT_STOPPED = 4    /* stopped early (SIGUSR1, --stop-after), configurations pending */
};

/* What kind of user error a pf_error holds. */
typedef enum {
    PF_ERR_NONE = 0,
    PF_ERR_USAGE,    /* bad option, bad job file */
    PF_ERR_MISSING,  /* a dataset or file that is not there */
    PF_ERR_CORRUPT,  /* a file that is there but wrong */
    PF_ERR_IO        /* cannot write, locked, ... */
} pf_err_kind;

/* A user-facing error: one line, no trailing newline, naming the file (and line) at fault. */
typedef struct pf_error {
    pf_err_kind kind;
    char msg[1024];
} pf_error;

/* Fills err (when not NULL) and returns -1, so that `return pf_error_set(err, ...);` reads well. */
int pf_error_set(pf_error *err, pf_err_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reports "poisonfarm: [rank R: ]file:line: message" on stderr and ends the whole job (see
 * pf_set_job_ops: MPI_Abort once the MPI helpers started MPI, abort() otherwise). For failures that
 * cannot be the user's. */
noreturn void pf_fatal(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The same report without ending the job: for the checked-call helpers of the MPI and HDF5
 * modules (mpi_util.h, h5_util.h), which append the library's message and then call pf_die. */
void pf_report(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
noreturn void pf_die(void);

/* How pf_fatal learns this process's rank and ends a parallel job. common knows nothing of MPI:
 * the MPI helpers (pf_mpi_init, mpi_util.h) register these once MPI runs. Until then, and in serial
 * programs, the rank is -1 and pf_die calls abort(). Either pointer may be NULL (the default). */
typedef struct {
    int (*rank)(void);              /* this process's rank, -1 when MPI is not (or no longer) up */
    void (*abort_job)(void);        /* ends every process of the job; must not return */
} pf_job_ops;
void pf_set_job_ops(const pf_job_ops *ops);

#define PF_ASSERT(cond)                                                                   \
    do {                                                                                  \
        if (!(cond)) pf_fatal(__FILE__, __LINE__, "assertion failed: %s", #cond);         \
    } while (0)

#define PF_CHECK_ALLOC(ptr)                                                               \
    do {                                                                                  \
        if ((ptr) == NULL) pf_fatal(__FILE__, __LINE__, "out of memory: %s", #ptr);       \
    } while (0)

/* malloc/calloc/aligned (64 bytes) allocation that abort on failure; free with free(). */
void *pf_malloc(size_t size);
void *pf_calloc(size_t count, size_t size);
void *pf_malloc_aligned(size_t size);

/* This process's MPI rank for log prefixes, or -1 outside MPI (pf_set_job_ops). */
int pf_rank(void);

/* Wall-clock seconds from a monotonic clock. */
double pf_now(void);

/* A duration for people: "42s", "7m05s", "3h02m", "2d04h" (rounded to the second); "?" when s is
 * negative, NaN or beyond 10^12 s. */
void pf_format_duration(double s, char *out, size_t size);

/* Sleeps ms milliseconds (a poll interval, never a way to wait for an event). */
void pf_sleep_ms(long ms);

/* Set to the signal number by SIGUSR1, SIGTERM and SIGINT once pf_install_stop_signals ran (and
 * to 1 by the farm's own stop requests): finish the current batch and stop. The one global. */
extern volatile sig_atomic_t pf_stop_flag;

/* Installs the stop handlers. Call early: under mpirun before MPI_Init (a signal arriving before
 * the handler kills the process). */
void pf_install_stop_signals(void);

/* The installed share directory (job files, data): <prefix>/share/poisonfarm when the running
 * binary is <prefix>/bin/poisonfarm and that directory exists (so `make install PREFIX=...` works
 * whatever PREFIX the objects were compiled with), else PF_SHARE_DIR from the build. */
void pf_share_dir(char out[PF_PATH_MAX]);

/* Names of an enumeration kept by the module that owns it (a table indexed by value, count
 * entries): the name of value v ("?" when out of range), and the value named `name` (-1 when none
 * or name is NULL). Parsing and printing use the same table, so they always agree. */
const char *pf_name_of(const char *const *names, int count, int v);
int pf_name_lookup(const char *const *names, int count, const char *name);

/* snprintf that reports truncation: returns 0 when the whole string fit, -1 otherwise. */
int pf_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
