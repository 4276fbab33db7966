#!/usr/bin/python3
"""Regenerate models/scripted_control_flow: a torch.jit.script module with a
data-dependent loop and branch, exported to ONNX Loop and If, and PyTorch's own
outputs for three inputs (test_data_set_N, the node-test layout CTest's
models.* cases run with passes on and off).

    /usr/bin/python3 scripts/make_control_flow_model.py

Needs Debian's python3-torch (1.13) and python3-onnx (1.12). Inputs are seeded,
so running it twice leaves `git status` clean. scripts/make_models.py writes the
other models; this one is apart because its numpy evaluator has no Loop or If.
"""
import io
import os
import shutil

import numpy as np
import onnx
import torch
from onnx import numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDER = os.path.join(ROOT, "models", "scripted_control_flow")


class HalveUntilSmall(torch.nn.Module):
    """Halves x until its absolute sum drops below a limit (at most `steps`
    times), counting the halvings; then adds 1 or subtracts 1 depending on the
    sign of the sum. Loop trip count and branch both depend on the data."""

    def forward(self, x: torch.Tensor, steps: torch.Tensor):
        count = torch.zeros(1)
        for _ in range(int(steps)):
            if bool(x.abs().sum() < 4.0):
                break
            x = x * 0.5
            count = count + 1.0
        if bool(x.sum() > 0):
            y = x + 1.0
        else:
            y = x - 1.0
        return y, count


def main():
    module = torch.jit.script(HalveUntilSmall())
    rng = np.random.default_rng(7)
    # A loop that stops on the data, one stopped by `steps`, one that never runs.
    cases = [(rng.standard_normal((2, 3)).astype(np.float32) * 8, 10),
             (rng.standard_normal((4, 3)).astype(np.float32) * 50, 2),
             (rng.standard_normal((1, 3)).astype(np.float32) * 0.1 - 1, 5)]
    example = (torch.from_numpy(cases[0][0]), torch.tensor(cases[0][1]))
    buf = io.BytesIO()
    torch.onnx.export(module, example, buf, opset_version=13, input_names=["x", "steps"], output_names=["y", "count"],
                      dynamic_axes={"x": {0: "rows"}, "y": {0: "rows"}})
    model = onnx.load_from_string(buf.getvalue())
    model.doc_string = "scripted_control_flow: torch.jit.script loop with break and a data-dependent branch"
    ops = {n.op_type for n in model.graph.node}
    assert "Loop" in ops and "If" in ops, ops
    onnx.checker.check_model(model)
    os.makedirs(FOLDER, exist_ok=True)
    for entry in os.listdir(FOLDER):
        if entry.startswith("test_data_set_"):
            shutil.rmtree(os.path.join(FOLDER, entry))
    onnx.save(model, os.path.join(FOLDER, "model.onnx"))
    for n, (x, steps) in enumerate(cases):
        with torch.no_grad():
            y, count = module(torch.from_numpy(x), torch.tensor(steps))
        d = os.path.join(FOLDER, "test_data_set_%d" % n)
        os.makedirs(d)
        feeds = [("x", x), ("steps", np.array(steps, dtype=np.int64))]
        for i, (name, a) in enumerate(feeds):
            with open(os.path.join(d, "input_%d.pb" % i), "wb") as f:
                f.write(numpy_helper.from_array(a, name).SerializeToString())
        for i, (name, t) in enumerate((("y", y), ("count", count))):
            with open(os.path.join(d, "output_%d.pb" % i), "wb") as f:
                f.write(numpy_helper.from_array(t.numpy(), name).SerializeToString())


if __name__ == "__main__":
    main()
