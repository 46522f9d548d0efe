#!/usr/bin/python3
"""Conformance vectors for the neural-network ops (Gemm, MatMul, Conv, ConvTranspose, MaxPool,
AveragePool, GlobalAveragePool, BatchNormalization, LayerNormalization, Softmax, LogSoftmax,
Dropout, SoftmaxCrossEntropyLoss, MSELoss).

Run from the repo root:  /usr/bin/python3 tests/conformance/gen_nn.py
Deletes and rewrites tests/conformance/nn/ completely.

Expectations are computed in float64 and rounded once to the output dtype, with
torch.nn.functional where PyTorch implements the ONNX opset-17 semantics, and with explicit
NumPy formulas from the ONNX spec where it does not (asymmetric and SAME_* padding, MaxPool's
flattened Indices, ConvTranspose output_shape / pads, BatchNormalization's training-mode
population variance, LayerNormalization's stash_type). Every NumPy formula is first checked
against PyTorch on the cases both can express (see the self-checks below). Never from sinter.
"""
import itertools
import json
import math
import os
import shutil
import zlib

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.join("tests", "conformance", "nn")
N = 3  # value of the batch symbol in cases that use "N"

DTYPE_NAME = {
    np.dtype(np.float32): "float32",
    np.dtype(np.float64): "float64",
    np.dtype(np.int64): "int64",
    np.dtype(np.int32): "int32",
    np.dtype(np.int8): "int8",
    np.dtype(np.uint8): "uint8",
    np.dtype(np.bool_): "bool",
}

written = set()


# ---- case writer -----------------------------------------------------------------------------


class In:
    """A graph input: its data at N and its declared shape ("N" on the axes in batch_axes)."""

    def __init__(self, name, data, batch_axes=()):
        self.name = name
        self.data = np.array(data, order="C")
        self.shape = ["N" if i in batch_axes else int(s) for i, s in enumerate(self.data.shape)]
        for i in batch_axes:
            assert self.data.shape[i] == N, (name, "batched axes hold N entries")


class Const:
    """A constant written into model.json (Dropout's ratio and training_mode)."""

    def __init__(self, name, data):
        self.name = name
        self.data = np.array(data, order="C")


def json_value(v, dt):
    if dt.kind == "f":
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return float(v)
    if dt.kind == "b":
        return bool(v)
    return int(v)


