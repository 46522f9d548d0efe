/* Private to codegen/: LLVM IR building helpers for kernels (types, loops, vectors, math, parallel-for outlining). */
#ifndef SINTER_CG_EMIT_H
#define SINTER_CG_EMIT_H

#include <llvm-c/Core.h>

#include "codegen/kernels.h"

/* ---- types and constants ---------------------------------------------------------------------- */

LLVMTypeRef cg_t_i1(const CgKernel *k);
LLVMTypeRef cg_t_i8(const CgKernel *k);
LLVMTypeRef cg_t_i32(const CgKernel *k);
LLVMTypeRef cg_t_i64(const CgKernel *k);
LLVMTypeRef cg_t_f32(const CgKernel *k);
LLVMTypeRef cg_t_f64(const CgKernel *k);
LLVMTypeRef cg_t_ptr(const CgKernel *k);
/* Element type of a dtype in memory and arithmetic: float, double, i64, i32, or i8 (int8, uint8,
 * bool). NULL for storage-only dtypes (bf16, f16). */
LLVMTypeRef cg_t_elem(const CgKernel *k, IrDtype t);
/* <w x elem> */
LLVMTypeRef cg_t_vec(LLVMTypeRef elem, int w);

LLVMValueRef cg_i64c(const CgKernel *k, int64_t v);
LLVMValueRef cg_i32c(const CgKernel *k, int32_t v);
/* Constant of scalar or vector type ty (vector: splat). Float types take fv, integer types iv. */
LLVMValueRef cg_fconst(LLVMTypeRef ty, double fv);
LLVMValueRef cg_iconst(LLVMTypeRef ty, int64_t iv);
/* Splat a scalar value into a <w x T> vector. */
LLVMValueRef cg_splat(const CgKernel *k, LLVMValueRef scalar, int w);

/* a*n + b as an i64 value (the kernel's n). */
LLVMValueRef cg_dim(const CgKernel *k, IrDim d);
/* Product of dims[from..to) as i64 (1 if empty). */
LLVMValueRef cg_dims_prod(const CgKernel *k, const IrDim *dims, int from, int to);
/* Same when every dim is a constant: true and *out, else false. */
bool cg_dims_prod_const(const IrDim *dims, int from, int to, int64_t *out);

