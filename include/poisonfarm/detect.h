/* detect.h -- could the poisoned items have been found? Scores every training item (low =
 * suspicious) and measures how well that finds the items whose label was changed: AUROC (average
 * ranks for ties), precision and recall of a yes/no flag, the share of poisoned items among the
 * most suspicious 1 / 5 / 10 %, and the list of the most suspicious items. Pure functions on arrays
 * (docs/results-format.md says what the trainer feeds them: the best epoch's log-probability of
 * each item's given label, and "the prediction disagrees with the given label" as the flag). */
#ifndef POISONFARM_DETECT_H
#define POISONFARM_DETECT_H

#include <stdint.h>

/* Items listed per configuration, most suspicious first. */
#define PF_SUSPECTS 100

/* The "most suspicious p %" levels of pf_detect.top. */
#define PF_DETECT_NTOP 3
extern const double pf_detect_top_percent[PF_DETECT_NTOP]; /* 1, 5, 10 */

typedef struct {
    double auroc;       /* P(a poisoned item scores lower than a clean one) + P(equal) / 2, from
                           average ranks; NaN without poisoned or without clean items */
    double precision;   /* flagged items that are poisoned / flagged items; NaN when none flagged */
    double recall;      /* flagged poisoned items / poisoned items; NaN when none are poisoned */
    double top[PF_DETECT_NTOP]; /* poisoned share of the detect_top_count(n, p) most suspicious
                                   items, p = 1, 5, 10; NaN when n = 0 */
    int64_t flagged;    /* items flagged */
    int64_t poisoned;   /* items poisoned */
} pf_detect;

/* One listed item. */
typedef struct {
    int32_t item;       /* index in the training items used (0 = the first), -1 = no entry */
    int32_t given;      /* the label it was trained with */
    int32_t truth;      /* its true label */
    int32_t predicted;  /* the model's class */
    double log_prob;    /* the score: log-probability of the given label */
} pf_suspect;

/* The suspicion order: item indices sorted by ascending score, equal scores by ascending index
 * (NaN counts as the lowest score). order gets n entries. n <= INT32_MAX. */
void detect_order(const double *score, int64_t n, int32_t *order);

/* How many items "the most suspicious p %" of n are: round(n * p / 100) (half to even, as the
 * poisoned count), at least 1 when n >= 1. */
int64_t detect_top_count(int64_t n, double percent);

/* AUROC of score for poisoned[i] != 0 against the rest, given order = detect_order(score): items
 * of equal score share the average of their ranks. NaN without poisoned or without clean items. */
double detect_auroc(const double *score, const uint8_t *poisoned, int64_t n, const int32_t *order);

/* Every measure of pf_detect. flagged may be NULL (precision and recall NaN, flagged 0). order is
 * detect_order(score). */
void detect_measure(const double *score, const uint8_t *poisoned, const uint8_t *flagged, int64_t n,
                    const int32_t *order, pf_detect *out);

/* A pf_detect of NaN measures and zero counts, and a suspect list of empty entries. */
void detect_clear(pf_detect *d);
void detect_suspects_clear(pf_suspect *s, int n);

#endif
