/* farm_worker.c -- running one configuration of the farm on this rank: its row marked running, the
 * trainer resumed from the configuration's checkpoint when there is one, a checkpoint after every
 * epoch, the scheduler polled between batches, and the row written at the end (the result, or
 * pending again when the run stops). */
#include "farm_internal.h"

#include "poisonfarm/checkpoint.h"
#include "poisonfarm/train.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    farm_worker *w;
    pf_error ckerr;
    char ckpt[PF_PATH_MAX];
} cfg_hooks_ctx;

static void hook_batch(void *p) { sched_poll(((cfg_hooks_ctx *)p)->w->sched); }

static void hook_epoch(void *p, const pf_trainer *t)
{
    cfg_hooks_ctx *h = p;
    /* A checkpoint after every completed epoch: an interrupted configuration resumes here. */
    if (checkpoint_save(t, h->ckpt, &h->ckerr) != 0)
        fprintf(stderr, "poisonfarm: rank %d: warning: %s\n", h->w->rank, h->ckerr.msg);
    sched_poll(h->w->sched);
}

void farm_run_config(farm_worker *w, int64_t id, sched_outcome *out)
{
    farm_ctx *ctx = w->ctx;
    const pf_store_config *sc = &ctx->configs[id];
    double t0 = pf_now();
    memset(out, 0, sizeof *out);
    out->id = id;
    out->best_epoch = -1;
    out->accuracy = NAN;

    store_write_running(w->store, id, w->rank, w->host);
    cfg_hooks_ctx hc;
    memset(&hc, 0, sizeof hc);
    hc.w = w;
    if (pf_snprintf(hc.ckpt, sizeof hc.ckpt, "%s/config-%lld.state", ctx->plan.ckpt_dir, (long long)id) != 0)
        pf_fatal(__FILE__, __LINE__, "checkpoint path too long: %s", ctx->plan.ckpt_dir);

    pf_error err = {0};
    pf_trainer *t = trainer_create(&sc->cfg, &ctx->ds[sc->cfg.dataset], ctx->plan.threads, &err);
    if (t != NULL && trainer_set_isa(t, ctx->plan.isa, &err) != 0) { /* a node without the pinned path */
        trainer_free(t);
        t = NULL;
    }
    if (t == NULL) {
        pf_store_row row;
        store_row_failed(&row, w->rank, w->host, err.msg);
        store_write_result(w->store, id, &row, NULL);
        fprintf(stderr, "poisonfarm: configuration %lld failed: %s\n", (long long)id, err.msg);
        out->kind = SCHED_DONE;
        out->status = PF_STATUS_FAILED;
        out->seconds = pf_now() - t0;
        return;
    }
    if (access(hc.ckpt, R_OK) == 0) {
        if (checkpoint_restore(t, hc.ckpt, &err) == 0) {
            printf("poisonfarm: rank %d: configuration %lld resumes after epoch %d\n", w->rank, (long long)id,
                   trainer_result(t)->epochs);
            fflush(stdout);
        } else {
            fprintf(stderr, "poisonfarm: rank %d: warning: %s; configuration %lld starts afresh\n", w->rank,
                    err.msg, (long long)id);
            trainer_free(t);
            t = trainer_create(&sc->cfg, &ctx->ds[sc->cfg.dataset], ctx->plan.threads, &err);
            PF_ASSERT(t != NULL && trainer_set_isa(t, ctx->plan.isa, &err) == 0);
        }
    }
    pf_train_hooks hooks = {hook_batch, hook_epoch, &hc, &pf_stop_flag};
    int rc = trainer_finished(t) ? 1 : trainer_run(t, &hooks);
    if (rc < 0) {
        /* Stopped: the last completed epoch is in the checkpoint; the row goes back to pending. */
        store_write_pending(w->store, id);
        out->kind = SCHED_STOPPED;
        out->status = PF_STATUS_PENDING;
    } else {
        pf_store_row row;
        const pf_result *res = trainer_result(t);
        store_row_finished(&row, res, w->rank, w->host);
        row.isa = trainer_isa(t);
        store_write_result(w->store, id, &row, res);
        (void)unlink(hc.ckpt);
        out->kind = SCHED_DONE;
        out->status = row.status;
        out->best_epoch = row.best_epoch;
        out->accuracy = store_reported_accuracy(&sc->cfg, &row);
    }
    trainer_free(t);
    out->seconds = pf_now() - t0;
}
