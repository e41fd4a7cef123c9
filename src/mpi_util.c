/* mpi_util.c -- MPI as poisonfarm uses it: checked calls, start-up, waits that sleep, broadcasts. */
#include "poisonfarm/mpi_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rank for pf_fatal's reports while MPI is up. */
static int mpi_rank(void)
{
    int init = 0, fini = 0, rank = -1;
    MPI_Initialized(&init);
    MPI_Finalized(&fini);
    if (init && !fini && MPI_Comm_rank(MPI_COMM_WORLD, &rank) != MPI_SUCCESS) rank = -1;
    return rank;
}

/* pf_fatal's way to end the whole job: every rank, not only this one. */
static void mpi_abort_job(void)
{
    int init = 0, fini = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fini);
    if (init && !fini) MPI_Abort(MPI_COMM_WORLD, PF_EXIT_FAIL);
}

noreturn void pf_fatal_mpi(const char *file, int line, const char *what, int code)
{
    char msg[MPI_MAX_ERROR_STRING + 1] = "";
    int len = 0;
    if (MPI_Error_string(code, msg, &len) != MPI_SUCCESS) snprintf(msg, sizeof msg, "error code %d", code);
    pf_report(file, line, "%s failed: %s", what, msg);
    pf_die();
}

const char *pf_mpi_thread_level_name(int level)
{
    if (level == MPI_THREAD_SINGLE) return "MPI_THREAD_SINGLE";
    if (level == MPI_THREAD_FUNNELED) return "MPI_THREAD_FUNNELED";
    if (level == MPI_THREAD_SERIALIZED) return "MPI_THREAD_SERIALIZED";
    if (level == MPI_THREAD_MULTIPLE) return "MPI_THREAD_MULTIPLE";
    return "unknown";
}

int pf_mpi_thread_level_check(int provided, pf_error *err)
{
    /* The levels are ordered: SINGLE < FUNNELED < SERIALIZED < MULTIPLE (MPI standard). */
    if (provided >= PF_MPI_THREAD_LEVEL) return 0;
    return pf_error_set(err, PF_ERR_USAGE,
                        "the MPI library provides thread level %s, poisonfarm needs %s (compute "
                        "threads inside each rank): use an MPI built with thread support",
                        pf_mpi_thread_level_name(provided), pf_mpi_thread_level_name(PF_MPI_THREAD_LEVEL));
}

int pf_mpi_init(int *argc, char ***argv, pf_error *err)
{
    /* Open MPI 4.1's shared-file-pointer component "lockedfile" overflows a buffer on file names
     * of about 245 characters or more, inside every MPI_File_open (so H5Fcreate and H5Fopen).
     * poisonfarm never uses shared file pointers: leave that component out, unless the user
     * chose the components. Other MPI libraries ignore the variable. (docs/design.md) */
    if (getenv("OMPI_MCA_sharedfp") == NULL) setenv("OMPI_MCA_sharedfp", "^lockedfile", 0);
    int provided = MPI_THREAD_SINGLE;
    int rc = MPI_Init_thread(argc, argv, PF_MPI_THREAD_LEVEL, &provided);
    if (rc != MPI_SUCCESS) pf_fatal(__FILE__, __LINE__, "MPI_Init_thread failed (error code %d)", rc);
    pf_mpi_errors_return(MPI_COMM_WORLD);
    const pf_job_ops ops = {mpi_rank, mpi_abort_job};
    pf_set_job_ops(&ops);
    return pf_mpi_thread_level_check(provided, err);
}

void pf_mpi_errors_return(MPI_Comm comm) { PF_MPI_CHECK(MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN)); }

void pf_mpi_win_errors_return(MPI_Win win) { PF_MPI_CHECK(MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN)); }

void pf_mpi_node_comm(MPI_Comm parent, MPI_Comm *node)
{
    int rank;
    PF_MPI_CHECK(MPI_Comm_rank(parent, &rank));
    PF_MPI_CHECK(MPI_Comm_split_type(parent, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, node));
    /* A new communicator inherits its parent's handler; set it anyway, so that this does not
       depend on how the parent was made. */
    pf_mpi_errors_return(*node);
}

void pf_mpi_wait(MPI_Request *req)
{
    int flag = 0;
    for (;;) {
        PF_MPI_CHECK(MPI_Test(req, &flag, MPI_STATUS_IGNORE));
        if (flag) return;
        pf_sleep_ms(2);
    }
}

void pf_mpi_barrier(MPI_Comm comm)
{
    MPI_Request req;
    PF_MPI_CHECK(MPI_Ibarrier(comm, &req));
    pf_mpi_wait(&req);
}

void pf_mpi_bcast_bytes(void *buf, size_t bytes, int root, MPI_Comm comm)
{
    const size_t piece = (size_t)1 << 30;
    for (size_t off = 0; off < bytes; off += piece) {
        size_t len = bytes - off < piece ? bytes - off : piece;
        PF_MPI_CHECK(MPI_Bcast((char *)buf + off, (int)len, MPI_BYTE, root, comm));
    }
}

void pf_mpi_bcast_string(char **s, int root, MPI_Comm comm)
{
    int rank;
    PF_MPI_CHECK(MPI_Comm_rank(comm, &rank));
    uint64_t len = (rank == root && *s != NULL) ? (uint64_t)strlen(*s) : 0;
    PF_MPI_CHECK(MPI_Bcast(&len, 1, MPI_UINT64_T, root, comm));
    if (rank != root) {
        free(*s);
        *s = pf_malloc((size_t)len + 1);
        (*s)[len] = '\0';
    }
    pf_mpi_bcast_bytes(*s, (size_t)len, root, comm);
}
