/* sinter frontend: model JSON (DESIGN.md "Model format") -> IrGraph, and IrGraph -> model JSON. */
#ifndef SINTER_FRONTEND_H
#define SINTER_FRONTEND_H

#include <stddef.h>

#include "ir/ir.h"

/* Loading a model
 * ---------------
 * fe_load_model reads PATH and calls fe_parse_model with file_label = PATH (as given) and
 * model_dir = the folder of PATH. Both return a graph that is complete and typed:
 *   - every field of the model format validated (unknown keys are errors);
 *   - values: graph inputs, params, constants, then node outputs (JSON order); training
 *     inputs and the loss outputs last. IrValue.where / IrNode.where hold JSON paths
 *     ("inputs[0]", "params[2]", "nodes[3]", "training.loss");
 *   - every param has data: from the weights file when it has a tensor of that name
 *     (from_weights set), otherwise from its "init" spec, drawn from a stream derived from
 *     (model seed, param name) so values do not depend on declaration order;
 *   - nodes topologically sorted (ir_graph_toposort) and typed (ir_infer_shapes);
 *   - the training loss (if any) is a node outside g->nodes with id -1; its outputs are
 *     activations with producer -1, named "loss" (and the names the model gives in
 *     training.loss.outputs).
 * On any error they return NULL after recording one-line diagnostics
 * "FILE: JSON.PATH: message" in d (as many independent errors as can be found; d may be
 * NULL). file_label (if not NULL) is the FILE prefix for the duration of the call; model_dir
 * (NULL means ".") resolves a relative "weights" path. The graph is freed with ir_graph_free.
 *
 * Format extension: a param may carry "data" (flat row-major list, like a constant's) instead
 * of "init"; fe_emit_json writes it for params whose values came from neither an init spec
 * nor the weights file (e.g. made by a folding pass). */
IrGraph *fe_load_model(const char *path, IrDiag *d);
IrGraph *fe_parse_model(const char *text, size_t len, const char *file_label, const char *model_dir, IrDiag *d);

/* Resource limits of one parse (untrusted input must not exhaust memory). */
typedef struct FeOptions {
    size_t max_data_bytes;    /* params + constants + tensor attributes, summed; 0 = default (64 GiB) */
    int max_nodes;            /* 0 = default (1 << 20) */
    /* In-memory weights (an imported ONNX model's initializers): used instead of a "weights"
     * file (the model then has none); params without "init" take their values from here.
     * weights_label names them in messages (e.g. "initializers of m.onnx"). */
    const SrtTensorFile *weights;
    const char *weights_label;
} FeOptions;

/* fe_parse_model with explicit limits (opt may be NULL for the defaults). The fuzzer uses it. */
IrGraph *fe_parse_model_opts(const char *text, size_t len, const char *file_label, const char *model_dir,
                             const FeOptions *opt, IrDiag *d);

/* Params from a .safetensors file (`sinter compile --weights`): every param of g must have a
 * tensor of its name, dtype and shape there; other tensors (the optimizer state of a checkpoint
 * written by `sinter train --save`) are ignored. All-or-nothing: on error, one diagnostic
 * "PATH: message" per mismatch and g unchanged. g->weights then names the file. */
int fe_apply_weights(IrGraph *g, const char *path, IrDiag *d);

/* The text IR (docs/ir.md): what ir_print_text writes, read back. A .sir file holds one graph at
 * any stage of the pipeline (as loaded, after any pass, the training graph after autodiff, kernel
 * groups after fuse); print -> fe_parse_sir -> print is the identity. Params get their data as in
 * a model (the weights file, else the init spec from (seed, name), else the data written), every
 * node output's written type is checked against shape inference, and the graph is verified.
 * Diagnostics are "FILE: LINE:COL: message" (or "FILE: line N ..." about a node); arguments as
 * for fe_parse_model_opts (opt may be NULL). fe_load_model reads files named *.sir with it. */
IrGraph *fe_parse_sir(const char *text, size_t len, const char *file_label, const char *model_dir,
                      const FeOptions *opt, IrDiag *d);

