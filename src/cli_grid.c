/* cli_grid.c -- `poisonfarm grid JOBFILE [-n RANKS]`: the expanded configurations with estimated
 * times from a short calibration of this machine, the total, and the makespan on RANKS ranks. */
#include "poisonfarm/cli.h"

#include "poisonfarm/common.h"
#include "poisonfarm/fsutil.h"
#include "poisonfarm/grid.h"
#include "poisonfarm/nn.h"
#include "poisonfarm/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void grid_usage(FILE *out)
{
    fputs("usage: poisonfarm grid JOBFILE [-n RANKS] [--threads T]\n"
          "\n"
          "Lists the job's configurations (ids as in the results file) with an estimated wall time\n"
          "each on this machine, the total, and the expected makespan on RANKS ranks (default 1),\n"
          "to choose mpirun -np and Slurm's --time. Trains nothing.\n",
          out);
}

int cmd_grid(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"ranks", required_argument, NULL, 'n'}, {"threads", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    long ranks = 1, threads = 1;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":n:h", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'n':
            ranks = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || ranks < 1 || ranks > 1000000) {
                cli_error("-n: expected a positive number of ranks, got '%s'", optarg);
                return PF_EXIT_USAGE;
            }
            break;
        case 't':
            threads = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || threads < 1 || threads > 1024) {
                cli_error("--threads: expected a number from 1 to 1024, got '%s'", optarg);
                return PF_EXIT_USAGE;
            }
            break;
        case 'h': grid_usage(stdout); return PF_EXIT_OK;
        case ':': cli_error("option %s needs a value (try --help)", argv[optind - 1]); return PF_EXIT_USAGE;
        default: cli_error("unknown option '%s' (try --help)", argv[optind - 1]); return PF_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_error(optind >= argc ? "grid: which job file? (try --help)" : "grid: one job file only (try --help)");
        return PF_EXIT_USAGE;
    }
    char path[PF_PATH_MAX];
    pf_error err = {0};
    pf_job job;
    memset(&job, 0, sizeof job);
    if (grid_find(argv[optind], path, &err) != 0 || grid_load(&job, path, &err) != 0) {
        cli_error("%s", err.msg);
        return PF_EXIT_USAGE;
    }

    double rate = grid_calibrate((int)threads);
    double *secs = pf_malloc(sizeof *secs * (size_t)(job.nconfigs ? job.nconfigs : 1));
    double total = 0;
    printf("%s: %lld configurations (calibration: %.0f forward passes/s per rank with %ld thread%s)\n",
           path, (long long)job.nconfigs, rate, threads, threads == 1 ? "" : "s");
    printf("%6s  %-13s %-6s %6s %7s %-5s %5s %-5s %2s %3s  %9s\n", "id", "dataset", "mode", "subset",
           "percent", "model", "batch", "sel", "pv", "rep", "estimate");
    for (int64_t i = 0; i < job.nconfigs; i++) {
        const pf_config *cfg = &job.configs[i];
        secs[i] = grid_config_cost(cfg, 0) / rate;
        total += secs[i];
        char d[32];
        pf_format_duration(secs[i], d, sizeof d);
        printf("%6lld  %-13s %-6s %6d %7g %-5s %5d %-5s %2d %3d  %9s\n", (long long)i, dataset_name(cfg->dataset),
               poison_mode_name(cfg->mode), cfg->subset, cfg->percent, model_kind_name(cfg->model), cfg->batch_size,
               selection_name(cfg->selection), cfg->poison_validation, cfg->repeat, d);
    }
    double makespan = grid_lpt_makespan(secs, job.nconfigs, ranks);
    char t1[32], t2[32];
    pf_format_duration(total, t1, sizeof t1);
    pf_format_duration(makespan, t2, sizeof t2);
    printf("total %s of training (one rank); expected makespan on %ld rank%s: %s%s\n", t1, ranks,
           ranks == 1 ? "" : "s", t2,
           job.epochs_capped ? "" : " (estimates assume early stopping after 30-40 epochs)");
    printf("estimates are rough: early stopping makes real times vary by a factor of about 2\n");
    /* Every dataset of the results file is allocated when the run starts: its size is known now. */
    char size[32];
    printf("results file: about %s (allocated when the run starts)\n",
           fs_format_bytes(store_grid_size(job.configs, job.nconfigs, strlen(job.text) + strlen(path)), size,
                           sizeof size));
    free(secs);
    grid_free(&job);
    return PF_EXIT_OK;
}
