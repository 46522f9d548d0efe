/* DequantGemm: y = a * w + bias with int8 or int4 weights (ir/quant.c's packed layout) widened to
 * float in registers, one block of 32 outputs at a time; scales applied per group of K. */
#include "codegen/emit.h"

typedef struct DqTile {
    LLVMValueRef jb;          /* the block of 32 outputs */
    LLVMValueRef k_dim, np;   /* K, padded outputs (i64 constants) */
    int64_t k, group, ngroups, cols;
    int bits;
} DqTile;

static LLVMValueRef c64(const CgKernel *k, int64_t v)
{
    return cg_i64c(k, v);
}

/* w(kk, jb*32 .. jb*32+31) as <32 x float>, without the scale. */
static LLVMValueRef dequant(CgKernel *k, const DqTile *t, LLVMValueRef kk)
{
    LLVMTypeRef i8 = cg_t_i8(k), f32 = cg_t_f32(k);
    LLVMTypeRef v32f = cg_t_vec(f32, IR_DQ_BLOCK);
    if (t->bits == 8) {
        LLVMValueRef at = cg_add(k, cg_mul(k, kk, t->np), cg_mul(k, t->jb, c64(k, IR_DQ_BLOCK)));
        LLVMValueRef v = cg_load_vec(k, cg_t_vec(i8, IR_DQ_BLOCK), k->in[1], at, 1);
        return LLVMBuildSIToFP(k->b, v, v32f, "");
    }
    /* 16 bytes: low nibbles are outputs 0..15 of the block, high nibbles 16..31, each q + 8 */
    LLVMTypeRef v16 = cg_t_vec(i8, IR_DQ_BLOCK / 2);
    LLVMValueRef at = cg_add(k, cg_mul(k, kk, c64(k, ir_dq_padded(t->cols) / 2)),
                             cg_mul(k, t->jb, c64(k, IR_DQ_BLOCK / 2)));
    LLVMValueRef v = cg_load_vec(k, v16, k->in[1], at, 1);
    LLVMValueRef lo = LLVMBuildAnd(k->b, v, cg_iconst(v16, 15), "");
    LLVMValueRef hi = LLVMBuildLShr(k->b, v, cg_iconst(v16, 4), "");
    LLVMValueRef idx[IR_DQ_BLOCK];
    for (int l = 0; l < IR_DQ_BLOCK; l++)
        idx[l] = cg_i32c(k, l);
    LLVMValueRef both = LLVMBuildShuffleVector(k->b, lo, hi, LLVMConstVector(idx, IR_DQ_BLOCK), "");
    both = LLVMBuildSub(k->b, both, cg_iconst(cg_t_vec(i8, IR_DQ_BLOCK), 8), "");
    return LLVMBuildSIToFP(k->b, both, v32f, "");
}

/* Rows i .. i+rows-1 of output block t->jb. */
static void dq_tile(CgKernel *k, void *ctx, LLVMValueRef i, int rows)
{
    const DqTile *t = ctx;
    LLVMTypeRef f32 = cg_t_f32(k), v32f = cg_t_vec(f32, IR_DQ_BLOCK);
    LLVMValueRef zero = cg_fconst(v32f, 0), col0 = cg_mul(k, t->jb, c64(k, IR_DQ_BLOCK));
    /* over the groups of K: acc += scale(group) * sum over the group of a * q */
    CgLoop lg;
    LLVMValueRef gi = cg_loop_begin(k, &lg, c64(k, 0), c64(k, t->ngroups), 1);
    LLVMValueRef acc[4];
    for (int r = 0; r < rows; r++)
        acc[r] = cg_loop_carry(k, &lg, zero);
    LLVMValueRef k0 = cg_mul(k, gi, c64(k, t->group));
    LLVMValueRef k1 = cg_min64(k, cg_add(k, k0, c64(k, t->group)), t->k_dim);
    CgLoop lk;
    LLVMValueRef kk = cg_loop_begin(k, &lk, k0, k1, 1);
    LLVMValueRef part[4];
    for (int r = 0; r < rows; r++)
        part[r] = cg_loop_carry(k, &lk, zero);
    LLVMValueRef w = dequant(k, t, kk);
    for (int r = 0; r < rows; r++) {
        LLVMValueRef row = cg_add(k, i, c64(k, r));
        LLVMValueRef x = cg_load(k, f32, k->in[0], cg_add(k, cg_mul(k, row, t->k_dim), kk), 4);
        cg_loop_set(&lk, r, cg_fma(k, cg_splat(k, x, IR_DQ_BLOCK), w, part[r]));
    }
    cg_loop_end(k, &lk);
    LLVMValueRef sv = cg_load_vec(k, v32f, k->in[2], cg_add(k, cg_mul(k, gi, t->np), col0), 4);
    for (int r = 0; r < rows; r++)
        cg_loop_set(&lg, r, cg_fma(k, lk.phi[r], sv, acc[r]));
    cg_loop_end(k, &lg);
    /* bias and the store of the columns < n (the group's epilogue applies) */
    LLVMValueRef mask = t->cols % IR_DQ_BLOCK ? cg_lane_mask(k, IR_DQ_BLOCK, col0, c64(k, t->cols)) : NULL;
    LLVMValueRef bias = NULL;
    if (k->node->nin > 3 && k->in[3]) {
        bias = mask ? cg_load_vec_masked(k, v32f, k->in[3], col0, 4, mask) : cg_load_vec(k, v32f, k->in[3], col0, 4);
    }
    for (int r = 0; r < rows; r++) {
        LLVMValueRef y = lg.phi[r];
        if (bias)
            y = LLVMBuildFAdd(k->b, y, bias, "");
        LLVMValueRef off = cg_add(k, cg_mul(k, cg_add(k, i, c64(k, r)), c64(k, t->cols)), col0);
        cg_out_store(k, 0, off, y, mask);
    }
}

int cg_k_dequant_gemm(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *a = cg_kin(k, 0);
    DqTile t = {.bits = (int)ir_attr_int(n, "bits"), .group = ir_attr_int(n, "group"), .cols = ir_attr_int(n, "n")};
    t.k = a->shape.d[1].b;
    t.ngroups = (t.k + t.group - 1) / t.group;
    int64_t nblocks = ir_dq_padded(t.cols) / IR_DQ_BLOCK;
    /* one task per block of 32 outputs, all rows: the weights are read once */
    LLVMValueRef M = cg_dim(k, a->shape.d[0]);
    LLVMValueRef grain = cg_grain(k, cg_mul(k, M, c64(k, 2 * t.k * IR_DQ_BLOCK)), CG_PAR_WORK);
    CgPar p;
    cg_par_begin(k, &p, c64(k, nblocks), grain, 0, NULL);
    M = cg_dim(k, a->shape.d[0]);
    t.k_dim = c64(k, t.k);
    t.np = c64(k, ir_dq_padded(t.cols));
    CgLoop lb;
    t.jb = cg_loop_begin(k, &lb, p.begin, p.end, 1);
    cg_tiles(k, c64(k, 0), M, 4, dq_tile, &t);
    cg_loop_end(k, &lb);
    cg_par_end(k, &p);
    return 0;
}
