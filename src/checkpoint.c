/* checkpoint.c -- the checkpoint file of one training run (format: checkpoint.h). */
#include "poisonfarm/checkpoint.h"

#include "poisonfarm/fsutil.h"
#include "train_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CKPT_MAGIC "PFTRAIN\n"
#define CKPT_VERSION 4u   /* 2: the configuration record follows the field table; 3: detection
                             measures and suspects in the state; 4: the kernels' path */
#define CKPT_BOM 0x01020304u
#define CKPT_HEADER 24    /* magic 8 + version 4 + bom 4 + payload bytes 8 */
#define CKPT_MAX_BYTES ((uint64_t)1 << 34)

/* One stream of bytes in either direction. Writing appends to a growing buffer (or, with counting
 * set, only counts); reading copies out of a buffer whose size was checked beforehand. */
typedef struct {
    int reading, counting;
    uint8_t *p;
    size_t n, cap;
} ckpt_io;

static void io(ckpt_io *c, void *data, size_t n)
{
    if (c->reading) {
        PF_ASSERT(c->n + n <= c->cap);
        memcpy(data, c->p + c->n, n);
    } else if (!c->counting) {
        if (c->n + n > c->cap) {
            size_t cap = c->cap ? c->cap : 4096;
            while (cap < c->n + n) cap *= 2;
            uint8_t *p = realloc(c->p, cap);
            PF_CHECK_ALLOC(p);
            c->p = p;
            c->cap = cap;
        }
        memcpy(c->p + c->n, data, n);
    }
    c->n += n;
}

#define IO(c, x) io((c), &(x), sizeof(x))

/* The configuration record: the field count, then every field's bits (config_field_bits). When
 * reading, the values read are returned in bits[] instead of being stored. */
static void config_io(ckpt_io *c, const pf_config *cfg, uint64_t bits[PF_NFIELDS], uint32_t *nfields)
{
    *nfields = PF_NFIELDS;
    IO(c, *nfields);
    for (int f = 0; f < PF_NFIELDS; f++) {
        if (!c->reading) bits[f] = config_field_bits(cfg, f);
        IO(c, bits[f]);
    }
}

/* The sizes that must match before the state can be read. */
typedef struct {
    uint64_t np;
    int32_t k, n_train, n_valall, n_watch;
} ckpt_sizes;

static void sizes_of(const pf_trainer *t, ckpt_sizes *s)
{
    memset(s, 0, sizeof *s);
    s->np = (uint64_t)t->np;
    s->k = t->k;
    s->n_train = t->n_train;
    s->n_valall = t->n_valall;
    s->n_watch = t->n_watch;
}

static void sizes_io(ckpt_io *c, ckpt_sizes *s)
{
    IO(c, s->np);
    IO(c, s->k);
    IO(c, s->n_train);
    IO(c, s->n_valall);
    IO(c, s->n_watch);
}

/* The conv kernels' path the state was computed with (cpu.h). A state resumes on a path that
 * rounds the same way: avx2 and avx512 give bit-identical results (the same fused multiply-adds in
 * the same order, tested), so a configuration checkpointed on an AVX-512 node continues on an AVX2
 * node and vice versa -- restarting it would only throw work away; the scalar path rounds
 * differently, so a change to or from it restarts the configuration instead of mixing kernels. */
static int same_rounding(pf_isa a, pf_isa b) { return (a == PF_ISA_SCALAR) == (b == PF_ISA_SCALAR); }

/* Everything that changes while training: the one list, for writing, reading and sizing. */
static void state_io(ckpt_io *c, pf_trainer *t)
{
    pf_result *r = &t->res;
    int32_t stop = (int32_t)r->stop, finished = t->finished;
    IO(c, t->epoch);
    IO(c, finished);
    IO(c, stop);
    IO(c, t->adam.t);
    IO(c, t->plat.best_correct);
    IO(c, t->plat.es_wait);
    IO(c, t->plat.lr_best);
    IO(c, t->plat.lr_wait);
    IO(c, t->plat.lr);
    IO(c, r->best_epoch);
    IO(c, r->best_val_acc);
    IO(c, r->final_val_acc);
    IO(c, r->heldout_acc);
    IO(c, r->poisoned_val_acc);
    IO(c, r->learned_poison);
    IO(c, r->learned_true);
    IO(c, r->train_seconds);
    const size_t np = t->np, me = (size_t)t->cfg.max_epochs;
    io(c, model_params(t->model), np * sizeof(float));
    io(c, t->adam.m, np * sizeof(float));
    io(c, t->adam.v, np * sizeof(float));
    io(c, t->best_params, np * sizeof(float));
    double *hist[6] = {r->train_loss, r->train_acc, r->val_loss, r->val_acc, r->lr, r->epoch_seconds};
    for (int h = 0; h < 6; h++) io(c, hist[h], me * sizeof(double));
    io(c, t->best_pred, (size_t)t->n_watch * sizeof(int32_t));
    io(c, r->confusion, (size_t)t->k * (size_t)t->k * sizeof(int32_t));
    /* Detection (set when the run finished). */
    IO(c, r->detect.auroc);
    IO(c, r->detect.precision);
    IO(c, r->detect.recall);
    for (int j = 0; j < PF_DETECT_NTOP; j++) IO(c, r->detect.top[j]);
    IO(c, r->detect.flagged);
    IO(c, r->detect.poisoned);
    for (int j = 0; j < PF_SUSPECTS; j++) {
        pf_suspect *x = &r->suspects[j];
        IO(c, x->item);
        IO(c, x->given);
        IO(c, x->truth);
        IO(c, x->predicted);
        IO(c, x->log_prob);
    }
    if (c->reading) {
        t->finished = finished;
        r->stop = (pf_stop)stop;
        r->epochs = t->epoch;
    }
}

