/* Tests of the text printer, the DOT printer and the verifier on graphs built with the IR API. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/util/testutil.h"

/* ---- building graphs by hand (types set directly, so no op implementation is needed) ---- */

/* "N,784" -> [N,784]; "2N+1" style dims are not needed here. "" is a scalar. */
static IrShape S(const char *spec)
{
    IrShape s;
    memset(&s, 0, sizeof s);
    const char *p = spec;
    while (*p) {
        ck_assert_int_lt(s.rank, IR_MAX_RANK);
        if (*p == 'N') {
            s.d[s.rank++] = ir_dim_n();
            p++;
        } else {
            char *end;
            s.d[s.rank++] = ir_dim_const(strtoll(p, &end, 10));
            p = end;
        }
        if (*p == ',')
            p++;
    }
    return s;
}

static int val(IrGraph *g, const char *name, IrDtype t, const char *shape, IrRole role)
{
    IrShape s = S(shape);
    int id = ir_value_new(g, name, t, &s, role);
    ck_assert_int_ge(id, 0);
    return id;
}

/* A param or constant whose data is 0, 1, 2, ... scaled by step (any dtype). */
static int data_val(IrGraph *g, const char *name, IrDtype t, const char *shape, IrRole role, double step)
{
    int id = val(g, name, t, shape, role);
    IrValue *v = ir_val(g, id);
    IrDim cnt;
    ck_assert(ir_shape_numel(&v->shape, &cnt) && cnt.a == 0);
    v->data = ir_arena_alloc(g->arena, (size_t)(cnt.b ? cnt.b : 1) * srt_dtype_size(t));
    IrTensor tt = {.dtype = t, .numel = cnt.b, .data = v->data};
    for (int64_t i = 0; i < cnt.b; i++)
        ir_tensor_setf(&tt, i, (double)i * step);
    return id;
}

static void set_io(IrGraph *g, int nin, const int *in, int nout, const int *out)
{
    g->ninputs = nin;
    g->inputs = ir_arena_memdup(g->arena, in, (size_t)(nin ? nin : 1) * sizeof(int));
    g->noutputs = nout;
    g->outputs = ir_arena_memdup(g->arena, out, (size_t)(nout ? nout : 1) * sizeof(int));
    for (int i = 0; i < nout; i++)
        ir_val(g, out[i])->is_output = true;
}

static IrNode *node(IrGraph *g, IrOp op, const char *name, int nin, const int *in, int nout, const int *out)
{
    return ir_node(g, ir_node_new(g, op, name, nin, in, nout, out));
}

/* The DESIGN.md MLP (with a Reshape constant and a training section). */
static IrGraph *mlp(void)
{
    IrGraph *g = ir_graph_new("fmnist_mlp");
    int x = val(g, "x", SRT_F32, "N,784", IR_ROLE_INPUT);
    int w1 = data_val(g, "fc1.weight", SRT_F32, "256,784", IR_ROLE_PARAM, 0.0);
    int b1 = data_val(g, "fc1.bias", SRT_F32, "256", IR_ROLE_PARAM, 0.0);
    int w2 = data_val(g, "fc2.weight", SRT_F32, "10,256", IR_ROLE_PARAM, 0.0);
    int b2 = data_val(g, "fc2.bias", SRT_F32, "10", IR_ROLE_PARAM, 0.0);
    ir_val(g, w1)->init_json = "{\"kind\": \"kaiming_uniform\", \"a\": 2.2360679}";
    ir_val(g, b1)->init_json = "{\"kind\":\"zeros\"}";
    ir_val(g, w2)->from_weights = true;
    g->weights = "/nonexistent/fmnist_mlp.safetensors";
    ir_val(g, b2)->init_json = "{\"kind\": \"uniform\", \"low\": -0.0625, \"high\": 0.0625}";
    ir_val(g, b2)->trainable = false;
    int shape0 = data_val(g, "shape0", SRT_I64, "2", IR_ROLE_CONST, 1.0);
    IrTensor t = {.dtype = SRT_I64, .numel = 2, .data = ir_val(g, shape0)->data};
    ir_tensor_seti(&t, 0, -1);
    ir_tensor_seti(&t, 1, 784);
    int xr = val(g, "xr", SRT_F32, "N,784", IR_ROLE_ACT);
    int h1 = val(g, "h1", SRT_F32, "N,256", IR_ROLE_ACT);
    int a1 = val(g, "a1", SRT_F32, "N,256", IR_ROLE_ACT);
    int logits = val(g, "logits", SRT_F32, "N,10", IR_ROLE_ACT);
    node(g, IR_OP_RESHAPE, "", 2, (int[]){x, shape0}, 1, &xr);
    IrNode *fc1 = node(g, IR_OP_GEMM, "fc1", 3, (int[]){xr, w1, b1}, 1, &h1);
    ir_node_set_int(g, fc1, "transB", 1);
    node(g, IR_OP_RELU, "act1", 1, &h1, 1, &a1);
    IrNode *fc2 = node(g, IR_OP_GEMM, "fc2", 3, (int[]){a1, w2, b2}, 1, &logits);
    ir_node_set_int(g, fc2, "transB", 1);
    ir_node_set_float(g, fc2, "alpha", 0.5);
    set_io(g, 1, &x, 1, &logits);
    return g;
}

