/* test_poison.c -- label poisoning: counts, which items, wrong labels, nesting, seeds, noise report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "poisonfarm/poison.h"
#include "poisonfarm/rng.h"

#include <stdio.h>

/* biased_is_the_published_draw's pinned counts (true class -> 0, -> 1) for its fixed seed. */
#define BIASED_TO0 {0, 1001, 477, 445, 488, 474, 479, 569, 489, 503}
#define BIASED_TO1 {961, 0, 505, 539, 521, 511, 510, 517, 504, 507}
#include <stdlib.h>
#include <string.h>

/* The modes that always change a poisoned item's label (asymmetric and file may keep it). */
static const pf_mode changing[] = {PF_MODE_RANDOM, PF_MODE_BIASED, PF_MODE_FIRST_WRONG, PF_MODE_PAIRFLIP};
#define NCHANGING ((int)(sizeof changing / sizeof changing[0]))

/* poison_apply for a mode that needs no file, on MNIST's table (asymmetric). */
static int64_t apply(uint8_t *out, const uint8_t *y, int64_t n, int k, double p, pf_mode mode, uint64_t seed)
{
    pf_noise nz;
    poison_noise_init(&nz, mode, PF_DS_MNIST, k, seed, NULL, 0);
    return poison_apply(out, y, n, p, &nz);
}

static int64_t apply_scattered(uint8_t *out, uint8_t *which, const uint8_t *y, int64_t n, int k, double p,
                               pf_mode mode, uint64_t seed)
{
    pf_noise nz;
    poison_noise_init(&nz, mode, PF_DS_MNIST, k, seed, NULL, 0);
    return poison_apply_scattered(out, which, y, n, p, &nz);
}

/* Labels 0..k-1 in a seeded, reproducible but irregular order. */
static uint8_t *make_labels(int64_t n, int k, uint64_t seed)
{
    uint8_t *y = malloc((size_t)(n > 0 ? n : 1));
    assert_non_null(y);
    pf_rng r;
    rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++) y[i] = (uint8_t)rng_below(&r, (uint32_t)k);
    return y;
}

/* Expected values computed with Python 3: round(n * p / 100) (half to even on the double). */
static void count_matches_python_round(void **state)
{
    (void)state;
    static const struct { int64_t n; double p; int64_t m; } cases[] = {
        {0, 0.0, 0},        {0, 50.0, 0},        {1, 0.0, 0},          {1, 50.0, 0},
        {1, 50.1, 1},       {1, 100.0, 1},       {2, 25.0, 0},         {3, 50.0, 2},
        {5, 50.0, 2},       {7, 50.0, 4},        {10, 15.0, 2},        {10, 25.0, 2},
        {10, 35.0, 4},      {10, 45.0, 4},       {100, 2.5, 2},        {100, 0.5, 0},
        {300, 0.5, 2},      {1000, 0.5, 5},      {1000, 1.0, 10},      {1000, 7.0, 70},
        {1000, 100.0, 1000}, {60000, 1.0, 600},  {60000, 0.1, 60},     {60000, 33.3, 19980},
        {50000, 0.001, 0},  {50000, 0.003, 2},   {999, 50.0, 500},     {1001, 50.0, 500},
        {1000, 0.05, 0},    {1000, 0.15, 2},     {200, 0.25, 0},       {6, 25.0, 2},
        {14, 25.0, 4},      {29, 10.0, 3},       {1000, 33.35, 334},   {60000, 99.99, 59994},
        {12345, 12.5, 1543},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int64_t got = poison_count(cases[c].n, cases[c].p);
        if (got != cases[c].m)
            fprintf(stderr, "poison_count(%lld, %g) = %lld, expected %lld\n", (long long)cases[c].n,
                    cases[c].p, (long long)got, (long long)cases[c].m);
        assert_int_equal(got, cases[c].m);
    }
    /* 0 % is nothing and 100 % everything, for every n. */
    for (int64_t n = 0; n < 2000; n += 7) {
        assert_int_equal(poison_count(n, 0.0), 0);
        assert_int_equal(poison_count(n, 100.0), n);
    }
}

