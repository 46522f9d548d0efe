/* Conv (im2col panels packed on the stack feeding the register-tiled Gemm micro-kernel) and ConvTranspose. */
#include <string.h>

#include "codegen/emit.h"

/* INTS attribute with count entries, or def for each when absent or of another length. */
void cg_ints_or(const IrNode *n, const char *name, int count, int64_t def, int64_t *out)
{
    const int64_t *v;
    int c = ir_attr_ints(n, name, &v);
    for (int i = 0; i < count; i++)
        out[i] = c == count ? v[i] : def;
}

bool cg_geom_forward(CgKernel *k, const IrValue *x, const IrValue *y, const IrShape *kernel, bool use_dil, CgGeom *g)
{
    const IrNode *n = k->node;
    memset(g, 0, sizeof *g);
    g->nsp = x->shape.rank - 2;
    if (g->nsp < 1)
        return false;
    for (int i = 0; i < g->nsp; i++) {
        g->in[i] = cg_dim(k, x->shape.d[2 + i]);
        g->out[i] = cg_dim(k, y->shape.d[2 + i]);
        if (kernel) {
            if (kernel->d[2 + i].a != 0)
                return false;
            g->k[i] = kernel->d[2 + i].b;
        }
    }
    if (!kernel)
        cg_ints_or(n, "kernel_shape", g->nsp, 1, g->k);
    cg_ints_or(n, "strides", g->nsp, 1, g->s);
    if (use_dil)
        cg_ints_or(n, "dilations", g->nsp, 1, g->d);
    else
        for (int i = 0; i < g->nsp; i++)
            g->d[i] = 1;
    const char *ap = ir_attr_str(n, "auto_pad");
    int64_t pads[2 * IR_MAX_RANK];
    cg_ints_or(n, "pads", 2 * g->nsp, 0, pads);
    g->taps = 1;
    g->isz = g->osz = cg_i64c(k, 1);
    for (int i = 0; i < g->nsp; i++) {
        int64_t ext = (g->k[i] - 1) * g->d[i] + 1;
        if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
            /* total = max(0, (ceil(in/s) - 1)*s + ext - in) */
            LLVMValueRef outs = cg_ceil_div(k, g->in[i], cg_i64c(k, g->s[i]));
            LLVMValueRef total = cg_sub(k, cg_add(k, cg_mul(k, cg_sub(k, outs, cg_i64c(k, 1)), cg_i64c(k, g->s[i])),
                                                  cg_i64c(k, ext)),
                                        g->in[i]);
            total = cg_max64(k, total, cg_i64c(k, 0));
            LLVMValueRef half = LLVMBuildSDiv(k->b, total, cg_i64c(k, 2), "");
            g->pb[i] = !strcmp(ap, "SAME_UPPER") ? half : cg_sub(k, total, half);
            g->pe[i] = cg_sub(k, total, g->pb[i]);
        } else if (!strcmp(ap, "VALID")) {
            g->pb[i] = g->pe[i] = cg_i64c(k, 0);
        } else {
            g->pb[i] = cg_i64c(k, pads[i]);
            g->pe[i] = cg_i64c(k, pads[g->nsp + i]);
        }
        g->taps *= g->k[i];
        g->isz = cg_mul(k, g->isz, g->in[i]);
        g->osz = cg_mul(k, g->osz, g->out[i]);
    }
    return true;
}

/* ---- Conv ---------------------------------------------------------------------------------------------
 * Per (batch, group, panel of PW output positions): for each block of KC rows of the im2col
 * matrix (input channel x kernel tap), pack the panel [KC][PW] on the stack (zeros in the
 * padding), then run the Gemm micro-kernel Y[m, p] (+)= W[m, kk] * panel[kk, p]. A 1x1 kernel
 * with stride 1 and no padding reads x directly. */

/* 1x1 kernel, stride 1, no padding: the im2col matrix is x itself. */
static bool conv_is_direct(const IrNode *n, const CgGeom *g)
{
    int64_t pads[2 * IR_MAX_RANK];
    cg_ints_or(n, "pads", 2 * g->nsp, 0, pads);
    bool explicit_pads = !strcmp(ir_attr_str(n, "auto_pad"), "NOTSET");
    for (int i = 0; i < g->nsp; i++)
        if (g->k[i] != 1 || g->s[i] != 1 || (explicit_pads && (pads[i] != 0 || pads[g->nsp + i] != 0)))
            return false;
    return true;
}

/* Spatial coordinates of flat index pos over dims (row-major); the first axis is not reduced
 * modulo its size. */
static void unravel(CgKernel *k, LLVMValueRef pos, int nsp, const LLVMValueRef *dims, LLVMValueRef *coord)
{
    for (int i = nsp - 1; i >= 0; i--) {
        coord[i] = i > 0 ? LLVMBuildURem(k->b, pos, dims[i], "") : pos;
        if (i > 0)
            pos = LLVMBuildUDiv(k->b, pos, dims[i], "");
    }
}

/* floor(a / s) for s > 0 */
static LLVMValueRef floor_div(CgKernel *k, LLVMValueRef a, int64_t s)
{
    if (s == 1)
        return a;
    LLVMValueRef neg = LLVMBuildICmp(k->b, LLVMIntSLT, a, cg_i64c(k, 0), "");
    LLVMValueRef adj = LLVMBuildSelect(k->b, neg, cg_sub(k, a, cg_i64c(k, s - 1)), a, "");
    return LLVMBuildSDiv(k->b, adj, cg_i64c(k, s), "");
}

/* One im2col row (input channel at cbase, kernel tap tc) for output positions [p0, p0+count)
 * into dst[dbase ..]. Positions are walked by runs along the last output axis: a run reads a
 * contiguous (stride 1) or strided slice of one input row, with zeros where the window hangs
 * over the padding (the range is computed, not tested per element). */
