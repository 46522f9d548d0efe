/* Gemm and MatMul kernels: a blocked, register-tiled micro-kernel with explicit target-width vectors. */
#include <string.h>

#include "codegen/emit.h"

/* ---- register tiles --------------------------------------------------------------------------------
 * Two micro-kernels, chosen by which operand is contiguous:
 *  - outer-product ("bcast") tile when B is contiguous along j: MR rows x NV vectors of W
 *    columns of accumulators; per k, NV vector loads of B's row k and MR broadcasts of A(i,k);
 *  - dot-product tile when both A and B are contiguous along k (B transposed, as Linear layers
 *    store it): MR rows x NC columns of W-lane accumulators along k, summed across lanes at the
 *    end.
 * A tile's column remainder is masked (llvm.masked.load/store), its row remainder runs one row
 * at a time. */

static LLVMValueRef c64(CgKernel *k, int64_t v)
{
    return cg_i64c(k, v);
}

static bool const_is(LLVMValueRef v, int64_t c)
{
    return LLVMIsAConstantInt(v) && LLVMConstIntGetSExtValue(v) == c;
}

/* Outer-product tile for the target (register budget: accumulators + operands <= vector
 * registers). With 32 registers: 8 rows x 3 vectors where N is not known at compile time (the
 * convolutions' blocks are sized for it), else 6 rows x 4 vectors (measured faster than 8 x 3
 * at K = 256 .. 1024 with 128-deep panels) unless 8 x 3 wastes clearly fewer masked columns
 * (N = 48 or 84: one tile of 48 or two, not one or two of 64). */
static void bcast_tile_size(const CgKernel *k, int64_t n, int w, int *mr, int *nv)
{
    if (k->target->num_vector_regs >= 32) {
        *mr = 8;
        *nv = 3;
        if (n > 0 && (n + 3 * w - 1) / (3 * w) * 3 * 19 > (n + 4 * w - 1) / (4 * w) * 4 * 20) {
            *mr = 6;
            *nv = 4;
        }
    } else {
        *mr = 6;
        *nv = 2;
    }
}

/* The tile a GEMM block uses: the caller's choice, else the default for unknown N. */
static void gemm_tile(const CgKernel *k, const CgGemmArgs *g, int w, int *mr, int *nv)
{
    if (g->tile_mr > 0) {
        *mr = g->tile_mr;
        *nv = g->tile_nv;
    } else {
        bcast_tile_size(k, 0, w, mr, nv);
    }
}

static void dot_tile_size(const CgKernel *k, int *mr, int *nc)
{
    if (k->target->num_vector_regs >= 32) {
        *mr = 4;
        *nc = 6;
    } else {
        *mr = 3;
        *nc = 4;
    }
}

/* Element (i, j) offset of a matrix with strides (si, sj). */
static LLVMValueRef off2(CgKernel *k, LLVMValueRef i, LLVMValueRef si, LLVMValueRef j, LLVMValueRef sj)
{
    return cg_add(k, cg_mul(k, i, si), cg_mul(k, j, sj));
}

static LLVMValueRef vfma(CgKernel *k, LLVMValueRef a, LLVMValueRef b, LLVMValueRef c)
{
    return cg_fma(k, a, b, c);
}

/* Epilogue value: alpha*acc + beta*bias [+ old C]. acc/bias/old share one (vector or scalar) type. */
static LLVMValueRef epilogue(CgKernel *k, const CgGemmArgs *g, LLVMValueRef acc, LLVMValueRef bias, LLVMValueRef old)
{
    LLVMTypeRef ty = LLVMTypeOf(acc);
    LLVMValueRef v = g->alpha == 1 ? acc : LLVMBuildFMul(k->b, acc, cg_fconst(ty, g->alpha), "");
    if (bias)
        v = g->beta == 1 ? LLVMBuildFAdd(k->b, v, bias, "") : vfma(k, bias, cg_fconst(ty, g->beta), v);
    if (old)
        v = LLVMBuildFAdd(k->b, old, v, "");
    return v;
}

/* C(i,j) = v at element offset idx of C: into the output through the kernel's store path
 * (final values), or into c (partial sums, or a scratch C). */
static void store_c(CgKernel *k, const CgGemmArgs *g, LLVMValueRef v, LLVMValueRef idx, LLVMValueRef mask)
{
    if (g->final) {
        cg_out_store(k, 0, cg_add(k, g->c_base, idx), v, mask);
        return;
    }
    if (LLVMGetTypeKind(LLVMTypeOf(v)) != LLVMVectorTypeKind)
        cg_store(k, v, g->c, idx, g->align_c);
    else if (mask)
        cg_store_vec_masked(k, v, g->c, idx, g->align_c, mask);
    else
        cg_store_vec(k, v, g->c, idx, g->align_c);
}

