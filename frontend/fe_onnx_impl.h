/* Private to frontend/fe_onnx*.c: the state of one ONNX import and the helpers its files share. */
#ifndef SINTER_FE_ONNX_IMPL_H
#define SINTER_FE_ONNX_IMPL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "onnx.pb-c.h"

#include "frontend/frontend.h"

#define OX_MAX_ERRORS 50        /* then "too many errors" and the import stops */
#define OX_MAX_DEPTH 64         /* nesting of protobuf messages (subgraphs, nested types) */
#define OX_INLINE_MAX 4096      /* non-float initializers up to this many elements become constants */

/* What the importer knows of a tensor name of the ONNX graph. */
typedef enum OxKind {
    OX_FREE = 0,              /* not (yet) a tensor */
    OX_INPUT,                 /* graph input */
    OX_PARAM,                 /* initializer (or big Constant) written as a param: its data in weights */
    OX_CONST,                 /* small tensor written as a constant: its data below */
    OX_NODE                   /* output of a converted node */
} OxKind;

typedef struct OxName {
    char *name;               /* malloc'ed; NULL: empty slot */
    OxKind kind;              /* OX_FREE: reserved (an ONNX name), not declared yet */
    int tensor;               /* OX_CONST / OX_PARAM: index into Ox.tensors; else -1 */
    bool static_use;          /* read where sinter needs the value at compile time */
    bool frozen;              /* a BatchNormalization running statistic: not trainable */
} OxName;

typedef struct OxUnsupported {
    char *op;                 /* "Op" or "domain.Op" (malloc'ed) */
    char *node;               /* node name or "#index" (malloc'ed) */
} OxUnsupported;

/* One import. Messages go to d as "FILE: WHERE: message"; the import fails when nerr > 0. */
typedef struct Ox {
    IrDiag *d;
    int nerr;
    bool stop;                /* OX_MAX_ERRORS reached */
    const char *dir;          /* the model's folder: external data files are relative to it */
    const FeOnnxOptions *opt;
    size_t max_bytes;         /* tensor data budget of this import */
    size_t bytes;             /* tensor data read so far */
    Onnx__ModelProto *model;
    int64_t opset;            /* of the default domain */

    /* the model being written */
    cJSON *inputs, *params, *constants, *nodes, *outputs;
    SrtTensor *tensors;       /* initializers and Constant values, malloc'ed (names and data too) */
    int ntensors, cap_tensors;
    bool *weights;            /* by tensors index: written to the weights file (a param) */
    /* names in use: open addressing, power-of-two size */
    OxName *names;
    size_t cap_names, nnames;
    int fresh;                /* counter of made-up names */

    /* ops without a conversion: collected for one message */
    OxUnsupported *unsup;
    int nunsup, cap_unsup;
} Ox;

/* ---- diagnostics ---- */
void ox_error(Ox *x, const char *where, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "node 3 \"name\" (Op)" into buf[256]. */
const char *ox_node_where(char *buf, const Onnx__NodeProto *n, int index);
/* Records an op without conversion for the one "unsupported ops" message. */
void ox_unsupported(Ox *x, const Onnx__NodeProto *n, int index);

/* ---- names ---- */
OxName *ox_name(Ox *x, const char *name);                /* NULL if never declared */
OxName *ox_reserve(Ox *x, const char *name);             /* the entry, made OX_FREE if new */
OxName *ox_declare(Ox *x, const char *name, OxKind kind, const char *where); /* NULL (error) if taken */
/* A new name "base:k" not used by the graph (static buffer reused: copy before the next call). */
const char *ox_fresh(Ox *x, const char *base);

/* ---- tensors (fe_onnx_read.c) ---- */
/* The ONNX data type code as a sinter dtype; false for types sinter has not. */
bool ox_dtype(int32_t code, IrDtype *out);
const char *ox_dtype_onnx_name(int32_t code);
/* Reads t (inline, raw or external data) into out (malloc'ed name and data), checking the
 * byte count against the shape. what names it in messages ("initializer \"w\""). */
bool ox_read_tensor(Ox *x, const Onnx__TensorProto *t, const char *what, SrtTensor *out);
/* Unpacks a model after checking its nesting depth. NULL with an error (label: the file). */
Onnx__ModelProto *ox_unpack_model(Ox *x, const uint8_t *buf, size_t len);

/* ---- the model being written (fe_onnx.c) ---- */
/* Adds t (taken over; t->name its name) as a tensor of the model: a constant or, with
 * as_param, a param. False (t freed) if the name is taken. */
bool ox_add_tensor(Ox *x, SrtTensor *t, bool as_param, bool trainable, const char *where);
/* The data of a constant name (a Constant node, a small initializer); NULL if it has none. */
const SrtTensor *ox_const_data(Ox *x, const char *name);
/* A new int64 constant of rank 1 (scalar when rank0) with the given values; returns its name. */
const char *ox_const_i64(Ox *x, const char *base, const int64_t *v, int n, bool rank0);
const char *ox_const_f32(Ox *x, const char *base, const float *v, int n, bool rank0);
const char *ox_const_bool(Ox *x, const char *base, bool v); /* a bool scalar */
/* Appends a node {name, op, inputs, outputs, attrs}; attrs (may be NULL) is taken over. */
void ox_emit(Ox *x, const char *name, const char *op, const char *const *in, int nin, const char *const *out,
             int nout, cJSON *attrs);

/* ---- ops (fe_onnx_ops.c) ---- */
/* Converts node n (index i in the graph) to sinter nodes; false after an error or an
 * unsupported op (recorded). */
bool ox_convert_node(Ox *x, const Onnx__NodeProto *n, int i);
/* Is input k of ONNX op a value sinter needs at compile time (shapes, axes, pads)? */
bool ox_static_input(const char *op, int k);

#endif
