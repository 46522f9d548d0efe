"""Tests of the sinter Python module: compile, Library (infer, train, load/save, errors), tensor files.

Compared with the sinter command (`sinter run --output`) and with the C example
examples/classify_fmnist.c. Run by tests/cli/python.sh, or by hand from the repository:
    SINTER=build/sinter PYTHONPATH=python python3 -m unittest discover -s python/tests -v
SINTER names the sinter command (default: build/sinter of the repository, else PATH);
libsinter is found as sinter.compile finds it (SINTER_LIBRARY, the build folder, PATH).
"""
import gzip
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import numpy as np

import sinter

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EX = os.path.join(ROOT, "examples")
SINTER = os.environ.get("SINTER") or (
    os.path.join(ROOT, "build", "sinter") if os.path.exists(os.path.join(ROOT, "build", "sinter"))
    else shutil.which("sinter"))
FMNIST = "/usr/share/datasets/fashion-mnist"

SCALE = {
    "sinter": 1, "name": "scale",
    "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 3]}],
    "outputs": ["y"],
    "params": [{"name": "w", "dtype": "float32", "shape": [3], "init": {"kind": "constant", "value": 2}}],
    "nodes": [{"name": "mul", "op": "Mul", "inputs": ["x", "w"], "outputs": ["y"]}],
}


def sinter_cmd(*args):
    """Runs the sinter command; returns its stdout (fails the test with stderr otherwise)."""
    r = subprocess.run([SINTER] + [str(a) for a in args], capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("sinter %s: exit %d: %s" % (" ".join(map(str, args)), r.returncode, r.stderr))
    return r.stdout


def read_idx(path, count):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndims = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndims)]
    item = int(np.prod(dims[1:], dtype=np.int64)) if ndims > 1 else 1
    body = np.frombuffer(data, np.uint8, offset=4 + 4 * ndims)
    return body[:count * item].reshape([count] + dims[1:])


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not SINTER:
            raise unittest.SkipTest("no sinter command (set SINTER)")
        cls.tmp = tempfile.mkdtemp(prefix="sinter-py.")
        cls.mlp = os.path.join(cls.tmp, "libfmnist_mlp.so")
        sinter.compile(os.path.join(EX, "fmnist_mlp.json"), cls.mlp, opt_level=1)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def batch(self, n, seed=0):
        rng = np.random.default_rng(seed)
        return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n).astype(np.int64)


class TestCompile(Base):
    def test_header_and_kinds(self):
        self.assertTrue(os.path.exists(self.path("fmnist_mlp.h")), "compile writes the header beside the .so")
        model = self.path("scale.json")
        with open(model, "w") as f:
            json.dump(SCALE, f)
        for ext in ("o", "ll", "s"):
            out = sinter.compile(model, self.path("scale." + ext))
            self.assertEqual(out, self.path("scale." + ext))
            self.assertGreater(os.path.getsize(out), 0)
        with open(self.path("scale.ll")) as f:
            self.assertIn("define", f.read())

    def test_weights_option(self):
        model = self.path("scale.json")
        with open(model, "w") as f:
            json.dump(SCALE, f)
        sinter.save_tensors(self.path("w.safetensors"), {"w": np.array([1, -2, 3], np.float32)})
        lib = sinter.Library(sinter.compile(model, self.path("libscale.so"), weights=self.path("w.safetensors")))
        y = lib.infer(x=np.array([[1, 2, 4]], np.float32))["y"]
        np.testing.assert_array_equal(y, [[1, -4, 12]])

    def test_errors(self):
        bad = self.path("bad.json")
        with open(bad, "w") as f:
            f.write('{"sinter": 1, "name": "bad", "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 3]}],'
                    ' "outputs": ["y"], "nodes": [{"op": "Relu", "inputs": ["h"], "outputs": ["y"]}]}')
        with self.assertRaises(sinter.CompileError) as cm:
            sinter.compile(bad, self.path("libbad.so"))
        self.assertEqual(cm.exception.diagnostics, ['%s: nodes[0].inputs[0]: unknown tensor "h"' % bad])
        self.assertEqual(str(cm.exception), '%s: nodes[0].inputs[0]: unknown tensor "h"' % bad)
        self.assertFalse(os.path.exists(self.path("libbad.so")), "nothing written on errors")
        with self.assertRaises(sinter.CompileError) as cm:
            sinter.compile(os.path.join(EX, "fmnist_mlp.json"), self.path("libx.so"), opt_level=7)
        self.assertEqual(str(cm.exception), 'sinter_options_set: opt_level expects 0, 1, 2 or 3, got "7"')
        with self.assertRaises(sinter.CompileError) as cm:
            sinter.compile(os.path.join(EX, "fmnist_mlp.json"), self.path("x.o"), strip=True)
        self.assertIn("--strip: applies to shared libraries only", str(cm.exception))
        with self.assertRaises(TypeError):
            sinter.compile(os.path.join(EX, "fmnist_mlp.json"), self.path("x.so"), optlevel=1)
        self.assertFalse(os.path.exists(self.path("libx.so")) or os.path.exists(self.path("x.o")))


