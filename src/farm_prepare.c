/* farm_prepare.c -- the checks before the results file is touched, and the plan of the run: rank 0
 * checks the job file, the data (loaded and checksummed), the output path and an existing results
 * file (resumed, refused, or to be moved aside with --force) and takes the lock; every other host
 * checks its own copy of the data against rank 0's; then rank 0 claims the output (moves the old
 * file aside, creates the checkpoint directory). Every problem is the user's and becomes one line. */
#include "farm_internal.h"

#include "poisonfarm/fsutil.h"
#include "poisonfarm/grid.h"
#include "poisonfarm/mpi_util.h"

#include <dirent.h>
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

/* Moves a results file (and its checkpoint directory) aside: never deleted, and never onto another
 * file. The name holds the time, this process's id and, should that name be taken (a file moved by
 * another run of the same second and pid, or one put there by hand), a counter; the rename itself
 * refuses to replace (fs_rename_noreplace), so two runs can never pick the same name. */
static int move_aside(const char *path, const char *file_id, pf_error *err)
{
    char stamp[32], moved[PF_PATH_MAX], ck_old[PF_PATH_MAX], ck_new[PF_PATH_MAX];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
    for (int n = 1;; n++) {
        char suffix[64];
        if (n == 1)
            snprintf(suffix, sizeof suffix, "%ld", (long)getpid());
        else
            snprintf(suffix, sizeof suffix, "%ld-%d", (long)getpid(), n);
        if (pf_snprintf(moved, sizeof moved, "%s.moved-%s-%s", path, stamp, suffix) != 0)
            return pf_error_set(err, PF_ERR_IO, "%s: path too long", path);
        if (fs_rename_noreplace(path, moved) == 0) break;
        if (errno != EEXIST || n >= 1000)
            return pf_error_set(err, PF_ERR_IO, "%s: cannot move aside to %s: %s", path, moved, strerror(errno));
    }
    fprintf(stderr, "poisonfarm: --force: moved %s to %s\n", path, moved);
    if (file_id[0] && pf_snprintf(ck_old, sizeof ck_old, "%s.ckpt-%s", path, file_id) == 0 &&
        pf_snprintf(ck_new, sizeof ck_new, "%s.ckpt-%s", moved, file_id) == 0)
        (void)fs_rename_noreplace(ck_old, ck_new);
    return 0;
}

/* Removes what a killed creation of the results file left (store_create_file's temporary file),
 * with a note: only the lock holder creates one, so any there now is dead. */
static void remove_leftovers(const char *output)
{
    char dir[PF_PATH_MAX];
    fs_parent_dir(output, dir);
    const char *base = fs_base_name(output);
    DIR *d = opendir(dir);
    if (d == NULL) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!store_is_leftover(base, e->d_name)) continue;
        char path[PF_PATH_MAX + 256];
        if (pf_snprintf(path, sizeof path, "%s/%s", dir, e->d_name) != 0) continue;
        if (unlink(path) == 0)
            fprintf(stderr, "poisonfarm: removed %s, left by a creation of %s that did not finish\n", path, output);
    }
    closedir(d);
}

/* An existing output that cannot be resumed (of another format, not a results file, damaged): with
 * --force it is to be moved aside, if it is a regular file; else the refusal, with the advice. */
static int refuse_or_move(farm_ctx *ctx, const pf_run_opts *opts, const char *output, pf_error *err)
{
    if (opts->force && fs_is_regular_file(output)) {
        ctx->move_old = 1; /* by farm_claim_output, once every host has checked its data */
        ctx->old_file_id[0] = '\0';
        return 0;
    }
    if (fs_is_regular_file(output)) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        pf_error_set(err, err->kind, "%.900s: run again with --force to move it aside and start afresh, or -o to "
                     "write elsewhere", msg);
    }
    return -1;
}

/* The size of a new results file for job (plan->file_bytes), against the free space of dir. */
static int check_size(farm_ctx *ctx, const pf_job *job, const char *dir, pf_error *err)
{
    farm_plan *plan = &ctx->plan;
    plan->file_bytes = store_grid_size(job->configs, job->nconfigs, strlen(job->text) + strlen(job->path));
    int64_t avail = fs_free_bytes(dir);
    if (avail < 0 || plan->file_bytes <= (double)avail) return 0;
    char a[32], b[32];
    return pf_error_set(err, PF_ERR_IO,
                        "%s: no space for the results file %s: it needs about %s, %s is free (a disk quota may "
                        "allow less); nothing was written: free some space, shrink the grid (configurations x "
                        "max_epochs x classes), or write elsewhere with -o",
                        dir, fs_base_name(plan->output), fs_format_bytes(plan->file_bytes, a, sizeof a),
                        fs_format_bytes((double)avail, b, sizeof b));
}

