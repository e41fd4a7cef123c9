/* field_perturb.h -- for tests that must cover every configuration field: changes one field of a
 * configuration to another valid value, whatever its kind, so a test loops over the field table
 * instead of listing fields by hand (a new field is then covered without editing the test). */
#ifndef POISONFARM_TEST_FIELD_PERTURB_H
#define POISONFARM_TEST_FIELD_PERTURB_H

#include "poisonfarm/config.h"

static inline void field_perturb(pf_config *c, int f)
{
    const pf_field *d = &pf_config_fields[f];
    pf_field_value v = config_get(c, f);
    switch (d->kind) {
    case PF_FK_ENUM: v.i = (v.i + 1) % d->enum_count; break;
    case PF_FK_BOOL: v.i = !v.i; break;
    case PF_FK_I32: v.i = (double)(v.i + 1) <= d->hi ? v.i + 1 : v.i - 1; break;
    case PF_FK_U64: v.u += 1; break;
    case PF_FK_F64: v.d = v.d < d->hi ? v.d + (d->hi - v.d) / 2 : v.d / 2; break;
    }
    config_set(c, f, v);
}

#endif