static void pack_rows(CgKernel *k, const CgGeom *g, LLVMTypeRef ety, LLVMValueRef cbase, const LLVMValueRef *tc,
                      LLVMValueRef p0, LLVMValueRef count, LLVMValueRef dst, LLVMValueRef dbase)
{
    int last = g->nsp - 1;
    unsigned al = LLVMGetTypeKind(ety) == LLVMDoubleTypeKind ? 8 : 4;
    LLVMValueRef W = g->out[last];
    LLVMValueRef p1 = cg_add(k, p0, count);
    LLVMValueRef r0 = LLVMBuildUDiv(k->b, p0, W, "");
    LLVMValueRef r1 = cg_ceil_div(k, p1, W);
    int64_t s = g->s[last];
    LLVMValueRef offw = cg_sub(k, cg_mul(k, tc[last], cg_i64c(k, g->d[last])), g->pb[last]);
    CgLoop lr;
    LLVMValueRef r = cg_loop_begin(k, &lr, r0, r1, 1);
    LLVMValueRef seg0 = cg_max64(k, p0, cg_mul(k, r, W));
    LLVMValueRef seg1 = cg_min64(k, p1, cg_mul(k, cg_add(k, r, cg_i64c(k, 1)), W));
    LLVMValueRef len = cg_sub(k, seg1, seg0);
    LLVMValueRef ow0 = cg_sub(k, seg0, cg_mul(k, r, W));
    LLVMValueRef out0 = cg_add(k, dbase, cg_sub(k, seg0, p0));
    /* the leading spatial axes: one input row (or none, in the padding) */
    LLVMValueRef ok = LLVMConstInt(cg_t_i1(k), 1, 0), rowoff = cg_i64c(k, 0), rem = r;
    LLVMValueRef oc[IR_MAX_RANK];
    for (int i = last - 1; i >= 0; i--) {
        oc[i] = i > 0 ? LLVMBuildURem(k->b, rem, g->out[i], "") : rem;
        if (i > 0)
            rem = LLVMBuildUDiv(k->b, rem, g->out[i], "");
    }
    for (int i = 0; i < last; i++) {
        LLVMValueRef ic = cg_add(k, cg_sub(k, cg_mul(k, oc[i], cg_i64c(k, g->s[i])), g->pb[i]),
                                 cg_mul(k, tc[i], cg_i64c(k, g->d[i])));
        ok = LLVMBuildAnd(k->b, ok, LLVMBuildICmp(k->b, LLVMIntULT, ic, g->in[i], ""), "");
        rowoff = cg_add(k, cg_mul(k, rowoff, g->in[i]), ic);
    }
    rowoff = cg_mul(k, rowoff, g->in[last]);
    /* valid j: 0 <= (ow0 + j)*s + offw < in_w */
    LLVMValueRef jlo = cg_sub(k, floor_div(k, cg_add(k, LLVMBuildNeg(k->b, offw, ""), cg_i64c(k, s - 1)), s), ow0);
    LLVMValueRef jhi = cg_sub(k, floor_div(k, cg_add(k, cg_sub(k, g->in[last], offw), cg_i64c(k, s - 1)), s), ow0);
    jlo = cg_min64(k, cg_max64(k, jlo, cg_i64c(k, 0)), len);
    jhi = cg_min64(k, cg_max64(k, jhi, jlo), len);
    jhi = LLVMBuildSelect(k->b, ok, jhi, jlo, "");   /* a padding row: all zeros */
    LLVMValueRef zero = cg_fconst(ety, 0);
    CgLoop lz;
    LLVMValueRef j = cg_loop_begin(k, &lz, cg_i64c(k, 0), jlo, 1);
    cg_store(k, zero, dst, cg_add(k, out0, j), al);
    cg_loop_end(k, &lz);
    LLVMValueRef src = cg_add(k, cg_add(k, cbase, rowoff), cg_add(k, cg_mul(k, ow0, cg_i64c(k, s)), offw));
    CgLoop lc;
    j = cg_loop_begin(k, &lc, jlo, jhi, 1);
    LLVMValueRef v = cg_load(k, ety, k->in[0], cg_add(k, src, cg_mul(k, j, cg_i64c(k, s))), al);
    cg_store(k, v, dst, cg_add(k, out0, j), al);
    cg_loop_end(k, &lc);
    CgLoop lz2;
    j = cg_loop_begin(k, &lz2, jhi, len, 1);
    cg_store(k, zero, dst, cg_add(k, out0, j), al);
    cg_loop_end(k, &lz2);
    cg_loop_end(k, &lr);
}

/* ---- direct convolution along output rows ----------------------------------------------------------
 * When the last spatial axis has stride 1 or 2 and a row holds at least one full vector, a
 * register tile covers `rows` output channels x NR consecutive output rows x NV*W consecutive
 * positions of each row; for each input channel and (unrolled) kernel tap it reads NR*NV
 * vectors of input rows with masked loads (lanes over the padding or past the row end are off)
 * and broadcasts one weight per output channel, which then feeds NR*NV multiply-adds. No
 * packing, no scratch. */

#define CONV_ROW_MAX_TAPS 49
#define CONV_MAX_NR 4                 /* tile rows: 2 full rows, or 2 pairs of short ones */

typedef struct RowConv {
    const CgGeom *g;
    LLVMTypeRef ety;
    unsigned al, alw;
    int64_t cg, kc;                   /* input channels per group; weights per output channel */
    int64_t wsm, wsc;                 /* weight strides per output and per input channel */
    bool flip;                        /* taps read in reverse (a ConvTranspose's weights) */
    int nv, w, nr;
    bool pair;                        /* rows of n <= w/2 outputs: one vector holds rows 2p, 2p+1 */
    int64_t n;                        /* pair: the row length */
    LLVMValueRef xbase, wbase, ybase; /* x of (batch, group), w of the group, y of (batch, group) */
    LLVMValueRef ow0, P;              /* tile column start; output plane size */
    LLVMValueRef yrow[CONV_MAX_NR];   /* offset of each tile row in the output plane */
    LLVMValueRef rowvalid[CONV_MAX_NR];
    LLVMValueRef rowoff[CONV_ROW_MAX_TAPS][CONV_MAX_NR], rowok[CONV_ROW_MAX_TAPS][CONV_MAX_NR];
    LLVMValueRef bias;                /* bias pointer of the group, or NULL */
} RowConv;

/* Offset of the weight of tile channel r and tap t from the tile's weights of one input channel. */
static int64_t weight_at(const RowConv *rc, int r, int64_t t)
{
    return r * rc->wsm + (rc->flip ? rc->g->taps - 1 - t : t);
}

