#!/usr/bin/python3
"""One CTest case: create a model with onnx-init, then check it three ways.

  1. onnx.checker.check_model(full_check=True): the ONNX checker of Debian's
     python3-onnx 1.12, including strict shape inference, so declared shapes must
     agree with what ONNX infers.
  2. The recipe (metadata_props) and PyTorch-style initializer names are there.
  3. Semantics: the graph, run by a small numpy interpreter of the ONNX ops it uses
     (written from the ONNX operator spec), gives the same output and loss as the
     PyTorch definitions of the layers, activations and losses written directly in
     numpy. This checks the graphs onnx-init emits (e.g. BCE's -100 clamp, the
     stable BCE-with-logits form, the Erf GELU) without PyTorch or a runtime.

usage: check_created_model.py ONNX_INIT OUT_DIR NAME -- onnx-init mlp arguments...
"""
import math
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper


# ---- a numpy interpreter for the ops onnx-init emits (ONNX operator spec) ----

def attrs_of(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def softmax_like(x, axis, opset, log):
    if opset < 13:  # coerce to 2-D [prod(dims[:axis]), prod(dims[axis:])]
        shape = x.shape
        x2 = x.reshape(int(np.prod(shape[:axis])), -1)
        return softmax_like(x2, 1, 13, log).reshape(shape)
    z = x - x.max(axis=axis, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=axis, keepdims=True))
    return z - lse if log else np.exp(z - lse)


def run_node(node, inputs, opset):
    a = attrs_of(node)
    op = node.op_type
    x = inputs[0] if inputs else None
    erf = np.vectorize(math.erf)
    if op == "Gemm":
        A = x.T if a.get("transA", 0) else x
        B = inputs[1].T if a.get("transB", 0) else inputs[1]
        y = a.get("alpha", 1.0) * (A @ B)
        return y + a.get("beta", 1.0) * inputs[2] if len(inputs) > 2 else y
    table = {
        "MatMul": lambda: x @ inputs[1], "Add": lambda: x + inputs[1], "Sub": lambda: x - inputs[1],
        "Mul": lambda: x * inputs[1], "Div": lambda: x / inputs[1], "Neg": lambda: -x, "Abs": lambda: np.abs(x),
        "Log": lambda: np.log(x), "Identity": lambda: x, "Relu": lambda: np.maximum(x, 0),
        "LeakyRelu": lambda: np.where(x >= 0, x, a.get("alpha", 0.01) * x),
        "Sigmoid": lambda: 1 / (1 + np.exp(-x)), "Tanh": lambda: np.tanh(x),
        "Elu": lambda: np.where(x > 0, x, a.get("alpha", 1.0) * (np.exp(x) - 1)),
        "Selu": lambda: a.get("gamma", 1.05070102214813232421875) *
        np.where(x > 0, x, a.get("alpha", 1.67326319217681884765625) * (np.exp(x) - 1)),
        "Celu": lambda: np.maximum(0, x) + np.minimum(0, a.get("alpha", 1.0) * (np.exp(x / a.get("alpha", 1.0)) - 1)),
        "Softplus": lambda: np.log(np.exp(x) + 1), "Softsign": lambda: x / (1 + np.abs(x)),
        "Erf": lambda: erf(x),
        "HardSigmoid": lambda: np.clip(a.get("alpha", 0.2) * x + a.get("beta", 0.5), 0, 1),
        "HardSwish": lambda: x * np.clip(x / 6 + 0.5, 0, 1),
        "Softmax": lambda: softmax_like(x, a.get("axis", 1 if opset < 13 else -1), opset, False),
        "LogSoftmax": lambda: softmax_like(x, a.get("axis", 1 if opset < 13 else -1), opset, True),
        "Constant": lambda: numpy_helper.to_array(a["value"]).astype(np.float64),
    }
    if op in table:
        return table[op]()
    if op == "Clip":
        lo = a.get("min", -np.inf) if opset < 11 else (inputs[1] if len(inputs) > 1 else -np.inf)
        hi = a.get("max", np.inf) if opset < 11 else (inputs[2] if len(inputs) > 2 else np.inf)
        return np.clip(x, lo, hi)
    if op in ("ReduceMean", "ReduceSum"):
        assert "axes" not in a and len(inputs) == 1, "onnx-init reduces over all axes"
        r = x.mean() if op == "ReduceMean" else x.sum()
        return r if a.get("keepdims", 1) == 0 else r.reshape([1] * x.ndim)
    if op in ("SoftmaxCrossEntropyLoss", "NegativeLogLikelihoodLoss"):
        logp = softmax_like(x, 1, 13, True) if op == "SoftmaxCrossEntropyLoss" else x
        labels = inputs[1]
        per_sample = -logp[np.arange(len(labels)), labels]
        reduction = a.get("reduction", b"mean").decode()
        return {"none": per_sample, "sum": per_sample.sum(), "mean": per_sample.mean()}[reduction]
    raise NotImplementedError(op)


