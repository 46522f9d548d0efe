#!/usr/bin/env python3
"""Makes the ONNX test models of tests/onnx (run with Debian's /usr/bin/python3: python3-torch,
python3-onnx, python3-numpy). Deterministic: fixed seeds, so reruns give the same files.

exports/NAME.onnx    PyTorch exports with a dynamic batch dim ("batch"), with x.npy (batch 3)
                     and y.npy, PyTorch's output for it (float32, eval mode)
bad/*.onnx           malformed or unsupported models for the import diagnostics
../fuzz/corpus/onnx  small seeds for fuzz_onnx: the bad models and one tiny graph per op form
                     (`gen_models.py --corpus` writes only these)
"""
import os
import shutil
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))

    def forward(self, x):
        return self.net(x)


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c2 = nn.Conv2d(6, 16, 5)
        self.f1 = nn.Linear(400, 120)
        self.f2 = nn.Linear(120, 84)
        self.f3 = nn.Linear(84, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.c1(x)), 2)
        x = nn.functional.avg_pool2d(torch.relu(self.c2(x)), 2)
        x = torch.flatten(x, 1)
        return self.f3(torch.relu(self.f2(torch.relu(self.f1(x)))))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.ba = nn.BatchNorm2d(c)
        self.b = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bb = nn.BatchNorm2d(c)

    def forward(self, x):
        return torch.relu(x + self.bb(self.b(torch.relu(self.ba(self.a(x))))))


class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.b1 = Block(8)
        self.b2 = Block(8)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = torch.relu(self.bn(self.stem(x)))
        x = self.b2(self.b1(x))
        x = nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.1, batch_first=True, activation="gelu")

    def forward(self, x):
        return self.layer(x)


def export(name, model, shape, opset, train_steps=0):
    torch.manual_seed(1)
    if train_steps:  # moves BatchNorm's running statistics away from 0 and 1
        model.train()
        with torch.no_grad():
            for _ in range(train_steps):
                model(torch.randn(8, *shape[1:]) * 2 + 0.5)
    model.eval()
    x = torch.randn(*shape)
    d = os.path.join(HERE, "exports")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, name + ".onnx")
    # PRESERVE (the module is in eval mode) keeps BatchNormalization as its own node; EVAL
    # would fold it into the Conv before
    torch.onnx.export(model, (x,), path, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, opset_version=opset,
                      training=torch.onnx.TrainingMode.PRESERVE if train_steps else torch.onnx.TrainingMode.EVAL)
    with torch.no_grad():
        y = model(x)
    np.save(os.path.join(d, name + ".x.npy"), x.numpy())
    np.save(os.path.join(d, name + ".y.npy"), y.numpy())
    ops = sorted({n.op_type for n in onnx.load(path).graph.node})
    print(f"{name}: opset {opset}, ops {' '.join(ops)}")


def bad_models():
    d = os.path.join(HERE, "bad")
    os.makedirs(d, exist_ok=True)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])

    def save(name, nodes, inits=(), opset=17, outputs=(y,), domains=()):
        g = helper.make_graph(nodes, name, [x], list(outputs), initializer=list(inits))
        imports = [helper.make_opsetid("", opset)] + [helper.make_opsetid(dm, 1) for dm in domains]
        m = helper.make_model(g, opset_imports=imports, producer_name="sinter-tests")
        onnx.save(m, os.path.join(d, name + ".onnx"))

    # ops sinter lacks, one of them twice, and one of a custom domain
    save("unsupported", [helper.make_node("Relu", ["x"], ["a"], name="r"),
                         helper.make_node("Hardmax", ["a"], ["b"], name="hm1"),
                         helper.make_node("Hardmax", ["b"], ["c"], name="hm2"),
                         helper.make_node("FusedThing", ["c"], ["y"], name="ft", domain="com.example")],
         domains=["com.example"])
    # a Loop (control flow)
    body = helper.make_graph([helper.make_node("Identity", ["cond_in"], ["cond_out"])], "body",
                             [helper.make_tensor_value_info("i", TensorProto.INT64, []),
                              helper.make_tensor_value_info("cond_in", TensorProto.BOOL, [])],
                             [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, [])])
    save("loop", [helper.make_node("Loop", ["", ""], [], name="loop1", body=body),
                  helper.make_node("Identity", ["x"], ["y"], name="id")])
    # an initializer whose raw data is one float short
    w = helper.make_tensor("w", TensorProto.FLOAT, [4], np.ones(4, np.float32).tobytes(), raw=True)
    w.raw_data = w.raw_data[:12]
    save("bad_init", [helper.make_node("Mul", ["x", "w"], ["y"], name="mul")], inits=[w])
    # opset 22, beyond what sinter reads; and Relu at opset 5, older than its current form (6)
    save("opset22", [helper.make_node("Relu", ["x"], ["y"], name="r")], opset=22)
    save("relu_opset5", [helper.make_node("Relu", ["x"], ["y"], name="r")], opset=5)
    # external data that is not there
    e = helper.make_tensor("w", TensorProto.FLOAT, [4], np.ones(4, np.float32).tobytes(), raw=True)
    onnx.external_data_helper.set_external_data(e, "missing.bin")
    e.ClearField("raw_data")
    save("ext_missing", [helper.make_node("Mul", ["x", "w"], ["y"], name="mul")], inits=[e])
    # external data that is there (offset 8 into the file)
    e = helper.make_tensor("w", TensorProto.FLOAT, [4], np.ones(4, np.float32).tobytes(), raw=True)
    onnx.external_data_helper.set_external_data(e, "ext_ok.bin", offset=8, length=16)
    e.ClearField("raw_data")
    with open(os.path.join(d, "ext_ok.bin"), "wb") as f:
        f.write(np.array([7, 7], np.float32).tobytes() + np.array([1, 2, 3, 4], np.float32).tobytes())
    save("ext_ok", [helper.make_node("Mul", ["x", "w"], ["y"], name="mul")], inits=[e])
    # a Reshape whose shape is a graph input: refused unless `sinter import --bind shape=...`
    xs = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 6])
    sh = helper.make_tensor_value_info("shape", TensorProto.INT64, [2])
    ys = helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 4])
    g = helper.make_graph([helper.make_node("Reshape", ["x", "shape"], ["y"], name="rs")], "reshape_input",
                          [xs, sh], [ys])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]),
              os.path.join(d, "reshape_input.onnx"))
    # two symbolic dims
    x2 = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq"])
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="r")], "two_syms", [x2], [y])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), os.path.join(d, "two_syms.onnx"))