class TestLibrary(Base):
    def test_info(self):
        with open(os.path.join(EX, "fmnist_mlp.json")) as f:
            model = json.load(f)
        info = sinter.Library(self.mlp).info
        self.assertEqual(info.name, "fmnist_mlp")
        self.assertEqual([(t.name, t.dtype, t.shape) for t in info.inputs], [("x", np.float32, ("N", 784))])
        self.assertEqual([(t.name, t.shape) for t in info.outputs], [("logits", ("N", 10))])
        self.assertEqual([(t.name, list(t.shape)) for t in info.params],
                         [(p["name"], p["shape"]) for p in model["params"]])
        self.assertTrue(info.training)
        self.assertEqual([(t.name, t.dtype, t.shape) for t in info.training_inputs], [("y", np.int64, ("N",))])
        self.assertEqual(info.grad_count, sum(int(np.prod(p["shape"])) for p in model["params"]))

    def compare_with_run(self, lib_path, x, name="x", out="logits"):
        """lib.infer against `sinter run LIB --input --output` on the same input, one thread each."""
        np.save(self.path("in.npy"), x)
        sinter_cmd("run", lib_path, "--input", "%s=%s" % (name, self.path("in.npy")),
                   "--output", "%s=%s" % (out, self.path("out.npy")), "--threads", 1)
        want = np.load(self.path("out.npy"))
        got = sinter.Library(lib_path, threads=1).infer({name: x})[out]
        self.assertEqual(got.shape, want.shape)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)

    def test_infer_matches_sinter_run(self):
        self.compare_with_run(self.mlp, self.batch(7)[0])

    def test_lenet5_matches_sinter_run(self):
        lib = self.path("liblenet5.so")
        sinter.compile(os.path.join(EX, "lenet5.json"), lib, opt_level=1)
        x = np.random.default_rng(3).random((3, 1, 28, 28), dtype=np.float32)
        self.compare_with_run(lib, x)

    def test_train_step_equals_grad_apply(self):
        a, b = sinter.Library(self.mlp, threads=1), sinter.Library(self.mlp, threads=1)
        losses = []
        for step in range(3):
            x, y = self.batch(16, seed=step)
            losses.append(a.train_step(x=x, y=y))
            self.assertEqual(b.grad(x=x, y=y), losses[-1])
            g = b.grads
            self.assertEqual(g.shape, (a.info.grad_count,))
            self.assertTrue(np.isfinite(g).all() and np.abs(g).max() > 0)
            b.apply()
        self.assertEqual((a.step, b.step), (3, 3))
        a.save(self.path("a.safetensors"))
        b.save(self.path("b.safetensors"))
        ta, tb = sinter.load_tensors(self.path("a.safetensors")), sinter.load_tensors(self.path("b.safetensors"))
        self.assertEqual(sorted(ta), sorted(tb))
        for k in ta:
            np.testing.assert_array_equal(ta[k], tb[k], err_msg=k)
        # the same batch again and again: the loss falls
        x, y = self.batch(16, seed=9)
        first = a.train_step(x=x, y=y)
        for _ in range(20):
            last = a.train_step(x=x, y=y)
        self.assertLess(last, first * 0.5)

    def test_save_load_round_trip(self):
        a = sinter.Library(self.mlp)
        x, y = self.batch(8)
        for _ in range(2):
            a.train_step(x=x, y=y)
        a.save(self.path("ck.safetensors"))
        saved = sinter.load_tensors(self.path("ck.safetensors"))
        self.assertEqual(saved["fc1.weight"].shape, (256, 784))
        b = sinter.Library(self.mlp)
        self.assertFalse(np.array_equal(b.infer(x=x)["logits"], a.infer(x=x)["logits"]))
        b.load(self.path("ck.safetensors"))
        self.assertEqual(b.step, 2)
        np.testing.assert_array_equal(b.infer(x=x)["logits"], a.infer(x=x)["logits"])
        # params written by Python load as well (fresh optimizer state)
        sinter.save_tensors(self.path("p.safetensors"), {k: v for k, v in saved.items() if "/" not in k
                                                          and not k.startswith("optim.")})
        c = sinter.Library(self.mlp)
        c.load(self.path("p.safetensors"))
        self.assertEqual(c.step, 0)
        np.testing.assert_array_equal(c.infer(x=x)["logits"], a.infer(x=x)["logits"])

    def test_errors(self):
        lib = sinter.Library(self.mlp)
        x, y = self.batch(4)
        with self.assertRaisesRegex(TypeError, r"'x' is float64, the model declares float32"):
            lib.infer(x=x.astype(np.float64))
        with self.assertRaisesRegex(ValueError, r"input 'x': expected shape \[4, 784\], got \(4, 3\)"):
            lib.infer(x=x[:, :3])
        with self.assertRaisesRegex(ValueError, r"expected 2 dimensions"):
            lib.infer(x=x[0])
        with self.assertRaisesRegex(ValueError, r"input 'y': expected shape \[4\], got \(3,\)"):
            lib.train_step(x=x, y=y[:3])
        with self.assertRaisesRegex(TypeError, r"missing array 'x'"):
            lib.infer()
        with self.assertRaisesRegex(TypeError, r"unknown array 'z'"):
            lib.infer(x=x, z=x)
        with self.assertRaises(sinter.Error) as cm:
            lib.train_step(x=x, y=np.array([1, 2, 3, 40]))
        self.assertEqual(str(cm.exception), 'fmnist_mlp_train_step: training input "y" holds 40 at index 3; '
                                             'labels must be in [0, 10)')
        self.assertEqual(cm.exception.status, "SINTER_EINVAL")
        before = lib.infer(x=x)["logits"]
        with self.assertRaises(sinter.Error) as cm:
            lib.load(self.path("none.safetensors"))
        self.assertEqual(cm.exception.status, "SINTER_EIO")
        self.assertIn("none.safetensors: cannot open", str(cm.exception))
        sinter.save_tensors(self.path("wrong.safetensors"), {"fc1.weight": np.zeros((3, 3), np.float32)})
        with self.assertRaises(sinter.Error) as cm:
            lib.load(self.path("wrong.safetensors"))
        self.assertEqual(cm.exception.status, "SINTER_EFORMAT")
        np.testing.assert_array_equal(lib.infer(x=x)["logits"], before, "a failed load changes nothing")
        with self.assertRaises(sinter.Error):
            lib.set_num_threads(0)
        lib.set_num_threads(2)
        with self.assertRaises(sinter.Error) as cm:
            sinter.Library(self.path("nosuch.so"))
        self.assertIn("cannot load the library", str(cm.exception))
        with self.assertRaisesRegex(sinter.Error, "no sinter_model_info"):
            sinter.Library(_any_shared_library())
        lib.close()
        with self.assertRaisesRegex(sinter.Error, "closed"):
            lib.infer(x=x)

    def test_inference_only_model(self):
        model = self.path("scale.json")
        with open(model, "w") as f:
            json.dump(SCALE, f)
        lib = sinter.Library(sinter.compile(model, self.path("libscale2.so")))
        self.assertFalse(lib.info.training)
        np.testing.assert_array_equal(lib.infer(x=[[1, 2, 3], [0, 1, 0]])["y"], [[2, 4, 6], [0, 2, 0]])
        with self.assertRaisesRegex(sinter.Error, "without a training section"):
            lib.train_step(x=np.zeros((1, 3), np.float32))

    def test_external_weights(self):
        lib_path = sinter.compile(os.path.join(EX, "fmnist_mlp.json"), self.path("libext.so"), external_weights=True,
                                  opt_level=1)
        lib = sinter.Library(lib_path)
        self.assertTrue(lib.info.external_weights)
        x = self.batch(2)[0]
        with self.assertRaisesRegex(sinter.Error, "no weights loaded") as cm:
            lib.infer(x=x)
        full = sinter.Library(self.mlp)
        full.save(self.path("init.safetensors"))
        lib.load(self.path("init.safetensors"))
        np.testing.assert_array_equal(lib.infer(x=x)["logits"], full.infer(x=x)["logits"])


