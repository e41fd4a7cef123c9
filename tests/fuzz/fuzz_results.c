/* fuzz_results.c -- libFuzzer harness of the results-file readers (store_inspect, store_load_tables:
 * what a resume and `poisonfarm check` read, store_load: what report and train --from read). The
 * input is not file bytes but a list of changes made through the HDF5 API (h5mutate.h) to a copy
 * of a valid results file -- enums, sizes, ids, counts, NaNs, strings, attributes, whole objects
 * removed: byte-level damage mostly finds faults inside HDF5 itself, value-level damage is what
 * poisonfarm must survive. A file a reader accepts must be one the farm, the scheduler and the cost
 * model can use (every configuration valid, every index in range; simulated rows only in a dry
 * run's file, and no result in one); a refused one is one line.
 *
 * Input: records of 6 bytes, then the value's bytes: op, a, b, c, len, then len bytes (len 0: an
 * interesting value chosen by a). op % 6: 0 a /configs member, 1 a /results member, 2 an element
 * of /history, /confusion or /transitions, 3 a root attribute, 4 remove an object or attribute,
 * 5 a member of /suspects, /runs or /ranks. */
#include "fuzz_common.h"
#include "h5mutate.h"

#include "poisonfarm/grid.h"
#include "poisonfarm/sched.h"
#include "poisonfarm/store.h"

#include <math.h>

#define N_ROWS 6

static char base_path[600], work_path[600];
static uint8_t *base_bytes;
static size_t base_size;

/* A valid file: six configurations over three datasets, rows done, diverged, failed, running,
 * pending, with histories and confusion matrices. */
