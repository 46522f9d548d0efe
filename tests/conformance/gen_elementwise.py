#!/usr/bin/python3
"""Conformance vectors for the element-wise, comparison and reduction ops.

Run from the repo root:  /usr/bin/python3 tests/conformance/gen_elementwise.py
Deletes and rewrites tests/conformance/elementwise/ completely. Expectations come from
NumPy and PyTorch (erf, gelu) computed in float64 and rounded once to the output dtype,
or from explicit formulas of the ONNX opset-17 spec where NumPy differs or refuses
(integer Div truncates toward zero, reductions over empty sets); never from sinter.
"""
import json
import math
import os
import shutil

import numpy as np
import torch

ROOT = os.path.join("tests", "conformance", "elementwise")
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

rng = np.random.default_rng(20240917)
names_seen = set()


class In:
    """A graph input: its data (at N) and its declared shape (with "N" where batched)."""

    def __init__(self, name, data, batch_axes=()):
        self.name = name
        self.data = np.array(data, order="C")  # (ascontiguousarray would make scalars 1-D)
        self.shape = ["N" if i in batch_axes else int(d) for i, d in enumerate(self.data.shape)]
        for i in batch_axes:
            assert self.data.shape[i] == N, "batched axes hold N rows"


class Const:
    """A constant tensor written into model.json (shape-deciding inputs such as axes)."""

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


