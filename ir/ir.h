/* sinter graph IR: arena, values, nodes, graphs, the op table, shapes, diagnostics, tensors. */
#ifndef SINTER_IR_H
#define SINTER_IR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runtime/sinter_rt.h"

/* ---- assertions -------------------------------------------------------------
 * For internal invariants only (never user input): prints file:line and aborts. */
#define IR_ASSERT(c) ((c) ? (void)0 : ir_assert_fail(#c, __FILE__, __LINE__))
_Noreturn void ir_assert_fail(const char *cond, const char *file, int line);

/* ---- dtypes and shapes ---------------------------------------------------- */
typedef SrtDtype IrDtype;   /* same numbering as the runtime; BF16/F16 are file-only */
#define IR_MAX_RANK SRT_MAX_RANK

/* One dimension: a*N + b, where N is the batch symbol. A constant dim has a == 0.
 * Invariant after shape inference: a >= 0, and a*N+b >= 0 for every N >= 1. */
typedef struct IrDim {
    int64_t a, b;
} IrDim;

typedef struct IrShape {
    int rank;                 /* 0 (scalar) .. IR_MAX_RANK */
    IrDim d[IR_MAX_RANK];
} IrShape;

static inline IrDim ir_dim_const(int64_t b) { IrDim d = {0, b}; return d; }
static inline IrDim ir_dim_n(void) { IrDim d = {1, 0}; return d; }
static inline bool ir_dim_is_const(IrDim d) { return d.a == 0; }
static inline bool ir_dim_eq(IrDim x, IrDim y) { return x.a == y.a && x.b == y.b; }

bool ir_dtype_is_float(IrDtype t);      /* f32, f64 */
bool ir_dtype_is_int(IrDtype t);        /* i64, i32, i8, u8 (not bool) */
IrShape ir_shape_make(int rank, const int64_t *dims);   /* all-constant shape */
bool ir_shape_eq(const IrShape *x, const IrShape *y);
bool ir_shape_is_const(const IrShape *s);
/* Element count as a*N+b; false if not representable (e.g. N*N) or it overflows. */
bool ir_shape_numel(const IrShape *s, IrDim *out);
/* Dims for a concrete batch n; false on overflow or negative dims. */
bool ir_shape_eval(const IrShape *s, int64_t n, int64_t *dims);
/* ONNX multidirectional broadcasting; false if the shapes do not broadcast. */
bool ir_broadcast(const IrShape *x, const IrShape *y, IrShape *out);
/* Symbolic arithmetic on dims; false when the result is not of the form a*N+b. */
bool ir_dim_add(IrDim x, IrDim y, IrDim *out);
bool ir_dim_sub(IrDim x, IrDim y, IrDim *out);
bool ir_dim_mul(IrDim x, IrDim y, IrDim *out);
bool ir_dim_div(IrDim x, IrDim y, IrDim *out);  /* exact division only */
/* "N", "784", "4N", "N+1", "2N-3" */
int ir_dim_format(IrDim d, char *buf, size_t len);
/* "f32[N,784]" */
int ir_type_format(IrDtype t, const IrShape *s, char *buf, size_t len);
/* Normalize an axis in [-rank, rank) to [0, rank); false if out of range. */
bool ir_norm_axis(int64_t axis, int rank, int *out);

/* ---- diagnostics -----------------------------------------------------------
 * User errors travel up as messages "FILE: WHERE: message", one line each.
 * WHERE is a JSON path (nodes[3].inputs[1]) or a node description. */
typedef struct IrDiag {
    const char *file;         /* prefix of every message (model file name); may be NULL */
    int count;                /* number of errors recorded */
    int cap;
    char **msgs;              /* malloc'ed, one per error */
} IrDiag;