/* Adds the DESIGN.md training section (labels y, SCE loss outside g->nodes, adam). */
static void add_training(IrGraph *g)
{
    int y = val(g, "y", SRT_I64, "N", IR_ROLE_INPUT);
    ir_val(g, y)->training_input = true;
    int loss = val(g, "loss", SRT_F32, "", IR_ROLE_ACT);
    IrNode *l = ir_arena_alloc(g->arena, sizeof *l);
    l->id = -1;
    l->group = -1;
    l->op = IR_OP_SCELOSS;
    l->name = "";
    l->where = "training.loss";
    l->nin = 2;
    l->in = ir_arena_memdup(g->arena, (int[]){ir_value_find(g, "logits"), y}, 2 * sizeof(int));
    l->nout = 1;
    l->out = ir_arena_memdup(g->arena, &loss, sizeof(int));
    ir_node_set_string(g, l, "reduction", "mean");
    g->training = ir_arena_alloc(g->arena, sizeof *g->training);
    g->training->ninputs = 1;
    g->training->inputs = ir_arena_memdup(g->arena, &y, sizeof(int));
    g->training->loss = l;
    g->training->opt = (IrOptimizer){.kind = IR_OPTIM_ADAM, .lr = 0.001, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
}

static char *text_of(const IrGraph *g, bool show_data)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    IrPrintOptions opt = {.show_data = show_data};
    ir_print_text(g, f, &opt);
    fclose(f);
    return buf;
}

static char *dot_of(const IrGraph *g)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    ir_print_dot(g, f);
    fclose(f);
    return buf;
}

/* The line of text that contains needle (for focused assertions), as a static copy. */
static const char *line_with(const char *text, const char *needle)
{
    static char line[4096];
    const char *p = strstr(text, needle);
    ck_assert_msg(p != NULL, "no line contains \"%s\" in:\n%s", needle, text);
    while (p > text && p[-1] != '\n')
        p--;
    const char *e = strchr(p, '\n');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    ck_assert_uint_lt(len, sizeof line);
    memcpy(line, p, len);
    line[len] = 0;
    return line;
}

/* ---- text printer ------------------------------------------------------------------------ */

/* The whole MLP prints as documented: declarations, nodes with types and names, outputs. */
START_TEST(text_mlp)
{
    IrGraph *g = mlp();
    char *s = text_of(g, false);
    ck_assert_str_eq(s,
                     "model fmnist_mlp (seed 0)\n"
                     "weights \"/nonexistent/fmnist_mlp.safetensors\"\n"
                     "input %x : f32[N,784]\n"
                     "param %fc1.weight : f32[256,784] init kaiming_uniform a=2.2360679\n"
                     "param %fc1.bias : f32[256] init zeros\n"
                     "param %fc2.weight : f32[10,256] from weights\n"
                     "param %fc2.bias : f32[10] init uniform low=-0.0625 high=0.0625 frozen\n"
                     "const %shape0 : i64[2] = [-1, 784]\n"
                     "%xr = Reshape(%x, %shape0) : f32[N,784]\n"
                     "%h1 = Gemm(%xr, %fc1.weight, %fc1.bias) {transB=1} : f32[N,256]    # fc1\n"
                     "%a1 = Relu(%h1) : f32[N,256]    # act1\n"
                     "%logits = Gemm(%a1, %fc2.weight, %fc2.bias) {alpha=0.5, transB=1} : f32[N,10]    # fc2\n"
                     "output %logits\n");
    free(s);
    ir_graph_free(g);
}
END_TEST

/* The training section lists labels, the loss node and the optimizer's hyperparameters. */
START_TEST(text_training)
{
    IrGraph *g = mlp();
    add_training(g);
    char *s = text_of(g, false);
    const char *tail = strstr(s, "output %logits\n");
    ck_assert_ptr_nonnull(tail);
    ck_assert_str_eq(tail, "output %logits\n"
                           "training input %y : i64[N]\n"
                           "training loss %loss = SoftmaxCrossEntropyLoss(%logits, %y) {reduction=\"mean\"} : f32[]\n"
                           "training optimizer adam lr=0.001 beta1=0.9 beta2=0.999 eps=1e-08 weight_decay=0\n");
    free(s);
    g->training->opt = (IrOptimizer){.kind = IR_OPTIM_SGD, .lr = 0.1, .momentum = 0.9, .nesterov = true,
                                     .weight_decay = 5e-4};
    s = text_of(g, false);
    ck_assert_str_eq(line_with(s, "optimizer"),
                     "training optimizer sgd lr=0.1 momentum=0.9 dampening=0 nesterov=true weight_decay=0.0005");
    free(s);
    ir_graph_free(g);
}
END_TEST

/* Names outside [A-Za-z0-9_.] are quoted, with quotes, backslashes and newlines escaped. */
START_TEST(text_quoted_names)
{
    IrGraph *g = ir_graph_new("m");
    int x = val(g, "onnx::Conv_70", SRT_F32, "N,4", IR_ROLE_INPUT);
    int y = val(g, "/attn/q", SRT_F32, "N,4", IR_ROLE_ACT);
    int z = val(g, "a \"b\"\\c\nd", SRT_F32, "N,4", IR_ROLE_ACT);
    int w = val(g, "0", SRT_F32, "N,4", IR_ROLE_ACT);
    node(g, IR_OP_RELU, "/attn/Relu", 1, &x, 1, &y);
    node(g, IR_OP_NEG, "", 1, &y, 1, &z);
    node(g, IR_OP_ABS, "", 1, &z, 1, &w);
    set_io(g, 1, &x, 1, &w);
    char *s = text_of(g, false);
    ck_assert_str_eq(s, "model m (seed 0)\n"
                        "input %\"onnx::Conv_70\" : f32[N,4]\n"
                        "%\"/attn/q\" = Relu(%\"onnx::Conv_70\") : f32[N,4]    # /attn/Relu\n"
                        "%\"a \\\"b\\\"\\\\c\\nd\" = Neg(%\"/attn/q\") : f32[N,4]\n"
                        "%0 = Abs(%\"a \\\"b\\\"\\\\c\\nd\") : f32[N,4]\n"
                        "output %0\n");
    free(s);
    ir_graph_free(g);
}
END_TEST

