/* The one store path of kernels: results go through cg_out_store, which computes the group's element-wise epilogue. */
#include <string.h>

#include "codegen/emit.h"

/* A kernel group with an anchor (CgGroup) runs the anchor's emitter; the group's other nodes
 * are its epilogue: element-wise nodes of the anchor's output shape, chained from output 0
 * (passes/fuse, ir/fusion.c). The emitter hands each result of output 0 to cg_out_store as a
 * scalar or a vector of consecutive elements at a flat offset; the epilogue then evaluates the
 * members on it, reading their other inputs (operands) at the same position with broadcasting,
 * and stores each value the group keeps. Nothing of the epilogue is precomputed: each call
 * emits its own operand offsets, which LLVM hoists out of loops where it can. */

static const IrValue *value(const CgKernel *k, int id)
{
    return id >= 0 ? k->g->values[id] : NULL;
}

static int arg_of(const CgKernel *k, int v)
{
    for (int a = 0; a < k->grp->nargs; a++)
        if (k->grp->args[a] == v)
            return a;
    return -1;
}

static bool has_epilogue(const CgKernel *k)
{
    return k->grp && k->grp->anchor >= 0 && k->grp->nnodes > 1;
}

static bool dim_is_one(IrDim d)
{
    return d.a == 0 && d.b == 1;
}

static int lanes_of(LLVMValueRef v)
{
    LLVMTypeRef t = LLVMTypeOf(v);
    return LLVMGetTypeKind(t) == LLVMVectorTypeKind ? (int)LLVMGetVectorSize(t) : 1;
}

static void store(CgKernel *k, LLVMValueRef v, LLVMValueRef ptr, LLVMValueRef off, LLVMValueRef mask, IrDtype dt)
{
    unsigned al = cg_align_of(dt);
    if (lanes_of(v) == 1)
        cg_store(k, v, ptr, off, al);
    else if (mask)
        cg_store_vec_masked(k, v, ptr, off, al, mask);
    else
        cg_store_vec(k, v, ptr, off, al);
}

/* Operand x (input i of member m) at the output position off, as a value like val: the
 * offset into x follows the output's multi-index along the dims where x is not broadcast
 * (runs of such dims merged: one division and remainder per run). */
static LLVMValueRef load_operand(CgKernel *k, const IrNode *m, int i, LLVMValueRef off, LLVMValueRef val,
                                 LLVMValueRef mask)
{
    const IrValue *x = value(k, m->in[i]);
    const IrShape *S = &value(k, k->node->out[0])->shape, *X = &x->shape;
    int r = S->rank, axis = ir_operand_axis(k->g, m, i, r), a = arg_of(k, x->id);
    IR_ASSERT(a >= 0 && a < k->grp->nin);
    bool full[IR_MAX_RANK];
    int last = -1;   /* the innermost output dim that is not 1 */
    for (int d = 0; d < r; d++) {
        int xd = d - axis;
        full[d] = xd >= 0 && xd < X->rank && !dim_is_one(X->d[xd]);
        if (!dim_is_one(S->d[d]))
            last = d;
    }
    LLVMValueRef o = cg_i64c(k, 0);
    for (int d0 = 0; d0 < r;) {
        if (!full[d0]) {
            d0++;
            continue;
        }
        int d1 = d0;
        while (d1 + 1 < r && full[d1 + 1])
            d1++;
        LLVMValueRef inner = cg_dims_prod(k, S->d, d1 + 1, r);
        LLVMValueRef idx = LLVMIsAConstantInt(inner) && LLVMConstIntGetZExtValue(inner) == 1
                               ? off
                               : LLVMBuildUDiv(k->b, off, inner, "");
        if (d0 > 0)
            idx = LLVMBuildURem(k->b, idx, cg_dims_prod(k, S->d, d0, d1 + 1), "");
        o = cg_add(k, o, cg_mul(k, idx, cg_dims_prod(k, X->d, d1 - axis + 1, X->rank)));
        d0 = d1 + 1;
    }
    LLVMTypeRef ety = cg_t_elem(k, x->dtype);
    unsigned al = cg_align_of(x->dtype);
    int w = lanes_of(val);
    if (w == 1)
        return cg_load(k, ety, k->arg[a], o, al);
    if (last >= 0 && full[last]) {
        LLVMTypeRef vty = cg_t_vec(ety, w);
        return mask ? cg_load_vec_masked(k, vty, k->arg[a], o, al, mask) : cg_load_vec(k, vty, k->arg[a], o, al);
    }
    return cg_splat(k, cg_load(k, ety, k->arg[a], o, al), w);
}

void cg_out_store(CgKernel *k, int oi, LLVMValueRef off, LLVMValueRef val, LLVMValueRef mask)
{
    const IrNode *n = k->node;
    const IrValue *y = value(k, n->out[oi]);
    if (k->out[oi])
        store(k, val, k->out[oi], off, mask, y->dtype);
    if (oi != 0 || !has_epilogue(k))
        return;
    const CgGroup *gr = k->grp;
    const IrGraph *g = k->g;
    LLVMValueRef res[256];
    IR_ASSERT(gr->nnodes <= 256 && gr->nodes[0] == gr->anchor);
    for (int q = 1; q < gr->nnodes; q++) {
        const IrNode *m = g->nodes[gr->nodes[q]];
        LLVMValueRef x[64] = {0};
        IR_ASSERT(m->nin <= 64);
        for (int i = 0; i < m->nin; i++) {
            const IrValue *v = value(k, m->in[i]);
            if (!v)
                continue;
            if (v->id == n->out[0]) {
                x[i] = val;
                continue;
            }
            for (int p = 1; p < q && !x[i]; p++)
                if (v->role == IR_ROLE_ACT && v->producer == gr->nodes[p])
                    x[i] = res[p];
            if (!x[i])
                x[i] = load_operand(k, m, i, off, val, mask);
        }
        res[q] = cg_ew_apply(k, m, x);
        int a = arg_of(k, m->out[0]);
        if (a >= gr->nin)
            store(k, res[q], k->arg[a], off, mask, value(k, m->out[0])->dtype);
    }
}

LLVMValueRef cg_out_acc(CgKernel *k, int oi)
{
    if (k->out[oi] || oi != 0 || !has_epilogue(k))
        return k->out[oi];
    /* the last kept member output: same shape and dtype as output 0 (fuse's rule) */
    const CgGroup *gr = k->grp;
    const IrValue *y = value(k, k->node->out[0]);
    for (int q = gr->nnodes - 1; q >= 1; q--) {
        const IrNode *m = k->g->nodes[gr->nodes[q]];
        int a = arg_of(k, m->out[0]);
        const IrValue *v = value(k, m->out[0]);
        if (a >= gr->nin && v->dtype == y->dtype && ir_shape_eq(&v->shape, &y->shape))
            return k->arg[a];
    }
    IR_ASSERT(!"a kernel group keeps no value of its anchor's shape");
    return NULL;
}

LLVMValueRef cg_out_ptr(CgKernel *k, int oi)
{
    IR_ASSERT(oi != 0 || !has_epilogue(k));   /* ops that write in bulk take no epilogue */
    return k->out[oi];
}