/* Outer-product tile at rows [i, i+mr), columns [j, j+nv*w) (masked against j1 if masked). */
static void bcast_tile(CgKernel *k, const CgGemmArgs *g, LLVMValueRef i, LLVMValueRef j, int mr, int nv, int w,
                       bool masked)
{
    LLVMTypeRef vty = cg_t_vec(g->ety, w);
    LLVMValueRef mask[4] = {0};
    for (int v = 0; v < nv && masked; v++)
        mask[v] = cg_lane_mask(k, w, cg_add(k, j, c64(k, (int64_t)v * w)), g->j1);
    LLVMValueRef arow[8];
    for (int r = 0; r < mr; r++)
        arow[r] = cg_mul(k, cg_add(k, i, c64(k, r)), g->sam);
    CgLoop l;
    LLVMValueRef kk = cg_loop_begin(k, &l, c64(k, 0), g->kdim, 1);
    LLVMValueRef acc[8][4];
    for (int r = 0; r < mr; r++)
        for (int v = 0; v < nv; v++)
            acc[r][v] = cg_loop_carry(k, &l, LLVMConstNull(vty));
    LLVMValueRef brow = cg_add(k, cg_mul(k, kk, g->sbk), j);
    LLVMValueRef bv[4];
    for (int v = 0; v < nv; v++) {
        LLVMValueRef idx = cg_add(k, brow, c64(k, (int64_t)v * w));
        bv[v] = masked ? cg_load_vec_masked(k, vty, g->b, idx, g->align_b, mask[v])
                       : cg_load_vec(k, vty, g->b, idx, g->align_b);
    }
    LLVMValueRef ka = cg_mul(k, kk, g->sak);
    for (int r = 0; r < mr; r++) {
        LLVMValueRef a = cg_load(k, g->ety, g->a, cg_add(k, arow[r], ka), g->align_a);
        LLVMValueRef as = cg_splat(k, a, w);
        for (int v = 0; v < nv; v++)
            cg_loop_set(&l, r * nv + v, vfma(k, as, bv[v], acc[r][v]));
    }
    cg_loop_end(k, &l);

    for (int r = 0; r < mr; r++) {
        LLVMValueRef row = cg_add(k, i, c64(k, r));
        for (int v = 0; v < nv; v++) {
            LLVMValueRef col = cg_add(k, j, c64(k, (int64_t)v * w));
            LLVMValueRef bias = NULL, old = NULL;
            if (g->bias) {
                LLVMValueRef base = cg_mul(k, row, g->sbi);
                if (const_is(g->sbjb, 0)) {
                    bias = cg_splat(k, cg_load(k, g->ety, g->bias, base, g->align_bias), w);
                } else if (const_is(g->sbjb, 1)) {
                    LLVMValueRef idx = cg_add(k, base, col);
                    bias = masked ? cg_load_vec_masked(k, vty, g->bias, idx, g->align_bias, mask[v])
                                  : cg_load_vec(k, vty, g->bias, idx, g->align_bias);
                } else {
                    IR_ASSERT(!"bias column stride must be 0 or 1");
                }
            }
            LLVMValueRef cidx = off2(k, row, g->sci, col, g->scj);
            if (g->c_unit_j) {
                if (g->accumulate)
                    old = masked ? cg_load_vec_masked(k, vty, g->c, cidx, g->align_c, mask[v])
                                 : cg_load_vec(k, vty, g->c, cidx, g->align_c);
                LLVMValueRef val = epilogue(k, g, l.phi[r * nv + v], bias, old);
                store_c(k, g, val, cidx, masked ? mask[v] : NULL);
                continue;
            }
            /* strided C (the swapped problem): lane by lane */
            LLVMValueRef val = epilogue(k, g, l.phi[r * nv + v], bias, NULL);
            for (int ln = 0; ln < w; ln++) {
                LLVMValueRef colj = cg_add(k, col, c64(k, ln));
                LLVMValueRef x = LLVMBuildExtractElement(k->b, val, cg_i32c(k, ln), "");
                LLVMValueRef idx = off2(k, row, g->sci, colj, g->scj);
                CgIf c;
                bool guard = masked;
                if (guard)
                    cg_if_begin(k, &c, LLVMBuildICmp(k->b, LLVMIntSLT, colj, g->j1, ""));
                if (g->accumulate)
                    x = LLVMBuildFAdd(k->b, cg_load(k, g->ety, g->c, idx, g->align_c), x, "");
                store_c(k, g, x, idx, NULL);
                if (guard)
                    cg_if_end(k, &c);
            }
        }
    }
}

