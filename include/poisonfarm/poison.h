/* poison.h -- label poisoning: which labels are replaced and by what (docs/poisoning.md).
 *
 * For p percent of n training items, exactly m = round(n * p / 100) items (round half to even, as
 * Python's round) are poisoned: the LAST ones. What a poisoned item's label becomes is the mode's
 * rule (pf_noise below); it depends only on (seed, i, true label, mode and the mode's table or
 * file), never on p, so poisoned sets are nested across p. Most modes always change the label; two
 * may leave it: asymmetric (a class without a partner keeps its label) and file (the file may give
 * the true label). The realised noise is what changed (poison_transitions). Functions work on
 * copies: the dataset's labels are never modified. */
#ifndef POISONFARM_POISON_H
#define POISONFARM_POISON_H

#include "poisonfarm/data.h"

#include <stdint.h>

typedef enum {
    PF_MODE_RANDOM = 0,   /* uniform over the K-1 wrong classes */
    PF_MODE_BIASED,       /* the seed's published code: 0 -> 1, 1 -> 0, any other label -> 0 or 1
                             (even odds); the seed's figures were made with this */
    PF_MODE_FIRST_WRONG,  /* the seed post's wording, a harsher experiment: always the first wrong
                             class, 0 (or 1 for a true 0) */
    PF_MODE_PAIRFLIP,     /* y -> (y + 1) mod K: the "pair flip" of the co-teaching literature */
    PF_MODE_ASYMMETRIC,   /* y -> a visually similar class from the dataset's table
                             (poison_asymmetric_partners); classes without a partner keep y */
    PF_MODE_FILE,         /* the label given by a label file (labelfile.h) */
    PF_MODE_COUNT
} pf_mode;

/* "random", "biased", "first_wrong", "pairflip", "asymmetric", "file". */
const char *poison_mode_name(pf_mode mode);

/* Parses a mode name; returns 0 and sets *mode, or -1. */
int poison_mode_from_name(const char *name, pf_mode *mode);

/* round(n * p / 100) with round-half-to-even on the double value n * p / 100, as Python computes
 * it (n = 1, p = 50 gives 0; n = 3, p = 50 gives 2). n >= 0 and p in [0, 100], else the job aborts
 * (PF_ASSERT: the job file loader rejects such percents first). */
int64_t poison_count(int64_t n, double percent);

/* The wrong label for item i whose true label is y, among k classes (2 <= k <= 256, y < k), for
 * the modes that always change a label. Never equals y. With a stream seeded with
 * rng_derive(seed, i): random: w = rng_below(K - 1), label w + (w >= y); biased: 1 - y for y in
 * {0, 1}, else rng_below(2); first_wrong: 0, or 1 when y is 0; pairflip: (y + 1) mod k (no
 * randomness in the last two). Asymmetric and file need their table or file: poison_label. */
uint8_t poison_wrong_label(uint8_t y, int k, pf_mode mode, uint64_t seed, int64_t i);

/* The asymmetric mode's table for a dataset of k classes: partner[y] is the class a poisoned y
 * becomes, partner[y] == y for a class without one (partner has room for k entries). Sources
 * (docs/poisoning.md): MNIST 2 -> 7, 3 -> 8, 5 <-> 6, 7 -> 1 and CIFAR-10 truck -> automobile,
 * bird -> airplane, deer -> horse, cat <-> dog as in Patrini et al. 2017 ("Making deep neural
 * networks robust to label noise: a loss correction approach"); CIFAR-100 the next class of the
 * same superclass (its five members in fine-label order, the last one back to the first);
 * Fashion-MNIST the project's own choice of similar garments: T-shirt/top <-> Shirt,
 * Pullover <-> Coat, Sandal <-> Sneaker. Entries naming a class >= k are dropped (y kept).
 * Returns how many classes have a partner. */
int poison_asymmetric_partners(pf_dataset_id dataset, int k, uint8_t *partner);

/* CIFAR-100's superclass (coarse label, 0..19) of each fine label 0..99: the official grouping of
 * the dataset's coarse_label_names.txt. */
extern const uint8_t poison_cifar100_coarse[100];

/* Everything a mode needs to label a poisoned item. Fill with poison_noise_init. */
typedef struct {
    pf_mode mode;
    int k;                       /* classes, 2..256 */
    uint64_t seed;               /* random and biased: item i draws from rng_derive(seed, i) */
    uint8_t partner[256];        /* asymmetric: the table (poison_asymmetric_partners) */
    const uint8_t *file;         /* file: the file's labels (not owned), item i gets file[i] */
    int64_t nfile;               /* labels in file */
} pf_noise;

/* Fills nz for mode on dataset (the asymmetric table) with k classes; file and nfile only for mode
 * file (NULL / 0 otherwise). */
void poison_noise_init(pf_noise *nz, pf_mode mode, pf_dataset_id dataset, int k, uint64_t seed,
                       const uint8_t *file, int64_t nfile);

/* The label a poisoned item i with true label y gets under nz (y < k; for mode file, i < nfile).
 * May equal y for asymmetric and file. */
uint8_t poison_label(const pf_noise *nz, uint8_t y, int64_t i);

/* out[i] = labels[i] for the first n - m items and poison_label(nz, labels[i], i) for the last
 * m = poison_count(n, p). out and labels may not alias; mode file needs nz->nfile >= n. Returns how
 * many labels differ from labels[] (m for the modes that always change a label). */
int64_t poison_apply(uint8_t *out, const uint8_t *labels, int64_t n, double percent, const pf_noise *nz);

/* Validation poisoning: the same count m = poison_count(n, p), on a seeded random choice of items
 * (the first m of a permutation of [0, n) shuffled by a stream seeded with nz->seed, so nested
 * across p), labels from poison_label(nz, labels[i], i). Not for mode file (its labels are the
 * training set's). When `which` is not NULL, which[i] is set to 1 for the chosen items, 0
 * otherwise. n <= INT32_MAX. Returns how many labels differ. */
int64_t poison_apply_scattered(uint8_t *out, uint8_t *which, const uint8_t *labels, int64_t n,
                               double percent, const pf_noise *nz);

/* Realised noise: counts[y * k + z] += 1 for every item with original label y and new label z
 * (k * k counts, caller zeroes). Returns how many labels changed. */
int64_t poison_transitions(const uint8_t *orig, const uint8_t *poisoned, int64_t n, int k,
                           int64_t *counts);

#endif
