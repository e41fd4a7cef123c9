/* cpu.h -- what this CPU offers the CNN's kernels: the instruction-set path (cpuid + the OS's
 * xgetbv), the fixed vendor/family/model table that picks the default path, the CPU's name, and
 * whether OpenBLAS runs a kernel below what the CPU could.
 *
 * Paths: "scalar" = no kernels of our own (the convolutions go through im2col + OpenBLAS sgemm),
 * "avx2" = the direct AVX2/FMA kernels, "avx512" = the direct AVX-512F kernels. The avx2 and
 * avx512 kernels run the same fused multiply-adds in the same order for every output element
 * (only more lanes at once), so their results are bit-identical; scalar rounds differently. */
#ifndef POISONFARM_CPU_H
#define POISONFARM_CPU_H

#include <stddef.h>

typedef enum {
    PF_ISA_AUTO = 0,  /* the default path of this CPU (cpu_default_isa) */
    PF_ISA_SCALAR,
    PF_ISA_AVX2,
    PF_ISA_AVX512,
    PF_ISA_COUNT
} pf_isa;

/* "auto", "scalar", "avx2", "avx512"; from_name returns -1 for an unknown name. */
const char *isa_name(pf_isa isa);
int isa_from_name(const char *name, pf_isa *isa);

/* What cpuid says about the processor (zeros and "" where it says nothing, e.g. off x86). */
typedef struct {
    char vendor[13];     /* "GenuineIntel", "AuthenticAMD", ... */
    char brand[49];      /* "Intel(R) Xeon(R) Processor", trimmed */
    int family, model;   /* display family and model (extended fields folded in) */
    int avx2_fma;        /* AVX2 and FMA, and the OS saves the YMM state */
    int avx512f;         /* AVX-512F, and the OS saves the opmask and ZMM state */
    int amx;             /* AMX-TILE (Sapphire Rapids and later server cores) */
} pf_cpu_info;

void cpu_info(pf_cpu_info *ci);

/* 1 when this CPU and OS can run the path (PF_ISA_AUTO and PF_ISA_SCALAR: always). */
int cpu_has_isa(pf_isa isa);

/* The default path for a CPU, from a fixed table (never from a timing): scalar without AVX2/FMA;
 * avx512 only on cores where it is known to beat avx2 (Intel server cores with two 512-bit FMA
 * units: Sapphire Rapids and later, recognised by family/model or by AMX); avx2 everywhere else
 * (AMD Zen 4 splits 512-bit operations, client cores and some Skylake/Cascade Lake server parts
 * have one 512-bit FMA unit). */
pf_isa cpu_default_isa_for(const pf_cpu_info *ci);
pf_isa cpu_default_isa(void);

/* The path a request resolves to on this CPU: PF_ISA_AUTO -> cpu_default_isa(), any other as is.
 * Returns -1 (and leaves *out alone) when the CPU or OS cannot run the requested path. */
int cpu_resolve_isa(pf_isa request, pf_isa *out);

/* OpenBLAS's generic cores: 1 when `core` (openblas_get_corename()) has no AVX2 sgemm kernel
 * (e.g. "Prescott", "Core2", "Nehalem", "Sandybridge"), 0 for Haswell, SkylakeX, Zen, ... */
int blas_core_is_generic(const char *core);

/* When OpenBLAS runs a generic core on a CPU with AVX2 (ci) -- which costs the dense layers and
 * the scalar path several times their speed -- writes one line of advice into msg and returns 1;
 * else returns 0. core = openblas_get_corename(). */
int blas_core_advice(const pf_cpu_info *ci, const char *core, char *msg, size_t size);

/* The same for this process's CPU and OpenBLAS: prints the advice on stderr ("poisonfarm:
 * warning: ...") when there is any. Call once, on rank 0, after validation. */
void blas_core_warn(void);

#endif
