/* poison.c -- label poisoning: how many labels, which items, and which wrong label (docs/poisoning.md). */
#include "poisonfarm/poison.h"

#include "poisonfarm/common.h"
#include "poisonfarm/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The names of job files, output and the results file (pf_mode order). */
static const char *const mode_names[PF_MODE_COUNT] = {"random", "biased", "first_wrong", "pairflip",
                                                      "asymmetric", "file"};

const char *poison_mode_name(pf_mode m) { return pf_name_of(mode_names, PF_MODE_COUNT, (int)m); }

int poison_mode_from_name(const char *name, pf_mode *mode)
{
    int v = pf_name_lookup(mode_names, PF_MODE_COUNT, name);
    if (v < 0) return -1;
    *mode = (pf_mode)v;
    return 0;
}

/* 1 when the n-byte ranges at a and b overlap (compared as addresses: they may be different objects). */
static int overlap(const uint8_t *a, const uint8_t *b, int64_t n)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return x < y + (uintptr_t)n && y < x + (uintptr_t)n;
}

int64_t poison_count(int64_t n, double percent)
{
    PF_ASSERT(n >= 0);
    PF_ASSERT(percent >= 0.0 && percent <= 100.0);
    /* Python's round(n * p / 100): the product and the quotient are each rounded to double exactly
     * as Python does, then halves go to the even neighbour. nearbyint uses the current rounding
     * mode, which nothing in poisonfarm changes from round-to-nearest-even. */
    double x = (double)n * percent / 100.0;
    int64_t m = (int64_t)nearbyint(x);
    /* n * 100 / 100 is exact for any realistic n, but never trust float arithmetic at the edges. */
    if (m < 0) m = 0;
    if (m > n) m = n;
    return m;
}

uint8_t poison_wrong_label(uint8_t y, int k, pf_mode mode, uint64_t seed, int64_t i)
{
    PF_ASSERT(k >= 2 && k <= 256);
    PF_ASSERT((int)y < k);
    if (mode == PF_MODE_FIRST_WRONG) return y == 0 ? 1 : 0;
    if (mode == PF_MODE_PAIRFLIP) return (uint8_t)((y + 1) % k);
    PF_ASSERT(mode == PF_MODE_RANDOM || mode == PF_MODE_BIASED);
    /* One tiny stream per item, keyed by the item's index only: the draw for item i is the same
     * whatever p is (nested sets) and whichever other items are poisoned. */
    pf_rng rng;
    rng_seed(&rng, rng_derive(seed, (uint64_t)i));
    if (mode == PF_MODE_BIASED) {
        /* The published code: a, b = random.sample([0, 1], 2); return a if y != a else b. A true 0
         * or 1 always becomes the other one; any other label becomes 0 or 1, even odds. */
        if (y <= 1) return (uint8_t)(1 - y);
        return (uint8_t)rng_below(&rng, 2);
    }
    /* Drawing w among K-1 and skipping y maps uniformly onto the wrong classes. */
    uint32_t w = rng_below(&rng, (uint32_t)(k - 1));
    return (uint8_t)(w >= y ? w + 1 : w);
}

/* CIFAR-100's fine label -> superclass, as the dataset defines it (its 20 coarse classes of five
 * fine classes each, in the order of coarse_label_names.txt). */
const uint8_t poison_cifar100_coarse[100] = {
    4,  1,  14, 8,  0,  6,  7,  7,  18, 3,  3,  14, 9,  18, 7,  11, 3,  9,  7,  11,
    6,  11, 5,  10, 7,  6,  13, 15, 3,  15, 0,  11, 1,  10, 12, 14, 16, 9,  11, 5,
    5,  19, 8,  8,  15, 13, 14, 17, 18, 10, 16, 4,  17, 4,  2,  0,  17, 4,  18, 17,
    10, 3,  2,  12, 12, 16, 12, 1,  9,  19, 2,  10, 0,  1,  16, 12, 9,  13, 15, 13,
    16, 19, 2,  4,  6,  19, 5,  5,  8,  19, 18, 1,  2,  15, 6,  0,  17, 8,  14, 13};

