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

#endif
