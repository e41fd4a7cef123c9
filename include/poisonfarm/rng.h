/* rng.h -- explicit, seedable random streams (xoshiro256**, seeded through splitmix64).
 *
 * There is no global generator: every consumer owns a pf_rng and derives it from the job seed and
 * the parameters that must select its stream (see train.h for which ones), so a result never
 * depends on the rank or the order in which configurations were run. */
#ifndef POISONFARM_RNG_H
#define POISONFARM_RNG_H

#include <stdint.h>

typedef struct pf_rng {
    uint64_t s[4];
} pf_rng;

/* Seeds a stream from a 64-bit value (any value, 0 included). */
void rng_seed(pf_rng *rng, uint64_t seed);

/* Next 64 random bits. */
uint64_t rng_next(pf_rng *rng);

/* Uniform integer in [0, n), n >= 1, without modulo bias. */
uint32_t rng_below(pf_rng *rng, uint32_t n);

/* Uniform double in [0, 1) with 53 random bits. */
double rng_uniform(pf_rng *rng);

/* Mixes a value into a seed (splitmix64 finaliser of seed ^ f(value)): derive sub-streams with
 * rng_derive(rng_derive(job_seed, dataset), subset) and so on. Pure function. */
uint64_t rng_derive(uint64_t seed, uint64_t value);

/* Fisher-Yates shuffle of idx[0..n) driven by rng. */
void rng_shuffle_i32(pf_rng *rng, int32_t *idx, int64_t n);

/* Tags for rng_derive, so that streams for different purposes never coincide. */
enum {
    PF_RNG_TAG_INIT = 0x1717,      /* initial weights */
    PF_RNG_TAG_SHUFFLE = 0x5a5a,   /* per-epoch shuffles: derive(derive(stream, TAG), epoch) */
    PF_RNG_TAG_POISON = 0xbad1,    /* wrong training labels */
    PF_RNG_TAG_VALPOISON = 0xbad2  /* which validation items are poisoned, and their labels */
};

#endif