static void row_conv_tile(CgKernel *k, void *ctx, LLVMValueRef m0, int rows)
{
    RowConv *rc = ctx;
    const CgGeom *g = rc->g;
    int last = g->nsp - 1, nv = rc->nv, w = rc->w, nr = rc->nr;
    LLVMTypeRef vty = cg_t_vec(rc->ety, w);
    /* per tap: input column of lane 0 and the lane masks; with stride s a vector of w outputs
     * spans s*w input columns, read as s contiguous chunks (only every s-th lane on) */
    int64_t st = g->s[last];
    LLVMValueRef coloff[CONV_ROW_MAX_TAPS], cmask[CONV_ROW_MAX_TAPS][4][2], omask[4];
    LLVMValueRef lanes[64];
    for (int l = 0; l < w; l++)
        lanes[l] = cg_i64c(k, l);
    LLVMValueRef lanev = LLVMConstVector(lanes, (unsigned)w);
    for (int v = 0; v < nv; v++)
        omask[v] = cg_lane_mask(k, w, cg_add(k, rc->ow0, cg_i64c(k, (int64_t)v * w)), g->out[last]);
    for (int64_t t = 0; t < g->taps; t++) {
        int64_t tw = t % g->k[last];
        coloff[t] = cg_sub(k, cg_add(k, cg_mul(k, rc->ow0, cg_i64c(k, st)), cg_i64c(k, tw * g->d[last])), g->pb[last]);
        for (int v = 0; v < nv; v++) {
            for (int u = 0; u < st; u++) {
                /* chunk u of vector v: input columns first + q, output lane (u*w + q)/s */
                LLVMValueRef first = cg_add(k, coloff[t], cg_i64c(k, ((int64_t)v * w * st) + (int64_t)u * w));
                LLVMValueRef iw = LLVMBuildAdd(k->b, cg_splat(k, first, w), lanev, "");
                LLVMValueRef m = LLVMBuildICmp(k->b, LLVMIntULT, iw, cg_splat(k, g->in[last], w), "");
                LLVMValueRef oj;
                if (st == 1) {
                    oj = omask[v];
                } else {
                    LLVMValueRef sel[64], ojl[64];
                    for (int q = 0; q < w; q++) {
                        int64_t pos = (int64_t)u * w + q;
                        sel[q] = LLVMConstInt(cg_t_i1(k), pos % st == 0, 0);
                        ojl[q] = cg_i64c(k, (int64_t)v * w + pos / st);
                    }
                    LLVMValueRef outl =
                        LLVMBuildAdd(k->b, cg_splat(k, rc->ow0, w), LLVMConstVector(ojl, (unsigned)w), "");
                    oj = LLVMBuildAnd(k->b, LLVMConstVector(sel, (unsigned)w),
                                      LLVMBuildICmp(k->b, LLVMIntSLT, outl, cg_splat(k, g->out[last], w), ""), "");
                }
                cmask[t][v][u] = LLVMBuildAnd(k->b, m, oj, "");
            }
        }
    }
    /* the masks of each tile row: the column mask and the input row's validity */
    LLVMValueRef mask[CONV_ROW_MAX_TAPS][CONV_MAX_NR][4][2];
    for (int64_t t = 0; t < g->taps; t++)
        for (int q = 0; q < nr; q++)
            for (int v = 0; v < nv; v++)
                for (int u = 0; u < st; u++)
                    mask[t][q][v][u] = LLVMBuildAnd(k->b, cmask[t][v][u], cg_splat(k, rc->rowok[t][q], w), "");
    LLVMValueRef even = NULL;
    if (st == 2) {
        LLVMValueRef idx[64];
        for (int q = 0; q < w; q++)
            idx[q] = cg_i32c(k, 2 * q);
        even = LLVMConstVector(idx, (unsigned)w);
    }
    CgLoop lc;
    LLVMValueRef c = cg_loop_begin(k, &lc, cg_i64c(k, 0), cg_i64c(k, rc->cg), 1);
    LLVMValueRef acc[12][CONV_MAX_NR][4];
    for (int r = 0; r < rows; r++)
        for (int q = 0; q < nr; q++)
            for (int v = 0; v < nv; v++)
                acc[r][q][v] = cg_loop_carry(k, &lc, LLVMConstNull(vty));
    LLVMValueRef xc = cg_add(k, rc->xbase, cg_mul(k, c, g->isz));
    LLVMValueRef wc = cg_add(k, rc->wbase, cg_mul(k, m0, cg_i64c(k, rc->wsm)));
    wc = cg_add(k, wc, cg_mul(k, c, cg_i64c(k, rc->wsc)));
    for (int64_t t = 0; t < g->taps; t++) {
        LLVMValueRef bv[CONV_MAX_NR][4];
        for (int q = 0; q < nr; q++) {
            LLVMValueRef src = cg_add(k, xc, cg_add(k, rc->rowoff[t][q], coloff[t]));
            for (int v = 0; v < nv; v++) {
                LLVMValueRef vsrc = cg_add(k, src, cg_i64c(k, (int64_t)v * w * st));
                if (st == 1) {
                    bv[q][v] = cg_load_vec_masked(k, vty, k->in[0], vsrc, rc->al, mask[t][q][v][0]);
                } else {
                    LLVMValueRef c0 = cg_load_vec_masked(k, vty, k->in[0], vsrc, rc->al, mask[t][q][v][0]);
                    LLVMValueRef c1 = cg_load_vec_masked(k, vty, k->in[0], cg_add(k, vsrc, cg_i64c(k, w)), rc->al,
                                                         mask[t][q][v][1]);
                    bv[q][v] = LLVMBuildShuffleVector(k->b, c0, c1, even, "");
                }
            }
        }
        for (int r = 0; r < rows; r++) {
            LLVMValueRef a = cg_load(k, rc->ety, k->in[1], cg_add(k, wc, cg_i64c(k, weight_at(rc, r, t))), rc->alw);
            LLVMValueRef as = cg_splat(k, a, w);
            for (int q = 0; q < nr; q++)
                for (int v = 0; v < nv; v++)
                    acc[r][q][v] = cg_fma(k, as, bv[q][v], acc[r][q][v]);
        }
    }
    int ci = 0;
    for (int r = 0; r < rows; r++)
        for (int q = 0; q < nr; q++)
            for (int v = 0; v < nv; v++)
                cg_loop_set(&lc, ci++, acc[r][q][v]);
    cg_loop_end(k, &lc);
    ci = 0;
    for (int r = 0; r < rows; r++) {
        LLVMValueRef m = cg_add(k, m0, cg_i64c(k, r));
        LLVMValueRef bias = rc->bias ? cg_splat(k, cg_load(k, rc->ety, rc->bias, m, rc->alw), w) : NULL;
        for (int q = 0; q < nr; q++) {
            LLVMValueRef yrow = cg_add(k, rc->ybase, cg_add(k, cg_mul(k, m, rc->P), cg_add(k, rc->yrow[q], rc->ow0)));
            for (int v = 0; v < nv; v++) {
                LLVMValueRef val = lc.phi[ci++];
                if (bias)
                    val = LLVMBuildFAdd(k->b, val, bias, "");
                LLVMValueRef om = LLVMBuildAnd(k->b, omask[v], cg_splat(k, rc->rowvalid[q], w), "");
                cg_out_store(k, 0, cg_add(k, yrow, cg_i64c(k, (int64_t)v * w)), val, om);
            }
        }
    }
}

/* ---- pairs of short rows ----------------------------------------------------------------------------
 * Rows of n <= w/2 outputs would leave most of a vector idle. Two consecutive output rows are
 * adjacent in the plane, so one vector holds both: lanes [0, n) row 2p, [n, 2n) row 2p+1 of the
 * tile. Each half is one masked load of its input row (n columns, or 2n with stride 2), and one
 * shuffle joins the halves (stride 2: their even lanes). The tile is `rows` output channels x
 * nr/2 pairs; the store writes the 2n lanes as one contiguous span. */
