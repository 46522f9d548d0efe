/* IntGemm: uint8 activations times prepacked int8 weights with exact int32 sums on the target's
 * dot-product instructions (vpdpbusd, vpmaddubsw + vpmaddwd, or plain LLVM IR), requantized in
 * the epilogue to uint8 or to float32 (ir/quant.c is the reference; docs/compression.md). */
#include "codegen/emit.h"

/* The weights (ir/ir.h IR_IG_BLOCK layout) give each int32 lane of a vector the four k of one
 * output: a vector of V lanes is V outputs times four k, 4V consecutive bytes. A tile is `nv`
 * such vectors (nv*V outputs) by up to `mr` rows; each k step broadcasts four bytes of a row. */
typedef struct IgTile {
    int dot;                  /* CgInt8Dot */
    int v;                    /* int32 lanes of a vector: 16 (zmm) or 8 */
    int nv;                   /* vectors of a tile */
    int64_t k, cols, np;
    bool float_out;
    int32_t zp, qmax;
    LLVMValueRef jb;          /* the tile's first vector, in vectors */
} IgTile;

static LLVMValueRef c64(const CgKernel *k, int64_t v)
{
    return cg_i64c(k, v);
}

/* acc + the sums of four u8 * s8 products per lane: a (<V x i32>: four activation bytes, the
 * same in every lane) by w (<4V x i8>). */
static LLVMValueRef dot4(CgKernel *k, const IgTile *t, LLVMValueRef acc, LLVMValueRef a, LLVMValueRef w)
{
    LLVMTypeRef i8 = cg_t_i8(k), i32 = cg_t_i32(k), i16 = LLVMInt16TypeInContext(k->ctx);
    LLVMTypeRef vb = cg_t_vec(i8, 4 * t->v), vi = cg_t_vec(i32, t->v);
    LLVMValueRef wi = LLVMBuildBitCast(k->b, w, vi, "");
    switch (t->dot) {
    case CG_DOT_VNNI512:
    case CG_DOT_VNNI256: {
        LLVMValueRef args[3] = {acc, a, wi};
        return cg_intrinsic(k, t->dot == CG_DOT_VNNI512 ? "llvm.x86.avx512.vpdpbusd.512" : "llvm.x86.avx512.vpdpbusd.256",
                            NULL, 0, args, 3);
    }
    case CG_DOT_AVX2: {
        /* pairs of products summed in int16 (exact: a <= 127, |w| <= 127), then pairs of those in int32 */
        LLVMValueRef args[2] = {LLVMBuildBitCast(k->b, a, vb, ""), w};
        LLVMValueRef p16 = cg_intrinsic(k, "llvm.x86.avx2.pmadd.ub.sw", NULL, 0, args, 2);
        LLVMValueRef args2[2] = {p16, cg_iconst(cg_t_vec(i16, 2 * t->v), 1)};
        return LLVMBuildAdd(k->b, acc, cg_intrinsic(k, "llvm.x86.avx2.pmadd.wd", NULL, 0, args2, 2), "");
    }
    default: {
        LLVMTypeRef wide = cg_t_vec(i32, 4 * t->v);
        LLVMValueRef p = LLVMBuildMul(k->b, LLVMBuildZExt(k->b, LLVMBuildBitCast(k->b, a, vb, ""), wide, ""),
                                      LLVMBuildSExt(k->b, w, wide, ""), "");
        LLVMValueRef idx[64];
        for (int q = 0; q < 4; q++) {
            for (int l = 0; l < t->v; l++)
                idx[l] = cg_i32c(k, 4 * l + q);
            LLVMValueRef part = LLVMBuildShuffleVector(k->b, p, LLVMGetUndef(wide), LLVMConstVector(idx, (unsigned)t->v), "");
            acc = LLVMBuildAdd(k->b, acc, part, "");
        }
        return acc;
    }
    }
}

/* Four activation bytes of row `row` from k = 4*k4 as one i32 (fewer than four at the end of
 * K: the missing bytes are 0), broadcast to V lanes. */
static LLVMValueRef act4(CgKernel *k, const IgTile *t, LLVMValueRef row, LLVMValueRef k4, int have)
{
    LLVMTypeRef i8 = cg_t_i8(k), i32 = cg_t_i32(k);
    LLVMValueRef at = cg_add(k, cg_mul(k, row, c64(k, t->k)), cg_mul(k, k4, c64(k, 4)));
    LLVMValueRef word;
    if (have == 4) {
        word = LLVMBuildLoad2(k->b, i32, cg_gep(k, i8, k->in[0], at), "");
        LLVMSetAlignment(word, 1);
    } else {
        word = LLVMConstInt(i32, 0, 0);
        for (int b = 0; b < have; b++) {
            LLVMValueRef byte = cg_load(k, i8, k->in[0], cg_add(k, at, c64(k, b)), 1);
            byte = LLVMBuildShl(k->b, LLVMBuildZExt(k->b, byte, i32, ""), LLVMConstInt(i32, (unsigned)(8 * b), 0), "");
            word = LLVMBuildOr(k->b, word, byte, "");
        }
    }
    return cg_splat(k, word, t->v);
}

