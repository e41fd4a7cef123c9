/* shm.c -- one read-only copy of a dataset per node, in an MPI-3 shared-memory window. */
#include "poisonfarm/shm.h"

#include "poisonfarm/mpi_util.h"

#include <stdlib.h>
#include <string.h>

/* The window holds, back to back: train images, test images, train labels, test labels, and the
 * coarse labels of both splits when present. */
static size_t layout(const pf_dataset *ds, size_t off[6])
{
    size_t img = (size_t)dataset_image_bytes(ds);
    size_t sizes[6] = {
        img * (size_t)ds->train.n, img * (size_t)ds->test.n, (size_t)ds->train.n,
        (size_t)ds->test.n, ds->train.coarse ? (size_t)ds->train.n : 0,
        ds->test.coarse ? (size_t)ds->test.n : 0,
    };
    size_t total = 0;
    for (int i = 0; i < 6; i++) {
        off[i] = total;
        total += (sizes[i] + 63) / 64 * 64;
    }
    return total;
}

void shm_dataset_share(pf_dataset *ds, MPI_Comm node, MPI_Win *win)
{
    int nrank = 0;
    PF_MPI_CHECK(MPI_Comm_rank(node, &nrank));
    int has_coarse[2] = {0, 0};
    if (nrank == 0) {
        has_coarse[0] = ds->train.coarse != NULL;
        has_coarse[1] = ds->test.coarse != NULL;
    }
    /* Everyone gets the description (the pointers in it are fixed below). */
    PF_MPI_CHECK(MPI_Bcast(ds, (int)sizeof *ds, MPI_BYTE, 0, node));
    PF_MPI_CHECK(MPI_Bcast(has_coarse, 2, MPI_INT, 0, node));
    if (!has_coarse[0]) ds->train.coarse = NULL;
    if (!has_coarse[1]) ds->test.coarse = NULL;

    size_t off[6];
    size_t total = layout(ds, off);
    uint8_t *base = NULL;
    PF_MPI_CHECK(MPI_Win_allocate_shared(nrank == 0 ? (MPI_Aint)total : 0, 1, MPI_INFO_NULL, node,
                                         &base, win));
    pf_mpi_win_errors_return(*win);
    if (nrank == 0) {
        size_t img = (size_t)dataset_image_bytes(ds);
        memcpy(base + off[0], ds->train.images, img * (size_t)ds->train.n);
        memcpy(base + off[1], ds->test.images, img * (size_t)ds->test.n);
        memcpy(base + off[2], ds->train.labels, (size_t)ds->train.n);
        memcpy(base + off[3], ds->test.labels, (size_t)ds->test.n);
        if (ds->train.coarse) memcpy(base + off[4], ds->train.coarse, (size_t)ds->train.n);
        if (ds->test.coarse) memcpy(base + off[5], ds->test.coarse, (size_t)ds->test.n);
        if (ds->owns_memory) {
            free(ds->train.images);
            free(ds->test.images);
            free(ds->train.labels);
            free(ds->test.labels);
            free(ds->train.coarse);
            free(ds->test.coarse);
        }
    } else {
        MPI_Aint size = 0;
        int disp = 0;
        PF_MPI_CHECK(MPI_Win_shared_query(*win, 0, &size, &disp, &base));
    }
    ds->owns_memory = 0;
    ds->train.images = base + off[0];
    ds->test.images = base + off[1];
    ds->train.labels = base + off[2];
    ds->test.labels = base + off[3];
    if (ds->train.coarse) ds->train.coarse = base + off[4];
    if (ds->test.coarse) ds->test.coarse = base + off[5];
    /* The leader's copy must be complete before anyone reads it. */
    pf_mpi_barrier(node);
}

void shm_dataset_free(pf_dataset *ds, MPI_Win *win)
{
    if (*win != MPI_WIN_NULL) PF_MPI_CHECK(MPI_Win_free(win));
    memset(ds, 0, sizeof *ds);
}

void shm_share_datasets(pf_dataset ds[PF_DS_COUNT], MPI_Win win[PF_DS_COUNT], const int need[PF_DS_COUNT],
                        MPI_Comm node)
{
    for (int d = 0; d < PF_DS_COUNT; d++) {
        win[d] = MPI_WIN_NULL;
        if (!need[d]) {
            dataset_free(&ds[d]);
            continue;
        }
        shm_dataset_share(&ds[d], node, &win[d]);
    }
}
