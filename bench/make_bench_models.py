#!/usr/bin/python3
"""Writes the benchmark models into OUT_DIR (under the build tree; never committed).

  /usr/bin/python3 bench/make_bench_models.py build/bench_models

mlp_784-512-256-10.onnx, mlp_784-128-64-10.onnx, mlp_deep20x512.onnx (784 -> 20 x 512 -> 10):
Gemm(transB=1) + Relu between layers, as torch exports nn.Linear; input X [N, 784],
output Y [N, classes], batch N symbolic. Weights uniform in +-1/sqrt(fan_in), seeded.
identity.onnx: one Identity on X [N, 4], to measure a runtime's per-call overhead.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MODELS = {
    "784-512-256-10": [784, 512, 256, 10],
    "784-128-64-10": [784, 128, 64, 10],
    "deep20x512": [784] + [512] * 20 + [10],
}
OPSET = 13


def mlp(widths, seed):
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    x = "X"
    layers = len(widths) - 1
    for i in range(layers):
        fan_in, fan_out = widths[i], widths[i + 1]
        bound = 1.0 / np.sqrt(fan_in)
        w = rng.uniform(-bound, bound, size=(fan_out, fan_in)).astype(np.float32)
        b = rng.uniform(-bound, bound, size=(fan_out,)).astype(np.float32)
        p = f"fc{i + 1}"
        inits += [numpy_helper.from_array(w, p + ".weight"), numpy_helper.from_array(b, p + ".bias")]
        last = i + 1 == layers
        y = "Y" if last else p + "_out"
        nodes.append(helper.make_node("Gemm", [x, p + ".weight", p + ".bias"], [y], name=p, transB=1))
        x = y
        if not last:
            nodes.append(helper.make_node("Relu", [x], [p + "_relu"], name=p + "/relu"))
            x = p + "_relu"
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", widths[0]])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", widths[-1]])],
        inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=8)


def identity():
    graph = helper.make_graph(
        [helper.make_node("Identity", ["X"], ["Y"], name="identity")], "identity",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 4])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=8)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for seed, (name, widths) in enumerate(MODELS.items()):
        model = mlp(widths, seed)
        onnx.checker.check_model(model)
        onnx.save(model, os.path.join(out, f"mlp_{name}.onnx"))
    onnx.save(identity(), os.path.join(out, "identity.onnx"))
    print(f"wrote {len(MODELS) + 1} models to {out}")


if __name__ == "__main__":
    main()
