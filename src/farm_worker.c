/* farm_worker.c -- running one configuration of the farm on this rank: its row marked running, the
 * trainer resumed from the configuration's checkpoint when there is one, a checkpoint at most every
 * checkpoint_interval seconds and at a stop, the scheduler polled between batches, and the row
 * written at the end (the result, or pending again when the run stops). */
#include "farm_internal.h"

#include "poisonfarm/checkpoint.h"
#include "poisonfarm/train.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    farm_worker *w;
    int64_t id;
    pf_error ckerr;
    char ckpt[PF_PATH_MAX];
    pf_checkpoint_clock clock;
} cfg_hooks_ctx;

static void hook_batch(void *p) { sched_poll(((cfg_hooks_ctx *)p)->w->sched); }

/* Writes the trainer's state (a completed epoch's) when it is due: an interrupted configuration
 * resumes from the last one written. */
static void checkpoint_if_due(cfg_hooks_ctx *h, const pf_trainer *t, int stopping)
{
    int32_t epoch = trainer_result(t)->epochs;
    double now = pf_now();
    int due = checkpoint_due(&h->clock, now, epoch, stopping);
    if (due) {
        if (checkpoint_save(t, h->ckpt, &h->ckerr) == 0)
            checkpoint_clock_saved(&h->clock, pf_now(), epoch);
        else
            fprintf(stderr, "poisonfarm: rank %d: warning: %s\n", h->w->rank, h->ckerr.msg);
    }
    if (h->w->verbose && (!stopping || due)) {
        printf("poisonfarm: rank %d: configuration %lld epoch %d%s%s\n", h->w->rank, (long long)h->id, (int)epoch,
               stopping ? " (stopped)" : "", due ? ", checkpoint written" : "");
        fflush(stdout);
    }
}

static void hook_epoch(void *p, const pf_trainer *t)
{
    cfg_hooks_ctx *h = p;
    /* Not after the last epoch: the row is written next and the checkpoint removed. */
    if (!trainer_finished(t)) {
        checkpoint_if_due(h, t, 0);
    } else if (h->w->verbose) {
        printf("poisonfarm: rank %d: configuration %lld epoch %d, the last\n", h->w->rank, (long long)h->id,
               (int)trainer_result(t)->epochs);
        fflush(stdout);
    }
    sched_poll(h->w->sched);
}

void farm_start_config(farm_worker *w, int64_t id, sched_outcome *out)
{
    memset(out, 0, sizeof *out);
    out->id = id;
    out->best_epoch = -1;
    out->accuracy = NAN;
    store_write_running(w->store, id, w->rank, w->host);
}

void farm_run_config(farm_worker *w, int64_t id, sched_outcome *out)
{
    farm_ctx *ctx = w->ctx;
    const pf_store_config *sc = &ctx->configs[id];
    double t0 = pf_now();
    farm_start_config(w, id, out);
    cfg_hooks_ctx hc;
    memset(&hc, 0, sizeof hc);
    hc.w = w;
    hc.id = id;
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
    checkpoint_clock_start(&hc.clock, ctx->plan.checkpoint_interval, pf_now(), trainer_result(t)->epochs);
    pf_train_hooks hooks = {hook_batch, hook_epoch, &hc, &pf_stop_flag};
    int rc = trainer_finished(t) ? 1 : trainer_run(t, &hooks);
    if (rc < 0) {
        /* Stopped: the trainer is as after its last completed epoch, which is written now unless
           it is on disk already; the row goes back to pending. */
        checkpoint_if_due(&hc, t, 1);
        store_write_pending(w->store, id);
        out->kind = SCHED_STOPPED;
        out->status = PF_STATUS_PENDING;
    } else {
        pf_store_row row;
        const pf_result *res = trainer_result(t);
        store_row_finished(&row, res, w->rank, w->host);
        row.isa = trainer_isa(t);
        double tw = pf_now();
        store_write_result(w->store, id, &row, res);
        farm_samples_add(&w->writes, pf_now() - tw);
        (void)unlink(hc.ckpt);
        out->kind = SCHED_DONE;
        out->status = row.status;
        out->best_epoch = row.best_epoch;
        out->accuracy = store_reported_accuracy(&sc->cfg, &row);
    }
    trainer_free(t);
    out->seconds = pf_now() - t0;
}