int poison_asymmetric_partners(pf_dataset_id dataset, int k, uint8_t *partner)
{
    PF_ASSERT(k >= 2 && k <= 256);
    for (int y = 0; y < k; y++) partner[y] = (uint8_t)y;
    /* (from, to) pairs; a pair in both directions is a swap. */
    static const uint8_t mnist[][2] = {{2, 7}, {3, 8}, {5, 6}, {6, 5}, {7, 1}};
    /* airplane 0, automobile 1, bird 2, cat 3, deer 4, dog 5, horse 7, truck 9 */
    static const uint8_t cifar10[][2] = {{9, 1}, {2, 0}, {4, 7}, {3, 5}, {5, 3}};
    /* T-shirt/top 0, Pullover 2, Coat 4, Sandal 5, Shirt 6, Sneaker 7 */
    static const uint8_t fashion[][2] = {{0, 6}, {6, 0}, {2, 4}, {4, 2}, {5, 7}, {7, 5}};
    const uint8_t(*pairs)[2] = NULL;
    size_t npairs = 0;
    switch (dataset) {
    case PF_DS_MNIST: pairs = mnist, npairs = sizeof mnist / sizeof mnist[0]; break;
    case PF_DS_CIFAR10: pairs = cifar10, npairs = sizeof cifar10 / sizeof cifar10[0]; break;
    case PF_DS_FASHION_MNIST: pairs = fashion, npairs = sizeof fashion / sizeof fashion[0]; break;
    case PF_DS_CIFAR100:
        /* The next member of the same superclass, in fine-label order, the last back to the first. */
        for (int y = 0; y < 100 && y < k; y++) {
            int next = -1, first = -1;
            for (int z = 0; z < 100; z++) {
                if (poison_cifar100_coarse[z] != poison_cifar100_coarse[y]) continue;
                if (first < 0) first = z;
                if (z > y && next < 0) next = z;
            }
            int to = next >= 0 ? next : first;
            if (to < k) partner[y] = (uint8_t)to;
        }
        break;
    default: break;
    }
    for (size_t j = 0; j < npairs; j++)
        if (pairs[j][0] < k && pairs[j][1] < k) partner[pairs[j][0]] = pairs[j][1];
    int n = 0;
    for (int y = 0; y < k; y++) n += partner[y] != y;
    return n;
}

void poison_noise_init(pf_noise *nz, pf_mode mode, pf_dataset_id dataset, int k, uint64_t seed,
                       const uint8_t *file, int64_t nfile)
{
    PF_ASSERT(k >= 2 && k <= 256);
    PF_ASSERT((int)mode >= 0 && mode < PF_MODE_COUNT);
    memset(nz, 0, sizeof *nz);
    nz->mode = mode;
    nz->k = k;
    nz->seed = seed;
    poison_asymmetric_partners(dataset, k, nz->partner);
    if (mode == PF_MODE_FILE) {
        PF_ASSERT(nfile == 0 || file != NULL);
        nz->file = file;
        nz->nfile = nfile;
    }
}

uint8_t poison_label(const pf_noise *nz, uint8_t y, int64_t i)
{
    PF_ASSERT((int)y < nz->k);
    switch (nz->mode) {
    case PF_MODE_ASYMMETRIC: return nz->partner[y];
    case PF_MODE_FILE:
        PF_ASSERT(i >= 0 && i < nz->nfile);
        PF_ASSERT((int)nz->file[i] < nz->k);
        return nz->file[i];
    default: return poison_wrong_label(y, nz->k, nz->mode, nz->seed, i);
    }
}

int64_t poison_apply(uint8_t *out, const uint8_t *labels, int64_t n, double percent, const pf_noise *nz)
{
    PF_ASSERT(n >= 0 && (n == 0 || (out != NULL && labels != NULL)));
    PF_ASSERT(n == 0 || !overlap(out, labels, n));
    PF_ASSERT(nz->mode != PF_MODE_FILE || nz->nfile >= n);
    int64_t m = poison_count(n, percent), changed = 0;
    int64_t first = n - m;
    if (first > 0) memcpy(out, labels, (size_t)first);
    for (int64_t i = first; i < n; i++) {
        out[i] = poison_label(nz, labels[i], i);
        changed += out[i] != labels[i];
    }
    return changed;
}

int64_t poison_apply_scattered(uint8_t *out, uint8_t *which, const uint8_t *labels, int64_t n,
                               double percent, const pf_noise *nz)
{
    PF_ASSERT(n >= 0 && n <= INT32_MAX);
    PF_ASSERT(n == 0 || (out != NULL && labels != NULL));
    PF_ASSERT(n == 0 || !overlap(out, labels, n));
    PF_ASSERT(nz->mode != PF_MODE_FILE);
    int64_t m = poison_count(n, percent), changed = 0;
    if (n > 0) memcpy(out, labels, (size_t)n);
    if (which != NULL && n > 0) memset(which, 0, (size_t)n);
    if (m == 0) return 0;

    /* The permutation depends only on (seed, n), so the first m of it grow with p: nested sets. */
    int32_t *perm = pf_malloc((size_t)n * sizeof *perm);
    for (int64_t i = 0; i < n; i++) perm[i] = (int32_t)i;
    pf_rng rng;
    rng_seed(&rng, nz->seed);
    rng_shuffle_i32(&rng, perm, n);
    for (int64_t j = 0; j < m; j++) {
        int32_t i = perm[j];
        out[i] = poison_label(nz, labels[i], i);
        changed += out[i] != labels[i];
        if (which != NULL) which[i] = 1;
    }
    free(perm);
    return changed;
}

int64_t poison_transitions(const uint8_t *orig, const uint8_t *poisoned, int64_t n, int k,
                           int64_t *counts)
{
    PF_ASSERT(n >= 0 && k >= 1 && counts != NULL);
    int64_t changed = 0;
    for (int64_t i = 0; i < n; i++) {
        PF_ASSERT((int)orig[i] < k && (int)poisoned[i] < k);
        counts[(int64_t)orig[i] * k + poisoned[i]] += 1;
        changed += orig[i] != poisoned[i];
    }
    return changed;
}