static void pair_conv_tile(CgKernel *k, void *ctx, LLVMValueRef m0, int rows)
{
    RowConv *rc = ctx;
    const CgGeom *g = rc->g;
    int last = g->nsp - 1, w = rc->w, np = rc->nr / 2;
    int64_t n = rc->n, st = g->s[last];
    LLVMTypeRef vty = cg_t_vec(rc->ety, w);
    LLVMValueRef lanes[64], join[64], lo[64], hi[64];
    for (int l = 0; l < w; l++) {
        lanes[l] = cg_i64c(k, l);
        /* lanes past 2n take lane 0 of the first half: computed, never stored */
        join[l] = cg_i32c(k, l < n ? (int)(l * st) : l < 2 * n ? w + (int)((l - n) * st) : 0);
        lo[l] = LLVMConstInt(cg_t_i1(k), l < n, 0);
        hi[l] = LLVMConstInt(cg_t_i1(k), l >= n && l < 2 * n, 0);
    }
    LLVMValueRef lanev = LLVMConstVector(lanes, (unsigned)w), joinv = LLVMConstVector(join, (unsigned)w);
    /* per tap: the input column of lane 0 and the lanes a half reads (within the row's span
     * and the input row) */
    LLVMValueRef coloff[CONV_ROW_MAX_TAPS], mask[CONV_ROW_MAX_TAPS][CONV_MAX_NR];
    LLVMValueRef span = cg_lane_mask(k, w, cg_i64c(k, 0), cg_i64c(k, n * st));
    for (int64_t t = 0; t < g->taps; t++) {
        int64_t tw = t % g->k[last];
        coloff[t] = cg_sub(k, cg_i64c(k, tw * g->d[last]), g->pb[last]);
        LLVMValueRef iw = LLVMBuildAdd(k->b, cg_splat(k, coloff[t], w), lanev, "");
        LLVMValueRef m = LLVMBuildICmp(k->b, LLVMIntULT, iw, cg_splat(k, g->in[last], w), "");
        m = LLVMBuildAnd(k->b, m, span, "");
        for (int q = 0; q < rc->nr; q++)
            mask[t][q] = LLVMBuildAnd(k->b, m, cg_splat(k, rc->rowok[t][q], w), "");
    }
    CgLoop lc;
    LLVMValueRef c = cg_loop_begin(k, &lc, cg_i64c(k, 0), cg_i64c(k, rc->cg), 1);
    LLVMValueRef acc[12][CONV_MAX_NR / 2];
    for (int r = 0; r < rows; r++)
        for (int p = 0; p < np; p++)
            acc[r][p] = cg_loop_carry(k, &lc, LLVMConstNull(vty));
    LLVMValueRef xc = cg_add(k, rc->xbase, cg_mul(k, c, g->isz));
    LLVMValueRef wc = cg_add(k, rc->wbase, cg_mul(k, m0, cg_i64c(k, rc->wsm)));
    wc = cg_add(k, wc, cg_mul(k, c, cg_i64c(k, rc->wsc)));
    for (int64_t t = 0; t < g->taps; t++) {
        LLVMValueRef bv[CONV_MAX_NR / 2];
        for (int p = 0; p < np; p++) {
            LLVMValueRef half[2];
            for (int h = 0; h < 2; h++) {
                LLVMValueRef src = cg_add(k, xc, cg_add(k, rc->rowoff[t][2 * p + h], coloff[t]));
                half[h] = cg_load_vec_masked(k, vty, k->in[0], src, rc->al, mask[t][2 * p + h]);
            }
            bv[p] = LLVMBuildShuffleVector(k->b, half[0], half[1], joinv, "");
        }
        for (int r = 0; r < rows; r++) {
            LLVMValueRef a = cg_load(k, rc->ety, k->in[1], cg_add(k, wc, cg_i64c(k, weight_at(rc, r, t))), rc->alw);
            LLVMValueRef as = cg_splat(k, a, w);
            for (int p = 0; p < np; p++)
                acc[r][p] = cg_fma(k, as, bv[p], acc[r][p]);
        }
    }
    int ci = 0;
    for (int r = 0; r < rows; r++)
        for (int p = 0; p < np; p++)
            cg_loop_set(&lc, ci++, acc[r][p]);
    cg_loop_end(k, &lc);
    LLVMValueRef lov = LLVMConstVector(lo, (unsigned)w), hiv = LLVMConstVector(hi, (unsigned)w);
    LLVMValueRef smask[CONV_MAX_NR / 2];
    for (int p = 0; p < np; p++)
        smask[p] = LLVMBuildOr(k->b, LLVMBuildAnd(k->b, lov, cg_splat(k, rc->rowvalid[2 * p], w), ""),
                               LLVMBuildAnd(k->b, hiv, cg_splat(k, rc->rowvalid[2 * p + 1], w), ""), "");
    ci = 0;
    for (int r = 0; r < rows; r++) {
        LLVMValueRef m = cg_add(k, m0, cg_i64c(k, r));
        LLVMValueRef bias = rc->bias ? cg_splat(k, cg_load(k, rc->ety, rc->bias, m, rc->alw), w) : NULL;
        for (int p = 0; p < np; p++) {
            /* row 2p of the tile, unclamped: when it is past the plane, both halves are off */
            LLVMValueRef yrow = cg_add(k, rc->ybase, cg_add(k, cg_mul(k, m, rc->P), rc->yrow[2 * p]));
            LLVMValueRef val = lc.phi[ci++];
            if (bias)
                val = LLVMBuildFAdd(k->b, val, bias, "");
            cg_out_store(k, 0, yrow, val, smask[p]);
        }
    }
}

/* Tile shape of the row convolution: nv vectors along the row (fewer for short rows), nr rows
 * when one vector covers a row and the registers allow, and as many output channels as fit.
 * Pairs of short rows: nr = 2 pairs (4 rows) with 32 registers, else 1 pair. */
static void row_conv_shape(const CgKernel *k, const CgGeom *g, LLVMTypeRef ety, bool pair, int *nv, int *w, int *nr,
                           int *mr)
{
    *w = cg_lanes(k, ety);
    if (pair) {
        int np = k->target->num_vector_regs >= 32 ? 2 : 1;
        int m = (k->target->num_vector_regs - np - 3) / np;
        *nv = 1;
        *nr = 2 * np;
        *mr = m > 12 ? 12 : m < 1 ? 1 : m;
        return;
    }
    int maxv = k->target->num_vector_regs >= 32 ? 3 : 2;
    *nv = maxv;
    LLVMValueRef ow = g->out[g->nsp - 1];
    if (LLVMIsAConstantInt(ow)) {
        int64_t need = (LLVMConstIntGetSExtValue(ow) + *w - 1) / *w;
        if (need < *nv)
            *nv = need < 1 ? 1 : (int)need;
    }
    *nr = g->nsp >= 2 && *nv == 1 && k->target->num_vector_regs >= 32 ? 2 : 1;
    int per = *nv * *nr;
    int m = (k->target->num_vector_regs - per - 2) / per;
    *mr = m > 12 ? 12 : m < 1 ? 1 : m;
}

/* Rows of at most half a vector that fill most of it in pairs (and a plane of more than one row). */
static bool conv_pairs_ok(const CgKernel *k, const CgGeom *g, LLVMTypeRef ety)
{
    int last = g->nsp - 1;
    LLVMValueRef ow = g->out[last];
    int64_t lanes = cg_lanes(k, ety), n = LLVMIsAConstantInt(ow) ? LLVMConstIntGetSExtValue(ow) : 0;
    return g->nsp >= 2 && n > 0 && 2 * n <= lanes && 2 * n * 5 >= lanes * 3 && (g->s[last] == 1 || g->s[last] == 2) &&
           g->taps <= CONV_ROW_MAX_TAPS;
}

/* The row kernel needs stride 1 or 2 along the row, few enough taps to unroll, and rows of at
 * least one full vector (shorter rows waste lanes: the packed kernel does better), or rows
 * that pair up. */
static bool conv_rows_ok(const CgKernel *k, const CgGeom *g, LLVMTypeRef ety)
{
    int last = g->nsp - 1;
    LLVMValueRef ow = g->out[last];
    /* a row leaving most of a vector masked off is run in pairs (conv_pairs_ok) or by the
     * packed kernel (measured on 16 lanes, one row per vector: rows of 8 slower than packed,
     * rows of 10 twice as fast) */
    int64_t lanes = cg_lanes(k, ety), n = LLVMIsAConstantInt(ow) ? LLVMConstIntGetSExtValue(ow) : 0;
    bool wide = n == 0 || n >= lanes || n * 5 >= lanes * 3;
    return ((g->s[last] == 1 || g->s[last] == 2) && g->taps <= CONV_ROW_MAX_TAPS && wide) || conv_pairs_ok(k, g, ety);
}

static void convt_pads(CgKernel *k, CgGeom *g);

/* The geometry the row kernels run: a Conv's, or for a ConvTranspose with stride 1 the Conv
 * over its input with the kernel flipped: y[o] = sum_t x[o + pb - t*d] w[t] reads, with
 * t' = K-1-t, x[o - (ext-1-pb) + t'*d], so the begin pad becomes ext-1-pb (the row kernels
 * mask reads outside the input, and never use the end pads). */
