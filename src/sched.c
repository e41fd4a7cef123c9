/* sched.c -- the farm: rank 0 validates the run, then hands out configurations (most expensive
 * first) while training too; every rank writes its own rows of the shared results file. */
#include "poisonfarm/sched.h"

#include "poisonfarm/data.h"
#include "poisonfarm/grid.h"
#include "poisonfarm/lock.h"
#include "poisonfarm/shm.h"
#include "poisonfarm/store.h"
#include "poisonfarm/checkpoint.h"
#include "poisonfarm/train.h"

#include <errno.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- messages between workers and rank 0 -------------------------------------------------- */

enum { TAG_REQUEST = 101, TAG_ASSIGN = 102, TAG_STOP = 103, TAG_NODE_DATA = 104 };
enum { REQ_READY = 0, REQ_DONE = 1, REQ_STOPPED = 2 };

typedef struct {
    int32_t type;        /* REQ_* */
    int32_t status;      /* pf_status of the finished configuration */
    int64_t id;          /* the configuration reported on, -1 for READY */
    int32_t best_epoch;
    int32_t pad;
    double accuracy;     /* the reported accuracy (fraction) */
    double seconds;      /* wall seconds spent on it in this run */
} sched_request;

typedef struct {
    int64_t id;          /* next configuration, -1: no more work */
    int32_t stop_sent;   /* 1: a TAG_STOP message was sent to this worker and must be received */
    int32_t pad;
} sched_assign;

/* ---- the plan rank 0 makes and shares ------------------------------------------------------ */

typedef struct {
    int64_t nconfigs;
    int exists;                    /* resuming an existing file */
    int threads;
    int epochs_capped;
    int need[PF_DS_COUNT];         /* datasets of the configurations this run trains */
    char output[PF_PATH_MAX];
    char ckpt_dir[PF_PATH_MAX];
    char data_dir[PF_PATH_MAX];
    char file_id[40];
    uint64_t fingerprint;
} sched_plan;

typedef struct {
    sched_plan plan;
    pf_store_config *configs;      /* nconfigs */
    pf_status *status;             /* nconfigs, as read at start */
    char *job_text, *job_path, *checksums;
    char *hosts;                   /* rank 0: every rank's host, PF_HOST_LEN bytes each */
    int32_t nhosts;                /* rank 0: distinct hosts */
    pf_dataset ds[PF_DS_COUNT];    /* node leaders' datasets before sharing, everyone's after */
    MPI_Win win[PF_DS_COUNT];
    MPI_Comm node;                 /* the ranks of this host (MPI_COMM_TYPE_SHARED) */
    pf_lock *lock;                 /* rank 0: this run's hold on the results file */
    int move_old;                  /* rank 0: --force, move the file of another grid or format aside */
    char old_file_id[40];          /* rank 0: its file id (its checkpoint directory moves too) */
} sched_ctx;

/* A whole run's state on one rank. */
typedef struct {
    sched_ctx *ctx;
    const pf_run_opts *opts;
    pf_store *store;
    int rank, size;
    char host[PF_HOST_LEN];
    double t_start;                /* pf_now() at start */
    double busy_seconds;           /* spent in configurations, this run */
    int64_t done_this_run;
    /* rank 0 only */
    int64_t *queue, nqueue, next;
    int64_t *busy;                 /* per rank: configuration being trained, -1 idle */
    int *stop_sent;                /* per rank */
    int released;                  /* workers told there is no more work */
    int stopping;
    int64_t total_done;            /* done in the file */
    int64_t failed;                /* failed or diverged in the file */
    double cost_total, cost_done;
    double *cost;                  /* per configuration */
} sched_run_state;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits on an MPI request without burning a core (HPC-NOTES: blocking waits spin). */
static void wait_polling(MPI_Request *req)
{
    int flag = 0;
    for (;;) {
        PF_MPI_CHECK(MPI_Test(req, &flag, MPI_STATUS_IGNORE));
        if (flag) return;
        sleep_ms(2);
    }
}

/* A barrier that sleeps while it waits, before collective steps that would spin. */
static void barrier_polling(void)
{
    MPI_Request req;
    PF_MPI_CHECK(MPI_Ibarrier(MPI_COMM_WORLD, &req));
    wait_polling(&req);
}

