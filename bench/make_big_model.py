#!/usr/bin/python3
"""Writes a ~200 MB-of-weights MLP twice into OUT_DIR (under the build tree; never
committed), to measure loading:

  /usr/bin/python3 bench/make_big_model.py build/big_model

big_raw.onnx:  weights as raw_data inside the model file;
big_ext.onnx + big_ext.data:  the same weights as external data (one file).
Widths 1024 -> 8192 -> 4096 -> 2048 (Gemm transB=1 + Relu): 201,326,592 weight bytes
plus 57,344 bias bytes. Input X [N, 1024].
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

WIDTHS = [1024, 8192, 4096, 2048]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)
    nodes, inits = [], []
    x = "X"
    for i in range(len(WIDTHS) - 1):
        fan_in, fan_out = WIDTHS[i], WIDTHS[i + 1]
        w = (rng.random((fan_out, fan_in), dtype=np.float32) - 0.5) * (2 / np.sqrt(fan_in))
        b = np.zeros(fan_out, dtype=np.float32)
        p = f"fc{i + 1}"
        inits += [numpy_helper.from_array(w, p + ".weight"), numpy_helper.from_array(b, p + ".bias")]
        y = "Y" if i == len(WIDTHS) - 2 else p + "_out"
        nodes.append(helper.make_node("Gemm", [x, p + ".weight", p + ".bias"], [y], name=p, transB=1))
        x = y
        if y != "Y":
            nodes.append(helper.make_node("Relu", [x], [p + "_relu"], name=p + "/relu"))
            x = p + "_relu"
    graph = helper.make_graph(
        nodes, "big_mlp",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", WIDTHS[0]])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", WIDTHS[-1]])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    onnx.save(model, os.path.join(out, "big_raw.onnx"))
    onnx.save_model(model, os.path.join(out, "big_ext.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="big_ext.data", size_threshold=1024)
    weight_bytes = sum(int(np.prod(t.dims)) * 4 for t in inits)
    print(f"wrote big_raw.onnx and big_ext.onnx (+ big_ext.data) to {out}: {weight_bytes} weight bytes")


if __name__ == "__main__":
    main()
