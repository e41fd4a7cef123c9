/* h5_util.h -- HDF5's checked calls: PF_H5_CHECK reports a failing call with HDF5's own message
 * (rank, file:line) and aborts the job. For calls that cannot fail because of the user; readers of
 * files that are user input check return values themselves and report one line (store_read.c). */
#ifndef POISONFARM_H5_UTIL_H
#define POISONFARM_H5_UTIL_H

#include "poisonfarm/common.h"

#include <hdf5.h>
#include <stdnoreturn.h>

/* Evaluates an HDF5 call once; a negative id/herr_t aborts the job with HDF5's own message.
 * Yields the call's value, so `hid_t d = PF_H5_CHECK(H5Dopen2(...));` works. */
#define PF_H5_CHECK(call)                                                                 \
    __extension__({                                                                       \
        __typeof__(call) pf_h5_rc_ = (call);                                              \
        if (pf_h5_rc_ < 0) pf_fatal_h5(__FILE__, __LINE__, #call);                        \
        pf_h5_rc_;                                                                        \
    })

/* Reports the failed call `what` with the innermost message of HDF5's error stack (rank,
 * file:line) and aborts the job. */
noreturn void pf_fatal_h5(const char *file, int line, const char *what);

#endif