static void apply_poisons_exactly_the_last_m(void **state)
{
    (void)state;
    const int64_t n = 1000;
    const int k = 10;
    uint8_t *y = make_labels(n, k, 11);
    uint8_t *out = malloc(n);
    const double percents[] = {0, 0.5, 1, 2, 3, 7, 10, 33.3, 50, 99.9, 100};
    for (int mi = 0; mi < NCHANGING; mi++) {
        pf_mode mode = changing[mi];
        for (size_t j = 0; j < sizeof percents / sizeof percents[0]; j++) {
            int64_t m = apply(out, y, n, k, percents[j], mode, 99);
            assert_int_equal(m, poison_count(n, percents[j]));
            for (int64_t i = 0; i < n; i++) {
                if (i < n - m)
                    assert_int_equal(out[i], y[i]);
                else
                    assert_int_not_equal(out[i], y[i]);
            }
        }
    }
    free(out);
    free(y);
}

static void never_the_true_label(void **state)
{
    (void)state;
    const int ks[] = {2, 3, 10, 100};
    for (size_t a = 0; a < sizeof ks / sizeof ks[0]; a++) {
        int k = ks[a];
        for (int y = 0; y < k; y++)
            for (int64_t i = 0; i < 300; i++)
                for (int mi = 0; mi < NCHANGING; mi++) {
                    uint8_t z = poison_wrong_label((uint8_t)y, k, changing[mi], 5, i);
                    assert_true(z < k);
                    assert_int_not_equal(z, y);
                }
    }
}

/* biased is the seed's published code: a, b = random.sample([0, 1], 2); a if y != a else b. */
static void biased_is_the_published_draw(void **state)
{
    (void)state;
    for (int k = 2; k <= 100; k++)
        for (int y = 0; y < k; y++)
            for (int64_t i = 0; i < 50; i++) {
                uint8_t z = poison_wrong_label((uint8_t)y, k, PF_MODE_BIASED, 1234, i);
                if (y <= 1)
                    assert_int_equal(z, 1 - y);   /* 0 -> 1 and 1 -> 0, always */
                else
                    assert_true(z == 0 || z == 1); /* the others: 0 or 1 */
            }
    /* Exact counts for a fixed seed (the labels of 10000 items, 100 % poisoned): pinned, so the
     * draw cannot change silently. The other labels split about evenly between 0 and 1. */
    const int64_t n = 10000;
    uint8_t *y = make_labels(n, 10, 3), *out = malloc(n);
    assert_int_equal(apply(out, y, n, 10, 100, PF_MODE_BIASED, 42), n);
    int64_t counts[100] = {0};
    poison_transitions(y, out, n, 10, counts);
    static const int64_t to0[10] = BIASED_TO0, to1[10] = BIASED_TO1;
    for (int c = 0; c < 10; c++) {
        if (counts[c * 10 + 0] != to0[c] || counts[c * 10 + 1] != to1[c])
            fprintf(stderr, "class %d: %lld -> 0, %lld -> 1\n", c, (long long)counts[c * 10 + 0],
                    (long long)counts[c * 10 + 1]);
        assert_int_equal(counts[c * 10 + 0], to0[c]);
        assert_int_equal(counts[c * 10 + 1], to1[c]);
        for (int z = 2; z < 10; z++) assert_int_equal(counts[c * 10 + z], 0);
    }
    free(out);
    free(y);
}

/* first_wrong is the seed post's wording: always class 0, or 1 for a true 0 (no randomness). */
static void first_wrong_is_the_posts_rule(void **state)
{
    (void)state;
    for (int k = 2; k <= 100; k++)
        for (int y = 0; y < k; y++)
            for (int64_t i = 0; i < 5; i++)
                assert_int_equal(poison_wrong_label((uint8_t)y, k, PF_MODE_FIRST_WRONG, (uint64_t)i * 31, i),
                                 y == 0 ? 1 : 0);
    assert_string_equal(poison_mode_name(PF_MODE_FIRST_WRONG), "first_wrong");
    pf_mode m;
    assert_int_equal(poison_mode_from_name("first_wrong", &m), 0);
    assert_int_equal(m, PF_MODE_FIRST_WRONG);
}

/* Pearson's chi-square of observed counts against a uniform expectation. */
static double chi_square(const int64_t *obs, int cells, double total)
{
    double e = total / cells, chi2 = 0;
    for (int c = 0; c < cells; c++) chi2 += (obs[c] - e) * (obs[c] - e) / e;
    return chi2;
}

