/* lock.h -- one writing run per results file: RESULTS.h5.lock, created atomically next to it.
 *
 * The lock file holds "host=", "pid=", "job=" (the Slurm job id, or "none") and "since=" lines. It
 * does not rely on HDF5's own file locking (often switched off with HDF5_USE_FILE_LOCKING=FALSE on
 * cluster file systems, and not taken by the MPI-IO driver at all). A lock is stale, and is taken
 * over with a note on stderr, when its process is gone from this host (kill(pid, 0) fails with
 * ESRCH) or when it carries this process's Slurm job id (a requeued job may restart on another
 * node). Only rank 0 takes the lock, before the results file is touched. */
#ifndef POISONFARM_LOCK_H
#define POISONFARM_LOCK_H

#include "poisonfarm/common.h"

typedef struct pf_lock pf_lock;

/* Takes the lock of results_path (the lock file is results_path + ".lock"). Returns an owned
 * handle, or NULL with a one-line error (PF_ERR_IO) naming the lock file, its holder and how to
 * remove it when another live run holds it, or why it cannot be created. */
pf_lock *lock_acquire(const char *results_path, pf_error *err);

/* Removes the lock file if it is still ours (its content is what we wrote) and frees the handle.
 * NULL-safe. */
void lock_release(pf_lock *lock);

/* Frees the handle without touching the lock file: for a forked child, which must not release its
 * parent's lock. NULL-safe. */
void lock_forget(pf_lock *lock);

/* Describes the lock of results_path for people, without taking it: 0 and "" when there is none;
 * 1 with out "held by pid P on host H (Slurm job J) since T" and, on this host, whether that
 * process still runs ("; that process has ended: the next run takes the lock over"); 2 with out
 * saying what is there instead (a file this poisonfarm cannot read, a directory, ...). */
int lock_describe(const char *results_path, char *out, size_t size);

/* The lock file's path ("RESULTS.h5.lock"). */
const char *lock_path(const pf_lock *lock);

#endif