static void row_geom(CgKernel *k, const IrValue *x, const IrValue *y, const IrValue *w, bool transposed, CgGeom *gm)
{
    cg_geom_forward(k, x, y, &w->shape, true, gm);
    if (!transposed)
        return;
    convt_pads(k, gm);
    for (int i = 0; i < gm->nsp; i++)
        gm->pb[i] = cg_sub(k, cg_i64c(k, (gm->k[i] - 1) * gm->d[i]), gm->pb[i]);
}

/* transposed: a ConvTranspose of stride 1 (weights [C, M/group, taps], read flipped) */
static void conv_rows(CgKernel *k, const IrValue *x, const IrValue *w, const IrValue *bias, const IrValue *y,
                      int64_t group, bool transposed)
{
    CgGeom gm;
    row_geom(k, x, y, w, transposed, &gm);
    int64_t C = x->shape.d[1].b, M = y->shape.d[1].b, cg = C / group, mg = M / group;
    int last = gm.nsp - 1;
    RowConv rc;
    memset(&rc, 0, sizeof rc);
    rc.ety = cg_t_elem(k, x->dtype);
    rc.pair = conv_pairs_ok(k, &gm, rc.ety);
    rc.n = rc.pair ? LLVMConstIntGetSExtValue(gm.out[last]) : 0;
    int mr;
    row_conv_shape(k, &gm, rc.ety, rc.pair, &rc.nv, &rc.w, &rc.nr, &mr);
    int nr = rc.nr;
    LLVMValueRef rows = cg_i64c(k, 1);
    for (int i = 0; i < last; i++)
        rows = cg_mul(k, rows, gm.out[i]);
    /* tasks: (batch, group, block of nr output rows); rows of several leading axes are
     * consecutive in the plane, so a block may span them */
    LLVMValueRef blocks = cg_ceil_div(k, rows, cg_i64c(k, nr));
    LLVMValueRef tasks = cg_mul(k, cg_mul(k, cg_dim(k, x->shape.d[0]), cg_i64c(k, group)), blocks);
    LLVMValueRef work = cg_mul(k, gm.out[last], cg_i64c(k, 2 * mg * cg * gm.taps * nr));
    LLVMValueRef grain = cg_grain(k, work, 8 * CG_PAR_WORK);
    CgPar p;
    cg_par_begin(k, &p, tasks, grain, 0, NULL);
    row_geom(k, x, y, w, transposed, &gm);
    rc.g = &gm;
    rc.al = cg_align_of(x->dtype);
    rc.alw = cg_align_of(w->dtype);
    rc.cg = cg;
    rc.kc = cg * gm.taps;
    rc.wsm = transposed ? gm.taps : rc.kc;
    rc.wsc = transposed ? mg * gm.taps : gm.taps;
    rc.flip = transposed;
    rc.P = gm.osz;
    rows = cg_i64c(k, 1);
    for (int i = 0; i < last; i++)
        rows = cg_mul(k, rows, gm.out[i]);
    blocks = cg_ceil_div(k, rows, cg_i64c(k, nr));
    CgLoop lt;
    LLVMValueRef t = cg_loop_begin(k, &lt, p.begin, p.end, 1);
    LLVMValueRef r0 = cg_mul(k, LLVMBuildURem(k->b, t, blocks, ""), cg_i64c(k, nr));
    LLVMValueRef bg = LLVMBuildUDiv(k->b, t, blocks, "");   /* batch * group + g */
    LLVMValueRef b = LLVMBuildUDiv(k->b, bg, cg_i64c(k, group), "");
    LLVMValueRef gi = LLVMBuildURem(k->b, bg, cg_i64c(k, group), "");
    rc.xbase = cg_mul(k, cg_add(k, cg_mul(k, b, cg_i64c(k, C)), cg_mul(k, gi, cg_i64c(k, cg))), gm.isz);
    rc.wbase = cg_mul(k, gi, cg_i64c(k, mg * rc.kc));
    rc.ybase = cg_mul(k, cg_add(k, cg_mul(k, b, cg_i64c(k, M)), cg_mul(k, gi, cg_i64c(k, mg))), rc.P);
    if (bias)
        rc.bias = cg_gep(k, rc.ety, k->in[2], cg_mul(k, gi, cg_i64c(k, mg)));
    for (int q = 0; q < nr; q++) {
        /* tile row q: output row r (clamped to the last one; its stores are masked off) */
        LLVMValueRef rq = cg_add(k, r0, cg_i64c(k, q));
        rc.rowvalid[q] = LLVMBuildICmp(k->b, LLVMIntSLT, rq, rows, "");
        LLVMValueRef r = cg_min64(k, rq, cg_sub(k, rows, cg_i64c(k, 1)));
        rc.yrow[q] = cg_mul(k, r, gm.out[last]);
        /* leading output coordinates of row r, then each tap's input row (offset, validity) */
        LLVMValueRef oc[IR_MAX_RANK], rem = r;
        for (int i = last - 1; i >= 0; i--) {
            oc[i] = i > 0 ? LLVMBuildURem(k->b, rem, gm.out[i], "") : rem;
            if (i > 0)
                rem = LLVMBuildUDiv(k->b, rem, gm.out[i], "");
        }
        for (int64_t tap = 0; tap < gm.taps; tap++) {
            int64_t tc[IR_MAX_RANK], qq = tap;
            for (int i = last; i >= 0; i--) {
                tc[i] = qq % gm.k[i];
                qq /= gm.k[i];
            }
            LLVMValueRef ok = rc.rowvalid[q], off = cg_i64c(k, 0);
            for (int i = 0; i < last; i++) {
                LLVMValueRef ic = cg_add(k, cg_sub(k, cg_mul(k, oc[i], cg_i64c(k, gm.s[i])), gm.pb[i]),
                                         cg_i64c(k, tc[i] * gm.d[i]));
                ok = LLVMBuildAnd(k->b, ok, LLVMBuildICmp(k->b, LLVMIntULT, ic, gm.in[i], ""), "");
                off = cg_add(k, cg_mul(k, off, gm.in[i]), ic);
            }
            rc.rowoff[tap][q] = cg_mul(k, off, gm.in[last]);
            rc.rowok[tap][q] = ok;
        }
    }
    CgLoop lw;
    rc.ow0 = cg_loop_begin(k, &lw, cg_i64c(k, 0), gm.out[last], (int64_t)rc.nv * rc.w);
    cg_tiles(k, cg_i64c(k, 0), cg_i64c(k, mg), mr, rc.pair ? pair_conv_tile : row_conv_tile, &rc);
    cg_loop_end(k, &lw);
    cg_loop_end(k, &lt);
    cg_par_end(k, &p);
}

