/* poison.h -- label poisoning: which labels are replaced and by what (docs/poisoning.md).
 *
 * For p percent of n training items, exactly round(n * p / 100) labels (round half to even, as
 * Python's round) are replaced: the LAST ones. The wrong label of item i depends only on (seed, i,
 * true label, mode), so poisoned sets are nested across p. Functions work on copies: the dataset's
 * labels are never modified. */
#ifndef POISONFARM_POISON_H
#define POISONFARM_POISON_H

#include <stdint.h>

typedef enum {
    PF_MODE_RANDOM = 0,   /* uniform over the K-1 wrong classes */
    PF_MODE_BIASED,       /* the seed's published code: 0 -> 1, 1 -> 0, any other label -> 0 or 1
                             (even odds); the seed's figures were made with this */
    PF_MODE_FIRST_WRONG,  /* the seed post's wording, a harsher experiment: always the first wrong
                             class, 0 (or 1 for a true 0) */
    PF_MODE_COUNT
} pf_mode;

/* "random", "biased", "first_wrong". */
const char *poison_mode_name(pf_mode mode);

/* Parses a mode name; returns 0 and sets *mode, or -1. */
int poison_mode_from_name(const char *name, pf_mode *mode);

/* round(n * p / 100) with round-half-to-even on the double value n * p / 100, as Python computes
 * it (n = 1, p = 50 gives 0; n = 3, p = 50 gives 2). n >= 0 and p in [0, 100], else the job aborts
 * (PF_ASSERT: the job file loader rejects such percents first). */
int64_t poison_count(int64_t n, double percent);

/* The wrong label for item i whose true label is y, among k classes (2 <= k <= 256, y < k). Never
 * equals y. With a stream seeded with rng_derive(seed, i): random: w = rng_below(K - 1), label
 * w + (w >= y); biased: 1 - y for y in {0, 1}, else rng_below(2); first_wrong: 0, or 1 when y is 0
 * (no randomness). */
uint8_t poison_wrong_label(uint8_t y, int k, pf_mode mode, uint64_t seed, int64_t i);

/* out[i] = labels[i] for the first n - m items, wrong labels for the last m = poison_count(n, p).
 * out and labels may not alias. Returns m. */
int64_t poison_apply(uint8_t *out, const uint8_t *labels, int64_t n, int k, double percent,
                     pf_mode mode, uint64_t seed);

/* Validation poisoning: the same count m = poison_count(n, p), on a seeded random choice of items
 * (the first m of a permutation of [0, n) shuffled by a stream seeded with `seed`, so nested across
 * p), labels from poison_wrong_label(labels[i], k, mode, seed, i). When `which` is not NULL,
 * which[i] is set to 1 for poisoned items, 0 otherwise. n <= INT32_MAX. Returns m. */
int64_t poison_apply_scattered(uint8_t *out, uint8_t *which, const uint8_t *labels, int64_t n, int k,
                               double percent, pf_mode mode, uint64_t seed);

/* Realised noise: counts[y * k + z] += 1 for every item with original label y and new label z
 * (k * k counts, caller zeroes). Returns how many labels changed. */
int64_t poison_transitions(const uint8_t *orig, const uint8_t *poisoned, int64_t n, int k,
                           int64_t *counts);

#endif
