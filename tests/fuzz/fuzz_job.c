/* fuzz_job.c -- libFuzzer harness of the job-file parser (libconfig text, the field table's keys and
 * ranges, expansion into configurations). An accepted job must expand into configurations that the
 * one validator accepts and that the cost model, the fingerprint and the size estimate take without
 * complaint; a refused one is one line naming the file. */
#include "fuzz_common.h"

#include "poisonfarm/grid.h"
#include "poisonfarm/store.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init_dir("fuzz-job");
    /* Relative label files of a job are looked up here, never in the repository. */
    if (chdir(fz_dir) != 0) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (n > 1 << 16) return 0;
    char *text = malloc(n + 1);
    memcpy(text, d, n);
    text[n] = '\0';
    pf_job job;
    pf_error err = {0};
    if (grid_load_string(&job, text, "fuzz.cfg", &err) == 0) {
        FZ_REQUIRE(job.nconfigs >= 1 && job.nconfigs <= 1000000);
        for (int64_t i = 0; i < job.nconfigs && i < 4096; i++) {
            int field = -1;
            char why[512];
            FZ_REQUIRE(config_validate(&job.configs[i], &field, why, sizeof why) == 0);
            double c = grid_config_cost(&job.configs[i], 0);
            FZ_REQUIRE(c > 0 && c < 1e30);
        }
        (void)grid_fingerprint(&job);
        FZ_REQUIRE(store_grid_size(job.configs, job.nconfigs, strlen(text)) > 0);
        FZ_REQUIRE(job.threads >= 1 && job.threads <= 1024);
        grid_free(&job);
    } else {
        FZ_ONE_LINE(err);
        FZ_REQUIRE(strncmp(err.msg, "fuzz.cfg", 8) == 0);
    }
    free(text);
    return 0;
}
