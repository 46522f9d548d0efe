#!/usr/bin/python3
"""Conformance vectors for the data-movement and shape ops (Reshape, Flatten, Transpose,
Squeeze, Unsqueeze, Concat, Split, Slice, Gather, Expand, Shape, ConstantOfShape, Range).

Run from the repo root:  /usr/bin/python3 tests/conformance/gen_shape.py
Deletes and rewrites tests/conformance/shape/ completely. Expectations come from NumPy
(reshape, transpose, squeeze, expand_dims, concatenate, split, slicing, take, broadcast_to,
arange, full), or from the ONNX opset-17 text where NumPy differs (Slice's start clamping
with negative steps, Split's ceil-sized parts); never from sinter.
"""
import json
import math
import os
import shutil

import numpy as np

ROOT = os.path.join("tests", "conformance", "shape")
I64_MAX = int(np.iinfo(np.int64).max)
I64_MIN = int(np.iinfo(np.int64).min)

DTYPE_NAME = {
    np.dtype(np.float32): "float32",
    np.dtype(np.float64): "float64",
    np.dtype(np.int64): "int64",
    np.dtype(np.int32): "int32",
    np.dtype(np.int8): "int8",
    np.dtype(np.uint8): "uint8",
    np.dtype(np.bool_): "bool",
}

rng = np.random.default_rng(1717)


def data(shape, dtype=np.float32):
    """Random test data of a dtype: normals for floats, small signed ints, random bools."""
    dt = np.dtype(dtype)
    if dt == np.bool_:
        return rng.random(shape) < 0.5
    if dt.kind in "iu":
        lo = 0 if dt.kind == "u" else -100
        return rng.integers(lo, 100, size=shape).astype(dt)
    return rng.standard_normal(shape).astype(dt)


def json_value(v, dt):
    if dt.kind == "f":
        v = float(v)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if dt.kind == "b":
        return bool(v)
    return int(v)


class Case:
    """One case directory: a single- (or few-) node model, its input and expected output files."""

    def __init__(self, name, note, n=1):
        assert name.replace("_", "").isalnum() and name == name.lower(), name
        self.name, self.note, self.n = name, note, n
        self.inputs, self.consts, self.nodes, self.outputs = [], [], [], []
        self.files = {}

    def input(self, name, arr, batch_axes=()):
        """A graph input; axes in batch_axes are declared "N" (and hold n rows)."""
        arr = np.array(arr, order="C")
        shape = []
        for i, d in enumerate(arr.shape):
            if i in batch_axes:
                assert d == self.n, f"{self.name}: batched axis {i} holds {d} rows, n is {self.n}"
                shape.append("N")
            else:
                shape.append(int(d))
        self.inputs.append({"name": name, "dtype": DTYPE_NAME[arr.dtype], "shape": shape})
        self.files[name] = arr
        return name

    def const(self, name, values, dtype=np.int64):
        """A constant in model.json (shape-deciding inputs: shapes, axes, starts, sizes)."""
        arr = np.array(values, dtype=dtype)
        dt = arr.dtype
        self.consts.append({"name": name, "dtype": DTYPE_NAME[dt], "shape": list(arr.shape),
                            "data": [json_value(v, dt) for v in arr.reshape(-1)]})
        return name

    def node(self, op, inputs, outputs, **attrs):
        nd = {"name": f"n{len(self.nodes)}", "op": op, "inputs": inputs, "outputs": outputs}
        if attrs:
            nd["attrs"] = attrs
        self.nodes.append(nd)

    def output(self, name, arr):
        self.outputs.append(name)
        self.files[name] = np.array(arr, order="C")

    def write(self):
        d = os.path.join(ROOT, self.name)
        os.makedirs(d)
        model = {"sinter": 1, "name": "c_" + self.name, "inputs": self.inputs, "outputs": self.outputs}
        if self.consts:
            model["constants"] = self.consts
        model["nodes"] = self.nodes
        for name, arr in self.files.items():
            np.save(os.path.join(d, name + ".npy"), np.ascontiguousarray(arr) if arr.ndim else arr)
        with open(os.path.join(d, "model.json"), "w") as f:
            f.write(dump_json(model))
        case = {"n": self.n, "inputs": [i["name"] + ".npy" for i in self.inputs],
                "outputs": [o + ".npy" for o in self.outputs], "rtol": 1e-5, "atol": 1e-6, "note": self.note}
        with open(os.path.join(d, "case.json"), "w") as f:
            f.write(dump_json(case))


def dump_json(obj):
    """One top-level key per line; lists of objects with one object per line."""
    lines = ["{"]
    items = list(obj.items())
    for k, (key, val) in enumerate(items):
        comma = "," if k < len(items) - 1 else ""
        if isinstance(val, list) and val and isinstance(val[0], dict):
            lines.append(f" {json.dumps(key)}: [")
            lines += ["  " + json.dumps(e) + ("," if j < len(val) - 1 else "") for j, e in enumerate(val)]
            lines.append(" ]" + comma)
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(val)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


