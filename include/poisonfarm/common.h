/* common.h -- error reporting, checked library calls and small helpers shared by every module. */
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

/* Reports "poisonfarm: [rank R] file:line: message" on stderr and ends the whole job: MPI_Abort
 * when MPI is running, abort() otherwise. For failures that cannot be the user's. */
noreturn void pf_fatal(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same, with the library message of an MPI error code / the current HDF5 error stack appended. */
noreturn void pf_fatal_mpi(const char *file, int line, const char *what, int code);
noreturn void pf_fatal_h5(const char *file, int line, const char *what);

#define PF_ASSERT(cond)                                                                   \
    do {                                                                                  \
        if (!(cond)) pf_fatal(__FILE__, __LINE__, "assertion failed: %s", #cond);         \
    } while (0)

#define PF_CHECK_ALLOC(ptr)                                                               \
    do {                                                                                  \
        if ((ptr) == NULL) pf_fatal(__FILE__, __LINE__, "out of memory: %s", #ptr);       \
    } while (0)

/* Evaluates an MPI call once; anything but MPI_SUCCESS aborts the job with MPI's message. */
#define PF_MPI_CHECK(call)                                                                \
    do {                                                                                  \
        int pf_mpi_rc_ = (call);                                                          \
        if (pf_mpi_rc_ != 0) pf_fatal_mpi(__FILE__, __LINE__, #call, pf_mpi_rc_);         \
    } while (0)

/* Evaluates an HDF5 call once; a negative id/herr_t aborts the job with HDF5's own message.
 * Yields the call's value, so `hid_t d = PF_H5_CHECK(H5Dopen2(...));` works. */
#define PF_H5_CHECK(call)                                                                 \
    __extension__({                                                                       \
        __typeof__(call) pf_h5_rc_ = (call);                                              \
        if (pf_h5_rc_ < 0) pf_fatal_h5(__FILE__, __LINE__, #call);                        \
        pf_h5_rc_;                                                                        \
    })

/* malloc/calloc/aligned (64 bytes) allocation that abort on failure; free with free(). */
void *pf_malloc(size_t size);
void *pf_calloc(size_t count, size_t size);
void *pf_malloc_aligned(size_t size);

/* This process's MPI rank for log prefixes, or -1 outside MPI. */
int pf_rank(void);

/* Wall-clock seconds from a monotonic clock. */
double pf_now(void);

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

/* snprintf that reports truncation: returns 0 when the whole string fit, -1 otherwise. */
int pf_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
