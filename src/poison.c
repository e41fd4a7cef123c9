/* poison.c -- label poisoning: how many labels, which items, and which wrong label (docs/poisoning.md). */
#include "poisonfarm/poison.h"

#include "poisonfarm/common.h"
#include "poisonfarm/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

int64_t poison_apply(uint8_t *out, const uint8_t *labels, int64_t n, int k, double percent,
                     pf_mode mode, uint64_t seed)
{
    PF_ASSERT(n >= 0 && (n == 0 || (out != NULL && labels != NULL)));
    PF_ASSERT(n == 0 || !overlap(out, labels, n));
    int64_t m = poison_count(n, percent);
    int64_t first = n - m;
    if (first > 0) memcpy(out, labels, (size_t)first);
    for (int64_t i = first; i < n; i++) out[i] = poison_wrong_label(labels[i], k, mode, seed, i);
    return m;
}

int64_t poison_apply_scattered(uint8_t *out, uint8_t *which, const uint8_t *labels, int64_t n, int k,
                               double percent, pf_mode mode, uint64_t seed)
{
    PF_ASSERT(n >= 0 && n <= INT32_MAX);
    PF_ASSERT(n == 0 || (out != NULL && labels != NULL));
    PF_ASSERT(n == 0 || !overlap(out, labels, n));
    int64_t m = poison_count(n, percent);
    if (n > 0) memcpy(out, labels, (size_t)n);
    if (which != NULL && n > 0) memset(which, 0, (size_t)n);
    if (m == 0) return 0;

    /* The permutation depends only on (seed, n), so the first m of it grow with p: nested sets. */
    int32_t *perm = pf_malloc((size_t)n * sizeof *perm);
    for (int64_t i = 0; i < n; i++) perm[i] = (int32_t)i;
    pf_rng rng;
    rng_seed(&rng, seed);
    rng_shuffle_i32(&rng, perm, n);
    for (int64_t j = 0; j < m; j++) {
        int32_t i = perm[j];
        out[i] = poison_wrong_label(labels[i], k, mode, seed, i);
        if (which != NULL) which[i] = 1;
    }
    free(perm);
    return m;
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