int cg_k_conv(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *x = cg_kin(k, 0), *w = cg_kin(k, 1), *bias = cg_kin(k, 2), *y = cg_kout(k, 0);
    if (x->dtype != SRT_F32 && x->dtype != SRT_F64)
        return cg_unsupported(k, "Conv on %s", srt_dtype_name(x->dtype));
    if (x->shape.d[1].a != 0 || y->shape.d[1].a != 0)
        return cg_unsupported(k, "Conv with a channel count that depends on N");
    CgGeom gm;
    if (!cg_geom_forward(k, x, y, &w->shape, true, &gm))
        return cg_unsupported(k, "Conv with a kernel size that depends on N");
    int64_t group = ir_attr_int(n, "group");
    int64_t C = x->shape.d[1].b, M = y->shape.d[1].b, cg = C / group, mg = M / group;
    int64_t kc_total = cg * gm.taps;
    LLVMTypeRef ety = cg_t_elem(k, x->dtype);
    size_t esz = srt_dtype_size(x->dtype);
    unsigned al = cg_align_of(x->dtype);
    bool direct = conv_is_direct(n, &gm);
    if (!direct && conv_rows_ok(k, &gm, ety)) {
        conv_rows(k, x, w, bias, y, group, false);
        return 0;
    }
    /* panel: PW positions (whole register tiles) x KC rows, at most ~64 KB on the stack */
    int64_t nr = (int64_t)(k->target->num_vector_regs >= 32 ? 3 : 2) * cg_lanes(k, ety);
    int64_t pw = direct ? nr * 8 : nr * 2;
    int64_t kcb = direct ? kc_total : (int64_t)(65536 / esz) / pw;
    if (kcb < 8)
        kcb = 8;
    if (kcb > kc_total)
        kcb = kc_total > 0 ? kc_total : 1;

    LLVMValueRef npanels = cg_ceil_div(k, gm.osz, cg_i64c(k, pw));
    LLVMValueRef per_batch = cg_mul(k, cg_i64c(k, group), npanels);
    LLVMValueRef tasks = cg_mul(k, cg_dim(k, x->shape.d[0]), per_batch);
    int64_t work = 2 * mg * kc_total * pw;
    int64_t grain = 8 * CG_PAR_WORK / (work > 0 ? work : 1) + 1;
    CgPar p;
    cg_par_begin(k, &p, tasks, cg_i64c(k, grain), 0, NULL);
    cg_geom_forward(k, x, y, &w->shape, true, &gm);
    LLVMValueRef P = gm.osz;
    npanels = cg_ceil_div(k, P, cg_i64c(k, pw));
    per_batch = cg_mul(k, cg_i64c(k, group), npanels);
    LLVMValueRef panel = direct ? NULL : cg_alloca(k, ety, kcb * pw);
    CgLoop lt;
    LLVMValueRef t = cg_loop_begin(k, &lt, p.begin, p.end, 1);
    LLVMValueRef b = LLVMBuildUDiv(k->b, t, per_batch, "");
    LLVMValueRef rest = LLVMBuildURem(k->b, t, per_batch, "");
    LLVMValueRef gi = LLVMBuildUDiv(k->b, rest, npanels, "");
    LLVMValueRef pi = LLVMBuildURem(k->b, rest, npanels, "");
    LLVMValueRef p0 = cg_mul(k, pi, cg_i64c(k, pw));
    LLVMValueRef pcount = cg_min64(k, cg_i64c(k, pw), cg_sub(k, P, p0));
    /* x of this batch and group: [cg][isz]; y rows of this group: [mg][P] from p0 */
    LLVMValueRef xbase = cg_mul(k, cg_add(k, cg_mul(k, b, cg_i64c(k, C)), cg_mul(k, gi, cg_i64c(k, cg))), gm.isz);
    LLVMValueRef ychan = cg_add(k, cg_mul(k, b, cg_i64c(k, M)), cg_mul(k, gi, cg_i64c(k, mg)));
    LLVMValueRef ybase = cg_add(k, cg_mul(k, ychan, P), p0);
    LLVMValueRef wbase = cg_mul(k, gi, cg_i64c(k, mg * kc_total));

    CgGemmArgs ga;
    memset(&ga, 0, sizeof ga);
    ga.ety = ety;
    ga.sam = cg_i64c(k, kc_total);
    ga.sak = cg_i64c(k, 1);
    ga.sbj = cg_i64c(k, 1);
    ga.sci = P;
    ga.scj = cg_i64c(k, 1);
    ga.b_unit_j = true;
    ga.a_unit_k = true;
    ga.c_unit_j = true;
    ga.c = cg_gep(k, ety, cg_out_acc(k, 0), ybase);
    ga.c_base = ybase;
    ga.i0 = cg_i64c(k, 0);
    ga.i1 = cg_i64c(k, mg);
    ga.j0 = cg_i64c(k, 0);
    ga.j1 = pcount;
    ga.alpha = 1;
    ga.beta = 1;
    ga.align_a = cg_align_of(w->dtype);
    ga.align_c = cg_align_of(y->dtype);
    if (bias) {
        ga.bias = cg_gep(k, ety, k->in[2], cg_mul(k, gi, cg_i64c(k, mg)));
        ga.sbi = cg_i64c(k, 1);
        ga.sbjb = cg_i64c(k, 0);
        ga.align_bias = cg_align_of(bias->dtype);
    }

    if (direct) {
        ga.a = cg_gep(k, ety, k->in[1], wbase);
        ga.b = cg_gep(k, ety, k->in[0], cg_add(k, xbase, p0));
        ga.sbk = gm.isz;
        ga.kdim = cg_i64c(k, kc_total);
        ga.align_b = al;
        ga.final = true;
        cg_gemm_block(k, &ga);
    } else {
        /* k blocks: the first one writes (with the bias), later ones accumulate */
        CgLoop lk;
        LLVMValueRef k0 = cg_loop_begin(k, &lk, cg_i64c(k, 0), cg_i64c(k, kc_total), kcb);
        LLVMValueRef kn = cg_min64(k, cg_i64c(k, kcb), cg_sub(k, cg_i64c(k, kc_total), k0));
        /* pack: panel[kk][j] = x[c, out(p0+j)*s - pb + tap*d], or 0 in the padding */
        CgLoop lkk;
        LLVMValueRef kk = cg_loop_begin(k, &lkk, cg_i64c(k, 0), kn, 1);
        LLVMValueRef row = cg_add(k, k0, kk);
        LLVMValueRef c = LLVMBuildUDiv(k->b, row, cg_i64c(k, gm.taps), "");
        LLVMValueRef kdims[IR_MAX_RANK] = {0}, tc[IR_MAX_RANK];
        for (int i = 0; i < gm.nsp; i++)
            kdims[i] = cg_i64c(k, gm.k[i]);
        unravel(k, LLVMBuildURem(k->b, row, cg_i64c(k, gm.taps), ""), gm.nsp, kdims, tc);
        pack_rows(k, &gm, ety, cg_add(k, xbase, cg_mul(k, c, gm.isz)), tc, p0, pcount, panel,
                  cg_mul(k, kk, cg_i64c(k, pw)));
        cg_loop_end(k, &lkk);

        ga.a = cg_gep(k, ety, k->in[1], cg_add(k, wbase, k0));
        ga.b = panel;
        ga.sbk = cg_i64c(k, pw);
        ga.kdim = kn;
        ga.align_b = (unsigned)esz;
        if (kcb >= kc_total) {
            ga.final = true;
            cg_gemm_block(k, &ga);
        } else {
            /* the first block writes partial sums (with the bias), the middle ones add to them,
             * the last one adds and hands the results to the store path */
            CgIf first, last;
            cg_if_begin(k, &first, LLVMBuildICmp(k->b, LLVMIntEQ, k0, cg_i64c(k, 0), ""));
            cg_gemm_block(k, &ga);
            cg_if_else(k, &first);
            CgGemmArgs acc = ga;
            acc.accumulate = true;
            acc.bias = NULL;
            cg_if_begin(k, &last, LLVMBuildICmp(k->b, LLVMIntSGE, cg_add(k, k0, cg_i64c(k, kcb)),
                                                cg_i64c(k, kc_total), ""));
            acc.final = true;
            cg_gemm_block(k, &acc);
            cg_if_else(k, &last);
            acc.final = false;
            cg_gemm_block(k, &acc);
            cg_if_end(k, &last);
            cg_if_end(k, &first);
        }
        cg_loop_end(k, &lk);
    }
    cg_loop_end(k, &lt);
    cg_par_end(k, &p);
    return 0;
}

