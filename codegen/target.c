/* Target machines, the optimization pipeline, emission of .o/.s/.ll/.bc, linking the .so, and cg_compile. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <llvm-c/BitWriter.h>
#include <llvm-c/Target.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "codegen/cg_infra.h"
#include "runtime/sinter_rt.h"

static pthread_once_t llvm_once = PTHREAD_ONCE_INIT;

static void init_llvm(void)
{
    LLVMInitializeAllTargetInfos();
    LLVMInitializeAllTargets();
    LLVMInitializeAllTargetMCs();
    LLVMInitializeAllAsmPrinters();
}

static char *xstrdup(const char *s)
{
    char *r = srt_strdup(s);
    IR_ASSERT(r);
    return r;
}

/* Strings from LLVM are released with LLVMDisposeMessage; keep our own copies. */
static char *take_message(char *m)
{
    char *r = xstrdup(m ? m : "");
    LLVMDisposeMessage(m);
    return r;
}

/* Is "+name" enabled in a comma-separated feature list ("-name" after it disables it)? */
static bool has_feature(const char *features, const char *name)
{
    bool on = false;
    size_t n = strlen(name);
    for (const char *f = features; f && *f;) {
        const char *end = strchr(f, ',');
        size_t len = end ? (size_t)(end - f) : strlen(f);
        if (len == n + 1 && !strncmp(f + 1, name, n))
            on = f[0] == '+';
        f = end ? end + 1 : NULL;
    }
    return on;
}

static bool cpu_in(const char *cpu, const char *const *list)
{
    for (; *list; list++)
        if (!strncmp(cpu, *list, strlen(*list)))
            return true;
    return false;
}

/* +1 when the feature list enables name, -1 when it disables it, 0 when it does not say. */
static int feature_state(const char *features, const char *name)
{
    if (has_feature(features, name))
        return 1;
    size_t n = strlen(name);
    for (const char *f = features; f && *f;) {
        const char *end = strchr(f, ',');
        size_t len = end ? (size_t)(end - f) : strlen(f);
        if (len == n + 1 && !strncmp(f + 1, name, n))
            return -1;
        f = end ? end + 1 : NULL;
    }
    return 0;
}

/* The int8 dot product of an x86 machine: what the feature list says, on top of what the CPU
 * implies (so --features -avx512vnni on an AVX-512 host leaves vpmaddubsw). */
static int x86_int8_dot(const CgMachine *m)
{
    static const char *const vnni512[] = {"cascadelake", "cooperlake", "icelake", "tigerlake", "rocketlake",
                                          "sapphirerapids", "graniterapids", "emeraldrapids", "znver4", "znver5",
                                          NULL};
    static const char *const avxvnni[] = {"alderlake", "raptorlake", "meteorlake", "arrowlake", "lunarlake",
                                          "gracemont", "sierraforest", "grandridge", "pantherlake",
                                          "clearwaterforest", "sapphirerapids", "graniterapids", "emeraldrapids",
                                          NULL};
    static const char *const avx2[] = {"haswell", "broadwell", "skylake", "cannonlake", "icelake", "tigerlake",
                                       "rocketlake", "cascadelake", "cooperlake", "alderlake", "raptorlake",
                                       "meteorlake", "arrowlake", "lunarlake", "gracemont", "sierraforest",
                                       "grandridge", "pantherlake", "clearwaterforest", "sapphirerapids",
                                       "graniterapids", "emeraldrapids", "znver", "bdver4", "x86-64-v3",
                                       "x86-64-v4", "knl", "knm", NULL};
    static const char *const avx512[] = {"skylake-avx512", "cascadelake", "cooperlake", "cannonlake", "icelake",
                                         "tigerlake", "rocketlake", "sapphirerapids", "graniterapids",
                                         "emeraldrapids", "znver4", "znver5", "x86-64-v4", "knl", "knm", NULL};
    int s;
#define HAS(name, list) ((s = feature_state(m->features, name)) != 0 ? s > 0 : cpu_in(m->cpu, list))
    bool f512 = HAS("avx512f", avx512);
    bool v512 = HAS("avx512vnni", vnni512) && f512, vavx = HAS("avxvnni", avxvnni), a2 = HAS("avx2", avx2);
#undef HAS
    if (v512)
        return CG_DOT_VNNI512;
    if (vavx)
        return CG_DOT_VNNI256;
    return a2 ? CG_DOT_AVX2 : CG_DOT_GENERIC;
}

