/* Private to passes/autodiff*.c: the state of one autodiff run and the helpers the gradient rules use. */
#ifndef SINTER_AUTODIFF_IMPL_H
#define SINTER_AUTODIFF_IMPL_H

#include "passes/passes.h"

/* One run of the pass. Forward values (ids < nfwd) are the graph's values before the backward
 * graph is built; gradients are gathered per forward value. */
typedef struct Ad {
    IrGraph *g;
    IrDiag *d;
    int nfwd;                 /* value ids below this are forward values */
    bool *wants;              /* [nfwd] the loss's gradient w.r.t. this value is needed */
    int **parts;              /* [nfwd] gradient contributions (value ids), summed on demand */
    int *nparts, *cap_parts;
    int *grad;                /* [nfwd] the summed gradient once finalized, -1 for none */
    bool *final;              /* [nfwd] grad[] is final */
    int *shape_of;            /* [nfwd] cached Shape(value) output, -1 */
    const IrNode *cur;        /* the forward node whose rule runs (labels, diagnostics) */
    char label[200];          /* "bwd/<node name or first output>": names of what cur's rule makes */
    int nconsts;              /* cache of scalar and int-vector constants made by the pass */
    int cap_consts;
    int *consts;
    int nodes_made;
    bool failed;              /* a contribution had the wrong type (diagnosed) */
} Ad;

/* A gradient rule: given the gradients dy[k] of n's outputs (-1 where the loss does not depend
 * on output k; at least one is present), adds a contribution (pass_ad_accum) for every input that
 * pass_ad_wants. Returns 0, or -1 after a diagnostic (pass_ad_fail). For the training loss, dy is NULL
 * and the seed d(loss)/d(loss) = 1 is implied. */
typedef int (*AdRule)(Ad *ad, const IrNode *n, const int *dy);

/* The rule of op, or NULL when op has none (ops without IR_OPF_DIFF). */
AdRule pass_ad_rule(IrOp op);

/* ---- helpers for the rules (passes/autodiff.c) ---------------------------------------- */

/* Does the loss need the gradient w.r.t. value v (a float forward value that depends on a
 * trainable param)? False for v < 0. */
bool pass_ad_wants(const Ad *ad, int v);
/* Adds gval (a gradient of v's exact type) to v's gradient; nothing when v is not wanted or
 * gval is -1. A gval of another type is diagnosed as an internal error (the run fails). */
void pass_ad_accum(Ad *ad, int v, int gval);
/* Records "<node>: message" and returns -1. */
int pass_ad_fail(Ad *ad, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A new node of op on inputs in[] (-1 = absent) with nout fresh outputs. Set attributes on the
 * returned node, then type it with pass_ad_finish, which returns its outputs[0] (or -1 after a
 * diagnostic). Outputs are named "<label>/<Op>" (unique). */
IrNode *pass_ad_begin(Ad *ad, IrOp op, int nin, const int *in, int nout);
int pass_ad_finish(Ad *ad, IrNode *n);
/* Attribute-less one/two/three-input nodes, typed: their outputs[0], or -1. */
int pass_ad_op1(Ad *ad, IrOp op, int a);
int pass_ad_op2(Ad *ad, IrOp op, int a, int b);
int pass_ad_op3(Ad *ad, IrOp op, int a, int b, int c);

/* A scalar constant of dtype t, and a 1-D int64 constant (both cached). */
int pass_ad_scalar(Ad *ad, IrDtype t, double v);
int pass_ad_ints(Ad *ad, int count, const int64_t *v);
/* Shape(v) (int64, its content known at compile time; cached for forward values). */
int pass_ad_shape_of(Ad *ad, int v);
/* Shape(v)[axis], as a one-element int64 vector. */
int pass_ad_dim_of(Ad *ad, int v, int axis);

/* gval summed over the axes along which target broadcast to gval's shape, so that the result
 * has target's shape (gval itself when nothing is reduced); -1 on error. */
int pass_ad_reduce_to(Ad *ad, int gval, int target);
/* ReduceSum(x, axes) with keepdims; -1 on error. */
int pass_ad_reduce_sum(Ad *ad, int x, int naxes, const int64_t *axes, bool keepdims);
/* x / (product of ref's dims along the axes marked in axes[]), where those dims may involve N
 * (then counted at run time through Shape); -1 on error. */
int pass_ad_div_count(Ad *ad, int x, int ref, const bool *axes);

#endif
