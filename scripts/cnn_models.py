"""The convolutional reference models of models/ (imported by make_models.py).

Each builder takes make_models' `export` and `write_folder`, so the CNNs are
written, checked and laid out exactly like every other reference model. CNN_OPS
extends make_models' numpy evaluator with the ops these graphs use; it works in
float64 by plain loops over kernel offsets, independent of the runtime's
kernels.
"""
import numpy as np
import torch
import torch.nn as nn
from onnx import helper

# ----------------------------------------------------------------------------
# The models


class LeNet5(nn.Module):
    """LeNet-5 on 28x28 MNIST-sized inputs (the first conv pads by 2, as for 32x32)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class BasicBlock(nn.Module):
    """ResNet basic block; a strided or widening block gets a 1x1 conv + BN shortcut."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + self.shortcut(x))


class SmallResNet(nn.Module):
    """Stem, an identity block, a stride-2 block with a projection shortcut, pool, fc."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.layer1 = BasicBlock(8, 8, 1)
        self.layer2 = BasicBlock(8, 16, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        y = self.layer2(self.layer1(self.stem(x)))
        return self.fc(torch.flatten(self.pool(y), 1))


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, depthwise 3x3, 1x1 project (+ skip when shapes allow)."""

    def __init__(self, cin, cout, stride, expand, act):
        super().__init__()
        hidden = cin * expand
        self.use_skip = stride == 1 and cin == cout
        self.body = nn.Sequential(
            nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), act(),
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden), act(),
            nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.body(x)
        return x + y if self.use_skip else y


class DepthwiseSeparable(nn.Module):
    """A MobileNet-style stack: ReLU6 blocks (V2) and Hardswish blocks (V3)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.Hardswish())
        self.blocks = nn.Sequential(
            InvertedResidual(8, 8, 1, 4, nn.ReLU6),
            InvertedResidual(8, 16, 2, 4, nn.ReLU6),
            InvertedResidual(16, 16, 1, 3, nn.Hardswish))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.blocks(self.stem(x))), 1))


class TextCnn(nn.Module):
    """Kim-style 1-D text CNN: embedding, two Conv1d + ReLU, max over time, linear."""

    def __init__(self, vocab=50, dim=16):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.conv1 = nn.Conv1d(dim, 24, 3, padding=1)
        # Padded, so that every sequence length >= 1 has an output (onnx-run's
        # generated inputs give the symbolic seq the value 1).
        self.pool = nn.MaxPool1d(3, stride=2, padding=1)
        self.conv2 = nn.Conv1d(24, 32, 3, padding=2, dilation=2)
        self.fc = nn.Linear(32, 4)

    def forward(self, tokens):
        x = self.embed(tokens).transpose(1, 2)  # [batch, dim, seq]
        x = self.pool(torch.relu(self.conv1(x)))
        x = torch.relu(self.conv2(x))
        return self.fc(torch.amax(x, dim=2))


class ConvAutoencoder(nn.Module):
    """28x28 -> 14x14 -> 7x7 with strided convs, back up with ConvTranspose."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 8, 3, 2, 1), nn.ReLU(), nn.Conv2d(8, 16, 3, 2, 1), nn.ReLU())
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(16, 8, 3, 2, 1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(8, 1, 3, 2, 1, output_padding=1), nn.Sigmoid())

    def forward(self, x):
        return self.decoder(self.encoder(x))


def randomize_batch_norm(module, generator):
    """Running statistics and affine parameters away from 0/1, so BN (or its fold) matters."""
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=generator) * 0.2)
            m.running_var.copy_(torch.rand(c, generator=generator) + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=generator) + 0.5)
            m.bias.data.copy_(torch.randn(c, generator=generator) * 0.1)


# ----------------------------------------------------------------------------
# Writing them


def image_datasets(module, rng, channels, size, batches, low=-1.0, high=1.0):
    datasets = []
    with torch.no_grad():
        for batch in batches:
            x = rng.uniform(low, high, size=(batch, channels, size, size)).astype(np.float32)
            datasets.append(([x], [module(torch.from_numpy(x)).numpy()]))
    return datasets


def make_image_model(export, write_folder, rel, module, seed, channels, size, out_name, doc, **kw):
    module.eval()
    rng = np.random.default_rng(seed)
    datasets = image_datasets(module, rng, channels, size, (1, 3))
    model = export(module, (torch.from_numpy(datasets[1][0][0]),), ["input"], [out_name],
                   dynamic_axes={"input": {0: "batch"}, out_name: {0: "batch"}}, doc=doc, **kw)
    write_folder(rel, model, datasets)
    return model


