/* Cost model: symbolic floating-point operation counts (a*N + b) of each node, for `sinter check`. */
#include "ir/ops_impl.h"

/* Counting conventions (what one "FLOP" is here):
 * - a multiply-add is 2 FLOPs: Gemm/MatMul 2*M*N*K, Conv 2*out*(Cin/group)*kh*kw, plus one
 *   per output element for an added bias (Gemm's C, Conv's B);
 * - pooling: one per window element per output; GlobalAveragePool and reductions: one per
 *   input element;
 * - element-wise math: one per output element whatever the function (Relu, Exp and Gelu
 *   all count 1); variadic Max/Min: one per input after the first;
 * - normalizations and softmax: a few per element (see per_elem below);
 * - data movement (Reshape, Transpose, Concat, Gather, Cast, Identity, Dropout ...) and
 *   shape arithmetic: 0.
 * Numbers are estimates for comparing models and passes, not a hardware measure. */

/* FLOPs per output element of the ops costed per output element. */
static int per_elem(IrOp op)
{
    switch (op) {
    case IR_OP_BATCHNORM:
        return 2;   /* y = x*scale' + shift' with per-channel factors folded ahead */
    case IR_OP_LAYERNORM:
        return 8;   /* mean, variance (3), normalize (2), scale and shift (2) */
    case IR_OP_SOFTMAX:
    case IR_OP_LOGSOFTMAX:
        return 5;   /* max, subtract, exp, sum, divide (log-softmax: log and subtract) */
    case IR_OP_IDENTITY:
    case IR_OP_CAST:
    case IR_OP_DROPOUT:
        return 0;   /* copies (Dropout at inference) */
    default:
        return 1;
    }
}

static bool numel_of(const IrGraph *g, int id, IrDim *out)
{
    if (id < 0 || id >= g->nvalues || !g->values[id]->typed)
        return false;
    return ir_shape_numel(&g->values[id]->shape, out);
}

/* out = x * k for a constant k. */
static bool scale(IrDim x, int64_t k, IrDim *out)
{
    return ir_dim_mul(x, ir_dim_const(k), out);
}

/* Product of the constant dims s->d[from..]; false if one involves N or it overflows. */
static bool const_product(const IrShape *s, int from, int64_t *out)
{
    int64_t p = 1;
    for (int i = from; i < s->rank; i++) {
        if (!ir_dim_is_const(s->d[i]) || s->d[i].b < 0)
            return false;
        if (s->d[i].b != 0 && p > INT64_MAX / s->d[i].b)
            return false;
        p *= s->d[i].b;
    }
    *out = p;
    return true;
}

/* Adds the output element count once more (bias) when input `bias` is present. */
static bool add_bias(const IrNode *n, int bias, IrDim out_elems, IrDim *flops)
{
    if (bias < n->nin && n->in[bias] >= 0)
        return ir_dim_add(*flops, out_elems, flops);
    return true;
}

static bool gemm_flops(const IrGraph *g, const IrNode *n, IrDim out_elems, IrDim *flops)
{
    const IrValue *a = g->values[n->in[0]];
    if (a->shape.rank != 2)
        return false;
    IrDim k = a->shape.d[ir_attr_int(n, "transA") ? 0 : 1];
    IrDim mn2;
    if (!scale(out_elems, 2, &mn2) || !ir_dim_mul(mn2, k, flops))
        return false;
    return add_bias(n, 2, out_elems, flops);
}

static bool matmul_flops(const IrGraph *g, const IrNode *n, IrDim out_elems, IrDim *flops)
{
    const IrValue *a = g->values[n->in[0]];
    if (a->shape.rank < 1)
        return false;
    IrDim k = a->shape.d[a->shape.rank - 1];
    IrDim twice;
    return scale(out_elems, 2, &twice) && ir_dim_mul(twice, k, flops);
}

/* Conv: W is [Cout, Cin/group, k1, k2, ...]; every output element reads Cin/group*k1*k2...
 * inputs. ConvTranspose: W is [Cin, Cout/group, k...]; every input element is scattered
 * to Cout/group*k1*k2... outputs. */
static bool conv_flops(const IrGraph *g, const IrNode *n, IrDim out_elems, bool transpose, IrDim *flops)
{
    const IrValue *w = g->values[n->in[1]];
    int64_t fan;
    if (w->shape.rank < 2 || !const_product(&w->shape, 1, &fan))
        return false;
    IrDim base = out_elems;
    if (transpose && !numel_of(g, n->in[0], &base))
        return false;
    if (!scale(base, 2 * fan, flops))
        return false;
    return add_bias(n, 2, out_elems, flops);
}

