/* test_mpi.c -- the MPI helpers (mpi_util.h): the thread-level check, errors returned (not
 * aborted inside the library) on MPI_COMM_WORLD and on the communicators poisonfarm creates, and
 * the broadcasts. Run alone it is a singleton MPI job; tests/integ/mpi.sh also runs it under
 * mpirun:
 *   --fail-call            every rank makes an MPI call fail through PF_MPI_CHECK (the report and
 *                          the abort are checked by the script)
 *   --bcast                rank 0's strings and bytes reach every rank */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "poisonfarm/mpi_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void thread_level_check(void **state)
{
    (void)state;
    pf_error err = {0};
    assert_int_equal(pf_mpi_thread_level_check(MPI_THREAD_FUNNELED, &err), 0);
    assert_int_equal(pf_mpi_thread_level_check(MPI_THREAD_SERIALIZED, &err), 0);
    assert_int_equal(pf_mpi_thread_level_check(MPI_THREAD_MULTIPLE, &err), 0);
    assert_int_equal(pf_mpi_thread_level_check(MPI_THREAD_SINGLE, &err), -1);
    assert_int_equal(err.kind, PF_ERR_USAGE);
    assert_non_null(strstr(err.msg, "provides thread level MPI_THREAD_SINGLE"));
    assert_non_null(strstr(err.msg, "needs MPI_THREAD_FUNNELED"));
    assert_null(strchr(err.msg, '\n'));
}

/* pf_mpi_init ran in main: this library really provides the level, and errors come back. */
static void errors_are_returned(void **state)
{
    (void)state;
    int provided = -1;
    MPI_Query_thread(&provided);
    assert_true(provided >= PF_MPI_THREAD_LEVEL);

    MPI_Errhandler h;
    assert_int_equal(MPI_Comm_get_errhandler(MPI_COMM_WORLD, &h), MPI_SUCCESS);
    assert_true(h == MPI_ERRORS_RETURN);
    MPI_Errhandler_free(&h);
    int size = 0, x = 0;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    /* A send to a rank that does not exist fails and returns (the default handler would abort). */
    int rc = MPI_Send(&x, 1, MPI_INT, size + 7, 0, MPI_COMM_WORLD);
    assert_int_not_equal(rc, MPI_SUCCESS);
    int cls = 0;
    MPI_Error_class(rc, &cls);
    assert_int_equal(cls, MPI_ERR_RANK);

    /* The node communicator poisonfarm creates returns its errors too. */
    MPI_Comm node;
    pf_mpi_node_comm(MPI_COMM_WORLD, &node);
    assert_int_equal(MPI_Comm_get_errhandler(node, &h), MPI_SUCCESS);
    assert_true(h == MPI_ERRORS_RETURN);
    MPI_Errhandler_free(&h);
    rc = MPI_Send(&x, 1, MPI_INT, size + 7, 0, node);
    assert_int_not_equal(rc, MPI_SUCCESS);
    MPI_Comm_free(&node);

    /* pf_fatal's reports carry the rank now. */
    int rank = -1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    assert_int_equal(pf_rank(), rank);
}

static void bcast_string_and_bytes(void **state)
{
    (void)state;
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    char *s = rank == 0 ? strdup("job text\nwith lines") : strdup("stale");
    pf_mpi_bcast_string(&s, 0, MPI_COMM_WORLD);
    assert_string_equal(s, "job text\nwith lines");
    free(s);
    s = NULL; /* root's NULL goes out as "" */
    if (rank != 0) s = strdup("stale");
    pf_mpi_bcast_string(&s, 0, MPI_COMM_WORLD);
    if (rank != 0) assert_string_equal(s, "");
    free(s);
    unsigned char buf[1000];
    for (int i = 0; i < 1000; i++) buf[i] = rank == 0 ? (unsigned char)(i * 7) : 0;
    pf_mpi_bcast_bytes(buf, sizeof buf, 0, MPI_COMM_WORLD);
    for (int i = 0; i < 1000; i++) assert_int_equal(buf[i], (unsigned char)(i * 7));
}

int main(int argc, char **argv)
{
    pf_error err = {0};
    if (pf_mpi_init(&argc, &argv, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        MPI_Finalize();
        return 1;
    }
    int rc;
    if (argc >= 2 && strcmp(argv[1], "--fail-call") == 0) {
        int size, x = 0;
        MPI_Comm_size(MPI_COMM_WORLD, &size);
        PF_MPI_CHECK(MPI_Send(&x, 1, MPI_INT, size + 7, 0, MPI_COMM_WORLD));
        printf("the failing call returned\n");
        rc = 0;
    } else if (argc >= 2 && strcmp(argv[1], "--bcast") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(bcast_string_and_bytes)};
        rc = cmocka_run_group_tests(tests, NULL, NULL);
    } else {
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(thread_level_check),
            cmocka_unit_test(errors_are_returned),
            cmocka_unit_test(bcast_string_and_bytes),
        };
        rc = cmocka_run_group_tests(tests, NULL, NULL);
    }
    MPI_Finalize();
    return rc;
}
