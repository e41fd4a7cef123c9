/* farm_prepare.c -- the checks before the results file is touched, and the plan of the run: rank 0
 * checks the job file, the data (loaded and checksummed), the output path and an existing results
 * file (resumed, refused, or to be moved aside with --force) and takes the lock; every other host
 * checks its own copy of the data against rank 0's; then rank 0 claims the output (moves the old
 * file aside, creates the checkpoint directory). Every problem is the user's and becomes one line. */
#include "farm_internal.h"

#include "poisonfarm/fsutil.h"
#include "poisonfarm/grid.h"
#include "poisonfarm/mpi_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void random_hex(char *out, size_t nbytes)
{
    unsigned char buf[32];
    if (nbytes > sizeof buf) nbytes = sizeof buf;
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got = f ? fread(buf, 1, nbytes, f) : 0;
    if (f) fclose(f);
    if (got != nbytes) { /* no /dev/urandom: time and pid are unique enough for a file id */
        uint64_t x = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
        for (size_t i = 0; i < nbytes; i++) buf[i] = (unsigned char)(x >> (8 * (i % 8))) ^ (unsigned char)i;
    }
    for (size_t i = 0; i < nbytes; i++) sprintf(out + 2 * i, "%02x", buf[i]);
}

static void checksum_text(const pf_dataset *ds, char **text)
{
    for (int i = 0; i < ds->nfiles; i++) {
        const char *name = fs_base_name(ds->files[i].path);
        size_t old = *text ? strlen(*text) : 0;
        size_t add = strlen(dataset_name(ds->id)) + strlen(name) + 40;
        *text = realloc(*text, old + add + 1);
        PF_CHECK_ALLOC(*text);
        snprintf(*text + old, add + 1, "%s/%s %s\n", dataset_name(ds->id), name, ds->files[i].md5);
    }
}

/* The fingerprint of a run: the grid's and the data's (a resumed run needs both unchanged). */
static uint64_t run_fingerprint(uint64_t grid_fp, const char *checksums)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = checksums ? checksums : ""; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    return grid_fp ^ (h * 0x9e3779b97f4a7c15ULL);
}

/* Moves a results file (and its checkpoint directory) aside: never deleted. */
static int move_aside(const char *path, const char *file_id, pf_error *err)
{
    char stamp[32], moved[PF_PATH_MAX], ck_old[PF_PATH_MAX], ck_new[PF_PATH_MAX];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
    if (pf_snprintf(moved, sizeof moved, "%s.moved-%s", path, stamp) != 0)
        return pf_error_set(err, PF_ERR_IO, "%s: path too long", path);
    if (rename(path, moved) != 0)
        return pf_error_set(err, PF_ERR_IO, "%s: cannot move aside to %s: %s", path, moved, strerror(errno));
    fprintf(stderr, "poisonfarm: --force: moved %s to %s\n", path, moved);
    if (file_id[0] && pf_snprintf(ck_old, sizeof ck_old, "%s.ckpt-%s", path, file_id) == 0 &&
        pf_snprintf(ck_new, sizeof ck_new, "%s.ckpt-%s", moved, file_id) == 0)
        (void)rename(ck_old, ck_new);
    return 0;
}