CASES = []


def case(name, note, n=1):
    c = Case(name, note, n)
    CASES.append(c)
    return c


# ---- Reshape --------------------------------------------------------------------

def gen_reshape():
    c = case("reshape_minus1_batch", "Reshape [N,12] by [-1,3,4]: the -1 takes N", n=3)
    x = data((3, 12))
    c.input("x", x, batch_axes=(0,))
    c.node("Reshape", ["x", c.const("s", [-1, 3, 4])], ["y"])
    c.output("y", x.reshape(-1, 3, 4))

    c = case("reshape_zero_copies", "Reshape [N,2,6] by [0,-1] and [0,3,4]: a 0 copies the input dim", n=2)
    x = data((2, 2, 6))
    c.input("x", x, batch_axes=(0,))
    c.node("Reshape", ["x", c.const("s", [0, -1])], ["y"])
    c.node("Reshape", ["x", c.const("t", [0, 3, 4])], ["z"])
    c.output("y", x.reshape(2, 12))
    c.output("z", x.reshape(2, 3, 4))

    c = case("reshape_flat_batch", "Reshape [N,4] by [-1] gives one dim of 4N", n=3)
    x = data((3, 4))
    c.input("x", x, batch_axes=(0,))
    c.node("Reshape", ["x", c.const("s", [-1])], ["y"])
    c.output("y", x.reshape(-1))

    c = case("reshape_allowzero", "Reshape [0,3] to [3,0] with allowzero=1 keeps the 0 (zero-size)")
    x = data((0, 3))
    c.input("x", x)
    c.node("Reshape", ["x", c.const("s", [3, 0])], ["y"], allowzero=1)
    c.output("y", x.reshape(3, 0))

    c = case("reshape_scalar_f64", "Reshape float64 [1,1] to a scalar by an empty shape")
    x = data((1, 1), np.float64)
    c.input("x", x)
    c.node("Reshape", ["x", c.const("s", np.zeros(0, np.int64))], ["y"])
    c.output("y", x.reshape(()))

    c = case("reshape_int64", "Reshape int64 [4,6] by [2,-1,3]")
    x = data((4, 6), np.int64)
    c.input("x", x)
    c.node("Reshape", ["x", c.const("s", [2, -1, 3])], ["y"])
    c.output("y", x.reshape(2, -1, 3))

    c = case("reshape_bool", "Reshape bool [2,3,2] by [6,2]")
    x = data((2, 3, 2), np.bool_)
    c.input("x", x)
    c.node("Reshape", ["x", c.const("s", [6, 2])], ["y"])
    c.output("y", x.reshape(6, 2))


# ---- Flatten --------------------------------------------------------------------

def gen_flatten():
    c = case("flatten_default_batch", "Flatten [N,3,4] with the default axis 1", n=2)
    x = data((2, 3, 4))
    c.input("x", x, batch_axes=(0,))
    c.node("Flatten", ["x"], ["y"])
    c.output("y", x.reshape(2, 12))

    c = case("flatten_axis0_f64", "Flatten float64 [2,3,4] with axis 0 gives [1,24]")
    x = data((2, 3, 4), np.float64)
    c.input("x", x)
    c.node("Flatten", ["x"], ["y"], axis=0)
    c.output("y", x.reshape(1, 24))

    c = case("flatten_negative_int64", "Flatten int64 [2,3,4,5] with axis -2 gives [6,20]")
    x = data((2, 3, 4, 5), np.int64)
    c.input("x", x)
    c.node("Flatten", ["x"], ["y"], axis=-2)
    c.output("y", x.reshape(6, 20))

    c = case("flatten_axis_rank", "Flatten [2,3] with axis = rank 2 gives [6,1]")
    x = data((2, 3))
    c.input("x", x)
    c.node("Flatten", ["x"], ["y"], axis=2)
    c.output("y", x.reshape(6, 1))

    c = case("flatten_zero_size", "Flatten bool [0,3,2] at axis 1 gives [0,6]")
    x = data((0, 3, 2), np.bool_)
    c.input("x", x)
    c.node("Flatten", ["x"], ["y"])
    c.output("y", x.reshape(0, 6))


# ---- Transpose ------------------------------------------------------------------