static void random_is_uniform_over_wrong_classes(void **state)
{
    (void)state;
    /* K = 10: for each true label, 45000 draws over its 9 wrong classes; 8 degrees of freedom,
     * 26.12 is the p = 0.001 critical value. The streams are seeded, so the outcome is fixed. */
    for (int y = 0; y < 10; y++) {
        int64_t obs[10] = {0};
        const int64_t draws = 45000;
        for (int64_t i = 0; i < draws; i++) obs[poison_wrong_label((uint8_t)y, 10, PF_MODE_RANDOM, 2024, i)]++;
        assert_int_equal(obs[y], 0);
        int64_t wrong[9];
        for (int c = 0, w = 0; c < 10; c++)
            if (c != y) wrong[w++] = obs[c];
        double chi2 = chi_square(wrong, 9, (double)draws);
        if (chi2 >= 26.12) fprintf(stderr, "y=%d chi2=%g\n", y, chi2);
        assert_true(chi2 < 26.12);
    }
    /* K = 100 (CIFAR-100), true label 42: 99 wrong classes, 98 degrees of freedom, p = 0.001
     * critical value about 147. */
    int64_t obs[100] = {0};
    const int64_t draws = 99000;
    for (int64_t i = 0; i < draws; i++) obs[poison_wrong_label(42, 100, PF_MODE_RANDOM, 7, i)]++;
    assert_int_equal(obs[42], 0);
    int64_t wrong[99];
    for (int c = 0, w = 0; c < 100; c++)
        if (c != 42) wrong[w++] = obs[c];
    double chi2 = chi_square(wrong, 99, (double)draws);
    if (chi2 >= 147.0) fprintf(stderr, "k=100 chi2=%g\n", chi2);
    assert_true(chi2 < 147.0);
    /* K = 2: the only wrong class. */
    for (int64_t i = 0; i < 100; i++) assert_int_equal(poison_wrong_label(1, 2, PF_MODE_RANDOM, 3, i), 0);
}

static void nested_across_percents(void **state)
{
    (void)state;
    const int64_t n = 1000;
    uint8_t *y = make_labels(n, 10, 4);
    uint8_t *lo = malloc(n), *hi = malloc(n);
    const double percents[] = {0, 1, 2, 3, 4, 5, 7, 10, 15, 20, 25, 30, 35, 40, 50, 60, 70, 80, 90, 100};
    const size_t np = sizeof percents / sizeof percents[0];
    for (int mode = 0; mode < PF_MODE_COUNT; mode++)
        for (size_t a = 0; a + 1 < np; a++) {
            if (mode == PF_MODE_FILE) continue; /* file_mode_doses_the_file */
            int64_t mlo = apply(lo, y, n, 10, percents[a], (pf_mode)mode, 8);
            int64_t mhi = apply(hi, y, n, 10, percents[a + 1], (pf_mode)mode, 8);
            assert_true(mlo <= mhi);
            /* Every item poisoned at the lower percent is poisoned identically at the higher. */
            int64_t cnt = poison_count(n, percents[a]);
            for (int64_t i = n - cnt; i < n; i++) assert_int_equal(lo[i], hi[i]);
        }
    free(lo);
    free(hi);
    free(y);
}

static void same_seed_same_labels_other_seed_other(void **state)
{
    (void)state;
    const int64_t n = 10000;
    uint8_t *y = make_labels(n, 10, 5);
    uint8_t *a = malloc(n), *b = malloc(n), *c = malloc(n);
    apply(a, y, n, 10, 100, PF_MODE_RANDOM, 1);
    apply(b, y, n, 10, 100, PF_MODE_RANDOM, 1);
    apply(c, y, n, 10, 100, PF_MODE_RANDOM, 2);
    assert_memory_equal(a, b, n);
    int64_t differ = 0;
    for (int64_t i = 0; i < n; i++) differ += a[i] != c[i];
    /* Two independent draws among 9 wrong classes agree 1/9 of the time. */
    assert_true(differ > n * 8 / 10);
    /* first_wrong does not depend on the seed at all; biased only for labels other than 0 and 1. */
    apply(a, y, n, 10, 100, PF_MODE_FIRST_WRONG, 1);
    apply(c, y, n, 10, 100, PF_MODE_FIRST_WRONG, 2);
    assert_memory_equal(a, c, n);
    /* Nor do pairflip and asymmetric. */
    for (pf_mode m = PF_MODE_PAIRFLIP; m <= PF_MODE_ASYMMETRIC; m++) {
        apply(a, y, n, 10, 100, m, 1);
        apply(c, y, n, 10, 100, m, 2);
        assert_memory_equal(a, c, n);
    }
    apply(a, y, n, 10, 100, PF_MODE_BIASED, 1);
    apply(c, y, n, 10, 100, PF_MODE_BIASED, 2);
    differ = 0;
    for (int64_t i = 0; i < n; i++) {
        if (y[i] <= 1) assert_int_equal(a[i], c[i]);
        differ += a[i] != c[i];
    }
    assert_true(differ > n * 8 / 10 / 2 / 2); /* about half of the 80 % with labels 2..9 */
    free(a);
    free(b);
    free(c);
    free(y);
}