int farm_prepare(farm_ctx *ctx, const pf_run_opts *opts, pf_error *err)
{
    farm_plan *plan = &ctx->plan;
    pf_job job;
    memset(&job, 0, sizeof job);
    char found[PF_PATH_MAX];
    int rc = -1;

    const char *jp = opts->job_path[0] ? opts->job_path : "jobs/seed.cfg";
    if (grid_find(jp, found, err) != 0) goto cleanup;
    if (grid_load(&job, found, err) != 0) goto cleanup;

    /* Output path. */
    if (opts->output[0])
        snprintf(plan->output, sizeof plan->output, "%s", opts->output);
    else if (job.output[0])
        snprintf(plan->output, sizeof plan->output, "%s", job.output);
    else if (pf_snprintf(plan->output, sizeof plan->output, "output/%s.h5", job.name) != 0) {
        pf_error_set(err, PF_ERR_USAGE, "%s: output path too long", found);
        goto cleanup;
    }
    if (dataset_resolve_dir(opts->data_dir[0] ? opts->data_dir : NULL, job.data_dir[0] ? job.data_dir : NULL,
                            plan->data_dir) != 0) {
        pf_error_set(err, PF_ERR_USAGE, "data directory path too long");
        goto cleanup;
    }
    plan->threads = opts->threads > 0 ? opts->threads : (job.threads > 0 ? job.threads : 1);
    plan->epochs_capped = job.epochs_capped;
    plan->checkpoint_interval = opts->checkpoint_interval >= 0 ? opts->checkpoint_interval : job.checkpoint_interval;

    /* An existing results file: same grid (and data) or refused. */
    pf_store_info info;
    memset(&info, 0, sizeof info);
    if (store_inspect(plan->output, &info, err) != 0) {
        /* --force moves a results file of another format version aside, like one of another grid. */
        int other_format = info.format != 0 && info.format != PF_STORE_FORMAT_CURRENT;
        if (other_format && !opts->force) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            pf_error_set(err, PF_ERR_USAGE, "%s: run again with --force to move it aside and start afresh, or -o "
                         "to write elsewhere", msg);
        }
        if (!(opts->force && other_format)) goto cleanup;
        /* Moved aside by farm_claim_output, once every host has checked its data. */
        ctx->move_old = 1;
        ctx->old_file_id[0] = '\0';
        memset(&info, 0, sizeof info);
    }

    /* Real results and a dry run's simulated rows never meet in one file. */
    const int dry = opts->dry_run_scale > 0;
    if (info.exists && info.simulated != dry) {
        if (!opts->force) {
            if (dry)
                pf_error_set(err, PF_ERR_USAGE,
                             "%s holds real results: a dry run never writes into them; use -o to write elsewhere, or "
                             "--force to move the file aside",
                             plan->output);
            else
                pf_error_set(err, PF_ERR_USAGE,
                             "%s is a dry run's file (simulated rows, nothing trained): a real run never resumes it; "
                             "use -o to write elsewhere, or --force to move it aside",
                             plan->output);
            goto cleanup;
        }
        /* Moved aside by farm_claim_output, once every host has checked its data. */
        ctx->move_old = 1;
        snprintf(ctx->old_file_id, sizeof ctx->old_file_id, "%s", info.file_id);
        memset(&info, 0, sizeof info);
    }
    plan->dry_run_scale = opts->dry_run_scale;

    /* Which configurations, and so which datasets, this run needs. */
    pf_results old;
    memset(&old, 0, sizeof old);
    int resume = info.exists;
    if (resume) {
        if (store_load(plan->output, &old, err) != 0) goto cleanup;
    }
    int need_all[PF_DS_COUNT] = {0};
    for (int64_t i = 0; i < job.nconfigs; i++) need_all[job.configs[i].dataset] = 1;

    /* Load (and checksum) the datasets of the grid: a missing or corrupt one is the user's. */
    for (int d = 0; d < PF_DS_COUNT; d++) {
        if (!need_all[d]) continue;
        if (dataset_load(&ctx->ds[d], (pf_dataset_id)d, plan->data_dir, PF_LOAD_CHECKSUMS, err) != 0) {
            if (resume) store_results_free(&old);
            goto cleanup;
        }
        checksum_text(&ctx->ds[d], &ctx->checksums);
    }
    uint64_t fp = run_fingerprint(grid_fingerprint(&job), ctx->checksums);

    if (resume && fp != old.fingerprint) {
        if (!opts->force) {
            pf_error_set(err, PF_ERR_USAGE,
                         "%s holds results of another grid or other data than %s: use -o to write "
                         "elsewhere, or --force to move the old file aside",
                         plan->output, found);
            store_results_free(&old);
            goto cleanup;
        }
        store_results_free(&old);
        resume = 0;
        /* Moved aside by farm_claim_output, once every host has checked its data. */
        ctx->move_old = 1;
        snprintf(ctx->old_file_id, sizeof ctx->old_file_id, "%s", info.file_id);
    }

    plan->fingerprint = fp;
    plan->exists = resume;
    if (resume) {
        plan->nconfigs = old.n;
        ctx->configs = pf_malloc(sizeof *ctx->configs * (size_t)old.n);
        memcpy(ctx->configs, old.configs, sizeof *ctx->configs * (size_t)old.n);
        snprintf(plan->file_id, sizeof plan->file_id, "%s", old.file_id);
        ctx->job_text = old.job_text ? strdup(old.job_text) : strdup(job.text);
        for (int64_t i = 0; i < old.n; i++)
            if (sched_status_runs(old.rows[i].status, opts->retry_failed)) plan->need[old.configs[i].cfg.dataset] = 1;
        store_results_free(&old);
    } else {
        plan->nconfigs = job.nconfigs;
        ctx->configs = pf_calloc((size_t)job.nconfigs, sizeof *ctx->configs);
        for (int64_t i = 0; i < job.nconfigs; i++) {
            pf_store_config *c = &ctx->configs[i];
            c->id = i;
            c->cfg = job.configs[i];
            c->k = ctx->ds[c->cfg.dataset].k;
            plan->need[c->cfg.dataset] = 1;
        }
        random_hex(plan->file_id, 16);
        ctx->job_text = strdup(job.text);
    }
    PF_CHECK_ALLOC(ctx->job_text);
    /* Each configuration's estimated cost, once: for the queue, the progress and a dry run. */
    ctx->cost = pf_malloc(sizeof *ctx->cost * (size_t)(plan->nconfigs ? plan->nconfigs : 1));
    ctx->job_path = strdup(found);
    PF_CHECK_ALLOC(ctx->job_path);

    /* Subsets against the data actually present; n_train as used. */
    for (int64_t i = 0; i < plan->nconfigs; i++) {
        pf_store_config *c = &ctx->configs[i];
        int32_t used = 0;
        if (dataset_check_subset(&ctx->ds[c->cfg.dataset], c->cfg.subset, &used, err) != 0) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            pf_error_set(err, PF_ERR_USAGE, "%s: configuration %lld: %s", found, (long long)i, msg);
            goto cleanup;
        }
        if (!resume) c->n_train = used;
        ctx->cost[i] = grid_config_cost(&c->cfg, c->n_train);
    }

    /* The output must be writable, and ours alone. */
    char dir[PF_PATH_MAX];
    pf_error fs_err = {0};
    fs_parent_dir(plan->output, dir);
    if (fs_mkdir_p(dir, &fs_err) != 0) {
        pf_error_set(err, PF_ERR_IO, "%s: %s", plan->output, fs_err.msg);
        goto cleanup;
    }
    if (access(dir, W_OK) != 0 || (resume && access(plan->output, W_OK) != 0)) {
        pf_error_set(err, PF_ERR_IO, "%s: not writable: %s", resume ? plan->output : dir, strerror(errno));
        goto cleanup;
    }
    ctx->lock = lock_acquire(plan->output, err);
    if (ctx->lock == NULL) goto cleanup;
    if (pf_snprintf(plan->ckpt_dir, sizeof plan->ckpt_dir, "%s.ckpt-%s", plan->output, plan->file_id) != 0) {
        pf_error_set(err, PF_ERR_IO, "%s: checkpoint directory path too long", plan->output);
        goto cleanup;
    }
    /* A dry run sleeps the estimates of this machine, as `poisonfarm grid` prints them. */
    if (dry) plan->rate = grid_calibrate(plan->threads);
    rc = 0;

