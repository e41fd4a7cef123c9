/* sched.h -- the farm's scheduler: the queue of configurations to run and the protocol between the
 * ranks that train and rank 0, which hands configurations out between its own training batches.
 *
 * The queue holds the configurations still to run, most expensive first (the long ones must not
 * come last), ties by id, so the order depends on nothing but the grid and the file's statuses.
 *
 * The protocol (point-to-point on the communicator given to sched_create): a rank that is ready,
 * or has finished a configuration, sends rank 0 a request saying what it finished (a
 * sched_outcome) and waits for an assignment: the next configuration, or none (the rank is
 * released). Rank 0 answers requests in sched_poll, which the trainer calls between batches, and
 * while it idles. A stop (pf_stop_flag: SIGUSR1, --stop-after, a configuration that was stopped)
 * makes rank 0 hand out nothing more and send every busy rank a stop message (non-blocking, so it
 * never depends on the message going out eagerly); that rank sets its own pf_stop_flag when it
 * sees the message, and its next assignment tells it to receive the message before it is
 * released. Nothing spins: every wait sleeps between polls. */
#ifndef POISONFARM_SCHED_H
#define POISONFARM_SCHED_H

#include "poisonfarm/common.h"
#include "poisonfarm/store.h"

#include <mpi.h>
#include <stdint.h>

/* What a rank tells rank 0 (sent as raw bytes: every rank runs the same binary). */
typedef enum { SCHED_READY = 0, SCHED_DONE = 1, SCHED_STOPPED = 2 } sched_kind;

typedef struct {
    int32_t kind;        /* sched_kind: READY (nothing finished yet), DONE (finished: done,
                            diverged or failed), STOPPED (interrupted, back to pending) */
    int32_t status;      /* pf_status of a finished configuration */
    int64_t id;          /* the configuration reported on, -1 for READY */
    int32_t best_epoch;
    int32_t pad;
    double accuracy;     /* the reported accuracy (fraction, store_reported_accuracy) */
    double seconds;      /* wall seconds spent on it in this run */
} sched_outcome;

/* The configurations a run trains, and what the file held when the run started. */
typedef struct {
    int64_t *ids;        /* n ids, most expensive first */
    int64_t n;
    int64_t done;        /* done in the file */
    int64_t failed;      /* failed or diverged in the file, and not run again */
    double cost;         /* sum of the estimated costs of ids */
} sched_queue;

/* Whether a configuration in status s is trained by a run: pending and running ones, and with
 * retry_failed the failed and diverged ones too. */
int sched_status_runs(pf_status s, int retry_failed);

/* Builds q from the statuses of the n configurations and their estimated costs (any unit): the
 * pending and running ones, and with retry_failed the failed and diverged ones too. Free with
 * sched_queue_free. */
void sched_queue_build(sched_queue *q, const pf_status *status, const double *cost, int64_t n,
                       int retry_failed);
void sched_queue_free(sched_queue *q);

/* What the scheduler asks of the farm. */
typedef struct {
    /* Any rank: train configuration id here and say how it went (kind DONE or STOPPED). */
    void (*run)(void *ctx, int64_t id, sched_outcome *out);
    /* Rank 0: configuration o->id finished (kind DONE) on rank `from`. May set pf_stop_flag. */
    void (*finished)(void *ctx, const sched_outcome *o, int from);
    /* Rank 0: the run begins to stop; called once. May be NULL. */
    void (*stopping)(void *ctx);
    void *ctx;
} sched_ops;

typedef struct pf_sched pf_sched;

/* A scheduler for this rank over comm (not collective). q and ops are borrowed and must outlive it;
 * only rank 0 reads q. */
pf_sched *sched_create(MPI_Comm comm, const sched_queue *q, const sched_ops *ops);

/* This rank's part of the run, until rank 0 has released every other rank. Rank 0 trains queued
 * configurations itself and answers the others between its batches; the others ask, train and
 * report. Every stop message sent has been received and completed on return. */
void sched_main(pf_sched *s);

/* Between training batches: rank 0 answers every waiting rank (and starts stopping when
 * pf_stop_flag is set); the others check for a stop message from rank 0 and set pf_stop_flag. */
void sched_poll(pf_sched *s);

/* The ranks but 0: how long each of this rank's requests that got a configuration waited for it
 * (seconds, from the request's send to the assignment's arrival), in order; *n of them (0 on rank
 * 0). Valid until sched_free. */
const double *sched_waits(const pf_sched *s, int64_t *n);

/* NULL-safe. */
void sched_free(pf_sched *s);

#endif
