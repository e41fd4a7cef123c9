/* h5poke.c -- the integration tests' way to damage a results file on purpose, value by value
 * (h5mutate.h):
 *   h5poke FILE DATASET INDEX MEMBER VALUE   one member of one row ("-" as MEMBER: a simple type)
 *   h5poke FILE @ATTRIBUTE VALUE             a root attribute
 *   h5poke FILE --remove NAME                a dataset, group or "@attribute"
 * Exit 0 when done, 1 when the file, object or member is not there. */
#include "h5mutate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: h5poke FILE DATASET INDEX MEMBER VALUE | FILE @ATTR VALUE | FILE --remove NAME\n");
        return 2;
    }
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_sec2(fapl);
    H5Pset_file_locking(fapl, 0, 1);
    hid_t f = H5Fopen(argv[1], H5F_ACC_RDWR, fapl);
    H5Pclose(fapl);
    if (f < 0) return 1;
    int rc;
    if (strcmp(argv[2], "--remove") == 0)
        rc = h5m_remove(f, argv[3]);
    else if (argv[2][0] == '@')
        rc = h5m_set_attr(f, argv[2] + 1, argv[3]);
    else if (argc == 6)
        rc = h5m_set_text(f, argv[2], strtoull(argv[3], NULL, 10), strcmp(argv[4], "-") == 0 ? NULL : argv[4], argv[5]);
    else
        rc = -1;
    if (H5Fclose(f) < 0) rc = -1;
    if (rc != 0) fprintf(stderr, "h5poke: could not change %s in %s\n", argv[2], argv[1]);
    return rc == 0 ? 0 : 1;
}
