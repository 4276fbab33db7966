#!/usr/bin/python3
"""Regenerate every reference model under models/ and its PyTorch outputs.

    /usr/bin/python3 scripts/make_models.py            # rewrite models/
    /usr/bin/python3 scripts/make_models.py --probe    # print the op types torch 1.13
                                                       # exports for each loss, opsets 12-17

Needs Debian's python3-torch (1.13) and python3-onnx (1.12): run it with
/usr/bin/python3, not the python3 first on PATH.

Every folder gets model.onnx plus test_data_set_N/{input_K,output_K}.pb, the
layout of the ONNX node tests: inputs and outputs in graph order, each
TensorProto named after its graph input/output. Reference outputs always come
from PyTorch in float32 (for the loss graphs: from the real nn.*Loss modules,
not from the primitive re-implementations that we export). Every random draw
is seeded, so running the script twice leaves `git status` clean.

As a guard against a model that cannot match its reference, every exported
graph is also run through the small numpy evaluator at the end of this file,
and must reproduce the torch reference (or, for the Softmax->Log large-logit
model, must produce the non-finite loss that motivates the fused kernel).
"""
import argparse
import io
import math
import os
import shutil
import sys
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

from cnn_models import CNN_OPS, make_cnn_models

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "models")
REDUCTIONS = ("none", "mean", "sum")
DEFAULT_OPSET = 13
PRODUCER = "onnx-mini scripts/make_models.py"

# torch.onnx.export warns about constant folding and training mode on every
# call; the models are exported in eval mode on purpose.
warnings.filterwarnings("ignore", category=UserWarning)


# ----------------------------------------------------------------------------
# Writing a model folder


def write_folder(rel, model, datasets, expect_nonfinite=False, tolerance=(1e-5, 1e-4)):
    """Write models/<rel>/model.onnx and one test_data_set_N per (inputs, outputs).

    Stale model.onnx and test_data_set_* are removed first; hand-written files
    (README.md, check_options.txt) are kept. `tolerance` (atol, rtol) bounds
    the numpy evaluator against the reference.
    """
    onnx.checker.check_model(model, full_check=True)
    folder = os.path.join(MODELS, rel)
    os.makedirs(folder, exist_ok=True)
    for entry in os.listdir(folder):
        if entry.startswith("test_data_set_"):
            shutil.rmtree(os.path.join(folder, entry))
    initializers = {t.name for t in model.graph.initializer}
    in_names = [i.name for i in model.graph.input if i.name not in initializers]
    out_names = [o.name for o in model.graph.output]
    for n, (inputs, outputs) in enumerate(datasets):
        assert len(inputs) == len(in_names) and len(outputs) == len(out_names), rel
        got = evaluate(model, dict(zip(in_names, inputs)))
        for name, ref, val in zip(out_names, outputs, got):
            assert ref.dtype == val.dtype, (rel, name, ref.dtype, val.dtype)
            assert ref.shape == val.shape, (rel, name, ref.shape, val.shape)
            if expect_nonfinite:
                assert not np.all(np.isfinite(val)), (rel, name, "expected inf/NaN unfused")
            else:
                np.testing.assert_allclose(val.astype(np.float64), ref.astype(np.float64),
                                           rtol=tolerance[1], atol=tolerance[0],
                                           err_msg=f"{rel}: exported graph != torch")
        ds = os.path.join(folder, f"test_data_set_{n}")
        os.makedirs(ds)
        for k, (name, arr) in enumerate(zip(in_names, inputs)):
            save_tensor(os.path.join(ds, f"input_{k}.pb"), arr, name)
        for k, (name, arr) in enumerate(zip(out_names, outputs)):
            save_tensor(os.path.join(ds, f"output_{k}.pb"), arr, name)
    with open(os.path.join(folder, "model.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    size = os.path.getsize(os.path.join(folder, "model.onnx"))
    assert size < 1 << 20, f"{rel}: model.onnx is {size} bytes, keep models under 1 MB"
    print(f"  {rel}: {len(datasets)} data set(s), {size} bytes, ops "
          + " ".join(sorted({n.op_type for n in model.graph.node})))


def save_tensor(path, arr, name):
    with open(path, "wb") as f:
        # np.array, not np.ascontiguousarray: the latter turns a 0-d scalar loss into shape [1].
        f.write(numpy_helper.from_array(np.array(arr, order="C"), name).SerializeToString())


def export(module, args, input_names, output_names, opset=DEFAULT_OPSET, dynamic_axes=None,
           doc="", training=torch.onnx.TrainingMode.EVAL):
    """torch.onnx.export to memory, with stable metadata. The module is in eval
    mode either way; training=PRESERVE keeps BatchNormalization nodes (EVAL lets
    the exporter fold them into the preceding Conv)."""
    module.eval()
    buf = io.BytesIO()
    torch.onnx.export(module, args, buf, opset_version=opset, input_names=input_names,
                      output_names=output_names, dynamic_axes=dynamic_axes,
                      do_constant_folding=True, training=training)
    model = onnx.load_from_string(buf.getvalue())
    # producer_name/version stay "pytorch"/"1.13.0" (true and stable); the doc
    # string says which script made it.
    model.doc_string = doc
    return model


def helper_model(nodes, inputs, outputs, opset=DEFAULT_OPSET, doc=""):
    graph = helper.make_graph(nodes, "main", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name=PRODUCER, doc_string=doc)
    model.ir_version = 7  # the IR version that goes with opsets 12-13, readable by onnx 1.12
    return model


def t2n(t):
    return t.detach().cpu().numpy()


# ----------------------------------------------------------------------------
# MLP classifier (the README's default model), and the same in float16


def make_mlp_classifier():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                          nn.Linear(64, 10), nn.Softmax(dim=1)).eval()
    rng = np.random.default_rng(1)
    datasets = []
    with torch.no_grad():
        for batch in (1, 4, 64):
            x = rng.random((batch, 784), dtype=np.float32)  # pixel-like values in [0, 1)
            datasets.append(([x], [t2n(model(torch.from_numpy(x)))]))
        onnx_model = export(model, (torch.from_numpy(datasets[0][0][0]),), ["input"], ["probs"],
                            dynamic_axes={"input": {0: "batch"}, "probs": {0: "batch"}},
                            doc="MLP classifier 784-128-64-10, ReLU, Softmax; dynamic batch")
    write_folder("mlp_classifier", onnx_model, datasets)


def to_float16_model(model):
    """The same graph with every float tensor (inputs, outputs, initializers) in float16."""
    half = onnx.ModelProto()
    half.CopyFrom(model)
    for init in half.graph.initializer:
        if init.data_type == TensorProto.FLOAT:
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name))
    for v in list(half.graph.input) + list(half.graph.output) + list(half.graph.value_info):
        if v.type.tensor_type.elem_type == TensorProto.FLOAT:
            v.type.tensor_type.elem_type = TensorProto.FLOAT16
    assert {n.op_type for n in half.graph.node} <= {"Gemm", "Relu", "Softmax"}, "only type-generic ops"
    return half


