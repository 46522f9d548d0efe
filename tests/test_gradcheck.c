/* Finite-difference gradient checks of autodiff's rules, in float64 through the reference interpreter. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "passes/passes.h"
#include "tests/util/testutil.h"

/* Each case is a tiny model whose float64 params feed the op under test; the loss is
 * MSELoss(out, t) against a random target t (or the case's own training section). The
 * gradient d(loss)/d(param) that the autodiff graph computes is compared, element by element
 * (all elements, or 24 spread over a big param), with the central difference
 * (L(p + eps) - L(p - eps)) / (2 eps) of the same training graph's loss (so BatchNorm uses
 * batch statistics and Dropout the step's mask in both).
 *
 * Tolerance: |numeric - analytic| <= 1e-6 + tol * max(|numeric|, |analytic|), tol = 1e-6 by
 * default with eps = 1e-6: the truncation error is O(eps^2) and the rounding error about
 * 1e-16 / eps relative to a loss of order 1. Cases that round through float32 (Cast) use a
 * larger eps and tol, stated in the case. Kinks (Relu, MaxPool, Abs, Clip, Max) are almost
 * surely not within eps of the random points. */

#define GC_N 3           /* the batch size N */
#define GC_SAMPLES 24    /* elements checked per param at most */

typedef struct GcCase {
    const char *name;
    const char *body;        /* the model's members but "sinter", "name", "training"; ' for " */
    const char *training;    /* NULL: MSELoss(out, t) with t like out */
    double tol, eps;         /* 0: the defaults above */
    int nclass;              /* integer inputs are drawn from [0, nclass) */
} GcCase;

/* params: uniform in [-1, 1] (P) or [0.5, 2] (PP: for Log, Sqrt, Div, Pow) */
#define P(name, shape) "{'name': '" name "', 'dtype': 'float64', 'shape': " shape ", 'init': {'kind': 'uniform', 'low': -1, 'high': 1}}"
#define PP(name, shape) "{'name': '" name "', 'dtype': 'float64', 'shape': " shape ", 'init': {'kind': 'uniform', 'low': 0.5, 'high': 2}}"
#define FROZEN(name, shape, lo) "{'name': '" name "', 'dtype': 'float64', 'shape': " shape ", 'trainable': false, 'init': {'kind': 'uniform', 'low': " lo ", 'high': 2}}"
#define IN(name, shape) "{'name': '" name "', 'dtype': 'float64', 'shape': " shape "}"
#define NODE(op, ins, outs, attrs) "{'op': '" op "', 'inputs': " ins ", 'outputs': " outs ", 'attrs': {" attrs "}}"
#define OUT "'outputs': ['out']"
/* one op on params only */
#define UNARY(op, attrs, pdecl) "'inputs': [], 'params': [" pdecl "], 'nodes': [" NODE(op, "['p']", "['out']", attrs) "], " OUT