/* What kernels may use: from the feature string, or the CPU name when no features are given. */
static void describe_target(CgMachine *m)
{
    CgTarget *t = &m->target;
    t->vector_bits = 128;
    t->num_vector_regs = 16;
    t->fma = false;
    if (m->aarch64) {
        t->num_vector_regs = 32;
        t->fma = true;
        return;
    }
    if (!m->x86)
        return;
    t->int8_dot = x86_int8_dot(m);
    static const char *const avx512[] = {"skylake-avx512", "cascadelake", "cooperlake", "cannonlake", "icelake",
                                         "tigerlake", "rocketlake", "sapphirerapids", "graniterapids",
                                         "emeraldrapids", "znver4", "znver5", "x86-64-v4", "knl", "knm", NULL};
    static const char *const avx2[] = {"haswell", "broadwell", "skylake", "alderlake", "raptorlake", "meteorlake",
                                       "arrowlake", "lunarlake", "gracemont", "znver", "bdver", "x86-64-v3", NULL};
    static const char *const avx[] = {"sandybridge", "ivybridge", "btver2", NULL};
    if (*m->features) {
        if (has_feature(m->features, "avx512f"))
            t->vector_bits = 512, t->num_vector_regs = 32;
        else if (has_feature(m->features, "avx"))
            t->vector_bits = 256;
        t->fma = has_feature(m->features, "fma");
    } else if (cpu_in(m->cpu, avx512)) {
        t->vector_bits = 512, t->num_vector_regs = 32, t->fma = true;
    } else if (cpu_in(m->cpu, avx2)) {
        t->vector_bits = 256, t->fma = true;
    } else if (cpu_in(m->cpu, avx)) {
        t->vector_bits = 256;
    }
}

static bool prefix(const char *s, const char *p)
{
    return !strncmp(s, p, strlen(p));
}

/* A --features list is "+name" or "-name" items separated by commas; names as LLVM spells them
 * (lower-case letters, digits, '.', '-', '_'). "+help" and "+cpuhelp" would make LLVM print its tables. */
static int check_feature_syntax(const char *features, IrDiag *d)
{
    for (const char *f = features; *f;) {
        size_t len = strcspn(f, ",");
        bool ok = len >= 2 && (f[0] == '+' || f[0] == '-');
        for (size_t i = 1; ok && i < len; i++)
            ok = (f[i] >= 'a' && f[i] <= 'z') || (f[i] >= '0' && f[i] <= '9') || strchr(".-_", f[i]);
        if (ok && (len == 5 && !strncmp(f + 1, "help", 4)))
            ok = false;
        if (ok && (len == 8 && !strncmp(f + 1, "cpuhelp", 7)))
            ok = false;
        if (!ok) {
            ir_diag_error(d, "--features", "\"%.*s\" is not a feature item: expected +NAME or -NAME, comma-separated "
                          "(e.g. +avx2,-avx512f)", (int)len, f);
            return -1;
        }
        f += len;
        if (*f == ',' && !*++f) {
            ir_diag_error(d, "--features", "the list ends with a comma");
            return -1;
        }
    }
    return 0;
}