/* Emitting a model
 * ----------------
 * A malloc'ed model in the DESIGN.md format that fe_parse_model accepts and that parses back
 * to a graph that prints identically (and emits identically). Layout is stable: inputs in
 * declaration order, params and constants in value-id order (so constants made by constant
 * folding are included), nodes in graph order, attributes in the op table's spec order.
 * A param is written with its "init" (IrValue.init_json) when it has one; params whose data
 * came from the weights file make the model refer to that file by an absolute path; other
 * params with data are written with "data". Float data is written with the shortest digits
 * that round-trip (nan/inf as the strings "nan", "inf", "-inf").
 * Input dims must be constants or exactly N (other forms are written as strings such as
 * "2N", which do not parse back). Returns NULL only when memory runs out. */
char *fe_emit_json(const IrGraph *g);

/* Importing ONNX (frontend/fe_onnx*.c)
 * ------------------------------------
 * An ONNX model (protobuf, opsets 1 to 21 of the default domain; below 7, only ops whose
 * current form dates from the model's opset) converted to a model in
 * this format: the JSON text, and the params' values (the initializers) as tensors, which
 * `sinter import` writes to the weights file the JSON names. Tensor and node names stay the
 * ONNX names (any string is a tensor name), so diagnostics cite them; the model name is a C
 * identifier made from the file name unless given. Nodes follow the opset-17 forms sinter
 * implements (attributes of older opsets become inputs and so on; docs/onnx.md).
 * Errors: "FILE: WHERE: message" lines in d (unsupported ops all in one line), return -1. */
typedef struct FeOnnxOptions {
    const char *name;          /* model name (a C identifier); NULL: from the file name */
    const char *batch_dim;     /* the dim_param that is sinter's N; NULL: the only dim_param of
                                  the graph inputs, if there is exactly one */
    bool batch_first;          /* dim 0 of every graph input is N (whatever the file says) */
    const char *weights;       /* the "weights" path the JSON gives (relative to the JSON);
                                  NULL: none (the params then come from memory) */
    size_t max_bytes;          /* tensor data limit; 0 = default (64 GiB) */
    /* Graph inputs given values: each becomes a constant (the tensor's name names the input;
     * dtype and rank must be the declared ones). For inputs sinter needs at compile time
     * (a Reshape's shape, a Slice's starts, ...) when the model leaves them to run time. */
    const SrtTensor *bind;
    int nbind;
} FeOnnxOptions;

typedef struct FeOnnxModel {
    char *json;                /* malloc'ed model text */
    size_t json_len;
    SrtTensorFile weights;     /* the params' values, in param order */
} FeOnnxModel;

int fe_onnx_import(const char *path, const FeOnnxOptions *o, FeOnnxModel *out, IrDiag *d);
/* The same from bytes: label prefixes messages, dir resolves external data files. */
int fe_onnx_import_mem(const uint8_t *buf, size_t len, const char *label, const char *dir, const FeOnnxOptions *o,
                       FeOnnxModel *out, IrDiag *d);
void fe_onnx_model_free(FeOnnxModel *m);
/* Imports PATH in memory and parses the result: the graph fe_load_model would give for the
 * JSON and weights `sinter import` writes. o may be NULL. */
IrGraph *fe_load_onnx(const char *path, const FeOnnxOptions *o, IrDiag *d);
/* One serialized ONNX TensorProto (the input_K.pb / output_K.pb files of ONNX's tests) as a
 * tensor (name and data malloc'ed: srt_tensor_free). label prefixes messages. */
int fe_onnx_read_tensor(const uint8_t *buf, size_t len, const char *label, SrtTensor *out, IrDiag *d);
/* Does the importer convert ONNX op `op` of `domain` ("" or "ai.onnx": the default) at this
 * opset? Is input k of the op one sinter needs at compile time (shapes, axes, pads)? */
bool fe_onnx_op_supported(const char *domain, const char *op, int64_t opset);
bool fe_onnx_static_input(const char *op, int k);
/* fe_load_onnx for a path ending in ".onnx", else fe_load_model. */
IrGraph *fe_load_any(const char *path, IrDiag *d);

#endif