static const GcCase cases[] = {
    /* ---- Gemm, MatMul ---- */
    {.name = "gemm with transB and bias, x an input",
     "'inputs': [" IN("x", "['N', 3]") "], 'params': [" P("w", "[4, 3]") ", " P("b", "[4]") "], "
     "'nodes': [" NODE("Gemm", "['x', 'w', 'b']", "['out']", "'transB': 1") "], " OUT},
    {.name = "gemm transA, alpha, beta, C broadcast from [1, 4]",
     "'inputs': [], 'params': [" P("a", "[3, 2]") ", " P("b", "[3, 4]") ", " P("c", "[1, 4]") "], "
     "'nodes': [" NODE("Gemm", "['a', 'b', 'c']", "['out']", "'transA': 1, 'alpha': 0.5, 'beta': 2") "], " OUT},
    {.name = "gemm transA and transB, C of shape [2, 1]",
     "'inputs': [], 'params': [" P("a", "[3, 2]") ", " P("b", "[4, 3]") ", " P("c", "[2, 1]") "], "
     "'nodes': [" NODE("Gemm", "['a', 'b', 'c']", "['out']", "'transA': 1, 'transB': 1, 'alpha': -1.5") "], " OUT},
    {.name = "gemm without C, no transposes",
     "'inputs': [], 'params': [" P("a", "[2, 3]") ", " P("b", "[3, 4]") "], "
     "'nodes': [" NODE("Gemm", "['a', 'b']", "['out']", "") "], " OUT},
    {.name = "matmul batched with broadcast batch dims",
     "'inputs': [], 'params': [" P("a", "[2, 1, 3, 4]") ", " P("b", "[5, 4, 2]") "], "
     "'nodes': [" NODE("MatMul", "['a', 'b']", "['out']", "") "], " OUT},
    {.name = "matmul of a 1-D vector by a batch of matrices",
     "'inputs': [], 'params': [" P("a", "[4]") ", " P("b", "[2, 4, 3]") "], "
     "'nodes': [" NODE("MatMul", "['a', 'b']", "['out']", "") "], " OUT},
    {.name = "matmul of a batch of matrices by a 1-D vector",
     "'inputs': [], 'params': [" P("a", "[2, 3, 4]") ", " P("b", "[4]") "], "
     "'nodes': [" NODE("MatMul", "['a', 'b']", "['out']", "") "], " OUT},
    {.name = "matmul of two vectors (a scalar)",
     "'inputs': [], 'params': [" P("a", "[4]") ", " P("b", "[4]") "], "
     "'nodes': [" NODE("MatMul", "['a', 'b']", "['out']", "") "], " OUT},
    {.name = "matmul with an input of batch N",
     "'inputs': [" IN("x", "['N', 2, 3]") "], 'params': [" P("w", "[3, 4]") "], "
     "'nodes': [" NODE("MatMul", "['x', 'w']", "['out']", "") "], " OUT},

    /* ---- convolutions ---- */
    {.name = "conv with pads and bias",
     "'inputs': [], 'params': [" P("x", "[2, 2, 5, 5]") ", " P("w", "[3, 2, 3, 3]") ", " P("b", "[3]") "], "
     "'nodes': [" NODE("Conv", "['x', 'w', 'b']", "['out']", "'pads': [1, 1, 1, 1]") "], " OUT},
    {.name = "conv with strides, dilations and asymmetric pads",
     "'inputs': [], 'params': [" P("x", "[1, 2, 7, 6]") ", " P("w", "[4, 2, 2, 3]") "], "
     "'nodes': [" NODE("Conv", "['x', 'w']", "['out']", "'strides': [2, 2], 'dilations': [2, 1], 'pads': [1, 0, 2, 1]") "], " OUT},
    {.name = "conv with groups and a stride that leaves input rows unread",
     "'inputs': [], 'params': [" P("x", "[2, 4, 6, 6]") ", " P("w", "[6, 2, 3, 3]") ", " P("b", "[6]") "], "
     "'nodes': [" NODE("Conv", "['x', 'w', 'b']", "['out']", "'group': 2, 'strides': [2, 2]") "], " OUT},
    {.name = "conv depthwise (group = channels)",
     "'inputs': [], 'params': [" P("x", "[1, 3, 4, 4]") ", " P("w", "[3, 1, 3, 3]") "], "
     "'nodes': [" NODE("Conv", "['x', 'w']", "['out']", "'group': 3, 'pads': [1, 1, 1, 1]") "], " OUT},
    {.name = "conv with auto_pad SAME_UPPER and stride 2",
     "'inputs': [], 'params': [" P("x", "[1, 1, 5, 4]") ", " P("w", "[2, 1, 3, 2]") "], "
     "'nodes': [" NODE("Conv", "['x', 'w']", "['out']", "'auto_pad': 'SAME_UPPER', 'strides': [2, 2]") "], " OUT},
    {.name = "conv with auto_pad SAME_LOWER",
     "'inputs': [], 'params': [" P("x", "[1, 1, 4, 4]") ", " P("w", "[1, 1, 2, 2]") "], "
     "'nodes': [" NODE("Conv", "['x', 'w']", "['out']", "'auto_pad': 'SAME_LOWER'") "], " OUT},
    {.name = "conv 1-D with an input of batch N",
     "'inputs': [" IN("x", "['N', 2, 7]") "], 'params': [" P("w", "[3, 2, 3]") ", " P("b", "[3]") "], "
     "'nodes': [" NODE("Conv", "['x', 'w', 'b']", "['out']", "'pads': [1, 1]") "], " OUT},
    {.name = "conv 3-D",
     "'inputs': [], 'params': [" P("x", "[1, 1, 3, 4, 3]") ", " P("w", "[2, 1, 2, 2, 2]") "], "
     "'nodes': [" NODE("Conv", "['x', 'w']", "['out']", "'pads': [0, 1, 0, 1, 0, 1]") "], " OUT},
    {.name = "convtranspose with strides, pads and output_padding",
     "'inputs': [], 'params': [" P("x", "[2, 2, 3, 3]") ", " P("w", "[2, 3, 3, 3]") ", " P("b", "[3]") "], "
     "'nodes': [" NODE("ConvTranspose", "['x', 'w', 'b']", "['out']", "'strides': [2, 2], 'pads': [1, 1, 1, 1], 'output_padding': [1, 1]") "], " OUT},
    {.name = "convtranspose with groups and dilations",
     "'inputs': [], 'params': [" P("x", "[1, 4, 3, 3]") ", " P("w", "[4, 1, 2, 2]") "], "
     "'nodes': [" NODE("ConvTranspose", "['x', 'w']", "['out']", "'group': 2, 'dilations': [2, 2], 'strides': [1, 2]") "], " OUT},
    {.name = "convtranspose with auto_pad SAME_UPPER",
     "'inputs': [], 'params': [" P("x", "[1, 2, 3, 2]") ", " P("w", "[2, 2, 3, 3]") "], "
     "'nodes': [" NODE("ConvTranspose", "['x', 'w']", "['out']", "'auto_pad': 'SAME_UPPER', 'strides': [2, 2]") "], " OUT},
    {.name = "convtranspose with output_shape",
     "'inputs': [], 'params': [" P("x", "[1, 1, 3, 3]") ", " P("w", "[1, 2, 3, 3]") "], "
     "'nodes': [" NODE("ConvTranspose", "['x', 'w']", "['out']", "'strides': [2, 2], 'output_shape': [6, 7]") "], " OUT},

    /* ---- pooling ---- */
    {.name = "maxpool with pads and strides",
     UNARY("MaxPool", "'kernel_shape': [3, 3], 'strides': [2, 2], 'pads': [1, 1, 1, 1]", P("p", "[2, 2, 5, 5]"))},
    {.name = "maxpool with ceil_mode and dilations",
     UNARY("MaxPool", "'kernel_shape': [2, 2], 'strides': [2, 2], 'dilations': [2, 1], 'ceil_mode': 1", P("p", "[1, 2, 6, 7]"))},
    {.name = "maxpool 1-D with SAME_UPPER and overlapping windows",
     UNARY("MaxPool", "'kernel_shape': [3], 'auto_pad': 'SAME_UPPER'", P("p", "[2, 3, 7]"))},
    {.name = "averagepool with pads excluded from the count",
     UNARY("AveragePool", "'kernel_shape': [3, 3], 'strides': [2, 2], 'pads': [1, 1, 1, 1]", P("p", "[1, 2, 5, 5]"))},
    {.name = "averagepool with count_include_pad and ceil_mode",
     UNARY("AveragePool", "'kernel_shape': [2, 3], 'strides': [2, 2], 'pads': [1, 1, 0, 1], 'count_include_pad': 1, 'ceil_mode': 1", P("p", "[1, 2, 5, 6]"))},
    {.name = "globalaveragepool",
     UNARY("GlobalAveragePool", "", P("p", "[2, 3, 4, 5]"))},
    {.name = "globalaveragepool with an input of batch N",
     "'inputs': [" IN("x", "['N', 3, 4]") "], 'params': [" P("s", "[3, 1]") "], "
     "'nodes': [" NODE("Mul", "['x', 's']", "['xs']", "") ", " NODE("GlobalAveragePool", "['xs']", "['out']", "") "], " OUT},

    /* ---- normalization, softmax, dropout ---- */
    {.name = "batchnormalization in training mode (batch statistics)",
     "'inputs': [], 'params': [" P("x", "[4, 3, 2, 2]") ", " P("scale", "[3]") ", " P("bias", "[3]") ", "
     FROZEN("mean", "[3]", "-1") ", " FROZEN("var", "[3]", "0.5") "], "
     "'nodes': [" NODE("BatchNormalization", "['x', 'scale', 'bias', 'mean', 'var']", "['out']", "'epsilon': 0.001") "], " OUT},
    {.name = "batchnormalization on [N, C] with an input",
     "'inputs': [" IN("x", "['N', 4]") "], 'params': [" P("w", "[4]") ", " P("scale", "[4]") ", " P("bias", "[4]") ", "
     FROZEN("mean", "[4]", "-1") ", " FROZEN("var", "[4]", "0.5") "], "
     "'nodes': [" NODE("Mul", "['x', 'w']", "['xw']", "") ", "
     NODE("BatchNormalization", "['xw', 'scale', 'bias', 'mean', 'var']", "['out']", "") "], " OUT},
    {.name = "layernormalization over the last axis with bias",
     "'inputs': [], 'params': [" P("x", "[2, 3, 4]") ", " P("scale", "[4]") ", " P("bias", "[4]") "], "
     "'nodes': [" NODE("LayerNormalization", "['x', 'scale', 'bias']", "['out']", "'epsilon': 0.01, 'stash_type': 11") "], " OUT},
    {.name = "layernormalization from axis 1 without bias, scale broadcast",
     "'inputs': [], 'params': [" P("x", "[2, 3, 4]") ", " P("scale", "[3, 1]") "], "
     "'nodes': [" NODE("LayerNormalization", "['x', 'scale']", "['out']", "'axis': 1, 'stash_type': 11") "], " OUT},
    {.name = "softmax along axis 1 of a rank-3 tensor",
     UNARY("Softmax", "'axis': 1", P("p", "[2, 3, 4]"))},
    {.name = "logsoftmax along the last axis",
     UNARY("LogSoftmax", "", P("p", "[3, 5]"))},
    {.name = "dropout in training (the step's mask, scaled)",
     "'inputs': [], 'params': [" P("p", "[4, 5]") "], 'constants': [{'name': 'r', 'dtype': 'float64', 'shape': [], 'data': [0.3]}], "
     "'nodes': [" NODE("Dropout", "['p', 'r']", "['out']", "") "], " OUT},

    /* ---- element-wise unary ---- */
    {.name = "relu", UNARY("Relu", "", P("p", "[3, 4]"))},
    {.name = "leakyrelu", UNARY("LeakyRelu", "'alpha': 0.2", P("p", "[3, 4]"))},
    {.name = "sigmoid", UNARY("Sigmoid", "", P("p", "[3, 4]"))},
    {.name = "tanh", UNARY("Tanh", "", P("p", "[3, 4]"))},
    {.name = "gelu (erf form)", UNARY("Gelu", "", P("p", "[3, 4]"))},
    {.name = "gelu (tanh approximation)", UNARY("Gelu", "'approximate': 'tanh'", P("p", "[3, 4]"))},
    {.name = "erf", UNARY("Erf", "", P("p", "[3, 4]"))},
    {.name = "exp", UNARY("Exp", "", P("p", "[3, 4]"))},
    {.name = "log", UNARY("Log", "", PP("p", "[3, 4]"))},
    {.name = "sqrt", UNARY("Sqrt", "", PP("p", "[3, 4]"))},
    {.name = "neg", UNARY("Neg", "", P("p", "[3, 4]"))},
    {.name = "abs", UNARY("Abs", "", P("p", "[3, 4]"))},
    {.name = "identity", UNARY("Identity", "", P("p", "[3, 4]"))},
    {.name = "clip with both bounds",
     "'inputs': [], 'params': [" P("p", "[4, 5]") "], 'constants': [{'name': 'lo', 'dtype': 'float64', 'shape': [], 'data': [-0.5]}, "
     "{'name': 'hi', 'dtype': 'float64', 'shape': [], 'data': [0.4]}], "
     "'nodes': [" NODE("Clip", "['p', 'lo', 'hi']", "['out']", "") "], " OUT},
    {.name = "clip with only an upper bound",
     "'inputs': [], 'params': [" P("p", "[4, 5]") "], 'constants': [{'name': 'hi', 'dtype': 'float64', 'shape': [], 'data': [0.1]}], "
     "'nodes': [" NODE("Clip", "['p', '', 'hi']", "['out']", "") "], " OUT},
    /* float32 rounding in the middle: eps 1e-3 (the loss is quadratic, so exact), tol 1e-4 */
    {.name = "cast to float32 and back",
     "'inputs': [], 'params': [" P("p", "[3, 4]") "], "
     "'nodes': [" NODE("Cast", "['p']", "['p32']", "'to': 'float32'") ", " NODE("Cast", "['p32']", "['out']", "'to': 'float64'") "], " OUT,
     NULL, 1e-4, 1e-3, 0},

    /* ---- element-wise binary with broadcasting ---- */
    {.name = "add with both operands broadcast",
     "'inputs': [], 'params': [" P("a", "[2, 1, 4]") ", " P("b", "[3, 1]") "], 'nodes': [" NODE("Add", "['a', 'b']", "['out']", "") "], " OUT},
    {.name = "sub with a scalar operand",
     "'inputs': [], 'params': [" P("a", "[]") ", " P("b", "[2, 3]") "], 'nodes': [" NODE("Sub", "['a', 'b']", "['out']", "") "], " OUT},
    {.name = "mul broadcast against an input of batch N",
     "'inputs': [" IN("x", "['N', 1, 3]") "], 'params': [" P("a", "[2, 1]") "], 'nodes': [" NODE("Mul", "['x', 'a']", "['out']", "") "], " OUT},
    {.name = "div with a broadcast denominator",
     "'inputs': [], 'params': [" P("a", "[2, 3]") ", " PP("b", "[3]") "], 'nodes': [" NODE("Div", "['a', 'b']", "['out']", "") "], " OUT},
    {.name = "pow with a broadcast exponent",
     "'inputs': [], 'params': [" PP("a", "[2, 3]") ", " P("b", "[1, 3]") "], 'nodes': [" NODE("Pow", "['a', 'b']", "['out']", "") "], " OUT},
    {.name = "max of three broadcast inputs",
     "'inputs': [], 'params': [" P("a", "[2, 3]") ", " P("b", "[3]") ", " P("c", "[2, 1]") "], 'nodes': [" NODE("Max", "['a', 'b', 'c']", "['out']", "") "], " OUT},
    {.name = "min of two inputs",
     "'inputs': [], 'params': [" P("a", "[2, 3]") ", " P("b", "[2, 3]") "], 'nodes': [" NODE("Min", "['a', 'b']", "['out']", "") "], " OUT},
    {.name = "where with a broadcast condition",
     "'inputs': [], 'params': [" P("a", "[2, 3]") ", " P("b", "[3]") "], "
     "'constants': [{'name': 'c', 'dtype': 'bool', 'shape': [2, 1], 'data': [true, false]}], "
     "'nodes': [" NODE("Where", "['c', 'a', 'b']", "['out']", "") "], " OUT},
    {.name = "a value used several times (gradients summed)",
     "'inputs': [], 'params': [" P("a", "[2, 3]") "], "
     "'nodes': [" NODE("Mul", "['a', 'a']", "['sq']", "") ", " NODE("Add", "['sq', 'a']", "['s']", "") ", "
     NODE("Tanh", "['a']", "['th']", "") ", " NODE("Mul", "['s', 'th']", "['out']", "") "], " OUT},

    /* ---- reductions ---- */
    {.name = "reducesum over axis 1 without keepdims (axes input)",
     "'inputs': [], 'params': [" P("p", "[2, 3, 4]") "], 'constants': [{'name': 'ax', 'dtype': 'int64', 'shape': [1], 'data': [1]}], "
     "'nodes': [" NODE("ReduceSum", "['p', 'ax']", "['out']", "'keepdims': 0") "], " OUT},
    {.name = "reducesum over all axes, keepdims",
     UNARY("ReduceSum", "", P("p", "[2, 3]"))},
    {.name = "reducemean over axes 0 and 2 without keepdims",
     UNARY("ReduceMean", "'axes': [0, -1], 'keepdims': 0", P("p", "[2, 3, 4]"))},
    {.name = "reducemean over the batch axis N",
     "'inputs': [" IN("x", "['N', 3]") "], 'params': [" P("w", "[3]") "], "
     "'nodes': [" NODE("Mul", "['x', 'w']", "['xw']", "") ", " NODE("ReduceMean", "['xw']", "['out']", "'axes': [0]") "], " OUT},
    {.name = "reducemax over axis 1",
     UNARY("ReduceMax", "'axes': [1], 'keepdims': 0", P("p", "[3, 4, 2]"))},

    /* ---- data movement ---- */
    {.name = "reshape with -1",
     "'inputs': [], 'params': [" P("p", "[2, 3, 4]") "], 'constants': [{'name': 's', 'dtype': 'int64', 'shape': [2], 'data': [4, -1]}], "
     "'nodes': [" NODE("Reshape", "['p', 's']", "['out']", "") "], " OUT},
    {.name = "flatten from axis 2",
     UNARY("Flatten", "'axis': 2", P("p", "[2, 3, 2, 2]"))},
    {.name = "transpose with a permutation",
     UNARY("Transpose", "'perm': [2, 0, 1]", P("p", "[2, 3, 4]"))},
    {.name = "transpose by default (axes reversed)",
     UNARY("Transpose", "", P("p", "[2, 3, 4]"))},
    {.name = "squeeze then unsqueeze",
     "'inputs': [], 'params': [" P("p", "[2, 1, 3]") "], 'constants': [{'name': 'a1', 'dtype': 'int64', 'shape': [1], 'data': [1]}, "
     "{'name': 'a0', 'dtype': 'int64', 'shape': [1], 'data': [0]}], "
     "'nodes': [" NODE("Squeeze", "['p', 'a1']", "['sq']", "") ", " NODE("Unsqueeze", "['sq', 'a0']", "['out']", "") "], " OUT},
    {.name = "concat of three inputs along axis 1 (one used twice)",
     "'inputs': [], 'params': [" P("a", "[2, 1, 3]") ", " P("b", "[2, 2, 3]") "], "
     "'nodes': [" NODE("Concat", "['a', 'b', 'a']", "['out']", "'axis': 1") "], " OUT},
    {.name = "concat along the batch axis N",
     "'inputs': [" IN("x", "['N', 2]") "], 'params': [" P("w", "[2]") ", " P("c", "[1, 2]") "], "
     "'nodes': [" NODE("Mul", "['x', 'w']", "['xw']", "") ", " NODE("Concat", "['xw', 'c']", "['cat']", "'axis': 0") ", "
     NODE("ReduceSum", "['cat']", "['out']", "'keepdims': 1") "], " OUT},
    {.name = "split into three with one output unused",
     "'inputs': [], 'params': [" P("p", "[2, 7]") "], 'constants': [{'name': 's', 'dtype': 'int64', 'shape': [3], 'data': [2, 4, 1]}], "
     "'nodes': [" NODE("Split", "['p', 's']", "['s0', 's1', 's2']", "'axis': 1") ", " NODE("Concat", "['s2', 's0']", "['out']", "'axis': 1") "], " OUT},
    {.name = "slice with axes and a negative step",
     "'inputs': [], 'params': [" P("p", "[4, 6]") "], 'constants': ["
     "{'name': 'st', 'dtype': 'int64', 'shape': [2], 'data': [-1, 1]}, {'name': 'en', 'dtype': 'int64', 'shape': [2], 'data': [-100, 5]}, "
     "{'name': 'ax', 'dtype': 'int64', 'shape': [2], 'data': [1, 0]}, {'name': 'sp', 'dtype': 'int64', 'shape': [2], 'data': [-2, 2]}], "
     "'nodes': [" NODE("Slice", "['p', 'st', 'en', 'ax', 'sp']", "['out']", "") "], " OUT},
    {.name = "slice with starts and ends only",
     "'inputs': [], 'params': [" P("p", "[4, 6]") "], 'constants': ["
     "{'name': 'st', 'dtype': 'int64', 'shape': [2], 'data': [1, 2]}, {'name': 'en', 'dtype': 'int64', 'shape': [2], 'data': [3, 100]}], "
     "'nodes': [" NODE("Slice", "['p', 'st', 'en']", "['out']", "") "], " OUT},
    {.name = "gather along axis 1 with repeated and negative indices",
     "'inputs': [], 'params': [" P("p", "[3, 5]") "], 'constants': [{'name': 'i', 'dtype': 'int64', 'shape': [2, 2], 'data': [0, 3, -2, 0]}], "
     "'nodes': [" NODE("Gather", "['p', 'i']", "['out']", "'axis': 1") "], " OUT},
    {.name = "gather rows (an embedding lookup) with input indices",
     "'inputs': [{'name': 'tok', 'dtype': 'int64', 'shape': ['N', 2]}], 'params': [" P("emb", "[5, 3]") "], "
     "'nodes': [" NODE("Gather", "['emb', 'tok']", "['out']", "") "], " OUT, NULL, 0, 0, 5},
    {.name = "expand from [3, 1] to [2, 3, 4]",
     "'inputs': [], 'params': [" P("p", "[3, 1]") "], 'constants': [{'name': 's', 'dtype': 'int64', 'shape': [3], 'data': [2, 3, 4]}], "
     "'nodes': [" NODE("Expand", "['p', 's']", "['out']", "") "], " OUT},

    {.name = "pad with zeros and a crop (negative pad), axes given",
     "'inputs': [], 'params': [" P("p", "[2, 3, 4]") "], 'constants': [{'name': 'pd', 'dtype': 'int64', 'shape': [4], 'data': [1, -1, 2, 1]}, "
     "{'name': 'ax', 'dtype': 'int64', 'shape': [2], 'data': [1, 2]}], "
     "'nodes': [" NODE("Pad", "['p', 'pd', '', 'ax']", "['out']", "") "], " OUT},
    /* ---- losses ---- */
    {.name = "softmaxcrossentropyloss mean with weights and ignore_index",
     "'inputs': [], 'params': [" P("p", "[6, 4]") "], 'nodes': [" NODE("Identity", "['p']", "['out']", "") "], " OUT,
     "{'inputs': [{'name': 'y', 'dtype': 'int64', 'shape': [6]}], 'loss': {'op': 'SoftmaxCrossEntropyLoss', 'inputs': ['out', 'y', 'cw'], "
     "'attrs': {'ignore_index': 2}}, 'optimizer': {'kind': 'sgd', 'lr': 0.1}}", 0, 0, 4},
    {.name = "softmaxcrossentropyloss sum with spatial dims",
     "'inputs': [], 'params': [" P("p", "[2, 3, 4]") "], 'nodes': [" NODE("Identity", "['p']", "['out']", "") "], " OUT,
     "{'inputs': [{'name': 'y', 'dtype': 'int64', 'shape': [2, 4]}], 'loss': {'op': 'SoftmaxCrossEntropyLoss', 'inputs': ['out', 'y'], "
     "'attrs': {'reduction': 'sum'}}, 'optimizer': {'kind': 'sgd', 'lr': 0.1}}", 0, 0, 3},
    {.name = "softmaxcrossentropyloss mean over a batch of N",
     "'inputs': [" IN("x", "['N', 3]") "], 'params': [" P("w", "[4, 3]") "], 'nodes': [" NODE("Gemm", "['x', 'w']", "['out']", "'transB': 1") "], " OUT,
     "{'inputs': [{'name': 'y', 'dtype': 'int64', 'shape': ['N']}], 'loss': {'op': 'SoftmaxCrossEntropyLoss', 'inputs': ['out', 'y']}, "
     "'optimizer': {'kind': 'sgd', 'lr': 0.1}}", 0, 0, 4},
    {.name = "softmaxcrossentropyloss inside the graph: reduction none, log_prob used, ignore_index",
     "'inputs': [], 'params': [" P("p", "[4, 3]") "], 'constants': [{'name': 'lab', 'dtype': 'int64', 'shape': [4], 'data': [0, 2, 1, 2]}], "
     "'nodes': [" NODE("SoftmaxCrossEntropyLoss", "['p', 'lab']", "['l', 'lp']", "'reduction': 'none', 'ignore_index': 1") ", "
     NODE("Mul", "['lp', 'lp']", "['q']", "") ", " NODE("ReduceSum", "['q']", "['s']", "'keepdims': 0") ", "
     NODE("Add", "['l', 's']", "['out']", "") "], " OUT},
    {.name = "softmaxcrossentropyloss (mean) inside the graph",
     "'inputs': [], 'params': [" P("p", "[4, 3]") "], 'constants': [{'name': 'lab', 'dtype': 'int64', 'shape': [4], 'data': [0, 2, 1, 2]}], "
     "'nodes': [" NODE("SoftmaxCrossEntropyLoss", "['p', 'lab']", "['l']", "") ", " NODE("Mul", "['l', 'l']", "['out']", "") "], " OUT},
    {.name = "mseloss inside the graph with reduction none",
     "'inputs': [], 'params': [" P("a", "[2, 3]") ", " P("b", "[2, 3]") "], "
     "'nodes': [" NODE("MSELoss", "['a', 'b']", "['m']", "'reduction': 'none'") ", " NODE("Mul", "['m', 'a']", "['out']", "") "], " OUT},
    {.name = "mseloss with sum reduction and a differentiable target",
     "'inputs': [], 'params': [" P("a", "[2, 3]") ", " P("b", "[2, 3]") "], 'nodes': [" NODE("Tanh", "['b']", "['tb']", "") ", "
     NODE("Identity", "['a']", "['out']", "") "], " OUT,
     "{'inputs': [], 'loss': {'op': 'MSELoss', 'inputs': ['out', 'tb'], 'attrs': {'reduction': 'sum'}}, 'optimizer': {'kind': 'sgd', 'lr': 0.1}}"},
};