/* LLVM has no C API that lists or checks a target's CPU and feature names: creating a target machine
 * with an unknown one prints "'x' is not a recognized processor/feature for this target (ignoring ...)"
 * on stderr and goes on (an unknown x86 CPU then aborts in the backend). So the first target machine
 * for a user's --cpu/--features is created with stderr (fd 2) sent to a temporary file, and those
 * warnings become errors. fd 2 is process-wide: a mutex serializes the captures, and whatever else was
 * written meanwhile is copied back to stderr. */
static pthread_mutex_t capture_lock = PTHREAD_MUTEX_INITIALIZER;

static LLVMTargetMachineRef create_checked(LLVMTargetRef t, const CgMachine *m, LLVMCodeGenOptLevel level,
                                           const CgOptions *o, IrDiag *d, bool *rejected)
{
    *rejected = false;
    if (!o->cpu && !o->features)
        return LLVMCreateTargetMachine(t, m->triple, m->cpu, m->features, level, LLVMRelocPIC, LLVMCodeModelDefault);
    if (o->cpu && (!*o->cpu || !strcmp(o->cpu, "help"))) {
        ir_diag_error(d, "--cpu", "expects a CPU name such as %s", m->aarch64 ? "neoverse-n1" : "x86-64-v3");
        *rejected = true;
        return NULL;
    }
    if (o->features && check_feature_syntax(o->features, d) != 0) {
        *rejected = true;
        return NULL;
    }
    pthread_mutex_lock(&capture_lock);
    fflush(stderr);
    FILE *tmp = tmpfile();
    int saved = tmp ? dup(2) : -1;
    bool captured = saved >= 0 && dup2(fileno(tmp), 2) >= 0;
    LLVMTargetMachineRef tm =
        LLVMCreateTargetMachine(t, m->triple, m->cpu, m->features, level, LLVMRelocPIC, LLVMCodeModelDefault);
    if (captured)
        dup2(saved, 2);
    if (saved >= 0)
        close(saved);
    char text[4096] = "";
    if (captured) {
        rewind(tmp);
        size_t n = fread(text, 1, sizeof text - 1, tmp);
        text[n] = 0;
    }
    if (tmp)
        fclose(tmp);
    pthread_mutex_unlock(&capture_lock);
    const char *bad_cpu = strstr(text, "is not a recognized processor");
    const char *bad_feature = strstr(text, "is not a recognized feature");
    if (bad_cpu) {
        ir_diag_error(d, "--cpu", "\"%s\" is not a CPU of target %s (e.g. %s)", m->cpu, m->triple,
                      m->x86 ? "x86-64-v3, skylake, znver3" : m->aarch64 ? "generic, neoverse-n1, cortex-a72"
                                                                         : "generic, generic-rv64, sifive-u74");
    } else if (bad_feature) {
        const char *q = bad_feature;
        while (q > text && q[-1] != '\n')
            q--;
        /* the line is "'+name' is not a recognized feature ..." */
        const char *name = q[0] == '\'' ? q + 1 : q;
        int len = (int)strcspn(name, "' ");
        ir_diag_error(d, "--features", "\"%.*s\" is not a feature of target %s (e.g. %s)", len, name, m->triple,
                      m->x86 ? "+avx2,+fma,-avx512f" : m->aarch64 ? "+neon,+sve" : "+m,+a,+f,+d,+c,+v");
    } else if (*text) {
        fputs(text, stderr);
    }
    if (bad_cpu || bad_feature) {
        if (tm)
            LLVMDisposeTargetMachine(tm);
        *rejected = true;
        return NULL;
    }
    return tm;
}

