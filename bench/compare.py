#!/usr/bin/python3
"""sinter against PyTorch eager and ONNX Runtime, in one run; writes docs/benchmarks.md.

    bench/compare.py --sinter build/sinter [--out docs/benchmarks.md] [--rounds 5] [--seconds 0.5]
                     [--models M.json ...] [--batches 1 64] [--threads 1 2] [--train-threads 2]
                     [--ort-lib libonnxruntime.so.1] [--sgemm 64 128 ...] [--no-sgemm]

Per model (default: examples/fmnist_mlp.json, examples/lenet5.json and the anchor-size models
bench/models/resnet_anchor.json, bench/models/transformer_anchor.json):

1. `sinter compile -O3` for this machine; the params and the logits of `sinter run --interp` on
   3 random inputs are exported; bench/torch_graph.py builds the PyTorch module with those params
   and must match the logits; `sinter run LIB.so` must match them too.
2. The module is exported with torch.onnx (same weights, fixed batch); ONNX Runtime's output at
   each batch (bench/ort_bench.c through its C API) must match the compiled library's.
3. Every cell (model, batch, threads) is measured in --rounds rounds; each round runs sinter
   (`sinter bench LIB --json`), PyTorch (a worker process, torch.set_num_threads,
   inference_mode) and ONNX Runtime for --seconds each, the order rotating from round to round,
   so all three see the same machine load. A cell's figure is the median over rounds of each
   round's median latency; min is the fastest single call seen.
4. The training step (`sinter bench LIB --train`; PyTorch: zero_grad, forward, cross-entropy,
   backward, Adam step with the model's hyperparameters) at batch 64, same rounds.
5. Per-call overhead: ONNX Runtime's C API, ONNX Runtime from Node (onnxruntime-node, when node
   finds it) and sinter, each on a model that adds 1 to one float.
6. sgemm: an [N, N] x [N, N] MatMul model through `sinter bench` (single thread) against NumPy's
   matmul (OpenBLAS, OPENBLAS_NUM_THREADS=1), and the single-core FMA peak (bench/fma_peak.c).

ONNX Runtime is optional: --ort-lib, else $SINTER_ORT_LIB, else the npm package onnxruntime-node
under $SINTER_ORT_DIR (default ~/.cache/sinter-bench/ort), installed with
`npm install --ignore-scripts onnxruntime-node` there (its CPU library ships in the package).
Needs /usr/bin/python3 with python3-torch, python3-numpy, python3-onnx, and a C compiler.
Timings never decide pass/fail: this script fails only when something cannot run or an output
check fails.
"""
import argparse
import glob
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_MODELS = ["examples/fmnist_mlp.json", "examples/lenet5.json", "bench/models/resnet_anchor.json",
                  "bench/models/transformer_anchor.json"]
TOL = 2e-4   # max abs difference of the logits (float32 rounding, different summation orders)


def say(*a):
    print("compare:", *a, file=sys.stderr, flush=True)


def run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stderr.strip()[-2000:]))
    return r.stdout


# ---- the PyTorch worker: one process per model, commands on stdin, JSON lines on stdout --------

def torch_worker(model_path, params_dir):
    import torch
    sys.path.insert(0, HERE)
    import torch_graph
    with open(model_path) as f:
        model = json.load(f)
    params = {p["name"]: np.load(os.path.join(params_dir, "p%d.npy" % i)) for i, p in enumerate(model["params"])}
    module = torch_graph.load(model_path, params).eval()
    shape = [d for d in model["inputs"][0]["shape"][1:]]
    torch.manual_seed(0)
    opt = loss = None
    for line in sys.stdin:
        cmd = json.loads(line)
        torch.set_num_threads(cmd.get("threads", 1))
        if cmd["do"] == "check":
            x = torch.from_numpy(np.load(cmd["x"]))
            with torch.inference_mode():
                np.save(cmd["out"], module(x).numpy())
            print(json.dumps({"ok": True}), flush=True)
        elif cmd["do"] == "export":
            x = torch.rand([cmd["batch"]] + shape)
            with torch.no_grad():
                torch.onnx.export(module, (x,), cmd["out"], input_names=[model["inputs"][0]["name"]],
                                  output_names=[model["outputs"][0]], opset_version=cmd.get("opset", 17))
            print(json.dumps({"ok": True}), flush=True)
        elif cmd["do"] == "infer":
            module.eval()
            x = torch.rand([cmd["batch"]] + shape)
            with torch.inference_mode():
                t = timed(lambda: module(x), cmd["seconds"])
            print(json.dumps(t), flush=True)
        elif cmd["do"] == "train":
            if opt is None:
                opt = torch_graph.optimizer(model, module)
                loss = torch_graph.loss_fn(model)
            module.train()
            b = cmd["batch"]
            x = torch.rand([b] + shape)
            y = torch.randint(0, cmd["classes"], (b,))

            def step():
                opt.zero_grad(set_to_none=True)
                loss(module(x), y).backward()
                opt.step()
            t = timed(step, cmd["seconds"])
            module.eval()
            print(json.dumps(t), flush=True)