int farm_prepare(farm_ctx *ctx, const pf_run_opts *opts, pf_error *err)
{
    farm_plan *plan = &ctx->plan;
    pf_job job;
    memset(&job, 0, sizeof job);
    pf_results old;
    memset(&old, 0, sizeof old);
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
    plan->isa = opts->isa;
    if (!cpu_has_isa(opts->isa)) {
        pf_error_set(err, PF_ERR_USAGE, "--isa %s: this CPU (or its operating system) cannot run the %s kernels",
                     isa_name(opts->isa), isa_name(opts->isa));
        goto cleanup;
    }
    plan->epochs_capped = job.epochs_capped;
    plan->checkpoint_interval = opts->checkpoint_interval >= 0 ? opts->checkpoint_interval : job.checkpoint_interval;

    /* The output must be writable, and ours alone: the lock comes first, and everything about the
       file is decided while it is held, so that no other run can change it between this run's look
       and its use (a --force of another grid moving it aside, a run creating it). */
    char dir[PF_PATH_MAX];
    pf_error fs_err = {0};
    fs_parent_dir(plan->output, dir);
    if (fs_mkdir_p(dir, &fs_err) != 0) {
        pf_error_set(err, PF_ERR_IO, "%s: %s", plan->output, fs_err.msg);
        goto cleanup;
    }
    if (access(dir, W_OK) != 0) {
        pf_error_set(err, PF_ERR_IO, "%s: not writable: %s", dir, strerror(errno));
        goto cleanup;
    }
    ctx->lock = lock_acquire(plan->output, err);
    if (ctx->lock == NULL) goto cleanup;
    remove_leftovers(plan->output);

    /* An existing results file: of this grid (and data) and resumed, or refused -- or, with
       --force, moved aside when it is of another grid, another format, or damaged. Resuming reads
       /configs and /results only, every row validated. */
    pf_store_info info;
    memset(&info, 0, sizeof info);
    int resume = 0;
    if (store_inspect(plan->output, &info, err) != 0) {
        if (refuse_or_move(ctx, opts, plan->output, err) != 0) goto cleanup;
    } else if (info.exists) {
        if (store_load_tables(plan->output, &old, err) != 0) {
            if (refuse_or_move(ctx, opts, plan->output, err) != 0) goto cleanup;
        } else {
            resume = 1;
        }
    }

    /* Real results and a dry run's simulated rows never meet in one file. */
    const int dry = opts->dry_run_scale > 0;
    if (resume && old.simulated != dry) {
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
        resume = 0;
        /* Moved aside by farm_claim_output, once every host has checked its data. */
        ctx->move_old = 1;
        snprintf(ctx->old_file_id, sizeof ctx->old_file_id, "%s", old.file_id);
    }
    plan->dry_run_scale = opts->dry_run_scale;
    int need_all[PF_DS_COUNT] = {0};
    for (int64_t i = 0; i < job.nconfigs; i++) need_all[job.configs[i].dataset] = 1;

    /* A new file must fit, and its size is known before any data is read (every dataset is
       allocated when the file is created): a grid too large for the disk is refused here. */
    if (!resume && check_size(ctx, &job, dir, err) != 0) goto cleanup;

    /* Load (and checksum) the datasets of the grid: a missing or corrupt one is the user's. */
    for (int d = 0; d < PF_DS_COUNT; d++) {
        if (!need_all[d]) continue;
        if (dataset_load(&ctx->ds[d], (pf_dataset_id)d, plan->data_dir, PF_LOAD_CHECKSUMS, err) != 0) goto cleanup;
        checksum_text(&ctx->ds[d], &ctx->checksums);
    }
    uint64_t fp = store_run_fingerprint(grid_fingerprint(&job), ctx->checksums);

    if (resume && fp != old.fingerprint) {
        if (!opts->force) {
            pf_error_set(err, PF_ERR_USAGE,
                         "%s holds results of another grid or other data than %s: use -o to write "
                         "elsewhere, or --force to move the old file aside",
                         plan->output, found);
            goto cleanup;
        }
        resume = 0;
        /* Moved aside by farm_claim_output, once every host has checked its data. */
        ctx->move_old = 1;
        snprintf(ctx->old_file_id, sizeof ctx->old_file_id, "%s", old.file_id);
        if (check_size(ctx, &job, dir, err) != 0) goto cleanup;
    }

    plan->fingerprint = fp;
    plan->exists = resume;
    if (resume) {
        plan->nconfigs = old.n;
        ctx->configs = pf_malloc(sizeof *ctx->configs * (size_t)old.n);
        memcpy(ctx->configs, old.configs, sizeof *ctx->configs * (size_t)old.n);
        ctx->status = pf_malloc(sizeof *ctx->status * (size_t)old.n);
        for (int64_t i = 0; i < old.n; i++) ctx->status[i] = old.rows[i].status;
        snprintf(plan->file_id, sizeof plan->file_id, "%s", old.file_id);
        ctx->job_text = old.job_text ? strdup(old.job_text) : strdup(job.text);
        for (int64_t i = 0; i < old.n; i++)
            if (sched_status_runs(old.rows[i].status, opts->retry_failed)) plan->need[old.configs[i].cfg.dataset] = 1;
    } else {
        plan->nconfigs = job.nconfigs;
        ctx->configs = pf_calloc((size_t)job.nconfigs, sizeof *ctx->configs);
        ctx->status = pf_calloc((size_t)job.nconfigs, sizeof *ctx->status); /* all pending */
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

    if (resume && access(plan->output, W_OK) != 0) {
        pf_error_set(err, PF_ERR_IO, "%s: not writable: %s", plan->output, strerror(errno));
        goto cleanup;
    }
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
    store_results_free(&old);
    grid_free(&job);
    return rc;
}

/* Asks the file system for the space the run will write before it writes anything: ENOSPC and
 * EDQUOT (a quota, which statvfs does not show) come out here as one line, not from inside a
 * collective HDF5 call. */
static int reserve_space(const farm_ctx *ctx, int ranks, pf_error *err)
{
    const double need = ctx->plan.exists ? store_run_growth(ranks) : ctx->plan.file_bytes;
    if (fs_try_reserve(ctx->plan.output, ".space", (int64_t)need) == 0) return 0;
    char dir[PF_PATH_MAX], a[32], b[32];
    fs_parent_dir(ctx->plan.output, dir);
    int64_t avail = fs_free_bytes(dir);
    if (errno == ENOSPC || errno == EDQUOT)
        return pf_error_set(err, PF_ERR_IO,
                            "%s: no space for the results file %s: %s about %s, %s is free (a disk quota may "
                            "allow less); nothing was written: free some space, or write elsewhere with -o",
                            dir, fs_base_name(ctx->plan.output), ctx->plan.exists ? "this run adds" : "it needs",
                            fs_format_bytes(need, a, sizeof a),
                            avail >= 0 ? fs_format_bytes((double)avail, b, sizeof b) : "?");
    return pf_error_set(err, PF_ERR_IO, "%s: cannot write next to the results file: %s", dir, strerror(errno));
}

int farm_claim_output(farm_ctx *ctx, int ranks, pf_error *err)
{
    if (reserve_space(ctx, ranks, err) != 0) return -1;
    if (ctx->move_old && move_aside(ctx->plan.output, ctx->old_file_id, err) != 0) return -1;
    pf_error fs_err = {0};
    if (fs_mkdir_p(ctx->plan.ckpt_dir, &fs_err) != 0)
        return pf_error_set(err, PF_ERR_IO, "%s: checkpoint directory: %s", ctx->plan.output, fs_err.msg);
    if (ctx->plan.exists) return 0;
    /* A new file: created whole by this rank under a temporary name, then renamed into place; a
       full disk or a quota is one line, and nothing is left behind. */
    pf_store_meta meta = {ctx->job_text,    ctx->job_path,           ctx->plan.fingerprint,
                          ctx->checksums,   ranks,                   ctx->plan.epochs_capped,
                          ctx->plan.file_id, ctx->plan.dry_run_scale};
    if (store_create_file(ctx->plan.output, ctx->configs, ctx->plan.nconfigs, &meta, err) != 0) {
        (void)rmdir(ctx->plan.ckpt_dir);
        return -1;
    }
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