int cg_machine_init(CgMachine *m, const CgOptions *o, IrDiag *d)
{
    memset(m, 0, sizeof *m);
    pthread_once(&llvm_once, init_llvm);
    char *host = take_message(LLVMGetDefaultTargetTriple());
    m->triple = o->triple ? take_message(LLVMNormalizeTargetTriple(o->triple)) : xstrdup(host);
    /* Same architecture and OS as the host: the library can be linked (and run) here. */
    size_t arch = strcspn(host, "-");
    m->host = !strncmp(m->triple, host, arch) && m->triple[arch] == '-' && strstr(m->triple, "linux") &&
              strstr(host, "linux");
    free(host);
    m->x86 = prefix(m->triple, "x86_64") || prefix(m->triple, "i386") || prefix(m->triple, "i686");
    m->aarch64 = prefix(m->triple, "aarch64") || prefix(m->triple, "arm64");
    bool native = !o->triple && !o->cpu;
    m->cpu = o->cpu ? xstrdup(o->cpu) : native ? take_message(LLVMGetHostCPUName()) : xstrdup("generic");
    m->features = o->features ? xstrdup(o->features) : native ? take_message(LLVMGetHostCPUFeatures())
                  /* riscv64 Linux is RV64GC (lp64d ABI, cg_build_optimized); +v for vector code */
                  : prefix(m->triple, "riscv64") ? xstrdup("+m,+a,+f,+d,+c") : xstrdup("");

    LLVMTargetRef t;
    char *err = NULL;
    if (LLVMGetTargetFromTriple(m->triple, &t, &err)) {
        ir_diag_error(d, "--target", "unknown target \"%s\": %s (try x86_64-linux-gnu or aarch64-linux-gnu)",
                      o->triple ? o->triple : m->triple, err ? err : "not supported by this LLVM");
        LLVMDisposeMessage(err);
        cg_machine_dispose(m);
        return -1;
    }
    static const LLVMCodeGenOptLevel levels[] = {LLVMCodeGenLevelNone, LLVMCodeGenLevelLess,
                                                 LLVMCodeGenLevelDefault, LLVMCodeGenLevelAggressive};
    int lvl = o->opt_level < 0 ? 0 : o->opt_level > 3 ? 3 : o->opt_level;
    bool rejected;
    m->tm = create_checked(t, m, levels[lvl], o, d, &rejected);
    if (rejected) {
        cg_machine_dispose(m);
        return -1;
    }
    if (!m->tm) {
        ir_diag_error(d, "--target", "cannot create a target machine for \"%s\" (cpu \"%s\")", m->triple, m->cpu);
        cg_machine_dispose(m);
        return -1;
    }
    describe_target(m);
    return 0;
}

void cg_machine_dispose(CgMachine *m)
{
    if (m->tm)
        LLVMDisposeTargetMachine(m->tm);
    free(m->triple);
    free(m->cpu);
    free(m->features);
    memset(m, 0, sizeof *m);
}

/* LLVM's default<On> pipeline (new pass manager). */
static int optimize(LLVMModuleRef mod, const CgMachine *m, int level, IrDiag *d, const char *where)
{
    char pipeline[32];
    snprintf(pipeline, sizeof pipeline, "default<O%d>", level);
    LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
    LLVMPassBuilderOptionsSetLoopVectorization(po, level >= 2);
    LLVMPassBuilderOptionsSetSLPVectorization(po, level >= 2);
    LLVMPassBuilderOptionsSetLoopInterleaving(po, level >= 2);
    LLVMPassBuilderOptionsSetLoopUnrolling(po, level >= 1);
    LLVMErrorRef e = LLVMRunPasses(mod, pipeline, m->tm, po);
    LLVMDisposePassBuilderOptions(po);
    if (e) {
        char *msg = LLVMGetErrorMessage(e);
        ir_diag_error(d, where, "internal error: LLVM pipeline %s failed: %s", pipeline, msg);
        LLVMDisposeErrorMessage(msg);
        return -1;
    }
    return 0;
}