def make_cnn_models(export, write_folder):
    torch.manual_seed(30)
    make_image_model(export, write_folder, "cnn/lenet5", LeNet5(), 31, 1, 28, "logits",
                     "LeNet-5 on 28x28: Conv ReLU MaxPool x2, Flatten, 3 Linear; dynamic batch")

    torch.manual_seed(32)
    resnet = SmallResNet()
    randomize_batch_norm(resnet, torch.Generator().manual_seed(33))
    model = make_image_model(
        export, write_folder, "cnn/small_resnet_bn", resnet, 34, 3, 16, "logits",
        "ResNet, two basic blocks (the second stride 2 with a 1x1 conv + BN shortcut), exported "
        "with training=PRESERVE in eval mode so every BatchNormalization stays a node",
        training=torch.onnx.TrainingMode.PRESERVE)
    assert any(n.op_type == "BatchNormalization" for n in model.graph.node)

    torch.manual_seed(35)
    mobile = DepthwiseSeparable()
    randomize_batch_norm(mobile, torch.Generator().manual_seed(36))
    for opset in (13, 14):
        # Opset 13 spells Hardswish as x * HardSigmoid(x); 14 has the HardSwish op.
        rel = "cnn/depthwise_separable" + ("" if opset == 13 else "_opset14")
        make_image_model(export, write_folder, rel, mobile, 37, 3, 24, "logits",
                         "MobileNet-style depthwise-separable blocks with ReLU6 (Clip) and Hardswish; "
                         "BatchNorm folded by the exporter", opset=opset)

    torch.manual_seed(38)
    text = TextCnn().eval()
    rng = np.random.default_rng(39)
    datasets = []
    with torch.no_grad():
        for batch, seq in ((1, 8), (3, 20), (2, 33), (2, 1)):
            tokens = rng.integers(0, 50, size=(batch, seq), dtype=np.int64)
            datasets.append(([tokens], [text(torch.from_numpy(tokens)).numpy()]))
    model = export(text, (torch.from_numpy(datasets[1][0][0]),), ["tokens"], ["logits"],
                   dynamic_axes={"tokens": {0: "batch", 1: "seq"}, "logits": {0: "batch"}},
                   doc="1-D text CNN: Embedding (Gather), Conv1d ReLU MaxPool1d(3, 2, pad 1), dilated Conv1d ReLU, "
                       "max over time, Linear; dynamic batch and sequence length")
    write_folder("cnn/text_cnn1d", model, datasets)

    torch.manual_seed(40)
    make_image_model(export, write_folder, "cnn/conv_autoencoder", ConvAutoencoder(), 41, 1, 28,
                     "reconstruction",
                     "Conv autoencoder 28x28: two stride-2 Conv + ReLU, two stride-2 ConvTranspose "
                     "(output_padding 1), Sigmoid")


# ----------------------------------------------------------------------------
# numpy evaluator ops (float64 inside, float32 out)


def _pads_of(a, spatial):
    pads = a.get("pads", [0] * (2 * spatial))
    assert a.get("auto_pad", b"NOTSET") in (b"NOTSET", b""), "auto_pad not used by these models"
    return pads[:spatial], pads[spatial:]


def _windows(x, kernel, strides, dilations, out_sizes):
    """Yields (kernel offset, the strided view of x that offset reads) per kernel position."""
    for offset in np.ndindex(*kernel):
        index = [slice(None), slice(None)]
        for k, s, d, o in zip(offset, strides, dilations, out_sizes):
            index.append(slice(k * d, k * d + (o - 1) * s + 1, s))
        yield offset, x[tuple(index)]


def _out_sizes(x, kernel, strides, dilations, begin, end):
    return [(x.shape[2 + i] + begin[i] + end[i] - dilations[i] * (kernel[i] - 1) - 1) // strides[i] + 1
            for i in range(len(kernel))]


def _pad_spatial(x, begin, end, value):
    return np.pad(x, [(0, 0), (0, 0)] + list(zip(begin, end)), constant_values=value)