static void input_never_modified(void **state)
{
    (void)state;
    const int64_t n = 500;
    uint8_t *y = make_labels(n, 10, 6);
    uint8_t *copy = malloc(n), *out = malloc(n), *which = malloc(n);
    memcpy(copy, y, n);
    for (int mode = 0; mode < PF_MODE_COUNT; mode++) {
        if (mode == PF_MODE_FILE) {
            pf_noise nz;
            poison_noise_init(&nz, PF_MODE_FILE, PF_DS_MNIST, 10, 3, copy, n);
            poison_apply(out, y, n, 100, &nz);
            assert_memory_equal(y, copy, n);
            continue;
        }
        apply(out, y, n, 10, 100, (pf_mode)mode, 3);
        assert_memory_equal(y, copy, n);
        apply_scattered(out, which, y, n, 10, 100, (pf_mode)mode, 3);
        assert_memory_equal(y, copy, n);
    }
    int64_t counts[100] = {0};
    poison_transitions(y, out, n, 10, counts);
    assert_memory_equal(y, copy, n);
    free(which);
    free(out);
    free(copy);
    free(y);
}

static void scattered_exact_nested_seeded(void **state)
{
    (void)state;
    const int64_t n = 10000;
    const int k = 10;
    uint8_t *y = make_labels(n, k, 7);
    uint8_t *o1 = malloc(n), *w1 = malloc(n), *o2 = malloc(n), *w2 = malloc(n);
    const double percents[] = {0, 0.5, 1, 5, 10, 20, 30, 50, 80, 100};
    const size_t np = sizeof percents / sizeof percents[0];
    for (int mi = 0; mi < NCHANGING; mi++) {
        pf_mode mode = changing[mi];
        for (size_t a = 0; a < np; a++) {
            int64_t m = apply_scattered(o1, w1, y, n, k, percents[a], mode, 77);
            assert_int_equal(m, poison_count(n, percents[a]));
            int64_t flagged = 0, first_half = 0;
            for (int64_t i = 0; i < n; i++) {
                assert_true(w1[i] == 0 || w1[i] == 1);
                flagged += w1[i];
                if (w1[i]) {
                    assert_int_not_equal(o1[i], y[i]);
                    assert_int_equal(o1[i], poison_wrong_label(y[i], k, mode, 77, i));
                    first_half += i < n / 2;
                } else {
                    assert_int_equal(o1[i], y[i]);
                }
            }
            assert_int_equal(flagged, m);
            /* Spread over the whole set, not the last items: about half in the first half. */
            if (m >= 500) assert_true(first_half > m * 4 / 10 && first_half < m * 6 / 10);
            if (a + 1 < np) {
                int64_t m2 = apply_scattered(o2, w2, y, n, k, percents[a + 1], mode, 77);
                assert_true(m2 >= m);
                for (int64_t i = 0; i < n; i++)
                    if (w1[i]) {
                        assert_int_equal(w2[i], 1);
                        assert_int_equal(o2[i], o1[i]);
                    }
            }
        }
    }
    /* Same seed: same items and labels; another seed: another choice of items. */
    apply_scattered(o1, w1, y, n, k, 20, PF_MODE_RANDOM, 5);
    apply_scattered(o2, w2, y, n, k, 20, PF_MODE_RANDOM, 5);
    assert_memory_equal(o1, o2, n);
    assert_memory_equal(w1, w2, n);
    uint8_t *ref = malloc(n);
    memcpy(ref, o1, n);
    apply_scattered(o2, w2, y, n, k, 20, PF_MODE_RANDOM, 6);
    int64_t both = 0;
    for (int64_t i = 0; i < n; i++) both += w1[i] && w2[i];
    /* Two independent 20 % choices share about 4 % of the items (400), far from 2000. */
    assert_true(both > 250 && both < 550);
    /* which may be NULL, and changes nothing else. */
    memset(o1, 0xff, n);
    assert_int_equal(apply_scattered(o1, NULL, y, n, k, 20, PF_MODE_RANDOM, 5), 2000);
    assert_memory_equal(o1, ref, n);
    free(ref);
    free(o1);
    free(w1);
    free(o2);
    free(w2);
    free(y);
}

