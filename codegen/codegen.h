/* sinter native code generation: lowering to a program, buffer planning, LLVM emission and linking. */
#ifndef SINTER_CODEGEN_H
#define SINTER_CODEGEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ir/ir.h"
#include "runtime/sinter_model.h"

/* ---- compiling ------------------------------------------------------------------
 * cg_compile turns a typed, topologically sorted graph into native code. It does NOT run
 * passes: the driver runs the pipelines of passes/pipeline.c first ("inference" on g, and
 * for a library that trains, "training" on a copy of the model: pass_training_graph) and
 * hands both graphs over; any valid graph compiles, and kernel groups (IrNode.group, marked by
 * passes/fuse) become one kernel each. Values with compile-time symbolic content
 * (IrValue.sym, e.g. Shape outputs) are computed by the entry point from n, so shape
 * arithmetic that const_fold left alone still works. */
typedef struct CgOptions {
    int opt_level;            /* 0..3: LLVM's default<O0..O3> pipeline */
    const char *triple;       /* NULL: the host's */
    const char *cpu;          /* NULL: the host CPU (or "generic" with a non-host triple) */
    const char *features;     /* NULL: the host CPU's features ("" with a non-host triple) */
    bool external_weights;    /* no embedded weights: NAME_create zero-fills, NAME_load fills */
    bool check_finite;        /* --check-finite: a NaN or infinity in an output (inference) or in the
                                 loss (training) makes the call return SINTER_EDATA naming it */
} CgOptions;

/* Compile g into out_path; tg, when not NULL, is g's training graph (pass_training_graph) and
 * adds the training entry points. emit: "so", "o", "ll", "bc", "s", or NULL to choose by the
 * extension of out_path (anything else: "so"). For "so" and "o" the header NAME.h (NAME =
 * g->name) is written beside the output. A shared library for another Linux target is linked
 * with its cross compiler (TOOL-gcc on PATH) and the runtime built for it (codegen/link.c).
 * Files appear atomically (temporary name, then rename); on error nothing is left behind.
 * Returns 0, or -1 with diagnostics. Thread-safe: each call uses its own LLVM context. */
int cg_compile(IrGraph *g, const IrGraph *tg, const CgOptions *o, const char *out_path, const char *emit,
               IrDiag *d);

/* How a shared library is linked (cg_compile_with; cg_compile uses the defaults, all zero). */
typedef struct CgLinkOptions {
    const char *soname;       /* the library's SONAME; NULL: the output's file name */
    bool strip;               /* no symbol table beyond the exported ABI (the linker's -s) */
} CgLinkOptions;

/* cg_compile with link options (lo may be NULL); they apply to a shared library only: with
 * another output kind they are a diagnostic at "--soname" or "--strip". */
int cg_compile_with(IrGraph *g, const IrGraph *tg, const CgOptions *o, const CgLinkOptions *lo, const char *out_path,
                    const char *emit, IrDiag *d);
/* What cg_compile_with would refuse about lo for that output, checked before any work. */
int cg_link_check(const CgLinkOptions *lo, const char *out_path, const char *emit, IrDiag *d);

/* Checks, before any work, what cg_compile(g, o, out_path, emit, d) would refuse about the
 * options alone: the target, the optimization level, the output kind and whether that kind can
 * be produced for the target on this machine (out_path may be NULL: no kind check). Returns 0,
 * or -1 with a diagnostic whose WHERE names the option ("--target", "--emit", "-O"). */
int cg_target_check(const CgOptions *o, const char *out_path, const char *emit, IrDiag *d);
/* The largest uint8 activation code IntGemm's kernel multiplies exactly on the target of o: 127
 * on x86 without VNNI (vpmaddubsw's int16 pair sums: 2 * 127 * 127 < 2^15), else 255. The
 * quantizer picks the activations' grid from it. -1 with a diagnostic for a bad target. */
int cg_int8_activation_max(const CgOptions *o, IrDiag *d);

/* The header text NAME.h for g (malloc'ed), as cg_compile writes it (with the training entry
 * points when training); NULL + diagnostic if a tensor's dtype has no C type. */
char *cg_header_text(const IrGraph *g, bool training, IrDiag *d);

/* The verified and optimized LLVM module of g (what cg_compile emits), built in ctx (e.g. an
 * ORC ThreadSafeContext's context); the caller disposes it. NULL + diagnostics on error.
 * Declared with opaque types so this header needs no LLVM include. */
struct LLVMOpaqueModule;
struct LLVMOpaqueContext;
struct LLVMOpaqueModule *cg_compile_module(IrGraph *g, const IrGraph *tg, const CgOptions *o,
                                           struct LLVMOpaqueContext *ctx,
                                           IrDiag *d);

/* ---- in-memory compilation (LLVM ORC JIT) --------------------------------------------
 * The same code as a shared library, compiled for this machine into the calling process:
 * `sinter run MODEL.json`, benchmarks and tests drive it through its descriptor exactly like
 * a dlopen'ed library (cg_jit_info(j)->create(), ->infer(m, n, args), ...). o->triple must be
 * NULL (this machine). The runtime the code calls is the process's own copy of sinter_rt. */
typedef struct CgJit CgJit;
int cg_jit_compile(IrGraph *g, const IrGraph *tg, const CgOptions *o, CgJit **out, IrDiag *d);
const SinterModelInfo *cg_jit_info(const CgJit *j);
/* Frees the code: every context created through it must be destroyed first. */
void cg_jit_free(CgJit *j);