# Float16 outputs: one float16 ulp is 2^-11 relative (6.1e-5 at the probabilities'
# 0.06..0.125). The reference is the float32 network on the float16 weights and
# input, rounded once at the end; the evaluator (and onnx-mini) also round each
# hidden layer to float16, which moved no probability by more than 1 ulp
# (6.1e-5). Bound: about 3 ulps anywhere in [0.06, 1], the same numbers as the
# model's check_options.txt (which CTest's --check and check_portable.py read).
MLP_FP16_TOLERANCE = (1e-4, 2e-3)


def make_mlp_classifier_fp16():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                          nn.Linear(64, 10), nn.Softmax(dim=1)).eval()
    rng = np.random.default_rng(2)
    datasets = []
    with torch.no_grad():
        # torch 1.13 on CPU has no float16 Linear: the reference runs in float32
        # on the float16-rounded weights and inputs and is rounded to float16.
        for p in model.parameters():
            p.copy_(p.half().float())
        for batch in (1, 4, 64):
            x = rng.random((batch, 784), dtype=np.float32).astype(np.float16)
            probs = t2n(model(torch.from_numpy(x.astype(np.float32)))).astype(np.float16)
            datasets.append(([x], [probs]))
        onnx_model = export(model, (torch.from_numpy(datasets[0][0][0].astype(np.float32)),), ["input"], ["probs"],
                            dynamic_axes={"input": {0: "batch"}, "probs": {0: "batch"}},
                            doc="MLP classifier 784-128-64-10, ReLU, Softmax, in float16; dynamic batch")
    write_folder("mlp_classifier_fp16", to_float16_model(onnx_model), datasets, tolerance=MLP_FP16_TOLERANCE)


# ----------------------------------------------------------------------------
# MLP with a cross-entropy head


class MlpCrossEntropy(nn.Module):
    def __init__(self):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(),
                                 nn.Linear(16, 5))

    def forward(self, x, labels):
        logits = self.mlp(x)
        return logits, F.cross_entropy(logits, labels)