/* Dot-product tile at rows [i, i+mr), columns [j, j+nc): lanes run along k. */
static void dot_tile(CgKernel *k, const CgGemmArgs *g, LLVMValueRef i, LLVMValueRef j, int mr, int nc, int w)
{
    LLVMTypeRef vty = cg_t_vec(g->ety, w);
    LLVMValueRef arow[8], bcol[8];
    for (int r = 0; r < mr; r++)
        arow[r] = cg_mul(k, cg_add(k, i, c64(k, r)), g->sam);
    for (int c = 0; c < nc; c++)
        bcol[c] = cg_mul(k, cg_add(k, j, c64(k, c)), g->sbj);
    LLVMValueRef kmain = cg_sub(k, g->kdim, LLVMBuildSRem(k->b, g->kdim, c64(k, w), ""));
    LLVMValueRef acc0[8][8];
    LLVMValueRef fin[8][8];
    /* main loop, then the masked tail as a loop of at most one iteration */
    for (int pass = 0; pass < 2; pass++) {
        CgLoop l;
        LLVMValueRef kk = cg_loop_begin(k, &l, pass == 0 ? c64(k, 0) : kmain, pass == 0 ? kmain : g->kdim, w);
        LLVMValueRef mask = pass == 1 ? cg_lane_mask(k, w, kk, g->kdim) : NULL;
        for (int r = 0; r < mr; r++)
            for (int c = 0; c < nc; c++)
                acc0[r][c] = cg_loop_carry(k, &l, pass == 0 ? LLVMConstNull(vty) : fin[r][c]);
        LLVMValueRef av[8];
        for (int r = 0; r < mr; r++) {
            LLVMValueRef idx = cg_add(k, arow[r], kk);
            av[r] = mask ? cg_load_vec_masked(k, vty, g->a, idx, g->align_a, mask)
                         : cg_load_vec(k, vty, g->a, idx, g->align_a);
        }
        for (int c = 0; c < nc; c++) {
            LLVMValueRef idx = cg_add(k, bcol[c], kk);
            LLVMValueRef bv = mask ? cg_load_vec_masked(k, vty, g->b, idx, g->align_b, mask)
                                   : cg_load_vec(k, vty, g->b, idx, g->align_b);
            for (int r = 0; r < mr; r++)
                cg_loop_set(&l, r * nc + c, vfma(k, av[r], bv, acc0[r][c]));
        }
        cg_loop_end(k, &l);
        for (int r = 0; r < mr; r++)
            for (int c = 0; c < nc; c++)
                fin[r][c] = l.phi[r * nc + c];
    }
    for (int r = 0; r < mr; r++) {
        LLVMValueRef row = cg_add(k, i, c64(k, r));
        for (int c = 0; c < nc; c++) {
            LLVMValueRef col = cg_add(k, j, c64(k, c));
            LLVMValueRef s = cg_reduce_fadd(k, fin[r][c]);
            LLVMValueRef bias = g->bias ? cg_load(k, g->ety, g->bias, off2(k, row, g->sbi, col, g->sbjb), g->align_bias)
                                        : NULL;
            LLVMValueRef idx = off2(k, row, g->sci, col, g->scj);
            LLVMValueRef old = g->accumulate ? cg_load(k, g->ety, g->c, idx, g->align_c) : NULL;
            store_c(k, g, epilogue(k, g, s, bias, old), idx, NULL);
        }
    }
}

/* Row tiles of one column tile: cg_tiles over [i0, i1) calling the micro-kernel. */
typedef void (*TileFn)(CgKernel *k, const CgGemmArgs *g, LLVMValueRef i, LLVMValueRef j, int rows, void *ctx);

typedef struct RowCtx {
    const CgGemmArgs *g;
    LLVMValueRef j;
    TileFn fn;
    void *ctx;
} RowCtx;

static void row_tile(CgKernel *k, void *ctx, LLVMValueRef i, int rows)
{
    RowCtx *r = ctx;
    r->fn(k, r->g, i, r->j, rows, r->ctx);
}

static void row_tiles(CgKernel *k, const CgGemmArgs *g, LLVMValueRef j, int mr, TileFn fn, void *ctx)
{
    RowCtx r = {g, j, fn, ctx};
    cg_tiles(k, g->i0, g->i1, mr, row_tile, &r);
}

typedef struct TileCfg {
    int nv, w;             /* bcast: vectors per row and lanes */
    int nc;                /* dot: columns */
    bool masked;
} TileCfg;

static void bcast_fn(CgKernel *k, const CgGemmArgs *g, LLVMValueRef i, LLVMValueRef j, int rows, void *ctx)
{
    const TileCfg *t = ctx;
    bcast_tile(k, g, i, j, rows, t->nv, t->w, t->masked);
}

static void dot_fn(CgKernel *k, const CgGemmArgs *g, LLVMValueRef i, LLVMValueRef j, int rows, void *ctx)
{
    const TileCfg *t = ctx;
    dot_tile(k, g, i, j, rows, t->nc, t->w);
}

/* Rows-outer order of the outer-product tiles: one row tile of `rows` rows at i across all
 * column tiles, the last one masked. */
typedef struct RowSweep {
    const CgGemmArgs *g;
    int nr;
    const TileCfg *full, *part;
} RowSweep;

static void row_sweep(CgKernel *k, void *ctx, LLVMValueRef i, int rows)
{
    const RowSweep *rs = ctx;
    const CgGemmArgs *g = rs->g;
    CgLoop lj;
    LLVMValueRef j = cg_loop_begin(k, &lj, g->j0, cg_sub(k, g->j1, c64(k, rs->nr - 1)), rs->nr);
    bcast_tile(k, g, i, j, rows, rs->full->nv, rs->full->w, false);
    cg_loop_end(k, &lj);
    LLVMValueRef rest = cg_max64(k, lj.i, g->j0);
    CgIf c;
    cg_if_begin(k, &c, LLVMBuildICmp(k->b, LLVMIntSLT, rest, g->j1, ""));
    bcast_tile(k, g, i, rest, rows, rs->part->nv, rs->part->w, true);
    cg_if_end(k, &c);
}