/* Absent optional inputs and unused optional outputs print as _. */
START_TEST(text_absent_optional)
{
    IrGraph *g = ir_graph_new("m");
    int x = val(g, "x", SRT_F32, "N,4", IR_ROLE_INPUT);
    int hi = data_val(g, "hi", SRT_F32, "", IR_ROLE_CONST, 1.0);
    ir_tensor_setf(&(IrTensor){.dtype = SRT_F32, .numel = 1, .data = ir_val(g, hi)->data}, 0, 6.0);
    int c = val(g, "c", SRT_F32, "N,4", IR_ROLE_ACT);
    int ln = val(g, "ln", SRT_F32, "N,4", IR_ROLE_ACT);
    int inv = val(g, "inv", SRT_F32, "N,1", IR_ROLE_ACT);
    int scale = data_val(g, "scale", SRT_F32, "4", IR_ROLE_PARAM, 1.0);
    node(g, IR_OP_CLIP, "", 3, (int[]){x, -1, hi}, 1, &c);
    node(g, IR_OP_LAYERNORM, "", 2, (int[]){c, scale}, 3, (int[]){ln, -1, inv});
    set_io(g, 1, &x, 1, &ln);
    char *s = text_of(g, false);
    ck_assert_str_eq(line_with(s, "const"), "const %hi : f32[] = 6");
    ck_assert_str_eq(line_with(s, "param"), "param %scale : f32[4] = [0, 1, 2, 3]");
    ck_assert_str_eq(line_with(s, "Clip"), "%c = Clip(%x, _, %hi) : f32[N,4]");
    ck_assert_str_eq(line_with(s, "LayerNorm"), "%ln, _, %inv = LayerNormalization(%c, %scale) : f32[N,4], _, f32[N,1]");
    free(s);
    ir_graph_free(g);
}
END_TEST

/* A multi-output node lists every output and every type. */
START_TEST(text_multi_output)
{
    IrGraph *g = ir_graph_new("m");
    int x = val(g, "x", SRT_F32, "N,4", IR_ROLE_INPUT);
    int a = val(g, "a", SRT_F32, "N,2", IR_ROLE_ACT);
    int b = val(g, "b", SRT_F32, "N,2", IR_ROLE_ACT);
    IrNode *n = node(g, IR_OP_SPLIT, "", 1, &x, 2, (int[]){a, b});
    ir_node_set_int(g, n, "axis", 1);
    set_io(g, 1, &x, 2, (int[]){a, b});
    char *s = text_of(g, false);
    ck_assert_str_eq(line_with(s, "Split"), "%a, %b = Split(%x) {axis=1} : f32[N,2], f32[N,2]");
    ck_assert_str_eq(strstr(s, "output"), "output %a\noutput %b\n");
    free(s);
    ir_graph_free(g);
}
END_TEST

/* Symbolic content shows after the type; a constant-shaped untyped value prints as ?. */
START_TEST(text_sym_and_untyped)
{
    IrGraph *g = ir_graph_new("m");
    int x = val(g, "x", SRT_F32, "N,8,16", IR_ROLE_INPUT);
    int sh = val(g, "sh", SRT_I64, "3", IR_ROLE_ACT);
    int y = ir_value_new(g, "y", SRT_F32, NULL, IR_ROLE_ACT);
    IrNode *n = node(g, IR_OP_SHAPE, "", 1, &x, 1, &sh);
    (void)n;
    ir_val(g, sh)->sym = ir_arena_memdup(g->arena, (IrDim[]){ir_dim_n(), ir_dim_const(8), {2, -1}}, 3 * sizeof(IrDim));
    node(g, IR_OP_RELU, "", 1, &x, 1, &y);
    set_io(g, 1, &x, 1, &y);
    char *s = text_of(g, false);
    ck_assert_str_eq(line_with(s, "Shape"), "%sh = Shape(%x) : i64[3] = sym[N, 8, 2N-1]");
    ck_assert_str_eq(line_with(s, "Relu"), "%y = Relu(%x) : ?");
    free(s);
    ir_graph_free(g);
}
END_TEST

/* Large constants are summarized (min/max, NaNs counted) unless show_data asks for all. */
START_TEST(text_large_const)
{
    IrGraph *g = ir_graph_new("m");
    int c = data_val(g, "c", SRT_F32, "4,256", IR_ROLE_CONST, 0.5);
    data_val(g, "k", SRT_I32, "17", IR_ROLE_CONST, -1.0);
    int nanc = data_val(g, "nanc", SRT_F64, "20", IR_ROLE_CONST, 0.25);
    IrTensor t = {.dtype = SRT_F64, .numel = 20, .data = ir_val(g, nanc)->data};
    ir_tensor_setf(&t, 3, 0.0 / 0.0);
    ir_tensor_setf(&t, 7, 0.0 / 0.0);
    ir_tensor_setf(&t, 0, -1.0 / 0.0);
    int y = val(g, "y", SRT_F32, "4,256", IR_ROLE_ACT);
    node(g, IR_OP_NEG, "", 1, &c, 1, &y);
    set_io(g, 0, NULL, 1, &y);
    char *s = text_of(g, false);
    ck_assert_str_eq(line_with(s, "const %c"), "const %c : f32[4,256] = <1024 values, min 0 max 511.5>");
    ck_assert_str_eq(line_with(s, "const %k"), "const %k : i32[17] = <17 values, min -16 max 0>");
    ck_assert_str_eq(line_with(s, "const %nanc"), "const %nanc : f64[20] = <20 values, min -inf max 4.75, 2 nan>");
    free(s);
    s = text_of(g, true);
    ck_assert_str_eq(line_with(s, "const %k"),
                     "const %k : i32[17] = [0, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -13, -14, -15, -16]");
    ck_assert_ptr_nonnull(strstr(s, "const %c : f32[4,256] = [0, 0.5, 1, 1.5, "));
    ck_assert_ptr_nonnull(strstr(s, ", 511, 511.5]\n"));
    free(s);
    ir_graph_free(g);
}
END_TEST

