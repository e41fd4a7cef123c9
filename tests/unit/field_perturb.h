/* field_perturb.h -- for tests that must cover every configuration field: changes one field of a
 * configuration to another value of its kind within its range, so a test loops over the field
 * table instead of listing fields by hand (a new field is then covered without editing the test).
 * The configuration may then break a rule between fields (config_validate's cross checks, e.g. a
 * label file without mode file); tests that need a valid one check that. */
#ifndef POISONFARM_TEST_FIELD_PERTURB_H
#define POISONFARM_TEST_FIELD_PERTURB_H

#include "poisonfarm/config.h"

#include <string.h>

static inline void field_perturb(pf_config *c, int f)
{
    const pf_field *d = &pf_config_fields[f];
    pf_field_value v = config_get(c, f);
    char text[PF_CONFIG_STR_LEN];
    switch (d->kind) {
    case PF_FK_ENUM: v.i = (v.i + 1) % d->enum_count; break;
    case PF_FK_BOOL: v.i = !v.i; break;
    case PF_FK_I32: v.i = (double)(v.i + 1) <= d->hi ? v.i + 1 : v.i - 1; break;
    case PF_FK_U64: v.u += 1; break;
    case PF_FK_F64: v.d = v.d < d->hi ? v.d + (d->hi - v.d) / 2 : v.d / 2; break;
    case PF_FK_STR: {
        /* One character more ("" -> "x"), or one less when full. */
        size_t len = strlen(v.s);
        memcpy(text, v.s, len + 1);
        if (len + 1 < sizeof text) text[len++] = 'x';
        else len--;
        text[len] = '\0';
        v.s = text;
        break;
    }
    }
    config_set(c, f, v);
}

#endif