/* Any strides, integers too: scalar loops (integers wrap; alpha and beta whole numbers). */
static void scalar_gemm(CgKernel *k, const CgGemmArgs *g)
{
    bool fp = LLVMGetTypeKind(g->ety) == LLVMFloatTypeKind || LLVMGetTypeKind(g->ety) == LLVMDoubleTypeKind;
    CgLoop li, lj, lk;
    LLVMValueRef i = cg_loop_begin(k, &li, g->i0, g->i1, 1);
    LLVMValueRef j = cg_loop_begin(k, &lj, g->j0, g->j1, 1);
    LLVMValueRef zero = fp ? cg_fconst(g->ety, 0) : cg_iconst(g->ety, 0);
    LLVMValueRef kk = cg_loop_begin(k, &lk, c64(k, 0), g->kdim, 1);
    LLVMValueRef acc = cg_loop_carry(k, &lk, zero);
    LLVMValueRef a = cg_load(k, g->ety, g->a, off2(k, i, g->sam, kk, g->sak), g->align_a);
    LLVMValueRef b = cg_load(k, g->ety, g->b, off2(k, kk, g->sbk, j, g->sbj), g->align_b);
    cg_loop_set(&lk, 0, fp ? vfma(k, a, b, acc) : LLVMBuildAdd(k->b, acc, LLVMBuildMul(k->b, a, b, ""), ""));
    cg_loop_end(k, &lk);
    LLVMValueRef s = lk.phi[0];
    LLVMValueRef idx = off2(k, i, g->sci, j, g->scj);
    LLVMValueRef bias = g->bias ? cg_load(k, g->ety, g->bias, off2(k, i, g->sbi, j, g->sbjb), g->align_bias) : NULL;
    LLVMValueRef old = g->accumulate ? cg_load(k, g->ety, g->c, idx, g->align_c) : NULL;
    LLVMValueRef v;
    if (fp) {
        v = epilogue(k, g, s, bias, old);
    } else {
        v = LLVMBuildMul(k->b, s, cg_iconst(g->ety, (int64_t)g->alpha), "");
        if (bias)
            v = LLVMBuildAdd(k->b, v, LLVMBuildMul(k->b, bias, cg_iconst(g->ety, (int64_t)g->beta), ""), "");
        if (old)
            v = LLVMBuildAdd(k->b, v, old, "");
    }
    store_c(k, g, v, idx, NULL);
    cg_loop_end(k, &lj);
    cg_loop_end(k, &li);
}

void cg_gemm_block(CgKernel *k, const CgGemmArgs *gin)
{
    CgGemmArgs g = *gin;
    bool fp = LLVMGetTypeKind(g.ety) == LLVMFloatTypeKind || LLVMGetTypeKind(g.ety) == LLVMDoubleTypeKind;
    if (!fp) {
        scalar_gemm(k, &g);
        return;
    }
    int w = cg_lanes(k, g.ety);
    if (!g.b_unit_j && !(g.a_unit_k && g.b_unit_k) && const_is(g.sam, 1)) {
        /* C^T = B^T A^T: A's unit stride along i becomes the contiguous j of the swapped B */
        CgGemmArgs s = g;
        s.a = g.b, s.sam = g.sbj, s.sak = g.sbk, s.align_a = g.align_b;
        s.b = g.a, s.sbk = g.sak, s.sbj = g.sam, s.align_b = g.align_a;
        s.sci = g.scj, s.scj = g.sci;
        s.sbi = g.sbjb, s.sbjb = g.sbi;
        s.i0 = g.j0, s.i1 = g.j1, s.j0 = g.i0, s.j1 = g.i1;
        s.b_unit_j = true;
        s.a_unit_k = g.b_unit_k, s.b_unit_k = g.a_unit_k;
        s.c_unit_j = const_is(s.scj, 1);
        s.tile_mr = s.tile_nv = 0; /* the tile was chosen for the other N */
        if (s.bias && !const_is(s.sbjb, 0) && !const_is(s.sbjb, 1)) {
            scalar_gemm(k, &g);
            return;
        }
        g = s;
    }
    if (g.b_unit_j && (!g.bias || const_is(g.sbjb, 0) || const_is(g.sbjb, 1))) {
        int mr, nv;
        gemm_tile(k, &g, w, &mr, &nv);
        int nr = nv * w;
        TileCfg full = {nv, w, 0, false}, part = {nv, w, 0, true};
        if (g.rows_outer) {
            /* each row tile sweeps the columns: its rows of A stay in L1, B (a packed panel)
             * streams from L2 */
            RowSweep rs = {&g, nr, &full, &part};
            cg_tiles(k, g.i0, g.i1, mr, row_sweep, &rs);
            return;
        }
        CgLoop lj;
        LLVMValueRef j = cg_loop_begin(k, &lj, g.j0, cg_sub(k, g.j1, c64(k, nr - 1)), nr);
        row_tiles(k, &g, j, mr, bcast_fn, &full);
        cg_loop_end(k, &lj);
        /* column remainder: one masked tile of nv vectors (columns >= j1 are masked off) */
        LLVMValueRef rest = cg_max64(k, lj.i, g.j0);
        CgIf c;
        cg_if_begin(k, &c, LLVMBuildICmp(k->b, LLVMIntSLT, rest, g.j1, ""));
        row_tiles(k, &g, rest, mr, bcast_fn, &part);
        cg_if_end(k, &c);
        return;
    }
    if (g.a_unit_k && g.b_unit_k) {
        int mr, nc;
        dot_tile_size(k, &mr, &nc);
        TileCfg full = {0, w, nc, false}, one = {0, w, 1, false};
        CgLoop lj;
        LLVMValueRef j = cg_loop_begin(k, &lj, g.j0, cg_sub(k, g.j1, c64(k, nc - 1)), nc);
        row_tiles(k, &g, j, mr, dot_fn, &full);
        cg_loop_end(k, &lj);
        CgLoop lr;
        LLVMValueRef j2 = cg_loop_begin(k, &lr, cg_max64(k, lj.i, g.j0), g.j1, 1);
        row_tiles(k, &g, j2, mr, dot_fn, &one);
        cg_loop_end(k, &lr);
        return;
    }
    scalar_gemm(k, &g);
}