def _conv(a, x, w, b=None):
    spatial = x.ndim - 2
    kernel = list(w.shape[2:])
    strides = a.get("strides", [1] * spatial)
    dilations = a.get("dilations", [1] * spatial)
    group = a.get("group", 1)
    begin, end = _pads_of(a, spatial)
    xp = _pad_spatial(x.astype(np.float64), begin, end, 0.0)
    out = _out_sizes(x, kernel, strides, dilations, begin, end)
    m, cg = w.shape[0], w.shape[1]
    mg = m // group
    y = np.zeros([x.shape[0], m] + out)
    w64 = w.astype(np.float64)
    for g in range(group):
        xs = xp[:, g * cg:(g + 1) * cg]
        for offset, view in _windows(xs, kernel, strides, dilations, out):
            wk = w64[(slice(g * mg, (g + 1) * mg), slice(None)) + offset]  # [mg, cg]
            y[:, g * mg:(g + 1) * mg] += np.einsum("nc...,mc->nm...", view, wk)
    if b is not None:
        y += b.reshape([1, -1] + [1] * spatial)
    return (y.astype(np.float32),)


def _conv_transpose(a, x, w, b=None):
    spatial = x.ndim - 2
    kernel = list(w.shape[2:])
    strides = a.get("strides", [1] * spatial)
    dilations = a.get("dilations", [1] * spatial)
    group = a.get("group", 1)
    out_pad = a.get("output_padding", [0] * spatial)
    assert "output_shape" not in a, "output_shape not used by these models"
    begin, end = _pads_of(a, spatial)
    full = [(x.shape[2 + i] - 1) * strides[i] + dilations[i] * (kernel[i] - 1) + 1 + out_pad[i]
            for i in range(spatial)]
    cg, mg = w.shape[0] // group, w.shape[1]
    y = np.zeros([x.shape[0], mg * group] + full)
    w64 = w.astype(np.float64)
    for g in range(group):
        xs = x[:, g * cg:(g + 1) * cg].astype(np.float64)
        for offset in np.ndindex(*kernel):
            index = [slice(None), slice(g * mg, (g + 1) * mg)]
            for k, s, d, n in zip(offset, strides, dilations, x.shape[2:]):
                index.append(slice(k * d, k * d + (n - 1) * s + 1, s))
            wk = w64[(slice(g * cg, (g + 1) * cg), slice(None)) + offset]  # [cg, mg]
            y[tuple(index)] += np.einsum("nc...,cm->nm...", xs, wk)
    crop = tuple([slice(None), slice(None)] + [slice(begin[i], full[i] - end[i]) for i in range(spatial)])
    y = y[crop]
    if b is not None:
        y += b.reshape([1, -1] + [1] * spatial)
    return (y.astype(np.float32),)


def _max_pool(a, x):
    spatial = x.ndim - 2
    kernel = a["kernel_shape"]
    strides = a.get("strides", [1] * spatial)
    dilations = a.get("dilations", [1] * spatial)
    assert not a.get("ceil_mode", 0), "ceil_mode not used by these models"
    begin, end = _pads_of(a, spatial)
    xp = _pad_spatial(x, begin, end, -np.inf)
    out = _out_sizes(x, kernel, strides, dilations, begin, end)
    y = np.full([x.shape[0], x.shape[1]] + out, -np.inf, dtype=x.dtype)
    for _, view in _windows(xp, kernel, strides, dilations, out):
        y = np.maximum(y, view)
    return (y,)


def _batch_norm(a, x, scale, bias, mean, var):
    assert not a.get("training_mode", 0), "inference mode only"
    shape = [1, -1] + [1] * (x.ndim - 2)
    r = lambda v: v.astype(np.float64).reshape(shape)
    y = (x - r(mean)) / np.sqrt(r(var) + a.get("epsilon", 1e-5)) * r(scale) + r(bias)
    return (y.astype(np.float32),)


def _flatten(a, x):
    axis = a.get("axis", 1)
    return (x.reshape(int(np.prod(x.shape[:axis])), -1),)


def _hard_sigmoid(x, alpha, beta):
    return np.clip(alpha * x.astype(np.float64) + beta, 0, 1)


CNN_OPS = {
    "Conv": _conv,
    "ConvTranspose": _conv_transpose,
    "MaxPool": lambda a, x: _max_pool(a, x),
    "BatchNormalization": _batch_norm,
    "GlobalAveragePool": lambda a, x: (x.mean(axis=tuple(range(2, x.ndim)), keepdims=True),),
    "Flatten": _flatten,
    "ReduceMax": lambda a, x: (x.max(axis=tuple(a["axes"]), keepdims=bool(a.get("keepdims", 1))),),
    "HardSigmoid": lambda a, x: (_hard_sigmoid(x, a.get("alpha", 0.2), a.get("beta", 0.5)).astype(np.float32),),
    "HardSwish": lambda a, x: ((x * _hard_sigmoid(x, 1 / 6, 0.5)).astype(np.float32),),
}