def run_model(model, feeds):
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    values = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    values.update(feeds)
    for node in model.graph.node:
        outs = run_node(node, [values[i] for i in node.input if i], opset)
        values[node.output[0]] = outs
    return {o.name: values[o.name] for o in model.graph.output}


# ---- the PyTorch definitions, in numpy ----

def torch_activation(spec, x):
    name, _, params = spec.partition(":")
    p = [float(v) for v in params.split(",")] if params else []
    relu6 = lambda v: np.clip(v, 0, 6)
    erf = np.vectorize(math.erf)
    if name == "identity": return x
    if name == "relu": return np.maximum(x, 0)
    if name == "leaky_relu": return np.where(x >= 0, x, p[0] * x)
    if name == "sigmoid": return 1 / (1 + np.exp(-x))
    if name == "tanh": return np.tanh(x)
    if name == "elu": return np.where(x > 0, x, p[0] * (np.exp(x) - 1))
    if name == "selu": return 1.0507009873554804934193349852946 * np.where(x > 0, x, 1.6732632423543772848170429916717 * (np.exp(x) - 1))
    if name == "celu": return np.maximum(0, x) + np.minimum(0, p[0] * (np.exp(x / p[0]) - 1))
    if name == "softplus": return np.log1p(np.exp(x))
    if name == "softsign": return x / (1 + np.abs(x))
    if name == "gelu": return 0.5 * x * (1 + erf(x / math.sqrt(2)))
    if name == "hardsigmoid": return np.clip(p[0] * x + p[1], 0, 1)  # PyTorch's: relu6(x+3)/6
    if name == "hardswish": return x * relu6(x + 3) / 6
    if name == "mish": return x * np.tanh(np.log1p(np.exp(x)))
    raise NotImplementedError(name)


def torch_forward(model, meta, x, y):
    arch = dict(kv.split("=", 1) for kv in meta["onnx_init.architecture"].split()[1:])
    params = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    n_layers = len(arch["layers"].split(",")) - 1
    h = x
    for i in range(1, n_layers + 1):
        w, b = params["fc%d.weight" % i], params["fc%d.bias" % i]
        h = h @ (w.T if arch["layer_type"] == "gemm" else w) + b  # nn.Linear: x W^T + b
        if i < n_layers:
            h = torch_activation(arch["activation"], h)
    head = arch["head"]
    if head == "softmax": h = np.exp(h - h.max(1, keepdims=True)); h /= h.sum(1, keepdims=True)
    if head == "log_softmax": z = h - h.max(1, keepdims=True); h = z - np.log(np.exp(z).sum(1, keepdims=True))
    if head == "sigmoid": h = 1 / (1 + np.exp(-h))
    loss, out = arch["loss"], {"output": h}
    if loss == "none":
        return out
    rows = np.arange(len(h))
    if loss == "cross_entropy":
        z = h - h.max(1, keepdims=True)
        el = np.log(np.exp(z).sum(1)) - z[rows, y]
    elif loss == "nll": el = -h[rows, y]
    elif loss == "mse": el = (h - y) ** 2
    elif loss == "l1": el = np.abs(h - y)
    elif loss == "bce": el = -(y * np.maximum(np.log(h), -100) + (1 - y) * np.maximum(np.log(1 - h), -100))
    elif loss == "bce_with_logits": el = np.maximum(h, 0) - h * y + np.log1p(np.exp(-np.abs(h)))
    out["loss"] = {"none": el, "sum": el.sum(), "mean": el.mean()}[arch["reduction"]]
    return out