/* ---- tasks: blocks of rows x columns, split across threads --------------------------------------- */

/* Rows and columns per task, and the register tile: a task is one column tile wide and 32 row
 * tiles tall, so the tile's B panel (packed or not) stays in L1 while the rows of A stream past
 * it (wider or shorter tasks measured slower at K = 1024). */
static void block_size(CgKernel *k, LLVMTypeRef ety, LLVMValueRef N, int64_t *mb, int64_t *nb, int *mr, int *nv)
{
    int w = cg_lanes(k, ety);
    bcast_tile_size(k, LLVMIsAConstantInt(N) ? LLVMConstIntGetSExtValue(N) : 0, w, mr, nv);
    *mb = (int64_t)*mr * 32;
    *nb = (int64_t)*nv * w;
}

/* Grain (tasks per chunk) so that a chunk is worth several thread start-ups: a task covers at
 * most mb x nb outputs of K multiply-adds. */
static LLVMValueRef task_grain(CgKernel *k, LLVMValueRef M, LLVMValueRef N, LLVMValueRef K, int64_t mb, int64_t nb)
{
    LLVMValueRef work = cg_mul(k, cg_mul(k, cg_min64(k, M, c64(k, mb)), cg_min64(k, N, c64(k, nb))),
                               cg_mul(k, c64(k, 2), cg_max64(k, K, c64(k, 1))));
    return cg_grain(k, work, 8 * CG_PAR_WORK);
}

/* ---- packed panels of B ---------------------------------------------------------------------------
 * For long K the outer-product tiles would stream B's rows at a stride of N elements (4 KB for
 * N = 1024: every row in the same cache sets). A task then works through K in blocks of KC:
 * it copies B[k0 .. k0+KC, j0 .. j1) into a contiguous stack panel of NB columns, and runs
 * the tiles on it; the first block writes C (with the bias), later blocks add to it, and the
 * last hands the results to the store path. */

#define GEMM_KC 128

static bool want_packed(const CgKernel *k, const CgGemmArgs *g)
{
    LLVMTypeRef ety = g->ety;
    bool fp32 = LLVMGetTypeKind(ety) == LLVMFloatTypeKind;
    if (!fp32 || !g->b_unit_j || (g->a_unit_k && g->b_unit_k))
        return false;
    if (!LLVMIsAConstantInt(g->kdim) || LLVMConstIntGetSExtValue(g->kdim) > 2 * GEMM_KC)
        return true;
    /* rows of B a multiple of 4 KB apart all fall in the same cache sets */
    return LLVMIsAConstantInt(g->sbk) && LLVMConstIntGetSExtValue(g->kdim) >= 64 &&
           (LLVMConstIntGetSExtValue(g->sbk) * 4) % 4096 == 0;
}

/* panel[kk*nb + j] = B(k0 + kk, j0 + j) for kk < kn, j < j1 - j0: whole vectors; plain loads
 * when the block is nb columns wide (all but the last block of a row), else the last columns
 * masked. */
static void pack_rows(CgKernel *k, const CgGemmArgs *g, LLVMValueRef panel, LLVMValueRef k0, LLVMValueRef kn,
                      int64_t nb, LLVMValueRef width)
{
    int w = cg_lanes(k, g->ety);
    LLVMTypeRef vty = cg_t_vec(g->ety, w);
    int nvec = (int)(nb / w);
    LLVMValueRef mask[64];
    IR_ASSERT(nvec <= 64);
    for (int v = 0; v < nvec; v++)
        mask[v] = width ? cg_lane_mask(k, w, c64(k, (int64_t)v * w), width) : NULL;
    CgLoop l;
    LLVMValueRef kk = cg_loop_begin(k, &l, c64(k, 0), kn, 1);
    LLVMValueRef src = cg_add(k, cg_mul(k, cg_add(k, k0, kk), g->sbk), g->j0);
    LLVMValueRef dst = cg_mul(k, kk, c64(k, nb));
    for (int v = 0; v < nvec; v++) {
        LLVMValueRef at = cg_add(k, src, c64(k, (int64_t)v * w));
        LLVMValueRef x = mask[v] ? cg_load_vec_masked(k, vty, g->b, at, g->align_b, mask[v])
                                 : cg_load_vec(k, vty, g->b, at, g->align_b);
        cg_store_vec(k, x, panel, cg_add(k, dst, c64(k, (int64_t)v * w)), 64);
    }
    cg_loop_end(k, &l);
}