/* ---- the program: kernels and the buffer plan ---------------------------------- */

/* Where a value's bytes live while the inference entry point runs. */
typedef enum CgStorage {
    CG_STORE_NONE,            /* never read at run time (dead, or only read at compile time) */
    CG_STORE_INPUT,           /* graph input: entry argument `arg` (caller's memory) */
    CG_STORE_OUTPUT,          /* graph output: entry argument `arg` (caller's memory) */
    CG_STORE_PARAM,           /* context's param block at byte `offset.b` */
    CG_STORE_CONST,           /* read-only global of the module (contents IrValue.data) */
    CG_STORE_SCRATCH,         /* context's scratch arena at byte `offset` (a*N+b) */
    CG_STORE_VIEW,            /* same bytes as value `view_of` (resolved: never a view itself) */
    CG_STORE_SYMBOLIC,        /* content known as a*N+b per element (IrValue.sym): the entry
                                 stores it into scratch at `offset` before the first kernel */
    CG_STORE_GRAD             /* training: a param's gradient in the context's flat gradient
                                 buffer at byte `offset.b` (4-aligned) */
} CgStorage;

typedef struct CgBuffer {
    CgStorage storage;
    int arg;                  /* INPUT: input index; OUTPUT: output index (first listing) */
    IrDim offset;             /* PARAM (constant), SCRATCH, SYMBOLIC: byte offset, 64-aligned */
    IrDim size;               /* bytes a*N+b (unaligned numel * element size) */
    int view_of;              /* VIEW: value id of the root buffer; else -1 */
    int def, last;            /* step range where the bytes are live (SCRATCH/SYMBOLIC; a view's
                                 uses extend its root); -1 when not applicable */
} CgBuffer;

typedef enum CgStepKind {
    CG_STEP_KERNEL,           /* run the kernel of nodes[] (one node for now) */
    CG_STEP_COPY,             /* copy value src into graph output out_index (views and
                                 inputs/params/consts listed as outputs, repeated outputs) */
    CG_STEP_UPDATE            /* training, after the kernels: copy value src into the param-block
                                 slot of value dst (an update pair of docs/training.md) */
} CgStepKind;

typedef struct CgStep {
    CgStepKind kind;
    int nnodes;               /* KERNEL: the nodes this kernel runs, in order: the live members */
    int *nodes;               /*   of a kernel group (IrNode.group, passes/fuse), or one node */
    int anchor;               /* KERNEL: the group's anchor or the only node (its op's emitter
                                 builds the kernel); -1: an element-wise group */
    int nargs, nargs_in;      /* KERNEL: the kernel's pointer arguments: the values it reads that */
    int *args;                /*   are made outside it (first nargs_in), then the values it makes
                                 that are needed outside; the others get no buffer */
    int src;                  /* COPY, UPDATE: value id */
    int out_index;            /* COPY: graph output position */
    int dst;                  /* UPDATE: the param (or optimizer state) value written; else -1 */
} CgStep;

typedef struct CgProgram {
    const IrGraph *g;
    const char *what;         /* "inference", "gradient" or "optimizer" (the entry it becomes) */
    int nin, nout;            /* entry arguments: nin inputs then nout outputs (value ids; */
    int *in, *out;            /*   inference: graph inputs, graph outputs; gradient: graph and
                                   training inputs, the loss; optimizer: none) */
    int nsteps;
    CgStep *steps;            /* execution order */
    CgBuffer *buf;            /* by value id, g->nvalues entries */
    int64_t param_bytes;      /* size of the param block (64-aligned) */
    IrDim scratch_bytes;      /* peak scratch (arena size), 64-aligned a*N+b */
    int64_t max_n;            /* largest n for which every size fits comfortably in int64 */
} CgProgram;

/* Lower g (typed, topologically sorted) to a program with its buffer plan. Returns 0 and
 * *out (free with cg_program_free), or -1 with diagnostics. */
int cg_lower(const IrGraph *g, CgProgram **out, IrDiag *d);
void cg_program_free(CgProgram *p);
/* Human-readable kernels and buffers (`sinter dump --after plan`). */
void cg_print_program(const CgProgram *p, FILE *f);
/* The same as a Graphviz digraph: kernels (a group as a cluster of its ops) and the buffers
 * they read and write, with storage, offset and size (`--after plan --format dot`). */
void cg_print_program_dot(const CgProgram *p, FILE *f);
/* Peak scratch bytes of g's plan (`sinter check`). Returns 0, or -1 with diagnostics. */
int cg_scratch_bytes(const IrGraph *g, IrDim *out, IrDiag *d);

/* ---- training ---------------------------------------------------------------------
 * A library trains when cg_compile gets the model's training graph. It is split into two
 * programs sharing g's param block (optimizer state appended): "gradient" (forward, loss,
 * backward; gradients into one flat float buffer; BatchNorm running statistics) and
 * "optimizer" (the update nodes). NAME_train_step runs both (codegen/train.c). */

/* Both training programs of g, as `sinter dump --after plan` prints them after inference's. */
int cg_print_training_programs(const IrGraph *g, const IrGraph *tg, FILE *f, IrDiag *d);

/* name found in a folder of PATH, its path in out (names with a '/' are taken as they are):
 * the cross compiler, Graphviz's dot for `sinter dump --format png`. */
bool cg_find_program(const char *name, char *out, size_t len);

#endif
