/* cli.c -- command dispatch, --help and --version. */
#include "poisonfarm/cli.h"

#include "poisonfarm/common.h"
#include "poisonfarm/grid.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("poisonfarm: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
}

static void usage(FILE *out)
{
    fputs("usage: poisonfarm [COMMAND] [ARGS]\n"
          "\n"
          "Measures how label poisoning hurts a small CNN, over a grid of configurations spread\n"
          "over MPI ranks, into one HDF5 results file.\n"
          "\n"
          "commands:\n"
          "  run [JOBFILE] [-o RESULTS.h5] ...  run a job's grid (the default command; JOBFILE\n"
          "                                     defaults to jobs/seed.cfg); use under mpirun\n"
          "  grid JOBFILE [-n RANKS]            list a job's configurations and estimated times\n"
          "  train --dataset NAME ...           train one configuration in this process\n"
          "  data [--data-dir DIR]              list the datasets and check their files\n"
          "  report RESULTS.h5 [-o DIR]         figures, CSV tables and a summary of a results file\n"
          "\n"
          "  poisonfarm COMMAND --help   options of a command\n"
          "  poisonfarm --version\n",
          out);
}

int cli_main(int argc, char **argv)
{
    if (argc >= 2) {
        const char *c = argv[1];
        if (strcmp(c, "--help") == 0 || strcmp(c, "-h") == 0 || strcmp(c, "help") == 0) {
            usage(stdout);
            return PF_EXIT_OK;
        }
        if (strcmp(c, "--version") == 0 || strcmp(c, "-V") == 0) {
            printf("poisonfarm %s (commit %s)\n", PF_VERSION, PF_GIT_COMMIT);
            return PF_EXIT_OK;
        }
        if (strcmp(c, "data") == 0) return cmd_data(argc - 1, argv + 1);
        if (strcmp(c, "train") == 0) return cmd_train(argc - 1, argv + 1);
        if (strcmp(c, "grid") == 0) return cmd_grid(argc - 1, argv + 1);
        if (strcmp(c, "report") == 0) return cmd_report(argc - 1, argv + 1);
        if (strcmp(c, "run") == 0) return cmd_run(argc - 1, argv + 1);
        /* Anything else that is not an option must be a job file: `poisonfarm quick` runs the
           installed jobs/quick.cfg. */
        char found[PF_PATH_MAX];
        if (c[0] != '-' && grid_find(c, found, NULL) != 0) {
            cli_error("'%s' is neither a command nor a job file (try poisonfarm --help)", c);
            return PF_EXIT_USAGE;
        }
    }
    /* `poisonfarm`, `poisonfarm JOBFILE ...`, `poisonfarm -o x.h5 ...`: run. */
    return cmd_run(argc, argv);
}