def corpus():
    """Seeds for tests/fuzz/fuzz_onnx.c: each under 1 KB, covering the reader's paths."""
    d = os.path.join(HERE, "..", "fuzz", "corpus", "onnx")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for f in sorted(os.listdir(os.path.join(HERE, "bad"))):
        if f.endswith(".onnx"):
            shutil.copy(os.path.join(HERE, "bad", f), os.path.join(d, f))
    F = TensorProto.FLOAT

    def save(name, nodes, ins, outs, inits=(), opset=17):
        g = helper.make_graph(nodes, name, ins, outs, initializer=list(inits))
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
        onnx.save(m, os.path.join(d, name + ".onnx"))

    vi = helper.make_tensor_value_info
    rng = np.random.default_rng(3)
    w = helper.make_tensor("w", F, [2, 1, 3, 3], rng.standard_normal(18).astype(np.float32).tobytes(), raw=True)
    save("conv_relu", [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
                       helper.make_node("Relu", ["c"], ["y"])],
         [vi("x", F, ["N", 1, 4, 4])], [vi("y", F, ["N", 2, 4, 4])], [w])
    b = helper.make_tensor("b", F, [3], [0.5, -1.0, 2.0])
    wg = helper.make_tensor("wg", F, [4, 3], rng.standard_normal(12).astype(np.float32).tolist())
    save("gemm", [helper.make_node("Gemm", ["x", "wg", "b"], ["y"], alpha=0.5, transB=0)],
         [vi("x", F, ["N", 4])], [vi("y", F, ["N", 3])], [wg, b])
    save("shape_chain", [helper.make_node("Shape", ["x"], ["s"]),
                         helper.make_node("Constant", [], ["i"], value=helper.make_tensor("", TensorProto.INT64, [], [0])),
                         helper.make_node("Gather", ["s", "i"], ["n"]),
                         helper.make_node("Unsqueeze", ["n"], ["nu"], axes=[0]),
                         helper.make_node("Constant", [], ["m1"], value=helper.make_tensor("", TensorProto.INT64, [1], [-1])),
                         helper.make_node("Concat", ["nu", "m1"], ["shp"], axis=0),
                         helper.make_node("Reshape", ["x", "shp"], ["y"])],
         [vi("x", F, ["N", 2, 3])], [vi("y", F, ["N", 6])], opset=11)
    stats = [helper.make_tensor(k, F, [2], v) for k, v in
             (("sc", [1, 2]), ("bi", [0, 1]), ("mu", [0.5, -0.5]), ("var", [1, 4]))]
    save("batchnorm_v7", [helper.make_node("BatchNormalization", ["x", "sc", "bi", "mu", "var"], ["y"])],
         [vi("x", F, ["N", 2, 3])], [vi("y", F, ["N", 2, 3])], stats, opset=7)
    save("slice_v9", [helper.make_node("Slice", ["x"], ["y"], starts=[1], ends=[100], axes=[1])],
         [vi("x", F, ["N", 5])], [vi("y", F, ["N", 4])], opset=9)
    save("pad_v2", [helper.make_node("Pad", ["x"], ["y"], pads=[0, 1, 0, 2], mode="reflect")],
         [vi("x", F, ["N", 4])], [vi("y", F, ["N", 7])], opset=9)
    save("reduce_softmax", [helper.make_node("ReduceMean", ["x"], ["r"], axes=[1], keepdims=1),
                            helper.make_node("Sub", ["x", "r"], ["c"]),
                            helper.make_node("Softmax", ["c"], ["y"], axis=1)],
         [vi("x", F, ["N", 4])], [vi("y", F, ["N", 4])], opset=11)
    for f in sorted(os.listdir(d)):
        assert os.path.getsize(os.path.join(d, f)) < 1024, f


if __name__ == "__main__":
    if sys.argv[1:] == ["--corpus"]:
        corpus()
        sys.exit(0)
    export("mlp", MLP(), (3, 1, 28, 28), 17)
    export("lenet5", LeNet5(), (3, 1, 28, 28), 13)
    export("resnet_bn", ResNet(), (3, 3, 16, 16), 15, train_steps=5)
    export("encoder", Encoder(), (3, 7, 32), 17)
    export("encoder_op13", Encoder(), (3, 7, 32), 13)
    bad_models()
    corpus()