/* One k step (four k): acc[r][v] of rows i.. i+rows-1. */
static void k_step(CgKernel *k, const IgTile *t, LLVMValueRef i, int rows, LLVMValueRef k4, int have,
                   LLVMValueRef *acc)
{
    LLVMTypeRef vb = cg_t_vec(cg_t_i8(k), 4 * t->v);
    LLVMValueRef w[4];
    for (int v = 0; v < t->nv; v++) {
        LLVMValueRef at = cg_add(k, cg_mul(k, k4, c64(k, t->np * 4)),
                                 cg_mul(k, cg_add(k, t->jb, c64(k, v)), c64(k, 4 * t->v)));
        w[v] = cg_load_vec(k, vb, k->in[1], at, 1);
    }
    for (int r = 0; r < rows; r++) {
        LLVMValueRef a = act4(k, t, cg_add(k, i, c64(k, r)), k4, have);
        for (int v = 0; v < t->nv; v++)
            acc[r * t->nv + v] = dot4(k, t, acc[r * t->nv + v], a, w[v]);
    }
}

/* Rows i .. i+rows-1 of the tile's outputs. */
static void ig_tile(CgKernel *k, void *ctx, LLVMValueRef i, int rows)
{
    const IgTile *t = ctx;
    LLVMTypeRef i32 = cg_t_i32(k), f32 = cg_t_f32(k), vi = cg_t_vec(i32, t->v), vf = cg_t_vec(f32, t->v);
    int nacc = rows * t->nv;
    LLVMValueRef acc[16];
    CgLoop lk;
    LLVMValueRef k4 = cg_loop_begin(k, &lk, c64(k, 0), c64(k, t->k / 4), 1);
    for (int a = 0; a < nacc; a++)
        acc[a] = cg_loop_carry(k, &lk, cg_iconst(vi, 0));
    k_step(k, t, i, rows, k4, 4, acc);
    for (int a = 0; a < nacc; a++)
        cg_loop_set(&lk, a, acc[a]);
    cg_loop_end(k, &lk);
    for (int a = 0; a < nacc; a++)
        acc[a] = lk.phi[a];
    if (t->k % 4)
        k_step(k, t, i, rows, c64(k, t->k / 4), (int)(t->k % 4), acc);
    /* epilogue: + bias, * multiplier in float32, then uint8 (requantized) or float32 */
    for (int v = 0; v < t->nv; v++) {
        LLVMValueRef col0 = cg_mul(k, cg_add(k, t->jb, c64(k, v)), c64(k, t->v));
        LLVMValueRef bias = cg_load_vec(k, vi, k->in[2], col0, 4);
        LLVMValueRef mult = cg_load_vec(k, vf, k->in[3], col0, 4);
        LLVMValueRef mask = t->np != t->cols ? cg_lane_mask(k, t->v, col0, c64(k, t->cols)) : NULL;
        for (int r = 0; r < rows; r++) {
            LLVMValueRef s = LLVMBuildAdd(k->b, acc[r * t->nv + v], bias, "");
            LLVMValueRef y = LLVMBuildFMul(k->b, LLVMBuildSIToFP(k->b, s, vf, ""), mult, "");
            if (!t->float_out) {
                y = cg_intrinsic(k, "llvm.roundeven", &vf, 1, &y, 1);
                y = cg_fmaxnum(k, y, cg_fconst(vf, (double)-t->zp));
                LLVMValueRef args[2] = {y, cg_fconst(vf, (double)(t->qmax - t->zp))};
                y = cg_intrinsic(k, "llvm.minnum", &vf, 1, args, 2);
                LLVMValueRef q = LLVMBuildAdd(k->b, LLVMBuildFPToSI(k->b, y, vi, ""), cg_iconst(vi, t->zp), "");
                y = LLVMBuildTrunc(k->b, q, cg_t_vec(cg_t_i8(k), t->v), "");
            }
            LLVMValueRef off = cg_add(k, cg_mul(k, cg_add(k, i, c64(k, r)), c64(k, t->cols)), col0);
            cg_out_store(k, 0, off, y, mask);
        }
    }
}

int cg_k_int_gemm(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *a = cg_kin(k, 0);
    IgTile t = {.dot = k->target->int8_dot, .cols = ir_attr_int(n, "n"), .float_out = ir_attr_int(n, "float_out") != 0,
                .zp = (int32_t)ir_attr_int(n, "zero_point"), .qmax = (int32_t)ir_attr_int(n, "qmax")};
    /* vpmaddubsw's int16 pair sums are exact only for activations <= 127 */
    if (t.dot == CG_DOT_AVX2 && ir_attr_int(n, "in_qmax") > 127)
        t.dot = CG_DOT_GENERIC;
    t.k = a->shape.d[1].b;
    t.np = ir_ig_padded(t.cols);
    t.v = t.dot == CG_DOT_VNNI512 ? 16 : 8;
    int64_t nvec = t.np / t.v;
    t.nv = nvec % 4 == 0 ? 4 : nvec % 3 == 0 ? 3 : nvec % 2 == 0 ? 2 : 1;
    /* 32 zmm registers hold 4 x 4 accumulators; 16 ymm registers 2 x 4 */
    int mr = t.v == 16 ? 4 : 2;
    int64_t ntiles = nvec / t.nv;
    LLVMValueRef M = cg_dim(k, a->shape.d[0]);
    LLVMValueRef grain = cg_grain(k, cg_mul(k, M, c64(k, 2 * t.k * t.nv * t.v)), CG_PAR_WORK);
    CgPar p;
    cg_par_begin(k, &p, c64(k, ntiles), grain, 0, NULL);
    M = cg_dim(k, a->shape.d[0]);
    CgLoop lb;
    LLVMValueRef tile = cg_loop_begin(k, &lb, p.begin, p.end, 1);
    t.jb = cg_mul(k, tile, c64(k, t.nv));
    cg_tiles(k, c64(k, 0), M, mr, ig_tile, &t);
    cg_loop_end(k, &lb);
    cg_par_end(k, &p);
    return 0;
}
