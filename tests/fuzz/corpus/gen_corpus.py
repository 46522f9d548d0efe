#!/usr/bin/python3
"""Writes the seed corpora for fuzz_safetensors and fuzz_npy (run: /usr/bin/python3 gen_corpus.py).

Small valid files in the shapes real tools produce, plus a few near-misses (each under 1 KB).
"""
import io
import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ST_DTYPES = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "I32": "<i4", "I8": "i1", "U8": "u1",
             "BOOL": "?", "BF16": "<u2", "F16": "<f2"}


def put(sub, name, data):
    os.makedirs(os.path.join(HERE, sub), exist_ok=True)
    with open(os.path.join(HERE, sub, name), "wb") as f:
        f.write(data)


def safetensors(tensors, metadata=None, pad=True, raw_header=None):
    """tensors: list of (name, dtype, array); laid out in order without gaps."""
    header, blobs, at = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, arr in tensors:
        b = np.ascontiguousarray(arr, dtype=ST_DTYPES[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [at, at + len(b)]}
        blobs.append(b)
        at += len(b)
    h = raw_header if raw_header is not None else json.dumps(header).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


put("safetensors", "empty", safetensors([]))
put("safetensors", "mlp", safetensors([
    ("fc1.weight", "F32", np.arange(12).reshape(3, 4) * 0.25),
    ("fc1.bias", "F32", np.zeros(3)),
    ("scalar", "F64", np.array(2.5)),
], metadata={"format": "pt"}))
put("safetensors", "dtypes", safetensors([
    ("a", "I64", np.arange(2)), ("b", "I32", np.arange(3)), ("c", "F16", np.ones(2)),
    ("d", "BF16", np.arange(2)), ("e", "I8", np.arange(3) - 1), ("f", "U8", np.arange(4)),
    ("g", "BOOL", np.array([True, False])), ("h", "F32", np.zeros((2, 0, 3))),
]))
put("safetensors", "escapes", safetensors([], raw_header=(
    b'{"\\u00e9\\ud83d\\ude00\\n\\"\\\\x":{"dtype":"U8","shape":[1,1,1,1,1,1,1,1],"data_offsets":[0,1]}}'))
    + b"\x07")
put("safetensors", "overlap", safetensors([], raw_header=(
    b'{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}'))
    + b"\0" * 6)
put("safetensors", "bad_dtype", safetensors([], raw_header=b'{"a":{"dtype":"I16","shape":[1],"data_offsets":[0,2]}}')
    + b"\0\0")
put("safetensors", "truncated", safetensors([("w", "F32", np.arange(4))])[:-3])

for name, arr in [("f32_2x3", np.arange(6, dtype="<f4").reshape(2, 3)), ("f64_scalar", np.array(1.5)),
                  ("i64_0", np.zeros(0, dtype="<i8")), ("i32", np.arange(3, dtype="<i4")),
                  ("i8", np.arange(3, dtype="i1")), ("u8", np.arange(3, dtype="u1")),
                  ("bool", np.array([True, False])), ("f16", np.ones(2, dtype="<f2")),
                  ("fortran", np.asfortranarray(np.ones((2, 2), dtype="<f4"))),
                  ("bigendian", np.arange(2, dtype=">f4"))]:
    b = io.BytesIO()
    np.save(b, arr)
    put("npy", name, b.getvalue())
for version in [(2, 0), (3, 0)]:
    b = io.BytesIO()
    np.lib.format.write_array(b, np.arange(3, dtype="<f4"), version=version)
    put("npy", "v%d_f32" % version[0], b.getvalue())
b = io.BytesIO()
np.save(b, np.arange(4, dtype="<f4"))
put("npy", "truncated", b.getvalue()[:-2])