def main():
    np.seterr(divide="ignore", over="ignore")  # log(0) -> -inf is part of the BCE clamp case
    binary, out_dir, name = sys.argv[1:4]
    assert sys.argv[4] == "--"
    args = sys.argv[5:]
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name + ".onnx")
    subprocess.run([binary] + args + ["-o", path], check=True)

    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)

    meta = {p.key: p.value for p in model.metadata_props}
    for key in ("onnx_init.tool", "onnx_init.weight_init", "onnx_init.bias_init", "onnx_init.seed",
                "onnx_init.command", "onnx_init.architecture"):
        assert key in meta, "metadata_props lacks " + key
    # The tool records itself as its --version prints it ("onnx-mini X.Y.Z").
    version = subprocess.run([binary, "--version"], check=True, capture_output=True, text=True).stdout.strip()
    assert meta["onnx_init.tool"] == version and version.startswith("onnx-mini "), (meta["onnx_init.tool"], version)
    names = [t.name for t in model.graph.initializer]
    assert names[:2] == ["fc1.weight", "fc1.bias"], names
    batch = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param == "batch", batch

    # Run at batch 5 with inputs that reach both tails of every activation.
    rng = np.random.default_rng(0)
    n_in = model.graph.input[0].type.tensor_type.shape.dim[1].dim_value
    n_out = model.graph.output[0].type.tensor_type.shape.dim[1].dim_value
    x = rng.normal(0, 3, size=(5, n_in)).astype(np.float32).astype(np.float64)
    feeds = {"input": x}
    y = None
    input_names = [i.name for i in model.graph.input]
    if "labels" in input_names:
        y = rng.integers(0, n_out, size=5)
        feeds["labels"] = y
    if "targets" in input_names:
        y = rng.uniform(0, 1, size=(5, n_out))
        feeds["targets"] = y
    got = run_model(model, feeds)
    want = torch_forward(model, meta, x, y)
    for key in want:
        # Both sides run in float64 on the same float32 weights; what differs is the
        # graph's float32 constants (1/6, sqrt(2), SELU's alpha...), 2^-24 relative
        # each, so 1e-6 is loose for rounding and far below any semantic error.
        np.testing.assert_allclose(got[key], want[key], rtol=1e-6, atol=1e-9, err_msg=key)
        # The declared rank of each output matches what the graph computes.
        decl = next(o for o in model.graph.output if o.name == key).type.tensor_type.shape
        assert len(decl.dim) == np.ndim(got[key]), (key, len(decl.dim), np.shape(got[key]))
    print("%s: checker ok, recipe ok, outputs %s match the PyTorch definitions" % (name, sorted(want)))

    # The created model runs in onnx-mini's own runtime (float32) and agrees with the
    # float64 PyTorch definitions. Inputs of N(0, 3) through a few float32 layers:
    # rtol 1e-4 / atol 1e-5 (onnx-run --check's defaults) covers float32 rounding.
    onnx_run = os.environ.get("ONNX_RUN")
    if onnx_run:
        data = os.path.join(out_dir, name + "_data", "test_data_set_0")
        os.makedirs(data, exist_ok=True)
        for i, inp in enumerate(model.graph.input):
            value = feeds[inp.name]
            arr = np.asarray(value, dtype=np.int64 if inp.name == "labels" else np.float32)
            with open(os.path.join(data, "input_%d.pb" % i), "wb") as f:
                f.write(numpy_helper.from_array(arr, inp.name).SerializeToString())
        for j, out in enumerate(model.graph.output):
            with open(os.path.join(data, "output_%d.pb" % j), "wb") as f:
                f.write(numpy_helper.from_array(np.asarray(want[out.name], dtype=np.float32), out.name).SerializeToString())
        for level in ([], ["-O0"]):
            subprocess.run([onnx_run, *level, path, "--check", os.path.dirname(data)], check=True)
        print("%s: onnx-run matches with passes on and off" % name)


if __name__ == "__main__":
    main()