static void bcast_string(char **s, int root)
{
    int rank;
    PF_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    int64_t len = (rank == root && *s) ? (int64_t)strlen(*s) : 0;
    PF_MPI_CHECK(MPI_Bcast(&len, 1, MPI_INT64_T, root, MPI_COMM_WORLD));
    if (rank != root) {
        free(*s);
        *s = pf_malloc((size_t)len + 1);
        (*s)[len] = '\0';
    }
    if (len > 0) PF_MPI_CHECK(MPI_Bcast(*s, (int)len, MPI_CHAR, root, MPI_COMM_WORLD));
}

static int mkdir_p(const char *dir)
{
    char tmp[PF_PATH_MAX];
    if (pf_snprintf(tmp, sizeof tmp, "%s", dir) != 0) return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0775) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0775) != 0 && errno != EEXIST) return -1;
    return 0;
}

static void parent_dir(const char *path, char out[PF_PATH_MAX])
{
    snprintf(out, PF_PATH_MAX, "%s", path);
    char *slash = strrchr(out, '/');
    if (slash == NULL)
        snprintf(out, PF_PATH_MAX, ".");
    else if (slash == out)
        out[1] = '\0';
    else
        *slash = '\0';
}

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
        const char *path = ds->files[i].path;
        const char *name = strrchr(path, '/');
        name = name ? name + 1 : path;
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

/* Whether a configuration in this status is trained by the run. */
static int status_runs(pf_status s, int retry_failed)
{
    return s == PF_STATUS_PENDING || s == PF_STATUS_RUNNING ||
           (retry_failed && (s == PF_STATUS_FAILED || s == PF_STATUS_DIVERGED));
}

/* ---- rank 0: validate everything before the results file is touched ------------------------- */

static int prepare(sched_ctx *ctx, const pf_run_opts *opts, pf_error *err)
{
    sched_plan *plan = &ctx->plan;
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
    if (!cpu_has_isa(opts->isa)) {
        pf_error_set(err, PF_ERR_USAGE, "--isa %s: this CPU (or its operating system) cannot run the %s kernels",
                     isa_name(opts->isa), isa_name(opts->isa));
        goto cleanup;
    }
    plan->epochs_capped = job.epochs_capped;

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
        /* Moved aside by claim_output, once every host has checked its data. */
        ctx->move_old = 1;
        ctx->old_file_id[0] = '\0';
        memset(&info, 0, sizeof info);
    }

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
        /* Moved aside by claim_output, once every host has checked its data. */
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
            if (status_runs(old.rows[i].status, opts->retry_failed)) plan->need[old.configs[i].cfg.dataset] = 1;
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
    }

    /* The output must be writable, and ours alone. */
    char dir[PF_PATH_MAX];
    parent_dir(plan->output, dir);
    if (mkdir_p(dir) != 0) {
        pf_error_set(err, PF_ERR_IO, "%s: cannot create directory %s: %s", plan->output, dir, strerror(errno));
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
    rc = 0;

cleanup:
    if (rc != 0) {
        lock_release(ctx->lock);
        ctx->lock = NULL;
    }
    grid_free(&job);
    return rc;
}

/* Rank 0, once every host has checked its data: the first changes on disk. Moves the results file
 * of another grid aside (--force) and creates the checkpoint directory. 0, or -1 with err. */
