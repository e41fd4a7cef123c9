/* sched.c -- the farm's scheduler: the queue (most expensive first) and the protocol between the
 * ranks that train and rank 0, which answers them between its own training batches. */
#include "poisonfarm/sched.h"

#include "poisonfarm/mpi_util.h"

#include <stdlib.h>
#include <string.h>

/* ---- the queue ----------------------------------------------------------------------------- */

typedef struct {
    double cost;
    int64_t id;
} queue_item;

/* Most expensive first; ties by id, so the order never depends on anything but the grid. */
static int cmp_queue(const void *a, const void *b)
{
    const queue_item *x = a, *y = b;
    if (x->cost != y->cost) return x->cost > y->cost ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

int sched_status_runs(pf_status s, int retry_failed)
{
    return s == PF_STATUS_PENDING || s == PF_STATUS_RUNNING ||
           (retry_failed && (s == PF_STATUS_FAILED || s == PF_STATUS_DIVERGED));
}

void sched_queue_build(sched_queue *q, const pf_status *status, const double *cost, int64_t n,
                       int retry_failed)
{
    memset(q, 0, sizeof *q);
    q->ids = pf_malloc(sizeof *q->ids * (size_t)(n ? n : 1));
    queue_item *items = pf_malloc(sizeof *items * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) {
        pf_status s = status[i];
        int bad = s == PF_STATUS_FAILED || s == PF_STATUS_DIVERGED;
        int run = sched_status_runs(s, retry_failed);
        if (s == PF_STATUS_DONE || s == PF_STATUS_SIMULATED) q->done++;
        if (!run && bad) q->failed++;
        if (run) {
            items[q->n].cost = cost[i];
            items[q->n].id = i;
            q->n++;
            q->cost += cost[i];
        }
    }
    qsort(items, (size_t)q->n, sizeof *items, cmp_queue);
    for (int64_t i = 0; i < q->n; i++) q->ids[i] = items[i].id;
    free(items);
}

void sched_queue_free(sched_queue *q)
{
    if (q == NULL) return;
    free(q->ids);
    memset(q, 0, sizeof *q);
}

/* ---- the protocol -------------------------------------------------------------------------- */

/* (104 is the farm's: farm_internal.h.) */
enum { TAG_REQUEST = 101, TAG_ASSIGN = 102, TAG_STOP = 103 };

/* Rank 0's answer to a request. */
typedef struct {
    int64_t id;          /* next configuration, -1: no more work (released) */
    int32_t stop_sent;   /* 1: a TAG_STOP message was sent to this rank and must be received */
    int32_t pad;
} sched_assign;

struct pf_sched {
    MPI_Comm comm;
    int rank, size;
    sched_ops ops;
    /* rank 0 only */
    const sched_queue *q;
    int64_t next;                  /* next index into q->ids */
    int64_t *busy;                 /* per rank: configuration being trained, -1 idle */
    int *stop_sent;                /* per rank: a stop message went out */
    MPI_Request *stop_req;         /* per rank: that message's send, until completed */
    int stop_msg;                  /* the stop messages' contents (must outlive the sends) */
    int released;                  /* ranks told there is no more work */
    int ready;                     /* first requests (READY) answered */
    int stopping;
    /* the others: how long each request waited for its answer */
    double *waits;
    int64_t nwaits, capwaits;
};

pf_sched *sched_create(MPI_Comm comm, const sched_queue *q, const sched_ops *ops)
{
    pf_sched *s = pf_calloc(1, sizeof *s);
    s->comm = comm;
    PF_MPI_CHECK(MPI_Comm_rank(comm, &s->rank));
    PF_MPI_CHECK(MPI_Comm_size(comm, &s->size));
    s->ops = *ops;
    s->q = q;
    s->stop_msg = 1;
    if (s->rank == 0) {
        s->busy = pf_malloc(sizeof *s->busy * (size_t)s->size);
        s->stop_sent = pf_calloc((size_t)s->size, sizeof *s->stop_sent);
        s->stop_req = pf_malloc(sizeof *s->stop_req * (size_t)s->size);
        for (int w = 0; w < s->size; w++) {
            s->busy[w] = -1;
            s->stop_req[w] = MPI_REQUEST_NULL;
        }
    }
    return s;
}

void sched_free(pf_sched *s)
{
    if (s == NULL) return;
    free(s->busy);
    free(s->stop_sent);
    free(s->stop_req);
    free(s->waits);
    free(s);
}

/* Rank 0: no more work is handed out, and every busy rank is told to stop at its next batch. */
static void enter_stopping(pf_sched *s)
{
    if (!s->stopping) {
        s->stopping = 1;
        if (s->ops.stopping != NULL) s->ops.stopping(s->ops.ctx);
    }
    pf_stop_flag = 1;
    for (int w = 1; w < s->size; w++) {
        if (s->busy[w] >= 0 && !s->stop_sent[w]) {
            /* Non-blocking: a blocking send could wait for the receive, which the rank posts
               only after its next request has been answered -- by this rank. */
            PF_MPI_CHECK(MPI_Isend(&s->stop_msg, 1, MPI_INT, w, TAG_STOP, s->comm, &s->stop_req[w]));
            s->stop_sent[w] = 1;
        }
    }
}

/* Rank 0: answers every waiting rank; returns how many. */
static int serve(pf_sched *s)
{
    int answered = 0;
    if (pf_stop_flag) enter_stopping(s);
    for (;; answered++) {
        int flag = 0;
        MPI_Status status;
        PF_MPI_CHECK(MPI_Iprobe(MPI_ANY_SOURCE, TAG_REQUEST, s->comm, &flag, &status));
        if (!flag) break;
        sched_outcome r;
        int w = status.MPI_SOURCE;
        PF_MPI_CHECK(MPI_Recv(&r, (int)sizeof r, MPI_BYTE, w, TAG_REQUEST, s->comm, MPI_STATUS_IGNORE));
        s->busy[w] = -1;
        if (r.kind == SCHED_READY) s->ready++;
        if (r.kind == SCHED_STOPPED) enter_stopping(s);
        if (r.kind == SCHED_DONE) s->ops.finished(s->ops.ctx, &r, w);
        if (pf_stop_flag) enter_stopping(s);
        sched_assign a = {-1, s->stop_sent[w], 0};
        if (!s->stopping && s->next < s->q->n) {
            a.id = s->q->ids[s->next++];
            s->busy[w] = a.id;
        } else {
            s->released++;
        }
        /* The rank posted its receive before it sent the request: this send never waits long. */
        PF_MPI_CHECK(MPI_Send(&a, (int)sizeof a, MPI_BYTE, w, TAG_ASSIGN, s->comm));
    }
    return answered;
}

void sched_poll(pf_sched *s)
{
    if (s->rank == 0) {
        (void)serve(s);
        return;
    }
    int flag = 0;
    PF_MPI_CHECK(MPI_Iprobe(0, TAG_STOP, s->comm, &flag, MPI_STATUS_IGNORE));
    if (flag) pf_stop_flag = 1;
}

static void main_rank0(pf_sched *s)
{
    pf_poll poll;
    pf_poll_init(&poll, PF_POLL_MAX_MS);
    /* Every rank asks first thing: answer them all before training, so that no rank waits for
       one of this rank's batches to get its first configuration. */
    while (s->ready < s->size - 1)
        if (serve(s) == 0) pf_poll_sleep(&poll);
    pf_poll_reset(&poll);
    for (;;) {
        if (serve(s) > 0) pf_poll_reset(&poll);
        if (!s->stopping && s->next < s->q->n) {
            int64_t id = s->q->ids[s->next++];
            s->busy[0] = id;
            sched_outcome r;
            s->ops.run(s->ops.ctx, id, &r);
            s->busy[0] = -1;
            if (r.kind == SCHED_DONE) s->ops.finished(s->ops.ctx, &r, 0);
            if (r.kind == SCHED_STOPPED || pf_stop_flag) enter_stopping(s);
            continue;
        }
        if (s->released == s->size - 1) break;
        pf_poll_sleep(&poll);
    }
    /* Every rank a stop message went to has received it (its last assignment said so). */
    for (int w = 1; w < s->size; w++)
        if (s->stop_req[w] != MPI_REQUEST_NULL) pf_mpi_wait(&s->stop_req[w]);
}

static void main_worker(pf_sched *s)
{
    sched_outcome r;
    memset(&r, 0, sizeof r);
    r.kind = SCHED_READY;
    r.id = -1;
    int stop_received = 0;
    for (;;) {
        MPI_Request recv, send;
        sched_assign a;
        double t0 = pf_now();
        PF_MPI_CHECK(MPI_Irecv(&a, (int)sizeof a, MPI_BYTE, 0, TAG_ASSIGN, s->comm, &recv));
        PF_MPI_CHECK(MPI_Isend(&r, (int)sizeof r, MPI_BYTE, 0, TAG_REQUEST, s->comm, &send));
        pf_mpi_wait(&send);
        pf_mpi_wait(&recv);
        double waited = pf_now() - t0;
        if (a.stop_sent && !stop_received) {
            int stop;
            PF_MPI_CHECK(MPI_Irecv(&stop, 1, MPI_INT, 0, TAG_STOP, s->comm, &recv));
            pf_mpi_wait(&recv);
            stop_received = 1;
        }
        if (a.id < 0) break;
        if (s->nwaits == s->capwaits) {
            s->capwaits = s->capwaits ? 2 * s->capwaits : 16;
            s->waits = realloc(s->waits, sizeof *s->waits * (size_t)s->capwaits);
            PF_CHECK_ALLOC(s->waits);
        }
        s->waits[s->nwaits++] = waited;
        s->ops.run(s->ops.ctx, a.id, &r);
    }
}

const double *sched_waits(const pf_sched *s, int64_t *n)
{
    *n = s->nwaits;
    return s->waits;
}

void sched_main(pf_sched *s)
{
    if (s->rank == 0)
        main_rank0(s);
    else
        main_worker(s);
}