#define NCASES ((int)(sizeof cases / sizeof cases[0]))

/* ---- harness ------------------------------------------------------------------------------ */

/* The text with ' turned into " (malloc'ed). */
static char *dq(const char *s)
{
    char *r = strdup(s);
    for (char *p = r; *p; p++)
        if (*p == '\'')
            *p = '"';
    return r;
}

static uint64_t rng_state;

static double uniform(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) * 0x1p-53 * 2 - 1;
}

/* "[N, 4]" style JSON of a value's shape (dims constant or exactly N). */
static void shape_json(const IrValue *v, char *buf, size_t len)
{
    size_t pos = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < v->shape.rank; i++) {
        IrDim d = v->shape.d[i];
        ck_assert(d.a == 0 || (d.a == 1 && d.b == 0));
        if (d.a)
            pos += (size_t)snprintf(buf + pos, len - pos, "%s\"N\"", i ? ", " : "");
        else
            pos += (size_t)snprintf(buf + pos, len - pos, "%s%lld", i ? ", " : "", (long long)d.b);
    }
    snprintf(buf + pos, len - pos, "]");
}

static IrGraph *parse(const char *json, IrDiag *d)
{
    IrGraph *g = fe_parse_model(json, strlen(json), "case.json", NULL, d);
    if (!g)
        ir_diag_print(d, stderr);
    return g;
}

