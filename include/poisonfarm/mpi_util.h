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

/* Errors on comm / win are returned to the caller (and so reported by PF_MPI_CHECK). */
void pf_mpi_errors_return(MPI_Comm comm);
void pf_mpi_win_errors_return(MPI_Win win);

/* Collective over parent: the communicator of the ranks that share memory with this one (a node),
 * ordered as in parent, with errors returned. Free it with MPI_Comm_free. */
void pf_mpi_node_comm(MPI_Comm parent, MPI_Comm *node);

/* Completes req, sleeping 2 ms between tests instead of spinning. */
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
