"""Reading and writing .safetensors files (the params files of sinter) with NumPy."""
import json
import os
import struct

import numpy as np

# safetensors dtype names <-> NumPy (the ones sinter's runtime reads and writes, bar BF16).
_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8,
    "U8": np.uint8, "BOOL": np.bool_,
}
_NAMES = {np.dtype(v): k for k, v in _DTYPES.items()}

# A header longer than this is taken as a corrupt file.
_MAX_HEADER = 100 << 20


def load_tensors(path):
    """{name: array} of a .safetensors file (e.g. written by lib.save or `sinter train --save`).

    The arrays are copies, little-endian, in the file's dtypes; "__metadata__" is left out.
    ValueError names the file and what is wrong with it.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError("%s: too short for a .safetensors file" % path)
    (hlen,) = struct.unpack("<Q", data[:8])
    if hlen > min(_MAX_HEADER, len(data) - 8):
        raise ValueError("%s: header length %d runs past the end of the file" % (path, hlen))
    try:
        header = json.loads(data[8:8 + hlen].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError("%s: the header is not JSON: %s" % (path, e)) from None
    if not isinstance(header, dict):
        raise ValueError("%s: the header is not a JSON object" % path)
    body = data[8 + hlen:]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype = np.dtype(_DTYPES[t["dtype"]]).newbyteorder("<")
            shape = tuple(int(d) for d in t["shape"])
            start, end = (int(x) for x in t["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("%s: tensor %r: bad or unsupported entry %r" % (path, name, t)) from None
        count = int(np.prod(shape, dtype=np.int64))
        if min(shape, default=0) < 0 or not 0 <= start <= end <= len(body) or end - start != count * dtype.itemsize:
            raise ValueError("%s: tensor %r: data_offsets %r do not fit dtype %s, shape %s and the file" % (
                path, name, [start, end], t["dtype"], list(shape)))
        out[name] = np.frombuffer(body, dtype=dtype, count=count, offset=start).reshape(shape).copy()
    return out


def save_tensors(path, tensors):
    """Writes {name: array} to a .safetensors file (e.g. params for compile(weights=...) or
    lib.load), replacing it atomically."""
    path = os.fspath(path)
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        if a.dtype not in _NAMES:
            raise TypeError("save_tensors: %r has dtype %s, which .safetensors files of sinter do not hold" % (
                name, a.dtype.name))
        raw = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _NAMES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = "%s.tmp%d" % (path, os.getpid())
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for c in chunks:
                f.write(c)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