/* The full model of a case: its body plus the given or default training section. */
static char *case_model(const GcCase *c)
{
    char *body = dq(c->body), *text = malloc(strlen(body) + 4096);
    ck_assert_ptr_nonnull(text);
    if (c->training) {
        char *tr = dq(c->training);
        sprintf(text, "{\"sinter\": 1, \"name\": \"gc\", \"seed\": 7, %s, \"training\": %s}", body, tr);
        /* class weights for the loss, when it names them */
        if (strstr(tr, "\"cw\"")) {
            char *at = strstr(text, "\"params\": [");
            ck_assert_ptr_nonnull(at);
            const char *cw = "\"constants\": [{\"name\": \"cw\", \"dtype\": \"float64\", \"shape\": [4], \"data\": [0.5, 2, 1, 1.5]}], ";
            memmove(at + strlen(cw), at, strlen(at) + 1);
            memcpy(at, cw, strlen(cw));
        }
        free(tr);
    } else {
        /* the target t has out's shape: parse the body alone to find it */
        sprintf(text, "{\"sinter\": 1, \"name\": \"gc\", \"seed\": 7, %s}", body);
        IrDiag d;
        ir_diag_init(&d, NULL);
        IrGraph *g = parse(text, &d);
        ck_assert_msg(g != NULL, "%s: %s", c->name, ir_diag_first(&d) ? ir_diag_first(&d) : "?");
        char shape[256];
        shape_json(ir_val(g, ir_value_find(g, "out")), shape, sizeof shape);
        ir_graph_free(g);
        ir_diag_free(&d);
        sprintf(text, "{\"sinter\": 1, \"name\": \"gc\", \"seed\": 7, %s, \"training\": {\"inputs\": [{\"name\": \"t\", "
                      "\"dtype\": \"float64\", \"shape\": %s}], \"loss\": {\"op\": \"MSELoss\", \"inputs\": [\"out\", \"t\"]}, "
                      "\"optimizer\": {\"kind\": \"sgd\", \"lr\": 0.1}}}",
                body, shape);
    }
    free(body);
    return text;
}

