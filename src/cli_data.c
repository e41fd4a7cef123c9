/* cli_data.c -- `poisonfarm data`: lists the datasets of the data directory and checks their files. */
#include "poisonfarm/cli.h"
#include "poisonfarm/common.h"
#include "poisonfarm/data.h"
#include "poisonfarm/fsutil.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *out)
{
    fputs("usage: poisonfarm data [--data-dir DIR] [--require NAME,NAME...] [--verbose]\n"
          "\n"
          "Lists each dataset (mnist, fashion_mnist, cifar10, cifar100) of the data directory: path,\n"
          "training and test items, image shape, classes, items per class, and whether the files\n"
          "match the official checksums (information only). Every file is read and validated.\n"
          "\n"
          "  -d, --data-dir DIR     data directory (default: $POISONFARM_DATA, else ./data, else the\n"
          "                         installed share directory)\n"
          "  -r, --require LIST     exit 2 when one of these datasets is missing (comma-separated)\n"
          "  -v, --verbose          items per class of every class, also for CIFAR-100\n"
          "  -h, --help             this help\n"
          "\n"
          "exit status: 0 every dataset that is there loads and validates (missing ones are listed);\n"
          "             2 a file is corrupt, a --require'd dataset is missing, or bad usage\n",
          out);
}

/* Where the data directory came from, for people. */
static const char *dir_origin(const char *cli)
{
    const char *env = getenv("POISONFARM_DATA");
    if (cli != NULL && cli[0] != '\0') return "--data-dir";
    if (env != NULL && env[0] != '\0') return "$POISONFARM_DATA";
    if (fs_is_dir("data")) return "./data";
    return "the installed share directory";
}

/* Parses "a,b,c" into required[]; returns 0 or -1 after reporting an unknown name. */
static int parse_require(const char *list, int required[PF_DS_COUNT])
{
    char buf[256];
    if (pf_snprintf(buf, sizeof buf, "%s", list) != 0) {
        cli_error("--require: list too long");
        return -1;
    }
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        pf_dataset_id id;
        if (dataset_from_name(tok, &id) != 0) {
            cli_error("--require: unknown dataset '%s' (mnist, fashion_mnist, cifar10, cifar100)", tok);
            return -1;
        }
        required[id] = 1;
    }
    return 0;
}

static void print_counts(const pf_dataset *ds, const pf_split *sp, const char *what, int verbose)
{
    int32_t counts[PF_MAX_CLASSES];
    dataset_count_classes(ds, sp, counts);
    if (ds->k <= 10 || verbose) {
        printf("  %-5s per class:", what);
        for (int c = 0; c < ds->k; c++) {
            if (c > 0 && c % 20 == 0) printf("\n                  ");
            printf(" %d", (int)counts[c]);
        }
        putchar('\n');
        return;
    }
    int lo = 0, hi = 0;
    for (int c = 1; c < ds->k; c++) {
        if (counts[c] < counts[lo]) lo = c;
        if (counts[c] > counts[hi]) hi = c;
    }
    if (counts[lo] == counts[hi]) {
        printf("  %-5s per class: %d each (%d classes)\n", what, (int)counts[lo], ds->k);
        return;
    }
    printf("  %-5s per class: %d (%s) to %d (%s) over %d classes (--verbose lists them)\n", what, (int)counts[lo],
           ds->class_names[lo], (int)counts[hi], ds->class_names[hi], ds->k);
}

/* "checksums: 4 official" / "checksums: 2 official; differ: train.bin; not recorded: x.txt" */
static void print_checksums(const pf_dataset *ds)
{
    int nofficial = 0;
    for (int i = 0; i < ds->nfiles; i++) nofficial += ds->files[i].official == 1;
    printf("  checksums: %d of %d files official", nofficial, ds->nfiles);
    for (int want = 0; want >= -1; want--) {
        int first = 1;
        for (int i = 0; i < ds->nfiles; i++) {
            if (ds->files[i].official != want) continue;
            printf("%s%s", first ? (want == 0 ? "; differ: " : "; not recorded: ") : ", ",
                   fs_base_name(ds->files[i].path));
            first = 0;
        }
    }
    putchar('\n');
}

static void print_dataset(const pf_dataset *ds, int verbose)
{
    printf("%-14s %-8s %s\n", dataset_name(ds->id), ds->partial ? "partial" : "ok", ds->dir);
    if (ds->partial)
        printf("  train partial, %s\n", ds->partial_hint);
    else
        printf("  train %d items (complete)\n", (int)ds->train.n);
    printf("  test  %d items   images %dx%dx%d (C x H x W, bytes)   %d classes: %s, %s .. %s\n", (int)ds->test.n,
           ds->c, ds->h, ds->w, ds->k, ds->class_names[0], ds->class_names[1], ds->class_names[ds->k - 1]);
    print_counts(ds, &ds->train, "train", verbose);
    print_counts(ds, &ds->test, "test", verbose);
    print_checksums(ds);
}

int cmd_data(int argc, char **argv)
{
    static const struct option opts[] = {{"data-dir", required_argument, NULL, 'd'},
                                         {"require", required_argument, NULL, 'r'},
                                         {"verbose", no_argument, NULL, 'v'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *cli_dir = NULL;
    int required[PF_DS_COUNT] = {0}, verbose = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:r:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': cli_dir = optarg; break;
        case 'r':
            if (parse_require(optarg, required) != 0) return PF_EXIT_USAGE;
            break;
        case 'v': verbose = 1; break;
        case 'h': usage(stdout); return PF_EXIT_OK;
        case ':':
            cli_error("data: option %s needs an argument", argv[optind - 1]);
            usage(stderr);
            return PF_EXIT_USAGE;
        default:
            cli_error("data: unknown option %s", argv[optind - 1]);
            usage(stderr);
            return PF_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("data: unexpected argument '%s'", argv[optind]);
        usage(stderr);
        return PF_EXIT_USAGE;
    }

    char dir[PF_PATH_MAX];
    if (dataset_resolve_dir(cli_dir, NULL, dir) != 0) {
        cli_error("data: data directory path too long");
        return PF_EXIT_USAGE;
    }
    struct stat st;
    printf("data directory: %s (from %s%s)\n", dir, dir_origin(cli_dir),
           stat(dir, &st) == 0 ? "" : "; it does not exist: run make data");
    fflush(stdout);

    int status = PF_EXIT_OK, npresent = 0;
    /* One dataset in memory at a time: the whole of CIFAR-10 is 150 MB. */
    pf_dataset *ds = pf_calloc(1, sizeof *ds);
    for (int id = 0; id < PF_DS_COUNT; id++) {
        pf_error err = {0};
        if (dataset_load(ds, (pf_dataset_id)id, dir, PF_LOAD_CHECKSUMS, &err) == 0) {
            print_dataset(ds, verbose);
            npresent++;
        } else if (err.kind == PF_ERR_MISSING) {
            printf("%-14s %-8s %s\n", dataset_name((pf_dataset_id)id), "MISSING", err.msg);
            if (required[id]) {
                cli_error("data: %s is required: %s", dataset_name((pf_dataset_id)id), err.msg);
                status = PF_EXIT_USAGE;
            }
        } else {
            printf("%-14s %-8s %s\n", dataset_name((pf_dataset_id)id), "ERROR", err.msg);
            cli_error("%s", err.msg);
            status = PF_EXIT_USAGE;
        }
        fflush(stdout);
        dataset_free(ds);
    }
    free(ds);
    printf("%d of %d datasets ready%s\n", npresent, (int)PF_DS_COUNT,
           status == PF_EXIT_OK ? "" : "; see the errors above");
    return status;
}