/* Float data and attributes print with the shortest digits that round-trip; special values. */
START_TEST(text_floats)
{
    IrGraph *g = ir_graph_new("m");
    int c = data_val(g, "c", SRT_F32, "6", IR_ROLE_CONST, 0.0);
    int d = data_val(g, "d", SRT_F64, "3", IR_ROLE_CONST, 0.0);
    int b = data_val(g, "b", SRT_BOOL, "3", IR_ROLE_CONST, 1.0);
    data_val(g, "e", SRT_I64, "0", IR_ROLE_CONST, 1.0);
    float cf[6] = {0.1f, 1e-8f, 3.4028235e38f, -0.0f, 1.0f / 0.0f, 0.0f / 0.0f};
    memcpy(ir_val(g, c)->data, cf, sizeof cf);
    double dd[3] = {0.1, 1.0 / 3.0, -1e300};
    memcpy(ir_val(g, d)->data, dd, sizeof dd);
    ((uint8_t *)ir_val(g, b)->data)[1] = 0;
    int x = val(g, "x", SRT_F32, "N,3", IR_ROLE_INPUT);
    int y = val(g, "y", SRT_F32, "N,3", IR_ROLE_ACT);
    int z = val(g, "z", SRT_F32, "N,3", IR_ROLE_ACT);
    IrNode *n = node(g, IR_OP_LEAKYRELU, "", 1, &x, 1, &y);
    ir_node_set_float(g, n, "alpha", 0.1);
    n = node(g, IR_OP_LAYERNORM, "", 2, (int[]){y, c}, 1, &z);
    ir_node_set_float(g, n, "epsilon", 1e-5);
    ir_node_set_int(g, n, "axis", -1);
    set_io(g, 1, &x, 1, &z);
    char *s = text_of(g, false);
    ck_assert_str_eq(line_with(s, "const %c"), "const %c : f32[6] = [0.1, 1e-08, 3.4028235e+38, -0, inf, nan]");
    ck_assert_str_eq(line_with(s, "const %d"), "const %d : f64[3] = [0.1, 0.3333333333333333, -1e+300]");
    ck_assert_str_eq(line_with(s, "const %b"), "const %b : bool[3] = [false, false, true]");
    ck_assert_str_eq(line_with(s, "const %e"), "const %e : i64[0] = []");
    ck_assert_str_eq(line_with(s, "LeakyRelu"), "%y = LeakyRelu(%x) {alpha=0.1} : f32[N,3]");
    /* spec order (axis before epsilon), not the order the attributes were set in */
    ck_assert_str_eq(line_with(s, "LayerNorm"), "%z = LayerNormalization(%y, %c) {axis=-1, epsilon=1e-05} : f32[N,3]");
    free(s);
    ir_graph_free(g);
}
END_TEST

/* Every attribute kind: ints lists, strings with escapes, float lists, tensors. */
START_TEST(text_attr_kinds)
{
    IrGraph *g = ir_graph_new("m");
    int x = val(g, "x", SRT_F32, "N,1,28,28", IR_ROLE_INPUT);
    int w = data_val(g, "w", SRT_F32, "6,1,5,5", IR_ROLE_PARAM, 0.0);
    int y = val(g, "y", SRT_F32, "N,6,28,28", IR_ROLE_ACT);
    int sh = data_val(g, "sh", SRT_I64, "2", IR_ROLE_CONST, 2.0);
    int z = val(g, "z", SRT_F32, "0,2", IR_ROLE_ACT);
    IrNode *n = node(g, IR_OP_CONV, "conv1", 2, (int[]){x, w}, 1, &y);
    ir_node_set_ints(g, n, "strides", 2, (int64_t[]){1, 1});
    ir_node_set_ints(g, n, "pads", 4, (int64_t[]){2, 2, 2, 2});
    ir_node_set_ints(g, n, "kernel_shape", 2, (int64_t[]){5, 5});
    ir_node_set_string(g, n, "auto_pad", "NOT\"SET");
    n = node(g, IR_OP_CONSTOFSHAPE, "", 1, &sh, 1, &z);
    float one = 1.5f;
    IrAttr t = {.name = "value", .kind = IR_ATTR_TENSOR, .n = 1, .tdtype = SRT_F32, .tshape = S("1"), .tdata = &one};
    ir_node_set_attrs(g, n, 1, &t);
    set_io(g, 1, &x, 2, (int[]){y, z});
    char *s = text_of(g, false);
    ck_assert_str_eq(line_with(s, "Conv("),
                     "%y = Conv(%x, %w) {auto_pad=\"NOT\\\"SET\", kernel_shape=[5, 5], pads=[2, 2, 2, 2], "
                     "strides=[1, 1]} : f32[N,6,28,28]    # conv1");
    ck_assert_str_eq(line_with(s, "ConstantOfShape"), "%z = ConstantOfShape(%sh) {value=tensor<f32[1]>[1.5]} : f32[0,2]");
    free(s);
    ir_graph_free(g);
}
END_TEST

/* Printing is deterministic and does not change the graph (twice gives the same text). */
START_TEST(text_deterministic)
{
    IrGraph *g = mlp();
    add_training(g);
    char *a = text_of(g, true), *b = text_of(g, true);
    ck_assert_str_eq(a, b);
    IrGraph *c = ir_graph_clone(g);
    char *cc = text_of(c, true);
    ck_assert_str_eq(a, cc);
    free(a);
    free(b);
    free(cc);
    ir_graph_free(c);
    ir_graph_free(g);
}
END_TEST

/* ---- DOT printer ------------------------------------------------------------------------- */

/* Runs `dot -Tsvg` on text; returns its exit status, or -1 when graphviz is missing. */
static int run_dot(const char *text)
{
    if (system("command -v dot >/dev/null 2>&1") != 0)
        return -1;
    const char *dir = tu_tmpdir();
    char in[256], cmd[1024];
    snprintf(in, sizeof in, "%s/g.dot", dir);
    tu_write_text(in, text);
    snprintf(cmd, sizeof cmd, "dot -Tsvg %s -o %s/g.svg 2>%s/err.txt", in, dir, dir);
    int st = system(cmd);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}

