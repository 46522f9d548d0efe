#!/usr/bin/env python3
"""Writes the small .safetensors files the bad-model cases refer to (stdlib only).

Run from anywhere: /usr/bin/python3 tests/bad_models/gen_weights.py
Each file is tiny and committed; rerunning rewrites them identically.
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def safetensors(tensors):
    """tensors: list of (name, dtype, shape, raw bytes) -> file bytes."""
    header, data = {}, b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def f32(*v):
    return struct.pack("<%df" % len(v), *v)


def f64(*v):
    return struct.pack("<%dd" % len(v), *v)


FILES = {
    # a float32 [2, 3] tensor "w", as the models declare it
    "w_ok.safetensors": [("w", "F32", [2, 3], f32(1, 2, 3, 4, 5, 6))],
    # "w" stored as float64
    "w_f64.safetensors": [("w", "F64", [2, 3], f64(1, 2, 3, 4, 5, 6))],
    # "w" transposed
    "w_shape.safetensors": [("w", "F32", [3, 2], f32(1, 2, 3, 4, 5, 6))],
    # "w" plus a tensor no param declares
    "w_extra.safetensors": [("w", "F32", [2, 3], f32(1, 2, 3, 4, 5, 6)), ("w2", "F32", [1], f32(7))],
}


def main():
    for name, tensors in FILES.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(safetensors(tensors))
    # the data section of w_ok cut short
    whole = safetensors(FILES["w_ok.safetensors"])
    with open(os.path.join(HERE, "w_truncated.safetensors"), "wb") as f:
        f.write(whole[:-8])
    # not even the 8-byte length prefix
    with open(os.path.join(HERE, "w_tiny.safetensors"), "wb") as f:
        f.write(b"\x10\x00\x00")


if __name__ == "__main__":
    main()