/* Write the module as kind ("o", "s", "ll", "bc") to path; diagnostics name shown. */
static int emit_file(LLVMModuleRef mod, const CgMachine *m, const char *kind, const char *path, const char *shown,
                     IrDiag *d)
{
    char *err = NULL;
    bool failed;
    if (!strcmp(kind, "ll"))
        failed = LLVMPrintModuleToFile(mod, path, &err);
    else if (!strcmp(kind, "bc"))
        failed = LLVMWriteBitcodeToFile(mod, path) != 0;
    else
        failed = LLVMTargetMachineEmitToFile(m->tm, mod, path, !strcmp(kind, "s") ? LLVMAssemblyFile : LLVMObjectFile,
                                             &err);
    if (failed) {
        ir_diag_error(d, shown, "cannot write: %s", err && *err ? err : strerror(errno));
        LLVMDisposeMessage(err);
        return -1;
    }
    LLVMDisposeMessage(err);
    return 0;
}

/* ---- cg_compile -------------------------------------------------------------------------- */


static const char *kind_from_path(const char *path)
{
    static const char *const kinds[] = {"so", "o", "ll", "bc", "s"};
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
            if (!strcmp(dot + 1, kinds[i]))
                return kinds[i];
    return "so";
}

/* A fresh file name next to path (same folder, so rename is atomic): created empty. */
static char *temp_beside(const char *path)
{
    size_t len = strlen(path) + 16;
    char *t = srt_malloc(len);
    IR_ASSERT(t);
    snprintf(t, len, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(t);
    if (fd < 0) {
        free(t);
        return NULL;
    }
    close(fd);
    return t;
}

/* path's folder + "/" + file */
static char *beside(const char *path, const char *file)
{
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
    char *r = srt_malloc(dlen + strlen(file) + 1);
    IR_ASSERT(r);
    memcpy(r, path, dlen);
    strcpy(r + dlen, file);
    return r;
}

static int write_text(const char *path, const char *text, IrDiag *d)
{
    FILE *f = fopen(path, "wb");
    size_t len = strlen(text);
    bool ok = f && fwrite(text, 1, len, f) == len;
    ok = f && fflush(f) == 0 && ok && fsync(fileno(f)) == 0;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok) {
        ir_diag_error(d, path, "cannot write: %s", strerror(errno));
        return -1;
    }
    return 0;
}

LLVMModuleRef cg_build_optimized(IrGraph *g, const IrGraph *tg, const CgOptions *o, const CgMachine *m,
                                 LLVMContextRef ctx, IrDiag *d)
{
    CgProgram *p;
    if (cg_lower(g, &p, d) != 0)
        return NULL;
    CgTrainPlan *tp = NULL;
    if (tg && cg_train_plan(g, tg, p, &tp, d) != 0) {
        cg_program_free(p);
        return NULL;
    }
    LLVMModuleRef mod = cg_build_module(p, tp, m, o, ctx, d);
    if (mod && prefix(m->triple, "riscv64")) {
        /* the hard-float ABI of Linux distributions (without it: soft-float lp64, unlinkable) */
        LLVMMetadataRef abi = LLVMMDStringInContext2(ctx, "lp64d", 5);
        LLVMAddModuleFlag(mod, LLVMModuleFlagBehaviorError, "target-abi", 10, abi);
    }
    cg_train_plan_free(tp);
    cg_program_free(p);
    if (mod && optimize(mod, m, o->opt_level, d, g->name) != 0) {
        LLVMDisposeModule(mod);
        mod = NULL;
    }
    return mod;
}

/* The output kind, or NULL after a diagnostic. */
static const char *output_kind(const char *out_path, const char *emit, IrDiag *d)
{
    const char *kind = emit ? emit : kind_from_path(out_path);
    if (strcmp(kind, "so") && strcmp(kind, "o") && strcmp(kind, "ll") && strcmp(kind, "bc") && strcmp(kind, "s")) {
        ir_diag_error(d, "--emit", "unknown output kind \"%s\" (expected so, o, ll, bc or s)", kind);
        return NULL;
    }
    return kind;
}

static int check_options(const CgOptions *o, IrDiag *d)
{
    if (o->opt_level < 0 || o->opt_level > 3) {
        ir_diag_error(d, "-O", "optimization level %d is outside 0..3", o->opt_level);
        return -1;
    }
    return 0;
}

