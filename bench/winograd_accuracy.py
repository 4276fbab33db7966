#!/usr/bin/python3
"""Rounding error of onnx-mini's 3x3 stride-1 convolution forms against a
double-precision reference: the sweep behind the README's Winograd accuracy figures.

  /usr/bin/python3 bench/winograd_accuracy.py build [SEEDS]   (default 5 seeds)

For each shape (the 3x3 stride-1 classes of ResNet-18, SqueezeNet 1.1 and a few
more, all where onnx-mini runs F(4x4) by default) a one-node Conv + bias + Relu
model (pads 1, batch 1, weights ~ N(0, 2 / (9 C)) as Kaiming's, bias ~ U(-0.1, 0.1)),
inputs uniform in [-1, 1), SEEDS draws each; onnx-run computes it three ways
(ONNX_MINI_WINOGRAD unset: F(4x4); =2: F(2x2); =0: the gathered direct form) and
numpy the reference in float64. Printed per shape and form: the largest
|onnx-mini - reference| over the largest |reference|, the worst of the seeds.
Models and data go to BUILD/winograd_accuracy (never committed).
"""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SHAPES = [  # (input channels, output channels, image side)
    (16, 16, 56), (16, 64, 55), (32, 32, 28), (32, 128, 27), (48, 192, 13), (64, 256, 13),
    (64, 64, 56), (64, 64, 14), (128, 128, 28), (128, 128, 14), (256, 256, 14), (512, 512, 16),
]
FORMS = [("F(4x4)", None), ("F(2x2)", "2"), ("gathered", "0")]


def model(path, c, m, side, rng):
    w = rng.normal(0, np.sqrt(2 / (9 * c)), (m, c, 3, 3)).astype(np.float32)
    b = rng.uniform(-0.1, 0.1, m).astype(np.float32)
    nodes = [helper.make_node("Conv", ["X", "W", "B"], ["Y"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["Y"], ["Z"])]
    graph = helper.make_graph(
        nodes, "conv3x3", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, c, side, side])],
        [helper.make_tensor_value_info("Z", TensorProto.FLOAT, [1, m, side, side])],
        [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return w.astype(np.float64), b.astype(np.float64)


def reference(x, w, b):
    side = x.shape[-1]
    padded = np.pad(x[0].astype(np.float64), ((0, 0), (1, 1), (1, 1)))
    y = np.zeros((w.shape[0], side, side)) + b[:, None, None]
    for kh in range(3):
        for kw in range(3):
            y += np.einsum("mc,chw->mhw", w[:, :, kh, kw], padded[:, kh:kh + side, kw:kw + side])
    return np.maximum(y, 0)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    run = os.path.join(build, "bin", "onnx-run")
    out = os.path.join(build, "winograd_accuracy")
    os.makedirs(out, exist_ok=True)
    print("largest |error| / largest |output|, worst of %d seeds" % seeds)
    print("%-18s" % "C -> M at side" + "".join("%12s" % name for name, _ in FORMS))
    worst = {name: 0.0 for name, _ in FORMS}
    for c, m, side in SHAPES:
        rng = np.random.default_rng(c * 1000 + side)
        path = os.path.join(out, "conv_%d_%d_%d.onnx" % (c, m, side))
        w, b = model(path, c, m, side, rng)
        errors = {name: 0.0 for name, _ in FORMS}
        for seed in range(seeds):
            x = rng.uniform(-1, 1, (1, c, side, side)).astype(np.float32)
            x_path = os.path.join(out, "x.npy")
            np.save(x_path, x)
            want = reference(x, w, b)
            for name, setting in FORMS:
                env = dict(os.environ)
                env.pop("ONNX_MINI_WINOGRAD", None)
                if setting is not None:
                    env["ONNX_MINI_WINOGRAD"] = setting
                y_dir = os.path.join(out, "y")
                subprocess.run([run, path, "--threads", "1", "--input", "X=" + x_path, "--output-dir", y_dir],
                               env=env, check=True, capture_output=True)
                got = np.load(os.path.join(y_dir, "Z.npy"))[0].astype(np.float64)
                errors[name] = max(errors[name], np.abs(got - want).max() / np.abs(want).max())
        for name in errors:
            worst[name] = max(worst[name], errors[name])
        print("%-18s" % ("%d -> %d at %d" % (c, m, side)) + "".join("%12.2e" % errors[n] for n, _ in FORMS))
    print("%-18s" % "worst" + "".join("%12.2e" % worst[n] for n, _ in FORMS))


if __name__ == "__main__":
    main()