def gen_transpose():
    c = case("transpose_default", "Transpose [2,3,4] without perm reverses the axes")
    x = data((2, 3, 4))
    c.input("x", x)
    c.node("Transpose", ["x"], ["y"])
    c.output("y", x.transpose())

    c = case("transpose_nchw_nhwc", "Transpose [N,3,4,5] by perm [0,2,3,1] (NCHW to NHWC)", n=2)
    x = data((2, 3, 4, 5))
    c.input("x", x, batch_axes=(0,))
    c.node("Transpose", ["x"], ["y"], perm=[0, 2, 3, 1])
    c.output("y", x.transpose(0, 2, 3, 1))

    c = case("transpose_f64_special", "Transpose float64 [3,5] holding NaN and +-inf")
    x = data((3, 5), np.float64)
    x[0, 1], x[1, 2], x[2, 4] = np.nan, np.inf, -np.inf
    c.input("x", x)
    c.node("Transpose", ["x"], ["y"], perm=[1, 0])
    c.output("y", x.T)

    c = case("transpose_int64", "Transpose int64 [2,3,4] by perm [1,0,2]")
    x = data((2, 3, 4), np.int64)
    c.input("x", x)
    c.node("Transpose", ["x"], ["y"], perm=[1, 0, 2])
    c.output("y", x.transpose(1, 0, 2))

    c = case("transpose_bool", "Transpose bool [2,1,3,2] by perm [3,1,0,2]")
    x = data((2, 1, 3, 2), np.bool_)
    c.input("x", x)
    c.node("Transpose", ["x"], ["y"], perm=[3, 1, 0, 2])
    c.output("y", x.transpose(3, 1, 0, 2))

    c = case("transpose_zero_size", "Transpose int32 [0,3] to [3,0]")
    x = data((0, 3), np.int32)
    c.input("x", x)
    c.node("Transpose", ["x"], ["y"])
    c.output("y", x.T)


# ---- Squeeze / Unsqueeze --------------------------------------------------------

def gen_squeeze():
    c = case("squeeze_all", "Squeeze [1,3,1,2] without axes removes every 1")
    x = data((1, 3, 1, 2))
    c.input("x", x)
    c.node("Squeeze", ["x"], ["y"])
    c.output("y", np.squeeze(x))

    c = case("squeeze_axes_batch", "Squeeze [N,1,4,1] on axes [-1,1]", n=3)
    x = data((3, 1, 4, 1))
    c.input("x", x, batch_axes=(0,))
    c.node("Squeeze", ["x", c.const("ax", [-1, 1])], ["y"])
    c.output("y", np.squeeze(x, axis=(3, 1)))

    c = case("squeeze_int64_f64", "Squeeze int64 [1,5] on axis 0 and float64 [2,1] on axis 1")
    x = data((1, 5), np.int64)
    z = data((2, 1), np.float64)
    c.input("x", x)
    c.input("z", z)
    c.node("Squeeze", ["x", c.const("ax", [0])], ["y"])
    c.node("Squeeze", ["z", c.const("az", [1])], ["w"])
    c.output("y", np.squeeze(x, axis=0))
    c.output("w", np.squeeze(z, axis=1))

    c = case("squeeze_empty_axes", "Squeeze [1,2,1] with an empty axes tensor removes nothing (ONNX reference: "
             "np.squeeze(axis=()))")
    x = data((1, 2, 1), np.bool_)
    c.input("x", x)
    c.node("Squeeze", ["x", c.const("ax", np.zeros(0, np.int64))], ["y"])
    c.output("y", np.squeeze(x, axis=()))

    c = case("unsqueeze_negative_batch", "Unsqueeze [N,4] at axis -1 (counted in the output rank)", n=2)
    x = data((2, 4))
    c.input("x", x, batch_axes=(0,))
    c.node("Unsqueeze", ["x", c.const("ax", [-1])], ["y"])
    c.output("y", np.expand_dims(x, -1))

    c = case("unsqueeze_unordered", "Unsqueeze int64 [3,4] at axes [3,0] (any order)")
    x = data((3, 4), np.int64)
    c.input("x", x)
    c.node("Unsqueeze", ["x", c.const("ax", [3, 0])], ["y"])
    c.output("y", np.expand_dims(x, (0, 3)))

    c = case("unsqueeze_scalar", "Unsqueeze a float64 scalar at axis 0, and a bool [2] at axes [0,-1]")
    x = np.array(2.5, dtype=np.float64)
    b = data((2,), np.bool_)
    c.input("x", x)
    c.input("b", b)
    c.node("Unsqueeze", ["x", c.const("ax", [0])], ["y"])
    c.node("Unsqueeze", ["b", c.const("ab", [0, -1])], ["bb"])
    c.output("y", np.expand_dims(x, 0))
    c.output("bb", np.expand_dims(b, (0, 2)))


# ---- Concat ---------------------------------------------------------------------