/* --soname and --strip shape a shared library. */
static int check_link_options(const CgLinkOptions *o, const char *kind, IrDiag *d)
{
    if (o->soname && (!*o->soname || strchr(o->soname, '/'))) {
        ir_diag_error(d, "--soname", "expects a file name such as libNAME.so.1, got \"%s\"", o->soname);
        return -1;
    }
    if ((o->soname || o->strip) && strcmp(kind, "so")) {
        ir_diag_error(d, o->soname ? "--soname" : "--strip", "applies to shared libraries only, not to .%s output",
                      kind);
        return -1;
    }
    return 0;
}

int cg_link_check(const CgLinkOptions *lo, const char *out_path, const char *emit, IrDiag *d)
{
    const char *kind = output_kind(out_path ? out_path : "", emit, d);
    return kind && lo ? check_link_options(lo, kind, d) : kind ? 0 : -1;
}

/* A shared library needs a linker and a runtime for its target (codegen/link.c). */
static int check_linkable(const CgMachine *m, const char *kind, const char *where, IrDiag *d)
{
    CgLinker l;
    return strcmp(kind, "so") ? 0 : cg_find_linker(m, &l, where, d);
}

LLVMModuleRef cg_compile_module(IrGraph *g, const IrGraph *tg, const CgOptions *o, LLVMContextRef ctx, IrDiag *d)
{
    CgOptions defaults = {2, NULL, NULL, NULL, false, false};
    if (!o)
        o = &defaults;
    if (check_options(o, d) != 0)
        return NULL;
    CgMachine m;
    if (cg_machine_init(&m, o, d) != 0)
        return NULL;
    LLVMModuleRef mod = cg_build_optimized(g, tg, o, &m, ctx, d);
    cg_machine_dispose(&m);
    return mod;
}

int cg_int8_activation_max(const CgOptions *o, IrDiag *d)
{
    CgMachine m;
    if (cg_machine_init(&m, o, d) != 0)
        return -1;
    int qmax = m.target.int8_dot == CG_DOT_AVX2 ? 127 : 255;
    cg_machine_dispose(&m);
    return qmax;
}

int cg_target_check(const CgOptions *o, const char *out_path, const char *emit, IrDiag *d)
{
    CgOptions defaults = {2, NULL, NULL, NULL, false, false};
    if (!o)
        o = &defaults;
    const char *kind = out_path || emit ? output_kind(out_path ? out_path : "", emit, d) : NULL;
    if ((out_path || emit) && !kind)
        return -1;
    if (check_options(o, d) != 0)
        return -1;
    CgMachine m;
    if (cg_machine_init(&m, o, d) != 0)
        return -1;
    int rc = kind ? check_linkable(&m, kind, "--emit", d) : 0;
    cg_machine_dispose(&m);
    return rc;
}

int cg_compile(IrGraph *g, const IrGraph *tg, const CgOptions *o, const char *out_path, const char *emit, IrDiag *d)
{
    return cg_compile_with(g, tg, o, NULL, out_path, emit, d);
}