def _any_shared_library():
    """A shared library that is not sinter's (libz, which every build here has)."""
    for d in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib", "/lib"):
        p = os.path.join(d, "libz.so.1")
        if os.path.exists(p):
            return p
    raise unittest.SkipTest("no libz.so.1 found")


@unittest.skipUnless(os.path.exists(os.path.join(FMNIST, "t10k-images-idx3-ubyte.gz")) and shutil.which("cc"),
                     "needs Debian's dataset-fashion-mnist and a C compiler")
class TestCExample(Base):
    def test_same_predictions_as_classify_fmnist(self):
        """Train briefly in Python, then classify test images from Python and with the C example."""
        lib = sinter.Library(self.mlp, threads=1)
        images = read_idx(os.path.join(FMNIST, "train-images-idx3-ubyte.gz"), 2048)
        labels = read_idx(os.path.join(FMNIST, "train-labels-idx1-ubyte.gz"), 2048).astype(np.int64)
        x = images.reshape(-1, 784).astype(np.float32) / 255
        for i in range(0, 2048, 64):
            lib.train_step(x=x[i:i + 64], y=labels[i:i + 64])
        lib.save(self.path("trained.safetensors"))
        exe = self.path("classify")
        subprocess.run(["cc", "-O1", "-I", self.tmp, os.path.join(EX, "classify_fmnist.c"), "-L", self.tmp,
                        "-lfmnist_mlp", "-lz", "-Wl,-rpath," + self.tmp, "-o", exe], check=True)
        out = subprocess.run([exe, "--count", "100", "--weights", self.path("trained.safetensors"), "--threads", "1"],
                             capture_output=True, text=True, check=True).stdout
        c_pred = [int(m.group(1)) for m in re.finditer(r"predicted .*?\((\d+)\)", out)]
        test = read_idx(os.path.join(FMNIST, "t10k-images-idx3-ubyte.gz"), 100).reshape(-1, 784)
        py_pred = lib.infer(x=test.astype(np.float32) / 255)["logits"].argmax(axis=1)
        self.assertEqual(len(c_pred), 100)
        self.assertEqual(c_pred, py_pred.tolist())
        truth = read_idx(os.path.join(FMNIST, "t10k-labels-idx1-ubyte.gz"), 100)
        self.assertGreaterEqual(int((py_pred == truth).sum()), 60, "a trained MLP gets most test images right")


class TestTensors(unittest.TestCase):
    def test_round_trip_and_errors(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "t.safetensors")
            t = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b/c": np.array([1, -2], np.int64),
                 "s": np.float64(2.5) * np.ones((), np.float64), "e": np.zeros((0, 4), np.uint8)}
            sinter.save_tensors(p, t)
            back = sinter.load_tensors(p)
            self.assertEqual(sorted(back), sorted(t))
            for k in t:
                self.assertEqual(back[k].dtype, t[k].dtype)
                np.testing.assert_array_equal(back[k], t[k])
            with open(p, "r+b") as f:
                f.write(b"\xff" * 8)
            with self.assertRaisesRegex(ValueError, "header length"):
                sinter.load_tensors(p)
            with self.assertRaises(TypeError):
                sinter.save_tensors(p, {"c": np.zeros(2, np.complex64)})


if __name__ == "__main__":
    unittest.main()
