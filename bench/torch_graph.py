"""A sinter model JSON run by PyTorch eager, node by node, with the same params: the PyTorch side
of bench/compare.py (and its ONNX export for ONNX Runtime).

Each node becomes the PyTorch call a person would write for that layer (F.linear for Gemm and for
a MatMul by a weight followed by the bias Add, F.conv2d, F.batch_norm, F.layer_norm, F.gelu, ...),
so eager mode pays its usual per-layer dispatch. Params are nn.Parameters (BatchNormalization's
running statistics are buffers), so the same module trains with torch.optim and exports with
torch.onnx. Only the ops of the benchmark models are covered; another op raises an error.
"""
import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def _attr(node, name, default):
    return node.get("attrs", {}).get(name, default)


class GraphModule(nn.Module):
    def __init__(self, model, params):
        """model: the parsed model JSON; params: name -> numpy array of every param."""
        super().__init__()
        self.model = model
        self.nodes = model["nodes"]
        self.input_names = [i["name"] for i in model["inputs"]]
        self.output_names = model["outputs"]
        self.frozen = set()
        for n in self.nodes:
            if n["op"] == "BatchNormalization":
                self.frozen.update(n["inputs"][3:5])
        self.tensors = {}
        self.plist = nn.ParameterList()
        self.bn_momentum = {}
        for p in model["params"]:
            t = torch.from_numpy(np.ascontiguousarray(params[p["name"]]).astype(np.float32))
            if p["name"] in self.frozen:
                key = "buf%d" % len(self.tensors)
                self.register_buffer(key, t.clone())
                self.tensors[p["name"]] = ("buffer", key)
            else:
                self.plist.append(nn.Parameter(t.clone()))
                self.tensors[p["name"]] = ("param", len(self.plist) - 1)
        self.consts = {}
        for c in model.get("constants", []):
            a = np.array(c["data"], dtype=np.int64 if c["dtype"] == "int64" else np.float32).reshape(c["shape"])
            self.consts[c["name"]] = torch.from_numpy(a)
        # MatMul by a weight whose only use is an Add of a bias param: one F.linear (addmm)
        uses = {}
        for n in self.nodes:
            for i in n["inputs"]:
                uses[i] = uses.get(i, 0) + 1
        self.linear = {}
        self.fused_adds = set()
        by_input = {}
        for n in self.nodes:
            for i in n["inputs"]:
                by_input.setdefault(i, []).append(n)
        for n in self.nodes:
            if n["op"] == "MatMul" and n["inputs"][1] in self.tensors and uses.get(n["outputs"][0]) == 1:
                add = by_input[n["outputs"][0]][0]
                other = [i for i in add["inputs"] if i != n["outputs"][0]]
                if add["op"] == "Add" and len(other) == 1 and other[0] in self.tensors:
                    self.linear[n["name"]] = (add["outputs"][0], other[0])
                    self.fused_adds.add(add["name"])

    def value(self, env, name):
        if name in env:
            return env[name]
        if name in self.consts:
            return self.consts[name]
        kind, key = self.tensors[name]
        return self.plist[key] if kind == "param" else getattr(self, key)

    def forward(self, *inputs):
        env = dict(zip(self.input_names, inputs))
        for n in self.nodes:
            if n["name"] in self.fused_adds:
                continue
            ins = [self.value(env, i) for i in n["inputs"]]
            op = n["op"]
            if n["name"] in self.linear:
                out, bias = self.linear[n["name"]]
                env[out] = F.linear(ins[0], ins[1].t(), self.value(env, bias))
                continue
            env[n["outputs"][0]] = self.op(n, op, ins)
        outs = [env[o] for o in self.output_names]
        return outs[0] if len(outs) == 1 else tuple(outs)

    def op(self, n, op, x):
        if op == "Add":
            return x[0] + x[1]
        if op == "Sub":
            return x[0] - x[1]
        if op == "Mul":
            return x[0] * x[1]
        if op == "Div":
            return x[0] / x[1]
        if op == "Relu":
            return F.relu(x[0])
        if op == "Gelu":
            return F.gelu(x[0], approximate=_attr(n, "approximate", "none"))
        if op == "Gemm":
            a, b = x[0], x[1]
            if _attr(n, "transA", 0):
                a = a.t()
            alpha, beta = _attr(n, "alpha", 1.0), _attr(n, "beta", 1.0)
            if _attr(n, "transB", 0) and alpha == 1.0 and beta == 1.0:
                return F.linear(a, b, x[2] if len(x) > 2 else None)
            y = alpha * (a @ (b.t() if _attr(n, "transB", 0) else b))
            return y + beta * x[2] if len(x) > 2 else y
        if op == "MatMul":
            return torch.matmul(x[0], x[1])
        if op == "Conv":
            k = len(x[1].shape) - 2
            pads = _attr(n, "pads", [0] * (2 * k))
            if pads[:k] != pads[k:]:
                raise ValueError("%s: asymmetric pads" % n["name"])
            return F.conv2d(x[0], x[1], x[2] if len(x) > 2 else None, stride=_attr(n, "strides", [1] * k),
                            padding=pads[:k], dilation=_attr(n, "dilations", [1] * k), groups=_attr(n, "group", 1))
        if op == "MaxPool":
            ks = _attr(n, "kernel_shape", None)
            pads = _attr(n, "pads", [0] * (2 * len(ks)))
            return F.max_pool2d(x[0], ks, stride=_attr(n, "strides", [1] * len(ks)), padding=pads[:len(ks)])
        if op == "GlobalAveragePool":
            return F.adaptive_avg_pool2d(x[0], 1)
        if op == "Flatten":
            return torch.flatten(x[0], _attr(n, "axis", 1))
        if op == "Reshape":
            shape = [int(v) for v in x[1].tolist()]
            shape = [x[0].shape[i] if v == 0 else v for i, v in enumerate(shape)]
            return x[0].reshape(shape)
        if op == "Transpose":
            return x[0].permute(*_attr(n, "perm", list(reversed(range(x[0].dim())))))
        if op == "Softmax":
            return torch.softmax(x[0], dim=_attr(n, "axis", -1))
        if op == "ReduceMean":
            return x[0].mean(dim=_attr(n, "axes", None), keepdim=bool(_attr(n, "keepdims", 1)))
        if op == "LayerNormalization":
            axis = _attr(n, "axis", -1)
            shape = x[0].shape[axis:] if axis != -1 else x[0].shape[-1:]
            return F.layer_norm(x[0], shape, x[1], x[2] if len(x) > 2 else None, eps=_attr(n, "epsilon", 1e-5))
        if op == "BatchNormalization":
            # ONNX momentum m keeps m of the running value; PyTorch's momentum is the new batch's share
            return F.batch_norm(x[0], x[3], x[4], x[1], x[2], training=self.training,
                                momentum=1.0 - _attr(n, "momentum", 0.9), eps=_attr(n, "epsilon", 1e-5))
        raise ValueError("%s: op %s is not covered by bench/torch_graph.py" % (n["name"], op))


def load(model_path, params):
    with open(model_path) as f:
        model = json.load(f)
    return GraphModule(model, params)


def optimizer(model, module):
    """torch.optim for the model's training section (Adam/AdamW/SGD with its hyperparameters)."""
    o = model["training"]["optimizer"]
    kind = o["kind"]
    params = list(module.plist)
    if kind in ("adam", "adamw"):
        cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
        return cls(params, lr=o.get("lr", 1e-3), betas=(o.get("beta1", 0.9), o.get("beta2", 0.999)),
                   eps=o.get("eps", 1e-8), weight_decay=o.get("weight_decay", 0.0 if kind == "adam" else 0.01))
    if kind == "sgd":
        return torch.optim.SGD(params, lr=o.get("lr", 0.01), momentum=o.get("momentum", 0.0),
                               weight_decay=o.get("weight_decay", 0.0))
    raise ValueError("optimizer %s is not covered" % kind)


def loss_fn(model):
    loss = model["training"]["loss"]
    if loss["op"] == "SoftmaxCrossEntropyLoss":
        return lambda out, y: F.cross_entropy(out, y)
    if loss["op"] == "MSELoss":
        return lambda out, y: F.mse_loss(out, y)
    raise ValueError("loss %s is not covered" % loss["op"])
