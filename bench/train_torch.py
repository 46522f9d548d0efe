#!/usr/bin/python3
"""Trains the Fashion-MNIST MLP and LeNet-5 of examples/ in PyTorch eager: the reference side of bench/train_bench.sh.

Same architectures as examples/fmnist_mlp.json and examples/lenet5.json (including their input
standardization with the training set's pixel mean and std), PyTorch's default
initialization, Adam (lr 1e-3), mean cross-entropy, the same batch size and thread count as the
sinter run it is compared with. Data: the gzip IDX files of Fashion-MNIST, pixels scaled to
[0, 1]; a fresh shuffle every epoch; the last incomplete batch of an epoch is trained on (as
`sinter train` does by default). Prints one JSON object per model on stdout (and progress on
stderr): test accuracy and mean test loss after every epoch, training time per epoch (the
training loop only) and the median time of one training step at the full batch size
(zero_grad + forward + loss + backward + optimizer step, each step timed on its own).

For an implementation-only comparison, --init FILE.safetensors starts from sinter's initial params
(written by `sinter train LIB.so --data fmnist --epochs 0 --save FILE`) and --order sinter visits
the examples in the order `sinter train --seed S` does; then the two runs differ only by float
rounding.

usage: /usr/bin/python3 bench/train_torch.py [--model mlp|lenet5|both] [--epochs 2] [--batch 64]
       [--lr 1e-3] [--threads 2] [--seed 0] [--limit K] [--data DIR] [--init FILE] [--order torch|sinter]
"""
import argparse
import gzip
import json
import os
import statistics
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_DATA = os.environ.get("SINTER_FMNIST_DIR", "/usr/share/datasets/fashion-mnist")


def read_idx(path, limit=None):
    """An IDX file of unsigned bytes (gzip or plain) as a numpy array, at most limit items."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        head = f.read(4)
        if len(head) != 4 or head[0] != 0 or head[1] != 0 or head[2] != 0x08:
            sys.exit(f"train_torch.py: {path}: not an IDX file of unsigned bytes")
        ndims = head[3]
        dims = [int.from_bytes(f.read(4), "big") for _ in range(ndims)]
        if limit is not None and limit < dims[0]:
            dims[0] = limit
        count = int(np.prod(dims))
        data = np.frombuffer(f.read(count), dtype=np.uint8)
        if data.size != count:
            sys.exit(f"train_torch.py: {path}: truncated")
    return data.reshape(dims)


def load_split(data_dir, prefix, limit):
    """Images as float32 [K, 1, 28, 28] in [0, 1] and labels as int64 [K]."""
    x = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"), limit)
    y = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"), limit)
    x = torch.from_numpy(x.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    return x, torch.from_numpy(y.astype(np.int64))


# The models' input standardization (constants pixel_mean/pixel_std, nodes normalize.sub and
# normalize.div of examples/fmnist_mlp.json and examples/lenet5.json): the Fashion-MNIST training
# set's pixel mean and std, so the models take raw [0, 1] pixels.
PIXEL_MEAN = 0.2860406
PIXEL_STD = 0.3530242


class Mlp(nn.Module):
    """examples/fmnist_mlp.json: (x - pixel_mean) / pixel_std, then 784-256-10 with ReLU."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x):
        x = (x.reshape(x.shape[0], 784) - PIXEL_MEAN) / PIXEL_STD
        return self.fc2(F.relu(self.fc1(x)))


class LeNet5(nn.Module):
    """examples/lenet5.json: (x - pixel_mean) / pixel_std, conv 5x5 (pad 2) 1->6, max-pool 2,
    conv 5x5 6->16, max-pool 2, then 400-120-84-10, ReLU after every layer but the last."""

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


MODELS = {"mlp": ("fmnist_mlp", Mlp), "lenet5": ("lenet5", LeNet5)}

MASK64 = (1 << 64) - 1