def gen_concat():
    c = case("concat_axis1_batch", "Concat [N,2], [N,3], [N,1] on axis 1", n=3)
    xs = [data((3, k)) for k in (2, 3, 1)]
    for i, x in enumerate(xs):
        c.input(f"x{i}", x, batch_axes=(0,))
    c.node("Concat", ["x0", "x1", "x2"], ["y"], axis=1)
    c.output("y", np.concatenate(xs, axis=1))

    c = case("concat_negative_f64", "Concat float64 [2,3,4] and [2,3,1] on axis -1, with NaN and inf")
    a, b = data((2, 3, 4), np.float64), data((2, 3, 1), np.float64)
    a[1, 2, 3], b[0, 0, 0] = np.nan, -np.inf
    c.input("a", a)
    c.input("b", b)
    c.node("Concat", ["a", "b"], ["y"], axis=-1)
    c.output("y", np.concatenate([a, b], axis=-1))

    c = case("concat_axis0_batch", "Concat [N,3] and [2,3] on axis 0 gives [N+2,3]", n=2)
    a, b = data((2, 3)), data((2, 3))
    c.input("a", a, batch_axes=(0,))
    c.input("b", b)
    c.node("Concat", ["a", "b", "a"], ["y"], axis=0)
    c.output("y", np.concatenate([a, b, a], axis=0))

    c = case("concat_zero_size", "Concat int64 [2,0] and [2,3] on axis 1")
    a, b = data((2, 0), np.int64), data((2, 3), np.int64)
    c.input("a", a)
    c.input("b", b)
    c.node("Concat", ["a", "b"], ["y"], axis=1)
    c.output("y", np.concatenate([a, b], axis=1))

    c = case("concat_bool_single", "Concat of one bool input, and of uint8 [2,2] with itself on axis 0")
    a = data((3, 2), np.bool_)
    u = data((2, 2), np.uint8)
    c.input("a", a)
    c.input("u", u)
    c.node("Concat", ["a"], ["y"], axis=0)
    c.node("Concat", ["u", "u"], ["z"], axis=0)
    c.output("y", a)
    c.output("z", np.concatenate([u, u], axis=0))


# ---- Split ----------------------------------------------------------------------