def model_text(obj):
    """Top-level keys one per line; list items (inputs, nodes, ...) one per line."""
    lines = []
    for k, v in obj.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            items = ",\n".join("  " + json.dumps(x) for x in v)
            lines.append(f" {json.dumps(k)}: [\n{items}\n ]")
        else:
            lines.append(f" {json.dumps(k)}: {json.dumps(v)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def case(name, op, inputs, outputs, attrs=None, note="", rtol=1e-5, atol=1e-6, consts=(), node_inputs=None):
    """Write one case directory: a single-node model, its input and expected output tensors.

    inputs: list of In; outputs: list of (name, array) in graph-output order; node_inputs: the
    node's inputs ("" for an absent optional one), default the graph inputs then the constants."""
    assert name not in written, name
    assert note, name
    written.add(name)
    d = os.path.join(ROOT, name)
    os.makedirs(d)
    if node_inputs is None:
        node_inputs = [i.name for i in inputs] + [c.name for c in consts]
    node = {"name": op.lower(), "op": op, "inputs": node_inputs, "outputs": [o[0] for o in outputs]}
    if attrs:
        node["attrs"] = attrs
    model = {
        "sinter": 1,
        "name": "nn_" + name,
        "inputs": [{"name": i.name, "dtype": DTYPE_NAME[i.data.dtype], "shape": i.shape} for i in inputs],
        "outputs": [o[0] for o in outputs],
    }
    if consts:
        model["constants"] = [
            {
                "name": c.name,
                "dtype": DTYPE_NAME[c.data.dtype],
                "shape": list(c.data.shape),
                "data": [json_value(v, c.data.dtype) for v in c.data.reshape(-1).tolist()],
            }
            for c in consts
        ]
    model["nodes"] = [node]
    for i in inputs:
        np.save(os.path.join(d, i.name + ".npy"), i.data)
    for oname, arr in outputs:
        arr = np.array(arr, order="C")
        assert arr.dtype in DTYPE_NAME, (name, oname, arr.dtype)
        np.save(os.path.join(d, oname + ".npy"), arr)
    uses_n = any("N" in i.shape for i in inputs)
    meta = {
        "n": N if uses_n else 1,
        "inputs": [i.name + ".npy" for i in inputs],
        "outputs": [o[0] + ".npy" for o in outputs],
        "rtol": rtol,
        "atol": atol,
        "note": note,
    }
    with open(os.path.join(d, "model.json"), "w") as f:
        f.write(model_text(model))
    with open(os.path.join(d, "case.json"), "w") as f:
        f.write(json.dumps(meta, indent=1) + "\n")


def rng_for(name):
    """Per-case generator, so adding a case does not change the others' data."""
    return np.random.default_rng(zlib.crc32(name.encode()))


def randn(r, shape, dtype=np.float32):
    return r.standard_normal(shape).astype(dtype)


def t64(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


def cast(a, dtype):
    if torch.is_tensor(a):
        a = a.numpy()
    return np.asarray(a).astype(dtype)


# ---- NumPy formulas from the ONNX spec (self-checked against torch below) --------------------


def window_out(size, k, s, d, pb, pe, ceil):
    """ONNX conv/pool output size; ceil_mode drops a window that would start in the end padding."""
    ek = (k - 1) * d + 1
    span = size + pb + pe - ek
    assert span >= 0
    out = (-(-span // s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= size + pb:
        out -= 1
    return out


def same_pads(spatial, k, s, d, upper):
    """auto_pad SAME_*: total padding (out-1)*s + extent - in with out = ceil(in/s), at least 0;
    SAME_UPPER puts the odd unit at the end, SAME_LOWER at the beginning. [begins..., ends...]"""
    b, e = [], []
    for i, size in enumerate(spatial):
        out = -(-size // s[i])
        total = max(0, (out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - size)
        pb = total // 2 if upper else total - total // 2
        b.append(pb)
        e.append(total - pb)
    return b + e


def torch_pad_arg(pads):
    """ONNX pads [b0, b1, .., e0, e1, ..] -> F.pad's (last_begin, last_end, ..., first_begin, first_end)."""
    nsp = len(pads) // 2
    arg = []
    for i in reversed(range(nsp)):
        arg += [pads[i], pads[nsp + i]]
    return arg


def conv_ref(x, w, b, strides, pads, dil, group):
    """Conv via torch on an explicitly zero-padded input (handles asymmetric pads), float64."""
    nsp = x.ndim - 2
    fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nsp]
    xt = F.pad(t64(x), torch_pad_arg(pads))
    y = fn(xt, t64(w), None if b is None else t64(b), stride=strides, dilation=dil, groups=group)
    return y.numpy()


def convt_ref(x, w, b, strides, dil, group, begins, out_sp, opad):
    """ConvTranspose per the ONNX formulas: the full transposed convolution (no padding, from
    torch), extended with zeros at the end, output position o reading full position o + begin
    (zeros outside), plus bias."""
    nsp = x.ndim - 2
    fn = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[nsp]
    full = fn(t64(x), t64(w), None, stride=strides, dilation=dil, groups=group).numpy()
    y = np.zeros(full.shape[:2] + tuple(out_sp))
    for o in itertools.product(*[range(s) for s in out_sp]):
        src = tuple(o[i] + begins[i] for i in range(nsp))
        if all(0 <= src[i] < full.shape[2 + i] for i in range(nsp)):
            y[(slice(None), slice(None)) + o] = full[(slice(None), slice(None)) + src]
    if b is not None:
        y += np.asarray(b, np.float64).reshape((1, -1) + (1,) * nsp)
    return y


def convt_out_and_begins(x_sp, k, s, d, pads, opad, out_shape=None, auto_pad="NOTSET"):
    """ONNX ConvTranspose output sizes and begin pads (spec text: with output_shape or SAME_*,
    total = s*(in-1) + output_padding + extent - out; SAME_UPPER: begin = total/2, otherwise
    begin = total - total/2)."""
    nsp = len(x_sp)
    outs, begins = [], []
    for i in range(nsp):
        ek = (k[i] - 1) * d[i] + 1
        if out_shape is not None or auto_pad.startswith("SAME"):
            out = out_shape[i] if out_shape is not None else x_sp[i] * s[i]
            total = s[i] * (x_sp[i] - 1) + opad[i] + ek - out
            assert total >= 0
            begin = total // 2 if auto_pad == "SAME_UPPER" else total - total // 2
        else:
            p = pads if pads else [0] * (2 * nsp)
            out = s[i] * (x_sp[i] - 1) + opad[i] + ek - p[i] - p[nsp + i]
            begin = p[i]
        outs.append(out)
        begins.append(begin)
    return outs, begins


def maxpool_ref(x, k, s, d, pads, ceil, storage_order):
    """MaxPool with ONNX Indices: offset into the whole flattened input, (n*C + c)*prod(spatial)
    + the spatial offset (row-major, or column-major for storage_order=1). First maximum in
    window order; a NaN beats numbers."""
    nsp = x.ndim - 2
    sp = x.shape[2:]
    out_sp = [window_out(sp[i], k[i], s[i], d[i], pads[i], pads[nsp + i], ceil) for i in range(nsp)]
    y = np.zeros(x.shape[:2] + tuple(out_sp), x.dtype)
    ind = np.zeros(y.shape, np.int64)
    plane = int(np.prod(sp))
    for nb in range(x.shape[0]):
        for c in range(x.shape[1]):
            for o in itertools.product(*[range(v) for v in out_sp]):
                best, arg = None, None
                for t in itertools.product(*[range(v) for v in k]):
                    pos = [o[i] * s[i] + t[i] * d[i] - pads[i] for i in range(nsp)]
                    if any(p < 0 or p >= sp[i] for i, p in enumerate(pos)):
                        continue
                    v = x[(nb, c) + tuple(pos)]
                    if best is None or v > best or (np.isnan(v) and not np.isnan(best)):
                        best, arg = v, pos
                y[(nb, c) + o] = best
                if storage_order == 0:
                    flat = int(np.ravel_multi_index(tuple(arg), sp))
                else:
                    flat = int(np.ravel_multi_index(tuple(arg), sp, order="F"))
                ind[(nb, c) + o] = (nb * x.shape[1] + c) * plane + flat
    return y, ind


def avgpool_ref(x, k, s, pads, ceil, include_pad):
    """AveragePool: the sum over the window's input elements divided by their count, or with
    count_include_pad by the count of window positions inside the padded input (a ceil_mode
    window's overhang beyond the end padding never counts, as in onnxruntime and PyTorch)."""
    nsp = x.ndim - 2
    sp = x.shape[2:]
    out_sp = [window_out(sp[i], k[i], s[i], 1, pads[i], pads[nsp + i], ceil) for i in range(nsp)]
    y = np.zeros(x.shape[:2] + tuple(out_sp), np.float64)
    for o in itertools.product(*[range(v) for v in out_sp]):
        total = np.zeros(x.shape[:2])
        count_in, count_pad = 0, 0
        for t in itertools.product(*[range(v) for v in k]):
            pos = [o[i] * s[i] + t[i] - pads[i] for i in range(nsp)]
            if all(-pads[i] <= p < sp[i] + pads[nsp + i] for i, p in enumerate(pos)):
                count_pad += 1
            if all(0 <= p < sp[i] for i, p in enumerate(pos)):
                count_in += 1
                total += x[(slice(None), slice(None)) + tuple(pos)].astype(np.float64)
        y[(slice(None), slice(None)) + o] = total / (count_pad if include_pad else count_in)
    return y


def self_checks():
    """The NumPy formulas agree with PyTorch wherever PyTorch can express the case."""
    r = np.random.default_rng(7)
    # MaxPool values and indices (torch's per-plane row-major index -> ONNX flattened index)
    for (shape, k, s, p, d, ceil) in [((2, 3, 7, 6), (3, 2), (2, 2), (1, 1), (1, 1), False),
                                      ((1, 2, 9, 8), (3, 3), (2, 3), (1, 0), (2, 1), True),
                                      ((2, 1, 5, 5), (2, 2), (2, 2), (1, 1), (1, 1), True)]:
        x = randn(r, shape, np.float64)
        yt, it = F.max_pool2d(torch.from_numpy(x), k, s, p, d, ceil_mode=ceil, return_indices=True)
        pads = [p[0], p[1], p[0], p[1]]
        y, ind = maxpool_ref(x, k, s, d, pads, ceil, 0)
        assert np.array_equal(y, yt.numpy())
        plane = shape[2] * shape[3]
        offs = (np.arange(shape[0] * shape[1]) * plane).reshape(shape[0], shape[1], 1, 1)
        assert np.array_equal(ind, it.numpy() + offs)
        _, ind_f = maxpool_ref(x, k, s, d, pads, ceil, 1)
        hh, ww = np.divmod(it.numpy(), shape[3])
        assert np.array_equal(ind_f, hh + ww * shape[2] + offs)
    # AveragePool with and without count_include_pad, floor and ceil
    for (shape, k, s, p, ceil) in [((2, 3, 7, 6), (3, 2), (2, 2), (1, 1), False),
                                   ((1, 2, 9, 8), (3, 3), (2, 3), (1, 0), True),
                                   ((1, 1, 7, 7), (2, 2), (3, 3), (0, 0), True),
                                   ((2, 1, 5, 6), (3, 3), (2, 2), (1, 1), True)]:
        x = randn(r, shape, np.float64)
        for inc in (False, True):
            yt = F.avg_pool2d(torch.from_numpy(x), k, s, p, ceil_mode=ceil, count_include_pad=inc).numpy()
            y = avgpool_ref(x, k, s, [p[0], p[1], p[0], p[1]], ceil, inc)
            assert np.allclose(y, yt, rtol=1e-12, atol=1e-12), (shape, k, s, p, ceil, inc)
    # ConvTranspose crop formula against torch's padding/output_padding
    for (shape, wshape, s, p, op, d, g) in [((2, 4, 4, 5), (4, 3, 3, 3), (2, 2), (1, 1), (1, 0), (1, 1), 2),
                                            ((1, 2, 3, 3), (2, 2, 2, 3), (3, 2), (0, 1), (2, 1), (1, 2), 1)]:
        x, w, b = randn(r, shape, np.float64), randn(r, wshape, np.float64), randn(r, (wshape[1] * g,), np.float64)
        yt = F.conv_transpose2d(t64(x), t64(w), t64(b), stride=s, padding=p, output_padding=op, groups=g,
                                dilation=d).numpy()
        outs, begins = convt_out_and_begins(shape[2:], wshape[2:], s, d, [p[0], p[1], p[0], p[1]], op)
        y = convt_ref(x, w, b, s, d, g, begins, outs, op)
        assert np.allclose(y, yt, rtol=1e-12, atol=1e-12)


# ---- Gemm, MatMul ---------------------------------------------------------------------------


def gemm_ref(a, b, c, alpha=1.0, beta=1.0, ta=0, tb=0):
    A = a.T if ta else a
    B = b.T if tb else b
    if a.dtype.kind == "i":
        y = int(alpha) * (A.astype(np.int64) @ B.astype(np.int64))
        if c is not None:
            y = y + int(beta) * c.astype(np.int64)
        return y.astype(a.dtype)
    y = alpha * (A.astype(np.float64) @ B.astype(np.float64))
    if c is not None:
        y = y + beta * c.astype(np.float64)
    return y.astype(a.dtype)


def gen_gemm():
    def g(name, note, a, b, c=None, attrs=None, batch=False, dtype=np.float32):
        at = attrs or {}
        y = gemm_ref(a, b, c, at.get("alpha", 1.0), at.get("beta", 1.0), at.get("transA", 0), at.get("transB", 0))
        ins = [In("a", a, (0,) if batch else ()), In("b", b)]
        if c is not None:
            ins.append(In("c", c))
        case(name, "Gemm", ins, [("y", y)], attrs, note)

    r = rng_for("gemm")
    g("gemm_basic_transb", "Gemm A[N,4] x B[5,4]^T + C[5] (the Linear layer), symbolic batch",
      randn(r, (N, 4)), randn(r, (5, 4)), randn(r, (5,)), {"transB": 1}, batch=True)
    g("gemm_transa_alpha_beta", "Gemm with transA=1, alpha=0.5, beta=2 and a full [M,N] C",
      randn(r, (4, 3)), randn(r, (4, 5)), randn(r, (3, 5)), {"transA": 1, "alpha": 0.5, "beta": 2.0})
    g("gemm_both_trans", "Gemm with transA=1 and transB=1, odd sizes, no C",
      randn(r, (7, 3)), randn(r, (5, 7)), None, {"transA": 1, "transB": 1})
    g("gemm_no_c", "Gemm without the optional C input (defaults alpha=beta=1)", randn(r, (2, 3)), randn(r, (3, 4)))
    g("gemm_c_scalar", "Gemm with a scalar C broadcast to [M,N]", randn(r, (3, 2)), randn(r, (2, 4)),
      np.array(1.5, np.float32))
    g("gemm_c_column", "Gemm with C of shape [M,1] broadcast along N", randn(r, (3, 2)), randn(r, (2, 4)),
      randn(r, (3, 1)), {"beta": -1.0})
    g("gemm_c_row", "Gemm with C of shape [1,N] broadcast along M", randn(r, (3, 2)), randn(r, (2, 4)),
      randn(r, (1, 4)))
    g("gemm_beta_zero", "Gemm with beta=0 (C is still read: 0*C)", randn(r, (2, 3)), randn(r, (3, 2)),
      randn(r, (2, 2)), {"beta": 0.0})
    g("gemm_f64", "Gemm in float64 with transB", randn(r, (3, 5), np.float64), randn(r, (4, 5), np.float64),
      randn(r, (4,), np.float64), {"transB": 1})
    ai = r.integers(-9, 10, (3, 4)).astype(np.int64)
    bi = r.integers(-9, 10, (4, 2)).astype(np.int64)
    ci = r.integers(-9, 10, (2,)).astype(np.int64)
    g("gemm_int64", "Gemm on int64 with whole-number alpha=2, beta=-3 (exact integer arithmetic)", ai, bi, ci,
      {"alpha": 2.0, "beta": -3.0})
    big = np.array([[2 ** 53, 1], [3, 2 ** 40]], np.int64)
    g("gemm_int64_large", "Gemm on int64 beyond 2^53: the integer path must not go through double",
      big, np.array([[1, 1], [1, 3]], np.int64))
    g("gemm_int32", "Gemm on int32 with transA", r.integers(-50, 50, (3, 2)).astype(np.int32),
      r.integers(-50, 50, (3, 4)).astype(np.int32), r.integers(-50, 50, (1, 4)).astype(np.int32), {"transA": 1})
    g("gemm_zero_k", "Gemm with K=0: the product is empty, Y = beta*C", np.zeros((2, 0), np.float32),
      np.zeros((0, 3), np.float32), randn(r, (3,)), {"beta": 2.0})
    g("gemm_zero_m", "Gemm with M=0: an empty output", np.zeros((0, 4), np.float32), randn(r, (4, 3)),
      randn(r, (3,)))
    a = randn(r, (3, 2))
    a[0, 1] = np.nan
    a[2, 0] = np.inf
    g("gemm_nan_inf", "Gemm propagates NaN and inf from A", a, np.abs(randn(r, (2, 3))) + 0.5)


def gen_matmul():
    def m(name, note, a, b, abatch=(), bbatch=()):
        y = (a.astype(np.float64) @ b.astype(np.float64)).astype(a.dtype) if a.dtype.kind == "f" else \
            (a.astype(np.int64) @ b.astype(np.int64)).astype(a.dtype)
        case(name, "MatMul", [In("a", a, abatch), In("b", b, bbatch)], [("y", np.asarray(y, a.dtype))], None, note)

    r = rng_for("matmul")
    m("matmul_2d", "MatMul of two matrices with odd sizes", randn(r, (3, 5)), randn(r, (5, 7)))
    m("matmul_batch_n", "MatMul [N,3,4] x [4,5]: a symbolic batch against a shared matrix",
      randn(r, (N, 3, 4)), randn(r, (4, 5)), (0,))
    m("matmul_vec_mat", "MatMul of a 1-D vector and a matrix (1-D promotion, the unit dim removed)",
      randn(r, (4,)), randn(r, (4, 3)))
    m("matmul_mat_vec", "MatMul of a matrix and a 1-D vector", randn(r, (3, 4)), randn(r, (4,)))
    m("matmul_vec_vec", "MatMul of two 1-D vectors gives a scalar", randn(r, (6,)), randn(r, (6,)))
    m("matmul_batch_vec", "MatMul of a batched [2,3,4] stack and a 1-D vector", randn(r, (2, 3, 4)), randn(r, (4,)))
    m("matmul_vec_batch", "MatMul of a 1-D vector and a batched [2,4,3] stack", randn(r, (4,)), randn(r, (2, 4, 3)))
    m("matmul_broadcast", "MatMul with batch dims [2,1] and [3] broadcasting to [2,3]",
      randn(r, (2, 1, 2, 3)), randn(r, (3, 3, 4)))
    m("matmul_both_batched_n", "MatMul [N,2,3] x [N,3,2]: matching symbolic batches",
      randn(r, (N, 2, 3)), randn(r, (N, 3, 2)), (0,), (0,))
    m("matmul_f64", "MatMul in float64", randn(r, (2, 3, 4), np.float64), randn(r, (2, 4, 2), np.float64))
    m("matmul_int64", "MatMul on int64 (exact)", r.integers(-20, 20, (3, 4)).astype(np.int64),
      r.integers(-20, 20, (4, 2)).astype(np.int64))
    m("matmul_int32", "MatMul on int32 with batch broadcasting", r.integers(-20, 20, (2, 2, 3)).astype(np.int32),
      r.integers(-20, 20, (3, 2)).astype(np.int32))
    m("matmul_zero_k", "MatMul with K=0 gives zeros", np.zeros((2, 0), np.float32), np.zeros((0, 3), np.float32))
    m("matmul_zero_batch", "MatMul with an empty batch dim", np.zeros((0, 2, 3), np.float32), randn(r, (3, 4)))


# ---- Conv, ConvTranspose -----------------------------------------------------------------------


def gen_conv():
    def c(name, note, xshape, wshape, bias=True, attrs=None, dtype=np.float32, batch=False, x=None, n_axes=None):
        r = rng_for(name)
        at = dict(attrs or {})
        x = randn(r, xshape, dtype) if x is None else x
        w = randn(r, wshape, dtype)
        b = randn(r, (wshape[0],), dtype) if bias else None
        nsp = len(xshape) - 2
        k = list(wshape[2:])
        s = at.get("strides", [1] * nsp)
        d = at.get("dilations", [1] * nsp)
        ap = at.get("auto_pad", "NOTSET")
        if ap.startswith("SAME"):
            pads = same_pads(xshape[2:], k, s, d, ap == "SAME_UPPER")
        elif ap == "VALID":
            pads = [0] * (2 * nsp)
        else:
            pads = at.get("pads", [0] * (2 * nsp))
        y = conv_ref(x, w, b, s, pads, d, at.get("group", 1)).astype(dtype)
        ax = n_axes if n_axes is not None else ((0,) if batch else ())
        ins = [In("x", x, ax), In("w", w)] + ([In("b", b)] if bias else [])
        case(name, "Conv", ins, [("y", y)], attrs, note)

    c("conv2d_basic", "Conv2d 3x3, pads 1, bias, symbolic batch N", (N, 3, 7, 7), (4, 3, 3, 3),
      attrs={"pads": [1, 1, 1, 1]}, batch=True)
    c("conv2d_defaults", "Conv2d with every attribute defaulted (stride 1, no pads, group 1), no bias",
      (1, 2, 5, 6), (3, 2, 3, 2), bias=False)
    c("conv2d_stride_odd", "Conv2d with strides [2,3] on odd sizes", (2, 2, 9, 8), (3, 2, 3, 2),
      attrs={"strides": [2, 3]})
    c("conv2d_dilation", "Conv2d with dilations [2,3] and pads", (1, 2, 9, 10), (2, 2, 3, 3),
      attrs={"dilations": [2, 3], "pads": [2, 1, 2, 3]})
    c("conv2d_asym_pads", "Conv2d with asymmetric pads [0,1,2,1] (torch conv on an explicitly padded input)",
      (2, 3, 5, 5), (2, 3, 3, 3), attrs={"pads": [0, 1, 2, 1]})
    c("conv2d_group2", "Conv2d with group=2 (4 in, 6 out channels)", (2, 4, 6, 6), (6, 2, 3, 3),
      attrs={"group": 2, "pads": [1, 1, 1, 1]})
    c("conv2d_depthwise", "Depthwise Conv2d: group = C = M = 4, stride 2", (N, 4, 7, 7), (4, 1, 3, 3),
      attrs={"group": 4, "strides": [2, 2], "pads": [1, 1, 1, 1]}, batch=True)
    c("conv2d_depthwise_mult", "Depthwise Conv2d with channel multiplier 2: group = C = 3, M = 6",
      (1, 3, 5, 5), (6, 1, 3, 3), attrs={"group": 3})
    c("conv2d_1x1", "Pointwise 1x1 Conv2d", (N, 5, 4, 3), (7, 5, 1, 1), batch=True)
    c("conv2d_1x1_stride", "1x1 Conv2d with stride 2 (a subsampling projection)", (1, 3, 5, 5), (2, 3, 1, 1),
      attrs={"strides": [2, 2]})
    c("conv2d_same_upper", "Conv2d auto_pad=SAME_UPPER, even kernel, stride 2: ONNX pads (extra at the end), then "
      "torch", (2, 2, 7, 8), (3, 2, 4, 4), attrs={"auto_pad": "SAME_UPPER", "strides": [2, 2]})
    c("conv2d_same_lower", "Conv2d auto_pad=SAME_LOWER, even kernel: ONNX pads (extra at the beginning), then torch",
      (1, 2, 6, 5), (2, 2, 2, 4), attrs={"auto_pad": "SAME_LOWER"})
    c("conv2d_same_upper_dilated", "Conv2d auto_pad=SAME_UPPER with dilation 2 and stride 3", (1, 1, 8, 7),
      (2, 1, 3, 2), attrs={"auto_pad": "SAME_UPPER", "dilations": [2, 2], "strides": [3, 3]})
    c("conv2d_valid", "Conv2d auto_pad=VALID (no padding)", (1, 2, 6, 5), (2, 2, 3, 3),
      attrs={"auto_pad": "VALID", "strides": [2, 1]})
    c("conv2d_kernel_shape", "Conv2d with kernel_shape given explicitly (equal to W's)", (1, 2, 5, 5), (2, 2, 3, 2),
      attrs={"kernel_shape": [3, 2]})
    c("conv1d", "Conv1d with stride 2 and asymmetric pads, symbolic batch", (N, 2, 11), (3, 2, 4),
      attrs={"strides": [2], "pads": [1, 2]}, batch=True)
    c("conv1d_dilated_group", "Conv1d with dilation 3 and group 2", (2, 4, 12), (2, 2, 3),
      attrs={"dilations": [3], "group": 2})
    c("conv3d", "Conv3d with strides and pads", (1, 2, 4, 5, 3), (2, 2, 2, 3, 2),
      attrs={"strides": [1, 2, 1], "pads": [1, 0, 1, 0, 1, 1]})
    c("conv2d_f64", "Conv2d in float64 with stride and pads", (2, 3, 6, 5), (2, 3, 3, 3), dtype=np.float64,
      attrs={"strides": [2, 2], "pads": [1, 1, 0, 1]})
    c("conv1d_length_n", "Conv1d over a length-N sequence: N in a spatial dim, output length N (pads 1)",
      (1, 2, N), (4, 2, 3), attrs={"pads": [1, 1]}, n_axes=(2,))
    c("conv2d_zero_batch", "Conv2d on an empty batch", (0, 2, 4, 4), (3, 2, 3, 3))
    xn = randn(rng_for("nan"), (1, 1, 5, 5))
    xn[0, 0, 0, 0] = np.nan
    xn[0, 0, 4, 4] = np.inf
    c("conv2d_nan_inf", "Conv2d propagates NaN and inf into the windows that read them", (1, 1, 5, 5), (1, 1, 3, 3),
      attrs={"strides": [2, 2]}, x=xn)


def gen_convt():
    def ct(name, note, xshape, wshape, bias=True, attrs=None, dtype=np.float32, batch=False, n_axes=None):
        r = rng_for(name)
        at = dict(attrs or {})
        x = randn(r, xshape, dtype)
        w = randn(r, wshape, dtype)
        g = at.get("group", 1)
        b = randn(r, (wshape[1] * g,), dtype) if bias else None
        nsp = len(xshape) - 2
        k = list(wshape[2:])
        s = at.get("strides", [1] * nsp)
        d = at.get("dilations", [1] * nsp)
        op = at.get("output_padding", [0] * nsp)
        ap = at.get("auto_pad", "NOTSET")
        outs, begins = convt_out_and_begins(xshape[2:], k, s, d, at.get("pads") if ap == "NOTSET" else None, op,
                                            at.get("output_shape"), ap)
        y = convt_ref(x, w, b, s, d, g, begins, outs, op).astype(dtype)
        ax = n_axes if n_axes is not None else ((0,) if batch else ())
        ins = [In("x", x, ax), In("w", w)] + ([In("b", b)] if bias else [])
        case(name, "ConvTranspose", ins, [("y", y)], attrs, note)

    ct("convt2d_basic", "ConvTranspose2d 3x3 with bias, symbolic batch N", (N, 3, 4, 4), (3, 2, 3, 3), batch=True)
    ct("convt2d_stride_pads_outpad", "ConvTranspose2d stride 2, pads 1, output_padding 1 (torch's semantics)",
       (2, 3, 3, 4), (3, 2, 3, 3), attrs={"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]})
    ct("convt2d_dilation", "ConvTranspose2d with dilations [2,1]", (1, 2, 4, 3), (2, 3, 3, 2),
       attrs={"dilations": [2, 1]})
    ct("convt2d_group", "ConvTranspose2d with group=2 (4 in, 6 out channels)", (2, 4, 3, 3), (4, 3, 3, 3),
       attrs={"group": 2, "strides": [2, 1]})
    ct("convt2d_depthwise", "Depthwise ConvTranspose2d: group = C = 3", (1, 3, 4, 4), (3, 1, 2, 2),
       attrs={"group": 3, "strides": [2, 2]})
    ct("convt2d_asym_pads", "ConvTranspose2d with asymmetric pads [0,1,2,1]: ONNX output-size formula, full output "
       "cropped", (1, 2, 4, 4), (2, 2, 3, 3), attrs={"pads": [0, 1, 2, 1], "strides": [2, 2]})
    ct("convt2d_output_shape", "ConvTranspose2d output_shape [8,9] with stride 2: ONNX pads total - total/2 at the "
       "beginning (NOTSET), explicit NumPy crop", (1, 2, 4, 4), (2, 1, 3, 3),
       attrs={"strides": [2, 2], "output_shape": [8, 9]})
    ct("convt2d_same_upper", "ConvTranspose2d auto_pad=SAME_UPPER: output in*stride, begin pad total/2 (ONNX spec)",
       (1, 2, 3, 4), (2, 2, 4, 3), attrs={"auto_pad": "SAME_UPPER", "strides": [2, 2]})
    ct("convt2d_same_lower", "ConvTranspose2d auto_pad=SAME_LOWER: output in*stride, begin pad total - total/2",
       (1, 2, 3, 4), (2, 2, 4, 3), attrs={"auto_pad": "SAME_LOWER", "strides": [2, 2]})
    ct("convt2d_valid", "ConvTranspose2d auto_pad=VALID (no cropping)", (1, 1, 3, 3), (1, 2, 2, 2),
       attrs={"auto_pad": "VALID", "strides": [3, 2]})
    ct("convt2d_1x1_stride", "1x1 ConvTranspose2d with stride 2 and output_padding 1 (kernel smaller than stride)",
       (1, 2, 3, 3), (2, 2, 1, 1), attrs={"strides": [2, 2], "output_padding": [1, 1]})
    ct("convt2d_no_bias_kernel_shape", "ConvTranspose2d without bias and with kernel_shape given", (2, 2, 3, 3),
       (2, 2, 2, 3), bias=False, attrs={"kernel_shape": [2, 3]})
    ct("convt1d", "ConvTranspose1d with stride 3 and pads", (N, 2, 5), (2, 3, 3), attrs={"strides": [3], "pads": [1, 0]},
       batch=True)
    ct("convt1d_length_n", "ConvTranspose1d upsampling a length-N sequence by 2 (output length 2N)", (1, 2, N),
       (2, 3, 2), attrs={"strides": [2]}, n_axes=(2,))
    ct("convt3d", "ConvTranspose3d with strides", (1, 2, 2, 3, 2), (2, 1, 2, 2, 3), attrs={"strides": [2, 1, 2]})
    ct("convt2d_f64", "ConvTranspose2d in float64 with stride, pads and output_padding", (1, 2, 3, 3),
       (2, 2, 3, 3), dtype=np.float64, attrs={"strides": [2, 3], "pads": [1, 0, 0, 1], "output_padding": [1, 2]})


# ---- pools --------------------------------------------------------------------------------------


def pool_pads(xshape, at, dil=True):
    nsp = len(xshape) - 2
    k = at["kernel_shape"]
    s = at.get("strides", [1] * nsp)
    d = at.get("dilations", [1] * nsp) if dil else [1] * nsp
    ap = at.get("auto_pad", "NOTSET")
    if ap.startswith("SAME"):
        return same_pads(xshape[2:], k, s, d, ap == "SAME_UPPER")
    if ap == "VALID":
        return [0] * (2 * nsp)
    return at.get("pads", [0] * (2 * nsp))


def gen_maxpool():
    def mp(name, note, xshape, attrs, indices=False, dtype=np.float32, batch=False, x=None, n_axes=None):
        r = rng_for(name)
        if x is None:
            if dtype == np.int8:
                x = r.integers(-128, 128, xshape).astype(np.int8)
            elif dtype == np.uint8:
                x = r.integers(0, 256, xshape).astype(np.uint8)
            else:
                x = randn(r, xshape, dtype)
        nsp = len(xshape) - 2
        y, ind = maxpool_ref(x, attrs["kernel_shape"], attrs.get("strides", [1] * nsp),
                             attrs.get("dilations", [1] * nsp), pool_pads(xshape, attrs), attrs.get("ceil_mode", 0),
                             attrs.get("storage_order", 0))
        outs = [("y", y)] + ([("indices", ind)] if indices else [])
        ax = n_axes if n_axes is not None else ((0,) if batch else ())
        case(name, "MaxPool", [In("x", x, ax)], outs, attrs, note)

    mp("maxpool2d_basic", "MaxPool2d 2x2 stride 2 with Indices (ONNX: offset into the whole flattened input, "
       "including batch and channel), symbolic batch", (N, 3, 6, 6), {"kernel_shape": [2, 2], "strides": [2, 2]},
       indices=True, batch=True)
    mp("maxpool2d_pads_stride", "MaxPool2d 3x3 stride 2 pads 1 with Indices", (2, 2, 7, 6),
       {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}, indices=True)
    mp("maxpool2d_default_strides", "MaxPool2d with strides defaulted to 1", (1, 2, 4, 5), {"kernel_shape": [2, 3]})
    mp("maxpool2d_ceil", "MaxPool2d ceil_mode=1 on 7x7 with 2x2 stride 2 (partial last windows)", (1, 2, 7, 7),
       {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}, indices=True)
    mp("maxpool2d_ceil_drop", "MaxPool2d ceil_mode=1 where the last window would start in the end padding and is "
       "dropped (as torch)", (1, 1, 5, 5), {"kernel_shape": [2, 2], "strides": [2, 2], "pads": [1, 1, 1, 1],
                                            "ceil_mode": 1}, indices=True)
    mp("maxpool2d_dilation", "MaxPool2d with dilations [2,2] and pads", (1, 2, 8, 7),
       {"kernel_shape": [2, 3], "dilations": [2, 2], "pads": [1, 1, 1, 1]}, indices=True)
    mp("maxpool2d_storage_order", "MaxPool2d Indices with storage_order=1 (column-major spatial offsets)",
       (2, 2, 5, 4), {"kernel_shape": [2, 2], "strides": [1, 2], "storage_order": 1}, indices=True)
    mp("maxpool2d_asym_pads", "MaxPool2d with asymmetric pads [0,1,2,0] (explicit NumPy)", (1, 2, 5, 5),
       {"kernel_shape": [3, 3], "pads": [0, 1, 2, 0], "strides": [2, 2]}, indices=True)
    mp("maxpool2d_same_upper", "MaxPool2d auto_pad=SAME_UPPER, even kernel, stride 2 (explicit NumPy, ONNX pads)",
       (1, 2, 7, 6), {"kernel_shape": [2, 3], "strides": [2, 2], "auto_pad": "SAME_UPPER"}, indices=True)
    mp("maxpool2d_same_lower", "MaxPool2d auto_pad=SAME_LOWER, even kernel (explicit NumPy, ONNX pads)",
       (1, 1, 6, 5), {"kernel_shape": [2, 2], "auto_pad": "SAME_LOWER"}, indices=True)
    mp("maxpool2d_valid", "MaxPool2d auto_pad=VALID", (1, 1, 6, 5), {"kernel_shape": [3, 2], "strides": [2, 2],
                                                                    "auto_pad": "VALID"})
    mp("maxpool1d", "MaxPool1d with stride, pads and Indices, symbolic batch", (N, 2, 11),
       {"kernel_shape": [3], "strides": [2], "pads": [1, 1]}, indices=True, batch=True)
    mp("maxpool1d_length_n", "MaxPool1d over a length-N sequence with end padding (output length N)", (2, 1, N),
       {"kernel_shape": [2], "pads": [0, 1]}, indices=True, n_axes=(2,))
    mp("maxpool3d", "MaxPool3d with strides and Indices", (1, 2, 4, 5, 4), {"kernel_shape": [2, 2, 3],
                                                                           "strides": [2, 2, 1]}, indices=True)
    mp("maxpool2d_f64", "MaxPool2d in float64 with ceil_mode", (2, 1, 5, 6),
       {"kernel_shape": [3, 2], "strides": [2, 2], "ceil_mode": 1}, indices=True, dtype=np.float64)
    mp("maxpool2d_int8", "MaxPool2d on int8 (ONNX MaxPool-12 takes 8-bit ints)", (1, 2, 4, 4),
       {"kernel_shape": [2, 2], "strides": [2, 2]}, indices=True, dtype=np.int8)
    mp("maxpool2d_uint8", "MaxPool2d on uint8 with pads", (1, 1, 5, 5), {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]},
       dtype=np.uint8)
    xt = np.array([[[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]]], np.float32)
    mp("maxpool2d_ties", "MaxPool2d with tied maxima: the first in window order wins the index", (1, 1, 4, 4),
       {"kernel_shape": [2, 2], "strides": [1, 1]}, indices=True, x=xt)
    xs = randn(rng_for("mp_special"), (1, 1, 4, 6))
    xs[0, 0, 0, 1] = np.nan
    xs[0, 0, 2, 2] = np.inf
    xs[0, 0, 3, 5] = -np.inf
    xs[0, 0, 2, 4:6] = -np.inf
    xs[0, 0, 3, 4] = -np.inf
    mp("maxpool2d_nan_inf", "MaxPool2d with NaN (propagates), +inf and an all -inf window", (1, 1, 4, 6),
       {"kernel_shape": [2, 2], "strides": [2, 2]}, x=xs)


def gen_avgpool():
    def ap(name, note, xshape, attrs, dtype=np.float32, batch=False, x=None, n_axes=None):
        r = rng_for(name)
        x = randn(r, xshape, dtype) if x is None else x
        nsp = len(xshape) - 2
        y = avgpool_ref(x, attrs["kernel_shape"], attrs.get("strides", [1] * nsp), pool_pads(xshape, attrs, False),
                        attrs.get("ceil_mode", 0), attrs.get("count_include_pad", 0)).astype(dtype)
        ax = n_axes if n_axes is not None else ((0,) if batch else ())
        case(name, "AveragePool", [In("x", x, ax)], [("y", y)], attrs, note)

    ap("avgpool2d_basic", "AveragePool2d 2x2 stride 2, symbolic batch", (N, 3, 6, 6),
       {"kernel_shape": [2, 2], "strides": [2, 2]}, batch=True)
    ap("avgpool2d_pads_exclude", "AveragePool2d pads 1, count_include_pad=0 (the ONNX default; torch's default "
       "differs)", (2, 2, 5, 6), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]})
    ap("avgpool2d_pads_include", "AveragePool2d pads 1, count_include_pad=1", (2, 2, 5, 6),
       {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "count_include_pad": 1})
    ap("avgpool2d_ceil_exclude", "AveragePool2d ceil_mode=1 (the ONNX test example generalized): edge windows "
       "divide by their input elements", (1, 2, 7, 6), {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1})
    ap("avgpool2d_ceil_include", "AveragePool2d ceil_mode=1, count_include_pad=1, pads 1: the divisor counts taps "
       "inside the padded input, not the ceil overhang (as onnxruntime, onnx.reference and torch)", (1, 2, 6, 7),
       {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1, "count_include_pad": 1})
    ap("avgpool2d_ceil_drop", "AveragePool2d ceil_mode=1 dropping a window that would start in the end padding",
       (1, 1, 5, 5), {"kernel_shape": [2, 2], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1,
                      "count_include_pad": 1})
    ap("avgpool2d_asym_pads", "AveragePool2d with asymmetric pads, count_include_pad=1 (explicit NumPy)",
       (1, 2, 5, 5), {"kernel_shape": [2, 3], "pads": [1, 0, 0, 2], "count_include_pad": 1})
    ap("avgpool2d_same_upper", "AveragePool2d auto_pad=SAME_UPPER, count_include_pad=0 (explicit NumPy, ONNX pads)",
       (1, 2, 7, 6), {"kernel_shape": [2, 3], "strides": [2, 2], "auto_pad": "SAME_UPPER"})
    ap("avgpool2d_same_lower_include", "AveragePool2d auto_pad=SAME_LOWER with count_include_pad=1 (the SAME pads "
       "count)", (1, 1, 6, 5), {"kernel_shape": [2, 2], "auto_pad": "SAME_LOWER", "count_include_pad": 1})
    ap("avgpool2d_valid", "AveragePool2d auto_pad=VALID", (1, 1, 6, 5),
       {"kernel_shape": [3, 2], "strides": [2, 2], "auto_pad": "VALID"})
    ap("avgpool1d", "AveragePool1d with pads, symbolic batch", (N, 2, 9),
       {"kernel_shape": [3], "strides": [2], "pads": [1, 1]}, batch=True)
    ap("avgpool1d_length_n", "AveragePool1d over a length-N sequence, pads 1 (output length N)", (1, 2, N),
       {"kernel_shape": [3], "pads": [1, 1]}, n_axes=(2,))
    ap("avgpool3d", "AveragePool3d", (1, 2, 4, 4, 5), {"kernel_shape": [2, 2, 3], "strides": [2, 2, 2]})
    ap("avgpool2d_f64", "AveragePool2d in float64 with pads and count_include_pad=1", (2, 1, 5, 5),
       {"kernel_shape": [2, 2], "pads": [1, 1, 0, 0], "count_include_pad": 1}, dtype=np.float64)
    xs = randn(rng_for("ap_special"), (1, 1, 4, 4))
    xs[0, 0, 0, 0] = np.nan
    xs[0, 0, 3, 3] = np.inf
    ap("avgpool2d_nan_inf", "AveragePool2d propagates NaN and inf", (1, 1, 4, 4),
       {"kernel_shape": [2, 2], "strides": [2, 2]}, x=xs)


def gen_gap():
    def gp(name, note, x, batch=False, n_axes=None):
        axes = tuple(range(2, x.ndim))
        y = x.astype(np.float64).mean(axis=axes, keepdims=True).astype(x.dtype)
        ax = n_axes if n_axes is not None else ((0,) if batch else ())
        case(name, "GlobalAveragePool", [In("x", x, ax)], [("y", y)], None, note)

    r = rng_for("gap")
    gp("gap2d", "GlobalAveragePool over H and W, symbolic batch", randn(r, (N, 3, 4, 5)), batch=True)
    gp("gap1d_length_n", "GlobalAveragePool over a length-N axis", randn(r, (2, 3, N)), n_axes=(2,))
    gp("gap1d", "GlobalAveragePool of a 1-D signal", randn(r, (2, 3, 7)))
    gp("gap3d", "GlobalAveragePool over three spatial axes", randn(r, (1, 2, 3, 4, 5)))
    gp("gap2d_f64", "GlobalAveragePool in float64", randn(r, (2, 2, 3, 3), np.float64))
    x = randn(r, (1, 2, 2, 2))
    x[0, 0, 1, 1] = np.nan
    x[0, 1, 0, 0] = -np.inf
    gp("gap2d_nan_inf", "GlobalAveragePool propagates NaN and -inf", x)
    gp("gap2d_zero_batch", "GlobalAveragePool on an empty batch", np.zeros((0, 3, 2, 2), np.float32))


# ---- normalization -----------------------------------------------------------------------------


def gen_batchnorm():
    def bn(name, note, xshape, attrs=None, dtype=np.float32, pdtype=None, batch=False, training=False):
        r = rng_for(name)
        pdtype = pdtype or dtype
        at = attrs or {}
        c = xshape[1]
        x = randn(r, xshape, dtype)
        scale, bias = randn(r, (c,), dtype), randn(r, (c,), dtype)
        mean, var = randn(r, (c,), pdtype), (np.abs(randn(r, (c,), pdtype)) + 0.5).astype(pdtype)
        eps = at.get("epsilon", 1e-5)
        mom = at.get("momentum", 0.9)
        shp = (1, c) + (1,) * (len(xshape) - 2)
        ins = [In("x", x, (0,) if batch else ()), In("scale", scale), In("b", bias), In("mean", mean), In("var", var)]
        if not training:
            y = F.batch_norm(t64(x), t64(mean), t64(var), t64(scale), t64(bias), False, 0.0, eps).numpy()
            case(name, "BatchNormalization", ins, [("y", y.astype(dtype))], attrs, note)
            return
        # ONNX training mode: batch statistics, population variance, running = momentum*running + (1-momentum)*batch
        axes = (0,) + tuple(range(2, len(xshape)))
        xd = x.astype(np.float64)
        mu, v = xd.mean(axis=axes), xd.var(axis=axes)
        y = (xd - mu.reshape(shp)) / np.sqrt(v.reshape(shp) + eps) * scale.astype(np.float64).reshape(shp) + \
            bias.astype(np.float64).reshape(shp)
        rm = mean.astype(np.float64) * mom + mu * (1 - mom)
        rv = var.astype(np.float64) * mom + v * (1 - mom)
        case(name, "BatchNormalization", ins, [("y", y.astype(dtype)), ("running_mean", rm.astype(pdtype)),
                                               ("running_var", rv.astype(pdtype))], attrs, note)

    bn("bn_inference", "BatchNormalization inference form (running mean/var), symbolic batch", (N, 3, 4, 4),
       batch=True)
    bn("bn_inference_rank2", "BatchNormalization on [N,C] (BatchNorm1d on features)", (N, 5), batch=True)
    bn("bn_inference_rank3", "BatchNormalization on [N,C,L]", (2, 3, 7))
    bn("bn_epsilon", "BatchNormalization with epsilon=0.1", (2, 2, 3, 3), {"epsilon": 0.1})
    bn("bn_f64", "BatchNormalization in float64", (2, 3, 2, 3), dtype=np.float64)
    bn("bn_mixed_dtypes", "BatchNormalization with float32 X/scale/B and float64 mean/var (ONNX T/T1/T2)",
       (2, 2, 3), pdtype=np.float64)
    bn("bn_training", "BatchNormalization training_mode=1: batch stats with population variance (torch's running_var "
       "is unbiased, so NumPy), running stats blended with momentum=0.9", (N, 3, 3, 2), {"training_mode": 1},
       batch=True, training=True)
    bn("bn_training_momentum", "BatchNormalization training_mode=1 with momentum=0.25 and epsilon=1e-3",
       (4, 2, 3), {"training_mode": 1, "momentum": 0.25, "epsilon": 1e-3}, training=True)
    bn("bn_training_f64", "BatchNormalization training_mode=1 in float64 on [N,C]", (5, 3), {"training_mode": 1},
       dtype=np.float64, training=True)


def ln_ref(x, scale, bias, axis, eps, stash_f32):
    """LayerNormalization per ONNX: stage one (Mean, InvStdDev, normalized) in float32 when
    stash_type=1 for a float64 X, else in float64; stage two in X's precision."""
    ax = axis % x.ndim
    axes = tuple(range(ax, x.ndim))
    if stash_f32 and x.dtype == np.float64:
        xs = x.astype(np.float32)
        mean = xs.mean(axis=axes, keepdims=True, dtype=np.float32)
        var = ((xs - mean) ** 2).mean(axis=axes, keepdims=True, dtype=np.float32)
        inv = (np.float32(1) / np.sqrt(var + np.float32(eps))).astype(np.float32)
        norm = ((xs - mean) * inv).astype(np.float64)
    else:
        xd = x.astype(np.float64)
        mean = xd.mean(axis=axes, keepdims=True)
        inv = 1 / np.sqrt(((xd - mean) ** 2).mean(axis=axes, keepdims=True) + eps)
        norm = (xd - mean) * inv
    y = norm * scale.astype(np.float64)
    if bias is not None:
        y = y + bias.astype(np.float64)
    return y.astype(x.dtype), mean.astype(np.float64), inv.astype(np.float64)


def gen_layernorm():
    def ln(name, note, xshape, sshape, axis=-1, bias=True, stats=False, attrs=None, dtype=np.float32, batch=False,
           torch_check=True):
        r = rng_for(name)
        at = dict(attrs or {})
        if axis != -1:
            at["axis"] = axis
        x = randn(r, xshape, dtype)
        scale = randn(r, sshape, dtype)
        b = randn(r, sshape, dtype) if bias else None
        eps = at.get("epsilon", 1e-5)
        stash = at.get("stash_type", 1)
        y, mean, inv = ln_ref(x, scale, b, axis, eps, stash == 1)
        ax = axis % len(xshape)
        if torch_check and tuple(sshape) == tuple(xshape[ax:]) and not (stash == 1 and dtype == np.float64):
            yt = F.layer_norm(t64(x), xshape[ax:], t64(scale), None if b is None else t64(b), eps).numpy()
            assert np.allclose(y.astype(np.float64), yt, rtol=1e-5, atol=1e-6)
            y = yt.astype(dtype)
        sdt = np.float32 if stash == 1 else np.float64
        outs = [("y", y)] + ([("mean", mean.astype(sdt)), ("inv_std_dev", inv.astype(sdt))] if stats else [])
        ins = [In("x", x, (0,) if batch else ()), In("scale", scale)] + ([In("b", b)] if bias else [])
        case(name, "LayerNormalization", ins, outs, at or None, note)

    ln("ln_default", "LayerNormalization over the last axis with Mean and InvStdDev outputs, symbolic batch",
       (N, 4, 6), (6,), stats=True, batch=True)
    ln("ln_axis1", "LayerNormalization with axis=1 on a 4-D input (normalizes the last three axes)", (2, 3, 4, 5),
       (3, 4, 5), axis=1, stats=True)
    ln("ln_axis_neg2", "LayerNormalization with axis=-2", (2, 3, 4), (3, 4), axis=-2, stats=True)
    ln("ln_axis0", "LayerNormalization with axis=0 (everything in one group; Mean has shape [1,1])", (3, 5), (3, 5),
       axis=0, stats=True)
    ln("ln_no_bias", "LayerNormalization without the optional B", (N, 7), (7,), bias=False, batch=True)
    ln("ln_scale_broadcast", "LayerNormalization with Scale [1,5] and B [5] broadcasting to X (ONNX Mul/Add "
       "semantics)", (2, 3, 5), (1, 5), torch_check=False)
    ln("ln_epsilon", "LayerNormalization with epsilon=0.5", (2, 6), (6,), attrs={"epsilon": 0.5}, stats=True)
    ln("ln_f64_stash_f32", "LayerNormalization of float64 X with stash_type=1: stage one in float32 (ONNX), Mean and "
       "InvStdDev are float32", (2, 3, 4), (4,), stats=True, dtype=np.float64)
    ln("ln_f64_stash_f64", "LayerNormalization of float64 X with stash_type=11 (sinter extension: float64 stage one "
       "and statistics)", (2, 5), (5,), stats=True, dtype=np.float64, attrs={"stash_type": 11})


def gen_softmax():
    def sm(name, note, x, axis=None, batch=False, ops=("Softmax", "LogSoftmax"), n_axes=None):
        for op in ops:
            ax = -1 if axis is None else axis
            fn = torch.softmax if op == "Softmax" else torch.log_softmax
            y = fn(t64(x), dim=ax).numpy().astype(x.dtype)
            prefix = "softmax" if op == "Softmax" else "logsoftmax"
            nax = n_axes if n_axes is not None else ((0,) if batch else ())
            case(f"{prefix}_{name}", op, [In("x", x, nax)], [("y", y)],
                 None if axis is None else {"axis": axis}, f"{op}: {note}")

    r = rng_for("softmax")
    sm("default_axis", "default axis -1 on [N,5], symbolic batch", randn(r, (N, 5)), batch=True)
    sm("axis0", "axis=0 of a 3-D tensor", randn(r, (2, 3, 4)), 0)
    sm("axis1", "axis=1 of a 3-D tensor (opset 13: one axis, not flattened)", randn(r, (2, 3, 4)), 1)
    sm("axis_neg2", "axis=-2", randn(r, (3, 4, 2)), -2)
    sm("axis_n", "along the symbolic N axis (axis=0 of [N,4])", randn(r, (N, 4)), 0, n_axes=(0,))
    sm("rank1", "a 1-D input", randn(r, (7,)))
    sm("f64", "float64", randn(r, (3, 4), np.float64))
    sm("large", "large logits stay finite (max-shifted)", (randn(r, (2, 4)) * 50 + 1000).astype(np.float32))
    xi = randn(r, (3, 4))
    xi[0, 1] = -np.inf
    xi[1, :] = -np.inf
    xi[2, 2] = np.nan
    sm("inf_nan", "-inf entries (masked) give 0 / -inf; an all -inf row and a NaN give NaN", xi)
    sm("zero_size", "an empty batch", np.zeros((0, 4), np.float32))


def gen_dropout():
    r = rng_for("dropout")
    x = randn(r, (N, 4))
    case("dropout_default", "Dropout", [In("x", x, (0,))], [("y", x)], None,
         "Dropout in inference (no ratio, no training_mode): identity")
    x = randn(r, (2, 3, 2))
    case("dropout_mask", "Dropout", [In("x", x)], [("y", x), ("mask", np.ones(x.shape, np.bool_))], None,
         "Dropout with the optional mask output: all true in inference")
    x = randn(r, (N, 5))
    case("dropout_ratio_training_false", "Dropout", [In("x", x, (0,))], [("y", x), ("mask", np.ones(x.shape, np.bool_))],
         {"seed": 7}, "Dropout with constant ratio 0.3 and training_mode false, and a seed: identity",
         consts=[Const("ratio", np.array(0.3, np.float32)), Const("training_mode", np.array(False))])
    x = randn(r, (3, 2), np.float64)
    case("dropout_f64_ratio_only", "Dropout", [In("x", x)], [("y", x)], None,
         "Dropout in float64 with only the ratio input (double ratio)",
         consts=[Const("ratio", np.array(0.5, np.float64))])
    x = randn(r, (2, 3))
    x[0, 0] = np.nan
    x[1, 2] = -np.inf
    case("dropout_nan_inf", "Dropout", [In("x", x)], [("y", x)], None, "Dropout passes NaN and inf through",
         consts=[Const("training_mode", np.array(False))], node_inputs=["x", "", "training_mode"])


# ---- losses ---------------------------------------------------------------------------------------


def gen_sce():
    def sce(name, note, xshape, reduction="mean", weights=False, ignore=None, log_prob=False, dtype=np.float32,
            ldtype=np.int64, batch=False, labels=None):
        r = rng_for(name)
        c = xshape[1]
        x = randn(r, xshape, dtype) * 2
        lshape = (xshape[0],) + tuple(xshape[2:])
        lab = r.integers(0, c, lshape) if labels is None else np.array(labels)
        lab = lab.astype(ldtype)
        w = (np.abs(randn(r, (c,), dtype)) + 0.2).astype(dtype) if weights else None
        loss = F.cross_entropy(t64(x), torch.from_numpy(lab.astype(np.int64)), None if w is None else t64(w),
                               ignore_index=-100 if ignore is None else ignore, reduction=reduction).numpy()
        outs = [("loss", loss.astype(dtype))]
        if log_prob:
            outs.append(("log_prob", F.log_softmax(t64(x), dim=1).numpy().astype(dtype)))
        attrs = {}
        if reduction != "mean":
            attrs["reduction"] = reduction
        if ignore is not None:
            attrs["ignore_index"] = ignore
        ins = [In("scores", x, (0,) if batch else ()), In("labels", lab, (0,) if batch else ())]
        if weights:
            ins.append(In("weights", w))
        case(name, "SoftmaxCrossEntropyLoss", ins, outs, attrs or None, note)

    sce("sce_mean", "SoftmaxCrossEntropyLoss with the default mean reduction, symbolic batch", (N, 5), batch=True)
    sce("sce_sum", "SoftmaxCrossEntropyLoss reduction=sum", (4, 3), "sum")
    sce("sce_none", "SoftmaxCrossEntropyLoss reduction=none: per-sample losses", (N, 4), "none", batch=True)
    sce("sce_weights_mean", "SoftmaxCrossEntropyLoss with class weights: mean = sum(w*l) / sum(w)", (6, 4),
        weights=True)
    sce("sce_weights_none", "SoftmaxCrossEntropyLoss with class weights and reduction=none", (5, 3), "none",
        weights=True)
    sce("sce_ignore_index", "SoftmaxCrossEntropyLoss with ignore_index=2: ignored samples count neither in the sum nor "
        "in the mean's denominator", (6, 4), ignore=2, labels=[0, 2, 1, 2, 3, 1])
    sce("sce_ignore_weights", "SoftmaxCrossEntropyLoss with ignore_index and weights: mean over the weights of "
        "non-ignored labels", (6, 4), weights=True, ignore=1, labels=[0, 1, 1, 2, 3, 3])
    sce("sce_ignore_negative", "SoftmaxCrossEntropyLoss with ignore_index=-1 (outside [0, C)) and reduction=sum",
        (5, 3), "sum", ignore=-1, labels=[0, -1, 2, -1, 1])
    sce("sce_log_prob", "SoftmaxCrossEntropyLoss with the optional log_prob output", (N, 5), log_prob=True, batch=True)
    sce("sce_nd_mean", "SoftmaxCrossEntropyLoss on [N,C,d1,d2] scores with [N,d1,d2] labels", (2, 3, 4, 2),
        log_prob=True)
    sce("sce_nd_none", "SoftmaxCrossEntropyLoss [N,C,d1] with reduction=none and weights", (2, 4, 3), "none",
        weights=True)
    sce("sce_f64", "SoftmaxCrossEntropyLoss in float64", (4, 6), dtype=np.float64, log_prob=True)
    sce("sce_int32_labels", "SoftmaxCrossEntropyLoss with int32 labels", (5, 4), ldtype=np.int32)
    sce("sce_all_ignored", "SoftmaxCrossEntropyLoss mean where every label is ignored: 0/0 = NaN (as torch)", (3, 2),
        ignore=0, labels=[0, 0, 0])


def gen_mse():
    def mse(name, note, shape, reduction="mean", dtype=np.float32, batch=False, a=None):
        r = rng_for(name)
        a = randn(r, shape, dtype) if a is None else a
        b = randn(r, shape, dtype)
        with torch.no_grad():
            y = F.mse_loss(t64(a), t64(b), reduction=reduction).numpy()
        ax = (0,) if batch else ()
        case(name, "MSELoss", [In("a", a, ax), In("b", b, ax)], [("loss", y.astype(dtype))],
             None if reduction == "mean" else {"reduction": reduction}, note)

    mse("mse_mean", "MSELoss with the default mean reduction (as torch.nn.MSELoss), symbolic batch", (N, 3),
        batch=True)
    mse("mse_sum", "MSELoss reduction=sum", (2, 3, 2), "sum")
    mse("mse_none", "MSELoss reduction=none: squared differences", (N, 4), "none", batch=True)
    mse("mse_f64", "MSELoss in float64", (5,), dtype=np.float64)
    mse("mse_scalar", "MSELoss of two scalars", ())
    a = randn(rng_for("mse_nan"), (2, 2))
    a[0, 0] = np.nan
    mse("mse_nan", "MSELoss with a NaN: the mean is NaN", (2, 2), a=a)
    mse("mse_empty_sum", "MSELoss reduction=sum over an empty tensor is 0", (0, 3), "sum")


def main():
    torch.set_grad_enabled(False)
    self_checks()
    if os.path.isdir(ROOT):
        shutil.rmtree(ROOT)
    os.makedirs(ROOT)
    gen_gemm()
    gen_matmul()
    gen_conv()
    gen_convt()
    gen_maxpool()
    gen_avgpool()
    gen_gap()
    gen_batchnorm()
    gen_layernorm()
    gen_softmax()
    gen_dropout()
    gen_sce()
    gen_mse()
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(ROOT) for f in fs)
    print(f"wrote {len(written)} cases to {ROOT} ({total} bytes)")


if __name__ == "__main__":
    main()
