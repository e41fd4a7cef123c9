/* cpu.c -- the CPU's instruction-set paths (cpuid + xgetbv), the default-path table, OpenBLAS's core. */
#include "poisonfarm/cpu.h"

#include <cblas.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define PF_X86 1
#endif

static const char *const isa_names[PF_ISA_COUNT] = {"auto", "scalar", "avx2", "avx512"};

const char *isa_name(pf_isa isa)
{
    return isa >= 0 && isa < PF_ISA_COUNT ? isa_names[isa] : "?";
}

int isa_from_name(const char *name, pf_isa *isa)
{
    for (int i = 0; i < PF_ISA_COUNT; i++)
        if (name != NULL && strcmp(name, isa_names[i]) == 0) {
            *isa = (pf_isa)i;
            return 0;
        }
    return -1;
}

#ifdef PF_X86
/* XCR0: which register states the OS saves on a context switch (xgetbv with ecx = 0). */
static unsigned long long xcr0(void)
{
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}
#endif

void cpu_info(pf_cpu_info *ci)
{
    memset(ci, 0, sizeof *ci);
#ifdef PF_X86
    unsigned int a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return;
    const unsigned int max_leaf = a;
    memcpy(ci->vendor, &b, 4);
    memcpy(ci->vendor + 4, &d, 4);
    memcpy(ci->vendor + 8, &c, 4);
    ci->vendor[12] = '\0';

    __get_cpuid(1, &a, &b, &c, &d);
    const unsigned int fam = (a >> 8) & 0xf, mod = (a >> 4) & 0xf;
    ci->family = (int)(fam == 0xf ? fam + ((a >> 20) & 0xff) : fam);
    ci->model = (int)(fam == 0x6 || fam == 0xf ? mod | (((a >> 16) & 0xf) << 4) : mod);
    const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    const unsigned long long x = osxsave ? xcr0() : 0;
    const int ymm_os = (x & 0x6) == 0x6, zmm_os = (x & 0xe6) == 0xe6;
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        ci->avx2_fma = avx && fma && ((b >> 5) & 1) && ymm_os;
        ci->avx512f = ci->avx2_fma && ((b >> 16) & 1) && zmm_os;
        ci->amx = (d >> 24) & 1;
    }

    char brand[49] = "";
    if (__get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000004) {
        unsigned int r[12];
        for (unsigned int i = 0; i < 3; i++)
            __get_cpuid(0x80000002 + i, &r[4 * i], &r[4 * i + 1], &r[4 * i + 2], &r[4 * i + 3]);
        memcpy(brand, r, 48);
        brand[48] = '\0';
    }
    /* trim leading and trailing blanks */
    const char *s = brand;
    while (*s == ' ') s++;
    snprintf(ci->brand, sizeof ci->brand, "%s", s);
    size_t n = strlen(ci->brand);
    while (n > 0 && ci->brand[n - 1] == ' ') ci->brand[--n] = '\0';
#endif
}

int cpu_has_isa(pf_isa isa)
{
    pf_cpu_info ci;
    switch (isa) {
    case PF_ISA_AUTO:
    case PF_ISA_SCALAR: return 1;
    case PF_ISA_AVX2: cpu_info(&ci); return ci.avx2_fma;
    case PF_ISA_AVX512: cpu_info(&ci); return ci.avx512f;
    default: return 0;
    }
}

/* Intel family-6 server cores with two 512-bit FMA units on every part, where the avx512 kernels
 * beat avx2: Sapphire Rapids (143), Emerald Rapids (207), Granite Rapids (173, 174). Any core with
 * AMX is one of these (under a hypervisor the model number may be another: the development VM
 * reports model 167 with AMX; measured there, see docs/performance.md). Not in the table, so
 * avx2 by default (pin --isa avx512 to try): Skylake/Cascade/Cooper Lake-SP (85: some parts have
 * one 512-bit FMA unit, all lower the clock under AVX-512), Ice Lake-SP (106, 108) and the client
 * cores (one 512-bit FMA unit) -- not measured; AMD Zen 4 (family 25), which splits 512-bit
 * operations in two, and Zen 5 (family 26) -- not measured. */
static const int intel_avx512_models[] = {143, 207, 173, 174};

pf_isa cpu_default_isa_for(const pf_cpu_info *ci)
{
    if (!ci->avx2_fma) return PF_ISA_SCALAR;
    if (!ci->avx512f) return PF_ISA_AVX2;
    if (strcmp(ci->vendor, "GenuineIntel") == 0 && ci->family == 6) {
        if (ci->amx) return PF_ISA_AVX512;
        for (size_t i = 0; i < sizeof intel_avx512_models / sizeof intel_avx512_models[0]; i++)
            if (ci->model == intel_avx512_models[i]) return PF_ISA_AVX512;
    }
    return PF_ISA_AVX2;
}

pf_isa cpu_default_isa(void)
{
    pf_cpu_info ci;
    cpu_info(&ci);
    return cpu_default_isa_for(&ci);
}

int cpu_resolve_isa(pf_isa request, pf_isa *out)
{
    if (request < 0 || request >= PF_ISA_COUNT || !cpu_has_isa(request)) return -1;
    *out = request == PF_ISA_AUTO ? cpu_default_isa() : request;
    return 0;
}

/* OpenBLAS cores (openblas_get_corename) with AVX2/FMA or AVX-512 sgemm kernels. */
static const char *const blas_avx2_cores[] = {"Haswell", "Zen", "SkylakeX", "Cooperlake",
                                              "SapphireRapids", "Excavator"};

int blas_core_is_generic(const char *core)
{
    if (core == NULL) return 1;
    for (size_t i = 0; i < sizeof blas_avx2_cores / sizeof blas_avx2_cores[0]; i++)
        if (strcasecmp(core, blas_avx2_cores[i]) == 0) return 0;
    return 1;
}

int blas_core_advice(const pf_cpu_info *ci, const char *core, char *msg, size_t size)
{
    if (!ci->avx2_fma || !blas_core_is_generic(core)) return 0;
    snprintf(msg, size,
             "OpenBLAS runs its generic '%s' kernels on this %s CPU (%s): the dense layers and "
             "any sgemm run several times slower than they could; install a newer OpenBLAS, or "
             "set OPENBLAS_CORETYPE=%s once the unit tests pass with it "
             "(docs/performance.md)",
             core ? core : "unknown", ci->avx512f ? "AVX-512" : "AVX2",
             ci->brand[0] ? ci->brand : ci->vendor, ci->avx512f ? "SkylakeX" : "Haswell");
    return 1;
}

void blas_core_warn(void)
{
    pf_cpu_info ci;
    char msg[512];
    cpu_info(&ci);
    if (blas_core_advice(&ci, openblas_get_corename(), msg, sizeof msg)) {
        fprintf(stderr, "poisonfarm: warning: %s\n", msg);
        fflush(stderr);
    }
}
