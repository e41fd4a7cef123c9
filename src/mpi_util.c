/* mpi_util.c -- MPI as poisonfarm uses it: checked calls, start-up, waits that sleep, broadcasts. */
#include "poisonfarm/mpi_util.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
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

long pf_raise_open_files(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return LONG_MAX; /* unknown: nothing to say */
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit up = {rl.rlim_max, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &up) == 0) rl.rlim_cur = rl.rlim_max;
    }
    return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)LONG_MAX ? LONG_MAX : (long)rl.rlim_cur;
}

int pf_mpi_check_open_files(MPI_Comm world, MPI_Comm node)
{
    int rank, size, nsize;
    PF_MPI_CHECK(MPI_Comm_rank(world, &rank));
    PF_MPI_CHECK(MPI_Comm_size(world, &size));
    PF_MPI_CHECK(MPI_Comm_size(node, &nsize));
    /* A socket to every rank elsewhere, the rank's own files (results, data, checkpoints, MPI's
       shared memory) and room. */
    long mine[2] = {-pf_raise_open_files(), (long)(size - nsize) + 64}, worst[2] = {0, 0};
    PF_MPI_CHECK(MPI_Reduce(mine, worst, 2, MPI_LONG, MPI_MAX, 0, world));
    long limit = -worst[0], need = worst[1];
    if (rank != 0 || limit >= need) return 0;
    fprintf(stderr,
            "poisonfarm: warning: the open-file limit is %ld (a hard limit, on at least one rank), a rank may "
            "need about %ld (%ld for connections to the ranks on other nodes, 64 for the rest): raise it "
            "(ulimit -n, or the cluster's limits) if MPI fails to connect\n",
            limit, need, need - 64);
    fflush(stderr);
    return 1;
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

void pf_poll_init(pf_poll *p, long max_ms)
{
    PF_ASSERT(max_ms >= 1);
    p->start = pf_now();
    p->max_ms = max_ms;
    p->sleeps = 0;
}

void pf_poll_reset(pf_poll *p) { p->start = pf_now(); }

void pf_poll_sleep(pf_poll *p)
{
    long ms = (long)((pf_now() - p->start) * 1000.0 / 10.0);
    pf_sleep_ms(ms < 1 ? 1 : ms > p->max_ms ? p->max_ms : ms);
    p->sleeps++;
}

void pf_mpi_wait(MPI_Request *req)
{
    pf_poll poll;
    pf_poll_init(&poll, PF_POLL_MAX_MS);
    int flag = 0;
    for (;;) {
        PF_MPI_CHECK(MPI_Test(req, &flag, MPI_STATUS_IGNORE));
        if (flag) return;
        pf_poll_sleep(&poll);
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