def make_mlp_cross_entropy():
    torch.manual_seed(2)
    model = MlpCrossEntropy().eval()
    real_loss = nn.CrossEntropyLoss()
    rng = np.random.default_rng(3)
    datasets = []
    with torch.no_grad():
        for batch in (1, 8, 32):
            x = rng.standard_normal((batch, 20), dtype=np.float32)
            y = rng.integers(0, 5, size=(batch,), dtype=np.int64)
            logits = model.mlp(torch.from_numpy(x))
            loss = real_loss(logits, torch.from_numpy(y))
            exported_logits, exported_loss = model(torch.from_numpy(x), torch.from_numpy(y))
            torch.testing.assert_close(exported_loss, loss, rtol=0, atol=0)
            datasets.append(([x, y], [t2n(logits), t2n(loss)]))
        onnx_model = export(model, (torch.from_numpy(datasets[1][0][0]),
                                    torch.from_numpy(datasets[1][0][1])),
                            ["X", "labels"], ["logits", "loss"],
                            dynamic_axes={"X": {0: "batch"}, "labels": {0: "batch"},
                                          "logits": {0: "batch"}},
                            doc="MLP 20-32-16-5 with ReLU and a cross-entropy loss head")
    write_folder("mlp_cross_entropy", onnx_model, datasets)


# ----------------------------------------------------------------------------
# Loss graphs. torch 1.13 refuses aten::mse_loss, l1_loss and
# binary_cross_entropy, so these modules spell the losses in primitive ops;
# each is checked against the real nn.*Loss before export.


def reduce(t, reduction):
    if reduction == "mean":
        return t.mean()
    if reduction == "sum":
        return t.sum()
    return t


class PrimitiveMSE(nn.Module):
    def __init__(self, reduction):
        super().__init__()
        self.reduction = reduction

    def forward(self, x, y):
        return reduce((x - y) ** 2, self.reduction)


class PrimitiveL1(nn.Module):
    def __init__(self, reduction):
        super().__init__()
        self.reduction = reduction

    def forward(self, x, y):
        return reduce(torch.abs(x - y), self.reduction)


class PrimitiveBCE(nn.Module):
    """nn.BCELoss, including its clamp of log at -100 (so p = 0 or 1 stays finite)."""

    def __init__(self, reduction):
        super().__init__()
        self.reduction = reduction

    def forward(self, p, y):
        log_p = torch.clamp(torch.log(p), min=-100)
        log_1mp = torch.clamp(torch.log(1 - p), min=-100)
        return reduce(-(y * log_p + (1 - y) * log_1mp), self.reduction)