def sinter_order(count, seed, epoch):
    """The example order of epoch `epoch` (from 0) of `sinter train --seed seed` (tools/cmd_train.c: shuffle)."""
    s = ((seed * 0x100000001b3) ^ (epoch * 0x9e3779b97f4a7c15)) & MASK64
    order = list(range(count))
    for i in range(count - 1, 0, -1):
        s = (s + 0x9e3779b97f4a7c15) & MASK64   # splitmix64
        z = ((s ^ (s >> 30)) * 0xbf58476d1ce4e5b9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & MASK64
        j = (z ^ (z >> 31)) % (i + 1)
        order[i], order[j] = order[j], order[i]
    return torch.tensor(order)


def read_safetensors(path):
    """The float32 tensors of a .safetensors file by name."""
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    head = json.loads(blob[8:8 + n])
    out = {}
    for name, t in head.items():
        if name == "__metadata__" or t["dtype"] != "F32":
            continue
        a, b = t["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(blob[8 + n + a:8 + n + b], dtype=np.float32).copy()).reshape(t["shape"])
    return out


def evaluate(model, x, y, batch=1000):
    """Test accuracy (percent) and mean cross-entropy."""
    model.eval()
    correct, loss_sum = 0, 0.0
    with torch.inference_mode():
        for i in range(0, x.shape[0], batch):
            logits = model(x[i:i + batch])
            loss_sum += F.cross_entropy(logits, y[i:i + batch], reduction="sum").item()
            correct += (logits.argmax(1) == y[i:i + batch]).sum().item()
    model.train()
    return 100.0 * correct / x.shape[0], loss_sum / x.shape[0]


def train(key, args, train_x, train_y, test_x, test_y):
    name, cls = MODELS[key]
    torch.manual_seed(args.seed)
    model = cls()
    if args.init:
        saved = read_safetensors(args.init)
        model.load_state_dict({k: saved[k] for k in model.state_dict()}, strict=True)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    gen = torch.Generator().manual_seed(args.seed)
    count = train_x.shape[0]
    steps = (count + args.batch - 1) // args.batch
    result = {"model": name, "framework": "torch", "torch": torch.__version__, "threads": torch.get_num_threads(),
              "batch": args.batch, "epochs": [], "examples": count, "test_examples": test_x.shape[0],
              "seed": args.seed, "init": args.init or "torch", "order": args.order}
    step_times = []
    for epoch in range(1, args.epochs + 1):
        if args.order == "sinter":
            order = sinter_order(count, args.seed, epoch - 1)
        else:
            order = torch.randperm(count, generator=gen)
        t0 = time.perf_counter()
        loss_sum = 0.0
        for s in range(steps):
            idx = order[s * args.batch:(s + 1) * args.batch]
            xb, yb = train_x[idx], train_y[idx]
            ts = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            te = time.perf_counter()
            if idx.shape[0] == args.batch:
                step_times.append(te - ts)
            loss_sum += loss.item()
            if sys.stderr.isatty() and (s + 1) % 50 == 0:
                print(f"\r{name}: epoch {epoch}/{args.epochs} step {s + 1}/{steps} loss {loss_sum / (s + 1):.4f}",
                      end="", file=sys.stderr)
        seconds = time.perf_counter() - t0
        if sys.stderr.isatty():
            print("\r" + " " * 70 + "\r", end="", file=sys.stderr)
        acc, test_loss = evaluate(model, test_x, test_y)
        result["epochs"].append({"epoch": epoch, "train_loss": loss_sum / steps, "seconds": seconds,
                                 "test_accuracy": acc, "test_loss": test_loss})
        print(f"{name} (torch): epoch {epoch}/{args.epochs}: train loss {loss_sum / steps:.4f}, {seconds:.2f} s; "
              f"test accuracy {acc:.2f}%, test loss {test_loss:.4f}", file=sys.stderr)
    result["step_median_s"] = statistics.median(step_times) if step_times else None
    result["steps_timed"] = len(step_times)
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=["mlp", "lenet5", "both"], default="both")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None, help="use only the first K training and test examples")
    p.add_argument("--data", default=DEFAULT_DATA)
    p.add_argument("--init", help="start from these params (.safetensors with the module's param names)")
    p.add_argument("--order", choices=["torch", "sinter"], default="torch",
                   help="torch.randperm, or the order of `sinter train --seed SEED`")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    train_x, train_y = load_split(args.data, "train", args.limit)
    test_x, test_y = load_split(args.data, "t10k", args.limit)
    if args.init and args.model == "both":
        p.error("--init holds the params of one model: give --model")
    for key in (["mlp", "lenet5"] if args.model == "both" else [args.model]):
        print(json.dumps(train(key, args, train_x, train_y, test_x, test_y)), flush=True)


if __name__ == "__main__":
    main()