/* ---- ConvTranspose ------------------------------------------------------------------------------------
 * Scatter form through the Gemm micro-kernel (col2im): per (batch, group), y is first set to the
 * bias (or 0); then for each panel of PW input positions and block of RB rows (output channel m,
 * kernel tap t) the Gemm writes col[(m,t), p] = sum over the group's input channels c of
 * w[c, m, t] * x[b, c, p] into a stack panel, and every col element is added to
 * y[b, m, p*s - pb + t*d] when that lies inside the output (runs along the last input axis,
 * the valid range computed, not tested per element). Any stride, dilation, group, padding and
 * output_padding / output_shape work the same way. */

/* Begin pads of ConvTranspose: derived from output_shape / SAME_* (total padding
 * s*(in-1) + output_padding + extent - out, the odd unit at the end for SAME_UPPER and at the
 * beginning otherwise; halves floored, as ref_ConvTranspose), else the explicit pads (none for
 * VALID). */
static void convt_pads(CgKernel *k, CgGeom *g)
{
    const IrNode *n = k->node;
    const char *ap = ir_attr_str(n, "auto_pad");
    const int64_t *oshape;
    bool derived = ir_attr_ints(n, "output_shape", &oshape) >= 0 || !strncmp(ap, "SAME_", 5);
    int64_t opad[IR_MAX_RANK], pads[2 * IR_MAX_RANK];
    cg_ints_or(n, "output_padding", g->nsp, 0, opad);
    cg_ints_or(n, "pads", 2 * g->nsp, 0, pads);
    for (int i = 0; i < g->nsp; i++) {
        if (derived) {
            int64_t ext = (g->k[i] - 1) * g->d[i] + 1;
            LLVMValueRef total = cg_sub(k, cg_add(k, cg_mul(k, cg_i64c(k, g->s[i]), cg_sub(k, g->in[i], cg_i64c(k, 1))),
                                                  cg_i64c(k, opad[i] + ext)),
                                        g->out[i]);
            LLVMValueRef half = LLVMBuildAShr(k->b, total, cg_i64c(k, 1), ""); /* floor(total / 2) */
            g->pb[i] = !strcmp(ap, "SAME_UPPER") ? half : cg_sub(k, total, half);
        } else {
            g->pb[i] = cg_i64c(k, !strcmp(ap, "VALID") ? 0 : pads[i]);
        }
    }
}

/* y[ybase + m*osz + out(p, t)] += panel[kk*pw + p - p0] for the panel row kk (channel m, tap
 * coordinates tc) and input positions p in [p0, p0 + count). */
static void convt_scatter_row(CgKernel *k, const CgGeom *g, LLVMTypeRef ety, unsigned aly, LLVMValueRef ym,
                              const LLVMValueRef *tc, LLVMValueRef p0, LLVMValueRef count, LLVMValueRef panel,
                              LLVMValueRef pbase)
{
    int last = g->nsp - 1;
    unsigned al = LLVMGetTypeKind(ety) == LLVMDoubleTypeKind ? 8 : 4;
    LLVMValueRef W = g->in[last];
    LLVMValueRef p1 = cg_add(k, p0, count);
    LLVMValueRef r0 = LLVMBuildUDiv(k->b, p0, W, "");
    LLVMValueRef r1 = cg_ceil_div(k, p1, W);
    int64_t s = g->s[last];
    LLVMValueRef offw = cg_sub(k, cg_mul(k, tc[last], cg_i64c(k, g->d[last])), g->pb[last]);
    CgLoop lr;
    LLVMValueRef r = cg_loop_begin(k, &lr, r0, r1, 1);
    LLVMValueRef seg0 = cg_max64(k, p0, cg_mul(k, r, W));
    LLVMValueRef seg1 = cg_min64(k, p1, cg_mul(k, cg_add(k, r, cg_i64c(k, 1)), W));
    LLVMValueRef len = cg_sub(k, seg1, seg0);
    LLVMValueRef iw0 = cg_sub(k, seg0, cg_mul(k, r, W));
    LLVMValueRef src0 = cg_add(k, pbase, cg_sub(k, seg0, p0));
    /* the leading spatial axes: one output row (or none, outside the output) */
    LLVMValueRef ok = LLVMConstInt(cg_t_i1(k), 1, 0), rowoff = cg_i64c(k, 0), rem = r;
    LLVMValueRef ic[IR_MAX_RANK];
    for (int i = last - 1; i >= 0; i--) {
        ic[i] = i > 0 ? LLVMBuildURem(k->b, rem, g->in[i], "") : rem;
        if (i > 0)
            rem = LLVMBuildUDiv(k->b, rem, g->in[i], "");
    }
    for (int i = 0; i < last; i++) {
        LLVMValueRef oc = cg_add(k, cg_sub(k, cg_mul(k, ic[i], cg_i64c(k, g->s[i])), g->pb[i]),
                                 cg_mul(k, tc[i], cg_i64c(k, g->d[i])));
        ok = LLVMBuildAnd(k->b, ok, LLVMBuildICmp(k->b, LLVMIntULT, oc, g->out[i], ""), "");
        rowoff = cg_add(k, cg_mul(k, rowoff, g->out[i]), oc);
    }
    rowoff = cg_mul(k, rowoff, g->out[last]);
    /* valid j: 0 <= (iw0 + j)*s + offw < out_w */
    LLVMValueRef jlo = cg_sub(k, floor_div(k, cg_add(k, LLVMBuildNeg(k->b, offw, ""), cg_i64c(k, s - 1)), s), iw0);
    LLVMValueRef jhi = cg_sub(k, floor_div(k, cg_add(k, cg_sub(k, g->out[last], offw), cg_i64c(k, s - 1)), s), iw0);
    jlo = cg_min64(k, cg_max64(k, jlo, cg_i64c(k, 0)), len);
    jhi = cg_min64(k, cg_max64(k, jhi, jlo), len);
    jhi = LLVMBuildSelect(k->b, ok, jhi, jlo, "");
    LLVMValueRef dst = cg_add(k, cg_add(k, ym, rowoff), cg_add(k, cg_mul(k, iw0, cg_i64c(k, s)), offw));
    CgLoop lj;
    LLVMValueRef j = cg_loop_begin(k, &lj, jlo, jhi, 1);
    LLVMValueRef di = cg_add(k, dst, cg_mul(k, j, cg_i64c(k, s)));
    LLVMValueRef v = cg_load(k, ety, panel, cg_add(k, src0, j), al);
    LLVMValueRef y = cg_out_ptr(k, 0);
    cg_store(k, LLVMBuildFAdd(k->b, cg_load(k, ety, y, di, aly), v, ""), y, di, aly);
    cg_loop_end(k, &lj);
    cg_loop_end(k, &lr);
}