static bool pool_flops(const IrNode *n, IrDim out_elems, IrDim *flops)
{
    const int64_t *k;
    int nk = ir_attr_ints(n, "kernel_shape", &k);
    int64_t window = 1;
    for (int i = 0; i < nk; i++) {
        if (k[i] < 0 || (k[i] != 0 && window > INT64_MAX / k[i]))
            return false;
        window *= k[i];
    }
    return scale(out_elems, window, flops);
}

/* Log-softmax over the scores (5 per score), then a pick, a weight and a sum per label. */
static bool sce_flops(const IrGraph *g, const IrNode *n, IrDim score_elems, IrDim *flops)
{
    IrDim labels, per_label;
    return scale(score_elems, 5, flops) && numel_of(g, n->in[1], &labels) &&
           scale(labels, 3, &per_label) && ir_dim_add(*flops, per_label, flops);
}

bool ir_node_flops(const IrGraph *g, const IrNode *n, IrDim *flops)
{
    *flops = ir_dim_const(0);
    for (int k = 0; k < n->nin; k++)
        if (n->in[k] >= 0 && !g->values[n->in[k]]->typed)
            return false;
    IrDim out_elems = ir_dim_const(0), in_elems = ir_dim_const(0);
    if (n->nout < 1 || !numel_of(g, n->out[0], &out_elems))
        return false;
    if (n->nin >= 1 && n->in[0] >= 0 && !numel_of(g, n->in[0], &in_elems))
        return false;

    switch (n->op) {
    case IR_OP_GEMM:
        return gemm_flops(g, n, out_elems, flops);
    case IR_OP_MATMUL:
        return matmul_flops(g, n, out_elems, flops);
    case IR_OP_DEQUANTGEMM: {   /* a multiply-add per weight and row, as the float Gemm */
        const IrValue *a = g->values[n->in[0]];
        return a->shape.rank == 2 && a->shape.d[1].a == 0 && scale(out_elems, 2 * a->shape.d[1].b, flops) &&
               add_bias(n, 3, out_elems, flops);
    }
    case IR_OP_SPARSEGEMM: {   /* a multiply-add per stored weight and row */
        IrDim rows = g->values[n->in[0]]->shape.d[0];
        return scale(rows, 2 * g->values[n->in[1]]->shape.d[0].b, flops) && add_bias(n, 4, out_elems, flops);
    }
    case IR_OP_INTGEMM: {   /* a multiply-add per weight and row, as the float Gemm */
        const IrValue *a = g->values[n->in[0]];
        return a->shape.rank == 2 && a->shape.d[1].a == 0 && scale(out_elems, 2 * a->shape.d[1].b, flops);
    }
    case IR_OP_CONV:
        return conv_flops(g, n, out_elems, false, flops);
    case IR_OP_CONVT:
        return conv_flops(g, n, out_elems, true, flops);
    case IR_OP_MAXPOOL:
    case IR_OP_AVGPOOL:
        return pool_flops(n, out_elems, flops);
    case IR_OP_GAP:
    case IR_OP_REDUCEMEAN:
    case IR_OP_REDUCESUM:
    case IR_OP_REDUCEMAX:
        *flops = in_elems;
        return true;
    case IR_OP_MAX:
    case IR_OP_MIN:
        return scale(out_elems, n->nin > 1 ? n->nin - 1 : 1, flops);
    case IR_OP_SCELOSS:
        return sce_flops(g, n, in_elems, flops);
    case IR_OP_MSELOSS:
        return scale(in_elems, 3, flops);   /* subtract, square, sum */
    case IR_OP_RESHAPE: case IR_OP_FLATTEN: case IR_OP_TRANSPOSE: case IR_OP_SQUEEZE:
    case IR_OP_UNSQUEEZE: case IR_OP_CONCAT: case IR_OP_SPLIT: case IR_OP_SLICE:
    case IR_OP_GATHER: case IR_OP_EXPAND: case IR_OP_SHAPE: case IR_OP_CONSTOFSHAPE:
    case IR_OP_RANGE: case IR_OP_PAD:
        return true;   /* data movement and shape arithmetic */
    default:
        return scale(out_elems, per_elem(n->op), flops);
    }
}