static int claim_output(sched_ctx *ctx, pf_error *err)
{
    if (ctx->move_old && move_aside(ctx->plan.output, ctx->old_file_id, err) != 0) return -1;
    if (mkdir_p(ctx->plan.ckpt_dir) != 0)
        return pf_error_set(err, PF_ERR_IO, "%s: cannot create checkpoint directory %s: %s", ctx->plan.output,
                            ctx->plan.ckpt_dir, strerror(errno));
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
        const char *file = strrchr(path, '/');
        file = file ? file + 1 : path;
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

/* Collective, before the results file is created or opened: the leader of every host but rank 0's
 * loads the datasets of the run (kept for sharing) and checks them against rank 0's checksums, so
 * that node-local data directories that differ stop the run before anything is written. Returns 0,
 * or (rank 0 only) -1 with one line naming the first host and file that differ, and how many other
 * hosts differ. */
static int verify_node_data(sched_ctx *ctx, int rank, int size, const char *host, pf_error *err)
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
    wait_polling(&req);
    if (bad) PF_MPI_CHECK(MPI_Send(mine.msg, (int)sizeof mine.msg, MPI_CHAR, 0, TAG_NODE_DATA, MPI_COMM_WORLD));
    int rc = 0;
    if (rank == 0) {
        int nbad = 0;
        pf_error first = {0};
        for (int r = 1; r < size; r++) {
            if (!flags[r]) continue;
            pf_error e = {0};
            PF_MPI_CHECK(MPI_Recv(e.msg, (int)sizeof e.msg, MPI_CHAR, r, TAG_NODE_DATA, MPI_COMM_WORLD,
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

/* ---- configurations ------------------------------------------------------------------------ */

typedef struct {
    sched_run_state *st;
    pf_error ckerr;
    char ckpt[PF_PATH_MAX];
} cfg_hooks_ctx;

static void serve(sched_run_state *st);

/* Workers: a stop message from rank 0 sets the stop flag. */
static void poll_stop(sched_run_state *st)
{
    if (st->rank == 0) {
        serve(st);
        return;
    }
    int flag = 0;
    PF_MPI_CHECK(MPI_Iprobe(0, TAG_STOP, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE));
    if (flag) pf_stop_flag = 1;
}

static void hook_batch(void *p) { poll_stop(((cfg_hooks_ctx *)p)->st); }

static void hook_epoch(void *p, const pf_trainer *t)
{
    cfg_hooks_ctx *h = p;
    /* A checkpoint after every completed epoch: an interrupted configuration resumes here. */
    if (checkpoint_save(t, h->ckpt, &h->ckerr) != 0)
        fprintf(stderr, "poisonfarm: rank %d: warning: %s\n", h->st->rank, h->ckerr.msg);
    poll_stop(h->st);
}

static void fill_row(pf_store_row *row, const pf_result *res, int rank, const char *host)
{
    memset(row, 0, sizeof *row);
    row->status = res->stop == PF_STOP_DIVERGED ? PF_STATUS_DIVERGED : PF_STATUS_DONE;
    row->stop = res->stop;
    row->best_val_acc = res->best_val_acc;
    row->final_val_acc = res->final_val_acc;
    row->heldout_acc = res->heldout_acc;
    row->poisoned_val_acc = res->poisoned_val_acc;
    row->best_epoch = res->best_epoch;
    row->epochs = res->epochs;
    row->n_poisoned = res->n_poisoned;
    row->n_val_poisoned = res->n_val_poisoned;
    row->noise_rate = res->noise_rate;
    row->learned_poison = res->learned_poison;
    row->learned_true = res->learned_true;
    row->detect_auroc = res->detect.auroc;
    row->detect_precision = res->detect.precision;
    row->detect_recall = res->detect.recall;
    row->detect_top1 = res->detect.top[0];
    row->detect_top5 = res->detect.top[1];
    row->detect_top10 = res->detect.top[2];
    row->detect_flagged = res->best_epoch >= 0 ? res->detect.flagged : -1;
    row->train_seconds = res->train_seconds;
    row->rank = rank;
    snprintf(row->host, sizeof row->host, "%s", host);
}

/* The accuracy a reader compares with the seed's. */
static double reported_accuracy(const pf_config *cfg, const pf_store_row *row)
{
    return cfg->selection == PF_SEL_SPLIT ? row->heldout_acc : row->best_val_acc;
}

/* Trains configuration id on this rank. Fills *req with what rank 0 needs to know. */
static void run_config(sched_run_state *st, int64_t id, sched_request *req)
{
    sched_ctx *ctx = st->ctx;
    const pf_store_config *sc = &ctx->configs[id];
    double t0 = pf_now();
    memset(req, 0, sizeof *req);
    req->id = id;
    req->best_epoch = -1;
    req->accuracy = NAN;

    store_write_running(st->store, id, st->rank, st->host);
    cfg_hooks_ctx hc;
    memset(&hc, 0, sizeof hc);
    hc.st = st;
    if (pf_snprintf(hc.ckpt, sizeof hc.ckpt, "%s/config-%lld.state", ctx->plan.ckpt_dir, (long long)id) != 0)
        pf_fatal(__FILE__, __LINE__, "checkpoint path too long: %s", ctx->plan.ckpt_dir);

    pf_error err = {0};
    pf_trainer *t = trainer_create(&sc->cfg, &ctx->ds[sc->cfg.dataset], ctx->plan.threads, &err);
    if (t != NULL && trainer_set_isa(t, st->opts->isa, &err) != 0) { /* a node without the pinned path */
        trainer_free(t);
        t = NULL;
    }
    if (t == NULL) {
        pf_store_row row;
        memset(&row, 0, sizeof row);
        row.status = PF_STATUS_FAILED;
        row.stop = PF_STOP_NONE;
        row.best_val_acc = row.final_val_acc = row.heldout_acc = row.poisoned_val_acc = NAN;
        row.learned_poison = row.learned_true = row.train_seconds = NAN;
        row.noise_rate = row.detect_auroc = row.detect_precision = row.detect_recall = NAN;
        row.detect_top1 = row.detect_top5 = row.detect_top10 = NAN;
        row.best_epoch = row.epochs = -1;
        row.n_poisoned = row.n_val_poisoned = row.detect_flagged = -1;
        row.rank = st->rank;
        snprintf(row.host, sizeof row.host, "%s", st->host);
        (void)pf_snprintf(row.reason, sizeof row.reason, "%s", err.msg); /* truncated if long */
        store_write_result(st->store, id, &row, NULL);
        fprintf(stderr, "poisonfarm: configuration %lld failed: %s\n", (long long)id, err.msg);
        req->type = REQ_DONE;
        req->status = PF_STATUS_FAILED;
        req->seconds = pf_now() - t0;
        return;
    }
    if (access(hc.ckpt, R_OK) == 0) {
        if (checkpoint_restore(t, hc.ckpt, &err) == 0) {
            printf("poisonfarm: rank %d: configuration %lld resumes after epoch %d\n", st->rank, (long long)id,
                   trainer_result(t)->epochs);
            fflush(stdout);
        } else {
            fprintf(stderr, "poisonfarm: rank %d: warning: %s; configuration %lld starts afresh\n", st->rank,
                    err.msg, (long long)id);
            trainer_free(t);
            t = trainer_create(&sc->cfg, &ctx->ds[sc->cfg.dataset], ctx->plan.threads, &err);
            PF_ASSERT(t != NULL && trainer_set_isa(t, st->opts->isa, &err) == 0);
        }
    }
    pf_train_hooks hooks = {hook_batch, hook_epoch, &hc, &pf_stop_flag};
    int rc = trainer_finished(t) ? 1 : trainer_run(t, &hooks);
    if (rc < 0) {
        /* Stopped: the last completed epoch is in the checkpoint; the row goes back to pending. */
        store_write_pending(st->store, id);
        req->type = REQ_STOPPED;
        req->status = PF_STATUS_PENDING;
    } else {
        pf_store_row row;
        const pf_result *res = trainer_result(t);
        fill_row(&row, res, st->rank, st->host);
        row.isa = trainer_isa(t);
        store_write_result(st->store, id, &row, res);
        (void)unlink(hc.ckpt);
        req->type = REQ_DONE;
        req->status = row.status;
        req->best_epoch = row.best_epoch;
        req->accuracy = reported_accuracy(&sc->cfg, &row);
    }
    trainer_free(t);
    req->seconds = pf_now() - t0;
}

/* ---- rank 0: the scheduler ----------------------------------------------------------------- */

static void format_duration(double s, char *out, size_t n)
{
    if (!(s >= 0) || s > 1e8) {
        snprintf(out, n, "?");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, n, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
    else if (t >= 60)
        snprintf(out, n, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(out, n, "%lds", t);
}

static void format_percent(double p, char *out, size_t n)
{
    if (p == floor(p))
        snprintf(out, n, "%.0f%%", p);
    else
        snprintf(out, n, "%g%%", p);
}

static void report_finished(sched_run_state *st, const sched_request *r, int from)
{
    sched_ctx *ctx = st->ctx;
    const pf_config *c = &ctx->configs[r->id].cfg;
    if (r->type != REQ_DONE) return;
    st->done_this_run++;
    st->cost_done += st->cost[r->id];
    if (r->status == PF_STATUS_DONE)
        st->total_done++;
    else
        st->failed++;
    if (st->opts->stop_after > 0 && st->done_this_run >= st->opts->stop_after) pf_stop_flag = 1;
    if (st->opts->quiet) return;
    double elapsed = pf_now() - st->t_start;
    double remaining = st->cost_total - st->cost_done;
    double eta = st->cost_done > 0 ? elapsed * remaining / st->cost_done : NAN;
    char etas[32], pct[32], subset[32], acc[64];
    format_duration(eta, etas, sizeof etas);
    format_percent(c->percent, pct, sizeof pct);
    if (c->subset == 0)
        snprintf(subset, sizeof subset, "full");
    else
        snprintf(subset, sizeof subset, "%d", c->subset);
    if (r->status == PF_STATUS_FAILED)
        snprintf(acc, sizeof acc, "FAILED");
    else if (r->status == PF_STATUS_DIVERGED)
        snprintf(acc, sizeof acc, "diverged (best %.1f%% @ep %d)", 100.0 * r->accuracy, r->best_epoch);
    else
        snprintf(acc, sizeof acc, "best %.1f%% @ep %d", 100.0 * r->accuracy, r->best_epoch);
    int64_t n = ctx->plan.nconfigs;
    int w = n >= 1000 ? 4 : n >= 100 ? 3 : n >= 10 ? 2 : 1;
    printf("[%*lld/%lld] %5.1f%% eta %s  %s %s %s %s  %s  (%.0fs, rank %d)\n", w,
           (long long)(st->total_done + st->failed), (long long)n,
           100.0 * (double)(st->total_done + st->failed) / (double)n, etas, dataset_name(c->dataset),
           poison_mode_name(c->mode), subset, pct, acc, r->seconds, from);
    fflush(stdout);
}

static void enter_stopping(sched_run_state *st)
{
    if (!st->stopping) {
        st->stopping = 1;
        if (!st->opts->quiet) {
            printf("poisonfarm: stopping: unfinished configurations stay pending (run again to resume)\n");
            fflush(stdout);
        }
    }
    pf_stop_flag = 1;
    for (int w = 1; w < st->size; w++) {
        if (st->busy[w] >= 0 && !st->stop_sent[w]) {
            int one = 1;
            PF_MPI_CHECK(MPI_Send(&one, 1, MPI_INT, w, TAG_STOP, MPI_COMM_WORLD));
            st->stop_sent[w] = 1;
        }
    }
}

/* Answers every waiting worker. Called between rank 0's own batches and while it idles. */
static void serve(sched_run_state *st)
{
    if (st->rank != 0) return;
    if (pf_stop_flag) enter_stopping(st);
    for (;;) {
        int flag = 0;
        MPI_Status status;
        PF_MPI_CHECK(MPI_Iprobe(MPI_ANY_SOURCE, TAG_REQUEST, MPI_COMM_WORLD, &flag, &status));
        if (!flag) break;
        sched_request r;
        int w = status.MPI_SOURCE;
        PF_MPI_CHECK(MPI_Recv(&r, (int)sizeof r, MPI_BYTE, w, TAG_REQUEST, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        st->busy[w] = -1;
        if (r.type == REQ_STOPPED) enter_stopping(st);
        report_finished(st, &r, w);
        if (pf_stop_flag) enter_stopping(st);
        sched_assign a = {-1, st->stop_sent[w], 0};
        if (!st->stopping && st->next < st->nqueue) {
            a.id = st->queue[st->next++];
            st->busy[w] = a.id;
        } else {
            st->released++;
        }
        PF_MPI_CHECK(MPI_Send(&a, (int)sizeof a, MPI_BYTE, w, TAG_ASSIGN, MPI_COMM_WORLD));
    }
}

typedef struct {
    double cost;
    int64_t id;
} queue_item;

/* Most expensive first; ties by id, so the order never depends on anything but the grid. */
static int cmp_queue(const void *a, const void *b)
{
    const queue_item *x = a, *y = b;
    if (x->cost != y->cost) return x->cost > y->cost ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void build_queue(sched_run_state *st)
{
    sched_ctx *ctx = st->ctx;
    int64_t n = ctx->plan.nconfigs;
    st->queue = pf_malloc(sizeof *st->queue * (size_t)(n ? n : 1));
    st->cost = pf_malloc(sizeof *st->cost * (size_t)(n ? n : 1));
    queue_item *items = pf_malloc(sizeof *items * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) {
        pf_status s = ctx->status[i];
        st->cost[i] = grid_config_cost(&ctx->configs[i].cfg, ctx->configs[i].n_train);
        int run = status_runs(s, st->opts->retry_failed);
        if (s == PF_STATUS_DONE) st->total_done++;
        if (!run && (s == PF_STATUS_FAILED || s == PF_STATUS_DIVERGED)) st->failed++;
        if (run) {
            items[st->nqueue].cost = st->cost[i];
            items[st->nqueue].id = i;
            st->nqueue++;
            st->cost_total += st->cost[i];
        }
    }
    qsort(items, (size_t)st->nqueue, sizeof *items, cmp_queue);
    for (int64_t i = 0; i < st->nqueue; i++) st->queue[i] = items[i].id;
    free(items);
}

static void main_rank0(sched_run_state *st)
{
    st->busy = pf_malloc(sizeof *st->busy * (size_t)st->size);
    st->stop_sent = pf_calloc((size_t)st->size, sizeof *st->stop_sent);
    for (int w = 0; w < st->size; w++) st->busy[w] = -1;
    for (;;) {
        serve(st);
        if (!st->stopping && st->next < st->nqueue) {
            int64_t id = st->queue[st->next++];
            st->busy[0] = id;
            sched_request r;
            run_config(st, id, &r);
            st->busy[0] = -1;
            st->busy_seconds += r.seconds;
            report_finished(st, &r, 0);
            if (r.type == REQ_STOPPED || pf_stop_flag) enter_stopping(st);
            continue;
        }
        if (st->released == st->size - 1) break;
        sleep_ms(2);
    }
}

static void main_worker(sched_run_state *st)
{
    sched_request r;
    memset(&r, 0, sizeof r);
    r.type = REQ_READY;
    r.id = -1;
    int stop_received = 0;
    for (;;) {
        MPI_Request req;
        sched_assign a;
        PF_MPI_CHECK(MPI_Send(&r, (int)sizeof r, MPI_BYTE, 0, TAG_REQUEST, MPI_COMM_WORLD));
        PF_MPI_CHECK(MPI_Irecv(&a, (int)sizeof a, MPI_BYTE, 0, TAG_ASSIGN, MPI_COMM_WORLD, &req));
        wait_polling(&req);
        if (a.stop_sent && !stop_received) {
            int one;
            PF_MPI_CHECK(MPI_Irecv(&one, 1, MPI_INT, 0, TAG_STOP, MPI_COMM_WORLD, &req));
            wait_polling(&req);
            stop_received = 1;
        }
        if (a.id < 0) break;
        run_config(st, a.id, &r);
        st->busy_seconds += r.seconds;
    }
}

/* ---- the run ------------------------------------------------------------------------------- */

/* Rank 0 learns every rank's host (for /ranks) and how many distinct hosts there are. */
static void gather_hosts(sched_ctx *ctx, int rank, int size, const char *host)
{
    char mine[PF_HOST_LEN];
    memset(mine, 0, sizeof mine);
    snprintf(mine, sizeof mine, "%s", host);
    if (rank == 0) ctx->hosts = pf_malloc((size_t)size * PF_HOST_LEN);
    PF_MPI_CHECK(MPI_Gather(mine, PF_HOST_LEN, MPI_CHAR, ctx->hosts, PF_HOST_LEN, MPI_CHAR, 0, MPI_COMM_WORLD));
    if (rank != 0) return;
    /* Ranks of a host are usually neighbours: compare with the distinct ones seen so far. */
    int32_t n = 0;
    int *first = pf_malloc(sizeof *first * (size_t)size);
    for (int r = 0; r < size; r++) {
        const char *h = ctx->hosts + (size_t)r * PF_HOST_LEN;
        int seen = 0;
        for (int32_t q = n - 1; q >= 0 && !seen; q--) seen = strcmp(h, ctx->hosts + (size_t)first[q] * PF_HOST_LEN) == 0;
        if (!seen) first[n++] = r;
    }
    free(first);
    ctx->nhosts = n;
}

static void share_plan(sched_ctx *ctx, int rank)
{
    PF_MPI_CHECK(MPI_Bcast(&ctx->plan, (int)sizeof ctx->plan, MPI_BYTE, 0, MPI_COMM_WORLD));
    int64_t n = ctx->plan.nconfigs;
    if (rank != 0) ctx->configs = pf_malloc(sizeof *ctx->configs * (size_t)(n ? n : 1));
    /* Configurations as raw bytes: every rank runs the same binary. */
    size_t bytes = sizeof *ctx->configs * (size_t)n;
    for (size_t off = 0; off < bytes; off += (size_t)1 << 30) {
        size_t len = bytes - off < ((size_t)1 << 30) ? bytes - off : ((size_t)1 << 30);
        PF_MPI_CHECK(MPI_Bcast((char *)ctx->configs + off, (int)len, MPI_BYTE, 0, MPI_COMM_WORLD));
    }
    bcast_string(&ctx->job_text, 0);
    bcast_string(&ctx->job_path, 0);
    bcast_string(&ctx->checksums, 0);
}

/* Every host's leader holds the datasets of the run (rank 0 from prepare, the others from
 * verify_node_data): one shared copy per host. */
static void share_datasets(sched_ctx *ctx, int rank)
{
    for (int d = 0; d < PF_DS_COUNT; d++) {
        ctx->win[d] = MPI_WIN_NULL;
        if (!ctx->plan.need[d]) {
            if (rank == 0) dataset_free(&ctx->ds[d]);
            continue;
        }
        shm_dataset_share(&ctx->ds[d], ctx->node, &ctx->win[d]);
    }
}

static void ctx_free(sched_ctx *ctx)
{
    for (int d = 0; d < PF_DS_COUNT; d++) {
        if (ctx->win[d] != MPI_WIN_NULL && ctx->win[d] != 0)
            shm_dataset_free(&ctx->ds[d], &ctx->win[d]);
        else
            dataset_free(&ctx->ds[d]);
    }
    free(ctx->configs);
    free(ctx->status);
    free(ctx->job_text);
    free(ctx->job_path);
    free(ctx->checksums);
    if (ctx->node != MPI_COMM_NULL) PF_MPI_CHECK(MPI_Comm_free(&ctx->node));
    free(ctx->hosts);
}

int sched_run(const pf_run_opts *opts)
{
    int rank, size;
    PF_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    PF_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size));
    store_quiet_hdf5();

    sched_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    for (int d = 0; d < PF_DS_COUNT; d++) ctx.win[d] = MPI_WIN_NULL;
    ctx.node = MPI_COMM_NULL;
    double t_start_wall = (double)time(NULL);
    double t0 = pf_now();

    /* Rank 0 checks everything the user gave; the verdict is the first collective step. */
    pf_error err = {0};
    int verdict = 0;
    if (rank == 0) verdict = prepare(&ctx, opts, &err) == 0 ? 0 : 1;
    {
        /* The others wait while rank 0 reads the job and the data: without spinning. */
        MPI_Request req;
        PF_MPI_CHECK(MPI_Ibcast(&verdict, 1, MPI_INT, 0, MPI_COMM_WORLD, &req));
        wait_polling(&req);
    }
    if (verdict != 0) {
        if (rank == 0) {
            fprintf(stderr, "poisonfarm: %s\n", err.msg);
            fflush(stderr);
        }
        for (int d = 0; d < PF_DS_COUNT; d++) dataset_free(&ctx.ds[d]);
        ctx_free(&ctx);
        return PF_EXIT_USAGE;
    }

    share_plan(&ctx, rank);

    char host[PF_HOST_LEN] = "";
    gethostname(host, sizeof host - 1);
    gather_hosts(&ctx, rank, size, host);

    /* Every host checks its data against rank 0's; then rank 0 claims the output. Only then is
       anything written, so that a host with other data stops the run cleanly, as one user error. */
    PF_MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &ctx.node));
    verdict = verify_node_data(&ctx, rank, size, host, &err) == 0 ? 0 : 1;
    if (rank == 0 && verdict == 0) verdict = claim_output(&ctx, &err) == 0 ? 0 : 1;
    PF_MPI_CHECK(MPI_Bcast(&verdict, 1, MPI_INT, 0, MPI_COMM_WORLD));
    if (verdict != 0) {
        if (rank == 0) {
            fprintf(stderr, "poisonfarm: %s\n", err.msg);
            fflush(stderr);
            lock_release(ctx.lock);
            ctx.lock = NULL;
        }
        ctx_free(&ctx);
        return PF_EXIT_USAGE;
    }

    /* Create or open the results file (collective). */
    pf_store *store;
    if (ctx.plan.exists) {
        store = store_open(MPI_COMM_WORLD, ctx.plan.output);
    } else {
        pf_store_meta meta = {ctx.job_text, ctx.job_path, ctx.plan.fingerprint, ctx.checksums,
                              size, ctx.plan.epochs_capped, ctx.plan.file_id};
        store = store_create(MPI_COMM_WORLD, ctx.plan.output, ctx.configs, ctx.plan.nconfigs, &meta);
    }
    /* Which host each rank runs on, as this run's rows of /ranks. */
    const int32_t run_number = store_begin_run(store, ctx.hosts);
    /* Every rank reads the status table before any rank writes (HPC-NOTES). */
    ctx.status = pf_malloc(sizeof *ctx.status * (size_t)(ctx.plan.nconfigs ? ctx.plan.nconfigs : 1));
    store_read_status(store, ctx.status);
    barrier_polling();

    sched_run_state st;
    memset(&st, 0, sizeof st);
    st.ctx = &ctx;
    st.opts = opts;
    st.store = store;
    st.rank = rank;
    st.size = size;
    st.t_start = t0;
    snprintf(st.host, sizeof st.host, "%s", host);
    build_queue(&st); /* every rank computes it; rank 0 uses it */

    /* Only the datasets of configurations to run are shared (need: prepare, from the same statuses). */
    for (int64_t i = 0; i < st.nqueue; i++) PF_ASSERT(ctx.plan.need[ctx.configs[st.queue[i]].cfg.dataset]);
    share_datasets(&ctx, rank);

    if (rank == 0) blas_core_warn(); /* after validation: a user error stays one line */
    if (rank == 0 && !opts->quiet) {
        pf_isa isa = PF_ISA_SCALAR;
        (void)cpu_resolve_isa(opts->isa, &isa);
        printf("poisonfarm: %s: %lld configurations, %lld done, %lld to run on %d rank%s x %d thread%s, "
               "kernels %s (%s) -> %s\n",
               ctx.job_path, (long long)ctx.plan.nconfigs, (long long)st.total_done, (long long)st.nqueue,
               size, size == 1 ? "" : "s", ctx.plan.threads, ctx.plan.threads == 1 ? "" : "s", isa_name(isa),
               opts->isa == PF_ISA_AUTO ? "rank 0's CPU default" : "pinned by --isa", ctx.plan.output);
        fflush(stdout);
    }

    if (rank == 0)
        main_rank0(&st);
    else
        main_worker(&st);

    /* The clean end: everyone together, without spinning while the last ones finish. */
    barrier_polling();
    double busy = st.busy_seconds, busy_sum = 0;
    int64_t done = st.done_this_run, done_sum = 0;
    PF_MPI_CHECK(MPI_Reduce(&busy, &busy_sum, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD));
    PF_MPI_CHECK(MPI_Reduce(&done, &done_sum, 1, MPI_INT64_T, MPI_SUM, 0, MPI_COMM_WORLD));

    int exit_code = PF_EXIT_OK;
    pf_store_run run;
    memset(&run, 0, sizeof run);
    if (rank == 0) {
        double wall = pf_now() - t0;
        pf_status *now = pf_malloc(sizeof *now * (size_t)(ctx.plan.nconfigs ? ctx.plan.nconfigs : 1));
        store_read_status(store, now);
        int64_t pending = 0, bad = 0;
        for (int64_t i = 0; i < ctx.plan.nconfigs; i++) {
            if (now[i] == PF_STATUS_PENDING || now[i] == PF_STATUS_RUNNING) pending++;
            if (now[i] == PF_STATUS_FAILED || now[i] == PF_STATUS_DIVERGED) bad++;
        }
        free(now);
        exit_code = pending > 0 ? PF_EXIT_STOPPED : bad > 0 ? PF_EXIT_CONFIGS : PF_EXIT_OK;
        run.start = t_start_wall;
        run.end = (double)time(NULL);
        run.run = run_number;
        run.ranks = size;
        run.threads = ctx.plan.threads;
        run.nhosts = ctx.nhosts;
        run.configs_done = done_sum;
        double cores = (double)size * ctx.plan.threads;
        run.efficiency = wall > 0 && busy_sum > 0 ? busy_sum / (cores * wall) : NAN;
        snprintf(run.ended, sizeof run.ended, "%s",
                 pending > 0 ? "stopped" : bad > 0 ? "complete, with failures" : "complete");
        if (!opts->quiet || exit_code != PF_EXIT_OK) {
            char wall_s[32], eff[32];
            format_duration(wall, wall_s, sizeof wall_s);
            if (isnan(run.efficiency))
                snprintf(eff, sizeof eff, "n/a (nothing trained)");
            else
                snprintf(eff, sizeof eff, "%.3f", run.efficiency);
            printf("poisonfarm: %s: %lld configurations done in this run, %lld pending, %lld failed or diverged; "
                   "wall %s, parallel efficiency %s\n",
                   run.ended, (long long)done_sum, (long long)pending, (long long)bad, wall_s, eff);
            if (pending > 0) printf("poisonfarm: run the same command again to resume %s\n", ctx.plan.output);
            fflush(stdout);
        }
    }
    PF_MPI_CHECK(MPI_Bcast(&run, (int)sizeof run, MPI_BYTE, 0, MPI_COMM_WORLD));
    PF_MPI_CHECK(MPI_Bcast(&exit_code, 1, MPI_INT, 0, MPI_COMM_WORLD));
    store_append_run(store, &run);
    store_close(store);
    if (rank == 0) {
        if (exit_code != PF_EXIT_STOPPED) (void)rmdir(ctx.plan.ckpt_dir); /* empty once all are done */
        lock_release(ctx.lock);
        ctx.lock = NULL;
    }
    free(st.queue);
    free(st.cost);
    free(st.busy);
    free(st.stop_sent);
    ctx_free(&ctx);
    return exit_code;
}
