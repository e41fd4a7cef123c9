/* mpi_util.h -- MPI as poisonfarm uses it: checked calls, start-up, waits that sleep, broadcasts.
 *
 * Every MPI call goes through PF_MPI_CHECK. For that to work the library must return its errors
 * instead of aborting inside the call: pf_mpi_init sets MPI_ERRORS_RETURN on MPI_COMM_WORLD, and
 * every communicator or window poisonfarm creates gets the same (pf_mpi_node_comm,
 * pf_mpi_win_errors_return). A failing call is then reported as "poisonfarm: rank R: file:line:
 * CALL failed: <MPI_Error_string>" and the whole job is aborted (MPI_Abort): such failures are never
 * the user's. Waiting ranks sleep between polls: Open MPI's blocking waits and collectives spin and
 * would take a core from a rank that trains. */
#ifndef POISONFARM_MPI_UTIL_H
#define POISONFARM_MPI_UTIL_H

#include "poisonfarm/common.h"

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

/* Evaluates an MPI call once; anything but MPI_SUCCESS aborts the job with MPI's message. */
#define PF_MPI_CHECK(call)                                                                \
    do {                                                                                  \
        int pf_mpi_rc_ = (call);                                                          \
        if (pf_mpi_rc_ != MPI_SUCCESS) pf_fatal_mpi(__FILE__, __LINE__, #call, pf_mpi_rc_); \
    } while (0)

/* Reports the failed call `what` with MPI's message for `code` (rank, file:line) and aborts the job. */
noreturn void pf_fatal_mpi(const char *file, int line, const char *what, int code);

/* The thread level poisonfarm needs: OpenMP threads compute inside a rank, only the thread that
 * initialised MPI calls it. */
#define PF_MPI_THREAD_LEVEL MPI_THREAD_FUNNELED

/* "MPI_THREAD_SINGLE", ... for a thread level; "unknown" otherwise. */
const char *pf_mpi_thread_level_name(int level);

/* 0 when `provided` (MPI_Init_thread's answer) is at least PF_MPI_THREAD_LEVEL; else -1 with a
 * one-line err naming both levels. */
int pf_mpi_thread_level_check(int provided, pf_error *err);

/* Initialises MPI at PF_MPI_THREAD_LEVEL, sets MPI_ERRORS_RETURN on MPI_COMM_WORLD and tells
 * pf_fatal (common.h) how to learn the rank and abort the job. Returns 0; or -1 with err (one line,
 * PF_ERR_USAGE) when the library provides a lower thread level -- MPI is initialised either way, so
 * the caller reports the error (rank 0) and calls MPI_Finalize on every rank. A failure of
 * MPI_Init_thread itself is reported and aborts. */
int pf_mpi_init(int *argc, char ***argv, pf_error *err);

/* Before MPI_Init: raises this process's open-file limit (RLIMIT_NOFILE) to its hard limit, since
 * MPI over TCP holds a socket per peer rank on another node (on one node Open MPI's shared memory
 * needs about 20 descriptors per rank, whatever the rank count). Returns the soft limit now in
 * effect (LONG_MAX when unlimited or unknown). */
long pf_raise_open_files(void);

/* Collective over world (node: this rank's node communicator): when the lowest open-file limit
 * of the ranks is below what the ranks may need -- a socket to every rank on another node, and 64
 * for the rest -- rank 0 prints one warning line on standard error naming the limit and what to
 * do. Returns 1 on rank 0 when it warned, else 0. */
int pf_mpi_check_open_files(MPI_Comm world, MPI_Comm node);

/* Errors on comm / win are returned to the caller (and so reported by PF_MPI_CHECK). */
void pf_mpi_errors_return(MPI_Comm comm);
void pf_mpi_win_errors_return(MPI_Win win);

/* Collective over parent: the communicator of the ranks that share memory with this one (a node),
 * ordered as in parent, with errors returned. Free it with MPI_Comm_free. */
void pf_mpi_node_comm(MPI_Comm parent, MPI_Comm *node);

/* Polling that backs off. A rank that waits tests without blocking and sleeps between tests, since
 * a blocking MPI call spins at 100 % of a core with Open MPI (docs/design.md). Each sleep is a
 * tenth of the time waited so far, at least 1 ms and at most max_ms: a wait that ends soon is
 * noticed soon (at most about 10 % late), and a rank that waits long -- the ranks that finished
 * first, waiting for the last configuration -- wakes up once every max_ms instead of hundreds of
 * times a second. pf_poll_reset starts the count again when something happened. */
#define PF_POLL_MAX_MS 1000
typedef struct {
    double start;        /* pf_now() when the wait began */
    long max_ms;
    int64_t sleeps;      /* sleeps so far (statistics) */
} pf_poll;

void pf_poll_init(pf_poll *p, long max_ms);
void pf_poll_reset(pf_poll *p);
/* Sleeps a tenth of the time waited since init or reset, within [1, max_ms] ms. */
void pf_poll_sleep(pf_poll *p);

/* Completes req, testing it and sleeping between tests (pf_poll, up to PF_POLL_MAX_MS) instead of
 * spinning. */
void pf_mpi_wait(MPI_Request *req);

/* A barrier over comm that sleeps while it waits (MPI_Ibarrier + pf_mpi_wait). */
void pf_mpi_barrier(MPI_Comm comm);

/* Collective over comm: root's `bytes` bytes at buf reach every rank's buf (in pieces of at most
 * 1 GiB, so any size fits MPI's int counts). Raw bytes: every rank runs the same binary. */
void pf_mpi_bcast_bytes(void *buf, size_t bytes, int root, MPI_Comm comm);

/* Collective over comm: every rank gets root's string. Root's *s is unchanged (NULL is sent as "");
 * on the other ranks *s is freed and replaced by a new allocation (free it). */
void pf_mpi_bcast_string(char **s, int root, MPI_Comm comm);

#endif
