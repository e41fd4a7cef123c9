/* detect.c -- detection measures: suspicion order, AUROC with average ranks, precision and recall
 * of a flag, poisoned share of the most suspicious items (detect.h). */
#include "poisonfarm/detect.h"

#include "poisonfarm/common.h"
#include "poisonfarm/poison.h"

#include <math.h>
#include <stdlib.h>

const double pf_detect_top_percent[PF_DETECT_NTOP] = {1.0, 5.0, 10.0};

typedef struct {
    double s;
    int32_t i;
} scored;

static int cmp_scored(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->s != y->s) return x->s < y->s ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

void detect_order(const double *score, int64_t n, int32_t *order)
{
    PF_ASSERT(n >= 0 && n <= INT32_MAX);
    if (n == 0) return;
    scored *v = pf_malloc((size_t)n * sizeof *v);
    for (int64_t i = 0; i < n; i++) v[i] = (scored){isnan(score[i]) ? -INFINITY : score[i], (int32_t)i};
    /* A total order (score, then index): qsort's instability cannot show. */
    qsort(v, (size_t)n, sizeof *v, cmp_scored);
    for (int64_t j = 0; j < n; j++) order[j] = v[j].i;
    free(v);
}

int64_t detect_top_count(int64_t n, double percent)
{
    int64_t c = poison_count(n, percent);
    return c < 1 && n >= 1 ? 1 : c;
}

/* The score as the order compares it. */
static double key(const double *score, int32_t i) { return isnan(score[i]) ? -INFINITY : score[i]; }

double detect_auroc(const double *score, const uint8_t *poisoned, int64_t n, const int32_t *order)
{
    int64_t np = 0;
    for (int64_t i = 0; i < n; i++) np += poisoned[i] != 0;
    int64_t nc = n - np;
    if (np == 0 || nc == 0) return NAN;
    /* Mann-Whitney: the clean items' rank sum (ranks from 1, ascending score, ties averaged) minus
     * its least possible value counts the (poisoned, clean) pairs where the poisoned item scores
     * lower, ties as one half. Every sum is a multiple of 1/2 below 2^53: exact in double. */
    double clean_ranks = 0.0;
    for (int64_t a = 0; a < n;) {
        int64_t b = a + 1;
        while (b < n && key(score, order[b]) == key(score, order[a])) b++;
        double avg = (double)(a + 1 + b) / 2.0; /* mean of the ranks a+1 .. b */
        for (int64_t j = a; j < b; j++)
            if (!poisoned[order[j]]) clean_ranks += avg;
        a = b;
    }
    double u = clean_ranks - (double)nc * (double)(nc + 1) / 2.0;
    return u / ((double)np * (double)nc);
}

void detect_clear(pf_detect *d)
{
    d->auroc = d->precision = d->recall = NAN;
    for (int j = 0; j < PF_DETECT_NTOP; j++) d->top[j] = NAN;
    d->flagged = d->poisoned = 0;
}

void detect_suspects_clear(pf_suspect *s, int n)
{
    for (int j = 0; j < n; j++) s[j] = (pf_suspect){-1, -1, -1, -1, NAN};
}

void detect_measure(const double *score, const uint8_t *poisoned, const uint8_t *flagged, int64_t n,
                    const int32_t *order, pf_detect *out)
{
    detect_clear(out);
    int64_t np = 0, nf = 0, hit = 0;
    for (int64_t i = 0; i < n; i++) {
        np += poisoned[i] != 0;
        if (flagged != NULL && flagged[i]) {
            nf++;
            hit += poisoned[i] != 0;
        }
    }
    out->poisoned = np;
    out->flagged = nf;
    out->auroc = detect_auroc(score, poisoned, n, order);
    if (flagged != NULL && nf > 0) out->precision = (double)hit / (double)nf;
    if (flagged != NULL && np > 0) out->recall = (double)hit / (double)np;
    for (int t = 0; t < PF_DETECT_NTOP && n > 0; t++) {
        int64_t c = detect_top_count(n, pf_detect_top_percent[t]), in = 0;
        for (int64_t j = 0; j < c; j++) in += poisoned[order[j]] != 0;
        out->top[t] = (double)in / (double)c;
    }
}