class LossWrapper(nn.Module):
    """Wraps a real loss module or functional so torch.onnx.export sees a Module."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, a, b):
        return self.fn(a, b)


def export_loss(rel, module, real, inputs, input_names, opset=DEFAULT_OPSET, extra_sets=()):
    """Check module == real on every data set, export module, write the folder."""
    datasets = []
    with torch.no_grad():
        for arrays in (inputs, *extra_sets):
            tensors = [torch.from_numpy(a) for a in arrays]
            ref = real(*tensors)
            mine = module(*tensors)
            torch.testing.assert_close(mine, ref, rtol=1e-6, atol=0, equal_nan=True)
            datasets.append((list(arrays), [t2n(ref)]))
        model = export(module, tuple(torch.from_numpy(a) for a in inputs), input_names, ["loss"],
                       opset=opset, doc=f"{rel}: reference from the real PyTorch loss")
    write_folder(os.path.join("losses", rel), model, datasets)
    return model


def make_regression_losses():
    rng = np.random.default_rng(10)
    x = rng.standard_normal((8, 6), dtype=np.float32)
    y = rng.standard_normal((8, 6), dtype=np.float32)
    for r in REDUCTIONS:
        export_loss(f"mse_{r}", PrimitiveMSE(r), nn.MSELoss(reduction=r), [x, y], ["input", "target"])
        export_loss(f"l1_{r}", PrimitiveL1(r), nn.L1Loss(reduction=r), [x, y], ["input", "target"])


def bce_data(rng):
    p = rng.uniform(0.02, 0.98, size=(8, 6)).astype(np.float32)
    # Exact 0 and 1 hit BCELoss's clamp of log at -100, for both label values.
    p[0, :4] = [0.0, 0.0, 1.0, 1.0]
    y = rng.integers(0, 2, size=(8, 6)).astype(np.float32)
    y[0, :4] = [0.0, 1.0, 0.0, 1.0]
    y[1, :] = rng.uniform(0, 1, size=6).astype(np.float32)  # soft labels are legal too
    return p, y


def make_bce_losses():
    rng = np.random.default_rng(11)
    p, y = bce_data(rng)
    # Logits kept within +-6: the exported graph is the naive Sigmoid/Log form,
    # which loses to float32 rounding where the real loss (log-sum-exp form)
    # does not, e.g. sigmoid(20) == 1 in float32 gives log(0).
    logits = rng.uniform(-6, 6, size=(8, 6)).astype(np.float32)
    targets = rng.integers(0, 2, size=(8, 6)).astype(np.float32)
    for r in REDUCTIONS:
        export_loss(f"bce_{r}", PrimitiveBCE(r), nn.BCELoss(reduction=r), [p, y],
                    ["input", "target"])
        real = nn.BCEWithLogitsLoss(reduction=r)
        export_loss(f"bce_with_logits_{r}", real, real, [logits, targets], ["input", "target"])


def make_cross_entropy_losses():
    rng = np.random.default_rng(12)
    n, c = 6, 5
    x = rng.standard_normal((n, c), dtype=np.float32) * 2
    y = rng.integers(0, c, size=(n,), dtype=np.int64)
    weight = torch.from_numpy(rng.uniform(0.2, 2.0, size=(c,)).astype(np.float32))
    y_ignored = y.copy()
    y_ignored[[1, 4]] = -1  # ignored labels may lie outside [0, C)
    y_all_ignored = np.full_like(y, -1)  # mean over nothing: NaN, as in PyTorch
    xk = rng.standard_normal((3, 4, 5), dtype=np.float32)
    yk = rng.integers(0, 4, size=(3, 5), dtype=np.int64)
    log_probs = t2n(F.log_softmax(torch.from_numpy(x), dim=1))

    names = ["input", "target"]
    for r in REDUCTIONS:
        ce = nn.CrossEntropyLoss(reduction=r)
        export_loss(f"cross_entropy_{r}", ce, ce, [x, y], names)
        ce = nn.CrossEntropyLoss(weight=weight, reduction=r)
        export_loss(f"cross_entropy_weight_{r}", ce, ce, [x, y], names)
        ce = nn.CrossEntropyLoss(ignore_index=-1, reduction=r)
        export_loss(f"cross_entropy_ignore_index_{r}", ce, ce, [x, y_ignored], names,
                    extra_sets=[[x, y_all_ignored]])
        ce = nn.CrossEntropyLoss(reduction=r)
        export_loss(f"cross_entropy_kdim_{r}", ce, ce, [xk, yk], names)
        # nn.NLLLoss on log-probabilities: exports NegativeLogLikelihoodLoss.
        nll = nn.NLLLoss(reduction=r)
        export_loss(f"nll_{r}", nll, nll, [log_probs, y], names)
        # log_softmax + nll_loss: torch 1.13 exports one SoftmaxCrossEntropyLoss.
        module = LossWrapper(lambda a, b, r=r: F.nll_loss(F.log_softmax(a, dim=1), b, reduction=r))
        real = LossWrapper(lambda a, b, r=r: nn.NLLLoss(reduction=r)(F.log_softmax(a, dim=1), b))
        export_loss(f"log_softmax_nll_{r}", module, real, [x, y], names)
        make_explicit_logsoftmax_nll(f"logsoftmax_nll_explicit_{r}", r, x, y)
    for opset in (12, 17):
        ce = nn.CrossEntropyLoss()
        export_loss(f"cross_entropy_opset{opset}_mean", ce, ce, [x, y], names, opset=opset)


def nll_graph(first_nodes, reduction, n, c, opset=DEFAULT_OPSET, doc=""):
    """<first_nodes> on 'logits' producing 'log_probs', then NegativeLogLikelihoodLoss."""
    out_shape = [n] if reduction == "none" else []
    nodes = first_nodes + [
        helper.make_node("NegativeLogLikelihoodLoss", ["log_probs", "labels"], ["loss"],
                         name="nll", reduction=reduction)]
    return helper_model(
        nodes,
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [n, c]),
         helper.make_tensor_value_info("labels", TensorProto.INT64, [n])],
        [helper.make_tensor_value_info("loss", TensorProto.FLOAT, out_shape)],
        opset=opset, doc=doc)


def make_explicit_logsoftmax_nll(rel, reduction, x, y):
    """torch never exports LogSoftmax -> NegativeLogLikelihoodLoss, so build it by hand."""
    n, c = x.shape
    model = nll_graph([helper.make_node("LogSoftmax", ["logits"], ["log_probs"],
                                        name="log_softmax", axis=1)], reduction, n, c,
                      doc="LogSoftmax -> NegativeLogLikelihoodLoss built with onnx.helper")
    ref = nn.NLLLoss(reduction=reduction)(F.log_softmax(torch.from_numpy(x), dim=1),
                                          torch.from_numpy(y))
    write_folder(os.path.join("losses", rel), model, [([x, y], [t2n(ref)])])


# ----------------------------------------------------------------------------
# Large logits: where fusing softmax and log is a correctness feature


def large_logit_data():
    rng = np.random.default_rng(20)
    n, c = 8, 10
    magnitude = rng.uniform(1e3, 1e4, size=(n, c))
    x = (magnitude * rng.choice([-1.0, 1.0], size=(n, c))).astype(np.float32)
    y = rng.integers(0, c, size=(n,), dtype=np.int64)
    y[0] = int(np.argmin(x[0]))  # a target far from the max: exp underflows to 0
    assert np.any(y != np.argmax(x, axis=1))
    # Exact loss in float64 from PyTorch, then rounded once to float32.
    ref = F.cross_entropy(torch.from_numpy(x).double(), torch.from_numpy(y)).float()
    assert torch.isfinite(ref)
    return x, y, t2n(ref)


def make_large_logit_models():
    x, y, ref = large_logit_data()
    n, c = x.shape
    softmax_log = nll_graph(
        [helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=1),
         helper.make_node("Log", ["probs"], ["log_probs"], name="log")],
        "mean", n, c, doc="Softmax -> Log -> NLL on logits of magnitude 1e3..1e4")
    write_folder("softmax_log_nll_large_logits", softmax_log, [([x, y], [ref])],
                 expect_nonfinite=True)
    log_softmax = nll_graph(
        [helper.make_node("LogSoftmax", ["logits"], ["log_probs"], name="log_softmax", axis=1)],
        "mean", n, c, doc="LogSoftmax -> NLL on logits of magnitude 1e3..1e4")
    write_folder("logsoftmax_nll_large_logits", log_softmax, [([x, y], [ref])])


# ----------------------------------------------------------------------------
# GELU as torch 1.13 exports it (no Gelu op before opset 20): the exact form
# becomes Div(x, sqrt 2) Erf Add(1) Mul(x) Mul(0.5), the tanh form
# Mul Mul Mul Add Mul Tanh Add Mul Mul. Reference: nn.GELU itself.


def gelu_inputs():
    # The accuracy grid's finite edge values (the exported graph computes
    # x * (1 + erf) before halving, so +-FLT_MAX would overflow where nn.GELU
    # does not: a property of the exported formula, left out), NaN, and a
    # dense sweep of [-10, 10] where both tails matter.
    edges = [0.0, 1e-30, 1e-3, 0.5, 1.0, 3.0, 5.0, 20.0, 100.0, 1e4, 1e30]
    x = np.array(edges + [-e for e in edges] + [np.nan], dtype=np.float32)
    sweep = np.linspace(-10, 10, 201, dtype=np.float32)
    return np.concatenate([x, sweep]).reshape(1, -1)


def make_gelu_models():
    x = gelu_inputs()
    for approx, rel in (("none", "gelu_erf"), ("tanh", "gelu_tanh")):
        module = nn.GELU(approximate=approx)
        with torch.no_grad():
            ref = t2n(module(torch.from_numpy(x)))
        model = export(module, (torch.from_numpy(x),), ["x"], ["y"], dynamic_axes={"x": {1: "n"}, "y": {1: "n"}},
                       doc=f"{rel}: nn.GELU(approximate='{approx}') as exported; reference from nn.GELU")
        write_folder(rel, model, [([x], [ref])])


# A transformer encoder classifier at opset 17 (LayerNormalization as one op):
# nn.TransformerEncoderLayer(d_model 32, 4 heads, feed-forward 64, GELU,
# batch_first), mean over the sequence, Linear(32, 5). Reference: the module.


class TransformerClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, activation="gelu", batch_first=True)
        self.head = nn.Linear(32, 5)

    def forward(self, x):
        return self.head(self.encoder(x).mean(dim=1))


def make_transformer_classifier():
    torch.manual_seed(17)
    module = TransformerClassifier().eval()
    rng = np.random.default_rng(17)
    sets = []
    for batch in (1, 3):
        x = rng.standard_normal((batch, 8, 32)).astype(np.float32)
        with torch.no_grad():
            sets.append(([x], [t2n(module(torch.from_numpy(x)))]))
    model = export(module, (torch.from_numpy(sets[0][0][0]),), ["x"], ["logits"], opset=17,
                   dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}},
                   doc="transformer_encoder_classifier_opset17: nn.TransformerEncoderLayer + mean + Linear")
    write_folder("transformer_encoder_classifier_opset17", model, sets)


# A causal self-attention block as GPT-style code writes it at opset 13:
# Linear to q, k, v, heads split by view/transpose, scores / sqrt(d),
# masked_fill(causal mask, -inf) (exported as Where on a bool constant), softmax,
# heads merged, Linear out. Reference: the module.


class CausalSelfAttention(nn.Module):
    def __init__(self, dim=32, heads=4, seq=8):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.register_buffer("future", torch.triu(torch.ones(seq, seq, dtype=torch.bool), 1))

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(x).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(c // self.heads)
        scores = scores.masked_fill(self.future, float("-inf"))
        y = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, t, c)
        return self.out(y)


def make_causal_attention():
    torch.manual_seed(13)
    module = CausalSelfAttention().eval()
    rng = np.random.default_rng(13)
    sets = []
    for batch in (1, 3):
        x = rng.standard_normal((batch, 8, 32)).astype(np.float32)
        with torch.no_grad():
            sets.append(([x], [t2n(module(torch.from_numpy(x)))]))
    model = export(module, (torch.from_numpy(sets[0][0][0]),), ["x"], ["y"],
                   dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
                   doc="causal_attention: GPT-style causal self-attention with masked_fill")
    write_folder("causal_attention", model, sets)


# ----------------------------------------------------------------------------
# Recurrent classifiers: nn.LSTM / nn.GRU (batch_first, bidirectional, two
# layers) over the sequence, then a Linear on the last time step's output.


class RecurrentClassifier(nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.rnn = cell(input_size=6, hidden_size=8, num_layers=2, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(16, 3)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.fc(y[:, -1, :])


def make_recurrent_classifiers():
    for cell, rel in ((nn.LSTM, "lstm_classifier"), (nn.GRU, "gru_classifier")):
        torch.manual_seed(0)
        module = RecurrentClassifier(cell).eval()
        rng = np.random.default_rng(1)
        # (batch, seq): one row one step, a batch of several, a longer sequence.
        xs = [rng.standard_normal(shape, dtype=np.float32) for shape in ((1, 1, 6), (4, 5, 6), (3, 12, 6))]
        with torch.no_grad():
            datasets = [([x], [t2n(module(torch.from_numpy(x)))]) for x in xs]
        model = export(module, (torch.from_numpy(xs[1]),), ["x"], ["logits"], opset=14,
                       dynamic_axes={"x": {0: "batch", 1: "seq"}, "logits": {0: "batch"}},
                       doc=f"{rel}: nn.{cell.__name__}(6, 8, num_layers=2, batch_first, bidirectional) "
                           "+ Linear(16, 3) on the last step")
        write_folder(rel, model, datasets)


# ----------------------------------------------------------------------------
# --probe: what torch 1.13 exports for each loss, opsets 12-17


def probe():
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal((4, 5), dtype=np.float32))
    t = torch.from_numpy(rng.random((4, 5), dtype=np.float32))
    y = torch.tensor([0, 1, 2, 3])
    cases = {
        "MSE (primitive, mean)": (PrimitiveMSE("mean"), (x, t)),
        "L1 (primitive, mean)": (PrimitiveL1("mean"), (x, t)),
        "BCE (primitive, mean)": (PrimitiveBCE("mean"), (t, t)),
        "nn.BCEWithLogitsLoss": (nn.BCEWithLogitsLoss(), (x, t)),
        "nn.CrossEntropyLoss(weight)": (nn.CrossEntropyLoss(weight=torch.ones(5)), (x, y)),
        "log_softmax+nll_loss": (LossWrapper(lambda a, b: F.nll_loss(F.log_softmax(a, 1), b)),
                                 (x, y)),
        "nn.NLLLoss": (nn.NLLLoss(), (x, y)),
        "nn.MSELoss": (nn.MSELoss(), (x, t)),
        "nn.L1Loss": (nn.L1Loss(), (x, t)),
        "nn.BCELoss": (nn.BCELoss(), (t, t)),
        "nn.CrossEntropyLoss(label_smoothing)": (nn.CrossEntropyLoss(label_smoothing=0.1), (x, y)),
    }
    for name, (module, args) in cases.items():
        for opset in range(12, 18):
            try:
                model = export(module, args, ["a", "b"], ["loss"], opset=opset)
                ops = " ".join(n.op_type for n in model.graph.node)
            except Exception as e:  # the exporter's refusal is the answer here
                ops = "REFUSED: " + str(e).splitlines()[0][:60]
            print(f"{name}\t{opset}\t{ops}")


# ----------------------------------------------------------------------------
# A minimal numpy evaluator for the ops these models use (a sanity check of the
# exported graphs, independent of the runtime under test).


def evaluate(model, feeds):
    """Runs the graph in numpy. float16 as onnx-mini computes it: each node
    widens its float16 inputs to float32 and rounds its outputs to float16."""
    env = dict(feeds)
    for init in model.graph.initializer:
        env[init.name] = numpy_helper.to_array(init)
    env[""] = None
    for node in model.graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        args = [env[i] for i in node.input]
        half = any(isinstance(v, np.ndarray) and v.dtype == np.float16 for v in args)
        if half:
            args = [v.astype(np.float32) if isinstance(v, np.ndarray) and v.dtype == np.float16 else v for v in args]
        outs = OPS[node.op_type](attrs, *args)
        if half:
            outs = [v.astype(np.float16) if v.dtype == np.float32 else v for v in outs]
        for name, val in zip(node.output, outs):
            env[name] = val
    return [env[o.name] for o in model.graph.output]


def _gemm(a, x, w, b=None):
    if a.get("transA", 0):
        x = x.T
    if a.get("transB", 0):
        w = w.T
    y = a.get("alpha", 1.0) * (x @ w)
    if b is not None:
        y = y + a.get("beta", 1.0) * b
    return (y.astype(np.float32),)


def _layer_norm(a, x, scale, bias=None):
    axes = tuple(range(a.get("axis", -1) % x.ndim, x.ndim))
    d = x - x.mean(axis=axes, keepdims=True)
    y = d / np.sqrt((d * d).mean(axis=axes, keepdims=True) + a.get("epsilon", 1e-5)) * scale
    return ((y if bias is None else y + bias).astype(x.dtype),)


def _slice(a, x, starts, ends, axes=None, steps=None):
    axes = range(len(starts)) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    index = [slice(None)] * x.ndim
    for s, e, ax, st in zip(starts, ends, axes, steps):
        index[ax] = slice(int(s), int(e), int(st))
    return (x[tuple(index)],)


def _reshape(a, x, shape):
    shape = [x.shape[i] if d == 0 else int(d) for i, d in enumerate(shape)]
    return (x.reshape(shape),)


def _log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _nll(a, log_probs, labels, weight=None):
    ignore = a.get("ignore_index", None)
    c = log_probs.shape[1]
    lp = np.moveaxis(log_probs, 1, -1).reshape(-1, c)
    lab = labels.reshape(-1)
    w = np.ones(c, dtype=log_probs.dtype) if weight is None else weight
    mask = (lab != ignore) if ignore is not None else np.ones_like(lab, dtype=bool)
    safe = np.where(mask, lab, 0)
    wt = np.where(mask, w[safe], 0).astype(log_probs.dtype)
    with np.errstate(invalid="ignore"):
        loss = np.where(mask, -lp[np.arange(lab.size), safe] * wt, 0).astype(log_probs.dtype)
    red = a.get("reduction", b"mean").decode()
    if red == "none":
        return (loss.reshape(labels.shape),)
    if red == "sum":
        return (np.array(loss.sum(), dtype=log_probs.dtype),)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.array(loss.sum() / wt.sum(), dtype=log_probs.dtype),)


def _reduce(fn):
    def op(a, x, axes=None):
        axes = a.get("axes", None if axes is None else tuple(axes))
        return (np.asarray(fn(x, axis=None if axes is None else tuple(axes),
                              keepdims=bool(a.get("keepdims", 1)))),)
    return op


def _clip(a, x, lo=None, hi=None):
    y = x
    if lo is not None:
        y = np.maximum(y, lo)
    if hi is not None:
        y = np.minimum(y, hi)
    return (y,)


def _ufunc(fn):
    def op(a, *xs):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return (np.asarray(fn(*xs)),)
    return op


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _recurrent(step, gates):
    """RNN/GRU/LSTM as torch exports them: layout 0, default activations, no
    sequence_lens; each direction a plain loop over time in float64."""
    def op(a, x, w, r, b=None, lens=None, h0=None, c0=None):
        assert lens is None and a.get("layout", 0) == 0 and "activations" not in a and "clip" not in a
        seq, batch, _ = x.shape
        dirs, hidden = w.shape[0], r.shape[2]
        b = np.zeros((dirs, 2 * gates * hidden)) if b is None else b.astype(np.float64)
        y = np.zeros((seq, dirs, batch, hidden))
        yh, yc = np.zeros((dirs, batch, hidden)), np.zeros((dirs, batch, hidden))
        for d in range(dirs):
            h = np.zeros((batch, hidden)) if h0 is None else h0[d].astype(np.float64)
            c = np.zeros((batch, hidden)) if c0 is None else c0[d].astype(np.float64)
            steps = range(seq - 1, -1, -1) if d == 1 or a.get("direction", b"forward") == b"reverse" else range(seq)
            for t in steps:
                h, c = step(a, x[t].astype(np.float64), w[d].astype(np.float64), r[d].astype(np.float64),
                            b[d][:gates * hidden], b[d][gates * hidden:], h, c)
                y[t, d] = h
            yh[d], yc[d] = h, c
        return tuple(v.astype(np.float32) for v in (y, yh, yc))
    return op


def _lstm_step(a, x, w, r, wb, rb, h, c):
    i, o, f, g = np.split(x @ w.T + h @ r.T + wb + rb, 4, axis=1)
    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    return _sigmoid(o) * np.tanh(c), c


def _gru_step(a, x, w, r, wb, rb, h, c):
    hidden = h.shape[1]
    xw, hr = x @ w.T + wb, h @ r.T + rb
    z = _sigmoid(xw[:, :hidden] + hr[:, :hidden])
    rs = _sigmoid(xw[:, hidden:2 * hidden] + hr[:, hidden:2 * hidden])
    if a.get("linear_before_reset", 0):
        cand = np.tanh(xw[:, 2 * hidden:] + rs * hr[:, 2 * hidden:])
    else:
        cand = np.tanh(xw[:, 2 * hidden:] + (rs * h) @ r[2 * hidden:].T + rb[2 * hidden:])
    return (1 - z) * cand + z * h, c


def _slice(a, x, starts, ends, axes=None, steps=None):
    axes = range(len(starts)) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    index = [slice(None)] * x.ndim
    for s, e, ax, st in zip(starts, ends, axes, steps):
        index[ax] = slice(int(s), int(max(min(e, 2**62), -2**62)), int(st))
    return (x[tuple(index)],)


def _reshape(a, x, shape):
    shape = [x.shape[k] if v == 0 else v for k, v in enumerate(shape)]
    return (x.reshape(shape),)


OPS = {
    "LSTM": _recurrent(_lstm_step, 4),
    "GRU": _recurrent(_gru_step, 3),
    "Shape": lambda a, x: (np.array(x.shape, dtype=np.int64),),
    "Gather": lambda a, x, i: (np.take(x, i, axis=a.get("axis", 0)),),
    "Unsqueeze": lambda a, x, axes: (np.expand_dims(x, tuple(int(v) for v in axes)),),
    "Concat": lambda a, *xs: (np.concatenate(xs, axis=a["axis"]),),
    "ConstantOfShape": lambda a, s: (np.full(tuple(s), numpy_helper.to_array(a["value"])[0]),),
    "Transpose": lambda a, x: (np.transpose(x, a.get("perm")),),
    "Slice": _slice,
    "Reshape": _reshape,
    "Gemm": _gemm,
    "Relu": _ufunc(lambda x: np.maximum(x, 0).astype(x.dtype)),
    "Softmax": lambda a, x: (np.exp(_log_softmax(x, a.get("axis", -1))),),
    "LogSoftmax": lambda a, x: (_log_softmax(x, a.get("axis", -1)),),
    "Constant": lambda a: (numpy_helper.to_array(a["value"]),),
    "Add": _ufunc(np.add), "Sub": _ufunc(np.subtract), "Mul": _ufunc(np.multiply),
    "Pow": _ufunc(lambda x, y: np.power(x, y).astype(x.dtype)),
    "Neg": _ufunc(np.negative), "Abs": _ufunc(np.abs), "Log": _ufunc(np.log),
    "Sigmoid": _ufunc(lambda x: (1 / (1 + np.exp(-x))).astype(x.dtype)),
    "Clip": _clip,
    "ReduceMean": _reduce(np.mean), "ReduceSum": _reduce(np.sum),
    # Integer Div truncates (shape arithmetic in exported attention: 96 / 3).
    "Div": _ufunc(lambda x, y: np.trunc(np.divide(x, y)).astype(x.dtype)
                  if np.issubdtype(np.asarray(x).dtype, np.integer) else np.divide(x, y)), "Tanh": _ufunc(np.tanh),
    "Erf": _ufunc(lambda x: np.vectorize(math.erf, otypes=[np.float64])(x).astype(x.dtype)),
    "NegativeLogLikelihoodLoss": _nll,
    "Identity": lambda a, x: (x,),
    "Cast": lambda a, x: (x.astype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[a["to"]]),),
    "Shape": lambda a, x: (np.array(x.shape, dtype=np.int64),),
    "Gather": lambda a, x, i: (np.take(x, i, axis=a.get("axis", 0)),),
    "Unsqueeze": lambda a, x, axes: (np.expand_dims(x, tuple(int(v) for v in axes)),),
    "Concat": lambda a, *xs: (np.concatenate(xs, axis=a["axis"]),),
    "Reshape": _reshape,
    "Slice": _slice,
    "Transpose": lambda a, x: (np.transpose(x, a.get("perm")),),
    "MatMul": lambda a, x, y: ((x @ y).astype(x.dtype),),
    "Where": lambda a, c, x, y: (np.where(c, x, y),),
    "Split": lambda a, x, split: tuple(np.split(x, np.cumsum(split)[:-1], axis=a.get("axis", 0))),
    "LayerNormalization": _layer_norm,
    "SoftmaxCrossEntropyLoss":
        lambda a, x, y, w=None: _nll(a, _log_softmax(x, 1), y, w),
    **CNN_OPS,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probe", action="store_true",
                        help="print the op types torch exports per loss and opset, write nothing")
    args = parser.parse_args()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # same float summation order on every machine
    if args.probe:
        probe()
        return 0
    if os.environ.get("OPENBLAS_CORETYPE") != "Haswell":
        # Debian's torch computes Linear and Conv through OpenBLAS, whose kernels
        # (AVX2 vs AVX-512) round differently in the last bit.
        print("note: OPENBLAS_CORETYPE is not Haswell; reference outputs may differ in the last "
              "bit from the committed ones", file=sys.stderr)
    print(f"writing models under {MODELS}")
    make_mlp_classifier()
    make_mlp_classifier_fp16()
    make_mlp_cross_entropy()
    make_regression_losses()
    make_bce_losses()
    make_cross_entropy_losses()
    make_large_logit_models()
    make_gelu_models()
    make_transformer_classifier()
    make_causal_attention()
    make_recurrent_classifiers()
    make_cnn_models(export, write_folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
