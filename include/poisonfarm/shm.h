/* shm.h -- one read-only copy of a dataset per node, in an MPI-3 shared-memory window. */
#ifndef POISONFARM_SHM_H
#define POISONFARM_SHM_H

#include "poisonfarm/data.h"

#include <mpi.h>

/* Collective over node (a communicator of ranks that share memory, from MPI_Comm_split_type).
 * On entry the node's rank 0 holds a loaded dataset in *ds (owning its memory); the others' *ds is
 * ignored. On return every rank's *ds describes the same images and labels, which live in a shared
 * window (*win, to free with shm_dataset_free); the leader's private copy is freed. */
void shm_dataset_share(pf_dataset *ds, MPI_Comm node, MPI_Win *win);

/* Collective over the node: frees the window and zeroes *ds. */
void shm_dataset_free(pf_dataset *ds, MPI_Win *win);

#endif
