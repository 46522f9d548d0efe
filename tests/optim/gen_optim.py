#!/usr/bin/python3
"""Writes tests/optim/optim_vectors.json: torch.optim's SGD/Adam/AdamW updates and BatchNorm's
running statistics, the reference of tests/test_optim.c. Run once with /usr/bin/python3
(torch 1.13); the output is committed, so the tests need no Python.

Optimizer cases: params w [3, 4] and b [4] from a fixed seed, three steps with given
gradients (p.grad set by hand, then opt.step()); "after" holds the params after each step.
Float32 cases run torch in float32, so they carry its rounding.

BatchNorm: five training-mode forward passes of nn.BatchNorm2d(3, momentum=0.1) in float64.
torch's running_var uses the unbiased batch variance, and so does sinter's training step
(autodiff's unbiased=1); the file also has the same recurrence with the population variance
(ONNX's training_mode=1, "population_running_var"), which the test checks it is not."""
import json
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim_vectors.json")

# (name, sinter optimizer object, torch constructor, torch kwargs)
CONFIGS = [
    ("sgd", {"kind": "sgd", "lr": 0.1}, torch.optim.SGD, {"lr": 0.1}),
    ("sgd_momentum", {"kind": "sgd", "lr": 0.1, "momentum": 0.9}, torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}),
    ("sgd_dampening_wd", {"kind": "sgd", "lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01},
     torch.optim.SGD, {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01}),
    ("sgd_nesterov_wd", {"kind": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.001},
     torch.optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.001}),
    ("sgd_wd_no_momentum", {"kind": "sgd", "lr": 0.2, "weight_decay": 0.05}, torch.optim.SGD,
     {"lr": 0.2, "weight_decay": 0.05}),
    ("adam", {"kind": "adam", "lr": 0.001}, torch.optim.Adam, {"lr": 0.001}),
    ("adam_l2", {"kind": "adam", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.1},
     torch.optim.Adam, {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    ("adamw", {"kind": "adamw", "lr": 0.01}, torch.optim.AdamW, {"lr": 0.01}),
    ("adamw_wd", {"kind": "adamw", "lr": 0.02, "beta1": 0.85, "beta2": 0.995, "eps": 1e-7, "weight_decay": 0.1},
     torch.optim.AdamW, {"lr": 0.02, "betas": (0.85, 0.995), "eps": 1e-7, "weight_decay": 0.1}),
]
STEPS = 3


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def optimizer_cases():
    cases = []
    for dtype_name, dtype in (("float64", torch.float64), ("float32", torch.float32)):
        for i, (name, spec, ctor, kwargs) in enumerate(CONFIGS):
            gen = torch.Generator().manual_seed(100 + i)
            w0 = torch.randn(3, 4, generator=gen, dtype=torch.float64).to(dtype)
            b0 = torch.randn(4, generator=gen, dtype=torch.float64).to(dtype)
            grads = [(torch.randn(3, 4, generator=gen, dtype=torch.float64).to(dtype),
                      torch.randn(4, generator=gen, dtype=torch.float64).to(dtype)) for _ in range(STEPS)]
            w = torch.nn.Parameter(w0.clone())
            b = torch.nn.Parameter(b0.clone())
            opt = ctor([w, b], **kwargs)
            after = []
            for gw, gb in grads:
                w.grad = gw.clone()
                b.grad = gb.clone()
                opt.step()
                after.append({"w": flat(w), "b": flat(b)})
            cases.append({
                "name": name + "_" + dtype_name,
                "dtype": dtype_name,
                "optimizer": spec,
                "init": {"w": flat(w0), "b": flat(b0)},
                "grads": [{"w": flat(gw), "b": flat(gb)} for gw, gb in grads],
                "after": after,
            })
    return cases


def batchnorm_case():
    gen = torch.Generator().manual_seed(7)
    shape = (4, 3, 2, 2)
    bn = torch.nn.BatchNorm2d(3, momentum=0.1).double()
    bn.train()
    xs = [torch.randn(*shape, generator=gen, dtype=torch.float64) * 2 + 1 for _ in range(5)]
    rm = torch.zeros(3, dtype=torch.float64)
    rv_pop = torch.ones(3, dtype=torch.float64)
    rv_unbiased = torch.ones(3, dtype=torch.float64)
    for x in xs:
        bn(x)
        rm = 0.9 * rm + 0.1 * x.mean(dim=(0, 2, 3))
        rv_pop = 0.9 * rv_pop + 0.1 * x.var(dim=(0, 2, 3), unbiased=False)
        rv_unbiased = 0.9 * rv_unbiased + 0.1 * x.var(dim=(0, 2, 3), unbiased=True)
    assert torch.allclose(rm, bn.running_mean, rtol=1e-12, atol=1e-14)
    assert torch.allclose(rv_unbiased, bn.running_var, rtol=1e-12, atol=1e-14)
    return {
        "shape": list(shape),
        "onnx_momentum": 0.9,
        "x": [flat(x) for x in xs],
        "torch_running_mean": flat(bn.running_mean),
        "torch_running_var": flat(bn.running_var),
        "population_running_var": flat(rv_pop),
    }


def main():
    data = {
        "generator": "tests/optim/gen_optim.py, torch " + torch.__version__,
        "steps": STEPS,
        "cases": optimizer_cases(),
        "batchnorm": batchnorm_case(),
    }
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