def timed(fn, seconds):
    t0 = time.monotonic()
    for _ in range(10):
        fn()
        if time.monotonic() - t0 > 0.5:
            break
    times = []
    start = time.monotonic()
    while len(times) < 3 or time.monotonic() - start < seconds:
        a = time.perf_counter()
        fn()
        times.append(time.perf_counter() - a)
    return {"median_ms": statistics.median(times) * 1e3, "min_ms": min(times) * 1e3, "calls": len(times)}


class Worker:
    def __init__(self, model_path, params_dir, env=None):
        self.p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--torch-worker", model_path,
                                   params_dir], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)

    def ask(self, **cmd):
        self.p.stdin.write(json.dumps(cmd) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("the PyTorch worker died on %r" % (cmd,))
        return json.loads(line)

    def close(self):
        self.p.stdin.close()
        self.p.wait()


# ---- ONNX Runtime ------------------------------------------------------------------------------

def find_ort(arg):
    if arg:
        return arg
    if os.environ.get("SINTER_ORT_LIB"):
        return os.environ["SINTER_ORT_LIB"]
    d = os.environ.get("SINTER_ORT_DIR", os.path.expanduser("~/.cache/sinter-bench/ort"))
    arch = {"x86_64": "x64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    hits = sorted(glob.glob(os.path.join(d, "node_modules/onnxruntime-node/bin/napi-v*/linux", arch,
                                         "libonnxruntime.so*")))
    return hits[-1] if hits else None


def build_c(src, out, flags=()):
    cc = os.environ.get("CC", "cc")
    run([cc, "-O2", "-std=c11", "-D_GNU_SOURCE", *flags, "-o", out, src, "-ldl"])
    return out


def ort_call(harness, lib, onnx_path, threads, seconds, in_name, x, out_name, out_shape, work):
    xin = os.path.join(work, "ort_in.bin")
    xout = os.path.join(work, "ort_out.bin")
    np.ascontiguousarray(x, dtype=np.float32).tofile(xin)
    r = json.loads(run([harness, lib, onnx_path, str(threads), str(seconds), in_name, ",".join(map(str, x.shape)),
                        xin, out_name, ",".join(map(str, out_shape)), xout]))
    r["output"] = np.fromfile(xout, dtype=np.float32).reshape(out_shape)
    return r


# ---- sinter --------------------------------------------------------------------------------------

def sinter_bench(sinter, lib, batch, threads, seconds, train=False):
    cmd = [sinter, "bench", lib, "--batch", str(batch), "--threads", str(threads), "--seconds", str(seconds),
           "--json"]
    if train:
        cmd.append("--train")
    return json.loads(run(cmd))


def export_params(sinter, model_path, model, x, work):
    """Params of the model as sinter initializes them, and the interpreter's logits on x."""
    np.save(os.path.join(work, "x.npy"), x)
    out = model["outputs"][0]
    cmd = [sinter, "run", model_path, "--interp", "--show", "0", "--input", "x=" + os.path.join(work, "x.npy"),
           "--output", "%s=%s" % (out, os.path.join(work, "logits.npy"))]
    for i, p in enumerate(model["params"]):
        cmd += ["--output", "%s=%s" % (p["name"], os.path.join(work, "p%d.npy" % i))]
    run(cmd)
    return np.load(os.path.join(work, "logits.npy"))