def onnx_equal_split(dim, k):
    """ONNX opset 18 equal split: ceil(dim/k) per part, the last one smaller."""
    chunk = -(-dim // k)
    sizes = [chunk] * (k - 1) + [dim - chunk * (k - 1)]
    assert sizes[-1] >= 0
    return sizes


def split_np(x, sizes, axis):
    return np.split(x, np.cumsum(sizes)[:-1], axis=axis)


def gen_split():
    c = case("split_equal_batch", "Split [6,N] into 3 equal parts on axis 0", n=2)
    x = data((6, 2))
    c.input("x", x, batch_axes=(1,))
    c.node("Split", ["x"], ["a", "b", "d"])
    for name, part in zip(["a", "b", "d"], np.split(x, 3, axis=0)):
        c.output(name, part)

    c = case("split_sizes_batch", "Split [N,7] by sizes [2,5] on axis 1", n=3)
    x = data((3, 7))
    c.input("x", x, batch_axes=(0,))
    c.node("Split", ["x", c.const("s", [2, 5])], ["a", "b"], axis=1)
    for name, part in zip(["a", "b"], split_np(x, [2, 5], 1)):
        c.output(name, part)

    c = case("split_uneven", "Split [7] into 3 outputs: ceil-sized parts [3,3,1] per the ONNX rule (not np.array_split)")
    x = data((7,))
    c.input("x", x)
    c.node("Split", ["x"], ["a", "b", "d"])
    for name, part in zip(["a", "b", "d"], split_np(x, onnx_equal_split(7, 3), 0)):
        c.output(name, part)

    c = case("split_num_outputs", "Split int64 [2,10] with num_outputs=4 on axis -1: parts [3,3,3,1] (ONNX 18 rule)")
    x = data((2, 10), np.int64)
    c.input("x", x)
    c.node("Split", ["x"], ["a", "b", "d", "e"], axis=-1, num_outputs=4)
    for name, part in zip(["a", "b", "d", "e"], split_np(x, onnx_equal_split(10, 4), 1)):
        c.output(name, part)

    c = case("split_zero_part_bool", "Split bool [5,2] by sizes [2,0,3] (an empty part)")
    x = data((5, 2), np.bool_)
    c.input("x", x)
    c.node("Split", ["x", c.const("s", [2, 0, 3])], ["a", "b", "d"])
    for name, part in zip(["a", "b", "d"], split_np(x, [2, 0, 3], 0)):
        c.output(name, part)

    c = case("split_f64", "Split float64 [2,4,3] into 2 on axis 1")
    x = data((2, 4, 3), np.float64)
    c.input("x", x)
    c.node("Split", ["x"], ["a", "b"], axis=1)
    for name, part in zip(["a", "b"], np.split(x, 2, axis=1)):
        c.output(name, part)


# ---- Slice ----------------------------------------------------------------------

def onnx_slice_1d(dim, start, end, step):
    """Indices one axis of an ONNX Slice takes, by the opset-13 text (clamping rules)."""
    if start < 0:
        start += dim
    if end < 0:
        end += dim
    if step > 0:
        start = min(max(start, 0), dim)
        end = min(max(end, 0), dim)
    else:
        start = min(max(start, 0), dim - 1)
        end = min(max(end, -1), dim - 1)
    if dim == 0:
        return []
    return list(range(start, end, step))


def onnx_slice(x, starts, ends, axes=None, steps=None):
    axes = list(range(len(starts))) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    idx = [np.arange(d) for d in x.shape]
    for s, e, a, st in zip(starts, ends, axes, steps):
        idx[a] = np.array(onnx_slice_1d(x.shape[a], s, e, st), dtype=np.int64)
    return x[np.ix_(*idx)] if x.ndim else x


def slice_case(c, x, starts, ends, axes=None, steps=None, out="y", pfx="", dtype=np.int64, want=None):
    ins = ["x", c.const(pfx + "starts", starts, dtype), c.const(pfx + "ends", ends, dtype)]
    if axes is not None:
        ins.append(c.const(pfx + "axes", axes, dtype))
    if steps is not None:
        if axes is None:
            ins.append("")
        ins.append(c.const(pfx + "steps", steps, dtype))
    c.node("Slice", ins, [out])
    got = onnx_slice(x, starts, ends, axes, steps)
    if want is not None:
        assert np.array_equal(got, want, equal_nan=(x.dtype.kind == "f")), (c.name, got, want)
    c.output(out, got)


def gen_slice():
    c = case("slice_batch_from1", "Slice x[1:] on an N axis with end INT64_MAX gives N-1 rows", n=4)
    x = data((4, 10))
    c.input("x", x, batch_axes=(0,))
    slice_case(c, x, [1], [I64_MAX], [0], want=x[1:])

    c = case("slice_reverse_axis", "Slice x[:, ::-1] with start -1, end INT64_MIN, step -1")
    x = data((5, 6))
    c.input("x", x)
    slice_case(c, x, [-1], [I64_MIN], [1], [-1], want=x[:, ::-1])

    c = case("slice_reverse_batch", "Slice x[::-1] on an N axis (start INT64_MAX, end INT64_MIN, step -1)", n=3)
    x = data((3, 2), np.int64)
    c.input("x", x, batch_axes=(0,))
    slice_case(c, x, [I64_MAX], [I64_MIN], [0], [-1], want=x[::-1])

    c = case("slice_steps", "Slice x[1:9:3] and x[5:0:-2] on [10] (default axes with steps)")
    x = data((10,))
    c.input("x", x)
    slice_case(c, x, [1], [9], None, [3], want=x[1:9:3])
    slice_case(c, x, [5], [0], None, [-2], out="z", pfx="b", want=x[5:0:-2])

    c = case("slice_multi_axes", "Slice [4,5,6] on axes [2,0] with negative starts/ends: x[-4:-1, :, 1:3]")
    x = data((4, 5, 6), np.float64)
    c.input("x", x)
    slice_case(c, x, [1, -4], [3, -1], [2, -3], want=x[-4:-1, :, 1:3])

    c = case("slice_clamp_empty", "Slice [5]: x[-10:100] clamps to all; x[3:1] is empty")
    x = data((5,), np.int64)
    c.input("x", x)
    slice_case(c, x, [-10], [100], want=x[-10:100])
    slice_case(c, x, [3], [1], out="z", pfx="b", want=x[3:1])

    c = case("slice_int32_params_bool", "Slice bool [3,8] with int32 starts/ends/axes/steps: x[:, 6:1:-2]")
    x = data((3, 8), np.bool_)
    c.input("x", x)
    slice_case(c, x, [6], [1], [-1], [-2], dtype=np.int32, want=x[:, 6:1:-2])

    c = case("slice_onnx_start_clamp", "Slice [5] start -10, end -10, step -1: ONNX clamps start to 0 and end to "
             "-1, giving [x0] (NumPy would give [])")
    x = data((5,))
    c.input("x", x)
    slice_case(c, x, [-10], [-10], [0], [-1])
    assert c.files["y"].shape == (1,)

    c = case("slice_zero_size", "Slice a [0,4] tensor on axis 1, and [3,4] to an empty axis 0")
    x = data((0, 4))
    c.input("x", x)
    slice_case(c, x, [1], [3], [1], want=x[:, 1:3])
    c2 = data((3, 4))
    c.input("w", c2)
    c.node("Slice", ["w", c.const("ws", [2]), c.const("we", [2])], ["z"])
    c.output("z", c2[2:2])


# ---- Gather ---------------------------------------------------------------------

def gen_gather():
    c = case("gather_axis0", "Gather [5,3] on axis 0 with int64 indices [[0,4],[2,-1]] (an input)")
    x = data((5, 3))
    i = np.array([[0, 4], [2, -1]], dtype=np.int64)
    c.input("x", x)
    c.input("i", i)
    c.node("Gather", ["x", "i"], ["y"])
    c.output("y", np.take(x, i, axis=0))

    c = case("gather_axis1_batch", "Gather [N,5] on axis 1 with int32 indices [3,0,-2]", n=2)
    x = data((2, 5))
    i = np.array([3, 0, -2], dtype=np.int32)
    c.input("x", x, batch_axes=(0,))
    c.input("i", i)
    c.node("Gather", ["x", "i"], ["y"], axis=1)
    c.output("y", np.take(x, i, axis=1))

    c = case("gather_scalar_index", "Gather [N,4,3] on axis -2 with a scalar index 2 (drops the axis)", n=3)
    x = data((3, 4, 3), np.float64)
    c.input("x", x, batch_axes=(0,))
    c.node("Gather", ["x", c.const("i", 2)], ["y"], axis=-2)
    c.output("y", np.take(x, 2, axis=-2))

    c = case("gather_int64_bool", "Gather int64 [6] by [[5,0,5]] and bool [2,3] on axis 1 by [-1,1]")
    x = data((6,), np.int64)
    b = data((2, 3), np.bool_)
    i = np.array([[5, 0, 5]], dtype=np.int64)
    c.input("x", x)
    c.input("b", b)
    c.input("i", i)
    c.node("Gather", ["x", "i"], ["y"])
    c.node("Gather", ["b", c.const("j", [-1, 1])], ["z"], axis=1)
    c.output("y", np.take(x, i, axis=0))
    c.output("z", np.take(b, [-1, 1], axis=1))

    c = case("gather_empty_indices", "Gather [4,2] with zero indices (shape [0]) on axis 0")
    x = data((4, 2))
    i = np.zeros((0,), dtype=np.int64)
    c.input("x", x)
    c.input("i", i)
    c.node("Gather", ["x", "i"], ["y"])
    c.output("y", np.take(x, i, axis=0))


# ---- Expand ---------------------------------------------------------------------

def expand_np(x, shape):
    """ONNX Expand: x * ones(shape) broadcasting (the result may be larger than shape)."""
    out = np.broadcast_shapes(x.shape, tuple(shape))
    return np.broadcast_to(x, out)


def gen_expand():
    c = case("expand_basic", "Expand [3,1] to [2,3,4]")
    x = data((3, 1))
    c.input("x", x)
    c.node("Expand", ["x", c.const("s", [2, 3, 4])], ["y"])
    c.output("y", expand_np(x, [2, 3, 4]))

    c = case("expand_bidirectional", "Expand [2,1,3] by [4,1]: dims of the shape may be 1 or fewer (gives [2,4,3])")
    x = data((2, 1, 3), np.int64)
    c.input("x", x)
    c.node("Expand", ["x", c.const("s", [4, 1])], ["y"])
    c.output("y", expand_np(x, [4, 1]))

    c = case("expand_batch", "Expand [N,1] by [1,5]", n=3)
    x = data((3, 1), np.float64)
    c.input("x", x, batch_axes=(0,))
    c.node("Expand", ["x", c.const("s", [1, 5])], ["y"])
    c.output("y", expand_np(x, [1, 5]))

    c = case("expand_bool_zero", "Expand bool [1,3] to [0,3] (zero-size) and to [2,1,3]")
    x = data((1, 3), np.bool_)
    c.input("x", x)
    c.node("Expand", ["x", c.const("s", [0, 3])], ["y"])
    c.node("Expand", ["x", c.const("t", [2, 1, 3])], ["z"])
    c.output("y", expand_np(x, [0, 3]))
    c.output("z", expand_np(x, [2, 1, 3]))


# ---- Shape ----------------------------------------------------------------------

def onnx_shape(shape, start=0, end=None):
    r = len(shape)
    end = r if end is None else end
    start, end = start + r if start < 0 else start, end + r if end < 0 else end
    start, end = min(max(start, 0), r), min(max(end, 0), r)
    return np.array(shape[start:end], dtype=np.int64)


def gen_shape():
    c = case("shape_batch", "Shape of [N,3,4] at N=2, and its start=1/end=-1 slice", n=2)
    x = data((2, 3, 4))
    c.input("x", x, batch_axes=(0,))
    c.node("Shape", ["x"], ["y"])
    c.node("Shape", ["x"], ["z"], start=1, end=-1)
    c.output("y", onnx_shape(x.shape))
    c.output("z", onnx_shape(x.shape, 1, -1))

    c = case("shape_clamp", "Shape of bool [2,3,5] with start -10/end 10 (clamped) and start 2/end 1 (empty)")
    x = data((2, 3, 5), np.bool_)
    c.input("x", x)
    c.node("Shape", ["x"], ["y"], start=-10, end=10)
    c.node("Shape", ["x"], ["z"], start=2, end=1)
    c.output("y", onnx_shape(x.shape, -10, 10))
    c.output("z", onnx_shape(x.shape, 2, 1))

    c = case("shape_scalar_zero", "Shape of a float64 scalar ([]) and of int64 [0,7]")
    x = np.array(1.5)
    z = data((0, 7), np.int64)
    c.input("x", x)
    c.input("z", z)
    c.node("Shape", ["x"], ["y"])
    c.node("Shape", ["z"], ["w"], start=-1)
    c.output("y", onnx_shape(x.shape))
    c.output("w", onnx_shape(z.shape, -1))


# ---- ConstantOfShape ------------------------------------------------------------

def gen_constant_of_shape():
    c = case("cos_default", "ConstantOfShape [2,3] without value: float32 zeros")
    c.node("ConstantOfShape", [c.const("s", [2, 3])], ["y"])
    c.output("y", np.full((2, 3), 0, np.float32))

    c = case("cos_values", "ConstantOfShape with int64 7, float64 -1.5, bool true and int32 -3 values")
    c.node("ConstantOfShape", [c.const("s", [3])], ["a"], value={"dtype": "int64", "data": [7]})
    c.node("ConstantOfShape", [c.const("t", [2, 2])], ["b"], value={"dtype": "float64", "data": [-1.5]})
    c.node("ConstantOfShape", [c.const("u", [1, 2, 1])], ["d"], value={"dtype": "bool", "data": [True]})
    c.node("ConstantOfShape", [c.const("v", [2])], ["e"], value={"dtype": "int32", "data": [-3]})
    c.output("a", np.full((3,), 7, np.int64))
    c.output("b", np.full((2, 2), -1.5, np.float64))
    c.output("d", np.full((1, 2, 1), True, np.bool_))
    c.output("e", np.full((2,), -3, np.int32))

    c = case("cos_batch_shape", "ConstantOfShape of Shape([N,2]) with value 0.25: a batch-sized tensor", n=3)
    x = data((3, 2))
    c.input("x", x, batch_axes=(0,))
    c.node("Shape", ["x"], ["s"])
    c.node("ConstantOfShape", ["s"], ["y"], value=0.25)
    c.output("y", np.full((3, 2), 0.25, np.float32))

    c = case("cos_scalar_empty", "ConstantOfShape of [] gives a scalar; of [0,3] a zero-size tensor")
    c.node("ConstantOfShape", [c.const("s", np.zeros(0, np.int64))], ["y"], value={"dtype": "float32", "data": [3.0]})
    c.node("ConstantOfShape", [c.const("t", [0, 3])], ["z"])
    c.output("y", np.full((), 3.0, np.float32))
    c.output("z", np.full((0, 3), 0, np.float32))


# ---- Range ----------------------------------------------------------------------

def range_case(c, start, limit, delta, dtype, out, pfx):
    dt = np.dtype(dtype)
    ins = [c.const(pfx + "start", dt.type(start), dt), c.const(pfx + "limit", dt.type(limit), dt),
           c.const(pfx + "delta", dt.type(delta), dt)]
    c.node("Range", ins, [out])
    if dt.kind == "f":
        # ONNX: n = max(ceil((limit - start) / delta), 0), output[i] = start + i * delta
        s, l, d = (float(dt.type(v)) for v in (start, limit, delta))
        count = max(math.ceil((l - s) / d), 0)
        want = np.array([s + i * d for i in range(count)], dtype=np.float64).astype(dt)
        assert want.shape == np.arange(dt.type(start), dt.type(limit), dt.type(delta), dtype=dt).shape
    else:
        want = np.arange(start, limit, delta, dtype=dt)
    c.output(out, want)


def gen_range():
    c = case("range_int", "Range int64 0..10 by 3, and int32 10 down to 0 by -3")
    range_case(c, 0, 10, 3, np.int64, "a", "a")
    range_case(c, 10, 0, -3, np.int32, "b", "b")

    c = case("range_float", "Range float32 0.5..2 by 0.4 and float64 -1..1 by 0.25; output[i] = start + i*delta")
    range_case(c, 0.5, 2.0, 0.4, np.float32, "a", "a")
    range_case(c, -1.0, 1.0, 0.25, np.float64, "b", "b")

    c = case("range_empty", "Range 5..0 by 1 (int64) and 1..1 by 0.5 (float32) are empty")
    range_case(c, 5, 0, 1, np.int64, "a", "a")
    range_case(c, 1.0, 1.0, 0.5, np.float32, "b", "b")

    c = case("range_batch", "Range(1, N, 1) with N from Shape -> Gather: N-1 elements", n=4)
    x = data((4, 2))
    c.input("x", x, batch_axes=(0,))
    c.node("Shape", ["x"], ["s"])
    c.node("Gather", ["s", c.const("zero", 0)], ["n"])
    c.node("Range", [c.const("one", 1), "n", "one"], ["y"])
    c.output("y", np.arange(1, 4, 1, dtype=np.int64))


# ---- shape arithmetic chains ----------------------------------------------------

def gen_chains():
    c = case("chain_torch_flatten", "PyTorch-export chain Shape -> Gather(0) -> Unsqueeze -> Concat([-1]) -> Reshape "
             "of [N,8,16]", n=3)
    x = data((3, 8, 16))
    c.input("x", x, batch_axes=(0,))
    c.node("Shape", ["x"], ["s"])
    c.node("Gather", ["s", c.const("zero", 0)], ["b"])
    c.node("Unsqueeze", ["b", c.const("ax", [0])], ["b1"])
    c.node("Concat", ["b1", c.const("m1", [-1])], ["t"], axis=0)
    c.node("Reshape", ["x", "t"], ["y"])
    c.output("y", x.reshape(3, -1))
    c.output("t", np.array([3, -1], dtype=np.int64))

    c = case("chain_heads", "Shape -> Slice[0:1] -> Concat with [8,4] -> Reshape of [N,32], then Transpose to "
             "[N,4,8]", n=2)
    x = data((2, 32))
    c.input("x", x, batch_axes=(0,))
    c.node("Shape", ["x"], ["s"])
    c.node("Slice", ["s", c.const("st", [0]), c.const("en", [1])], ["b"])
    c.node("Concat", ["b", c.const("hd", [8, 4])], ["t"], axis=0)
    c.node("Reshape", ["x", "t"], ["h"])
    c.node("Transpose", ["h"], ["y"], perm=[0, 2, 1])
    c.output("y", x.reshape(2, 8, 4).transpose(0, 2, 1))


# ---- Pad --------------------------------------------------------------------------

def pad_np(x, pads, mode="constant", value=0, axes=None):
    """ONNX Pad via np.pad; negative pads crop first."""
    r = x.ndim
    axes = list(range(r)) if axes is None else [a % r for a in axes]
    k = len(axes)
    begin, end = [0] * r, [0] * r
    for i, a in enumerate(axes):
        begin[a], end[a] = pads[i], pads[k + i]
    crop = tuple(slice(max(-b, 0), x.shape[a] - max(-e, 0)) for a, (b, e) in enumerate(zip(begin, end)))
    x = x[crop]
    width = [(max(b, 0), max(e, 0)) for b, e in zip(begin, end)]
    npmode = {"constant": "constant", "reflect": "reflect", "edge": "edge", "wrap": "wrap"}[mode]
    if mode == "constant":
        return np.pad(x, width, mode="constant", constant_values=value)
    return np.pad(x, width, mode=npmode)


def gen_pad():
    c = case("pad_constant_value", "Pad [2,3] by [1,0,0,2] with constant_value 1.5 (a LeNet-style border)")
    x = data((2, 3))
    c.input("x", x)
    c.node("Pad", ["x", c.const("p", [1, 0, 0, 2]), c.const("v", 1.5, np.float32)], ["y"])
    c.output("y", pad_np(x, [1, 0, 0, 2], value=1.5))

    c = case("pad_batch_spatial", "Pad [N,2,3,3] by 2 on both spatial axes (zeros, no constant_value)", n=2)
    x = data((2, 2, 3, 3))
    c.input("x", x, batch_axes=(0,))
    p = [0, 0, 2, 2, 0, 0, 2, 2]
    c.node("Pad", ["x", c.const("p", p)], ["y"])
    c.output("y", pad_np(x, p))

    c = case("pad_negative_crop", "Pad [3,4] int64 by [-1,1,0,-2]: negative pads crop")
    x = data((3, 4), np.int64)
    c.input("x", x)
    c.node("Pad", ["x", c.const("p", [-1, 1, 0, -2]), c.const("v", 7, np.int64)], ["y"])
    c.output("y", pad_np(x, [-1, 1, 0, -2], value=7))

    for mode in ("reflect", "edge", "wrap"):
        c = case(f"pad_{mode}", f"Pad [2,4] f64 in {mode} mode by [0,2,1,3] (wrap/reflect reach 3 of 4 elements)")
        x = data((2, 4), np.float64)
        c.input("x", x)
        c.node("Pad", ["x", c.const("p", [0, 2, 1, 3])], ["y"], mode=mode)
        c.output("y", pad_np(x, [0, 2, 1, 3], mode))

    c = case("pad_axes", "Pad [2,3,4] with axes [-1,1] (opset 18): pads [1,0,2,1]")
    x = data((2, 3, 4))
    c.input("x", x)
    c.node("Pad", ["x", c.const("p", [1, 0, 2, 1]), "", c.const("a", [-1, 1])], ["y"])
    c.output("y", pad_np(x, [1, 0, 2, 1], axes=[-1, 1]))


def main():
    shutil.rmtree(ROOT, ignore_errors=True)
    os.makedirs(ROOT)
    for gen in (gen_reshape, gen_flatten, gen_transpose, gen_squeeze, gen_concat, gen_split, gen_slice,
                gen_gather, gen_expand, gen_shape, gen_constant_of_shape, gen_range, gen_chains, gen_pad):
        gen()
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    for c in CASES:
        c.write()
    print(f"wrote {len(CASES)} cases to {ROOT}")


if __name__ == "__main__":
    main()