int cg_k_convt(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *x = cg_kin(k, 0), *w = cg_kin(k, 1), *bias = cg_kin(k, 2), *y = cg_kout(k, 0);
    if (x->dtype != SRT_F32 && x->dtype != SRT_F64)
        return cg_unsupported(k, "ConvTranspose on %s", srt_dtype_name(x->dtype));
    if (x->shape.d[1].a != 0 || y->shape.d[1].a != 0)
        return cg_unsupported(k, "ConvTranspose with a channel count that depends on N");
    CgGeom gm;
    if (!cg_geom_forward(k, x, y, &w->shape, true, &gm))
        return cg_unsupported(k, "ConvTranspose with a kernel size that depends on N");
    int64_t group = ir_attr_int(n, "group");
    int64_t C = x->shape.d[1].b, M = y->shape.d[1].b, cg = C / group, mg = M / group;
    bool stride1 = true;
    for (int i = 0; i < gm.nsp; i++)
        stride1 = stride1 && gm.s[i] == 1;
    if (stride1 && conv_rows_ok(k, &gm, cg_t_elem(k, x->dtype))) {
        /* a Conv with flipped weights: the row kernels, with no scatter and no zeroing pass */
        conv_rows(k, x, w, bias, y, group, true);
        return 0;
    }
    int64_t rows_total = mg * gm.taps;
    LLVMTypeRef ety = cg_t_elem(k, x->dtype);
    size_t esz = srt_dtype_size(x->dtype);
    unsigned aly = cg_align_of(y->dtype);
    /* panel: PW input positions (the whole input plane when small) x RB rows, <= ~64 KB */
    int64_t nr = (int64_t)(k->target->num_vector_regs >= 32 ? 3 : 2) * cg_lanes(k, ety);
    int64_t pw = nr * 4;
    if (LLVMIsAConstantInt(gm.isz)) {
        int64_t isz = LLVMConstIntGetSExtValue(gm.isz);
        if (isz > 0 && isz <= 8 * nr)
            pw = isz;
    }
    int64_t rb = (int64_t)(65536 / esz) / pw;
    if (rb < 8)
        rb = 8;
    if (rb > rows_total)
        rb = rows_total > 0 ? rows_total : 1;

    LLVMValueRef tasks = cg_mul(k, cg_dim(k, x->shape.d[0]), cg_i64c(k, group));
    LLVMValueRef work = cg_mul(k, gm.isz, cg_i64c(k, 2 * rows_total * cg + rows_total));
    LLVMValueRef grain = cg_grain(k, work, CG_PAR_WORK);
    CgPar p;
    cg_par_begin(k, &p, tasks, grain, 0, NULL);
    cg_geom_forward(k, x, y, &w->shape, true, &gm);
    convt_pads(k, &gm);
    LLVMValueRef panel = cg_alloca(k, ety, rb * pw);
    CgLoop lt;
    LLVMValueRef t = cg_loop_begin(k, &lt, p.begin, p.end, 1);
    LLVMValueRef b = LLVMBuildUDiv(k->b, t, cg_i64c(k, group), "");
    LLVMValueRef gi = LLVMBuildURem(k->b, t, cg_i64c(k, group), "");
    LLVMValueRef xbase = cg_mul(k, cg_add(k, cg_mul(k, b, cg_i64c(k, C)), cg_mul(k, gi, cg_i64c(k, cg))), gm.isz);
    LLVMValueRef mbase = cg_add(k, cg_mul(k, b, cg_i64c(k, M)), cg_mul(k, gi, cg_i64c(k, mg)));
    LLVMValueRef ybase = cg_mul(k, mbase, gm.osz);
    /* y of this (batch, group) = bias or 0 */
    CgLoop lm;
    LLVMValueRef mi = cg_loop_begin(k, &lm, cg_i64c(k, 0), cg_i64c(k, mg), 1);
    LLVMValueRef bv = bias ? cg_load_as(k, bias->dtype, k->in[2], cg_add(k, cg_mul(k, gi, cg_i64c(k, mg)), mi), ety)
                           : cg_fconst(ety, 0);
    LLVMValueRef yrow = cg_add(k, ybase, cg_mul(k, mi, gm.osz));
    CgLoop lo;
    LLVMValueRef o = cg_loop_begin(k, &lo, cg_i64c(k, 0), gm.osz, 1);
    cg_store(k, bv, cg_out_ptr(k, 0), cg_add(k, yrow, o), aly);
    cg_loop_end(k, &lo);
    cg_loop_end(k, &lm);

    CgLoop lp;
    LLVMValueRef p0 = cg_loop_begin(k, &lp, cg_i64c(k, 0), gm.isz, pw);
    LLVMValueRef pcount = cg_min64(k, cg_i64c(k, pw), cg_sub(k, gm.isz, p0));
    CgLoop lr;
    LLVMValueRef i0 = cg_loop_begin(k, &lr, cg_i64c(k, 0), cg_i64c(k, rows_total), rb);
    LLVMValueRef rn = cg_min64(k, cg_i64c(k, rb), cg_sub(k, cg_i64c(k, rows_total), i0));
    /* col[(m,t) - i0][j] = sum_c w[gi*cg + c, m, t] * x[b, gi*cg + c, p0 + j] */
    CgGemmArgs ga;
    memset(&ga, 0, sizeof ga);
    ga.ety = ety;
    ga.a = cg_gep(k, ety, k->in[1], cg_add(k, cg_mul(k, gi, cg_i64c(k, cg * rows_total)), i0));
    ga.sam = cg_i64c(k, 1);
    ga.sak = cg_i64c(k, rows_total);
    ga.a_unit_k = rows_total == 1;
    ga.b = cg_gep(k, ety, k->in[0], cg_add(k, xbase, p0));
    ga.sbk = gm.isz;
    ga.sbj = cg_i64c(k, 1);
    ga.b_unit_j = true;
    ga.c = panel;
    ga.sci = cg_i64c(k, pw);
    ga.scj = cg_i64c(k, 1);
    ga.c_unit_j = true;
    ga.i0 = cg_i64c(k, 0);
    ga.i1 = rn;
    ga.j0 = cg_i64c(k, 0);
    ga.j1 = pcount;
    ga.kdim = cg_i64c(k, cg);
    ga.alpha = 1;
    ga.align_a = cg_align_of(w->dtype);
    ga.align_b = cg_align_of(x->dtype);
    ga.align_c = (unsigned)esz;
    cg_gemm_block(k, &ga);
    /* col2im: add each row of the panel into y */
    CgLoop lk;
    LLVMValueRef kk = cg_loop_begin(k, &lk, cg_i64c(k, 0), rn, 1);
    LLVMValueRef row = cg_add(k, i0, kk);
    LLVMValueRef m = LLVMBuildUDiv(k->b, row, cg_i64c(k, gm.taps), "");
    LLVMValueRef kdims[IR_MAX_RANK] = {0}, tc[IR_MAX_RANK];
    for (int i = 0; i < gm.nsp; i++)
        kdims[i] = cg_i64c(k, gm.k[i]);
    unravel(k, LLVMBuildURem(k->b, row, cg_i64c(k, gm.taps), ""), gm.nsp, kdims, tc);
    convt_scatter_row(k, &gm, ety, aly, cg_add(k, ybase, cg_mul(k, m, gm.osz)), tc, p0, pcount, panel,
                      cg_mul(k, kk, cg_i64c(k, pw)));
    cg_loop_end(k, &lk);
    cg_loop_end(k, &lr);
    cg_loop_end(k, &lp);
    cg_loop_end(k, &lt);
    cg_par_end(k, &p);
    return 0;
}