/* The MLP renders: ops as boxes with their names, params folded into labels, typed edges. */
START_TEST(dot_mlp)
{
    IrGraph *g = mlp();
    add_training(g);
    char *s = dot_of(g);
    ck_assert_ptr_nonnull(strstr(s, "digraph \"fmnist_mlp\" {\n"));
    ck_assert_ptr_nonnull(strstr(s, "<b>Gemm</b><br/>fc1<br/><font point-size=\"8\">transB=1<br/><font "
                                    "color=\"#4b5563\">fc1.weight f32[256,784]</font><br/><font "
                                    "color=\"#4b5563\">fc1.bias f32[256]</font></font>"));
    ck_assert_ptr_nonnull(strstr(s, "shape0 = [-1, 784]"));
    ck_assert_ptr_nonnull(strstr(s, "fc2.bias f32[10] (frozen)"));
    ck_assert_ptr_nonnull(strstr(s, "  n1 -> n2 [label=\" f32[N,256]\"];\n"));
    ck_assert_ptr_nonnull(strstr(s, "  v0 -> n0 [label=\" f32[N,784]\"];\n"));
    ck_assert_ptr_nonnull(strstr(s, "  n3 -> out0 [label=\" f32[N,10]\"];\n"));
    ck_assert_ptr_nonnull(strstr(s, "  n3 -> loss [label=\" f32[N,10]\", style=dashed];\n"));
    ck_assert_ptr_nonnull(strstr(s, "-> loss [label=\" i64[N]\", style=dashed];\n"));
    ck_assert_str_eq(s + strlen(s) - 2, "}\n");
    int st = run_dot(s);
    ck_assert_msg(st == 0 || st == -1, "dot -Tsvg failed with status %d on:\n%s", st, s);
    free(s);
    ir_graph_free(g);
}
END_TEST

/* Conv/pool labels show the window (kernel, stride, pads); odd names are escaped. */
START_TEST(dot_escaping_and_windows)
{
    IrGraph *g = ir_graph_new("m");
    int x = val(g, "in<\"&>", SRT_F32, "N,1,28,28", IR_ROLE_INPUT);
    int w = data_val(g, "w", SRT_F32, "6,1,5,5", IR_ROLE_PARAM, 0.0);
    int y = val(g, "y", SRT_F32, "N,6,14,14", IR_ROLE_ACT);
    int p = val(g, "p", SRT_F32, "N,6,7,7", IR_ROLE_ACT);
    IrNode *n = node(g, IR_OP_CONV, "conv\"1\"", 2, (int[]){x, w}, 1, &y);
    ir_node_set_ints(g, n, "kernel_shape", 2, (int64_t[]){5, 5});
    ir_node_set_ints(g, n, "strides", 2, (int64_t[]){2, 2});
    ir_node_set_ints(g, n, "pads", 4, (int64_t[]){2, 2, 2, 2});
    n = node(g, IR_OP_MAXPOOL, "pool", 1, &y, 1, &p);
    ir_node_set_ints(g, n, "kernel_shape", 2, (int64_t[]){2, 2});
    ir_node_set_ints(g, n, "pads", 4, (int64_t[]){0, 0, 0, 0});
    ir_node_set_ints(g, n, "strides", 2, (int64_t[]){1, 2});
    set_io(g, 1, &x, 1, &p);
    char *s = dot_of(g);
    ck_assert_ptr_nonnull(strstr(s, "<b>in&lt;&quot;&amp;&gt;</b><br/>input f32[N,1,28,28]"));
    ck_assert_ptr_nonnull(strstr(s, "<b>Conv</b><br/>conv&quot;1&quot;<br/><font point-size=\"8\">5x5 stride 2 "
                                    "pad 2<br/><font color=\"#4b5563\">w f32[6,1,5,5]</font></font>"));
    ck_assert_ptr_nonnull(strstr(s, "<b>MaxPool</b><br/>pool<br/><font point-size=\"8\">2x2 stride 1,2</font>"));
    int st = run_dot(s);
    ck_assert_msg(st == 0 || st == -1, "dot -Tsvg failed with status %d on:\n%s", st, s);
    free(s);
    ir_graph_free(g);
}
END_TEST

/* ---- verifier ------------------------------------------------------------------------ */

/* Runs the verifier; returns its diagnostics joined by newlines (static), "" when valid. */
static const char *verify_msgs(const IrGraph *g)
{
    static char buf[8192];
    IrDiag d;
    ir_diag_init(&d, NULL);
    int rc = ir_verify(g, &d);
    buf[0] = 0;
    for (int i = 0; i < d.count; i++) {
        strncat(buf, d.msgs[i], sizeof buf - strlen(buf) - 2);
        strcat(buf, "\n");
    }
    ck_assert_int_eq(rc, d.count ? -1 : 0);
    ir_diag_free(&d);
    return buf;
}

/* A well-formed graph (with training) has no findings. */
START_TEST(verify_ok)
{
    IrGraph *g = mlp();
    add_training(g);
    ck_assert_str_eq(verify_msgs(g), "");
    ir_graph_free(g);
}
END_TEST

/* Arity outside the op table's range, named with the node's JSON path and name. */
START_TEST(verify_arity)
{
    IrGraph *g = mlp();
    IrNode *relu = ir_node(g, 2);
    relu->where = "nodes[2]";
    relu->nin = 2;
    relu->in = ir_arena_memdup(g->arena, (int[]){relu->in[0], relu->in[0]}, 2 * sizeof(int));
    IrNode *gemm = ir_node(g, 1);
    gemm->nin = 1;
    ck_assert_str_eq(verify_msgs(g), "node \"fc1\" (Gemm): has 1 inputs; Gemm takes 2 to 3\n"
                                     "nodes[2] \"act1\" (Relu): has 2 inputs; Relu takes 1\n");
    ir_graph_free(g);
}
END_TEST