static void make_base(void)
{
    pf_store_config c[N_ROWS];
    memset(c, 0, sizeof c);
    const pf_dataset_id ds[N_ROWS] = {PF_DS_MNIST, PF_DS_CIFAR10, PF_DS_CIFAR100, PF_DS_FASHION_MNIST,
                                      PF_DS_MNIST, PF_DS_CIFAR10};
    for (int i = 0; i < N_ROWS; i++) {
        config_defaults(&c[i].cfg);
        c[i].id = i;
        c[i].cfg.dataset = ds[i];
        c[i].cfg.subset = 100 + i;
        c[i].cfg.percent = 10.0 * i;
        c[i].cfg.max_epochs = 3 + i % 3;
        c[i].cfg.val_items = 50;
        c[i].cfg.selection = i % 2 ? PF_SEL_SPLIT : PF_SEL_TEST;
        c[i].k = ds[i] == PF_DS_CIFAR100 ? 100 : 10;
        c[i].n_train = c[i].cfg.subset;
    }
    const char *sums = "mnist/t10k-labels-idx1-ubyte 0123456789abcdef0123456789abcdef\n";
    pf_store_meta meta = {"datasets = [\"mnist\"];\n", "fuzz.cfg", store_configs_fingerprint(c, N_ROWS, sums), sums,
                          2, 1, "00112233445566778899aabbccddeeff", 0};
    pf_error err = {0};
    if (store_create_file(base_path, c, N_ROWS, &meta, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        abort();
    }
    /* The rows, value by value, as a run would have written them. */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_sec2(fapl);
    H5Pset_file_locking(fapl, 0, 1);
    hid_t f = H5Fopen(base_path, H5F_ACC_RDWR, fapl);
    H5Pclose(fapl);
    if (f < 0) abort();
    const char *status[N_ROWS] = {"2", "2", "4", "3", "1", "0"};
    const char *stop[N_ROWS] = {"1", "2", "3", "0", "0", "0"};
    for (int i = 0; i < N_ROWS; i++) {
        char v[64];
        int fin = i < 3;
        h5m_set_text(f, "results", (uint64_t)i, "stop", stop[i]);
        if (fin) {
            snprintf(v, sizeof v, "%d", c[i].cfg.max_epochs);
            h5m_set_text(f, "results", (uint64_t)i, "epochs", v);
            h5m_set_text(f, "results", (uint64_t)i, "best_epoch", i == 2 ? "-1" : "1");
            h5m_set_text(f, "results", (uint64_t)i, "best_val_acc", i == 2 ? "nan" : "0.5");
            h5m_set_text(f, "results", (uint64_t)i, "final_val_acc", i == 2 ? "nan" : "0.25");
            h5m_set_text(f, "results", (uint64_t)i, "n_poisoned", "10");
            h5m_set_text(f, "results", (uint64_t)i, "detect_flagged", "12");
            h5m_set_text(f, "results", (uint64_t)i, "train_seconds", "1.5");
            for (int e = 0; e < c[i].cfg.max_epochs; e++)
                h5m_set_text(f, "history/val_acc", (uint64_t)(i * 5 + e), NULL, "0.5");
            h5m_set_text(f, "confusion", (uint64_t)i * 100 * 100, NULL, "7");
        }
        if (i == 3) h5m_set_text(f, "results", (uint64_t)i, "reason", "could not start");
        if (i >= 3 && i <= 4) {
            h5m_set_text(f, "results", (uint64_t)i, "rank", "1");
            h5m_set_text(f, "results", (uint64_t)i, "host", "node-a");
        }
        h5m_set_text(f, "results", (uint64_t)i, "status", status[i]);
    }
    if (H5Fclose(f) < 0) abort();
    pf_results r;
    if (store_load(base_path, &r, &err) != 0) {
        fprintf(stderr, "the base file is not valid: %s\n", err.msg);
        abort();
    }
    store_results_free(&r);
    FILE *in = fopen(base_path, "rb");
    fseek(in, 0, SEEK_END);
    base_size = (size_t)ftell(in);
    fseek(in, 0, SEEK_SET);
    base_bytes = malloc(base_size);
    if (fread(base_bytes, 1, base_size, in) != base_size) abort();
    fclose(in);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init_dir("fuzz-results");
    snprintf(base_path, sizeof base_path, "%s/base.h5", fz_dir);
    snprintf(work_path, sizeof work_path, "%s/r.h5", fz_dir);
    store_quiet_hdf5();
    make_base();
    return 0;
}

/* Values worth trying in any member: the boundaries of every range the readers check. */
static size_t interesting(uint8_t which, uint8_t *out)
{
    static const double dbl[] = {NAN, INFINITY, -INFINITY, -0.0, -1.1e-64, 1.0000000000000002, 1e300, -1, 0, 1, 100, 100.0001};
    static const int64_t ints[] = {-1, 0, 1, 2, 7, 9, 99, 100, 101, 127, -128, 255, 65535, 1000000,
                                   2147483647, -2147483647 - 1, INT64_MAX, INT64_MIN};
    const size_t nd = sizeof dbl / sizeof dbl[0], ni = sizeof ints / sizeof ints[0];
    if (which % (nd + ni) < nd) {
        memcpy(out, &dbl[which % (nd + ni)], 8);
        return 8;
    }
    memcpy(out, &ints[which % (nd + ni) - nd], 8);
    return 8;
}

static void member_of(hid_t f, const char *dset, uint8_t b, char *name, size_t size)
{
    int m = h5m_members(f, dset);
    name[0] = '\0';
    if (m > 0) h5m_member_name(f, dset, b % m, name, size);
}

static void apply(hid_t f, const uint8_t *d, size_t n)
{
    static const char *const numeric[] = {"history/train_loss", "history/val_acc", "history/lr", "confusion",
                                          "transitions"};
    static const char *const tables[] = {"suspects", "runs", "ranks"};
    /* The numeric attributes first (N_NUM_ATTRS), then the strings. */
    enum { N_ATTRS = 10, N_NUM_ATTRS = 6, N_OBJECTS = 17 };
    static const char *const attrs[N_ATTRS] = {"fingerprint", "poisonfarm_format", "epochs_capped", "ranks",
                                               "simulated", "dry_run_scale", "file_id", "job_text",
                                               "data_checksums", "created"};
    static const char *const objects[N_OBJECTS] = {"configs", "results", "history", "history/val_acc", "confusion",
                                          "transitions", "suspects", "runs", "ranks", "@fingerprint",
                                          "@file_id", "@job_text", "@data_checksums", "@epochs_capped",
                                          "@poisonfarm_format", "@simulated", "@dry_run_scale"};
    size_t p = 0;
    for (int k = 0; k < 16 && p + 5 <= n; k++) {
        uint8_t op = d[p], a = d[p + 1], b = d[p + 2], c = d[p + 3], len = d[p + 4];
        p += 5;
        uint8_t val[256];
        size_t nv;
        if (len == 0) {
            nv = interesting(a ^ c, val);
        } else {
            nv = len < n - p ? len : n - p;
            memcpy(val, d + p, nv);
            p += nv;
        }
        char member[128];
        switch (op % 6) {
        case 0:
            member_of(f, "configs", b, member, sizeof member);
            h5m_set_raw(f, "configs", a % N_ROWS, member[0] ? member : NULL, val, nv);
            break;
        case 1:
            member_of(f, "results", b, member, sizeof member);
            h5m_set_raw(f, "results", a % N_ROWS, member[0] ? member : NULL, val, nv);
            break;
        case 2: {
            const char *ds = numeric[b % 5];
            int64_t ne = h5m_elements(f, ds);
            if (ne > 0) h5m_set_raw(f, ds, (uint64_t)((a * 257u + c) % (uint64_t)ne), NULL, val, nv);
            break;
        }
        case 3: {
            const char *at = attrs[b % N_ATTRS];
            if (b % N_ATTRS >= N_NUM_ATTRS) {
                char text[257];
                memcpy(text, val, nv);
                text[nv] = '\0';
                h5m_set_attr(f, at, text);
            } else {
                char text[32];
                int64_t v;
                memcpy(&v, val, nv < 8 ? nv : 8);
                if (nv < 8) v = (int64_t)(int8_t)val[0];
                snprintf(text, sizeof text, "%lld", (long long)v);
                h5m_set_attr(f, at, text);
            }
            break;
        }
        case 4: h5m_remove(f, objects[b % N_OBJECTS]); break;
        case 5: {
            const char *t = tables[b % 3];
            member_of(f, t, c, member, sizeof member);
            int64_t ne = h5m_elements(f, t);
            if (ne > 0) h5m_set_raw(f, t, (uint64_t)(a % (uint64_t)ne), member[0] ? member : NULL, val, nv);
            break;
        }
        }
    }
}

/* What the farm, the scheduler and the cost model do with the rows of an accepted file. */
static void use(const pf_results *r)
{
    FZ_REQUIRE(r->n >= 1 && r->kmax >= 2 && r->kmax <= PF_MAX_CLASSES && r->max_epochs >= 1);
    FZ_REQUIRE(r->simulated ? r->dry_run_scale > 0 && r->dry_run_scale <= PF_DRY_RUN_SCALE_MAX : r->dry_run_scale == 0);
    pf_status *st = malloc(sizeof *st * (size_t)r->n);
    double *cost = malloc(sizeof *cost * (size_t)r->n);
    for (int64_t i = 0; i < r->n; i++) {
        const pf_store_config *c = &r->configs[i];
        FZ_REQUIRE(c->id == i);
        pf_error e = {0};
        FZ_REQUIRE(config_check(&c->cfg, &e) == 0);
        FZ_REQUIRE(c->k >= 2 && c->k <= r->kmax && c->cfg.max_epochs <= r->max_epochs);
        FZ_REQUIRE(c->n_train >= 1);
        FZ_REQUIRE((int)r->rows[i].status >= 0 && r->rows[i].status < PF_STATUS_COUNT);
        FZ_REQUIRE((int)r->rows[i].stop >= 0 && r->rows[i].stop < PF_STOP_COUNT);
        FZ_REQUIRE(strcmp(status_name(r->rows[i].status), "?") != 0);
        /* Simulated rows only in a dry run's file, and never a result in one (format 7). */
        const pf_status s = r->rows[i].status;
        FZ_REQUIRE(s != PF_STATUS_SIMULATED || r->simulated);
        FZ_REQUIRE(!r->simulated || s == PF_STATUS_PENDING || s == PF_STATUS_RUNNING || s == PF_STATUS_SIMULATED);
        double acc = store_reported_accuracy(&c->cfg, &r->rows[i]);
        FZ_REQUIRE(isnan(acc) || (acc >= 0 && acc <= 1));
        FZ_REQUIRE(memchr(r->rows[i].host, '\0', sizeof r->rows[i].host) != NULL);
        st[i] = r->rows[i].status;
        cost[i] = grid_config_cost(&c->cfg, c->n_train);
    }
    FZ_REQUIRE(store_configs_fingerprint(r->configs, r->n, r->data_checksums) == r->fingerprint);
    sched_queue q;
    sched_queue_build(&q, st, cost, r->n, 1);
    FZ_REQUIRE(q.n >= 0 && q.n <= r->n);
    for (int64_t i = 0; i < q.n; i++) FZ_REQUIRE(q.ids[i] >= 0 && q.ids[i] < r->n);
    sched_queue_free(&q);
    free(st);
    free(cost);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    fz_write("r.h5", base_bytes, base_size);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_sec2(fapl);
    H5Pset_file_locking(fapl, 0, 1);
    hid_t f = H5Fopen(work_path, H5F_ACC_RDWR, fapl);
    H5Pclose(fapl);
    if (f < 0) abort();
    apply(f, d, n);
    H5Fclose(f);

    pf_error err = {0};
    pf_store_info info;
    if (store_inspect(work_path, &info, &err) == 0) {
        FZ_REQUIRE(info.exists && info.nconfigs >= 1 && (info.simulated == 0 || info.simulated == 1));
    } else {
        FZ_ONE_LINE(err);
    }
    pf_results r;
    if (store_load_tables(work_path, &r, &err) == 0) {
        use(&r);
        store_results_free(&r);
    } else {
        FZ_ONE_LINE(err);
    }
    if (store_load(work_path, &r, &err) == 0) {
        use(&r);
        FZ_REQUIRE(r.history[0] != NULL && r.confusion != NULL && r.suspects != NULL);
        store_results_free(&r);
    } else {
        FZ_ONE_LINE(err);
    }
    return 0;
}