static void pack_b(CgKernel *k, const CgGemmArgs *g, LLVMValueRef panel, LLVMValueRef k0, LLVMValueRef kn, int64_t nb)
{
    LLVMValueRef width = cg_sub(k, g->j1, g->j0);
    CgIf c;
    cg_if_begin(k, &c, LLVMBuildICmp(k->b, LLVMIntEQ, width, c64(k, nb), ""));
    pack_rows(k, g, panel, k0, kn, nb, NULL);
    cg_if_else(k, &c);
    pack_rows(k, g, panel, k0, kn, nb, width);
    cg_if_end(k, &c);
}

/* One task's block of C (rows [i0, i1), columns [j0, j1) with j1 - j0 <= nb) through packed
 * panels of B, K in blocks of GEMM_KC. */
static void gemm_packed(CgKernel *k, const CgGemmArgs *g, int64_t nb)
{
    int64_t kc = GEMM_KC;
    LLVMValueRef panel = cg_alloca(k, g->ety, kc * nb);
    CgLoop lk;
    LLVMValueRef k0 = cg_loop_begin(k, &lk, c64(k, 0), g->kdim, kc);
    LLVMValueRef kn = cg_min64(k, c64(k, kc), cg_sub(k, g->kdim, k0));
    pack_b(k, g, panel, k0, kn, nb);
    CgGemmArgs p = *g;
    /* panel - j0, so that column j of the block reads panel[kk*nb + j - j0] */
    LLVMValueRef off = LLVMBuildNeg(k->b, g->j0, "");
    p.b = LLVMBuildGEP2(k->b, g->ety, panel, &off, 1, "");
    p.sbk = c64(k, nb);
    p.align_b = 64;
    p.a = cg_gep(k, g->ety, g->a, cg_mul(k, k0, g->sak));
    p.kdim = kn;
    p.rows_outer = true;
    LLVMValueRef first = LLVMBuildICmp(k->b, LLVMIntEQ, k0, c64(k, 0), "");
    LLVMValueRef last = LLVMBuildICmp(k->b, LLVMIntSGE, cg_add(k, k0, c64(k, kc)), g->kdim, "");
    /* first and last (K fits one block), first only, last only, neither */
    CgIf cf, cl1, cl2;
    cg_if_begin(k, &cf, first);
    {
        cg_if_begin(k, &cl1, last);
        cg_gemm_block(k, &p);
        cg_if_else(k, &cl1);
        CgGemmArgs q = p;
        q.final = false;
        cg_gemm_block(k, &q);
        cg_if_end(k, &cl1);
    }
    cg_if_else(k, &cf);
    {
        CgGemmArgs q = p;
        q.accumulate = true;
        q.bias = NULL;
        cg_if_begin(k, &cl2, last);
        cg_gemm_block(k, &q);
        cg_if_else(k, &cl2);
        q.final = false;
        cg_gemm_block(k, &q);
        cg_if_end(k, &cl2);
    }
    cg_if_end(k, &cf);
    cg_loop_end(k, &lk);
}

/* A task's block: packed for long K when the block has rows enough to pay for the copy (a
 * batch-1 GEMV reads B once either way), else straight. */
static void gemm_task(CgKernel *k, const CgGemmArgs *g, int64_t nb)
{
    if (!want_packed(k, g)) {
        cg_gemm_block(k, g);
        return;
    }
    int mr, nv;
    gemm_tile(k, g, cg_lanes(k, g->ety), &mr, &nv);
    LLVMValueRef rows = cg_sub(k, g->i1, g->i0);
    if (LLVMIsAConstantInt(rows)) {
        if (LLVMConstIntGetSExtValue(rows) >= 2 * mr)
            gemm_packed(k, g, nb);
        else
            cg_gemm_block(k, g);
        return;
    }
    CgIf c;
    cg_if_begin(k, &c, LLVMBuildICmp(k->b, LLVMIntSGE, rows, c64(k, 2 * mr), ""));
    gemm_packed(k, g, nb);
    cg_if_else(k, &c);
    cg_gemm_block(k, g);
    cg_if_end(k, &c);
}

/* ---- Gemm -------------------------------------------------------------------------------------------- */