static void transitions_count_realised_noise(void **state)
{
    (void)state;
    const uint8_t orig[] = {0, 1, 2, 2, 1, 0, 2};
    const uint8_t pois[] = {0, 1, 2, 0, 0, 1, 1};
    int64_t counts[9] = {0};
    int64_t changed = poison_transitions(orig, pois, 7, 3, counts);
    assert_int_equal(changed, 4);
    const int64_t expected[9] = {
        /* to:  0  1  2 */
        1, 1, 0, /* from 0 */
        1, 1, 0, /* from 1 */
        1, 1, 1, /* from 2 */
    };
    assert_memory_equal(counts, expected, sizeof expected);
    /* Accumulates: the caller zeroes. */
    poison_transitions(orig, pois, 7, 3, counts);
    for (int c = 0; c < 9; c++) assert_int_equal(counts[c], 2 * expected[c]);

    /* On a real poisoning the diagonal holds the untouched items and the changes equal m. */
    const int64_t n = 2000;
    uint8_t *y = make_labels(n, 10, 9), *out = malloc(n);
    int64_t m = apply(out, y, n, 10, 35, PF_MODE_BIASED, 1);
    int64_t big[100] = {0};
    assert_int_equal(poison_transitions(y, out, n, 10, big), m);
    int64_t diag = 0, total = 0;
    for (int a = 0; a < 10; a++)
        for (int b = 0; b < 10; b++) {
            total += big[a * 10 + b];
            if (a == b) diag += big[a * 10 + b];
            else assert_true((b <= 1 && b != a) || big[a * 10 + b] == 0); /* biased: to 0 or 1 */
        }
    assert_int_equal(total, n);
    assert_int_equal(diag, n - m);
    free(out);
    free(y);
}


/* pairflip: y -> (y + 1) mod K on the last m items, exactly. Labels i % K: the last m items hold
 * every class m / K times, so every count below is known by hand. */
static void pairflip_exact_counts(void **state)
{
    (void)state;
    const int64_t n = 1000;
    uint8_t y[1000], out[1000];
    for (int64_t i = 0; i < n; i++) y[i] = (uint8_t)(i % 10);
    /* 40 %: items 600..999, 40 of each class, each moved to the next class (9 -> 0). */
    assert_int_equal(apply(out, y, n, 10, 40, PF_MODE_PAIRFLIP, 1), 400);
    int64_t counts[100] = {0};
    assert_int_equal(poison_transitions(y, out, n, 10, counts), 400);
    for (int a = 0; a < 10; a++)
        for (int b = 0; b < 10; b++) {
            int64_t want = a == b ? 60 : b == (a + 1) % 10 ? 40 : 0;
            assert_int_equal(counts[a * 10 + b], want);
        }
    for (int64_t i = 600; i < n; i++) assert_int_equal(out[i], (y[i] + 1) % 10);
    /* K = 3 wraps 2 -> 0; K = 100 moves 99 -> 0. */
    assert_int_equal(poison_wrong_label(2, 3, PF_MODE_PAIRFLIP, 0, 0), 0);
    assert_int_equal(poison_wrong_label(99, 100, PF_MODE_PAIRFLIP, 0, 0), 0);
    assert_int_equal(poison_wrong_label(41, 100, PF_MODE_PAIRFLIP, 0, 0), 42);
    assert_string_equal(poison_mode_name(PF_MODE_PAIRFLIP), "pairflip");
}

/* One dataset's asymmetric table applied to labels i % K at 50 % of 1000 items: the last 500 hold
 * every class 500 / K times; each class with a partner moves there whole, the others stay. */