int cg_compile_with(IrGraph *g, const IrGraph *tg, const CgOptions *o, const CgLinkOptions *lo, const char *out_path,
                    const char *emit, IrDiag *d)
{
    CgOptions defaults = {2, NULL, NULL, NULL, false, false};
    CgLinkOptions no_link = {NULL, false};
    if (!o)
        o = &defaults;
    if (!lo)
        lo = &no_link;
    if (!out_path || !*out_path) {
        ir_diag_error(d, g->name, "no output file given");
        return -1;
    }
    const char *why = ir_model_name_problem(g->name);
    if (why) {
        ir_diag_error(d, "name", "model name \"%s\" %s", g->name, why);
        return -1;
    }
    if (check_options(o, d) != 0)
        return -1;
    const char *kind = output_kind(out_path, emit, d);
    if (!kind || check_link_options(lo, kind, d) != 0)
        return -1;
    CgMachine m;
    if (cg_machine_init(&m, o, d) != 0)
        return -1;
    if (check_linkable(&m, kind, out_path, d) != 0) {
        cg_machine_dispose(&m);
        return -1;
    }
    int rc = -1;
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = cg_build_optimized(g, tg, o, &m, ctx, d);
    char *tmp = NULL, *hdr = NULL, *hdr_tmp = NULL, *text = NULL;
    char tmpdir[4096] = "", obj[4200] = "", log[4200] = "";
    if (!mod)
        goto out;
    tmp = temp_beside(out_path);
    if (!tmp) {
        ir_diag_error(d, out_path, "cannot create a file beside it: %s", strerror(errno));
        goto out;
    }
    srt_temp_add(tmp, false);   /* removed if the command runs out of memory before the end */
    bool lib = !strcmp(kind, "so");
    if (!lib) {
        if (emit_file(mod, &m, kind, tmp, out_path, d) != 0)
            goto out;
        chmod(tmp, 0644);
    } else {
        /* Shared library: object in a private temporary folder, linked beside the output. */
        CgLinker linker;
        const char *td = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/sinter-cc-XXXXXX", td && *td ? td : "/tmp");
        if (!mkdtemp(tmpdir)) {
            ir_diag_error(d, tmpdir, "cannot create a temporary folder: %s", strerror(errno));
            tmpdir[0] = '\0';
            goto out;
        }
        snprintf(obj, sizeof obj, "%s/%s.o", tmpdir, g->name);
        snprintf(log, sizeof log, "%s/link.log", tmpdir);
        srt_temp_add(tmpdir, true);
        srt_temp_add(obj, false);
        srt_temp_add(log, false);
        if (emit_file(mod, &m, "o", obj, obj, d) != 0 || cg_find_linker(&m, &linker, out_path, d) != 0 ||
            cg_link_shared(&linker, lo, obj, tmp, out_path, log, d) != 0)
            goto out;
        chmod(tmp, 0755);
    }
    /* A library or an object gets its header beside it; both are renamed into place. */
    if (lib || !strcmp(kind, "o")) {
        if (!(text = cg_header_text(g, tg != NULL, d)))
            goto out;
        char hname[300];
        snprintf(hname, sizeof hname, "%s.h", g->name);
        hdr = beside(out_path, hname);
        hdr_tmp = temp_beside(hdr);
        if (!hdr_tmp) {
            ir_diag_error(d, hdr, "cannot create a file beside it: %s", strerror(errno));
            goto out;
        }
        srt_temp_add(hdr_tmp, false);
        if (write_text(hdr_tmp, text, d) != 0)
            goto out;
        chmod(hdr_tmp, 0644);
    }
    if (rename(tmp, out_path) != 0) {
        ir_diag_error(d, out_path, "cannot write: %s", strerror(errno));
        goto out;
    }
    if (hdr && rename(hdr_tmp, hdr) != 0) {
        ir_diag_error(d, hdr, "cannot write: %s", strerror(errno));
        unlink(out_path);
        goto out;
    }
    rc = 0;
out:
    srt_temp_remove(tmp);
    srt_temp_remove(hdr_tmp);
    srt_temp_remove(obj);
    srt_temp_remove(log);
    srt_temp_remove(tmpdir);
    if (tmp)
        unlink(tmp);   /* gone already after a successful rename */
    if (hdr_tmp)
        unlink(hdr_tmp);
    if (*obj)
        unlink(obj);
    if (*log)
        unlink(log);
    if (*tmpdir)
        rmdir(tmpdir);
    free(tmp);
    free(hdr);
    free(hdr_tmp);
    free(text);
    if (mod)
        LLVMDisposeModule(mod);
    LLVMContextDispose(ctx);
    cg_machine_dispose(&m);
    return rc;
}
