#!/usr/bin/python3
"""PyTorch eager reference for bench/run.sh: the four example models written as ordinary
nn.Modules with the same layers and shapes as examples/*.json, timed like `sinter bench`.

    torch_ref.py MODEL --batch B --threads T [--seconds S | --iters I] [--warmup W]
        prints one JSON object: median/p90/min/mean latency in ms of one forward call
        (torch.inference_mode, eval mode, random float inputs uniform in [0, 1)).
    torch_ref.py MODEL --check SINTER --source DIR
        checks that the module is the model sinter runs: exports the params and the logits of
        `SINTER run DIR/examples/MODEL.json --interp` on one input, loads the params into the
        module and prints the max abs difference of the logits (as JSON).

Run it with /usr/bin/python3 (Debian's python3-torch 1.13 and python3-numpy).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


# Input standardization of examples/fmnist_mlp.json and examples/lenet5.json (constants pixel_mean,
# pixel_std; nodes normalize.sub, normalize.div): Fashion-MNIST's training-set pixel mean and std.
PIXEL_MEAN = 0.2860406
PIXEL_STD = 0.3530242


class FmnistMlp(nn.Module):
    """examples/fmnist_mlp.json: (x - pixel_mean) / pixel_std, Gemm 784->256, Relu, Gemm 256->10
    (weights [out, in])."""
    input_shape = (784,)

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x):
        x = (x - PIXEL_MEAN) / PIXEL_STD
        return self.fc2(F.relu(self.fc1(x)))


class LeNet5(nn.Module):
    """examples/lenet5.json: (x - pixel_mean) / pixel_std, then LeNet-5."""
    input_shape = (1, 28, 28)

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = (x - PIXEL_MEAN) / PIXEL_STD
        x = F.max_pool2d(F.relu(self.conv1(x)), 2, 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2, 2)
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class Block(nn.Module):
    """A residual block of examples/resnet_small.json (projection on the skip when strided)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.proj = self.proj_bn = None
        if stride != 1 or cin != cout:
            self.proj = nn.Conv2d(cin, cout, 1, stride, 0, bias=False)
            self.proj_bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        skip = self.proj_bn(self.proj(x)) if self.proj is not None else x
        return F.relu(y + skip)


class ResnetSmall(nn.Module):
    """examples/resnet_small.json."""
    input_shape = (1, 28, 28)

    def __init__(self):
        super().__init__()
        self.stem_conv = nn.Conv2d(1, 16, 3, 1, 1, bias=False)
        self.stem_bn = nn.BatchNorm2d(16)
        self.block1 = Block(16, 16, 1)
        self.block2 = Block(16, 32, 2)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = F.relu(self.stem_bn(self.stem_conv(x)))
        x = self.block2(self.block1(x))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


class TransformerEncoder(nn.Module):
    """examples/transformer_encoder.json: one post-norm encoder layer (d_model 64, 4 heads of 16,
    feed-forward 128 with exact Gelu) on [N, 16, 64], mean over tokens, classifier to 10."""
    input_shape = (16, 64)

    def __init__(self):
        super().__init__()
        self.q = nn.Linear(64, 64)
        self.k = nn.Linear(64, 64)
        self.v = nn.Linear(64, 64)
        self.out = nn.Linear(64, 64)
        self.norm1 = nn.LayerNorm(64)
        self.fc1 = nn.Linear(64, 128)
        self.fc2 = nn.Linear(128, 64)
        self.norm2 = nn.LayerNorm(64)
        self.classifier = nn.Linear(64, 10)

    def forward(self, x):
        n = x.shape[0]
        q = self.q(x).view(n, 16, 4, 16).transpose(1, 2)
        k = self.k(x).view(n, 16, 4, 16).permute(0, 2, 3, 1)
        v = self.v(x).view(n, 16, 4, 16).transpose(1, 2)
        probs = torch.softmax(torch.matmul(q, k) / 4.0, dim=-1)
        context = torch.matmul(probs, v).transpose(1, 2).reshape(n, 16, 64)
        h1 = self.norm1(x + self.out(context))
        h2 = self.norm2(h1 + self.fc2(F.gelu(self.fc1(h1))))
        return self.classifier(h2.mean(dim=1))


MODELS = {
    "fmnist_mlp": FmnistMlp,
    "lenet5": LeNet5,
    "resnet_small": ResnetSmall,
    "transformer_encoder": TransformerEncoder,
}


