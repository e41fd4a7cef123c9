/* adam.c -- the Adam optimiser with Keras' semantics (bias correction folded into the step size). */
#include "poisonfarm/common.h"
#include "poisonfarm/nn.h"

#include <math.h>
#include <stdlib.h>

void adam_init(pf_adam *a, size_t n)
{
    a->beta1 = 0.9;
    a->beta2 = 0.999;
    a->epsilon = 1e-7;
    a->t = 0;
    a->n = n;
    a->m = pf_calloc(n ? n : 1, sizeof(float));
    a->v = pf_calloc(n ? n : 1, sizeof(float));
}

void adam_free(pf_adam *a)
{
    if (a == NULL) return;
    free(a->m);
    free(a->v);
    a->m = a->v = NULL;
    a->n = 0;
}

/* Keras (tf.keras.optimizers.Adam, non-amsgrad): t += 1; alpha = lr * sqrt(1 - beta2^t) /
 * (1 - beta1^t); m += (g - m)(1 - beta1); v += (g^2 - v)(1 - beta2);
 * p -= alpha * m / (sqrt(v) + epsilon). The scalars are computed in double, the update in float
 * as Keras does. One pass, element-wise: no dependence on thread count. */
void adam_step(pf_adam *a, float *params, const float *grads, double lr)
{
    a->t++;
    const double t = (double)a->t;
    const float alpha = (float)(lr * sqrt(1.0 - pow(a->beta2, t)) / (1.0 - pow(a->beta1, t)));
    const float b1c = (float)(1.0 - a->beta1), b2c = (float)(1.0 - a->beta2);
    const float eps = (float)a->epsilon;
    float *restrict m = a->m, *restrict v = a->v;
    for (size_t i = 0; i < a->n; i++) {
        float g = grads[i];
        m[i] += (g - m[i]) * b1c;
        v[i] += (g * g - v[i]) * b2c;
        params[i] -= alpha * m[i] / (sqrtf(v[i]) + eps);
    }
}