/* i64 arithmetic with constant folding through LLVM's builder. nsw: values never wrap. */
LLVMValueRef cg_add(const CgKernel *k, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef cg_sub(const CgKernel *k, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef cg_mul(const CgKernel *k, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef cg_min64(const CgKernel *k, LLVMValueRef a, LLVMValueRef b);   /* signed */
LLVMValueRef cg_max64(const CgKernel *k, LLVMValueRef a, LLVMValueRef b);
/* ceil(a / b) for a >= 0, b > 0 */
LLVMValueRef cg_ceil_div(const CgKernel *k, LLVMValueRef a, LLVMValueRef b);

/* ---- memory ------------------------------------------------------------------------------------- */

/* &base[idx] with element type ty (inbounds). */
LLVMValueRef cg_gep(const CgKernel *k, LLVMTypeRef ty, LLVMValueRef base, LLVMValueRef idx);
/* base[idx] / base[idx] = v with the given alignment in bytes (element size for caller memory). */
LLVMValueRef cg_load(const CgKernel *k, LLVMTypeRef ty, LLVMValueRef base, LLVMValueRef idx, unsigned align);
void cg_store(const CgKernel *k, LLVMValueRef v, LLVMValueRef base, LLVMValueRef idx, unsigned align);
/* Vector of type vty read from / written to &base[idx] (idx in scalar elements). */
LLVMValueRef cg_load_vec(const CgKernel *k, LLVMTypeRef vty, LLVMValueRef base, LLVMValueRef idx, unsigned align);
void cg_store_vec(const CgKernel *k, LLVMValueRef v, LLVMValueRef base, LLVMValueRef idx, unsigned align);
/* Masked versions (llvm.masked.load/store): lanes whose mask bit is 0 are not touched (loads give 0). */
LLVMValueRef cg_load_vec_masked(const CgKernel *k, LLVMTypeRef vty, LLVMValueRef base, LLVMValueRef idx,
                                unsigned align, LLVMValueRef mask);
void cg_store_vec_masked(const CgKernel *k, LLVMValueRef v, LLVMValueRef base, LLVMValueRef idx, unsigned align,
                         LLVMValueRef mask);
/* <w x i1> mask of lanes l with first + l < limit (i64 values). */
LLVMValueRef cg_lane_mask(const CgKernel *k, int w, LLVMValueRef first, LLVMValueRef limit);
/* Tiles over [i0, i1): full tiles of mr, then one tile of the remaining 1..mr-1 (a switch
 * picks the tile of that exact height). fn emits one tile of `rows` rows starting at i. */
typedef void (*CgTileFn)(CgKernel *k, void *ctx, LLVMValueRef i, int rows);
void cg_tiles(CgKernel *k, LLVMValueRef i0, LLVMValueRef i1, int mr, CgTileFn fn, void *ctx);
/* Stack array of count elements of ty in the current function's entry block, 64-byte aligned. */
LLVMValueRef cg_alloca(const CgKernel *k, LLVMTypeRef ty, int64_t count);
/* memcpy(dst + doff*esize, src + soff*esize, count*esize) with element offsets (i64). */
void cg_copy(const CgKernel *k, LLVMValueRef dst, LLVMValueRef doff, LLVMValueRef src, LLVMValueRef soff,
             LLVMValueRef count, size_t esize);

/* ---- control flow ------------------------------------------------------------------------------ */

#define CG_MAX_CARRY 64

/* A counted loop for (i = begin; i < end; i += step) with optional loop-carried values.
 * cg_loop_begin leaves the builder in the body; cg_loop_end closes it and leaves the builder
 * after the loop, where each carried phi holds the final value. */
typedef struct CgLoop {
    LLVMValueRef i;                        /* the induction variable (i64) */
    LLVMValueRef end;
    int64_t step;
    LLVMBasicBlockRef header, exit;
    int ncarry;
    LLVMValueRef phi[CG_MAX_CARRY];        /* carried values (valid in the body and after) */
    LLVMValueRef next[CG_MAX_CARRY];       /* their values for the next iteration */
    bool vectorize_hint;                   /* attach llvm.loop.vectorize.enable */
} CgLoop;

LLVMValueRef cg_loop_begin(CgKernel *k, CgLoop *l, LLVMValueRef begin, LLVMValueRef end, int64_t step);
/* Add a carried value with initial value init (call right after cg_loop_begin); returns its phi. */
LLVMValueRef cg_loop_carry(CgKernel *k, CgLoop *l, LLVMValueRef init);
/* The value carried into the next iteration for carry number idx (default: unchanged). */
void cg_loop_set(CgLoop *l, int idx, LLVMValueRef next);
void cg_loop_end(CgKernel *k, CgLoop *l);

typedef struct CgIf {
    LLVMBasicBlockRef then_bb, else_bb, merge_bb;
    bool in_else;
} CgIf;
/* if (cond) { ... } [else { ... }]: builder in the then block after cg_if_begin. */
void cg_if_begin(CgKernel *k, CgIf *c, LLVMValueRef cond);
void cg_if_else(CgKernel *k, CgIf *c);
void cg_if_end(CgKernel *k, CgIf *c);

/* ---- parallel loops ----------------------------------------------------------------------------
 * Outlines a loop body into a function run through srt_parallel_for over [0, total) in chunks
 * of whole grains. Between cg_par_begin and cg_par_end the builder emits into the body, and
 * k->fn, k->n, k->arg[], k->in[] and k->out[] are the body's copies (captured automatically,
 * noalias and alignment kept), so kernel code reads the same inside and outside. Other values the body
 * needs are passed in vals and used as p->vals[i] inside. One level only (no nesting). */
#define CG_MAX_CAPTURE 24
typedef struct CgPar {
    LLVMValueRef begin, end;               /* i64: the chunk, inside the body */
    LLVMValueRef vals[CG_MAX_CAPTURE];     /* extra captured values, inside the body */
    /* private */
    int nvals, ncap;
    LLVMValueRef *outer;                   /* all captures outside (n, in, out, vals) */
    LLVMValueRef total, grain;
    LLVMValueRef saved_fn, saved_n, saved_err, body;
    LLVMValueRef *saved_in, *saved_out, *body_in, *body_out, *saved_arg, *body_arg;
    LLVMBasicBlockRef saved_bb;
} CgPar;

void cg_par_begin(CgKernel *k, CgPar *p, LLVMValueRef total, LLVMValueRef grain, int nvals, const LLVMValueRef *vals);
void cg_par_end(CgKernel *k, CgPar *p);

/* ---- intrinsics and math ---------------------------------------------------------------------- */

/* Call the overloaded intrinsic `name` (e.g. "llvm.fma") instantiated at types[0..ntypes). */
LLVMValueRef cg_intrinsic(const CgKernel *k, const char *name, LLVMTypeRef *types, int ntypes, LLVMValueRef *args,
                          int nargs);
/* Call the C function `name` (declared on first use) of type double(double) or float(float). */
LLVMValueRef cg_libm1(const CgKernel *k, const char *name, LLVMValueRef x);
LLVMValueRef cg_libm2(const CgKernel *k, const char *name, LLVMValueRef x, LLVMValueRef y);

/* Allow reassociation (and contraction) on float instruction v, so reductions vectorize. */
LLVMValueRef cg_fast(LLVMValueRef v);

/* Float math on scalars or vectors of float/double (same type in and out). float32 versions of
 * exp/tanh/erf/sigmoid are inline polynomials (vectorizable, within a few ulps); float64 ones
 * call libm. */
LLVMValueRef cg_fma(const CgKernel *k, LLVMValueRef a, LLVMValueRef b, LLVMValueRef c);   /* a*b+c */
LLVMValueRef cg_fmax(const CgKernel *k, LLVMValueRef a, LLVMValueRef b);   /* NaN-propagating */
LLVMValueRef cg_fmin(const CgKernel *k, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef cg_fmaxnum(const CgKernel *k, LLVMValueRef a, LLVMValueRef b);   /* NaN-ignoring (fast) */
LLVMValueRef cg_fabs(const CgKernel *k, LLVMValueRef x);
LLVMValueRef cg_sqrt(const CgKernel *k, LLVMValueRef x);
LLVMValueRef cg_exp(const CgKernel *k, LLVMValueRef x);
LLVMValueRef cg_log(const CgKernel *k, LLVMValueRef x);
LLVMValueRef cg_tanh(const CgKernel *k, LLVMValueRef x);
LLVMValueRef cg_sigmoid(const CgKernel *k, LLVMValueRef x);
LLVMValueRef cg_erf(const CgKernel *k, LLVMValueRef x);
/* 0.5*x*(1+erf(x/sqrt 2)), accurate for negative x too (uses erfc there). */
LLVMValueRef cg_gelu(const CgKernel *k, LLVMValueRef x);
/* x*sigmoid(2*sqrt(2/pi)*(x+0.044715x^3)) == 0.5x(1+tanh(...)) */
LLVMValueRef cg_gelu_tanh(const CgKernel *k, LLVMValueRef x);
LLVMValueRef cg_pow(const CgKernel *k, LLVMValueRef x, LLVMValueRef y);
/* Horizontal sum of a float vector (reassociated), and its NaN-propagating maximum. */
LLVMValueRef cg_reduce_fadd(const CgKernel *k, LLVMValueRef v);
LLVMValueRef cg_reduce_fmax(const CgKernel *k, LLVMValueRef v);

/* ---- results: the one store path (epilogue.c) --------------------------------------------------
 * Emitters write output element(s) of their node through cg_out_store: val is a scalar, or a
 * <w x T> vector of the elements at flat offsets off .. off+w-1 of output oi (mask: NULL, or
 * the <w x i1> lanes to write). The hook stores it if the output is kept, and for output 0 of
 * a group's anchor computes the epilogue (the group's element-wise nodes) on it and stores
 * every value the group keeps. A vector never crosses a row of the anchor's split
 * (ir_epilogue_split). */
void cg_out_store(CgKernel *k, int oi, LLVMValueRef off, LLVMValueRef val, LLVMValueRef mask);
/* Memory shaped like output oi for partial results (e.g. sums over blocks of K) that the
 * emitter reads back before it hands the final values of the same elements to cg_out_store:
 * the output when it is kept, else the group value the epilogue stores last (same shape and
 * dtype). */
LLVMValueRef cg_out_acc(CgKernel *k, int oi);
/* Output oi's pointer for bulk writes (copies, fills, scatters) by ops that take no epilogue
 * (asserted). NULL when the output is not kept. */
LLVMValueRef cg_out_ptr(CgKernel *k, int oi);

/* ---- the element-wise expression builder (kernel_elementwise.c) --------------------------------
 * Node n (an element-wise op, or BatchNormalization in inference form) on operand values x[i]
 * of its inputs (NULL for an absent input): scalars of the inputs' element types, or, for
 * float ops of one dtype, vectors of them. Its semantics are the reference kernel's. */
LLVMValueRef cg_ew_apply(CgKernel *k, const IrNode *n, LLVMValueRef *x);

/* ---- per-op emitters, dispatched by the table in kernel.c ---------------------------------------- */

int cg_k_elementwise(CgKernel *k);    /* an element-wise group (any element-wise ops), Expand */
int cg_k_copy(CgKernel *k);           /* view ops that must copy, inference Dropout */
int cg_k_reduce(CgKernel *k);         /* ReduceSum/Mean/Max */
int cg_k_softmax(CgKernel *k);        /* Softmax, LogSoftmax */
int cg_k_norm(CgKernel *k);           /* BatchNormalization, LayerNormalization */
int cg_k_gemm(CgKernel *k);           /* Gemm */
int cg_k_matmul(CgKernel *k);         /* MatMul */
int cg_k_conv(CgKernel *k);           /* Conv */
int cg_k_convt(CgKernel *k);          /* ConvTranspose */
int cg_k_pool(CgKernel *k);           /* MaxPool, AveragePool, GlobalAveragePool */
int cg_k_shape(CgKernel *k);          /* Transpose, Concat, Split, Slice, Gather, Shape, ConstantOfShape, Range */
int cg_k_pad(CgKernel *k);            /* Pad (kernel_pad.c) */
int cg_k_dequant_gemm(CgKernel *k);   /* DequantGemm: int8/int4 weights (kernel_qgemm.c) */
int cg_k_int_gemm(CgKernel *k);       /* IntGemm: uint8 x int8, int32 sums (kernel_igemm.c) */
int cg_k_sparse_gemm(CgKernel *k);    /* SparseGemm: CSR weights, gathered activations (kernel_sgemm.c) */
/* the training graph's kernels (kernel_grad.c) */
int cg_k_conv_grad_weight(CgKernel *k);
int cg_k_pool_grad(CgKernel *k);      /* MaxPoolGrad, AveragePoolGrad */
int cg_k_batchnorm_grad(CgKernel *k);
int cg_k_layernorm_grad(CgKernel *k);
int cg_k_softmax_grad(CgKernel *k);   /* SoftmaxGrad, LogSoftmaxGrad */
int cg_k_sce_loss(CgKernel *k);
int cg_k_sce_grad(CgKernel *k);
int cg_k_mse_loss(CgKernel *k);
int cg_k_gather_grad(CgKernel *k);
int cg_k_slice_grad(CgKernel *k);
int cg_k_dropout_mask(CgKernel *k);
int cg_k_update(CgKernel *k);         /* SgdUpdate, AdamUpdate */

/* Shared by the emitters. */
const IrValue *cg_kin(const CgKernel *k, int i);     /* input value i or NULL */
const IrValue *cg_kout(const CgKernel *k, int i);    /* output value i or NULL */
/* Alignment in bytes to use for accesses to input/output buffer values (element size: inputs
 * and outputs may be caller memory). */
unsigned cg_align_of(IrDtype t);
/* "codegen does not support X yet" diagnostic on the kernel's node; returns -1. */
int cg_unsupported(CgKernel *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Compile-time integer content of value v (constant data or IrValue.sym): up to max entries as
 * a*N+b into out; returns the count, or -1 if unknown. */
int cg_known_ints(const IrValue *v, IrDim *out, int max);
/* Lanes of vectors of elem on this target: vector_bits / element bits, at least 2. */
int cg_lanes(const CgKernel *k, LLVMTypeRef elem);
/* Work (elements or flops) per parallel chunk that pays for a thread's start (~2 us). */
#define CG_PAR_WORK 32768
/* Grain for srt_parallel_for: how many items of per_item work each make up `work` (>= 1). */
LLVMValueRef cg_grain(const CgKernel *k, LLVMValueRef per_item, int64_t work);

/* Row reduction over ptr[base .. base+len) of float type ety (kernel_reduce.c), with explicit
 * W-lane vectors and a masked tail: returns the scalar sum (op CG_RED_SUM) or NaN-propagating
 * max (CG_RED_MAX) of map(x) (map NULL: x itself; map gets and returns vectors). If out is not
 * NULL, map(x) is also stored to out[obase + j]. */
enum { CG_RED_SUM, CG_RED_MAX };
typedef LLVMValueRef (*CgMapFn)(CgKernel *k, void *ctx, LLVMValueRef x);
LLVMValueRef cg_row_reduce(CgKernel *k, LLVMTypeRef ety, LLVMValueRef ptr, LLVMValueRef base, LLVMValueRef len,
                           unsigned align, int op, CgMapFn map, void *ctx, LLVMValueRef out, LLVMValueRef obase);
/* Float v converted to float type to (fpext/fptrunc; v itself if already of that type). */
LLVMValueRef cg_fconv(const CgKernel *k, LLVMValueRef v, LLVMTypeRef to);
/* Integer v widened to type to: zero-extended when is_unsigned, else sign-extended. */
LLVMValueRef cg_iext(const CgKernel *k, LLVMValueRef v, LLVMTypeRef to, bool is_unsigned);
/* Load element idx of a buffer of dtype dt converted to float type fty. */
LLVMValueRef cg_load_as(CgKernel *k, IrDtype dt, LLVMValueRef ptr, LLVMValueRef idx, LLVMTypeRef fty);

/* Window geometry of a conv/pool node (kernel_conv.c). Kernel, strides and dilations are
 * attributes (constants); spatial sizes and pads are i64 values (constants unless a spatial
 * dim involves N), computed at the builder's position. */
typedef struct CgGeom {
    int nsp;                                    /* spatial axes */
    int64_t k[IR_MAX_RANK], s[IR_MAX_RANK], d[IR_MAX_RANK];
    int64_t taps;                               /* product of k */
    LLVMValueRef in[IR_MAX_RANK], out[IR_MAX_RANK], pb[IR_MAX_RANK], pe[IR_MAX_RANK];
    LLVMValueRef isz, osz;                      /* products of in, out */
} CgGeom;

/* INTS attribute with count entries, or def for each when absent or of another length. */
void cg_ints_or(const IrNode *n, const char *name, int count, int64_t def, int64_t *out);
/* Geometry of x -> y with the kernel dims of `kernel` (NULL: the kernel_shape attribute),
 * dilations (use_dil) and forward pads (explicit, VALID, SAME_UPPER/LOWER as ONNX defines
 * them). False when the kernel is not constant. */
bool cg_geom_forward(CgKernel *k, const IrValue *x, const IrValue *y, const IrShape *kernel, bool use_dil, CgGeom *g);

/* Gemm core shared by Gemm, MatMul and Conv (kernel_gemm.c): C(i,j) = alpha * sum_k A(i,k) B(k,j)
 * (+ epilogue), with element strides. One matrix problem per call; the caller supplies row/col
 * ranges (already inside a parallel body or not). */
typedef struct CgGemmArgs {
    LLVMTypeRef ety;                     /* float or double (integers: plain scalar loops) */
    LLVMValueRef a, b, c;                /* base pointers (already offset); c: where partial
                                            sums are read (accumulate) and non-final C goes */
    bool final;                          /* C is the kernel's output 0: store the final values
                                            through cg_out_store at flat offset c_base + (i*sci
                                            + j*scj) (the group's epilogue applies) */
    LLVMValueRef c_base;
    LLVMValueRef sam, sak;               /* A(i,k) = a[i*sam + k*sak] */
    LLVMValueRef sbk, sbj;               /* B(k,j) = b[k*sbk + j*sbj] */
    LLVMValueRef sci, scj;               /* C(i,j) = c[i*sci + j*scj] */
    bool b_unit_j;                       /* sbj == 1 (constant) */
    bool a_unit_k, b_unit_k;             /* sak == 1, sbk == 1 (constants) */
    bool c_unit_j;                       /* scj == 1 */
    LLVMValueRef i0, i1, j0, j1;         /* row range [i0,i1), column range [j0,j1) */
    LLVMValueRef kdim;                   /* K */
    bool accumulate;                     /* C += product (else C = product) */
    bool rows_outer;                     /* outer-product tiles: row tiles outside column tiles */
    int tile_mr, tile_nv;                /* outer-product tile (rows, vectors); 0: the target's
                                            default */
    /* epilogue: C(i,j) = alpha*acc + beta*bias(i,j) [+ C(i,j) if accumulate]; bias NULL: none */
    double alpha, beta;
    LLVMValueRef bias, sbi, sbjb;        /* bias(i,j) = bias[i*sbi + j*sbjb]; vector tiles need
                                            sbjb constant 0 or 1 (else scalar loops) */
    unsigned align_a, align_b, align_c, align_bias;
} CgGemmArgs;
void cg_gemm_block(CgKernel *k, const CgGemmArgs *g);

#endif
