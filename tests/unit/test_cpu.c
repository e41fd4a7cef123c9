/* test_cpu.c -- the kernels' path: names, the default-path table, what this CPU reports, and the
 * OpenBLAS generic-core advice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "poisonfarm/cpu.h"

#include <string.h>

static void isa_names_round_trip(void **state)
{
    (void)state;
    const char *names[] = {"auto", "scalar", "avx2", "avx512"};
    for (int i = 0; i < PF_ISA_COUNT; i++) {
        pf_isa isa = PF_ISA_COUNT;
        assert_int_equal(isa_from_name(names[i], &isa), 0);
        assert_int_equal(isa, i);
        assert_string_equal(isa_name((pf_isa)i), names[i]);
    }
    pf_isa isa = PF_ISA_AVX2;
    assert_int_equal(isa_from_name("AVX2", &isa), -1);
    assert_int_equal(isa_from_name("sse", &isa), -1);
    assert_int_equal(isa_from_name(NULL, &isa), -1);
    assert_int_equal(isa, PF_ISA_AVX2); /* unchanged */
}

static pf_cpu_info cpu(const char *vendor, int family, int model, int avx2, int avx512, int amx)
{
    pf_cpu_info ci;
    memset(&ci, 0, sizeof ci);
    strcpy(ci.vendor, vendor);
    ci.family = family;
    ci.model = model;
    ci.avx2_fma = avx2;
    ci.avx512f = avx512;
    ci.amx = amx;
    return ci;
}

/* The fixed table: avx512 only on Intel server cores with two 512-bit FMA units. */
static void default_path_table(void **state)
{
    (void)state;
    pf_cpu_info c;
    c = cpu("GenuineIntel", 6, 63, 0, 0, 0); /* no AVX2 (or the OS does not save YMM) */
    assert_int_equal(cpu_default_isa_for(&c), PF_ISA_SCALAR);
    c = cpu("GenuineIntel", 6, 79, 1, 0, 0); /* Broadwell */
    assert_int_equal(cpu_default_isa_for(&c), PF_ISA_AVX2);
    c = cpu("GenuineIntel", 6, 143, 1, 1, 1); /* Sapphire Rapids */
    assert_int_equal(cpu_default_isa_for(&c), PF_ISA_AVX512);
    c = cpu("GenuineIntel", 6, 207, 1, 1, 0); /* Emerald Rapids, AMX hidden by a hypervisor */
    assert_int_equal(cpu_default_isa_for(&c), PF_ISA_AVX512);
    c = cpu("GenuineIntel", 6, 167, 1, 1, 1); /* a VM's model number, but AMX: a server core */
    assert_int_equal(cpu_default_isa_for(&c), PF_ISA_AVX512);
    c = cpu("GenuineIntel", 6, 167, 1, 1, 0); /* Rocket Lake: one 512-bit FMA unit */
    assert_int_equal(cpu_default_isa_for(&c), PF_ISA_AVX2);
    c = cpu("GenuineIntel", 6, 85, 1, 1, 0); /* Skylake/Cascade Lake-SP: not known to win */
    assert_int_equal(cpu_default_isa_for(&c), PF_ISA_AVX2);
    c = cpu("GenuineIntel", 6, 143, 1, 0, 1); /* AVX-512 off in the OS: never avx512 */
    assert_int_equal(cpu_default_isa_for(&c), PF_ISA_AVX2);
    c = cpu("AuthenticAMD", 25, 17, 1, 1, 0); /* Zen 4 (Genoa): splits 512-bit operations */
    assert_int_equal(cpu_default_isa_for(&c), PF_ISA_AVX2);
    c = cpu("AuthenticAMD", 26, 2, 1, 1, 0); /* Zen 5: not measured */
    assert_int_equal(cpu_default_isa_for(&c), PF_ISA_AVX2);
}

/* This CPU: what it reports is consistent with what the paths resolve to. */
static void this_cpu_resolves(void **state)
{
    (void)state;
    pf_cpu_info ci;
    cpu_info(&ci);
    print_message("this CPU: '%s' %s family %d model %d, avx2/fma %d, avx512f %d, amx %d -> %s\n",
                  ci.brand, ci.vendor, ci.family, ci.model, ci.avx2_fma, ci.avx512f, ci.amx,
                  isa_name(cpu_default_isa()));
    assert_int_equal(cpu_default_isa(), cpu_default_isa_for(&ci));
    assert_true(cpu_has_isa(PF_ISA_AUTO) && cpu_has_isa(PF_ISA_SCALAR));
    assert_int_equal(cpu_has_isa(PF_ISA_AVX2), ci.avx2_fma);
    assert_int_equal(cpu_has_isa(PF_ISA_AVX512), ci.avx512f);
    assert_true(!ci.avx512f || ci.avx2_fma);
    pf_isa got = PF_ISA_COUNT;
    assert_int_equal(cpu_resolve_isa(PF_ISA_AUTO, &got), 0);
    assert_int_equal(got, cpu_default_isa());
    assert_int_equal(cpu_resolve_isa(PF_ISA_SCALAR, &got), 0);
    assert_int_equal(got, PF_ISA_SCALAR);
    got = PF_ISA_COUNT;
    assert_int_equal(cpu_resolve_isa(PF_ISA_AVX512, &got), ci.avx512f ? 0 : -1);
    assert_int_equal(got, ci.avx512f ? PF_ISA_AVX512 : PF_ISA_COUNT);
    assert_int_equal(cpu_resolve_isa(PF_ISA_COUNT, &got), -1);
}

static void blas_generic_core_advice(void **state)
{
    (void)state;
    assert_true(blas_core_is_generic("Prescott"));
    assert_true(blas_core_is_generic("Nehalem"));
    assert_true(blas_core_is_generic("Sandybridge"));
    assert_true(blas_core_is_generic(NULL));
    assert_false(blas_core_is_generic("Haswell"));
    assert_false(blas_core_is_generic("SkylakeX"));
    assert_false(blas_core_is_generic("ZEN"));
    char msg[512] = "";
    pf_cpu_info c = cpu("GenuineIntel", 6, 207, 1, 1, 1);
    strcpy(c.brand, "Intel(R) Xeon(R) Platinum");
    assert_int_equal(blas_core_advice(&c, "Prescott", msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "Prescott"));
    assert_non_null(strstr(msg, "OPENBLAS_CORETYPE=SkylakeX"));
    assert_null(strchr(msg, '\n'));
    assert_int_equal(blas_core_advice(&c, "SkylakeX", msg, sizeof msg), 0);
    c = cpu("AuthenticAMD", 23, 49, 1, 0, 0);
    assert_int_equal(blas_core_advice(&c, "Prescott", msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "OPENBLAS_CORETYPE=Haswell"));
    c = cpu("GenuineIntel", 6, 23, 0, 0, 0); /* a CPU without AVX2: Core2 is the right core */
    assert_int_equal(blas_core_advice(&c, "Core2", msg, sizeof msg), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(isa_names_round_trip),
        cmocka_unit_test(default_path_table),
        cmocka_unit_test(this_cpu_resolves),
        cmocka_unit_test(blas_generic_core_advice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