cleanup:
    if (rc != 0) {
        lock_release(ctx->lock);
        ctx->lock = NULL;
    }
    grid_free(&job);
    return rc;
}

int farm_claim_output(farm_ctx *ctx, pf_error *err)
{
    if (ctx->move_old && move_aside(ctx->plan.output, ctx->old_file_id, err) != 0) return -1;
    pf_error fs_err = {0};
    if (fs_mkdir_p(ctx->plan.ckpt_dir, &fs_err) != 0)
        return pf_error_set(err, PF_ERR_IO, "%s: checkpoint directory: %s", ctx->plan.output, fs_err.msg);
    return 0;
}

/* ---- every host's data against rank 0's ------------------------------------------------------ */

/* Compares the files of ds, as this host loaded them, with rank 0's checksum lines ("name/file md5",
 * all datasets). 0 when they are the same files with the same contents; otherwise -1 with a message
 * naming this host and the first file that differs. */
static int compare_checksums(const pf_dataset *ds, const char *rank0, const char *host, const char *host0,
                             pf_error *err)
{
    const char *name = dataset_name(ds->id);
    const size_t nlen = strlen(name);
    char *mine = NULL;
    checksum_text(ds, &mine);
    int rc = 0;
    /* Every file here: present on rank 0's host, with the same md5. */
    for (int i = 0; i < ds->nfiles && rc == 0; i++) {
        const char *path = ds->files[i].path;
        const char *file = fs_base_name(path);
        char key[PF_PATH_MAX + 64];
        snprintf(key, sizeof key, "%s/%s ", name, file);
        const char *there = NULL;
        for (const char *l = rank0; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
            if (strncmp(l, key, strlen(key)) == 0) there = l + strlen(key);
        if (there == NULL)
            rc = pf_error_set(err, PF_ERR_CORRUPT, "host %s: %s is not among the data files of %s (rank 0's host)",
                              host, path, host0);
        else if (strncmp(there, ds->files[i].md5, 32) != 0)
            rc = pf_error_set(err, PF_ERR_CORRUPT,
                              "host %s: %s differs from the copy on %s (rank 0's host): md5 %s here, %.32s there",
                              host, path, host0, ds->files[i].md5, there);
    }
    /* Every file of this dataset on rank 0's host: present here too. */
    for (const char *l = rank0; rc == 0 && l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, name, nlen) != 0 || l[nlen] != '/') continue;
        const char *file = l + nlen + 1;
        const char *sp = strchr(file, ' ');
        if (sp == NULL) continue;
        int found = 0;
        for (const char *m = mine; m && *m && !found; m = strchr(m, '\n') ? strchr(m, '\n') + 1 : NULL)
            found = strncmp(m, l, (size_t)(sp - l) + 1) == 0;
        if (!found)
            rc = pf_error_set(err, PF_ERR_MISSING, "host %s: %s/%.*s is missing (%s, rank 0's host, has it)", host,
                              ds->dir, (int)(sp - file), file, host0);
    }
    free(mine);
    return rc;
}

