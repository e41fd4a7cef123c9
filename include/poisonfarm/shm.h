/* shm.h -- one read-only copy of a dataset per node, in an MPI-3 shared-memory window, and the
 * farm's sharing of its datasets over the nodes of a job. */
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

/* Collective over node: every rank of the node gets the datasets marked in need, in one copy. On
 * entry the node's rank 0 holds them loaded (the farm's node leaders loaded and checked them before
 * the run); datasets not needed are freed. On return ds[d] of a needed dataset lives in the window
 * win[d] (free with shm_dataset_free); win[d] is MPI_WIN_NULL for the others. */
void shm_share_datasets(pf_dataset ds[PF_DS_COUNT], MPI_Win win[PF_DS_COUNT], const int need[PF_DS_COUNT],
                        MPI_Comm node);

#endif