/* A required input may not be absent; optional ones may. */
START_TEST(verify_absent_required)
{
    IrGraph *g = mlp();
    ir_node(g, 1)->in[2] = -1;   /* Gemm's C is optional */
    ck_assert_str_eq(verify_msgs(g), "");
    ir_node(g, 1)->in[1] = -1;
    ck_assert_str_eq(verify_msgs(g), "node \"fc1\" (Gemm): inputs[1] is absent but Gemm requires it\n");
    ir_graph_free(g);
}
END_TEST

/* A value produced by two nodes. */
START_TEST(verify_produced_twice)
{
    IrGraph *g = mlp();
    ir_node(g, 2)->out[0] = ir_value_find(g, "a1");
    ir_node(g, 2)->in[0] = ir_value_find(g, "a1");     /* act1 reads its own output */
    ck_assert_str_eq(verify_msgs(g), "node \"act1\" (Relu): inputs[0] \"a1\" is also its own output (a cycle)\n");
    ir_node(g, 2)->in[0] = ir_value_find(g, "h1");
    ir_node(g, 2)->out[0] = ir_value_find(g, "h1");   /* act1 now claims fc1's output */
    ck_assert_str_eq(verify_msgs(g), "node \"act1\" (Relu): inputs[0] \"h1\" is also its own output (a cycle)\n"
                                     "node \"act1\" (Relu): outputs[0] \"h1\" is also produced by another node\n"
                                     "node \"fc2\" (Gemm): inputs[0] \"a1\" is an activation that no node produces\n"
                                     "value \"a1\": names node 2 as its producer, which does not produce it\n");
    ir_graph_free(g);
}
END_TEST

/* Inputs must be produced by an earlier node (topological order). */
START_TEST(verify_order)
{
    IrGraph *g = mlp();
    IrNode *t = g->nodes[1];
    g->nodes[1] = g->nodes[2];
    g->nodes[2] = t;
    g->nodes[1]->id = 1;
    g->nodes[2]->id = 2;
    ir_val(g, ir_value_find(g, "h1"))->producer = 2;
    ir_val(g, ir_value_find(g, "a1"))->producer = 1;
    ck_assert_str_eq(verify_msgs(g), "node \"act1\" (Relu): inputs[0] \"h1\" is used before it is produced "
                                     "(nodes are not in topological order)\n");
    ir_graph_free(g);
}
END_TEST

/* Producer fields must agree with the nodes; node ids with their positions. */
START_TEST(verify_producers)
{
    IrGraph *g = mlp();
    ir_val(g, ir_value_find(g, "a1"))->producer = 0;
    ir_node(g, 3)->id = 7;
    ck_assert_str_eq(verify_msgs(g), "node \"act1\" (Relu): outputs[0] \"a1\" names node 0 as its producer\n"
                                     "node \"fc2\" (Gemm): has id 7 but sits at index 3\n");
    ir_graph_free(g);
}
END_TEST

/* Two nodes producing the same value. */
START_TEST(verify_two_producers)
{
    IrGraph *g = mlp();
    int a1 = ir_value_find(g, "a1");
    int x = ir_value_find(g, "x");
    node(g, IR_OP_RELU, "again", 1, &x, 1, &a1);   /* producer now points at the new node */
    ck_assert_str_eq(verify_msgs(g), "node \"act1\" (Relu): outputs[0] \"a1\" names node 4 as its producer\n"
                                     "node \"again\" (Relu): outputs[0] \"a1\" is also produced by another node\n");
    ir_graph_free(g);
}
END_TEST

/* Every value must be typed. */
START_TEST(verify_untyped)
{
    IrGraph *g = mlp();
    ir_val(g, ir_value_find(g, "a1"))->typed = false;
    ck_assert_str_eq(verify_msgs(g), "value \"a1\": has no type (run shape inference first)\n");
    ir_graph_free(g);
}
END_TEST

/* Attribute kinds must match the spec; unknown, duplicate and missing required ones. */
START_TEST(verify_attrs)
{
    IrGraph *g = mlp();
    IrNode *fc1 = ir_node(g, 1);
    ir_node_set_string(g, fc1, "transB", "yes");
    ir_node_set_int(g, fc1, "transC", 1);
    ir_node_set_int(g, fc1, "alpha", 2);   /* an int where a float is expected: accepted */
    int x = ir_value_find(g, "x");
    int cat = val(g, "cat", SRT_F32, "N,1568", IR_ROLE_ACT);
    node(g, IR_OP_CONCAT, "", 2, (int[]){x, x}, 1, &cat);
    ck_assert_str_eq(verify_msgs(g), "node \"fc1\" (Gemm): attribute \"transB\" is a string; Gemm expects an int\n"
                                     "node \"fc1\" (Gemm): attribute \"transC\" is not an attribute of Gemm\n"
                                     "node (Concat): required attribute \"axis\" is missing\n");
    IrAttr two[2] = {{.name = "axis", .kind = IR_ATTR_INT, .i = 1}, {.name = "axis", .kind = IR_ATTR_INT, .i = 1}};
    ir_node_set_attrs(g, ir_node(g, 4), 2, two);
    ir_node_set_attrs(g, fc1, 0, NULL);
    ck_assert_str_eq(verify_msgs(g), "node (Concat): attribute \"axis\" is set twice\n");
    ir_graph_free(g);
}
END_TEST

/* Params and constants need data and a constant shape. */
START_TEST(verify_data)
{
    IrGraph *g = mlp();
    IrValue *w = ir_val(g, ir_value_find(g, "fc1.weight"));
    w->where = "params[0]";
    w->data = NULL;
    IrValue *c = ir_val(g, ir_value_find(g, "shape0"));
    c->shape = S("N");
    ck_assert_str_eq(verify_msgs(g),
                     "params[0] \"fc1.weight\": param has no data\n"
                     "value \"shape0\": constant has type i64[N]; params and constants need a constant shape\n");
    ir_graph_free(g);
}
END_TEST