/* Runs shape_infer + autodiff with verification; returns the training graph or NULL. */
static IrGraph *training_graph(IrGraph *g, IrDiag *d)
{
    static const char *const pipe[] = {"shape_infer", "autodiff"};
    PassContext ctx;
    pass_context_init(&ctx, d);
    ctx.pipeline = pipe;
    ctx.npipeline = 2;
    ctx.verify = true;
    if (pass_run_pipeline(g, &ctx) != 0) {
        ir_diag_print(d, stderr);
        return NULL;
    }
    return g;
}

/* Random inputs for the graph inputs then the training inputs at batch n. */
static IrTensor *make_inputs(const IrGraph *g, int64_t n, int nclass, int *count)
{
    int k = g->ninputs + g->training->ninputs;
    IrTensor *in = calloc((size_t)k + 1, sizeof *in);
    ck_assert_ptr_nonnull(in);
    for (int i = 0; i < k; i++) {
        const IrValue *v = ir_val(g, i < g->ninputs ? g->inputs[i] : g->training->inputs[i - g->ninputs]);
        int64_t dims[IR_MAX_RANK];
        ck_assert(ir_shape_eval(&v->shape, n, dims));
        ck_assert_int_eq(ir_tensor_alloc(&in[i], v->dtype, v->shape.rank, dims), 0);
        for (int64_t e = 0; e < in[i].numel; e++) {
            if (ir_dtype_is_float(v->dtype))
                ir_tensor_setf(&in[i], e, uniform());
            else
                ir_tensor_seti(&in[i], e, (e * 7 + 3) % (nclass > 0 ? nclass : 2));
        }
    }
    *count = k;
    return in;
}