def sinter_outputs(sinter, lib, model, x, work):
    np.save(os.path.join(work, "xs.npy"), x)
    path = os.path.join(work, "ys.npy")
    run([sinter, "run", lib, "--show", "0", "--threads", "1", "--input",
         "%s=%s" % (model["inputs"][0]["name"], os.path.join(work, "xs.npy")), "--output",
         "%s=%s" % (model["outputs"][0], path)])
    return np.load(path)


def maxdiff(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


# ---- the measurement ---------------------------------------------------------------------------

def rotate(items, r):
    k = r % len(items)
    return items[k:] + items[:k]


def model_bench(a, sinter, path, harness, ort_lib, work, results):
    with open(path) as f:
        model = json.load(f)
    name = model["name"]
    mw = os.path.join(work, name)
    os.makedirs(mw, exist_ok=True)
    say(name + ": compiling -O3")
    lib = os.path.join(mw, "lib%s.so" % name)
    run([sinter, "compile", path, "-O3", "-o", lib])
    stats = run([sinter, "check", path]).strip()
    in_shape = [int(d) for d in model["inputs"][0]["shape"][1:]]
    rng = np.random.default_rng(1)
    x3 = rng.random([3] + in_shape, dtype=np.float32)
    want = export_params(sinter, path, model, x3, mw)
    worker = Worker(path, mw)
    entry = {"model": name, "stats": stats, "cells": [], "train": [], "checks": {}}
    try:
        worker.ask(do="check", x=os.path.join(mw, "x.npy"), out=os.path.join(mw, "torch.npy"))
        d_torch = maxdiff(np.load(os.path.join(mw, "torch.npy")), want)
        d_lib = maxdiff(sinter_outputs(sinter, lib, model, x3, mw), want)
        entry["checks"].update(torch_vs_interp=d_torch, lib_vs_interp=d_lib, max_abs_logit=float(np.max(np.abs(want))))
        if d_torch > TOL or d_lib > TOL:
            raise RuntimeError("%s: outputs differ: torch %.3g, compiled %.3g from the interpreter" %
                               (name, d_torch, d_lib))
        onnx = {}
        if harness:
            for b in a.batches:
                onnx[b] = os.path.join(mw, "%s_b%d.onnx" % (name, b))
                worker.ask(do="export", batch=b, out=onnx[b])
                xb = rng.random([b] + in_shape, dtype=np.float32)
                ref = sinter_outputs(sinter, lib, model, xb, mw)
                r = ort_call(harness, ort_lib, onnx[b], 1, 0.01, model["inputs"][0]["name"], xb,
                             model["outputs"][0], ref.shape, mw)
                d = maxdiff(r["output"], ref)
                entry["checks"]["ort_vs_lib_b%d" % b] = d
                if d > TOL:
                    raise RuntimeError("%s: ONNX Runtime's output differs from sinter's by %.3g at batch %d" %
                                       (name, d, b))
        for b in a.batches:
            xb = rng.random([b] + in_shape, dtype=np.float32)
            for t in a.threads:
                runs = {"sinter": [], "torch": [], "ort": []}
                fw = ["sinter", "torch"] + (["ort"] if harness else [])
                for r in range(a.rounds):
                    for f in rotate(fw, r):
                        if f == "sinter":
                            runs[f].append(sinter_bench(sinter, lib, b, t, a.seconds))
                        elif f == "torch":
                            runs[f].append(worker.ask(do="infer", batch=b, threads=t, seconds=a.seconds))
                        else:
                            o = ort_call(harness, ort_lib, onnx[b], t, a.seconds, model["inputs"][0]["name"], xb,
                                         model["outputs"][0], [b] + [int(v) for v in out_shape(model, lib, sinter)],
                                         mw)
                            o.pop("output")
                            runs[f].append(o)
                cell = {"batch": b, "threads": t}
                for f in fw:
                    cell[f] = summarize(runs[f])
                say("%s: batch %d, %d thread(s): %s" % (name, b, t, brief(cell)))
                entry["cells"].append(cell)
        if "training" in model:
            classes = int(out_shape(model, lib, sinter)[0])
            for t in a.train_threads:
                runs = {"sinter": [], "torch": []}
                for r in range(a.rounds):
                    for f in rotate(["sinter", "torch"], r):
                        if f == "sinter":
                            runs[f].append(sinter_bench(sinter, lib, a.train_batch, t, a.seconds, train=True))
                        else:
                            runs[f].append(worker.ask(do="train", batch=a.train_batch, threads=t, seconds=a.seconds,
                                                      classes=classes))
                cell = {"batch": a.train_batch, "threads": t, "sinter": summarize(runs["sinter"]),
                        "torch": summarize(runs["torch"])}
                say("%s: train_step batch %d, %d thread(s): %s" % (name, a.train_batch, t, brief(cell)))
                entry["train"].append(cell)
    finally:
        worker.close()
    results["models"].append(entry)


_OUT_SHAPES = {}


def out_shape(model, lib, sinter):
    """The output's dims after the batch (from `sinter check -v`-free means: run at batch 1)."""
    if lib not in _OUT_SHAPES:
        with tempfile.TemporaryDirectory() as tmp:
            x = np.zeros([1] + [int(d) for d in model["inputs"][0]["shape"][1:]], dtype=np.float32)
            _OUT_SHAPES[lib] = list(sinter_outputs(sinter, lib, model, x, tmp).shape[1:])
    return _OUT_SHAPES[lib]


def summarize(runs):
    return {"median_ms": statistics.median(r["median_ms"] for r in runs), "min_ms": min(r["min_ms"] for r in runs),
            "rounds": [round(r["median_ms"], 6) for r in runs]}


def brief(cell):
    return ", ".join("%s %.4g ms" % (f, cell[f]["median_ms"]) for f in ("sinter", "torch", "ort") if f in cell)


# ---- per-call overhead -------------------------------------------------------------------------

TINY = {"sinter": 1, "name": "tiny", "inputs": [{"name": "x", "dtype": "float32", "shape": ["N", 1]}],
        "outputs": ["y"], "constants": [{"name": "one", "dtype": "float32", "shape": [], "data": [1.0]}],
        "nodes": [{"name": "add", "op": "Add", "inputs": ["x", "one"], "outputs": ["y"]}]}

NODE_TIMER = r"""
const ort = require(process.argv[2]);
(async () => {
  const s = await ort.InferenceSession.create(process.argv[3], {intraOpNumThreads: 1, interOpNumThreads: 1});
  const x = new ort.Tensor('float32', new Float32Array([0.5]), [1, 1]);
  for (let i = 0; i < 2000; i++) await s.run({x});
  const t = [];
  const end = Date.now() + 1000 * Number(process.argv[4]);
  while (Date.now() < end || t.length < 3) {
    const a = process.hrtime.bigint();
    await s.run({x});
    t.push(Number(process.hrtime.bigint() - a) / 1e6);
  }
  t.sort((p, q) => p - q);
  console.log(JSON.stringify({median_ms: t[t.length >> 1], min_ms: t[0], calls: t.length}));
})();
"""


def overhead(a, sinter, harness, ort_lib, work, results):
    d = os.path.join(work, "tiny")
    os.makedirs(d, exist_ok=True)
    mp = os.path.join(d, "tiny.json")
    with open(mp, "w") as f:
        json.dump(TINY, f)
    lib = os.path.join(d, "libtiny.so")
    run([sinter, "compile", mp, "-O3", "-o", lib])
    rows = {"sinter": []}
    onnx = None
    if harness:
        # the same graph by hand: torch.onnx is not needed for one Add
        onnx = os.path.join(d, "tiny.onnx")
        code = ("import onnx, onnx.helper as h\n"
                "g = h.make_graph([h.make_node('Add', ['x', 'one'], ['y'])], 'tiny',"
                " [h.make_tensor_value_info('x', onnx.TensorProto.FLOAT, [1, 1])],"
                " [h.make_tensor_value_info('y', onnx.TensorProto.FLOAT, [1, 1])],"
                " [h.make_tensor('one', onnx.TensorProto.FLOAT, [], [1.0])])\n"
                "onnx.save(h.make_model(g, opset_imports=[h.make_opsetid('', 13)]), %r)\n" % onnx)
        run([sys.executable, "-c", code])
        rows["ort_c"] = []
        node_pkg = os.path.join(os.path.dirname(ort_lib), "..", "..", "..", "..")
        node_pkg = os.path.normpath(node_pkg)
        if shutil.which("node") and os.path.isfile(os.path.join(node_pkg, "package.json")):
            rows["ort_node"] = []
            with open(os.path.join(d, "t.js"), "w") as f:
                f.write(NODE_TIMER)
    for r in range(a.rounds):
        for f in rotate(sorted(rows), r):
            if f == "sinter":
                rows[f].append(sinter_bench(sinter, lib, 1, 1, a.seconds))
            elif f == "ort_c":
                o = ort_call(harness, ort_lib, onnx, 1, a.seconds, "x", np.zeros((1, 1), np.float32), "y", [1, 1], d)
                o.pop("output")
                rows[f].append(o)
            else:
                rows[f].append(json.loads(run(["node", os.path.join(d, "t.js"), node_pkg, onnx, str(a.seconds)])))
    results["overhead"] = {f: summarize(v) for f, v in rows.items()}
    say("per-call overhead: " + ", ".join("%s %.4g us" % (f, 1e3 * v["median_ms"])
                                          for f, v in results["overhead"].items()))


# ---- sgemm -------------------------------------------------------------------------------------

NUMPY_GEMM = r"""
import sys, json, time, statistics
import numpy as np
n, seconds = int(sys.argv[1]), float(sys.argv[2])
a = np.random.rand(n, n).astype(np.float32); b = np.random.rand(n, n).astype(np.float32)
c = np.empty((n, n), np.float32)
for _ in range(3): np.matmul(a, b, out=c)
t = []; end = time.monotonic() + seconds
while time.monotonic() < end or len(t) < 3:
    s = time.perf_counter(); np.matmul(a, b, out=c); t.append(time.perf_counter() - s)
print(json.dumps({"median_ms": statistics.median(t) * 1e3, "min_ms": min(t) * 1e3}))
"""


def sgemm(a, sinter, work, results):
    d = os.path.join(work, "sgemm")
    os.makedirs(d, exist_ok=True)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    peak_bin = build_c(os.path.join(HERE, "fma_peak.c"), os.path.join(d, "fma_peak"), ["-march=native"])
    peaks = [json.loads(run([peak_bin])) for _ in range(3)]
    peak = max(p["gflops"] for p in peaks)
    rows = []
    for n in a.sgemm:
        mp = os.path.join(d, "mm%d.json" % n)
        with open(mp, "w") as f:
            json.dump({"sinter": 1, "name": "mm%d" % n, "inputs": [{"name": "x", "dtype": "float32",
                                                                    "shape": ["N", n]}],
                       "outputs": ["y"], "params": [{"name": "w", "dtype": "float32", "shape": [n, n],
                                                     "init": {"kind": "uniform", "low": -1, "high": 1}}],
                       "nodes": [{"name": "mm", "op": "MatMul", "inputs": ["x", "w"], "outputs": ["y"]}]}, f)
        lib = os.path.join(d, "libmm%d.so" % n)
        run([sinter, "compile", mp, "-O3", "-o", lib])
        s, b = [], []
        for r in range(a.rounds):
            for f in rotate(["sinter", "blas"], r):
                if f == "sinter":
                    s.append(sinter_bench(sinter, lib, n, 1, a.seconds))
                else:
                    b.append(json.loads(run([sys.executable, "-c", NUMPY_GEMM, str(n), str(a.seconds)], env=env)))
        flop = 2.0 * n * n * n
        row = {"n": n, "sinter": summarize(s), "blas": summarize(b)}
        row["sinter_gflops"] = flop / row["sinter"]["median_ms"] * 1e-6
        row["blas_gflops"] = flop / row["blas"]["median_ms"] * 1e-6
        say("sgemm %d: sinter %.1f GFLOP/s, OpenBLAS %.1f GFLOP/s" % (n, row["sinter_gflops"], row["blas_gflops"]))
        rows.append(row)
    results["sgemm"] = {"peak_gflops": peak, "peak_kind": peaks[0]["kind"], "rows": rows}


# ---- the report --------------------------------------------------------------------------------

def fmt_ms(ms):
    if ms >= 1000:
        return "%.2f s" % (ms / 1000)
    if ms >= 1:
        return "{:,.0f} µs".format(ms * 1000)
    return "%.1f µs" % (ms * 1000)


def ratio(ref, ours):
    return "%.2f" % (ref["median_ms"] / ours["median_ms"])


def report(results):
    L = []
    w = L.append
    m = results["machine"]
    w("# Benchmarks: sinter vs ONNX Runtime and PyTorch eager")
    w("")
    w("Written by `bench/run.sh` (`bench/compare.py`; do not edit by hand, rerun it). One run, all three")
    w("frameworks on the same machine at the same time: every cell is measured in %d rounds, each" % results["rounds"])
    w("round running sinter, PyTorch and ONNX Runtime for %.2g s each in rotating order, so all see the" %
      results["seconds"])
    w("same load; a figure is the **median over the rounds of each round's median latency** (ratios are of")
    w("those). The machine is shared with other work: the load average is below, and single rounds are")
    w("listed in the JSON the script saves (`--json`).")
    w("")
    w("- CPU: **%s**, %s cores (ISA: %s); load average %s at the start, %s at the end" %
      (m["cpu"], m["cores"], m["isa"], m["load_start"], m["load_end"]))
    w("- date: %s; commit: %s; %s" % (m["date"], m["commit"], m["sinter"]))
    w("- sinter: libraries from `sinter compile -O3` (host CPU), timed by `sinter bench LIB.so --json`")
    w("  (inference: `NAME_infer`; training: `sinter bench --train`, `NAME_train_step`)")
    w("- PyTorch %s eager (Debian python3-torch, BLAS: %s), `torch.set_num_threads(T)`, `inference_mode`;" %
      (m["torch"], m["libblas"]))
    w("  the module is the model JSON run node by node (`bench/torch_graph.py`: F.linear, F.conv2d, ...)")
    if m.get("ort"):
        w("- ONNX Runtime %s through its C API (`bench/ort_bench.c`, library from the npm package" % m["ort"])
        w("  onnxruntime-node), the PyTorch module exported by torch.onnx (opset 17, fixed batch), all graph")
        w("  optimizations, T intra-op threads (spinning, ORT's default), 1 inter-op thread")
    else:
        w("- ONNX Runtime: not found (see bench/README.md), not measured")
    w("")
    w("Ratios above 1 mean sinter is faster: **ORT/sinter** = ORT median / sinter median, likewise torch.")
    w("")
    w("## Inference")
    w("")
    w("| model | MFLOP/sample | batch | sinter 1T / 2T | ORT 1T / 2T | torch 1T / 2T | ORT/sinter 1T / 2T | torch/sinter 1T / 2T |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|")
    for e in results["models"]:
        by = {}
        for c in e["cells"]:
            by.setdefault(c["batch"], {})[c["threads"]] = c
        for b in sorted(by):
            ts = sorted(by[b])
            def col(f, fn):
                return " / ".join(fn(by[b][t]) if f in by[b][t] else "–" for t in ts)
            w("| %s | %s | %d | %s | %s | %s | %s | %s |" % (
                e["model"], e.get("mflops", "?"), b,
                col("sinter", lambda c: fmt_ms(c["sinter"]["median_ms"])),
                col("ort", lambda c: fmt_ms(c["ort"]["median_ms"])),
                col("torch", lambda c: fmt_ms(c["torch"]["median_ms"])),
                col("ort", lambda c: "**%s**" % ratio(c["ort"], c["sinter"])),
                col("torch", lambda c: "**%s**" % ratio(c["torch"], c["sinter"]))))
    w("")
    w("Threads column order: %s." % " / ".join("%dT" % t for t in results["threads"]))
    cells = [c for e in results["models"] for c in e["cells"] if "ort" in c]
    if cells:
        import math
        rs = [c["ort"]["median_ms"] / c["sinter"]["median_ms"] for c in cells]
        w("Faster than ONNX Runtime in %d of %d cells; geometric mean ORT/sinter %.2fx; worst %.2fx." %
          (sum(r > 1 for r in rs), len(rs), math.exp(sum(math.log(r) for r in rs) / len(rs)), min(rs)))
    w("")
    w("## Training step (Adam, batch %d)" % results["train_batch"])
    w("")
    w("| model | threads | sinter | torch | torch/sinter |")
    w("|---|---:|---:|---:|---:|")
    for e in results["models"]:
        for c in e["train"]:
            w("| %s | %d | %s | %s | **%s** |" % (e["model"], c["threads"], fmt_ms(c["sinter"]["median_ms"]),
                                                 fmt_ms(c["torch"]["median_ms"]), ratio(c["torch"], c["sinter"])))
    w("")
    w("PyTorch's step: `zero_grad(set_to_none=True)`, forward in train mode, `F.cross_entropy`, `backward`,")
    w("`torch.optim.Adam` with the model's hyperparameters; sinter's: one `NAME_train_step` call (forward,")
    w("loss, backward, Adam update) on random inputs and labels.")
    if "overhead" in results:
        o = results["overhead"]
        w("")
        w("## Per-call overhead")
        w("")
        w("One call of a model that adds 1 to one float, 1 thread (median over the rounds):")
        w("")
        w("| | median | min |")
        w("|---|---:|---:|")
        names = {"sinter": "sinter `NAME_infer`", "ort_c": "ONNX Runtime C API `Run`",
                 "ort_node": "ONNX Runtime from Node (onnxruntime-node `session.run`, awaited)"}
        for f in ("sinter", "ort_c", "ort_node"):
            if f in o:
                w("| %s | %.2f µs | %.2f µs |" % (names[f], o[f]["median_ms"] * 1e3, o[f]["min_ms"] * 1e3))
        w("")
        w("The ORT cells above are timed through the C API, so they do not include Node's cost.")
    if "sgemm" in results:
        s = results["sgemm"]
        w("")
        w("## sgemm")
        w("")
        w("C = A·B, all [N, N] float32, 1 thread: sinter's generated GEMM (a one-MatMul model, the weight")
        w("B a compile-time constant, `sinter bench --batch N`) against NumPy's `matmul` on OpenBLAS")
        w("(`OPENBLAS_NUM_THREADS=1`); 2N³ FLOP per call. Measured single-core FMA peak: **%.1f GFLOP/s**" %
          s["peak_gflops"])
        w("(`bench/fma_peak.c`, %s)." % s["peak_kind"])
        w("")
        w("| N | sinter GFLOP/s | OpenBLAS GFLOP/s | sinter/OpenBLAS | sinter % of peak | OpenBLAS % of peak |")
        w("|---:|---:|---:|---:|---:|---:|")
        for r in s["rows"]:
            w("| %d | %.1f | %.1f | **%.2f** | %.0f%% | %.0f%% |" % (
                r["n"], r["sinter_gflops"], r["blas_gflops"], r["sinter_gflops"] / r["blas_gflops"],
                100 * r["sinter_gflops"] / s["peak_gflops"], 100 * r["blas_gflops"] / s["peak_gflops"]))
    w("")
    w("## Are they the same model?")
    w("")
    w("Before timing: the PyTorch module (sinter's initial params loaded) and the compiled library against")
    w("`sinter run --interp` on 3 random inputs; ONNX Runtime against the compiled library at each batch.")
    w("")
    w("| model | params and size | torch vs interp | compiled vs interp | ORT vs compiled | largest logit |")
    w("|---|---|---:|---:|---:|---:|")
    for e in results["models"]:
        c = e["checks"]
        orts = [v for k, v in c.items() if k.startswith("ort_vs_lib")]
        w("| %s | %s | %.2g | %.2g | %s | %.3g |" % (e["model"], e["stats_short"], c["torch_vs_interp"],
                                                     c["lib_vs_interp"], "%.2g" % max(orts) if orts else "–",
                                                     c["max_abs_logit"]))
    w("")
    w("## Caveats")
    w("")
    w("- The machine is shared and has 2 cores: 2-thread figures are the noisiest (a descheduled thread")
    w("  holds up every parallel region). Medians of per-round medians resist outliers, not a busy machine.")
    w("- PyTorch eager's time includes Python and dispatcher overhead per layer, which is what eager")
    w("  execution costs; at batch 1 it dominates.")
    w("- The MLP and LeNet-5 are the examples (`examples/`); the residual CNN and the transformer layer")
    w("  are `bench/models/` (sizes of the issue's anchors).")
    return "\n".join(L) + "\n"


def machine(sinter, ort_lib):
    def sh(c):
        try:
            return subprocess.run(c, shell=True, stdout=subprocess.PIPE, text=True).stdout.strip()
        except OSError:
            return "?"
    commit = sh("git -C %s rev-parse --short HEAD" % ROOT)
    if sh("git -C %s status --porcelain --untracked-files=no" % ROOT):
        commit += " + uncommitted changes"
    import torch
    ort = None
    if ort_lib:
        pkg = os.path.normpath(os.path.join(os.path.dirname(ort_lib), "..", "..", "..", "..", "package.json"))
        if os.path.isfile(pkg):
            with open(pkg) as f:
                ort = json.load(f).get("version")
        ort = ort or os.path.basename(ort_lib)
    return {"cpu": sh("lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1"), "cores": sh("nproc"),
            "isa": sh("grep -o -w -E 'avx512f|avx2|fma|neon|asimd' /proc/cpuinfo | sort -u | tr '\\n' ' '").strip(),
            "load_start": sh("cut -d' ' -f1-3 /proc/loadavg"), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "commit": commit, "sinter": run([sinter, "--version"]).strip(), "torch": torch.__version__,
            "libblas": os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3"), "ort": ort}


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--torch-worker":
        return torch_worker(sys.argv[2], sys.argv[3])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sinter", default=os.path.join(ROOT, "build", "sinter"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "benchmarks.md"))
    ap.add_argument("--json", help="also save the raw results here")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=0.5)
    ap.add_argument("--models", nargs="+", default=[os.path.join(ROOT, m) for m in DEFAULT_MODELS])
    ap.add_argument("--batches", nargs="+", type=int, default=[1, 64])
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--train-batch", type=int, default=64)
    ap.add_argument("--train-threads", nargs="+", type=int, default=[2])
    ap.add_argument("--ort-lib")
    ap.add_argument("--no-ort", action="store_true")
    ap.add_argument("--sgemm", nargs="+", type=int, default=[64, 128, 256, 512, 1024, 2048])
    ap.add_argument("--no-sgemm", action="store_true")
    ap.add_argument("--no-overhead", action="store_true")
    a = ap.parse_args()
    sinter = os.path.abspath(a.sinter)
    ort_lib = None if a.no_ort else find_ort(a.ort_lib)
    work = tempfile.mkdtemp(prefix="sinter-compare.")
    try:
        harness = build_c(os.path.join(HERE, "ort_bench.c"), os.path.join(work, "ort_bench")) if ort_lib else None
        if not ort_lib:
            say("ONNX Runtime not found: measuring sinter and PyTorch only")
        results = {"machine": machine(sinter, ort_lib), "rounds": a.rounds, "seconds": a.seconds,
                   "threads": a.threads, "train_batch": a.train_batch, "models": []}
        for path in a.models:
            model_bench(a, sinter, os.path.abspath(path), harness, ort_lib, work, results)
        for e in results["models"]:
            s = e["stats"]
            # "name: ok: 1 input, ..., 138,346 params (540.4 KiB...), 41.4 MFLOPs per sample, ..."
            parts = [p.strip() for p in s.split(":", 2)[-1].split(",")]
            e["mflops"] = next((p.split(" MFLOPs")[0] for p in parts if "MFLOPs per sample" in p), None)
            if e["mflops"] is None:
                k = next((p.split(" KFLOPs")[0] for p in parts if "KFLOPs per sample" in p), None)
                e["mflops"] = "%.2f" % (float(k) / 1000) if k else "?"
            e["stats_short"] = s.split("nodes,", 1)[-1].split("FLOPs")[0].rsplit(",", 1)[0].strip()
        if not a.no_overhead:
            overhead(a, sinter, harness, ort_lib, work, results)
        if not a.no_sgemm:
            sgemm(a, sinter, work, results)
        results["machine"]["load_end"] = open("/proc/loadavg").read().split()[:3]
        results["machine"]["load_end"] = " ".join(results["machine"]["load_end"])
        if a.json:
            with open(a.json, "w") as f:
                json.dump(results, f, indent=1)
        text = report(results)
        tmp = a.out + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, a.out)
        say("wrote " + a.out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