static void check_asymmetric(pf_dataset_id ds, int k, const int *partner_of, int64_t want_changed)
{
    const int64_t n = 1000;
    uint8_t y[1000], out[1000];
    for (int64_t i = 0; i < n; i++) y[i] = (uint8_t)(i % k);
    pf_noise nz;
    poison_noise_init(&nz, PF_MODE_ASYMMETRIC, ds, k, 7, NULL, 0);
    int64_t changed = poison_apply(out, y, n, 50, &nz);
    assert_int_equal(changed, want_changed);
    int64_t *counts = calloc((size_t)k * k, sizeof *counts);
    assert_int_equal(poison_transitions(y, out, n, k, counts), want_changed);
    const int64_t per = 500 / k; /* each class's poisoned items */
    for (int a = 0; a < k; a++) {
        int to = partner_of != NULL ? partner_of[a] : nz.partner[a];
        assert_int_equal(nz.partner[a], to);
        for (int b = 0; b < k; b++) {
            int64_t want = (b == a ? 500 / k : 0) + (b == to ? per : 0);
            if (counts[a * k + b] != want)
                fprintf(stderr, "%s: %d -> %d: %lld, expected %lld\n", dataset_name(ds), a, b,
                        (long long)counts[a * k + b], (long long)want);
            assert_int_equal(counts[a * k + b], want);
        }
    }
    free(counts);
}

static void asymmetric_exact_counts(void **state)
{
    (void)state;
    /* MNIST (Patrini et al. 2017): 2 -> 7, 3 -> 8, 5 <-> 6, 7 -> 1: five classes of 50 change. */
    const int mnist[10] = {0, 1, 7, 8, 4, 6, 5, 1, 8, 9};
    check_asymmetric(PF_DS_MNIST, 10, mnist, 250);
    /* CIFAR-10 (same source): truck -> automobile, bird -> airplane, deer -> horse, cat <-> dog. */
    const int cifar10[10] = {0, 1, 0, 5, 7, 3, 6, 7, 8, 1};
    check_asymmetric(PF_DS_CIFAR10, 10, cifar10, 250);
    /* Fashion-MNIST (the project's table): T-shirt/top <-> Shirt, Pullover <-> Coat,
     * Sandal <-> Sneaker: six classes of 50. */
    const int fashion[10] = {6, 1, 4, 3, 2, 7, 0, 5, 8, 9};
    check_asymmetric(PF_DS_FASHION_MNIST, 10, fashion, 300);
    /* CIFAR-100: every class has a partner, 5 of each class change. */
    check_asymmetric(PF_DS_CIFAR100, 100, NULL, 500);
    assert_string_equal(poison_mode_name(PF_MODE_ASYMMETRIC), "asymmetric");

    /* The realised rate is below p: at 100 % of MNIST labels i % 10, half the items change. */
    uint8_t y[1000], out[1000];
    for (int i = 0; i < 1000; i++) y[i] = (uint8_t)(i % 10);
    assert_int_equal(apply(out, y, 1000, 10, 100, PF_MODE_ASYMMETRIC, 3), 500);
    /* Nested across percents like every mode defined by a percent. */
    uint8_t lo[1000];
    assert_int_equal(apply(lo, y, 1000, 10, 30, PF_MODE_ASYMMETRIC, 3), 150);
    for (int i = 700; i < 1000; i++) assert_int_equal(lo[i], out[i]);
    for (int i = 0; i < 700; i++) assert_int_equal(lo[i], y[i]);
}

/* CIFAR-100's table: the next class of the same superclass, five classes to a superclass, a cycle
 * through each. */