def compact_json(obj):
    """Top-level keys one per line, list items (inputs, nodes, ...) one per line."""
    lines = []
    for k, v in obj.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            items = ",\n".join("  " + json.dumps(x) for x in v)
            lines.append(f" {json.dumps(k)}: [\n{items}\n ]")
        else:
            lines.append(f" {json.dumps(k)}: {json.dumps(v)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def case(name, op, inputs, outputs, attrs=None, note="", rtol=1e-5, atol=1e-6, consts=(), node_inputs=None):
    """One directory: a single-node model, its inputs and expected outputs.

    inputs: list of In; outputs: list of (name, array); node_inputs: the node's input names in
    order ("" for an absent optional input), default the graph inputs then the constants."""
    assert name not in names_seen, name
    names_seen.add(name)
    d = os.path.join(ROOT, name)
    os.makedirs(d)
    if node_inputs is None:
        node_inputs = [i.name for i in inputs] + [c.name for c in consts]
    node = {"name": op.lower(), "op": op, "inputs": node_inputs, "outputs": [o[0] for o in outputs]}
    if attrs:
        node["attrs"] = attrs
    model = {
        "sinter": 1,
        "name": "c_" + name,
        "inputs": [{"name": i.name, "dtype": DTYPE_NAME[i.data.dtype], "shape": i.shape} for i in inputs],
        "outputs": [o[0] for o in outputs],
        "nodes": [node],
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
    uses_n = any("N" in i.shape for i in inputs)
    files_in, files_out = [], []
    for i in inputs:
        f = i.name + ".npy"
        np.save(os.path.join(d, f), i.data)
        files_in.append(f)
    for oname, arr in outputs:
        f = oname + ".npy"
        arr = np.array(arr, order="C")
        assert arr.dtype in DTYPE_NAME, (name, arr.dtype)
        np.save(os.path.join(d, f), arr)
        files_out.append(f)
    with open(os.path.join(d, "model.json"), "w") as fh:
        fh.write(compact_json(model))
    meta = {"n": N if uses_n else 1, "inputs": files_in, "outputs": files_out, "rtol": rtol, "atol": atol,
            "note": note}
    with open(os.path.join(d, "case.json"), "w") as fh:
        fh.write(compact_json(meta))


# ---- data helpers --------------------------------------------------------------------

def randf(shape, dtype=np.float32, lo=-3.0, hi=3.0):
    return rng.uniform(lo, hi, size=shape).astype(dtype)


def randi(shape, dtype=np.int64, lo=-50, hi=50):
    return rng.integers(lo, hi, size=shape, endpoint=True).astype(dtype)


def with_specials(a, specials):
    """Overwrite the first elements of a (flat) with the given special values."""
    a = a.copy()
    flat = a.reshape(-1)
    flat[: len(specials)] = np.array(specials, dtype=a.dtype)
    return a


def f64(a):
    return np.asarray(a, dtype=np.float64)


def rounded(ref64, dtype):
    """A float64 reference rounded once to the output dtype."""
    with np.errstate(all="ignore"):
        return np.asarray(ref64).astype(dtype)


SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0]


# ---- unary float ops --------------------------------------------------------------------

def sigmoid(x):
    with np.errstate(all="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def erf(x):
    return torch.erf(torch.from_numpy(np.array(x, dtype=np.float64))).numpy()


def gelu(x, approximate):
    return torch.nn.functional.gelu(torch.from_numpy(np.array(x, dtype=np.float64)), approximate=approximate).numpy()


def relu(x):
    return np.maximum(x, 0)  # propagates NaN


def leaky(alpha):
    return lambda x: np.where(x >= 0, x, alpha * x)


UNARY_FLOAT = {
    # op: (reference on float64, input range, special values that are meaningful)
    "Relu": (relu, (-3, 3), SPECIALS),
    "Sigmoid": (sigmoid, (-12, 12), SPECIALS + [100.0, -100.0, 800.0, -800.0]),
    "Tanh": (np.tanh, (-4, 4), SPECIALS + [30.0, -30.0]),
    "Erf": (erf, (-3, 3), SPECIALS + [6.0, -6.0]),
    "Exp": (np.exp, (-5, 5), SPECIALS + [100.0, -800.0]),
    "Log": (np.log, (0.01, 20), SPECIALS + [-1.0, 1.0]),
    "Sqrt": (np.sqrt, (0.0, 20), SPECIALS + [-1.0, 4.0]),
    "Neg": (np.negative, (-5, 5), SPECIALS),
    "Abs": (np.abs, (-5, 5), SPECIALS),
}


def gen_unary():
    for op, (fn, (lo, hi), specials) in UNARY_FLOAT.items():
        lname = op.lower()
        # float32, batched [N,7], with NaN/inf/zeros
        x = with_specials(randf((N, 7), np.float32, lo, hi), specials)
        with np.errstate(all="ignore"):
            y = rounded(fn(f64(x)), np.float32)
        case(f"{lname}_f32", op, [In("x", x, (0,))], [("y", y)],
             note=f"{op} on float32 [N,7] with NaN, +-inf, +-0 and edge values")
        # float64, rank 3
        x = randf((2, 3, 4), np.float64, lo, hi)
        with np.errstate(all="ignore"):
            y = fn(x).astype(np.float64)
        case(f"{lname}_f64", op, [In("x", x)], [("y", y)], note=f"{op} on float64 [2,3,4]")
    # scalars and zero-size tensors
    x = np.array(0.75, dtype=np.float32)
    case("sigmoid_scalar", "Sigmoid", [In("x", x)], [("y", rounded(sigmoid(f64(x)), np.float32))],
         note="Sigmoid on a rank-0 tensor")
    x = np.zeros((0, 3), dtype=np.float32)
    case("relu_empty", "Relu", [In("x", x)], [("y", x.copy())], note="Relu on a zero-size [0,3] tensor")
    x = np.zeros((N, 0), dtype=np.float64)
    case("exp_empty_batched", "Exp", [In("x", x, (0,))], [("y", x.copy())], note="Exp on a zero-size [N,0] tensor")
    # integer Relu / Neg / Abs (ONNX: Relu and Neg take signed types, Abs all integers)
    info = np.iinfo
    for op, fn, dtypes in [
        ("Relu", lambda a: np.maximum(a, 0), [np.int64, np.int32, np.int8]),
        ("Neg", np.negative, [np.int64, np.int32, np.int8]),
        ("Abs", np.abs, [np.int64, np.int32, np.int8, np.uint8]),
    ]:
        for dt in dtypes:
            lo, hi = info(dt).min, info(dt).max
            x = randi((N, 5), dt, max(lo, -100), min(hi, 100))
            x = with_specials(x, [lo, hi, 0] if lo < 0 else [hi, 0, 1])
            with np.errstate(all="ignore"):
                y = fn(x).astype(dt)  # numpy wraps: -min == min
            dn = DTYPE_NAME[np.dtype(dt)]
            case(f"{op.lower()}_{dn}", op, [In("x", x, (0,))], [("y", y)],
                 note=f"{op} on {dn} including the type's min and max (two's-complement wrap for -min)")
    # LeakyRelu: default alpha, explicit alpha, float64, negative alpha
    x = with_specials(randf((N, 6)), SPECIALS)
    case("leakyrelu_default", "LeakyRelu", [In("x", x, (0,))], [("y", rounded(leaky(0.01)(f64(x)), np.float32))],
         note="LeakyRelu with the default alpha 0.01, NaN and +-inf")
    x = randf((2, 5))
    case("leakyrelu_alpha", "LeakyRelu", [In("x", x)], [("y", rounded(leaky(0.2)(f64(x)), np.float32))],
         attrs={"alpha": 0.2}, note="LeakyRelu with alpha 0.2")
    x = randf((4, 3), np.float64)
    case("leakyrelu_f64_negalpha", "LeakyRelu", [In("x", x)], [("y", leaky(-1.5)(x))], attrs={"alpha": -1.5},
         note="LeakyRelu on float64 with a negative alpha")
    # Gelu, exact and tanh approximation (torch implements the ONNX formulas)
    for approx in ["none", "tanh"]:
        x = with_specials(randf((N, 8), np.float32, -5, 5), [np.nan, np.inf, -np.inf, 0.0, 10.0, -10.0])
        attrs = None if approx == "none" else {"approximate": "tanh"}
        case(f"gelu_{approx}_f32", "Gelu", [In("x", x, (0,))], [("y", rounded(gelu(x, approx), np.float32))],
             attrs=attrs, note=f"Gelu approximate={approx} on float32 with NaN/inf"
             + (" (default attribute)" if approx == "none" else ""))
        x = randf((3, 4), np.float64, -5, 5)
        case(f"gelu_{approx}_f64", "Gelu", [In("x", x)], [("y", gelu(x, approx))],
             attrs={"approximate": approx}, note=f"Gelu approximate={approx} on float64")


# ---- Identity, Clip, Cast -------------------------------------------------------------

def gen_identity():
    x = randf((N, 3))
    case("identity_f32", "Identity", [In("x", x, (0,))], [("y", x.copy())], note="Identity on float32 [N,3]")
    x = randi((2, 2), np.int64, -2**62, 2**62)
    case("identity_i64", "Identity", [In("x", x)], [("y", x.copy())], note="Identity keeps int64 exactly")
    x = np.array([True, False, True])
    case("identity_bool", "Identity", [In("x", x)], [("y", x.copy())], note="Identity on bool")
    x = np.array(-2.5, dtype=np.float64)
    case("identity_scalar_f64", "Identity", [In("x", x)], [("y", x.copy())], note="Identity on a float64 scalar")
    x = np.zeros((0,), dtype=np.int32)
    case("identity_empty_i32", "Identity", [In("x", x)], [("y", x.copy())], note="Identity on a zero-size int32")


def clip_ref(x, lo, hi):
    with np.errstate(all="ignore"):
        y = x
        if lo is not None:
            y = np.maximum(y, lo)  # propagates NaN like numpy.clip
        if hi is not None:
            y = np.minimum(y, hi)
        return np.asarray(y).astype(x.dtype)


def gen_clip():
    x = with_specials(randf((N, 6), np.float32, -4, 4), [np.nan, np.inf, -np.inf])
    lo, hi = np.array(-1.0, np.float32), np.array(1.5, np.float32)
    case("clip_f32_both", "Clip", [In("x", x, (0,)), In("lo", lo), In("hi", hi)], [("y", clip_ref(x, lo, hi))],
         note="Clip with scalar min and max inputs; NaN passes through, inf clamps")
    case("clip_f32_min_only", "Clip", [In("x", x, (0,)), In("lo", lo)], [("y", clip_ref(x, lo, None))],
         note="Clip with only min (max omitted)")
    case("clip_f32_max_only", "Clip", [In("x", x, (0,)), In("hi", hi)], [("y", clip_ref(x, None, hi))],
         node_inputs=["x", "", "hi"], note="Clip with min absent (\"\") and max given")
    case("clip_f32_none", "Clip", [In("x", x, (0,))], [("y", x.copy())], note="Clip without bounds is identity")
    lo2, hi2 = np.array(2.0, np.float32), np.array(-1.0, np.float32)
    case("clip_min_gt_max", "Clip", [In("x", x, (0,)), In("lo", lo2), In("hi", hi2)],
         [("y", clip_ref(x, lo2, hi2))], note="Clip with min > max sets every non-NaN element to max (ONNX spec)")
    x = randf((2, 3, 2), np.float64, -3, 3)
    lo, hi = np.array([-0.5]), np.array([0.25])
    case("clip_f64_shape1_bounds", "Clip", [In("x", x), In("lo", lo), In("hi", hi)], [("y", clip_ref(x, lo, hi))],
         note="Clip on float64 with bounds of shape [1]")
    for dt, lo, hi in [(np.int64, -10, 2**40), (np.int32, -7, 9), (np.int8, -100, 100), (np.uint8, 10, 200)]:
        info = np.iinfo(dt)
        x = with_specials(randi((N, 5), dt, max(info.min, -300), min(info.max, 300)), [info.min, info.max])
        if dt == np.int64:
            x = with_specials(x, [info.min, info.max, 2**40 + 1, 2**40 - 1])
        lo_a, hi_a = np.array(lo, dt), np.array(hi, dt)
        dn = DTYPE_NAME[np.dtype(dt)]
        case(f"clip_{dn}", "Clip", [In("x", x, (0,)), In("lo", lo_a), In("hi", hi_a)],
             [("y", clip_ref(x, lo_a, hi_a))], note=f"Clip on {dn} (exact integer compare)")
    x = randi((4,), np.int64, -5, 5)
    case("clip_i64_max_only", "Clip", [In("x", x), In("hi", np.array(0, np.int64))],
         [("y", np.minimum(x, 0))], node_inputs=["x", "", "hi"], note="Clip on int64 with only max")


def cast_case(name, x, to, expect, note, to_attr=None, batch=False):
    case(name, "Cast", [In("x", x, (0,) if batch else ())], [("y", expect)],
         attrs={"to": to_attr if to_attr is not None else to}, note=note)


def trunc_wrap(x, dt):
    """float -> integer as ONNX/numpy define it for in-range values: truncate toward zero,
    then wrap to the width (values chosen inside int64)."""
    t = np.trunc(f64(x)).astype(np.int64)
    return t.astype(dt)


def gen_cast():
    x = with_specials(randf((N, 6), np.float32, -100, 100), [-2.7, 2.7, -0.5, 0.5, 0.0, -0.0])
    cast_case("cast_f32_to_i64", x, "int64", trunc_wrap(x, np.int64),
              "float32 -> int64 truncates toward zero", batch=True)
    cast_case("cast_f32_to_i32", x, "int32", trunc_wrap(x, np.int32), "float32 -> int32 truncates", batch=True)
    x8 = with_specials(randf((3, 4), np.float32, -127, 127), [-127.9, 127.9, -0.9])
    cast_case("cast_f32_to_i8", x8, "int8", trunc_wrap(x8, np.int8), "float32 -> int8 (values in range)")
    xu = with_specials(randf((3, 4), np.float32, 0, 255), [255.9, 0.2])
    cast_case("cast_f32_to_u8", xu, "uint8", trunc_wrap(xu, np.uint8), "float32 -> uint8 (values in range)")
    xb = np.array([0.0, -0.0, 1.0, -2.5, np.nan, np.inf, -np.inf, 1e-30], dtype=np.float32)
    cast_case("cast_f32_to_bool", xb, "bool", xb != 0, "float32 -> bool is x != 0: NaN and inf are true, +-0 false")
    x = with_specials(randf((N, 4), np.float32, -1e6, 1e6), SPECIALS)
    cast_case("cast_f32_to_f64", x, "float64", x.astype(np.float64), "float32 -> float64 exact, NaN/inf kept",
              batch=True)
    xd = with_specials(rng.normal(0, 1e3, size=(2, 5)), [1e300, -1e300, 1e-320, np.nan, 0.1])
    cast_case("cast_f64_to_f32", xd, "float32", rounded(xd, np.float32),
              "float64 -> float32 rounds to nearest; overflow gives inf, subnormal underflow 0")
    xd = np.array([-3.99, 3.99, -1e15 - 0.5, 2.0**52 + 0.5], dtype=np.float64)
    cast_case("cast_f64_to_i64", xd, "int64", trunc_wrap(xd, np.int64), "float64 -> int64 truncates, large values")
    xi = np.array([2**53 + 1, -(2**53) - 1, 2**62 + 12345, -7, 0, 16777217], dtype=np.int64)
    cast_case("cast_i64_to_f32", xi, "float32", xi.astype(np.float32), "int64 -> float32 rounds once to nearest")
    cast_case("cast_i64_to_f64", xi, "float64", xi.astype(np.float64), "int64 -> float64 rounds to nearest")
    xw = np.array([2**31, 2**31 + 5, -(2**31) - 1, 2**40 + 3, -1, 300, 255, 256], dtype=np.int64)
    cast_case("cast_i64_to_i32", xw, "int32", xw.astype(np.int32), "int64 -> int32 wraps (two's complement)")
    cast_case("cast_i64_to_u8", xw, "uint8", xw.astype(np.uint8), "int64 -> uint8 wraps modulo 256")
    cast_case("cast_i64_to_i8", xw, "int8", xw.astype(np.int8), "int64 -> int8 wraps")
    cast_case("cast_i64_to_bool", xw, "bool", xw != 0, "int64 -> bool is x != 0")
    xs = randi((N, 3), np.int32, -2**31, 2**31 - 1)
    cast_case("cast_i32_to_i64", xs, "int64", xs.astype(np.int64), "int32 -> int64 sign-extends", batch=True)
    xu8 = np.array([0, 1, 127, 128, 200, 255], dtype=np.uint8)
    cast_case("cast_u8_to_i8", xu8, "int8", xu8.astype(np.int8), "uint8 -> int8 wraps above 127")
    cast_case("cast_u8_to_f32", xu8, "float32", xu8.astype(np.float32), "uint8 -> float32")
    xi8 = np.array([-128, -1, 0, 1, 127], dtype=np.int8)
    cast_case("cast_i8_to_f64", xi8, "float64", xi8.astype(np.float64), "int8 -> float64")
    cast_case("cast_i8_to_u8", xi8, "uint8", xi8.astype(np.uint8), "int8 -> uint8 wraps")
    xbool = np.array([[True, False, True], [False, False, True]])
    cast_case("cast_bool_to_f32", xbool, "float32", xbool.astype(np.float32), "bool -> float32 gives 0/1")
    cast_case("cast_bool_to_i64", xbool, "int64", xbool.astype(np.int64), "bool -> int64 gives 0/1")
    cast_case("cast_bool_to_bool", xbool, "bool", xbool.copy(), "bool -> bool is identity")
    x = randf((2, 3), np.float32, -5, 5)
    cast_case("cast_onnx_code", x, "int64", trunc_wrap(x, np.int64),
              "Cast with ONNX's integer code to=7 (int64) instead of a dtype name", to_attr=7)
    x = np.array(3.75, dtype=np.float64)
    cast_case("cast_scalar_f64_to_i32", x, "int32", np.array(3, np.int32), "Cast of a rank-0 float64 to int32")
    x = np.zeros((0, 2), dtype=np.float32)
    cast_case("cast_empty", x, "int8", np.zeros((0, 2), np.int8), "Cast of a zero-size tensor")


# ---- binary arithmetic ------------------------------------------------------------------

def int_div(a, b):
    """ONNX reference Div for integers: truncation toward zero (C-style), exact."""
    a64, b64 = a.astype(np.int64), b.astype(np.int64)
    def one(p, r):
        q = abs(int(p)) // abs(int(r)) * (1 if (p >= 0) == (r > 0) else -1)
        return (q + 2**63) % 2**64 - 2**63  # int64 wraps: INT64_MIN / -1 == INT64_MIN

    q = np.array([one(p, r) for p, r in zip(*[t.reshape(-1) for t in np.broadcast_arrays(a64, b64)])],
                 dtype=np.int64)
    return q.reshape(np.broadcast_shapes(a.shape, b.shape)).astype(a.dtype)


ARITH = {
    "Add": np.add,
    "Sub": np.subtract,
    "Mul": np.multiply,
    "Div": np.divide,
}


def gen_arith():
    for op, fn in ARITH.items():
        lname = op.lower()
        # float32: [N,1,4] with [3,1] -> [N,3,4]
        a = randf((N, 1, 4))
        b = randf((3, 1))
        if op == "Div":
            b = with_specials(b, [0.0])  # x/0 = +-inf
        with np.errstate(all="ignore"):
            y = rounded(fn(f64(a), f64(b)), np.float32)
        case(f"{lname}_f32_bcast", op, [In("a", a, (0,)), In("b", b)], [("y", y)],
             note=f"{op} float32 broadcasting [N,1,4] with [3,1]")
        # float64, same shape, with NaN/inf
        a = with_specials(randf((2, 5), np.float64), [np.inf, np.inf, np.nan, 0.0, -np.inf])
        b = with_specials(randf((2, 5), np.float64), [np.inf, -np.inf, 1.0, 0.0, 2.0])
        with np.errstate(all="ignore"):
            y = fn(a, b)
        case(f"{lname}_f64_special", op, [In("a", a), In("b", b)], [("y", y)],
             note=f"{op} float64 with inf/NaN operands (inf-inf, 0/0, ...)")
        # scalar with matrix, both orders
        s = np.array(1.75, dtype=np.float32)
        m = randf((2, 3), np.float32, 0.5, 3)
        with np.errstate(all="ignore"):
            case(f"{lname}_scalar_left", op, [In("s", s), In("m", m)], [("y", rounded(fn(f64(s), f64(m)), np.float32))],
                 note=f"{op} rank-0 with [2,3]")
            case(f"{lname}_scalar_right", op, [In("m", m), In("s", s)],
                 [("y", rounded(fn(f64(m), f64(s)), np.float32))], note=f"{op} [2,3] with rank-0")
        # zero-size broadcast
        a = np.zeros((0, 3), np.float32)
        b = randf((1, 3), np.float32, 1, 2)
        case(f"{lname}_empty", op, [In("a", a), In("b", b)], [("y", np.zeros((0, 3), np.float32))],
             note=f"{op} of [0,3] with [1,3] gives [0,3]")
        # integers
        for dt in [np.int64, np.int32, np.int8, np.uint8]:
            info = np.iinfo(dt)
            dn = DTYPE_NAME[np.dtype(dt)]
            a = randi((N, 4), dt, info.min, info.max) if dt != np.int64 else randi((N, 4), dt, -2**62, 2**62)
            b = randi((4,), dt, info.min, info.max) if dt != np.int64 else randi((4,), dt, -2**62, 2**62)
            if dt == np.int64:
                a = with_specials(a, [2**53 + 1, info.max, info.min, -7])
                b = with_specials(b, [2, 1, -1, 2])
            if op == "Div":
                b[b == 0] = 3
                y = int_div(a, b)
                note = f"Div {dn}: truncation toward zero (ONNX reference), [N,4] by [4]" + (
                    "; INT64_MIN / -1 wraps" if dt == np.int64 else "")
            else:
                with np.errstate(all="ignore"):
                    y = fn(a, b).astype(dt)  # numpy wraps on overflow
                note = f"{op} {dn} [N,4] with [4], wrapping on overflow, exact beyond 2^53"
            case(f"{lname}_{dn}", op, [In("a", a, (0,)), In("b", b)], [("y", y)], note=note)
    # integer division signs, spelled out
    a = np.array([7, -7, 7, -7, 1, -1, 0, 9], np.int64)
    b = np.array([2, 2, -2, -2, 3, 3, 5, -9], np.int64)
    case("div_i64_signs", "Div", [In("a", a), In("b", b)], [("y", int_div(a, b))],
         note="integer Div truncates toward zero for every sign combination: -7/2 = -3")


def gen_pow():
    a = randf((N, 4), np.float32, 0.1, 4)
    b = randf((N, 4), np.float32, -2, 3)
    case("pow_f32", "Pow", [In("a", a, (0,)), In("b", b, (0,))], [("y", rounded(np.power(f64(a), f64(b)), np.float32))],
         note="Pow float32 positive bases, fractional exponents")
    a = randf((2, 3), np.float64, -3, 3)
    a = with_specials(a, [0.0, -2.0, np.nan, 0.0, -2.0])
    e = np.array([[0.0], [2.5]], np.float64)
    with np.errstate(all="ignore"):
        y = np.power(a, e)
    case("pow_f64_bcast", "Pow", [In("a", a), In("e", e)], [("y", y)],
         note="Pow float64 [2,3]^[2,1]: 0^0 = 1, negative base to a fractional power is NaN, NaN^0 = 1")
    a = randf((N, 5), np.float32, -3, 3)
    e = np.array([3, 2, -1, 0, 1], np.int64)
    with np.errstate(all="ignore"):
        y = rounded(np.power(f64(a), e.astype(np.float64)), np.float32)
    case("pow_f32_i64_exp", "Pow", [In("a", a, (0,)), In("e", e)], [("y", y)],
         note="Pow float32 base with int64 exponents (output keeps the base's dtype)")
    a = randf((2, 2), np.float32, 0, 3)
    e = np.array(2.0, np.float64)
    case("pow_f32_f64_scalar_exp", "Pow", [In("a", a), In("e", e)], [("y", rounded(np.power(f64(a), 2.0), np.float32))],
         note="Pow float32 base with a float64 scalar exponent")
    a = np.array([3, -2, 2, 0, 1, -1, 7, 10], np.int64)
    e = np.array([39, 3, 62, 0, 100, 7, 2, 19], np.int64)
    case("pow_i64", "Pow", [In("a", a), In("e", e)], [("y", np.power(a, e))],
         note="Pow int64 exact (3^39, 2^62 beyond float precision), wrapping as numpy (10^19)")
    a = np.array([[2, -3, 5]], np.int32)
    e = np.array([[2], [3]], np.int64)
    case("pow_i32_i64_exp", "Pow", [In("a", a), In("e", e)], [("y", np.power(a, e).astype(np.int32))],
         note="Pow int32 base with int64 exponents, broadcast [1,3]^[2,1]")
    a = np.array([2, 3, 4, 8], np.int32)
    e = np.array([0.5, 1.5, -1.0, 1.0 / 3.0], np.float32)
    with np.errstate(all="ignore"):
        y = np.power(a.astype(np.float64), e.astype(np.float64))
    y = np.trunc(y).astype(np.int32)
    case("pow_i32_f32_exp", "Pow", [In("a", a), In("e", e)], [("y", y)],
         note="Pow int32 base, float32 exponent: computed in float, truncated to int32 (ONNX reference astype)")


# ---- Max / Min ----------------------------------------------------------------------------

def gen_maxmin():
    for op, fn in [("Max", np.maximum), ("Min", np.minimum)]:
        lname = op.lower()
        a = randf((N, 4))
        case(f"{lname}_single", op, [In("a", a, (0,))], [("y", a.copy())], note=f"{op} of one input is identity")
        a = with_specials(randf((N, 1)), [np.nan])
        b = with_specials(randf((4,)), [0.0, np.inf, -np.inf, np.nan])
        y = fn(a, b)
        case(f"{lname}_f32_bcast_nan", op, [In("a", a, (0,)), In("b", b)], [("y", y)],
             note=f"{op} float32 [N,1] with [4]; NaN propagates (numpy.{fn.__name__})")
        a, b, c = randf((N, 1)), randf((4,)), randf((1, 1))
        case(f"{lname}_three", op, [In("a", a, (0,)), In("b", b), In("c", c)], [("y", fn(fn(a, b), c))],
             note=f"{op} variadic: three inputs [N,1], [4], [1,1]")
        a = randf((2, 3), np.float64)
        s = np.array(0.0, np.float64)
        case(f"{lname}_f64_scalar", op, [In("a", a), In("s", s)], [("y", fn(a, s))],
             note=f"{op} float64 with a rank-0 input")
        for dt in [np.int64, np.int32, np.int8, np.uint8]:
            info = np.iinfo(dt)
            dn = DTYPE_NAME[np.dtype(dt)]
            a = randi((N, 3), dt, max(info.min, -1000), min(info.max, 1000))
            b = randi((3,), dt, max(info.min, -1000), min(info.max, 1000))
            if dt == np.int64:
                a = with_specials(a, [2**53 + 1, info.min, info.max])
                b = with_specials(b, [2**53, info.max, info.min])
            case(f"{lname}_{dn}", op, [In("a", a, (0,)), In("b", b)], [("y", fn(a, b))],
                 note=f"{op} {dn} exact compare (2^53+1 vs 2^53 for int64)")
        a = np.zeros((0, 2), np.float32)
        case(f"{lname}_empty", op, [In("a", a), In("b", randf((2,)))], [("y", np.zeros((0, 2), np.float32))],
             note=f"{op} with a zero-size input")


# ---- Where and comparisons ------------------------------------------------------------------

def gen_where():
    c = rng.random((N, 1)) > 0.5
    c[0, 0], c[1, 0] = True, False
    x = randf((4,))
    y = randf((2, 1, 1))
    case("where_f32_3way", "Where", [In("c", c, (0,)), In("x", x), In("y", y)], [("z", np.where(c, x, y))],
         note="Where with a 3-way broadcast: [N,1], [4], [2,1,1] -> [2,N,4]")
    c = rng.random((2, 3)) > 0.5
    x = randi((2, 3), np.int64, -2**62, 2**62)
    y = np.array(-1, np.int64)
    case("where_i64", "Where", [In("c", c), In("x", x), In("y", y)], [("z", np.where(c, x, y))],
         note="Where on int64 (exact) with a scalar branch")
    c = np.array(True)
    x, y = np.array([True, False]), np.array([[False], [False]])
    case("where_bool", "Where", [In("c", c), In("x", x), In("y", y)], [("z", np.where(c, x, y))],
         note="Where on bool branches with a rank-0 condition")
    c = np.array([True, False, True])
    x = with_specials(randf((N, 3), np.float64), [np.nan, np.inf])
    y = randf((1, 3), np.float64)
    case("where_f64_nan", "Where", [In("c", c), In("x", x, (0,)), In("y", y)], [("z", np.where(c, x, y))],
         note="Where on float64 passes NaN and inf through")
    for dt in [np.int32, np.int8, np.uint8]:
        dn = DTYPE_NAME[np.dtype(dt)]
        c = rng.random((4,)) > 0.5
        x, y = randi((4,), dt, 0, 100), randi((4,), dt, 0, 100)
        case(f"where_{dn}", "Where", [In("c", c), In("x", x), In("y", y)], [("z", np.where(c, x, y))],
             note=f"Where on {dn}")
    c = np.zeros((0, 2), bool)
    case("where_empty", "Where", [In("c", c), In("x", randf((2,))), In("y", randf((1,)))],
         [("z", np.zeros((0, 2), np.float32))], note="Where with a zero-size condition")


def gen_compare():
    for op, fn in [("Equal", np.equal), ("Less", np.less), ("Greater", np.greater)]:
        lname = op.lower()
        a = with_specials(np.round(randf((N, 1, 4)), 1), [np.nan, np.inf, -np.inf, 1.0])
        b = with_specials(np.round(randf((3, 1)), 1), [np.nan, np.inf, 1.0])
        b = np.concatenate([b[:2], a.reshape(-1)[5:6].reshape(1, 1)])  # force some equal pairs
        case(f"{lname}_f32_bcast", op, [In("a", a, (0,)), In("b", b)], [("y", fn(a, b))],
             note=f"{op} float32 [N,1,4] with [3,1]: NaN compares false, inf equal to inf")
        a = np.array([2**53, 2**53 + 1, -5, 9, 2**62, -(2**63)], np.int64)
        b = np.array([2**53 + 1, 2**53 + 1, -5, 8, 2**62 + 1, 2**63 - 1], np.int64)
        case(f"{lname}_i64_exact", op, [In("a", a), In("b", b)], [("y", fn(a, b))],
             note=f"{op} int64 exact beyond 2^53")
        a, b = randf((2, 3), np.float64), np.array(0.0)
        a = with_specials(a, [0.0, -0.0])
        case(f"{lname}_f64_scalar", op, [In("a", a), In("b", b)], [("y", fn(a, b))],
             note=f"{op} float64 with a rank-0 operand; -0 equals 0")
        for dt in [np.int32, np.int8, np.uint8]:
            dn = DTYPE_NAME[np.dtype(dt)]
            info = np.iinfo(dt)
            a = randi((N, 4), dt, max(info.min, -5), min(info.max, 5))
            b = randi((1, 4), dt, max(info.min, -5), min(info.max, 5))
            case(f"{lname}_{dn}", op, [In("a", a, (0,)), In("b", b)], [("y", fn(a, b))], note=f"{op} on {dn}")
        case(f"{lname}_empty", op, [In("a", np.zeros((2, 0), np.float32)), In("b", randf((1,)))],
             [("y", np.zeros((2, 0), bool))], note=f"{op} on a zero-size tensor")
    a = np.array([[True, False], [True, True]])
    b = np.array([True, False])
    case("equal_bool", "Equal", [In("a", a), In("b", b)], [("y", a == b)], note="Equal on bool tensors")


# ---- reductions -----------------------------------------------------------------------------

def red(op, x, axes, keepdims):
    """NumPy reduction in float64 for floats (rounded once), exact for integers."""
    ax = None if axes is None else tuple(axes)
    if op == "ReduceSum":
        if x.dtype.kind == "f":
            return rounded(np.sum(f64(x), axis=ax, keepdims=keepdims), x.dtype)
        return np.sum(x, axis=ax, keepdims=keepdims, dtype=np.int64).astype(x.dtype)
    if op == "ReduceMean":
        if x.dtype.kind == "f":
            with np.errstate(all="ignore"):
                return rounded(np.mean(f64(x), axis=ax, keepdims=keepdims), x.dtype)
        # integer mean: exact sum, then truncation toward zero (numpy mean().astype())
        s = np.sum(x, axis=ax, keepdims=keepdims, dtype=np.int64)
        cnt = x.size // max(s.size, 1)
        return np.array([int(v) // cnt if v >= 0 else -((-int(v)) // cnt) for v in s.reshape(-1)],
                        dtype=np.int64).reshape(s.shape).astype(x.dtype)
    if op == "ReduceMax":
        return np.max(x, axis=ax, keepdims=keepdims)  # propagates NaN
    raise ValueError(op)


REDUCE_DTYPES = {
    "ReduceSum": [np.float64, np.int64, np.int32],
    "ReduceMean": [np.float64, np.int64, np.int32],
    "ReduceMax": [np.float64, np.int64, np.int32, np.int8, np.uint8],
}


def gen_reduce():
    for op in ["ReduceSum", "ReduceMean", "ReduceMax"]:
        lname = op.lower()
        x = randf((N, 4, 5))
        case(f"{lname}_axis1", op, [In("x", x, (0,))], [("y", red(op, x, [1], True))], attrs={"axes": [1]},
             note=f"{op} over axis 1 of [N,4,5], keepdims default 1")
        case(f"{lname}_neg_axes_nokeep", op, [In("x", x, (0,))], [("y", red(op, x, [2, 0], False))],
             attrs={"axes": [-1, 0], "keepdims": 0}, note=f"{op} over negative axis -1 and axis 0, keepdims=0")
        case(f"{lname}_all_keep", op, [In("x", x, (0,))], [("y", red(op, x, None, True))],
             note=f"{op} without axes reduces every axis (keepdims=1 -> [1,1,1])")
        case(f"{lname}_all_nokeep", op, [In("x", x, (0,))], [("y", red(op, x, None, False))],
             attrs={"keepdims": 0}, note=f"{op} without axes, keepdims=0 -> scalar")
        case(f"{lname}_noop_empty_axes", op, [In("x", x, (0,))], [("y", x.copy())],
             attrs={"noop_with_empty_axes": 1}, note=f"{op} with noop_with_empty_axes=1 and no axes is identity")
        # opset-18 form: axes as a constant second input
        case(f"{lname}_axes_input", op, [In("x", x, (0,))], [("y", red(op, x, [0, 2], True))],
             consts=[Const("axes", np.array([0, -1], np.int64))],
             note=f"{op} with axes as the optional second input (constant [0,-1])")
        case(f"{lname}_axes_input_empty", op, [In("x", x, (0,))], [("y", red(op, x, None, True))],
             consts=[Const("axes", np.zeros((0,), np.int64))],
             note=f"{op} with an empty axes input reduces all axes (noop_with_empty_axes=0)")
        case(f"{lname}_axes_input_empty_noop", op, [In("x", x, (0,))], [("y", x.copy())],
             consts=[Const("axes", np.zeros((0,), np.int64))], attrs={"noop_with_empty_axes": 1},
             note=f"{op} with an empty axes input and noop_with_empty_axes=1 is identity")
        x = np.array(2.5, np.float32)
        case(f"{lname}_scalar", op, [In("x", x)], [("y", x.copy())], note=f"{op} of a rank-0 tensor is itself")
        x = np.zeros((0, 3), np.float32)
        case(f"{lname}_empty_output", op, [In("x", x)], [("y", np.zeros((0, 1), np.float32))], attrs={"axes": [1]},
             note=f"{op} over a non-empty axis of a [0,3] tensor gives [0,1]")
        for dt in REDUCE_DTYPES[op]:
            dn = DTYPE_NAME[np.dtype(dt)]
            if np.dtype(dt).kind == "f":
                x = randf((2, N, 3), dt, -10, 10)
            else:
                info = np.iinfo(dt)
                x = randi((2, N, 3), dt, max(info.min, -1000), min(info.max, 1000))
                if dt == np.int64:
                    x = with_specials(x, [2**53 + 1, 1, 2**60])
            case(f"{lname}_{dn}", op, [In("x", x, (1,))], [("y", red(op, x, [-2], False))],
                 attrs={"axes": [-2], "keepdims": 0},
                 note=f"{op} on {dn} over the batch axis" + (" (exact int64 sum beyond 2^53)" if dt == np.int64 else "")
                 + (" (integer mean truncates toward zero)" if op == "ReduceMean" and np.dtype(dt).kind == "i" else ""))
    # NaN / inf
    x = with_specials(randf((2, 4)), [np.nan, 1.0, 2.0, 3.0, np.inf])
    case("reducemax_nan", "ReduceMax", [In("x", x)], [("y", red("ReduceMax", x, [1], True))], attrs={"axes": [1]},
         note="ReduceMax propagates NaN; inf wins otherwise")
    case("reducesum_nan_inf", "ReduceSum", [In("x", x)], [("y", red("ReduceSum", x, [1], True))],
         consts=[Const("axes", np.array([1], np.int64))], note="ReduceSum with NaN and inf elements")
    # empty reduction sets: values from the ONNX spec (numpy refuses max of nothing)
    x = np.zeros((2, 0), np.float32)
    case("reducemax_empty_set", "ReduceMax", [In("x", x)], [("y", np.full((2, 1), -np.inf, np.float32))],
         attrs={"axes": [1]}, note="ReduceMax over an empty set is -inf (ONNX spec)")
    case("reducemean_empty_set", "ReduceMean", [In("x", x)], [("y", np.full((2,), np.nan, np.float32))],
         attrs={"axes": [-1], "keepdims": 0}, note="ReduceMean over an empty set is NaN (0/0)")
    case("reducesum_empty_set", "ReduceSum", [In("x", x)], [("y", np.zeros((2, 1), np.float32))],
         consts=[Const("axes", np.array([1], np.int64))], note="ReduceSum over an empty set is 0")
    xi = np.zeros((0, 3), np.int32)
    case("reducemax_empty_set_i32", "ReduceMax", [In("x", xi)], [("y", np.full((1, 3), -2**31, np.int32))],
         attrs={"axes": [0]}, note="ReduceMax over an empty set of int32 is the type's minimum (ONNX spec)")
    xu = np.zeros((0,), np.uint8)
    case("reducemax_empty_set_u8", "ReduceMax", [In("x", xu)], [("y", np.array([0], np.uint8))],
         note="ReduceMax over an empty set of uint8 is 0, its minimum")


def main():
    if os.path.isdir(ROOT):
        shutil.rmtree(ROOT)
    os.makedirs(ROOT)
    gen_unary()
    gen_identity()
    gen_clip()
    gen_cast()
    gen_arith()
    gen_pow()
    gen_maxmin()
    gen_where()
    gen_compare()
    gen_reduce()
    total = 0
    for dirpath, _, files in os.walk(ROOT):
        total += sum(os.path.getsize(os.path.join(dirpath, f)) for f in files)
    print(f"{len(names_seen)} cases, {total} bytes in {ROOT}")


if __name__ == "__main__":
    main()
