#!/usr/bin/python3
"""Exports the torchvision CNNs of bench/compare_ort_cnn.sh into OUT_DIR (under the
build tree; never committed: ResNet-18 alone is 45 MB).

  /usr/bin/python3 bench/make_cnn_bench_models.py build/bench_models

torchvision 0.14 with weights=None (random init, seeded: nothing is downloaded),
eval mode, opset 13, batch dimension `batch` symbolic:
  cnn_resnet18.onnx, cnn_mobilenet_v2.onnx, cnn_squeezenet1_1.onnx  input [batch, 3, 224, 224]
  cnn_resnet18_cifar.onnx  torchvision ResNet-18 with 10 classes on [batch, 3, 32, 32]
Beside each model, <name>.gflop: the GFLOP of one image (2 x the multiply-adds of
every Conv and Gemm, from the inferred shapes), for the GFLOP/s column.
A model already present is kept.
"""
import io
import os
import sys
import warnings

import numpy as np
import onnx
import torch
import torchvision

warnings.filterwarnings("ignore", category=UserWarning)

MODELS = {  # name: (constructor, image size)
    "resnet18": (lambda: torchvision.models.resnet18(weights=None), 224),
    "mobilenet_v2": (lambda: torchvision.models.mobilenet_v2(weights=None), 224),
    "squeezenet1_1": (lambda: torchvision.models.squeezenet1_1(weights=None), 224),
    "resnet18_cifar": (lambda: torchvision.models.resnet18(weights=None, num_classes=10), 32),
}


def export(module, size):
    buf = io.BytesIO()
    x = torch.zeros(1, 3, size, size)
    torch.onnx.export(module.eval(), (x,), buf, opset_version=13, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      do_constant_folding=True)
    return onnx.load_from_string(buf.getvalue())


def dims_of(value_info):
    return [d.dim_value if d.HasField("dim_value") else 1 for d in value_info.type.tensor_type.shape.dim]


def gflop_per_image(model):
    """2 x multiply-adds of Conv and Gemm at batch 1, from onnx shape inference."""
    inferred = onnx.shape_inference.infer_shapes(model)
    shapes = {v.name: dims_of(v) for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    weights = {t.name: list(t.dims) for t in model.graph.initializer}
    macs = 0
    for node in model.graph.node:
        if node.op_type == "Conv":
            w = weights[node.input[1]]  # [M, C/group, k...]
            macs += int(np.prod(shapes[node.output[0]][1:])) * int(np.prod(w[1:]))
        elif node.op_type == "Gemm":
            macs += int(np.prod(weights[node.input[1]]))
    return 2 * macs / 1e9


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    for name, (make, size) in MODELS.items():
        path = os.path.join(out, f"cnn_{name}.onnx")
        if os.path.exists(path) and os.path.exists(path[:-5] + ".gflop"):
            continue
        torch.manual_seed(0)
        model = export(make(), size)
        onnx.save(model, path)
        with open(path[:-5] + ".gflop", "w") as f:
            f.write(f"{gflop_per_image(model):.4f}\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