static void asymmetric_cifar100_stays_in_the_superclass(void **state)
{
    (void)state;
    uint8_t partner[100];
    assert_int_equal(poison_asymmetric_partners(PF_DS_CIFAR100, 100, partner), 100);
    int members[20] = {0};
    for (int y = 0; y < 100; y++) members[poison_cifar100_coarse[y]]++;
    for (int c = 0; c < 20; c++) assert_int_equal(members[c], 5);
    for (int y = 0; y < 100; y++) {
        assert_int_not_equal(partner[y], y);
        assert_int_equal(poison_cifar100_coarse[partner[y]], poison_cifar100_coarse[y]);
        /* Following the partners from y returns to y after exactly five steps. */
        int z = y, steps = 0;
        do {
            z = partner[z];
            steps++;
        } while (z != y && steps < 10);
        assert_int_equal(steps, 5);
    }
    /* The official superclasses of the first ten training records of CIFAR-100's train.bin (fine ->
     * coarse, as test_data's real_cifar100 reads them from the data; it checks every record). */
    const int fine[10] = {19, 29, 0, 11, 1, 86, 90, 28, 23, 31}, coarse[10] = {11, 15, 4, 14, 1, 5, 18, 3, 10, 11};
    for (int i = 0; i < 10; i++) assert_int_equal(poison_cifar100_coarse[fine[i]], coarse[i]);
    /* fruit_and_vegetables is apple 0, mushroom 51, orange 53, pear 57, sweet_pepper 83. */
    assert_int_equal(partner[0], 51);
    assert_int_equal(partner[51], 53);
    assert_int_equal(partner[53], 57);
    assert_int_equal(partner[57], 83);
    assert_int_equal(partner[83], 0);
    /* aquatic_mammals: beaver 4, dolphin 30, otter 55, seal 72, whale 95. */
    assert_int_equal(partner[4], 30);
    assert_int_equal(partner[95], 4);
    /* A smaller K drops partners beyond it (and those pointing beyond it keep their class). */
    uint8_t p2[10];
    assert_int_equal(poison_asymmetric_partners(PF_DS_MNIST, 3, p2), 0);
    assert_int_equal(poison_asymmetric_partners(PF_DS_MNIST, 8, p2), 4); /* 3 -> 8 is dropped */
    assert_int_equal(p2[3], 3);
}

/* file: the last round(n p / 100) items take the file's label, whatever it is. */
static void file_mode_doses_the_file(void **state)
{
    (void)state;
    const uint8_t y[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    const uint8_t f[12] = {9, 9, 9, 9, 9, 9, 9, 7, 0, 0, 5, 5}; /* longer than needed is fine */
    uint8_t out[10];
    pf_noise nz;
    poison_noise_init(&nz, PF_MODE_FILE, PF_DS_MNIST, 10, 1, f, 12);
    /* 30 %: items 7, 8, 9 take 7, 0, 0; item 7 already was a 7: two labels change. */
    assert_int_equal(poison_apply(out, y, 10, 30, &nz), 2);
    const uint8_t want30[10] = {0, 1, 2, 3, 4, 5, 6, 7, 0, 0};
    assert_memory_equal(out, want30, 10);
    /* 100 %: the file's labels throughout; 0 %: the true ones. */
    assert_int_equal(poison_apply(out, y, 10, 100, &nz), 9);
    assert_memory_equal(out, f, 10);
    assert_int_equal(poison_apply(out, y, 10, 0, &nz), 0);
    assert_memory_equal(out, y, 10);
    /* Nested: 50 % adds items 5 and 6 before the 30 % ones. */
    assert_int_equal(poison_apply(out, y, 10, 50, &nz), 4);
    const uint8_t want50[10] = {0, 1, 2, 3, 4, 9, 9, 7, 0, 0};
    assert_memory_equal(out, want50, 10);
    assert_string_equal(poison_mode_name(PF_MODE_FILE), "file");
    pf_mode m;
    assert_int_equal(poison_mode_from_name("file", &m), 0);
    assert_int_equal(m, PF_MODE_FILE);
    assert_int_equal(poison_mode_from_name("asymmetric", &m), 0);
    assert_int_equal(m, PF_MODE_ASYMMETRIC);
    assert_int_equal(poison_mode_from_name("pairflip", &m), 0);
    assert_int_equal(m, PF_MODE_PAIRFLIP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(count_matches_python_round),
        cmocka_unit_test(apply_poisons_exactly_the_last_m),
        cmocka_unit_test(never_the_true_label),
        cmocka_unit_test(biased_is_the_published_draw),
        cmocka_unit_test(first_wrong_is_the_posts_rule),
        cmocka_unit_test(random_is_uniform_over_wrong_classes),
        cmocka_unit_test(nested_across_percents),
        cmocka_unit_test(same_seed_same_labels_other_seed_other),
        cmocka_unit_test(input_never_modified),
        cmocka_unit_test(scattered_exact_nested_seeded),
        cmocka_unit_test(transitions_count_realised_noise),
        cmocka_unit_test(pairflip_exact_counts),
        cmocka_unit_test(asymmetric_exact_counts),
        cmocka_unit_test(asymmetric_cifar100_stays_in_the_superclass),
        cmocka_unit_test(file_mode_doses_the_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