int farm_verify_node_data(farm_ctx *ctx, int rank, int size, const char *host, pf_error *err)
{
    int nrank;
    PF_MPI_CHECK(MPI_Comm_rank(ctx->node, &nrank));
    char host0[PF_HOST_LEN];
    memset(host0, 0, sizeof host0);
    if (rank == 0) snprintf(host0, sizeof host0, "%s", host);
    PF_MPI_CHECK(MPI_Bcast(host0, PF_HOST_LEN, MPI_CHAR, 0, MPI_COMM_WORLD));

    int bad = 0;
    pf_error mine = {0};
    if (nrank == 0 && rank != 0) {
        for (int d = 0; d < PF_DS_COUNT && !bad; d++) {
            if (!ctx->plan.need[d]) continue;
            pf_error e = {0};
            if (dataset_load(&ctx->ds[d], (pf_dataset_id)d, ctx->plan.data_dir, PF_LOAD_CHECKSUMS, &e) != 0) {
                pf_error_set(&mine, e.kind, "host %s: %s", host, e.msg);
                bad = 1;
            } else if (compare_checksums(&ctx->ds[d], ctx->checksums, host, host0, &mine) != 0) {
                bad = 1;
            }
        }
    }
    /* The other ranks sleep while the leaders load and hash (a blocking gather would spin). */
    int *flags = rank == 0 ? pf_calloc((size_t)size, sizeof *flags) : NULL;
    MPI_Request req;
    PF_MPI_CHECK(MPI_Igather(&bad, 1, MPI_INT, flags, 1, MPI_INT, 0, MPI_COMM_WORLD, &req));
    pf_mpi_wait(&req);
    if (bad) PF_MPI_CHECK(MPI_Send(mine.msg, (int)sizeof mine.msg, MPI_CHAR, 0, FARM_TAG_NODE_DATA, MPI_COMM_WORLD));
    int rc = 0;
    if (rank == 0) {
        int nbad = 0;
        pf_error first = {0};
        for (int r = 1; r < size; r++) {
            if (!flags[r]) continue;
            pf_error e = {0};
            PF_MPI_CHECK(MPI_Recv(e.msg, (int)sizeof e.msg, MPI_CHAR, r, FARM_TAG_NODE_DATA, MPI_COMM_WORLD,
                                  MPI_STATUS_IGNORE));
            e.msg[sizeof e.msg - 1] = '\0';
            if (nbad++ == 0) first = e;
        }
        if (nbad > 0) {
            char more[64] = "";
            if (nbad > 1) snprintf(more, sizeof more, " (and %d more host%s)", nbad - 1, nbad > 2 ? "s" : "");
            rc = pf_error_set(err, PF_ERR_CORRUPT,
                              "%.900s%s; every host must see the same data files at the same path; nothing was written",
                              first.msg, more);
        }
    }
    free(flags);
    return rc;
}
