/* cli_run.c -- `mpirun -np N poisonfarm [run] [JOBFILE] [options]`: the farm (farm.h). */
#include "poisonfarm/cli.h"

#include "poisonfarm/common.h"
#include "poisonfarm/mpi_util.h"
#include "poisonfarm/farm.h"
#include "poisonfarm/grid.h"
#include "poisonfarm/store.h"

#include <getopt.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void run_usage(FILE *out)
{
    fputs("usage: mpirun -np N poisonfarm [run] [JOBFILE] [options]\n"
          "\n"
          "Runs every configuration of JOBFILE (default jobs/seed.cfg) over the MPI ranks into one\n"
          "HDF5 results file. Running again on the same file resumes it.\n"
          "\n"
          "  -o, --output FILE     results file (default: the job's `output`, else output/<job>.h5)\n"
          "      --data-dir DIR    data directory (over the job's data_dir, $POISONFARM_DATA, ./data)\n"
          "      --threads T       compute threads per rank (over the job's `threads`; default 1)\n"
          "      --isa PATH        kernels: auto (each CPU's default), scalar, avx2, avx512\n"
          "      --force           move a results file of another grid or format aside (never deleted)\n"
          "      --retry-failed    run failed and diverged configurations again\n"
          "      --stop-after K    stop gracefully once K more configurations are done (as SIGUSR1)\n"
          "      --checkpoint-interval S  checkpoint a running configuration at most every S seconds\n"
          "                        (over the job's checkpoint_interval; default 60; 0 = every epoch);\n"
          "                        always at a stop\n"
          "      --dry-run SCALE   train nothing: each configuration sleeps its estimate (as poisonfarm\n"
          "                        grid prints it) x SCALE, and its row is written as simulated into a\n"
          "                        file marked as a dry run's (report, train --from and a real run refuse\n"
          "                        it); ends with what the farm measured (docs/scaling.md)\n"
          "  -q, --quiet           no per-configuration progress lines\n"
          "  -v, --verbose         also a line per completed epoch and checkpoint, from every rank\n"
          "  -h, --help            this help\n"
          "\n"
          "exit status: 0 all done, 2 bad usage or input, 3 some configurations failed or diverged,\n"
          "4 stopped early (SIGUSR1, --stop-after) with configurations pending.\n",
          out);
}

/* Parses the options; returns 0, 1 for --help, or -1 with a message in err. */
static int parse(int argc, char **argv, pf_run_opts *o, pf_error *err)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},   {"data-dir", required_argument, NULL, 'd'},
        {"threads", required_argument, NULL, 't'},  {"force", no_argument, NULL, 'f'},
        {"retry-failed", no_argument, NULL, 'r'},   {"stop-after", required_argument, NULL, 's'},
        {"quiet", no_argument, NULL, 'q'},          {"help", no_argument, NULL, 'h'},
        {"checkpoint-interval", required_argument, NULL, 'c'}, {"verbose", no_argument, NULL, 'v'},
        {"dry-run", required_argument, NULL, 'D'},
        {"isa", required_argument, NULL, 'i'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->checkpoint_interval = -1;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":o:qvh", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'o':
            if (pf_snprintf(o->output, sizeof o->output, "%s", optarg) != 0)
                return pf_error_set(err, PF_ERR_USAGE, "--output: path too long");
            break;
        case 'd':
            if (pf_snprintf(o->data_dir, sizeof o->data_dir, "%s", optarg) != 0)
                return pf_error_set(err, PF_ERR_USAGE, "--data-dir: path too long");
            break;
        case 't': {
            long v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 1 || v > 1024)
                return pf_error_set(err, PF_ERR_USAGE, "--threads: expected a number from 1 to 1024, got '%s'", optarg);
            o->threads = (int)v;
            break;
        }
        case 's': {
            long long v = strtoll(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 1)
                return pf_error_set(err, PF_ERR_USAGE, "--stop-after: expected a positive number, got '%s'", optarg);
            o->stop_after = v;
            break;
        }
        case 'c': {
            double v = strtod(optarg, &end);
            if (*optarg == '\0' || *end != '\0' || !(v >= 0 && v <= PF_CHECKPOINT_INTERVAL_MAX))
                return pf_error_set(err, PF_ERR_USAGE,
                                    "--checkpoint-interval: expected seconds from 0 to %g, got '%s'",
                                    PF_CHECKPOINT_INTERVAL_MAX, optarg);
            o->checkpoint_interval = v;
            break;
        }
        case 'v': o->verbose = 1; break;
        case 'D': {
            double v = strtod(optarg, &end);
            if (*optarg == '\0' || *end != '\0' || !(v > 0 && v <= PF_DRY_RUN_SCALE_MAX))
                return pf_error_set(err, PF_ERR_USAGE, "--dry-run: expected a SCALE above 0, at most %g, got '%s'",
                                    PF_DRY_RUN_SCALE_MAX, optarg);
            o->dry_run_scale = v;
            break;
        }
        case 'i':
            if (isa_from_name(optarg, &o->isa) != 0)
                return pf_error_set(err, PF_ERR_USAGE, "--isa: expected auto, scalar, avx2 or avx512, got '%s'", optarg);
            break;
        case 'f': o->force = 1; break;
        case 'r': o->retry_failed = 1; break;
        case 'q': o->quiet = 1; break;
        case 'h': return 1;
        case ':': return pf_error_set(err, PF_ERR_USAGE, "option %s needs a value (try --help)", argv[optind - 1]);
        default: return pf_error_set(err, PF_ERR_USAGE, "unknown option '%s' (try --help)", argv[optind - 1]);
        }
    }
    int first = optind;
    if (first < argc && strcmp(argv[first], "run") == 0) first++;
    if (first < argc) {
        if (pf_snprintf(o->job_path, sizeof o->job_path, "%s", argv[first]) != 0)
            return pf_error_set(err, PF_ERR_USAGE, "job file path too long");
        first++;
    }
    if (first < argc) return pf_error_set(err, PF_ERR_USAGE, "unexpected argument '%s' (try --help)", argv[first]);
    return 0;
}

int cmd_run(int argc, char **argv)
{
    /* Handlers first: a SIGUSR1 that arrives before them would kill the rank. */
    pf_install_stop_signals();
    (void)pf_raise_open_files(); /* MPI over TCP: a socket per rank on another node */
    pf_error err = {0};
    int init = pf_mpi_init(&argc, &argv, &err);
    int rank = 0;
    PF_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));

    pf_run_opts opts;
    int rc = init == 0 ? parse(argc, argv, &opts, &err) : -1;
    int status;
    if (rc == 1) {
        if (rank == 0) run_usage(stdout);
        status = PF_EXIT_OK;
    } else if (rc < 0) {
        if (rank == 0) cli_error("%s", err.msg);
        status = PF_EXIT_USAGE;
    } else {
        status = farm_run(&opts);
    }
    fflush(stdout);
    PF_MPI_CHECK(MPI_Finalize());
    return status;
}
