/* cli_report.c -- `poisonfarm report RESULTS.h5 [-o DIR] [--quiet]`: tables, figures and a summary
 * of a results file (report.h). */
#include "poisonfarm/cli.h"

#include "poisonfarm/common.h"
#include "poisonfarm/report.h"
#include "poisonfarm/store.h"

#include <getopt.h>
#include <stdio.h>

static void report_usage(FILE *out)
{
    fputs("usage: poisonfarm report RESULTS.h5 [-o DIR] [--quiet]\n"
          "\n"
          "Writes the report of a results file (also of a partial one: a job still running or\n"
          "interrupted) into DIR, default output/report/<RESULTS name without .h5>/:\n"
          "  results.csv     one row per configuration (accuracies as fractions, NaN as empty)\n"
          "  history.csv     one row per configuration and epoch\n"
          "  transitions.csv the realised noise: configuration, true label, given label, count\n"
          "  suspects.csv    the 100 most suspicious training items of each configuration (item,\n"
          "                  given, true and predicted label, probability of the given label)\n"
          "  summary.md      tables per subset: clean accuracy, 25/50/75 %, robust up to, chance,\n"
          "                  full noisy set vs clean first items, finding the poisoned items\n"
          "                  (AUROC, flag precision and recall, top 1/5/10 %), flags (partial data,\n"
          "                  capped epochs)\n"
          "  NAME.png/.svg   figures drawn by gnuplot, with NAME.gp and NAME.dat to restyle and\n"
          "                  rerun (cd DIR && gnuplot NAME.gp); detection_SUBSET draws the\n"
          "                  detection AUROC next to the accuracy\n"
          "\n"
          "options:\n"
          "  -o, --output DIR   where to write (created with its parents if missing)\n"
          "  -q, --quiet        print nothing but errors\n"
          "  -h, --help         this text\n"
          "\n"
          "gnuplot: $POISONFARM_GNUPLOT when set, else gnuplot in PATH; without it everything but\n"
          "the pictures is written (install gnuplot-nox).\n",
          out);
}

int cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out_dir = NULL;
    int quiet = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out_dir = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': report_usage(stdout); return PF_EXIT_OK;
        case ':': cli_error("report: option '%s' needs a value", argv[optind - 1]); return PF_EXIT_USAGE;
        default: cli_error("report: unknown option '%s' (try poisonfarm report --help)", argv[optind - 1]);
            return PF_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_error("report: %s (usage: poisonfarm report RESULTS.h5 [-o DIR])",
                  optind >= argc ? "which results file?" : "one results file at a time");
        return PF_EXIT_USAGE;
    }
    store_quiet_hdf5();
    pf_error err = {0};
    if (report_write(argv[optind], out_dir, quiet, &err) != 0) {
        cli_error("%s", err.msg);
        /* gnuplot failing is not the user's doing (PF_ERR_NONE); everything else is. */
        return err.kind == PF_ERR_NONE ? PF_EXIT_FAIL : PF_EXIT_USAGE;
    }
    return PF_EXIT_OK;
}