/* Graph outputs must exist and agree with the is_output flags; a graph needs outputs. */
START_TEST(verify_outputs)
{
    IrGraph *g = mlp();
    g->outputs[0] = 99;
    ck_assert_str_eq(verify_msgs(g), "graph: outputs[0] refers to value id 99, which does not exist\n"
                                     "value \"logits\": is marked as an output but is not in the graph outputs\n");
    g->outputs[0] = ir_value_find(g, "a1");
    ck_assert_str_eq(verify_msgs(g), "value \"a1\": is graph outputs[0] but is not marked as an output\n"
                                     "value \"logits\": is marked as an output but is not in the graph outputs\n");
    g->noutputs = 0;
    ir_val(g, ir_value_find(g, "logits"))->is_output = false;
    ck_assert_str_eq(verify_msgs(g), "graph: has no outputs\n");
    ir_graph_free(g);
}
END_TEST

/* Node inputs must refer to existing values; activations need a producer. */
START_TEST(verify_refs)
{
    IrGraph *g = mlp();
    ir_node(g, 2)->in[0] = 1000;
    int ghost = val(g, "ghost", SRT_F32, "N,256", IR_ROLE_ACT);
    ir_node(g, 3)->in[0] = ghost;
    ck_assert_str_eq(verify_msgs(g),
                     "node \"act1\" (Relu): inputs[0] refers to value id 1000, which does not exist (the graph has 11 values)\n"
                     "node \"fc2\" (Gemm): inputs[0] \"ghost\" is an activation that no node produces\n");
    ir_graph_free(g);
}
END_TEST

/* A node may not write an input, param or constant. */
START_TEST(verify_output_roles)
{
    IrGraph *g = mlp();
    int w = ir_value_find(g, "fc1.weight");
    ir_node(g, 2)->out[0] = w;
    ck_assert_str_eq(verify_msgs(g),
                     "node \"act1\" (Relu): outputs[0] \"fc1.weight\" is a param, not an activation\n"
                     "node \"fc2\" (Gemm): inputs[0] \"a1\" is an activation that no node produces\n"
                     "value \"a1\": names node 2 as its producer, which does not produce it\n");
    ir_graph_free(g);
}
END_TEST

/* Graph and training inputs have the right roles; the loss is a loss op outside the nodes. */
START_TEST(verify_training)
{
    IrGraph *g = mlp();
    add_training(g);
    ir_val(g, ir_value_find(g, "y"))->training_input = false;
    g->training->loss->op = IR_OP_RELU;
    g->training->loss->nin = 1;
    g->training->loss->nattrs = 0;
    ck_assert_str_eq(verify_msgs(g),
                     "value \"y\": is listed as training inputs[0] but is an input not marked as a training input\n"
                     "training.loss (Relu): Relu is not a loss op\n");
    ir_graph_free(g);
}
END_TEST

/* Symbolic content only on integer tensors of constant shape. */
START_TEST(verify_sym)
{
    IrGraph *g = mlp();
    IrValue *v = ir_val(g, ir_value_find(g, "a1"));
    v->sym = ir_arena_alloc(g->arena, sizeof(IrDim));
    ck_assert_str_eq(verify_msgs(g),
                     "value \"a1\": has symbolic content but type f32[N,256] (needs an integer type of constant shape)\n");
    ir_graph_free(g);
}
END_TEST

/* Value ids and the name index must agree with the value array. */
START_TEST(verify_value_ids)
{
    IrGraph *g = mlp();
    ir_val(g, 3)->id = 5;
    ir_val(g, 4)->name = "fc1.bias";
    ck_assert_str_eq(verify_msgs(g),
                     "value \"fc2.weight\": has id 5 but sits at index 3\n"
                     "value \"fc1.bias\": name lookup finds value 2 instead of 4 (duplicate name or stale index)\n");
    ir_graph_free(g);
}
END_TEST

/* The training graph's update and gradient lists: valid ids, roles and matching types. */
START_TEST(verify_training_lists)
{
    IrGraph *g = mlp();
    add_training(g);
    int w1 = ir_value_find(g, "fc1.weight"), b1 = ir_value_find(g, "fc1.bias");
    int h1 = ir_value_find(g, "h1"), a1 = ir_value_find(g, "a1"), x = ir_value_find(g, "x");
    IrTraining *t = g->training;
    t->nupdates = 2;
    t->update_dst = ir_arena_memdup(g->arena, (int[]){b1, x}, 2 * sizeof(int));
    t->update_src = ir_arena_memdup(g->arena, (int[]){a1, 77}, 2 * sizeof(int));
    t->ngrads = 2;
    t->grad_param = ir_arena_memdup(g->arena, (int[]){w1, ir_value_find(g, "fc2.bias")}, 2 * sizeof(int));
    t->grad_value = ir_arena_memdup(g->arena, (int[]){h1, h1}, 2 * sizeof(int));
    ck_assert_str_eq(verify_msgs(g),
                     "value \"fc1.bias\": has type f32[256] but its update \"a1\" has type f32[N,256]\n"
                     "value \"x\": is training update_dst[1] but is an input, not a param\n"
                     "training: update_src[1] refers to value id 77, which does not exist\n"
                     "value \"fc1.weight\": has type f32[256,784] but its gradient \"h1\" has type f32[N,256]\n"
                     "value \"fc2.bias\": has a gradient but is not trainable\n"
                     "value \"fc2.bias\": has type f32[10] but its gradient \"h1\" has type f32[N,256]\n");
    t->update_dst = NULL;
    ck_assert_str_eq(verify_msgs(g), "training: has 2 updates and 2 gradients but not their lists\n");
    ir_graph_free(g);
}
END_TEST

static int rnd(uint64_t *s, int k)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return k > 0 ? (int)((*s >> 33) % (uint64_t)k) : 0;
}