int cg_k_gemm(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *a = cg_kin(k, 0), *b = cg_kin(k, 1), *c = cg_kin(k, 2), *y = cg_kout(k, 0);
    if (a->dtype != SRT_F32 && a->dtype != SRT_F64 && a->dtype != SRT_I64 && a->dtype != SRT_I32)
        return cg_unsupported(k, "Gemm on %s", srt_dtype_name(a->dtype));
    bool ta = ir_attr_int(n, "transA") != 0, tb = ir_attr_int(n, "transB") != 0;
    LLVMTypeRef ety = cg_t_elem(k, y->dtype);
    int64_t mb, nb;
    int mr, nv;
    LLVMValueRef M = cg_dim(k, y->shape.d[0]), N = cg_dim(k, y->shape.d[1]);
    block_size(k, ety, N, &mb, &nb, &mr, &nv);
    LLVMValueRef K = cg_dim(k, a->shape.d[ta ? 0 : 1]);
    LLVMValueRef mblocks = cg_ceil_div(k, M, c64(k, mb)), nblocks = cg_ceil_div(k, N, c64(k, nb));
    LLVMValueRef tasks = cg_mul(k, mblocks, nblocks);
    LLVMValueRef grain = task_grain(k, M, N, K, mb, nb);
    CgPar p;
    cg_par_begin(k, &p, tasks, grain, 0, NULL);
    M = cg_dim(k, y->shape.d[0]);
    N = cg_dim(k, y->shape.d[1]);
    K = cg_dim(k, a->shape.d[ta ? 0 : 1]);
    nblocks = cg_ceil_div(k, N, c64(k, nb));
    CgLoop lt;
    LLVMValueRef t = cg_loop_begin(k, &lt, p.begin, p.end, 1);
    LLVMValueRef bi = LLVMBuildSDiv(k->b, t, nblocks, ""), bj = LLVMBuildSRem(k->b, t, nblocks, "");
    CgGemmArgs g;
    memset(&g, 0, sizeof g);
    g.ety = ety;
    g.a = k->in[0];
    g.b = k->in[1];
    g.c = cg_out_acc(k, 0);
    g.final = true;
    g.c_base = c64(k, 0);
    g.sam = ta ? c64(k, 1) : K;
    g.sak = ta ? M : c64(k, 1);
    g.sbk = tb ? c64(k, 1) : N;
    g.sbj = tb ? K : c64(k, 1);
    g.sci = N;
    g.scj = c64(k, 1);
    g.b_unit_j = !tb;
    g.a_unit_k = !ta;
    g.b_unit_k = tb;
    g.c_unit_j = true;
    g.i0 = cg_mul(k, bi, c64(k, mb));
    g.i1 = cg_min64(k, cg_add(k, g.i0, c64(k, mb)), M);
    g.j0 = cg_mul(k, bj, c64(k, nb));
    g.j1 = cg_min64(k, cg_add(k, g.j0, c64(k, nb)), N);
    g.kdim = K;
    g.tile_mr = mr;
    g.tile_nv = nv;
    g.alpha = ir_attr_float(n, "alpha");
    g.beta = ir_attr_float(n, "beta");
    g.align_a = cg_align_of(a->dtype);
    g.align_b = cg_align_of(b->dtype);
    g.align_c = cg_align_of(y->dtype);
    if (c && g.beta != 0) {
        /* bias broadcast to [M, N]: strides 0 along broadcast dims */
        const IrShape *cs = &c->shape;
        IrDim cm = cs->rank >= 2 ? cs->d[cs->rank - 2] : ir_dim_const(1);
        IrDim cn = cs->rank >= 1 ? cs->d[cs->rank - 1] : ir_dim_const(1);
        bool bm = cm.a == 0 && cm.b == 1, bn = cn.a == 0 && cn.b == 1;
        g.bias = k->in[2];
        g.sbjb = bn ? c64(k, 0) : c64(k, 1);
        g.sbi = bm ? c64(k, 0) : (bn ? c64(k, 1) : N);
        g.align_bias = cg_align_of(c->dtype);
    }
    gemm_task(k, &g, nb);
    cg_loop_end(k, &lt);
    cg_par_end(k, &p);
    return 0;
}

/* ---- MatMul ------------------------------------------------------------------------------------------ */