void ir_diag_init(IrDiag *d, const char *file);
void ir_diag_free(IrDiag *d);
void ir_diag_error(IrDiag *d, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ir_diag_verror(IrDiag *d, const char *where, const char *fmt, va_list ap);
void ir_diag_print(const IrDiag *d, FILE *f);
const char *ir_diag_first(const IrDiag *d);    /* NULL if none */

/* ---- arena -------------------------------------------------------------------- */
typedef struct IrArena IrArena;
IrArena *ir_arena_new(void);
void ir_arena_free(IrArena *a);
void *ir_arena_alloc(IrArena *a, size_t size);     /* zeroed, 16-byte aligned; aborts on OOM */
char *ir_arena_strdup(IrArena *a, const char *s);
void *ir_arena_memdup(IrArena *a, const void *p, size_t size);

/* ---- the op table ------------------------------------------------------------- */
typedef enum IrOp {
#define OP(id, name, min_in, max_in, min_out, max_out, flags, attrs) IR_OP_##id,
#include "ir/ops.def"
#undef OP
    IR_OP_COUNT
} IrOp;

enum {
    IR_OPF_ELEMENTWISE = 1 << 0,   /* output[i] depends on inputs[i] only (after broadcasting) */
    IR_OPF_DIFF = 1 << 1,          /* differentiable (has a gradient rule) */
    IR_OPF_LOSS = 1 << 2,          /* a training loss */
    IR_OPF_SHAPE_ONLY = 1 << 3     /* output is computed from shapes, not data (Shape) */
};
enum {
    IR_OPF_INTERNAL = 1 << 4       /* made by passes (autodiff's gradient and optimizer ops), not an ONNX op */
};

typedef enum IrAttrKind {
    IR_ATTR_INT,
    IR_ATTR_FLOAT,
    IR_ATTR_STRING,
    IR_ATTR_INTS,
    IR_ATTR_FLOATS,
    IR_ATTR_TENSOR    /* a small constant tensor (ConstantOfShape's value) */
} IrAttrKind;

typedef struct IrAttr {
    const char *name;
    IrAttrKind kind;
    int64_t i;                /* INT */
    double f;                 /* FLOAT */
    const char *s;            /* STRING */
    int n;                    /* INTS/FLOATS: element count; TENSOR: element count */
    int64_t *ints;            /* INTS */
    double *floats;           /* FLOATS */
    IrDtype tdtype;           /* TENSOR: element type */
    IrShape tshape;           /* TENSOR: shape (constant) */
    void *tdata;              /* TENSOR: n elements of tdtype */
} IrAttr;

/* One attribute an op accepts, parsed from the op table's spec string. */
typedef struct IrAttrSpec {
    const char *name;
    IrAttrKind kind;
    bool required;
    bool has_default;         /* INT/FLOAT/STRING defaults only */
    int64_t def_i;
    double def_f;
    const char *def_s;
} IrAttrSpec;

#define IR_MAX_ATTRS 12

struct IrGraph;
struct IrNode;
struct IrTensor;

/* Shape inference: sets dtype and shape (and, for shape arithmetic, sym) of every output of n.
 * Inputs have known types. Returns 0, or -1 after recording a diagnostic naming the node. */
typedef int (*IrShapeFn)(struct IrGraph *g, struct IrNode *n, IrDiag *d);
/* Reference implementation: in[i] is NULL for an absent optional input; out[] are allocated
 * by the interpreter with the inferred shapes at the current N. Returns 0 or -1 + diagnostic. */
typedef int (*IrRefFn)(const struct IrGraph *g, const struct IrNode *n,
                       struct IrTensor *const *in, struct IrTensor *const *out, IrDiag *d);

typedef struct IrOpInfo {
    const char *name;         /* ONNX name */
    int min_in, max_in;       /* max_in == -1: variadic */
    int min_out, max_out;
    unsigned flags;           /* IR_OPF_* */
    const char *attr_spec;    /* "alpha:f=1,transB:i=0,kernel_shape:ints!,..." */
    IrShapeFn shape;
    IrRefFn ref;
    int nattrs;               /* parsed attr_spec */
    IrAttrSpec attrs[IR_MAX_ATTRS];
} IrOpInfo;

const IrOpInfo *ir_op_info(IrOp op);
bool ir_op_from_name(const char *name, IrOp *out);
const char *ir_op_name(IrOp op);
const IrAttrSpec *ir_op_attr_spec(IrOp op, const char *attr);   /* NULL if not accepted */

/* ---- values, nodes, graph -------------------------------------------------------- */
typedef enum IrRole {
    IR_ROLE_INPUT,            /* graph input (or training input, see training_input) */
    IR_ROLE_PARAM,            /* learnable or frozen parameter, has data after the frontend */
    IR_ROLE_CONST,            /* constant with data */
    IR_ROLE_ACT,              /* produced by a node */
    IR_ROLE_COUNT
} IrRole;

/* ---- quantization and sparsity records (ir/records.c) -------------------------------
 * Optional facts about how a value's numbers are stored, apart from its dtype (which stays the
 * logical type, float32 for a quantized weight). The value's data always holds the real numbers
 * the interpreter computes with; a record says they lie on an integer grid, or are mostly zero,
 * so codegen may store them compactly. Only params and constants (values with data) carry records
 * today; the verifier checks the data against them. */
typedef struct IrQuant {
    int bits;                 /* 8 or 4: integers q in [-2^(bits-1), 2^(bits-1) - 1] */
    int axis;                 /* -1: one scale per tensor; else one per index of this axis (per
                                 output channel) */
    int group_axis;           /* with group > 0: the axis cut into groups of `group` elements, each
                                 with its own scale (group-wise); differs from axis */
    int64_t group;            /* 0: no groups; else at most dims[group_axis]; the last group of a
                                 dim that it does not divide is shorter */
    int64_t nscales;          /* (axis >= 0 ? dims[axis] : 1) * (group ? ceil(dims[group_axis] / group) : 1) */
    float *scale;             /* nscales entries, finite and > 0; row-major over (channel, group) */
    int32_t *zero_point;      /* nscales entries on the grid, or NULL: symmetric (all 0) */
} IrQuant;

typedef enum IrSparseFormat {
    IR_SPARSE_CSR,            /* compressed sparse rows of the [rows, last dim] matrix; block {1, 1} */
    IR_SPARSE_BLOCK,          /* block-sparse rows: blocks of block[0] x block[1] elements */
    IR_SPARSE_NM,             /* N:M: at most block[0] non-zeros in each run of block[1] elements
                                 along the last axis (2:4) */
    IR_SPARSE_COUNT
} IrSparseFormat;

typedef struct IrSparse {
    IrSparseFormat format;
    int64_t block[2];         /* see the format */
    int64_t nnz;              /* non-zero elements (BLOCK: elements of the blocks with a non-zero) */
} IrSparse;

const char *ir_sparse_format_name(IrSparseFormat f);          /* "csr", "block", "n:m" */
bool ir_sparse_format_from_name(const char *s, IrSparseFormat *out);
/* The q of a real x on the record's grid for element i of a value of shape s: round half to even
 * of x / scale + zero_point, saturated to the grid. */
int32_t ir_quant_q(const IrQuant *q, const IrShape *s, int64_t i, double x);
/* The scale and zero point element i uses. */
int64_t ir_quant_index(const IrQuant *q, const IrShape *s, int64_t i);
/* The real number of integer k at scale index j: (float)(scale[j] * (k - zero_point[j])). */
float ir_quant_real(const IrQuant *q, int64_t j, int32_t k);
/* Counts the elements of a float tensor that differ from 0 (the nnz of CSR and N:M). */
int64_t ir_count_nonzero(IrDtype dtype, const void *data, int64_t numel);
/* Copies of records in arena a. */
IrQuant *ir_quant_copy(IrArena *a, const IrQuant *q);
IrSparse *ir_sparse_copy(IrArena *a, const IrSparse *s);
/* The records as text: " quant{bits=8, axis=0, scale=[...]}" and " sparse{format=\"csr\",
 * block=[1, 1], nnz=12}" (nothing for NULL), scales in full so that the line parses back
 * (frontend/sir.c). The text printer prints records through these. */
void ir_print_quant(FILE *f, const IrQuant *q);
void ir_print_sparse(FILE *f, const IrSparse *s);

typedef struct IrValue {
    int id;                   /* index into graph->values */
    const char *name;         /* unique in the graph; any non-empty string */
    IrDtype dtype;
    IrShape shape;
    IrRole role;
    int producer;             /* node id for ACT, else -1 */
    bool is_output;           /* listed in graph outputs */
    bool training_input;      /* declared in training.inputs */
    bool trainable;           /* PARAM: receives gradients (default true) */
    bool typed;               /* dtype/shape known (inputs, params, consts; ACT after shape inference) */
    void *data;               /* PARAM/CONST (and folded values): row-major contents; shape is constant */
    IrDim *sym;               /* compile-time content of an integer tensor whose elements may involve N
                                 (shape arithmetic), numel entries; NULL if unknown */
    const char *init_json;    /* PARAM: the "init" object as written (for JSON re-emission), or NULL */
    bool from_weights;        /* PARAM: value came from the weights file */
    bool opt_state;           /* PARAM made by autodiff: optimizer state, step counter or learning rate
                                 (never trainable; saved with the params by NAME_save) */
    const char *where;        /* JSON path of the declaration, for diagnostics */
    IrQuant *quant;           /* PARAM/CONST: its data lies on this integer grid, or NULL */
    IrSparse *sparse;         /* PARAM/CONST: its data is this sparse, or NULL */
} IrValue;

/* Checks value v's records against its role, shape and data (diagnostics name v; ir/records.c).
 * Returns the number of errors. */
int ir_value_check_records(const IrValue *v, IrDiag *d);

typedef struct IrNode {
    int id;                   /* index into graph->nodes */
    IrOp op;
    const char *name;         /* may be "" */
    const char *where;        /* JSON path, e.g. "nodes[3]" */
    int nin;
    int *in;                  /* value ids; -1 marks an absent optional input */
    int nout;
    int *out;                 /* value ids; -1 marks an unused optional output */
    int nattrs;
    IrAttr *attrs;
    int group;                /* kernel group marked by passes/fuse (nodes of one group run as one
                                 kernel and are contiguous in node order), or -1: none */
} IrNode;

typedef enum IrOptimKind { IR_OPTIM_SGD, IR_OPTIM_ADAM, IR_OPTIM_ADAMW } IrOptimKind;

typedef struct IrOptimizer {
    IrOptimKind kind;
    double lr, momentum, dampening, weight_decay;   /* sgd (weight_decay also adam/adamw) */
    bool nesterov;
    double beta1, beta2, eps;                       /* adam, adamw */
} IrOptimizer;

/* The optional training section. loss is a node outside graph->nodes whose inputs are
 * graph values (outputs or activations) and training inputs. */
typedef struct IrTraining {
    int ninputs;
    int *inputs;              /* value ids of training inputs (labels) */
    IrNode *loss;             /* loss->out[0] is the scalar loss value */
    IrOptimizer opt;
    /* The training graph, filled by passes/autodiff (docs/training.md); 0/NULL before it runs. */
    bool has_backward;        /* g->nodes hold forward, backward and optimizer nodes */
    int nupdates;
    int *update_dst;          /* after a step, value update_dst[i] (a param or opt_state param) takes */
    int *update_src;          /* the contents of value update_src[i] (an activation of the same type) */
    int ngrads;
    int *grad_param;          /* the trainable params that receive a gradient, in value-id order */
    int *grad_value;          /* their gradients, named "grad/<param>" (one distinct value each) */
} IrTraining;

typedef struct IrGraph {
    IrArena *arena;           /* owns everything below except the id arrays */
    const char *name;         /* C identifier; prefixes exported symbols */
    int nvalues, cap_values;
    IrValue **values;         /* by id; pointers are stable */
    int nnodes, cap_nodes;
    IrNode **nodes;           /* by id; after ir_graph_toposort ids are in execution order */
    int ninputs;
    int *inputs;              /* value ids, declaration order */
    int noutputs;
    int *outputs;             /* value ids, declaration order */
    IrTraining *training;     /* NULL if the model has no training section */
    int64_t seed;             /* model seed for param init and dropout */
    int opset;
    const char *weights;      /* weights file as written in the model (relative), or NULL */
    const char *model_dir;    /* folder of the model file, for resolving weights */
    /* name -> value id index, maintained by ir_value_new */
    int *name_index;
    int name_index_cap;
} IrGraph;

IrGraph *ir_graph_new(const char *name);
/* NULL if s can name a model, else why not, as a phrase to follow the quoted name ("is not a C
 * identifier (...)"). The name becomes the C type and the prefix of every exported symbol of the
 * library and header: a C identifier of at most IR_MODEL_NAME_MAX characters, not a C or C++
 * keyword, not reserved to the C implementation ("__x", "_X"), not a name the header takes from
 * <stddef.h>/<stdint.h>, not in the runtime's "srt_" namespace. Every reader and codegen check it. */
#define IR_MODEL_NAME_MAX 100
const char *ir_model_name_problem(const char *s);
void ir_graph_free(IrGraph *g);
static inline IrValue *ir_val(const IrGraph *g, int id) { return g->values[id]; }
static inline IrNode *ir_node(const IrGraph *g, int id) { return g->nodes[id]; }

/* New value; name must be unique (returns -1 if taken). shape may be NULL (untyped). */
int ir_value_new(IrGraph *g, const char *name, IrDtype dtype, const IrShape *shape, IrRole role);
/* Rename value id; returns -1 (and changes nothing) if the name is taken. */
int ir_value_rename(IrGraph *g, int id, const char *name);
/* A fresh unique name with the given prefix ("prefix", "prefix.1", ...). */
const char *ir_value_unique_name(IrGraph *g, const char *prefix);
int ir_value_find(const IrGraph *g, const char *name);          /* -1 if absent */
/* New node; outputs' producer is set. in/out are copied. */
int ir_node_new(IrGraph *g, IrOp op, const char *name, int nin, const int *in, int nout, const int *out);
/* Attributes: copies are made in the graph arena. */
void ir_node_set_attrs(IrGraph *g, IrNode *n, int nattrs, const IrAttr *attrs);
void ir_node_set_int(IrGraph *g, IrNode *n, const char *name, int64_t v);
void ir_node_set_float(IrGraph *g, IrNode *n, const char *name, double v);
void ir_node_set_string(IrGraph *g, IrNode *n, const char *name, const char *v);
void ir_node_set_ints(IrGraph *g, IrNode *n, const char *name, int count, const int64_t *v);

/* Attribute access with the op table's defaults. */
const IrAttr *ir_attr_get(const IrNode *n, const char *name);   /* as written; NULL if absent */
int64_t ir_attr_int(const IrNode *n, const char *name);         /* written or default; asserts one exists */
double ir_attr_float(const IrNode *n, const char *name);
const char *ir_attr_str(const IrNode *n, const char *name);
int ir_attr_ints(const IrNode *n, const char *name, const int64_t **out); /* count, or -1 if absent */
int ir_attr_floats(const IrNode *n, const char *name, const double **out);

/* Content of a compile-time integer input (constant data or sym): numel entries as a*N+b.
 * Returns the count, or -1 if the value is not known at compile time. *out is arena memory. */
int ir_value_known_ints(IrGraph *g, int id, IrDim **out);
/* Same, but all entries must be constants (no N). Returns count or -1. */
int ir_value_const_ints(IrGraph *g, int id, int64_t **out);
/* The axes a ReduceMean/ReduceSum/ReduceMax node reduces (from its axes input or attribute;
 * none listed: all of them, or none with noop_with_empty_axes): reduced[] gets one flag per
 * input axis. Returns how many are reduced, or -1 if the axes are not compile-time constants
 * or out of range. */
int ir_reduce_axes(IrGraph *g, const IrNode *n, bool *reduced);

/* Reorder nodes topologically (stable: keeps declaration order where possible) and
 * renumber node ids. Returns 0, or -1 with a diagnostic naming a node on a cycle. */
int ir_graph_toposort(IrGraph *g, IrDiag *d);
/* Put the node that has id order[i] at position i (order: a permutation that keeps producers
 * before consumers) and renumber node ids. */
void ir_graph_permute(IrGraph *g, const int *order);
/* Remove the nodes with keep[id] == false (keep_node NULL: none) and values no longer
 * referenced by any node, graph input/output, training input or loss; renumbers ids. */
void ir_graph_compact(IrGraph *g, const bool *keep_node);
/* The same, keeping also every value with keep_value[id] (NULL: none). */
void ir_graph_compact_keep(IrGraph *g, const bool *keep_node, const bool *keep_value);
/* Deep copy (own arena). */
IrGraph *ir_graph_clone(const IrGraph *g);
/* Replace every use of value old by value repl (node inputs, graph outputs, loss inputs). */
void ir_graph_replace_uses(IrGraph *g, int old, int repl);
/* "nodes[3] \"fc1\" (Gemm)" for diagnostics. */
const char *ir_node_where(const IrNode *n, char *buf, size_t len);
/* Diagnostic about a node: "WHERE "name" (Op): message". */
void ir_node_error(IrDiag *d, const IrNode *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- shape inference (ir/infer.c) ------------------------------------------------- */
/* Runs every node's shape function in order (then the training loss), typing every value
 * and computing the compile-time content (sym) of shape arithmetic. The graph must be
 * topologically sorted. Returns 0 or -1 with diagnostics naming the node. */
int ir_infer_shapes(IrGraph *g, IrDiag *d);

/* ---- verifier -------------------------------------------------------------------- */
/* Structural invariants: ids, arity, producers, topological order, typed values, attr kinds.
 * Returns 0 or -1 with diagnostics. */
int ir_verify(const IrGraph *g, IrDiag *d);

/* ---- concrete tensors (interpreter) ---------------------------------------------- */
typedef struct IrTensor {
    IrDtype dtype;
    int rank;
    int64_t dims[IR_MAX_RANK];
    int64_t numel;
    void *data;               /* malloc'ed, numel * size; may be NULL when numel == 0 */
} IrTensor;

int ir_tensor_alloc(IrTensor *t, IrDtype dtype, int rank, const int64_t *dims); /* zeroed; 0 or -1 */
void ir_tensor_free(IrTensor *t);
double ir_tensor_getf(const IrTensor *t, int64_t i);          /* any dtype, as double */
void ir_tensor_setf(IrTensor *t, int64_t i, double v);        /* converts (ints: truncation toward 0) */
int64_t ir_tensor_geti(const IrTensor *t, int64_t i);         /* any dtype, as int64 */
void ir_tensor_seti(IrTensor *t, int64_t i, int64_t v);

/* ---- reference interpreter (ir/interp.c) ---------------------------------------- */
/* Runs the graph at batch size n. inputs[] follows graph inputs then training inputs
 * (training inputs only needed when with_loss). vals must have g->nvalues zeroed entries;
 * on return every computed value (inputs, params, consts, activations, and the loss when
 * with_loss) is filled; free each with ir_tensor_free. Returns 0 or -1 + diagnostic. */
int ir_interp_eval(const IrGraph *g, int64_t n, const IrTensor *inputs, bool with_loss,
                   IrTensor *vals, IrDiag *d);
/* --check-finite on the interpreter's results: -1 with a diagnostic naming the first graph
 * output (and its node) holding a NaN or an infinity, in the words of compiled code. */
int ir_interp_check_finite(const IrGraph *g, const IrTensor *vals, IrDiag *d);

/* ---- interpreter training step (ir/train.c) --------------------------------------- */
/* One training step of a graph that passes/autodiff has differentiated: runs forward, loss,
 * backward and optimizer nodes at batch n (inputs as for ir_interp_eval with the loss), then
 * copies every update source into its destination's data (params, optimizer state, step
 * counter, BatchNorm running statistics), so repeated calls train. *loss is the forward loss
 * before the update. Returns 0 or -1 + diagnostic (the graph's data is then unchanged). */
int ir_interp_train_step(IrGraph *tg, int64_t n, const IrTensor *inputs, double *loss, IrDiag *d);
/* The first half of a step (NAME_grad): forward, loss and backward; grads[i] receives the
 * gradient of training->grad_param[i] (allocated here, free with ir_tensor_free; grads needs
 * training->ngrads zeroed entries). Applies only the forward-statistics updates (BatchNorm
 * running mean/var), not the optimizer. */
int ir_interp_train_grads(IrGraph *tg, int64_t n, const IrTensor *inputs, double *loss, IrTensor *grads,
                          IrDiag *d);
/* The second half (NAME_apply): the optimizer step from the given gradients (one per
 * training->grad_param, of its type): runs the optimizer nodes and applies their updates.
 * ir_interp_train_grads then ir_interp_train_apply equals ir_interp_train_step bit for bit. */
int ir_interp_train_apply(IrGraph *tg, const IrTensor *grads, IrDiag *d);
/* Marks the nodes of the optimizer step (apply_node has g->nnodes entries): the nodes that
 * update sources depend on and that no gradient, loss input or graph output depends on. */
void ir_training_apply_nodes(const IrGraph *tg, bool *apply_node);
/* Index into training->update_* of the update whose destination is value dst, or -1. */
int ir_training_find_update(const IrGraph *tg, int dst);

/* ---- printers (ir/print.c, ir/dot.c) --------------------------------------------- */
typedef struct IrPrintOptions {
    bool show_data;           /* print constant contents in full */
} IrPrintOptions;
void ir_print_text(const IrGraph *g, FILE *f, const IrPrintOptions *opt);
void ir_print_dot(const IrGraph *g, FILE *f);
/* s escaped for a Graphviz HTML-like label (& < > " and control characters). */
void ir_dot_html(FILE *f, const char *s);

/* ---- the fusion contract (ir/fusion.c) ------------------------------------------
 * Kernel groups (IrNode.group, marked by passes/fuse, emitted as one kernel by codegen): an
 * optional anchor plus element-wise members of the group's shape. */
/* May n be a non-anchor member: an element-wise op other than Identity and the losses, or a
 * BatchNormalization in its inference form (a per-channel affine map). */
bool ir_fusable_elementwise(const IrGraph *g, const IrNode *n);
/* BatchNormalization with 5 inputs, training_mode 0, only output 0 in use, rank >= 2. */
bool ir_batchnorm_is_affine(const IrGraph *g, const IrNode *n);
/* The output axis that dim 0 of member n's input i lines up with when n's output has rank
 * out_rank (ONNX broadcasting: right-aligned; BatchNormalization's per-channel inputs: axis 1);
 * -1 for an absent input. */
int ir_operand_axis(const IrGraph *g, const IrNode *n, int i, int out_rank);
/* DequantGemm's packed weights (ir/quant.c, docs/compression.md): q holds w(k, j) for k < K and
 * j < np, the outputs padded to whole blocks of IR_DQ_BLOCK. 8 bits: int8 [K, np], element
 * (k, j). 4 bits: uint8 [K, np/2]; in row k, byte 16*(j/32) + j%16 holds output j in its low
 * nibble when j%32 < 16, else in its high one, as q + 8. */
#define IR_DQ_BLOCK 32
static inline int64_t ir_dq_padded(int64_t n) { return (n + IR_DQ_BLOCK - 1) / IR_DQ_BLOCK * IR_DQ_BLOCK; }
int32_t ir_dq_get(const void *q, int bits, int64_t np, int64_t k, int64_t j);
void ir_dq_set(void *q, int bits, int64_t np, int64_t k, int64_t j, int32_t v);
/* IntGemm's packed int8 weights (ir/quant.c, docs/compression.md): int8 [ceil(K/4), np*4], the
 * outputs padded to whole blocks of IR_IG_BLOCK; w(k, j) is byte 4*j + k%4 of row k/4, so the
 * four k of one output are one 32-bit lane of a dot-product instruction. Rows past K hold 0. */
#define IR_IG_BLOCK 16
static inline int64_t ir_ig_padded(int64_t n) { return (n + IR_IG_BLOCK - 1) / IR_IG_BLOCK * IR_IG_BLOCK; }
static inline int64_t ir_ig_index(int64_t np, int64_t k, int64_t j) { return k / 4 * np * 4 + j * 4 + k % 4; }
/* The requantization of Quantize and IntGemm, in float32: zero_point + rint(t) clamped to
 * [-zero_point, qmax - zero_point] (NaN gives 0). */
int32_t ir_requant(float t, int32_t zero_point, int32_t qmax);

/* For an anchor: the axis at which codegen's kernel splits output 0 into rows and columns; it
 * stores output 0 in runs of consecutive elements that never cross a row of
 * prod(dims[split..]) elements. -1: n cannot anchor an epilogue. */
int ir_epilogue_split(const IrGraph *g, const IrNode *n);
/* Can an epilogue operand of shape opnd, lined up with output axis `axis`, be read along such
 * runs: it broadcasts to out and is, over the dims [split, rank) of out that are not 1, either
 * broadcast along all of them or along none. */
bool ir_operand_fits_split(const IrShape *out, const IrShape *opnd, int axis, int split);

/* ---- cost model (ir/cost.c) ---------------------------------------------------- */
/* Estimated floating-point operations of one node as a*N + b (a: per sample of the batch
 * symbol, b: fixed). A multiply-add counts 2; data movement counts 0; conventions in
 * ir/cost.c. false when a value is untyped or the count is not of the form a*N + b. */
bool ir_node_flops(const IrGraph *g, const IrNode *n, IrDim *flops);

#endif