/* Random corruptions of a valid graph: the verifier reports them (never crashes), and both
 * printers still print something for whatever is left. */
START_TEST(verify_random_corruptions)
{
    uint64_t seed = 12345;
#define RND(k) rnd(&seed, (k))
    for (int round = 0; round < 400; round++) {
        IrGraph *g = mlp();
        add_training(g);
        int nv = g->nvalues;
        for (int m = 0; m < 1 + RND(3); m++) {
            IrNode *n = ir_node(g, RND(g->nnodes));
            IrValue *v = ir_val(g, RND(nv));
            switch (RND(10)) {
            case 0: if (n->nin) { int k = RND(n->nin); n->in[k] = RND(nv + 6) - 3; } break;
            case 1: n->out[0] = RND(nv + 6) - 3; break;
            case 2: v->producer = RND(g->nnodes + 4) - 2; break;
            case 3: v->role = (IrRole)RND(IR_ROLE_COUNT + 1); break;
            case 4: v->typed = !v->typed; break;
            case 5: v->is_output = !v->is_output; break;
            case 6: g->outputs[0] = RND(nv + 6) - 3; break;
            case 7: n->nin = RND(n->nin + 1); break;
            case 8: if (n->nattrs) n->attrs[0].kind = (IrAttrKind)RND(IR_ATTR_TENSOR + 1); break;
            case 9: v->data = NULL; break;
            }
        }
        IrDiag d;
        ir_diag_init(&d, NULL);
        int rc = ir_verify(g, &d);
        ck_assert(rc == 0 || d.count > 0);
        ir_diag_free(&d);
        char *t = text_of(g, false), *dt = dot_of(g);
        ck_assert(strlen(t) > 0 && strlen(dt) > 0);
        free(t);
        free(dt);
        ir_graph_free(g);
    }
#undef RND
}
END_TEST

/* Records: checked against role and data, printed (scales summarised), kept by clone. */
START_TEST(verify_records)
{
    IrGraph *g = mlp();
    IrValue *w = ir_val(g, ir_value_find(g, "fc1.weight"));
    IrQuant q = {.bits = 8, .axis = 0, .nscales = 256};
    q.scale = ir_arena_alloc(g->arena, 256 * sizeof(float));
    for (int i = 0; i < 256; i++)
        q.scale[i] = 0.5f + (float)i / 512;
    w->quant = ir_quant_copy(g->arena, &q);
    IrSparse sp = {.format = IR_SPARSE_CSR, .block = {1, 1}, .nnz = 0};
    ir_val(g, ir_value_find(g, "fc2.weight"))->sparse = ir_sparse_copy(g->arena, &sp);
    ck_assert_str_eq(verify_msgs(g), "");
    char *t = text_of(g, false);
    ck_assert_ptr_nonnull(strstr(t, "param %fc1.weight : f32[256,784] init kaiming_uniform a=2.2360679 quant{bits=8, "
                                    "axis=0, scale=[0.5, 0.5019531, "));
    ck_assert_ptr_nonnull(strstr(t, "param %fc2.weight : f32[10,256] from weights sparse{format=\"csr\", "
                                    "block=[1, 1], nnz=0}\n"));
    IrGraph *c = ir_graph_clone(g);
    char *tc = text_of(c, true), *tg = text_of(g, true);
    ck_assert_str_eq(tc, tg);
    free(tc);
    free(tg);
    free(t);
    ir_graph_free(c);
    /* wrong facts */
    ((float *)w->data)[5] = 0.3f;
    ir_val(g, ir_value_find(g, "fc2.weight"))->sparse->nnz = 5;
    ir_val(g, ir_value_find(g, "h1"))->quant = w->quant;
    ck_assert_str_eq(verify_msgs(g),
                     "value \"fc1.weight\": element 5 is 0.300000012, which is not on its quantization grid "
                     "(scale 0.5, zero point 0, 8 bits; nearest 0.5)\n"
                     "value \"fc2.weight\": sparsity record says 5 non-zeros, the data has 0\n"
                     "value \"h1\": has a quantization record, but only params and constants can have one\n");
    ir_graph_free(g);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("print");
    TCase *tc = tcase_create("text");
    tcase_add_test(tc, text_mlp);
    tcase_add_test(tc, text_training);
    tcase_add_test(tc, text_quoted_names);
    tcase_add_test(tc, text_absent_optional);
    tcase_add_test(tc, text_multi_output);
    tcase_add_test(tc, text_sym_and_untyped);
    tcase_add_test(tc, text_large_const);
    tcase_add_test(tc, text_floats);
    tcase_add_test(tc, text_attr_kinds);
    tcase_add_test(tc, text_deterministic);
    suite_add_tcase(s, tc);
    tc = tcase_create("dot");
    tcase_add_test(tc, dot_mlp);
    tcase_add_test(tc, dot_escaping_and_windows);
    suite_add_tcase(s, tc);
    tc = tcase_create("verify");
    tcase_add_test(tc, verify_ok);
    tcase_add_test(tc, verify_arity);
    tcase_add_test(tc, verify_absent_required);
    tcase_add_test(tc, verify_produced_twice);
    tcase_add_test(tc, verify_order);
    tcase_add_test(tc, verify_producers);
    tcase_add_test(tc, verify_two_producers);
    tcase_add_test(tc, verify_untyped);
    tcase_add_test(tc, verify_attrs);
    tcase_add_test(tc, verify_data);
    tcase_add_test(tc, verify_outputs);
    tcase_add_test(tc, verify_refs);
    tcase_add_test(tc, verify_output_roles);
    tcase_add_test(tc, verify_training);
    tcase_add_test(tc, verify_sym);
    tcase_add_test(tc, verify_records);
    tcase_add_test(tc, verify_value_ids);
    tcase_add_test(tc, verify_training_lists);
    tcase_add_test(tc, verify_random_corruptions);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