int cg_k_matmul(CgKernel *k)
{
    const IrValue *a = cg_kin(k, 0), *b = cg_kin(k, 1), *y = cg_kout(k, 0);
    if (a->dtype != SRT_F32 && a->dtype != SRT_F64 && a->dtype != SRT_I64 && a->dtype != SRT_I32)
        return cg_unsupported(k, "MatMul on %s", srt_dtype_name(a->dtype));
    LLVMTypeRef ety = cg_t_elem(k, y->dtype);
    int ra = a->shape.rank, rb = b->shape.rank, ry = y->shape.rank;
    /* 1-D operands promote: A [K] -> [1,K], B [K] -> [K,1] */
    IrDim Md = ra >= 2 ? a->shape.d[ra - 2] : ir_dim_const(1);
    IrDim Kd = a->shape.d[ra - 1];
    IrDim Nd = rb >= 2 ? b->shape.d[rb - 1] : ir_dim_const(1);
    int br = ry - (ra >= 2) - (rb >= 2);   /* batch dims of Y */
    int bra = ra > 2 ? ra - 2 : 0, brb = rb > 2 ? rb - 2 : 0;
    /* B without batch dims and a contiguous A: fold A's batch into its rows (one big Gemm) */
    bool fold = brb == 0 && rb == 2 && ra >= 2;
    IrDim bdims[IR_MAX_RANK];
    int nbd = 0;
    if (!fold)
        for (int i = 0; i < br; i++)
            bdims[nbd++] = y->shape.d[i];
    LLVMValueRef M = cg_dim(k, Md);
    if (fold)
        M = cg_mul(k, M, cg_dims_prod(k, a->shape.d, 0, bra));
    LLVMValueRef N = cg_dim(k, Nd), K = cg_dim(k, Kd);
    int64_t mb, nb;
    int mr, nv;
    block_size(k, ety, N, &mb, &nb, &mr, &nv);
    LLVMValueRef nbatch = cg_dims_prod(k, bdims, 0, nbd);
    LLVMValueRef mblocks = cg_ceil_div(k, M, c64(k, mb)), nblocks = cg_ceil_div(k, N, c64(k, nb));
    LLVMValueRef tasks = cg_mul(k, nbatch, cg_mul(k, mblocks, nblocks));
    LLVMValueRef grain = task_grain(k, M, N, K, mb, nb);
    CgPar p;
    cg_par_begin(k, &p, tasks, grain, 0, NULL);
    M = cg_dim(k, Md);
    if (fold)
        M = cg_mul(k, M, cg_dims_prod(k, a->shape.d, 0, bra));
    N = cg_dim(k, Nd);
    K = cg_dim(k, Kd);
    mblocks = cg_ceil_div(k, M, c64(k, mb));
    nblocks = cg_ceil_div(k, N, c64(k, nb));
    LLVMValueRef per = cg_mul(k, mblocks, nblocks);
    /* batch strides in matrices: A's and B's batch dims right-aligned with Y's */
    LLVMValueRef size[IR_MAX_RANK], sa[IR_MAX_RANK], sb[IR_MAX_RANK];
    LLVMValueRef acc_a = c64(k, 1), acc_b = c64(k, 1);
    for (int d = nbd - 1; d >= 0; d--) {
        size[d] = cg_dim(k, bdims[d]);
        int da = d - (br - bra), db = d - (br - brb);
        bool ha = da >= 0 && !(a->shape.d[da].a == 0 && a->shape.d[da].b == 1);
        bool hb = db >= 0 && !(b->shape.d[db].a == 0 && b->shape.d[db].b == 1);
        sa[d] = ha ? acc_a : c64(k, 0);
        sb[d] = hb ? acc_b : c64(k, 0);
        if (ha)
            acc_a = cg_mul(k, acc_a, size[d]);
        if (hb)
            acc_b = cg_mul(k, acc_b, size[d]);
    }
    CgLoop lt;
    LLVMValueRef t = cg_loop_begin(k, &lt, p.begin, p.end, 1);
    LLVMValueRef bt = LLVMBuildSDiv(k->b, t, per, ""), rt = LLVMBuildSRem(k->b, t, per, "");
    LLVMValueRef bi = LLVMBuildSDiv(k->b, rt, nblocks, ""), bj = LLVMBuildSRem(k->b, rt, nblocks, "");
    LLVMValueRef aoff = c64(k, 0), boff = c64(k, 0), rem = bt;
    for (int d = nbd - 1; d >= 0; d--) {
        LLVMValueRef idx = d > 0 ? LLVMBuildSRem(k->b, rem, size[d], "") : rem;
        if (d > 0)
            rem = LLVMBuildSDiv(k->b, rem, size[d], "");
        aoff = cg_add(k, aoff, cg_mul(k, idx, sa[d]));
        boff = cg_add(k, boff, cg_mul(k, idx, sb[d]));
    }
    LLVMValueRef amat = cg_mul(k, M, K), bmat = cg_mul(k, K, N), ymat = cg_mul(k, M, N);
    CgGemmArgs g;
    memset(&g, 0, sizeof g);
    g.ety = ety;
    g.a = cg_gep(k, ety, k->in[0], cg_mul(k, aoff, amat));
    g.b = cg_gep(k, ety, k->in[1], cg_mul(k, boff, bmat));
    g.c_base = cg_mul(k, bt, ymat);
    g.c = cg_gep(k, ety, cg_out_acc(k, 0), g.c_base);
    g.final = true;
    g.sam = K;
    g.sak = c64(k, 1);
    g.sbk = N;
    g.sbj = c64(k, 1);
    g.sci = N;
    g.scj = c64(k, 1);
    g.b_unit_j = true;
    g.a_unit_k = true;
    g.c_unit_j = true;
    /* B with one column (a vector): dot products along k are the better tile */
    if (Nd.a == 0 && Nd.b == 1) {
        g.b_unit_j = false;
        g.b_unit_k = true;
    }
    g.i0 = cg_mul(k, bi, c64(k, mb));
    g.i1 = cg_min64(k, cg_add(k, g.i0, c64(k, mb)), M);
    g.j0 = cg_mul(k, bj, c64(k, nb));
    g.j1 = cg_min64(k, cg_add(k, g.j0, c64(k, nb)), N);
    g.kdim = K;
    g.tile_mr = mr;
    g.tile_nv = nv;
    g.alpha = 1;
    g.beta = 1;
    g.align_a = g.align_b = g.align_c = cg_align_of(y->dtype);
    gemm_task(k, &g, nb);
    cg_loop_end(k, &lt);
    cg_par_end(k, &p);
    return 0;
}
