#!/usr/bin/python3
"""Writes the .npy test vectors read by tests/test_rt_tensorfile.c (run: /usr/bin/python3 gen.py).

Values follow np.arange so the C test can recompute them; each file is < 200 bytes.
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def save(name, arr, version=None):
    path = os.path.join(HERE, name)
    if version is None:
        np.save(path, arr, allow_pickle=False)
    else:
        with open(path, "wb") as f:
            np.lib.format.write_array(f, arr, version=version, allow_pickle=False)


save("f32_2x3.npy", np.arange(6, dtype="<f4").reshape(2, 3) * 0.5)       # 0, 0.5, ... 2.5
save("f64_scalar.npy", np.array(-1.25, dtype="<f8"))                     # rank 0
save("i64_4.npy", np.arange(4, dtype="<i8") - 2)                         # -2 -1 0 1
save("i32_0x3.npy", np.zeros((0, 3), dtype="<i4"))                       # zero-size
save("i8_5.npy", np.arange(5, dtype="i1") - 3)                           # -3 .. 1
save("u8_2x2x2.npy", np.arange(8, dtype="u1").reshape(2, 2, 2) * 30)     # 0 30 .. 210
save("bool_3.npy", np.array([True, False, True]))
save("f16_3.npy", np.array([1.0, -2.0, 0.5], dtype="<f2"))
save("f32_3_v2.npy", np.arange(3, dtype="<f4"), version=(2, 0))
save("f32_3_v3.npy", np.arange(3, dtype="<f4"), version=(3, 0))
save("f32_2x2_fortran.npy", np.asfortranarray(np.arange(4, dtype="<f4").reshape(2, 2)))
save("f32_3_bigendian.npy", np.arange(3, dtype=">f4"))