/* The whole file's size for t: the same functions, counting. */
static size_t expected_bytes(const pf_trainer *t)
{
    ckpt_io c = {0, 1, NULL, 0, 0};
    uint64_t bits[PF_NFIELDS];
    uint32_t nf;
    ckpt_sizes s;
    int32_t isa = 0;
    sizes_of(t, &s);
    config_io(&c, &t->cfg, bits, &nf);
    sizes_io(&c, &s);
    IO(&c, isa);
    state_io(&c, (pf_trainer *)t); /* counting: nothing is read or written */
    return CKPT_HEADER + c.n + 4;
}

static uint32_t crc_of(const uint8_t *p, size_t n)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = crc32(crc, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return (uint32_t)crc;
}

/* Writes buf to path through a synced temporary file and a rename; syncs the directory. */
static int write_atomically(const char *path, const uint8_t *buf, size_t n, pf_error *err)
{
    char tmp[PF_PATH_MAX + 16];
    int rc = -1;
    if (pf_snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) != 0)
        return pf_error_set(err, PF_ERR_IO, "%s: checkpoint path too long", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return pf_error_set(err, PF_ERR_IO, "%s: cannot create a checkpoint here: %s", path, strerror(errno));
    for (size_t off = 0; off < n;) {
        ssize_t w = write(fd, buf + off, n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            pf_error_set(err, PF_ERR_IO, "%s: cannot write checkpoint: %s", tmp, strerror(errno));
            goto cleanup;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        pf_error_set(err, PF_ERR_IO, "%s: cannot sync checkpoint: %s", tmp, strerror(errno));
        goto cleanup;
    }
    int cr = close(fd);
    fd = -1;
    if (cr != 0) {
        pf_error_set(err, PF_ERR_IO, "%s: cannot close checkpoint: %s", tmp, strerror(errno));
        goto cleanup;
    }
    if (rename(tmp, path) != 0) {
        pf_error_set(err, PF_ERR_IO, "%s: cannot replace checkpoint: %s", path, strerror(errno));
        goto cleanup;
    }
    tmp[0] = '\0';
    /* Make the rename itself durable: sync the directory (best effort). */
    char dir[PF_PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        strcpy(dir, ".");
    } else {
        size_t len = slash == path ? 1 : (size_t)(slash - path);
        if (len >= sizeof dir) len = sizeof dir - 1;
        memcpy(dir, path, len);
        dir[len] = '\0';
    }
    int dfd = open(dir, O_RDONLY);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    rc = 0;
cleanup:
    if (fd >= 0) close(fd);
    if (tmp[0] != '\0') unlink(tmp);
    return rc;
}

int checkpoint_save(const pf_trainer *t, const char *path, pf_error *err)
{
    ckpt_io c = {0, 0, NULL, 0, 0};
    uint64_t zero = 0, bits[PF_NFIELDS];
    uint32_t ver = CKPT_VERSION, bom = CKPT_BOM, nf;
    ckpt_sizes s;
    io(&c, CKPT_MAGIC, 8);
    IO(&c, ver);
    IO(&c, bom);
    IO(&c, zero); /* payload bytes, filled in below */
    config_io(&c, &t->cfg, bits, &nf);
    sizes_of(t, &s);
    sizes_io(&c, &s);
    int32_t isa = (int32_t)model_isa(t->model);
    IO(&c, isa);
    state_io(&c, (pf_trainer *)t); /* writing: t is only read */
    uint64_t payload = (uint64_t)(c.n - CKPT_HEADER);
    memcpy(c.p + 16, &payload, 8);
    uint32_t crc = crc_of(c.p, c.n);
    IO(&c, crc);
    PF_ASSERT(c.n == expected_bytes(t));
    int rc = write_atomically(path, c.p, c.n, err);
    free(c.p);
    return rc;
}

int checkpoint_restore(pf_trainer *t, const char *path, pf_error *err)
{
    int rc = -1;
    uint8_t *data = NULL;
    /* Only a regular file: a FIFO at the checkpoint's path must not block the rank. */
    int fd = fs_open_regular(path, "checkpoint", err);
    if (fd < 0) return -1;
    FILE *f = fdopen(fd, "rb");
    if (f == NULL) {
        close(fd);
        return pf_error_set(err, PF_ERR_IO, "%s: cannot open checkpoint: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        pf_error_set(err, PF_ERR_IO, "%s: cannot read checkpoint: %s", path, strerror(errno));
        goto cleanup;
    }
    size_t size = (size_t)st.st_size;
    if (size < CKPT_HEADER + 4 || (uint64_t)size > CKPT_MAX_BYTES) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: not a poisonfarm checkpoint (%zu bytes)", path, size);
        goto cleanup;
    }
    data = pf_malloc(size);
    if (fread(data, 1, size, f) != size) {
        pf_error_set(err, PF_ERR_IO, "%s: cannot read checkpoint", path);
        goto cleanup;
    }
    if (memcmp(data, CKPT_MAGIC, 8) != 0) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: not a poisonfarm checkpoint (bad magic)", path);
        goto cleanup;
    }
    uint32_t ver, bom, crc_file;
    uint64_t payload;
    memcpy(&ver, data + 8, 4);
    memcpy(&bom, data + 12, 4);
    memcpy(&payload, data + 16, 8);
    if (bom != CKPT_BOM) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: checkpoint written on a machine of other byte order", path);
        goto cleanup;
    }
    if (ver != CKPT_VERSION) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: checkpoint version %u, this program reads version %u", path, ver,
                     CKPT_VERSION);
        goto cleanup;
    }
    if (payload != (uint64_t)(size - CKPT_HEADER - 4)) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: checkpoint truncated or padded (%zu bytes, header says %llu)", path,
                     size, (unsigned long long)(payload + CKPT_HEADER + 4));
        goto cleanup;
    }
    memcpy(&crc_file, data + size - 4, 4);
    if (crc_of(data, size - 4) != crc_file) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: checkpoint is corrupt (crc32 mismatch)", path);
        goto cleanup;
    }

    /* The configuration and sizes come first; they must match before the state's size is known. */
    ckpt_io c = {1, 0, data, CKPT_HEADER, size - 4};
    uint32_t nf = 0;
    if (c.cap - c.n < sizeof nf) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: checkpoint too short", path);
        goto cleanup;
    }
    IO(&c, nf);
    if (nf != PF_NFIELDS || c.cap - c.n < (size_t)nf * 8 + sizeof(ckpt_sizes) + 4) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: checkpoint of a configuration with %u fields, this program has %d",
                     path, nf, PF_NFIELDS);
        goto cleanup;
    }
    c.n = CKPT_HEADER;
    uint64_t bits[PF_NFIELDS];
    config_io(&c, NULL, bits, &nf);
    for (int fi = 0; fi < PF_NFIELDS; fi++) {
        if (bits[fi] != config_field_bits(&t->cfg, fi)) {
            pf_error_set(err, PF_ERR_CORRUPT, "%s: checkpoint belongs to another configuration (%s differs)", path,
                         pf_config_fields[fi].name);
            goto cleanup;
        }
    }
    ckpt_sizes mine, theirs;
    sizes_of(t, &mine);
    sizes_io(&c, &theirs);
    if (memcmp(&mine, &theirs, sizeof mine) != 0) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: checkpoint belongs to another configuration (model size or data differ)",
                     path);
        goto cleanup;
    }
    int32_t isa = 0;
    IO(&c, isa);
    const pf_isa mine_isa = model_isa(t->model);
    if (isa <= PF_ISA_AUTO || isa >= PF_ISA_COUNT || !same_rounding((pf_isa)isa, mine_isa)) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: checkpoint computed with the %s kernels, this run uses %s, which "
                     "rounds differently", path, isa > PF_ISA_AUTO && isa < PF_ISA_COUNT ? isa_name((pf_isa)isa) : "?",
                     isa_name(mine_isa));
        goto cleanup;
    }
    if (size != expected_bytes(t)) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: checkpoint has %zu bytes, expected %zu", path, size,
                     expected_bytes(t));
        goto cleanup;
    }
    state_io(&c, t);
    if (t->epoch < 0 || t->epoch > t->cfg.max_epochs || (t->finished != 0 && t->finished != 1) ||
        (int)t->res.stop < 0 || t->res.stop >= PF_STOP_COUNT) {
        pf_error_set(err, PF_ERR_CORRUPT, "%s: checkpoint has an impossible state (epoch %d)", path, (int)t->epoch);
        goto cleanup;
    }
    rc = 0;
cleanup:
    free(data);
    fclose(f);
    return rc;
}

/* ---- when to checkpoint ---------------------------------------------------------------------- */

void checkpoint_clock_start(pf_checkpoint_clock *c, double interval, double now, int32_t epoch)
{
    PF_ASSERT(interval >= 0);
    c->interval = interval;
    c->last = now;
    c->saved_epoch = epoch;
}

int checkpoint_due(const pf_checkpoint_clock *c, double now, int32_t epoch, int stopping)
{
    if (epoch <= c->saved_epoch) return 0;
    return stopping || now - c->last >= c->interval;
}

void checkpoint_clock_saved(pf_checkpoint_clock *c, double now, int32_t epoch)
{
    c->last = now;
    c->saved_epoch = epoch;
}
