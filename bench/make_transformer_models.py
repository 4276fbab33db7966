#!/usr/bin/python3
"""Writes the transformer benchmark models into OUT_DIR (under the build tree; never committed).

  /usr/bin/python3 bench/make_transformer_models.py build/bench_models

gpt_block_op13.onnx: a pre-LayerNorm GPT-style decoder block (d_model 256, 4 heads,
  feed-forward 1024 with exact GELU, causal mask), hand-written attention so the export
  is the MatMul -> scale -> mask Add -> Softmax -> MatMul chain, exported at opset 13
  (LayerNorm and GELU as their exported op chains).
encoder_layer_op17.onnx: nn.TransformerEncoderLayer(256, 4, 1024, batch_first, GELU)
  exported at opset 17 (LayerNormalization as one op).
Both: input x [batch, 128, 256] with batch symbolic; weights from torch.manual_seed(0).
"""
import math
import os
import sys

import torch
from torch import nn

D, HEADS, FF, SEQ = 256, 4, 1024, 128


class GptBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(D), nn.LayerNorm(D)
        self.qkv, self.proj = nn.Linear(D, 3 * D), nn.Linear(D, D)
        self.fc1, self.fc2 = nn.Linear(D, FF), nn.Linear(FF, D)
        self.register_buffer("mask", torch.triu(torch.full((SEQ, SEQ), float("-inf")), diagonal=1))

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=2)
        heads = lambda z: z.reshape(b, t, HEADS, D // HEADS).transpose(1, 2)
        q, k, v = heads(q), heads(k), heads(v)
        scores = q @ k.transpose(-2, -1) / math.sqrt(D // HEADS) + self.mask
        att = torch.softmax(scores, dim=-1) @ v
        x = x + self.proj(att.transpose(1, 2).reshape(b, t, D))
        return x + self.fc2(nn.functional.gelu(self.fc1(self.ln2(x))))


def export(model, path, opset):
    model.eval()
    x = torch.randn(1, SEQ, D)
    torch.onnx.export(model, x, path, opset_version=opset, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    export(GptBlock(), os.path.join(out, "gpt_block_op13.onnx"), 13)
    layer = nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0, activation="gelu", batch_first=True)
    export(layer, os.path.join(out, "encoder_layer_op17.onnx"), 17)


if __name__ == "__main__":
    main()
