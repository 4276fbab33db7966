"""Helpers that build ONNX models and files for the bad-model recipes.

onnx is imported lazily so `hostile_cases.py --list` (run by CMake at configure
time) needs nothing but Python.
"""
import os
import struct

FLOAT, INT64, INT32 = 1, 7, 6


def onnx_mod():
    import onnx  # noqa: WPS433 (lazy: --list must work without it)
    return onnx


def vinfo(name, elem=FLOAT, shape=None):
    """A ValueInfoProto; shape entries are ints or strings (symbolic)."""
    h = onnx_mod().helper
    return h.make_tensor_value_info(name, elem, shape)


def node(op, inputs, outputs, name=None, domain=None, **attrs):
    h = onnx_mod().helper
    return h.make_node(op, inputs, outputs, name=name or (op.lower() + "_0"), domain=domain, **attrs)


def tensor(name, values, dims, elem=FLOAT):
    import numpy as np
    h = onnx_mod().helper
    arr = np.asarray(values, dtype=np.float32 if elem == FLOAT else np.int64).reshape(dims)
    return h.make_tensor(name, elem, dims, arr.tobytes(), raw=True)


def model(nodes, inputs, outputs, inits=(), opset=13, ir=8, opsets=None, value_info=()):
    h = onnx_mod().helper
    g = h.make_graph(nodes, "g", inputs, outputs, initializer=list(inits), value_info=list(value_info))
    imports = opsets if opsets is not None else [h.make_opsetid("", opset)]
    m = h.make_model(g, opset_imports=imports)
    m.ir_version = ir
    return m


def save(d, name, m):
    path = os.path.join(d, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = m if isinstance(m, bytes) else m.SerializeToString()
    with open(path, "wb") as f:
        f.write(data)
    return name


def relu_model(shape=(2, 3), elem=FLOAT):
    return model([node("Relu", ["X"], ["Y"])], [vinfo("X", elem, list(shape))], [vinfo("Y", elem, list(shape))])


def mlp_model():
    """Gemm -> Relu -> Gemm -> Softmax with a symbolic batch, as PyTorch exports."""
    import numpy as np
    rng = np.random.default_rng(7)
    w1 = rng.standard_normal((4, 3)).astype(np.float32)
    w2 = rng.standard_normal((2, 4)).astype(np.float32)
    return model(
        [node("Gemm", ["X", "W1", "B1"], ["H"], name="fc1", transB=1),
         node("Relu", ["H"], ["R"], name="fc1/relu"),
         node("Gemm", ["R", "W2", "B2"], ["L"], name="fc2", transB=1),
         node("Softmax", ["L"], ["Y"], name="softmax", axis=1)],
        [vinfo("X", FLOAT, ["N", 3])], [vinfo("Y", FLOAT, ["N", 2])],
        inits=[tensor("W1", w1, [4, 3]), tensor("B1", [0.1, -0.2, 0.3, 0.0], [4]),
               tensor("W2", w2, [2, 4]), tensor("B2", [0.5, -0.5], [2])])


def raw_tensor(name, elem, dims, raw=None, **fields):
    onnx = onnx_mod()
    t = onnx.TensorProto()
    t.name = name
    t.data_type = elem
    t.dims.extend(dims)
    if raw is not None:
        t.raw_data = raw
    for k, v in fields.items():
        getattr(t, k).extend(v)
    return t


def const_model_with(init, shape=(2,)):
    """Y = Identity(W) where W is the given initializer."""
    return model([node("Identity", ["W"], ["Y"])], [], [vinfo("Y", FLOAT, list(shape))], inits=[init])


def external_init(location, offset=None, length=None, dims=(4,)):
    onnx = onnx_mod()
    t = raw_tensor("W", FLOAT, list(dims))
    t.data_location = onnx.TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", offset), ("length", length)):
        if v is not None:
            e = t.external_data.add()
            e.key, e.value = k, str(v)
    return t


def ext_model(d, location, offset=None, length=None, dims=(4,)):
    return save(d, "m/model.onnx", const_model_with(external_init(location, offset, length, dims), dims))


def write(d, rel, data):
    path = os.path.join(d, rel)
    os.makedirs(os.path.dirname(path) or d, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return rel


def npy(d, rel, arr):
    import numpy as np
    path = os.path.join(d, rel)
    np.save(path, arr)
    return rel


def npy_bytes(header, data=b"", major=1):
    """A .npy file with a hand-written header (for the malformed ones)."""
    h = header.encode("latin1")
    pad = (64 - (10 + len(h) + 1) % 64) % 64
    h = h + b" " * pad + b"\n"
    return b"\x93NUMPY" + bytes([major, 0]) + struct.pack("<H", len(h)) + h + data


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_bytes(num, payload):
    return varint((num << 3) | 2) + varint(len(payload)) + payload


def chain_model_bytes(n):
    """n Identity nodes in a chain, encoded by hand: building 10^6 NodeProtos
    through the Python API takes minutes, concatenating their bytes a second."""
    onnx = onnx_mod()
    h = onnx.helper
    out = "X" if n == 0 else "t%d" % n
    g = h.make_graph([], "chain", [vinfo("X", FLOAT, [1])], [vinfo(out, FLOAT, [1])])
    parts = [g.SerializeToString()]
    op = field_bytes(4, b"Identity")
    for i in range(1, n + 1):
        src = b"X" if i == 1 else b"t%d" % (i - 1)
        parts.append(field_bytes(1, field_bytes(1, src) + field_bytes(2, b"t%d" % i) + op))
    graph = b"".join(parts)
    head = onnx.ModelProto()
    head.ir_version = 8
    head.opset_import.add().version = 13
    return head.SerializeToString() + field_bytes(7, graph)


def nested_if_model(depth):
    """If nodes nested `depth` deep through then/else subgraph attributes."""
    h = onnx_mod().helper
    leaf = h.make_graph([node("Identity", ["X"], ["Z0"])], "leaf", [], [vinfo("Z0", FLOAT, [1])])
    inner = leaf
    for i in range(depth):
        out = "Z%d" % (i + 1)
        # Only then_branch nests: sharing `inner` in both branches would copy it 2^depth times.
        n = node("If", ["C"], [out], name="if_%d" % i, then_branch=inner, else_branch=leaf)
        inner = h.make_graph([n], "level%d" % i, [], [vinfo(out, FLOAT, [1])])
    top = inner.node[0]
    return model([top], [vinfo("C", 9, []), vinfo("X", FLOAT, [1])], [vinfo(top.output[0], FLOAT, [1])])
