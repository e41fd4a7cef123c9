/* test_sched.c -- the farm's scheduler (sched.h) without training: the queue's order and counts,
 * and, under mpirun (tests/integ/mpi.sh), the protocol with stand-in configurations:
 *   --mpi-all N    every one of N configurations runs exactly once, over all ranks
 *   --mpi-stop N   rank 0 stops the run after its first configuration, once every other rank is
 *                  busy: every busy rank is told, stops, and every rank leaves sched_main with no
 *                  message left over
 * Run alone, the unit tests of the queue (and the protocol on one rank). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "poisonfarm/mpi_util.h"
#include "poisonfarm/sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void queue_most_expensive_first(void **state)
{
    (void)state;
    const pf_status st[] = {PF_STATUS_PENDING, PF_STATUS_DONE,    PF_STATUS_RUNNING, PF_STATUS_FAILED,
                            PF_STATUS_PENDING, PF_STATUS_DIVERGED, PF_STATUS_PENDING};
    const double cost[] = {1.0, 9.0, 3.0, 5.0, 3.0, 2.0, 7.0};
    sched_queue q;
    sched_queue_build(&q, st, cost, 7, 0);
    /* pending and running ones; equal costs (ids 2 and 4) by id */
    const int64_t want[] = {6, 2, 4, 0};
    assert_int_equal(q.n, 4);
    for (int i = 0; i < 4; i++) assert_int_equal(q.ids[i], want[i]);
    assert_int_equal(q.done, 1);
    assert_int_equal(q.failed, 2);
    assert_true(q.cost == 7.0 + 3.0 + 3.0 + 1.0);
    sched_queue_free(&q);

    sched_queue_build(&q, st, cost, 7, 1); /* --retry-failed */
    const int64_t want_retry[] = {6, 3, 2, 4, 5, 0};
    assert_int_equal(q.n, 6);
    for (int i = 0; i < 6; i++) assert_int_equal(q.ids[i], want_retry[i]);
    assert_int_equal(q.done, 1);
    assert_int_equal(q.failed, 0);
    sched_queue_free(&q);
}

/* ---- the protocol with stand-in configurations ---- */

enum { TAG_STARTED = 999 };   /* the test's own message, apart from the protocol's tags */

typedef struct {
    pf_sched *s;
    int rank, size;
    int *ran;                 /* per configuration: times finished on this rank */
    int stopped;              /* configurations stopped on this rank */
    int64_t finished;         /* rank 0: finished reports received */
    int stop_mode;
} fake_farm;

/* A stand-in configuration, polling the scheduler as the trainer does between batches. Without a
 * stop, each takes a few polls. In stop mode every other rank tells rank 0 when it has started one
 * and then runs until it is stopped; rank 0 finishes its first one once every other rank is busy
 * (a point the ranks report, not a delay), and its report stops the run. */
static void fake_run(void *p, int64_t id, sched_outcome *out)
{
    fake_farm *f = p;
    memset(out, 0, sizeof *out);
    out->id = id;
    int started = 0;
    if (f->stop_mode && f->rank != 0)
        MPI_Send(&started, 1, MPI_INT, 0, TAG_STARTED, MPI_COMM_WORLD);
    for (int i = 0; f->stop_mode || i < 5; i++) {
        sched_poll(f->s);
        if (pf_stop_flag) {
            out->kind = SCHED_STOPPED;
            out->status = PF_STATUS_PENDING;
            f->stopped++;
            return;
        }
        if (f->stop_mode && f->rank == 0) {
            int flag = 0;
            MPI_Iprobe(MPI_ANY_SOURCE, TAG_STARTED, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
            if (flag) {
                int x;
                MPI_Recv(&x, 1, MPI_INT, MPI_ANY_SOURCE, TAG_STARTED, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                started++;
            }
            if (started == f->size - 1) break;
        }
        pf_sleep_ms(1);
    }
    out->kind = SCHED_DONE;
    out->status = PF_STATUS_DONE;
    f->ran[id]++;
}

static void fake_finished(void *p, const sched_outcome *o, int from)
{
    fake_farm *f = p;
    (void)o;
    (void)from;
    f->finished++;
    if (f->stop_mode) pf_stop_flag = 1;
}

/* Runs N stand-in configurations; returns nonzero (and says why) when the protocol misbehaved. */
static int protocol(int64_t n, int stop_mode, int verbose)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    pf_stop_flag = 0;
    pf_status *st = calloc((size_t)n, sizeof *st);
    double *cost = calloc((size_t)n, sizeof *cost);
    for (int64_t i = 0; i < n; i++) cost[i] = (double)(i % 5);
    sched_queue q;
    sched_queue_build(&q, st, cost, n, 0);
    fake_farm f = {NULL, rank, size, calloc((size_t)n, sizeof(int)), 0, 0, stop_mode};
    const sched_ops ops = {fake_run, fake_finished, NULL, &f};
    f.s = sched_create(MPI_COMM_WORLD, &q, &ops);
    sched_main(f.s);
    sched_free(f.s);

    /* No stop message may be left unreceived. */
    int left = 0;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &left, MPI_STATUS_IGNORE);
    int *all = calloc((size_t)n, sizeof *all);
    MPI_Reduce(f.ran, all, (int)n, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    int stopped = 0, any_left = 0;
    MPI_Reduce(&f.stopped, &stopped, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Reduce(&left, &any_left, 1, MPI_INT, MPI_MAX, 0, MPI_COMM_WORLD);
    int bad = 0;
    if (rank == 0) {
        int64_t once = 0, twice = 0;
        for (int64_t i = 0; i < n; i++) {
            once += all[i] == 1;
            twice += all[i] > 1;
        }
        if (any_left) bad = fprintf(stderr, "a message was left unreceived\n") > 0;
        if (twice) bad = fprintf(stderr, "%lld configurations ran twice\n", (long long)twice) > 0;
        if (f.finished != once) bad = fprintf(stderr, "rank 0 heard of %lld, %lld ran\n", (long long)f.finished, (long long)once) > 0;
        if (!stop_mode && once != n) bad = fprintf(stderr, "%lld of %lld ran\n", (long long)once, (long long)n) > 0;
        if (stop_mode && (once != 1 || stopped != size - 1))
            bad = fprintf(stderr, "after a stop: %lld finished, %d stopped of %lld\n", (long long)once, stopped, (long long)n) > 0;
        if (verbose)
            printf("sched: %lld of %lld configurations ran once, %d stopped, on %d ranks\n", (long long)once,
                   (long long)n, stopped, size);
    }
    MPI_Bcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD);
    free(all);
    free(f.ran);
    sched_queue_free(&q);
    free(st);
    free(cost);
    pf_stop_flag = 0;
    return bad;
}

static void protocol_one_rank(void **state)
{
    (void)state;
    assert_int_equal(protocol(7, 0, 0), 0);
    assert_int_equal(protocol(7, 1, 0), 0);
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
    if (argc >= 3 && strcmp(argv[1], "--mpi-all") == 0) {
        rc = protocol(atoll(argv[2]), 0, 1);
    } else if (argc >= 3 && strcmp(argv[1], "--mpi-stop") == 0) {
        rc = protocol(atoll(argv[2]), 1, 1);
    } else {
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(queue_most_expensive_first),
            cmocka_unit_test(protocol_one_rank),
        };
        rc = cmocka_run_group_tests(tests, NULL, NULL);
    }
    MPI_Finalize();
    return rc;
}
