/* test_rng.c -- the explicit random streams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "poisonfarm/rng.h"

static void same_seed_same_stream(void **state)
{
    (void)state;
    pf_rng a, b, c;
    rng_seed(&a, 42);
    rng_seed(&b, 42);
    rng_seed(&c, 43);
    int differ = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = rng_next(&a), y = rng_next(&b), z = rng_next(&c);
        assert_int_equal(x, y);
        differ += x != z;
    }
    assert_true(differ > 90);
}

static void below_is_in_range_and_uniform(void **state)
{
    (void)state;
    pf_rng r;
    rng_seed(&r, 7);
    int counts[9] = {0};
    const int n = 90000;
    for (int i = 0; i < n; i++) {
        uint32_t v = rng_below(&r, 9);
        assert_true(v < 9);
        counts[v]++;
    }
    double chi2 = 0;
    for (int i = 0; i < 9; i++) chi2 += (counts[i] - n / 9.0) * (counts[i] - n / 9.0) / (n / 9.0);
    assert_true(chi2 < 26.1); /* 8 degrees of freedom, p = 0.001 */
}

static void derive_separates_streams(void **state)
{
    (void)state;
    assert_int_not_equal(rng_derive(1, 0), rng_derive(1, 1));
    assert_int_not_equal(rng_derive(1, 5), rng_derive(2, 5));
    assert_int_equal(rng_derive(9, 9), rng_derive(9, 9));
}

static void shuffle_is_a_permutation(void **state)
{
    (void)state;
    pf_rng r;
    rng_seed(&r, 3);
    int32_t idx[1000];
    int seen[1000] = {0};
    for (int i = 0; i < 1000; i++) idx[i] = i;
    rng_shuffle_i32(&r, idx, 1000);
    int moved = 0;
    for (int i = 0; i < 1000; i++) {
        seen[idx[i]]++;
        moved += idx[i] != i;
    }
    for (int i = 0; i < 1000; i++) assert_int_equal(seen[i], 1);
    assert_true(moved > 900);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_seed_same_stream),
        cmocka_unit_test(below_is_in_range_and_uniform),
        cmocka_unit_test(derive_separates_streams),
        cmocka_unit_test(shuffle_is_a_permutation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