def sinter_params(model_name, module):
    """sinter param name -> (torch tensor, transposed?) for every param of the model's JSON."""
    out = {}
    if model_name == "resnet_small":
        def bn(prefix, m):
            for field in ("weight", "bias", "running_mean", "running_var"):
                out[f"{prefix}.{field}"] = (getattr(m, field), False)
        out["stem.conv.weight"] = (module.stem_conv.weight, False)
        bn("stem.bn", module.stem_bn)
        for b in ("block1", "block2"):
            blk = getattr(module, b)
            out[f"{b}.conv1.weight"] = (blk.conv1.weight, False)
            bn(f"{b}.bn1", blk.bn1)
            out[f"{b}.conv2.weight"] = (blk.conv2.weight, False)
            bn(f"{b}.bn2", blk.bn2)
            if blk.proj is not None:
                out[f"{b}.proj.weight"] = (blk.proj.weight, False)
                bn(f"{b}.proj_bn", blk.proj_bn)
        out["fc.weight"] = (module.fc.weight, False)
        out["fc.bias"] = (module.fc.bias, False)
    elif model_name == "transformer_encoder":
        # MatMul weights are stored [in, out] in the model: nn.Linear holds the transpose.
        names = {"attn.q": module.q, "attn.k": module.k, "attn.v": module.v, "attn.out": module.out,
                 "ffn.fc1": module.fc1, "ffn.fc2": module.fc2}
        for prefix, lin in names.items():
            out[f"{prefix}.weight"] = (lin.weight, True)
            out[f"{prefix}.bias"] = (lin.bias, False)
        for prefix, m in (("norm1", module.norm1), ("norm2", module.norm2), ("classifier", module.classifier)):
            out[f"{prefix}.weight"] = (m.weight, False)
            out[f"{prefix}.bias"] = (m.bias, False)
    else:
        for name, p in module.named_parameters():
            out[name] = (p, False)
    return out


def check(model_name, module, sinter, source):
    """Max |torch - sinter interpreter| of the logits with sinter's params loaded into module."""
    params = sinter_params(model_name, module)
    rng = np.random.default_rng(1)
    x = rng.random((3,) + module.input_shape, dtype=np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        np.save(os.path.join(tmp, "x.npy"), x)
        cmd = [sinter, "run", os.path.join(source, "examples", model_name + ".json"), "--interp", "--show", "0",
               "--input", "x=" + os.path.join(tmp, "x.npy"), "--output", "logits=" + os.path.join(tmp, "logits.npy")]
        for i, name in enumerate(params):
            cmd += ["--output", f"{name}={os.path.join(tmp, f'p{i}.npy')}"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with torch.no_grad():
            for i, (name, (t, transposed)) in enumerate(params.items()):
                a = torch.from_numpy(np.load(os.path.join(tmp, f"p{i}.npy")))
                t.copy_(a.t() if transposed else a)
        want = np.load(os.path.join(tmp, "logits.npy"))
    with torch.inference_mode():
        got = module(torch.from_numpy(x)).numpy()
    n_params = sum(p.numel() for p in module.parameters()) + sum(
        b.numel() for n, b in module.named_buffers() if not n.endswith("num_batches_tracked"))
    return {"model": model_name, "max_abs_diff": float(np.max(np.abs(got - want))),
            "max_abs_logit": float(np.max(np.abs(want))), "params": int(n_params)}


def bench(module, batch, warmup, iters, seconds):
    """Latencies (seconds) of forward calls, each timed with the monotonic clock."""
    x = torch.rand((batch,) + module.input_shape)
    times = []
    with torch.inference_mode():
        t0 = time.monotonic()
        for i in range(warmup if warmup >= 0 else 10):
            module(x)
            if warmup < 0 and time.monotonic() - t0 > 0.5:
                break
        start = time.monotonic()
        while (len(times) < iters) if iters else (time.monotonic() - start < seconds or not times):
            a = time.perf_counter()
            module(x)
            times.append(time.perf_counter() - a)
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", choices=sorted(MODELS))
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=-1)
    ap.add_argument("--iters", type=int, default=0)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--check", metavar="SINTER", help="compare with the sinter interpreter instead of timing")
    ap.add_argument("--source", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    args = ap.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    module = MODELS[args.model]().eval()
    if args.check:
        print(json.dumps(check(args.model, module, args.check, args.source)))
        return
    t = sorted(bench(module, args.batch, args.warmup, args.iters, args.seconds))
    k = len(t)
    median = t[k // 2] if k % 2 else 0.5 * (t[k // 2 - 1] + t[k // 2])
    p90 = t[max(0, math.ceil(0.9 * k) - 1)]
    print(json.dumps({"model": args.model, "framework": "torch " + torch.__version__, "batch": args.batch,
                      "threads": torch.get_num_threads(), "calls": k, "median_ms": median * 1e3,
                      "p90_ms": p90 * 1e3, "min_ms": t[0] * 1e3, "mean_ms": sum(t) / k * 1e3,
                      "samples_per_s": args.batch / median}))


if __name__ == "__main__":
    sys.exit(main())