static double eval_loss(const IrGraph *g, int64_t n, const IrTensor *inputs, IrTensor *grads)
{
    IrTensor *vals = calloc((size_t)g->nvalues + 1, sizeof *vals);
    IrDiag d;
    ir_diag_init(&d, NULL);
    int rc = ir_interp_eval(g, n, inputs, true, vals, &d);
    ck_assert_msg(rc == 0, "interpreter: %s", ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    double loss = ir_tensor_getf(&vals[g->training->loss->out[0]], 0);
    for (int i = 0; grads && i < g->training->ngrads; i++) {
        grads[i] = vals[g->training->grad_value[i]];
        memset(&vals[g->training->grad_value[i]], 0, sizeof vals[0]);
    }
    for (int i = 0; i < g->nvalues; i++)
        ir_tensor_free(&vals[i]);
    free(vals);
    ir_diag_free(&d);
    return loss;
}

/* Checks every trainable param's gradient against central differences; returns the number of
 * elements compared. samples: elements per param at most. */
static int check_grads(const char *what, IrGraph *g, int nclass, double tol, double eps, int samples)
{
    int ninputs;
    rng_state = 12345;
    IrTensor *inputs = make_inputs(g, GC_N, nclass, &ninputs);
    const IrTraining *t = g->training;
    IrTensor *grads = calloc((size_t)t->ngrads + 1, sizeof *grads);
    eval_loss(g, GC_N, inputs, grads);
    int compared = 0;
    for (int i = 0; i < t->ngrads; i++) {
        IrValue *p = ir_val(g, t->grad_param[i]);
        ck_assert_int_eq(p->dtype, SRT_F64);
        double *data = p->data;
        int64_t m = grads[i].numel;
        int64_t count = m < samples ? m : samples;
        for (int64_t s = 0; s < count; s++) {
            int64_t e = s * m / count;
            double keep = data[e];
            data[e] = keep + eps;
            double lp = eval_loss(g, GC_N, inputs, NULL);
            data[e] = keep - eps;
            double lm = eval_loss(g, GC_N, inputs, NULL);
            data[e] = keep;
            double num = (lp - lm) / (2 * eps), ana = ir_tensor_getf(&grads[i], e);
            double bound = 1e-6 + tol * fmax(fabs(num), fabs(ana));
            ck_assert_msg(fabs(num - ana) <= bound, "%s: d loss / d %s[%lld]: numeric %.10g, autodiff %.10g", what,
                          p->name, (long long)e, num, ana);
            compared++;
        }
    }
    for (int i = 0; i < t->ngrads; i++)
        ir_tensor_free(&grads[i]);
    for (int i = 0; i < ninputs; i++)
        ir_tensor_free(&inputs[i]);
    free(grads);
    free(inputs);
    return compared;
}

/* ---- tests ---------------------------------------------------------------------------------- */

/* Each case: autodiff's gradient of every param matches central differences. */
START_TEST(test_case)
{
    const GcCase *c = &cases[_i];
    char *text = case_model(c);
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = parse(text, &d);
    ck_assert_msg(g != NULL, "%s: %s", c->name, ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    ck_assert_msg(training_graph(g, &d) != NULL, "%s: %s", c->name, ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    int params = 0;
    for (int v = 0; v < g->nvalues; v++)
        params += ir_val(g, v)->role == IR_ROLE_PARAM && ir_val(g, v)->trainable && !ir_val(g, v)->opt_state;
    ck_assert_msg(g->training->ngrads == params, "%s: %d of %d params have a gradient", c->name, g->training->ngrads,
                  params);
    int n = check_grads(c->name, g, c->nclass, c->tol > 0 ? c->tol : 1e-6, c->eps > 0 ? c->eps : 1e-6, GC_SAMPLES);
    ck_assert_int_gt(n, 0);
    ir_graph_free(g);
    ir_diag_free(&d);
    free(text);
}
END_TEST

/* Every differentiable op of ops.def has at least one case (the loss ops as losses). */
START_TEST(test_every_diff_op_checked)
{
    char missing[1024] = "";
    for (int op = 0; op < IR_OP_COUNT; op++) {
        const IrOpInfo *info = ir_op_info((IrOp)op);
        if (!(info->flags & IR_OPF_DIFF))
            continue;
        char pat[96];
        snprintf(pat, sizeof pat, "'%s'", info->name);
        bool found = false;
        for (int i = 0; i < NCASES && !found; i++)
            found = strstr(cases[i].body, pat) || (cases[i].training && strstr(cases[i].training, pat)) ||
                    (!cases[i].training && op == IR_OP_MSELOSS);
        if (!found) {
            strncat(missing, " ", sizeof missing - strlen(missing) - 1);
            strncat(missing, info->name, sizeof missing - strlen(missing) - 1);
        }
    }
    ck_assert_msg(missing[0] == 0, "differentiable ops without a gradient check:%s", missing);
}
END_TEST

/* float32 -> float64: every float32 value, constant and Cast target becomes float64 (LayerNorm
 * stashes in float64), so central differences are precise; shapes are inferred again. */
static IrGraph *to_f64(const IrGraph *src)
{
    IrGraph *g = ir_graph_clone(src);
    for (int i = 0; i < g->nvalues; i++) {
        IrValue *v = ir_val(g, i);
        if (v->dtype != SRT_F32)
            continue;
        IrDim cnt;
        if (v->data && ir_shape_numel(&v->shape, &cnt) && cnt.a == 0) {
            double *nd = ir_arena_alloc(g->arena, (size_t)(cnt.b ? cnt.b : 1) * sizeof(double));
            for (int64_t e = 0; e < cnt.b; e++)
                nd[e] = ((const float *)v->data)[e];
            v->data = nd;
        }
        v->dtype = SRT_F64;
    }
    for (int i = -1; i < g->nnodes; i++) {
        IrNode *n = i < 0 ? g->training->loss : ir_node(g, i);
        if (n->op == IR_OP_CAST) {
            const IrAttr *a = ir_attr_get(n, "to");
            if ((a->kind == IR_ATTR_STRING && !strcmp(a->s, "float32")) || (a->kind == IR_ATTR_INT && a->i == 1))
                ir_node_set_string(g, n, "to", "float64");
        }
        if (n->op == IR_OP_LAYERNORM)
            ir_node_set_int(g, n, "stash_type", 11);
    }
    IrDiag d;
    ir_diag_init(&d, NULL);
    ck_assert_msg(ir_infer_shapes(g, &d) == 0, "to_f64: %s", ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    ir_diag_free(&d);
    return g;
}

/* The converter: a float32 model becomes float64 throughout, with the same values. */
START_TEST(test_to_f64)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_load_model(tu_src("examples/fmnist_mlp.json"), &d);
    ck_assert_ptr_nonnull(g);
    IrGraph *h = to_f64(g);
    int w = ir_value_find(h, "fc1.weight");
    ck_assert_int_eq(ir_val(h, w)->dtype, SRT_F64);
    ck_assert(((double *)ir_val(h, w)->data)[5] == ((float *)ir_val(g, w)->data)[5]);
    ck_assert_int_eq(ir_val(h, ir_value_find(h, "logits"))->dtype, SRT_F64);
    ck_assert_int_eq(ir_val(h, h->training->loss->out[0])->dtype, SRT_F64);
    ir_graph_free(g);
    ir_graph_free(h);
    ir_diag_free(&d);
}
END_TEST

/* The directional derivative along a random unit direction v over all params at once:
 * (L(p + eps v) - L(p - eps v)) / (2 eps) against sum(grad * v). Two evaluations check every
 * gradient of a big model (the examples); eps 1e-5, tolerance 1e-6 + 1e-5 relative. */
static bool directional_ok(IrGraph *g, int nclass, double *num_out, double *ana_out)
{
    const double eps = 1e-5;
    int ninputs;
    rng_state = 777;
    IrTensor *inputs = make_inputs(g, GC_N, nclass, &ninputs);
    const IrTraining *t = g->training;
    IrTensor *grads = calloc((size_t)t->ngrads + 1, sizeof *grads);
    double **dir = calloc((size_t)t->ngrads + 1, sizeof *dir), **keep = calloc((size_t)t->ngrads + 1, sizeof *keep);
    eval_loss(g, GC_N, inputs, grads);
    double norm = 0, ana = 0;
    for (int i = 0; i < t->ngrads; i++) {
        int64_t m = grads[i].numel;
        dir[i] = malloc((size_t)(m + 1) * sizeof(double));
        keep[i] = malloc((size_t)(m + 1) * sizeof(double));
        memcpy(keep[i], ir_val(g, t->grad_param[i])->data, (size_t)m * sizeof(double));
        for (int64_t e = 0; e < m; e++) {
            dir[i][e] = uniform();
            norm += dir[i][e] * dir[i][e];
        }
    }
    norm = sqrt(norm);
    double loss[2];
    for (int side = 0; side < 2; side++) {
        for (int i = 0; i < t->ngrads; i++) {
            double *data = ir_val(g, t->grad_param[i])->data;
            for (int64_t e = 0; e < grads[i].numel; e++)
                data[e] = keep[i][e] + (side ? -eps : eps) * dir[i][e] / norm;
        }
        loss[side] = eval_loss(g, GC_N, inputs, NULL);
    }
    for (int i = 0; i < t->ngrads; i++) {
        memcpy(ir_val(g, t->grad_param[i])->data, keep[i], (size_t)grads[i].numel * sizeof(double));
        for (int64_t e = 0; e < grads[i].numel; e++)
            ana += ir_tensor_getf(&grads[i], e) * dir[i][e] / norm;
        ir_tensor_free(&grads[i]);
        free(dir[i]);
        free(keep[i]);
    }
    double num = (loss[0] - loss[1]) / (2 * eps);
    *num_out = num;
    *ana_out = ana;
    for (int i = 0; i < ninputs; i++)
        ir_tensor_free(&inputs[i]);
    free(inputs);
    free(grads);
    free(dir);
    free(keep);
    return fabs(num - ana) <= 1e-6 + 1e-5 * fmax(fabs(num), fabs(ana));
}

/* The example models, in float64: the gradient of all params together matches the loss's
 * directional derivative. */
static const char *const examples[] = {"examples/fmnist_mlp.json", "examples/lenet5.json", "examples/resnet_small.json",
                                       "examples/transformer_encoder.json"};

START_TEST(test_example)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_load_model(tu_src(examples[_i]), &d);
    ck_assert_msg(g != NULL, "%s: %s", examples[_i], ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    IrGraph *h = to_f64(g);
    ck_assert_ptr_nonnull(training_graph(h, &d));
    ck_assert_int_gt(h->training->ngrads, 0);
    double num, ana;
    ck_assert_msg(directional_ok(h, 10, &num, &ana), "%s: directional derivative: numeric %.10g, autodiff %.10g",
                  examples[_i], num, ana);
    ck_assert(ana != 0);
    ir_graph_free(g);
    ir_graph_free(h);
    ir_diag_free(&d);
}
END_TEST

/* The directional check itself can fail: a wrong gradient (scaled) is caught. */
START_TEST(test_directional_detects_errors)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_load_model(tu_src("examples/fmnist_mlp.json"), &d);
    ck_assert_ptr_nonnull(g);
    IrGraph *h = to_f64(g);
    ck_assert_ptr_nonnull(training_graph(h, &d));
    /* make the loss gradient twice too large: SCE mean -> the gradient of a sum over N = 3 */
    int gl = ir_value_find(h, "grad/logits");
    ck_assert_int_ge(gl, 0);
    ir_node_set_string(h, ir_node(h, ir_val(h, gl)->producer), "reduction", "sum");
    ck_assert_int_eq(ir_infer_shapes(h, &d), 0);
    double num, ana;
    ck_assert(!directional_ok(h, 10, &num, &ana));
    ck_assert(fabs(ana - 3 * num) < 1e-6 * fabs(num));
    ir_graph_free(g);
    ir_graph_free(h);
    ir_diag_free(&d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gradcheck");
    TCase *tc = tcase_create("ops");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_case, 0, NCASES);
    tcase_add_test(tc, test_every_diff_op_checked);
    suite_add_tcase(s, tc);
    TCase *te = tcase_create("examples");
    tcase_set_timeout(te, 120);
    tcase_add_test(te, test_to_f64);
    tcase_add_loop_test(te, test_example, 0, (int)(sizeof examples / sizeof examples[0]));
    tcase_add_test(te, test_directional_detects_errors);
    suite_add_tcase(s, te);
    return tu_run(s);
}
