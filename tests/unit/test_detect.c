/* test_detect.c -- detection measures against cases computed by hand: AUROC with ties, precision
 * and recall of a flag, the poisoned share of the most suspicious items, the suspicion order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "poisonfarm/detect.h"

#include <math.h>
#include <stdio.h>

/* Eight items; poisoned: 0, 2, 5. Pairs (poisoned, clean) where the poisoned one scores lower,
 * ties counting 1/2, by hand:
 *   item 0 (-3.0) vs clean 1 (-0.5), 3 (-2.0), 4 (-0.1), 6 (-4.0), 7 (-0.5): 1 + 1 + 1 + 0 + 1 = 4
 *   item 2 (-2.0):                                                         1 + .5 + 1 + 0 + 1 = 3.5
 *   item 5 (-2.0): the same                                                                  = 3.5
 * AUROC = 11 / (3 * 5). */
static const double score8[8] = {-3.0, -0.5, -2.0, -2.0, -0.1, -2.0, -4.0, -0.5};
static const uint8_t poisoned8[8] = {1, 0, 1, 0, 0, 1, 0, 0};

static void order_is_score_then_index(void **state)
{
    (void)state;
    int32_t order[8];
    detect_order(score8, 8, order);
    const int32_t want[8] = {6, 0, 2, 3, 5, 1, 7, 4};
    assert_memory_equal(order, want, sizeof want);
    /* NaN counts as the lowest score; equal NaNs by index. */
    const double s[4] = {0.0, NAN, -1.0, NAN};
    int32_t o[4];
    detect_order(s, 4, o);
    const int32_t w[4] = {1, 3, 2, 0};
    assert_memory_equal(o, w, sizeof w);
}

static void auroc_by_hand_with_ties(void **state)
{
    (void)state;
    int32_t order[8];
    detect_order(score8, 8, order);
    double a = detect_auroc(score8, poisoned8, 8, order);
    assert_true(fabs(a - 11.0 / 15.0) < 1e-15);
    /* Perfect separation, the reverse, and all tied. */
    const double s[4] = {-5, -4, -1, 0};
    const uint8_t low[4] = {1, 1, 0, 0}, high[4] = {0, 0, 1, 1};
    int32_t o[4];
    detect_order(s, 4, o);
    assert_true(detect_auroc(s, low, 4, o) == 1.0);
    assert_true(detect_auroc(s, high, 4, o) == 0.0);
    const double flat[4] = {-1, -1, -1, -1};
    detect_order(flat, 4, o);
    assert_true(detect_auroc(flat, low, 4, o) == 0.5);
    /* Undefined without poisoned or without clean items. */
    const uint8_t none[4] = {0, 0, 0, 0}, all[4] = {1, 1, 1, 1};
    assert_true(isnan(detect_auroc(s, none, 4, o)));
    assert_true(isnan(detect_auroc(s, all, 4, o)));
}

/* "Prediction disagrees with the given label" on a confusion set built by hand:
 *            poisoned   clean
 *   flagged     2         2      -> precision 2/4, recall 2/3
 *   not         1         3 */
static void precision_recall_by_hand(void **state)
{
    (void)state;
    const uint8_t flagged[8] = {1, 0, 1, 1, 0, 0, 0, 1};
    int32_t order[8];
    detect_order(score8, 8, order);
    pf_detect d;
    detect_measure(score8, poisoned8, flagged, 8, order, &d);
    assert_int_equal(d.flagged, 4);
    assert_int_equal(d.poisoned, 3);
    assert_true(d.precision == 0.5);
    assert_true(d.recall == 2.0 / 3.0);
    assert_true(fabs(d.auroc - 11.0 / 15.0) < 1e-15);
    /* Nothing flagged: precision undefined, recall 0. */
    const uint8_t no[8] = {0};
    detect_measure(score8, poisoned8, no, 8, order, &d);
    assert_true(isnan(d.precision));
    assert_true(d.recall == 0.0);
    /* Nothing poisoned: recall undefined, precision 0. */
    const uint8_t clean[8] = {0};
    detect_measure(score8, clean, flagged, 8, order, &d);
    assert_true(d.precision == 0.0);
    assert_true(isnan(d.recall));
    assert_true(isnan(d.auroc));
    /* No flag at all. */
    detect_measure(score8, poisoned8, NULL, 8, order, &d);
    assert_true(isnan(d.precision) && isnan(d.recall));
    assert_int_equal(d.flagged, 0);
}

/* 200 items scored by their index; poisoned: 0, 1, 2 and 10..14. The most suspicious 1 % are
 * items 0, 1 (both poisoned), 5 % items 0..9 (3 of 10), 10 % items 0..19 (8 of 20). */
static void top_fractions_by_hand(void **state)
{
    (void)state;
    double s[200];
    uint8_t p[200] = {0};
    for (int i = 0; i < 200; i++) s[i] = i;
    p[0] = p[1] = p[2] = 1;
    for (int i = 10; i < 15; i++) p[i] = 1;
    int32_t order[200];
    detect_order(s, 200, order);
    pf_detect d;
    detect_measure(s, p, NULL, 200, order, &d);
    assert_true(d.top[0] == 1.0);
    assert_true(d.top[1] == 0.3);
    assert_true(d.top[2] == 0.4);
    /* Ties go to the lower index: all scores equal, the first items lead. */
    for (int i = 0; i < 200; i++) s[i] = -1;
    detect_order(s, 200, order);
    detect_measure(s, p, NULL, 200, order, &d);
    assert_true(d.top[0] == 1.0 && d.top[1] == 0.3 && d.top[2] == 0.4);
    assert_true(d.auroc == 0.5);
    /* The counts: round(n p / 100), at least one item. */
    assert_int_equal(detect_top_count(1000, 1), 10);
    assert_int_equal(detect_top_count(1000, 5), 50);
    assert_int_equal(detect_top_count(50, 1), 1);
    assert_int_equal(detect_top_count(150, 1), 2); /* 1.5 -> 2, half to even */
    assert_int_equal(detect_top_count(250, 1), 2); /* 2.5 -> 2 */
    assert_int_equal(detect_top_count(0, 10), 0);
    assert_true(pf_detect_top_percent[0] == 1 && pf_detect_top_percent[1] == 5 && pf_detect_top_percent[2] == 10);
}

static void cleared_is_nan_and_empty(void **state)
{
    (void)state;
    pf_detect d;
    detect_clear(&d);
    assert_true(isnan(d.auroc) && isnan(d.precision) && isnan(d.recall));
    for (int j = 0; j < PF_DETECT_NTOP; j++) assert_true(isnan(d.top[j]));
    assert_int_equal(d.flagged, 0);
    pf_suspect s[3];
    detect_suspects_clear(s, 3);
    for (int j = 0; j < 3; j++) {
        assert_int_equal(s[j].item, -1);
        assert_true(isnan(s[j].log_prob));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(order_is_score_then_index),
        cmocka_unit_test(auroc_by_hand_with_ties),
        cmocka_unit_test(precision_recall_by_hand),
        cmocka_unit_test(top_fractions_by_hand),
        cmocka_unit_test(cleared_is_nan_and_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
