#!/usr/bin/python3
"""The bad-model suite: one table of hostile models and inputs, each run through
the real onnx-run binary.

Every row says how to build its files (a recipe, never a stored blob), the exit
code onnx-run must return and a regular expression its message must match.
Every run must also end normally (a signal, or an exit code >= 128, is a bug),
and an error message must name the file it is about.

  hostile_cases.py --list                        case names, one a line (CMake reads this)
  hostile_cases.py --run NAME --onnx-run BIN --workdir DIR
  hostile_cases.py --emit-seeds DIR [--max-bytes N]   every built .onnx, as fuzzing seeds

Rows with `requires` need ops that are not on main yet (Gather, the losses):
they report SKIP (exit 77, CTest's SKIP_RETURN_CODE) until `onnx-run --list-ops`
shows the op, and then run with no change here.
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

SKIP = 77
FLOAT, INT64, INT32 = 1, 7, 6


# ----------------------------------------------------------------------------
# Model building helpers (onnx is imported lazily so --list needs no onnx).

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


# ----------------------------------------------------------------------------
# Recipes. Each takes the case's work folder and returns a list of runs; a run
# is the onnx-run argument list (paths relative to the work folder).

def r_empty_file(d):
    return [[write(d, "empty.onnx", b"")]]


def r_truncated(d):
    data = mlp_model().SerializeToString()
    save(d, "full.onnx", data)
    # Every offset in the first 64 bytes (headers, first fields), then a spread
    # through the initializers, then the last 16 bytes (the trailing opset_import).
    cuts = sorted(set(list(range(0, 64)) + list(range(64, len(data), max(1, len(data) // 40))) +
                      list(range(max(0, len(data) - 16), len(data)))))
    runs = []
    for c in cuts:
        runs.append([write(d, "cut_%d.onnx" % c, data[:c])])
    return runs


def r_png(d):
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    chunk = lambda t, p: struct.pack(">I", len(p)) + t + p + struct.pack(">I", zlib.crc32(t + p))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0\0\0\0")) + chunk(b"IEND", b"")
    return [[write(d, "image.onnx", png)]]


def r_zip_checkpoint(d):
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:  # the layout torch.save writes
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        z.writestr("archive/version", b"3\n")
    return [[write(d, "model.pt", buf.getvalue())]]


def r_pickle(d):
    return [[write(d, "model.pth", b"\x80\x02}q\x00(X\x06\x00\x00\x00weightq\x01K\x01u.")]]


def r_tensorproto_as_model(d):
    return [[save(d, "tensor.onnx", tensor("W", [1.0, 2.0, 3.0], [3]))]]


def r_directory(d):
    os.makedirs(os.path.join(d, "dir.onnx"), exist_ok=True)
    return [["dir.onnx"]]


def r_fifo(d):
    path = os.path.join(d, "fifo.onnx")
    if not os.path.exists(path):
        os.mkfifo(path)
    return [["fifo.onnx"]]


def r_dev_zero(d):
    return [["/dev/zero"]]


def r_missing_file(d):
    return [["no_such_model.onnx"]]


def r_no_ir_version(d):
    m = relu_model()
    m.ir_version = 0
    return [[save(d, "m.onnx", m)]]


def r_no_opset(d):
    m = relu_model()
    del m.opset_import[:]
    return [[save(d, "m.onnx", m)]]


def r_duplicate_opset(d):
    h = onnx_mod().helper
    m = model([node("Relu", ["X"], ["Y"])], [vinfo("X", FLOAT, [2])], [vinfo("Y", FLOAT, [2])],
              opsets=[h.make_opsetid("", 13), h.make_opsetid("ai.onnx", 12)])
    return [[save(d, "m.onnx", m)]]


def r_opset(version):
    def recipe(d):
        m = model([node("Relu", ["X"], ["Y"])], [vinfo("X", FLOAT, [2])], [vinfo("Y", FLOAT, [2])], opset=version)
        return [[save(d, "m.onnx", m)]]
    return recipe


def r_unknown_domain(d):
    h = onnx_mod().helper
    m = model([node("Relu", ["X"], ["Y"], domain="com.example")], [vinfo("X", FLOAT, [2])], [vinfo("Y", FLOAT, [2])],
              opsets=[h.make_opsetid("", 13), h.make_opsetid("com.example", 1)])
    return [[save(d, "m.onnx", m)]]


def r_domain_not_imported(d):
    m = model([node("Relu", ["X"], ["Y"], domain="com.example")], [vinfo("X", FLOAT, [2])], [vinfo("Y", FLOAT, [2])])
    return [[save(d, "m.onnx", m)]]


def r_unknown_ops(d):
    m = model([node("FancyOp", ["X"], ["T"], name="first"), node("OtherOp", ["T"], ["Y"], name="second")],
              [vinfo("X", FLOAT, [2])], [vinfo("Y", FLOAT, [2])])
    return [[save(d, "m.onnx", m)]]


def r_op_before_opset(d):
    m = model([node("Gemm", ["A", "B"], ["Y"], name="old_gemm")],
              [vinfo("A", FLOAT, [2, 2]), vinfo("B", FLOAT, [2, 2])], [vinfo("Y", FLOAT, [2, 2])], opset=6)
    return [[save(d, "m.onnx", m)]]


def r_undefined_input(d):
    m = model([node("Add", ["X", "ghost"], ["Y"], name="add")], [vinfo("X", FLOAT, [2])], [vinfo("Y", FLOAT, [2])])
    return [[save(d, "m.onnx", m)]]


def r_cycle(d):
    m = model([node("Add", ["X", "B"], ["A"], name="a"), node("Relu", ["A"], ["B"], name="b"),
               node("Identity", ["A"], ["Y"], name="out")],
              [vinfo("X", FLOAT, [2])], [vinfo("Y", FLOAT, [2])])
    return [[save(d, "m.onnx", m)]]


def r_self_loop(d):
    m = model([node("Add", ["X", "Y"], ["Y"], name="self")], [vinfo("X", FLOAT, [2])], [vinfo("Y", FLOAT, [2])])
    return [[save(d, "m.onnx", m)]]


def r_produced_twice(d):
    m = model([node("Relu", ["X"], ["Y"], name="r1"), node("Identity", ["X"], ["Y"], name="r2")],
              [vinfo("X", FLOAT, [2])], [vinfo("Y", FLOAT, [2])])
    return [[save(d, "m.onnx", m)]]


def r_output_overwrites_input(d):
    m = model([node("Relu", ["X"], ["X"], name="r")], [vinfo("X", FLOAT, [2])], [vinfo("X", FLOAT, [2])])
    return [[save(d, "m.onnx", m)]]


def r_output_never_produced(d):
    m = model([node("Relu", ["X"], ["Y"])], [vinfo("X", FLOAT, [2])], [vinfo("Z", FLOAT, [2])])
    return [[save(d, "m.onnx", m)]]


def r_no_outputs(d):
    m = model([node("Relu", ["X"], ["Y"])], [vinfo("X", FLOAT, [2])], [])
    return [[save(d, "m.onnx", m)]]


def r_duplicate_initializer(d):
    m = const_model_with(tensor("W", [1, 2], [2]))
    m.graph.initializer.append(tensor("W", [3, 4], [2]))
    return [[save(d, "m.onnx", m)]]


def r_raw_data_size(d):
    return [[save(d, "m.onnx", const_model_with(raw_tensor("W", FLOAT, [2], raw=b"\0" * 7)))]]


def r_typed_count(d):
    return [[save(d, "m.onnx", const_model_with(raw_tensor("W", FLOAT, [2], float_data=[1.0, 2.0, 3.0])))]]


def r_negative_dim_init(d):
    return [[save(d, "m.onnx", const_model_with(raw_tensor("W", FLOAT, [2, -3], raw=b"")))]]


def r_negative_dim_input(d):
    return [[save(d, "m.onnx", relu_model(shape=(2, -3)))]]


def r_dims_overflow(d):
    return [[save(d, "m.onnx", const_model_with(raw_tensor("W", FLOAT, [1 << 32, 1 << 32, 16], raw=b"")))]]


def r_dims_overflow_after_zero(d):
    # The product is 0, but the non-zero dims alone overflow int64: any code that
    # multiplies "all but one" dim (strides, Flatten, Softmax) would wrap.
    return [[save(d, "m.onnx", const_model_with(raw_tensor("W", FLOAT, [0, 1 << 40, 1 << 40], raw=b"")))]]


def r_huge_dims_no_data(d):
    return [[save(d, "m.onnx", const_model_with(raw_tensor("W", FLOAT, [1 << 20, 1 << 20])))]]


def r_huge_dims_raw_empty(d):
    return [[save(d, "m.onnx", const_model_with(raw_tensor("W", FLOAT, [1 << 20, 1 << 19], raw=b"")))]]


def r_huge_input_decl(d):
    return [[save(d, "m.onnx", relu_model(shape=(1 << 30, 1 << 30)))]]


def r_huge_reshape_target(d):
    # A 0-element tensor reshaped to [0, 2^40, 2^40]: its element count is 0, the
    # other dims are absurd; then Flatten multiplies the trailing dims.
    m = model([node("Reshape", ["X", "S"], ["R"], name="reshape"), node("Flatten", ["R"], ["Y"], name="flatten")],
              [vinfo("X", FLOAT, [0, 4])], [vinfo("Y", FLOAT, None)],
              inits=[tensor("S", [0, 1 << 40, 1 << 40], [3], INT64)])
    return [[save(d, "m.onnx", m)]]


def r_huge_reshape_runtime(d):
    # The same absurd target shape, given at run time: the kernel's output allocation refuses it.
    import numpy as np
    m = model([node("Reshape", ["X", "S"], ["R"], name="reshape"), node("Flatten", ["R"], ["Y"], name="flatten")],
              [vinfo("X", FLOAT, [0, 4]), vinfo("S", INT64, [3])], [vinfo("Y", FLOAT, None)])
    s = npy(d, "s.npy", np.array([0, 1 << 40, 1 << 40], dtype=np.int64))
    return [[save(d, "m.onnx", m), "--input", "S=" + s]]


def r_unsupported_dtype_init(d):
    t = raw_tensor("W", 14, [2], raw=b"\0" * 16)  # complex64
    return [[save(d, "m.onnx", const_model_with(t))]]


def r_invalid_dtype_init(d):
    return [[save(d, "m.onnx", const_model_with(raw_tensor("W", 99, [2], raw=b"\0" * 8)))]]


def r_string_input(d):
    return [[save(d, "m.onnx", relu_model(elem=8))]]


def r_sequence_input(d):
    h = onnx_mod().helper
    seq = h.make_tensor_sequence_value_info("X", FLOAT, [2])
    m = model([node("Identity", ["X"], ["Y"])], [seq], [vinfo("Y", FLOAT, [2])])
    return [[save(d, "m.onnx", m)]]


def r_sparse_initializer(d):
    h = onnx_mod().helper
    m = const_model_with(tensor("W", [1, 2], [2]))
    sp = h.make_sparse_tensor(tensor("V", [5.0], [1]), tensor("I", [1], [1], INT64), [2])
    m.graph.sparse_initializer.append(sp)
    return [[save(d, "m.onnx", m)]]


def r_ext(location, offset=None, length=None, dims=(4,), setup=None):
    def recipe(d):
        if setup:
            setup(d)
        return [[ext_model(d, location, offset, length, dims)]]
    return recipe


def make_weights(d, rel="m/w.bin", size=16):
    write(d, rel, struct.pack("<%df" % (size // 4), *[float(i) for i in range(size // 4)]))


def setup_symlink_out(d):
    make_weights(d, "outside/secret.bin")
    os.makedirs(os.path.join(d, "m"), exist_ok=True)
    link = os.path.join(d, "m", "w.bin")
    if not os.path.lexists(link):
        os.symlink(os.path.join("..", "outside", "secret.bin"), link)


def setup_symlink_dir(d):
    make_weights(d, "outside/w.bin")
    os.makedirs(os.path.join(d, "m"), exist_ok=True)
    link = os.path.join(d, "m", "sub")
    if not os.path.lexists(link):
        os.symlink(os.path.join("..", "outside"), link)


def setup_symlink_in(d):
    make_weights(d, "m/real.bin")
    link = os.path.join(d, "m", "w.bin")
    if not os.path.lexists(link):
        os.symlink("real.bin", link)


def setup_hardlink(d):
    make_weights(d, "outside/secret.bin")
    os.makedirs(os.path.join(d, "m"), exist_ok=True)
    link = os.path.join(d, "m", "w.bin")
    if not os.path.lexists(link):
        os.link(os.path.join(d, "outside", "secret.bin"), link)


def setup_ext_fifo(d):
    os.makedirs(os.path.join(d, "m"), exist_ok=True)
    p = os.path.join(d, "m", "w.bin")
    if not os.path.exists(p):
        os.mkfifo(p)


def setup_ext_dir(d):
    os.makedirs(os.path.join(d, "m", "w.bin"), exist_ok=True)


def r_constant_no_value(d):
    m = model([node("Constant", [], ["Y"], name="const")], [], [vinfo("Y", FLOAT, None)])
    return [[save(d, "m.onnx", m)]]


def r_attr_wrong_type(d):
    m = model([node("Gemm", ["A", "B"], ["Y"], name="fc", alpha="big")],
              [vinfo("A", FLOAT, [2, 2]), vinfo("B", FLOAT, [2, 2])], [vinfo("Y", FLOAT, [2, 2])])
    return [[save(d, "m.onnx", m)]]


def r_attr_unknown(d):
    m = model([node("Relu", ["X"], ["Y"], name="act", slope=0.1)], [vinfo("X", FLOAT, [2])], [vinfo("Y", FLOAT, [2])])
    return [[save(d, "m.onnx", m)]]


def r_attr_twice(d):
    m = model([node("Softmax", ["X"], ["Y"], name="sm", axis=1)], [vinfo("X", FLOAT, [2, 2])], [vinfo("Y", FLOAT, [2, 2])])
    m.graph.node[0].attribute.append(m.graph.node[0].attribute[0])
    return [[save(d, "m.onnx", m)]]


def r_subgraph_attr(d):
    return [[save(d, "m.onnx", nested_if_model(3))]]


def r_deep_nesting(d):
    return [[save(d, "m.onnx", nested_if_model(200))]]


def r_gemm_inner_static(d):
    m = model([node("Gemm", ["A", "B"], ["Y"], name="fc")],
              [vinfo("A", FLOAT, [2, 3]), vinfo("B", FLOAT, [4, 5])], [vinfo("Y", FLOAT, [2, 5])])
    return [[save(d, "m.onnx", m)]]


def r_gemm_inner_runtime(d):
    m = model([node("Gemm", ["A", "B"], ["Y"], name="fc")],
              [vinfo("A", FLOAT, [2, "K"]), vinfo("B", FLOAT, ["K2", 5])], [vinfo("Y", FLOAT, [2, 5])])
    return [[save(d, "m.onnx", m), "--dim", "K=3", "--dim", "K2=4"]]


def r_gemm_bad_bias(d):
    m = model([node("Gemm", ["A", "B", "C"], ["Y"], name="fc")],
              [vinfo("A", FLOAT, [2, 3]), vinfo("B", FLOAT, [3, 4]), vinfo("C", FLOAT, [3])], [vinfo("Y", FLOAT, None)])
    return [[save(d, "m.onnx", m)]]


def r_gemm_rank3(d):
    m = model([node("Gemm", ["A", "B"], ["Y"], name="fc")],
              [vinfo("A", FLOAT, [2, 2, 2]), vinfo("B", FLOAT, [2, 2])], [vinfo("Y", FLOAT, None)])
    return [[save(d, "m.onnx", m)]]


def r_matmul_inner(d):
    m = model([node("MatMul", ["A", "B"], ["Y"], name="mm")],
              [vinfo("A", FLOAT, [2, 3]), vinfo("B", FLOAT, [4, 5])], [vinfo("Y", FLOAT, None)])
    return [[save(d, "m.onnx", m)]]


def r_matmul_batch_mismatch(d):
    m = model([node("MatMul", ["A", "B"], ["Y"], name="mm")],
              [vinfo("A", FLOAT, ["P", 2, 3]), vinfo("B", FLOAT, ["Q", 3, 4])], [vinfo("Y", FLOAT, None)])
    return [[save(d, "m.onnx", m), "--dim", "P=2", "--dim", "Q=3"]]


def r_add_broadcast(d):
    m = model([node("Add", ["A", "B"], ["Y"], name="add")],
              [vinfo("A", FLOAT, [2, 3]), vinfo("B", FLOAT, [4])], [vinfo("Y", FLOAT, None)])
    return [[save(d, "m.onnx", m)]]


def r_add_mixed_dtype(d):
    m = model([node("Add", ["A", "B"], ["Y"], name="add")],
              [vinfo("A", FLOAT, [2]), vinfo("B", INT64, [2])], [vinfo("Y", FLOAT, None)])
    return [[save(d, "m.onnx", m)]]


def r_reshape_static(d):
    m = model([node("Reshape", ["X", "S"], ["Y"], name="reshape")], [vinfo("X", FLOAT, [2, 3])],
              [vinfo("Y", FLOAT, None)], inits=[tensor("S", [4, 2], [2], INT64)])
    return [[save(d, "m.onnx", m)]]


def r_reshape_runtime(d):
    m = model([node("Reshape", ["X", "S"], ["Y"], name="reshape")], [vinfo("X", FLOAT, [2, 3]), vinfo("S", INT64, [2])],
              [vinfo("Y", FLOAT, None)])
    import numpy as np
    return [[save(d, "m.onnx", m), "--input", "S=" + npy(d, "s.npy", np.array([4, 2], dtype=np.int64))]]


def r_reshape_two_minus_one(d):
    m = model([node("Reshape", ["X", "S"], ["Y"], name="reshape")], [vinfo("X", FLOAT, [2, 3])],
              [vinfo("Y", FLOAT, None)], inits=[tensor("S", [-1, -1], [2], INT64)])
    return [[save(d, "m.onnx", m)]]


def r_reshape_int32_shape(d):
    m = model([node("Reshape", ["X", "S"], ["Y"], name="reshape")], [vinfo("X", FLOAT, [2, 3]), vinfo("S", INT32, [2])],
              [vinfo("Y", FLOAT, None)])
    return [[save(d, "m.onnx", m)]]


def r_softmax_axis(d):
    m = model([node("Softmax", ["X"], ["Y"], name="sm", axis=5)], [vinfo("X", FLOAT, [2, 3])], [vinfo("Y", FLOAT, None)])
    return [[save(d, "m.onnx", m)]]


def r_flatten_axis(d):
    m = model([node("Flatten", ["X"], ["Y"], name="flat", axis=7)], [vinfo("X", FLOAT, [2, 3])], [vinfo("Y", FLOAT, None)])
    return [[save(d, "m.onnx", m)]]


def r_relu_arity(d):
    m = model([node("Relu", ["X", "X"], ["Y"], name="act")], [vinfo("X", FLOAT, [2])], [vinfo("Y", FLOAT, [2])])
    return [[save(d, "m.onnx", m)]]


def r_value_info_contradicts(d):
    m = model([node("Relu", ["X"], ["H"], name="act"), node("Identity", ["H"], ["Y"], name="id")],
              [vinfo("X", FLOAT, [2, 3])], [vinfo("Y", FLOAT, None)], value_info=[vinfo("H", FLOAT, [5])])
    return [[save(d, "m.onnx", m)]]


def r_max_memory(d):
    m = model([node("Relu", ["X"], ["H"], name="act"), node("Relu", ["H"], ["Y"], name="act2")],
              [vinfo("X", FLOAT, [256, 256])], [vinfo("Y", FLOAT, None)])
    return [[save(d, "m.onnx", m), "--max-memory", "64K"]]


def r_too_many_nodes(d):
    return [[save(d, "m.onnx", chain_model_bytes(1_000_001))]]


def r_million_nodes(d):
    return [[save(d, "m.onnx", chain_model_bytes(1_000_000))]]


# Inputs given by the user.

def relu_with_input(d, rel):
    return [save(d, "m.onnx", relu_model()), "--input", "X=" + rel]


def r_input_dtype(d):
    import numpy as np
    return [relu_with_input(d, npy(d, "x.npy", np.zeros((2, 3), dtype=np.int64)))]


def r_input_rank(d):
    import numpy as np
    return [relu_with_input(d, npy(d, "x.npy", np.zeros((6,), dtype=np.float32)))]


def r_input_fixed_dim(d):
    import numpy as np
    return [relu_with_input(d, npy(d, "x.npy", np.zeros((2, 4), dtype=np.float32)))]


def r_missing_input(d):
    m = model([node("Add", ["A", "B"], ["Y"], name="add")], [vinfo("A", FLOAT, [2]), vinfo("B", FLOAT, None)],
              [vinfo("Y", FLOAT, None)])
    import numpy as np
    return [[save(d, "m.onnx", m), "--input", "A=" + npy(d, "a.npy", np.zeros(2, dtype=np.float32))]]


def r_unknown_input(d):
    import numpy as np
    return [[save(d, "m.onnx", relu_model()), "--input", "x=" + npy(d, "x.npy", np.zeros((2, 3), dtype=np.float32))]]


def r_npy_magic(d):
    return [relu_with_input(d, write(d, "x.npy", b"NOTNUMPY" + b"\0" * 40))]


def r_npy_truncated(d):
    import io
    import numpy as np
    buf = io.BytesIO()
    np.save(buf, np.zeros((2, 3), dtype=np.float32))
    data = buf.getvalue()
    return [relu_with_input(d, write(d, "x_%d.npy" % c, data[:c])) for c in (0, 5, 9, 11, 40, len(data) - 1)]


def r_npy_header_len(d):
    return [relu_with_input(d, write(d, "x.npy", b"\x93NUMPY\x01\x00\xff\xff{'descr': '<f4'"))]


def r_npy_bad_shape(d):
    return [relu_with_input(d, write(d, "x.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }")))]


def r_npy_huge_shape(d):
    return [relu_with_input(d, write(d, "x.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1073741824, 1073741824), }", b"\0" * 24)))]


def r_npy_dtype(d):
    return [relu_with_input(d, write(d, "x.npy", npy_bytes("{'descr': '<U8', 'fortran_order': False, 'shape': (2, 3), }", b"\0" * 192)))]


def r_npy_fortran(d):
    return [relu_with_input(d, write(d, "x.npy", npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", b"\0" * 24)))]


def r_pb_garbage(d):
    return [relu_with_input(d, write(d, "x.pb", b"\xff\xff\xff\xff\xff\xff"))]


def r_pb_raw_mismatch(d):
    return [relu_with_input(d, write(d, "x.pb", raw_tensor("X", FLOAT, [2, 3], raw=b"\0" * 10).SerializeToString()))]


def r_pb_huge_dims(d):
    return [relu_with_input(d, write(d, "x.pb", raw_tensor("X", FLOAT, [1 << 30, 1 << 30]).SerializeToString()))]


def r_pb_external(d):
    t = external_init("x.bin")
    write(d, "x.bin", b"\0" * 16)
    return [relu_with_input(d, write(d, "x.pb", t.SerializeToString()))]


def r_input_fifo(d):
    p = os.path.join(d, "x.pb")
    if not os.path.exists(p):
        os.mkfifo(p)
    return [relu_with_input(d, "x.pb")]


def r_check_bad_reference(d):
    rel = save(d, "m/model.onnx", relu_model())
    write(d, "m/test_data_set_0/input_0.pb", tensor("X", [0] * 6, [2, 3]).SerializeToString())
    write(d, "m/test_data_set_0/output_0.pb", b"\x08\x02\x08")  # dims 2, then a cut field
    return [[rel, "--check"]]


# Runs that must succeed: the guard rails must not refuse good data.

def r_ext_ok(d):
    make_weights(d)
    return [[ext_model(d, "w.bin", 0, 16), "--output-dir", "out"]]


def r_nan_inf(d):
    import numpy as np
    x = np.array([[np.nan, np.inf, -np.inf, 1.0], [0.0, -1.0, np.nan, 2.0]], dtype=np.float32)
    m = model([node("Relu", ["X"], ["R"], name="act"), node("Add", ["X", "X"], ["S"], name="add"),
               node("Softmax", ["X"], ["P"], name="sm", axis=1),
               node("Gemm", ["X", "X"], ["G"], name="fc", transB=1)],
              [vinfo("X", FLOAT, [2, 4])], [vinfo("R", FLOAT, None), vinfo("S", FLOAT, None), vinfo("P", FLOAT, None),
                                            vinfo("G", FLOAT, None)])
    return [[save(d, "m.onnx", m), "--input", "X=" + npy(d, "x.npy", x), "--output-dir", "out"]]


def v_nan_inf(d):
    import numpy as np
    x = np.load(os.path.join(d, "x.npy"))
    out = lambda n: np.load(os.path.join(d, "out", n + ".npy"))
    with np.errstate(all="ignore"):
        expect_relu = np.where(np.isnan(x), np.nan, np.maximum(x, 0))  # IEEE: NaN stays NaN
        expect_add = x + x
    assert_same("Relu", out("R"), expect_relu)
    assert_same("Add", out("S"), expect_add)
    # Each softmax row holds a NaN (row 1) or +Inf (row 0, making inf-inf): all NaN.
    assert np.isnan(out("P")).all(), "Softmax: NaN/Inf rows must give NaN, got %r" % out("P")
    assert np.isnan(out("G")).all(), "Gemm: every dot product meets a NaN, got %r" % out("G")


def assert_same(what, got, want):
    import numpy as np
    ok = got.shape == want.shape and np.array_equal(np.isnan(got), np.isnan(want)) and \
        np.array_equal(got[~np.isnan(got)], want[~np.isnan(want)])
    assert ok, "%s: got %r, expected %r" % (what, got, want)


def r_zero_batch(d):
    m = mlp_model()
    m.graph.node.extend([node("Reshape", ["Y", "S"], ["Z"], name="reshape"), node("Flatten", ["Z"], ["F"], name="flat"),
                         node("MatMul", ["X", "WT"], ["M"], name="mm")])
    m.graph.initializer.extend([tensor("S", [-1, 2, 1], [3], INT64), tensor("WT", [1.0] * 6, [3, 2])])
    m.graph.output.extend([vinfo("Z", FLOAT, None), vinfo("F", FLOAT, None), vinfo("M", FLOAT, None)])
    return [[save(d, "m.onnx", m), "--dim", "N=0", "--output-dir", "out"]]


def v_zero_batch(d):
    import numpy as np
    for name, shape in (("Y", (0, 2)), ("Z", (0, 2, 1)), ("F", (0, 2)), ("M", (0, 2))):
        got = np.load(os.path.join(d, "out", name + ".npy"))
        assert got.shape == shape, "%s: shape %r, expected %r" % (name, got.shape, shape)


def r_zero_size_inner(d):
    # K = 0: Gemm's reduction is empty, so Y = beta * C exactly.
    m = model([node("Gemm", ["A", "B", "C"], ["Y"], name="fc", beta=2.0)],
              [vinfo("A", FLOAT, [2, 0]), vinfo("B", FLOAT, [0, 3])], [vinfo("Y", FLOAT, None)],
              inits=[tensor("C", [1.0, 2.0, 3.0], [3])])
    return [[save(d, "m.onnx", m), "--output-dir", "out"]]


def v_zero_size_inner(d):
    import numpy as np
    got = np.load(os.path.join(d, "out", "Y.npy"))
    assert_same("Gemm K=0", got, np.tile(np.array([2.0, 4.0, 6.0], dtype=np.float32), (2, 1)))


# Ops not on main yet: these rows enable themselves when the op is registered.

def r_gather_index(d):
    m = model([node("Gather", ["X", "I"], ["Y"], name="gather", axis=0)], [vinfo("X", FLOAT, [3, 2])],
              [vinfo("Y", FLOAT, None)], inits=[tensor("I", [0, 3], [2], INT64)])
    return [[save(d, "m.onnx", m)]]


def r_gather_negative_index(d):
    m = model([node("Gather", ["X", "I"], ["Y"], name="gather", axis=0)], [vinfo("X", FLOAT, [3, 2])],
              [vinfo("Y", FLOAT, None)], inits=[tensor("I", [-4], [1], INT64)])
    return [[save(d, "m.onnx", m)]]


def loss_model(labels, reduction="mean", ignore_index=None):
    attrs = {"reduction": reduction}
    if ignore_index is not None:
        attrs["ignore_index"] = ignore_index
    return model([node("SoftmaxCrossEntropyLoss", ["S", "L"], ["Y"], name="loss", **attrs)],
                 [vinfo("S", FLOAT, [2, 3])], [vinfo("Y", FLOAT, None)],
                 inits=[tensor("L", labels, [len(labels)], INT64)])


def r_labels_out_of_range(d):
    return [[save(d, "m.onnx", loss_model([0, 3]))]]


def r_labels_all_ignored(d):
    return [[save(d, "m.onnx", loss_model([1, 1], ignore_index=1)), "--output-dir", "out"]]


def v_labels_all_ignored(d):
    import numpy as np
    got = np.load(os.path.join(d, "out", "Y.npy"))
    assert np.isnan(got).all(), "mean over zero weights must be NaN (0/0, as PyTorch), got %r" % got


# ----------------------------------------------------------------------------
# The table: name, recipe, expected exit code, message (regex), [verify, requires, names].
# `names`: the file the message must mention (default: the model, the first argument).

class Case:
    def __init__(self, name, recipe, code, msg, verify=None, requires=(), names=None, timeout=60):
        self.name, self.recipe, self.code, self.msg = name, recipe, code, msg
        self.verify, self.requires, self.names, self.timeout = verify, requires, names, timeout


INVALID, UNSUPPORTED, BAD_INPUT, LIMIT, USAGE = 3, 4, 5, 6, 2

CASES = [
    # The file itself.
    Case("empty_file", r_empty_file, INVALID, r"file is empty"),
    Case("truncated_model_many_offsets", r_truncated, INVALID,
         r"file is empty|not a valid ONNX model|no opset_import|missing ir_version|has no graph|no outputs"),
    Case("png_image", r_png, INVALID, r"PNG image"),
    Case("zip_pytorch_checkpoint", r_zip_checkpoint, INVALID, r"ZIP archive.*torch\.onnx\.export"),
    Case("python_pickle", r_pickle, INVALID, r"pickle.*torch\.onnx\.export"),
    Case("tensorproto_as_model", r_tensorproto_as_model, INVALID, r"it is a TensorProto \(a tensor \.pb file"),
    Case("directory_as_model", r_directory, USAGE, r"is a directory"),
    Case("fifo_as_model", r_fifo, USAGE, r"fifo\.onnx: is a FIFO, not a regular file", timeout=20),
    Case("device_as_model", r_dev_zero, USAGE, r"/dev/zero: is a device, not a regular file", timeout=20),
    Case("missing_model_file", r_missing_file, USAGE, r"cannot open.*No such file"),
    # ModelProto header.
    Case("missing_ir_version", r_no_ir_version, INVALID, r"missing ir_version"),
    Case("no_opset_import", r_no_opset, INVALID, r"no opset_import"),
    Case("opset_import_twice", r_duplicate_opset, INVALID, r"lists domain 'ai\.onnx' twice"),
    Case("unsupported_opset_too_new", r_opset(99), UNSUPPORTED, r"opset 99 is not supported"),
    Case("unsupported_opset_zero", r_opset(0), UNSUPPORTED, r"opset 0 is not supported"),
    Case("unknown_domain", r_unknown_domain, UNSUPPORTED, r"domain 'com\.example' is not supported"),
    Case("domain_not_imported", r_domain_not_imported, UNSUPPORTED, r"domain 'com\.example' is not in opset_import"),
    Case("unknown_ops_listed_together", r_unknown_ops, UNSUPPORTED,
         r"2 node\(s\) cannot run:\s+FancyOp.*'first'.*unknown op\s+OtherOp.*'second'"),
    Case("op_not_defined_at_opset", r_op_before_opset, UNSUPPORTED, r"Gemm.*'old_gemm'.*not defined at opset 6"),
    # Graph structure.
    Case("undefined_node_input", r_undefined_input, INVALID, r"node 'add' \(Add\): input 'ghost' is not defined"),
    Case("cycle", r_cycle, INVALID, r"cycle through node"),
    Case("self_loop", r_self_loop, INVALID, r"node 'self' \(Add\)"),
    Case("value_produced_twice", r_produced_twice, INVALID, r"node 'r2' \(Identity\): output 'Y' is already produced"),
    Case("node_overwrites_graph_input", r_output_overwrites_input, INVALID, r"output 'X' is already produced by a graph input"),
    Case("output_never_produced", r_output_never_produced, INVALID, r"graph output 'Z' is never produced"),
    Case("no_graph_outputs", r_no_outputs, INVALID, r"no outputs"),
    Case("duplicate_initializer", r_duplicate_initializer, INVALID, r"initializer 'W' is defined twice"),
    Case("too_many_inputs_for_op", r_relu_arity, INVALID, r"node 'act' \(Relu\): has 2 inputs, expected 1$"),
    Case("value_info_contradicts", r_value_info_contradicts, INVALID, r"node 'act' \(Relu\).*'H' is declared"),
    Case("subgraph_attribute", r_subgraph_attr, UNSUPPORTED, r"If.*'if_2'.*unknown op"),
    Case("deep_nesting", r_deep_nesting, INVALID, r"not a valid ONNX model"),
    # Tensors.
    Case("raw_data_size_mismatch", r_raw_data_size, INVALID, r"initializer 'W': raw_data has 7 bytes but float\[2\] needs 8"),
    Case("typed_field_count_mismatch", r_typed_count, INVALID, r"initializer 'W': has 3 values but float\[2\] needs 2"),
    Case("negative_dim_initializer", r_negative_dim_init, INVALID, r"initializer 'W': negative dimension -3"),
    Case("negative_dim_graph_input", r_negative_dim_input, INVALID, r"graph input 'X': negative dimension -3"),
    Case("dims_product_overflow", r_dims_overflow, INVALID, r"initializer 'W': shape .* too many elements"),
    Case("dims_overflow_after_zero", r_dims_overflow_after_zero, INVALID, r"initializer 'W': shape .* too many elements"),
    Case("huge_dims_typed_no_data", r_huge_dims_no_data, INVALID, r"initializer 'W': has 0 values but float\[1048576, 1048576\]"),
    Case("huge_dims_raw_no_data", r_huge_dims_raw_empty, INVALID, r"initializer 'W': raw_data has 0 bytes"),
    Case("huge_declared_input_dims", r_huge_input_decl, INVALID, r"graph input 'X': shape .* too many elements"),
    Case("huge_dims_after_zero_runtime", r_huge_reshape_runtime, BAD_INPUT,
         r"node 'reshape' \(Reshape\): output shape .* too many elements"),
    Case("reshape_to_absurd_zero_size_shape", r_huge_reshape_target, INVALID, r"node 'reshape' \(Reshape\): output 'R': shape .* too many elements"),
    Case("unsupported_dtype_initializer", r_unsupported_dtype_init, UNSUPPORTED, r"initializer 'W': dtype complex64 is not supported"),
    Case("invalid_dtype_initializer", r_invalid_dtype_init, INVALID, r"initializer 'W': undefined or invalid data_type 99"),
    Case("unsupported_dtype_input", r_string_input, UNSUPPORTED, r"graph input 'X': dtype string is not supported"),
    Case("sequence_input", r_sequence_input, UNSUPPORTED, r"graph input 'X': only tensor types"),
    Case("sparse_initializer", r_sparse_initializer, UNSUPPORTED, r"sparse initializers"),
    # External data.
    Case("external_data_dotdot", r_ext("../outside/secret.bin", setup=lambda d: make_weights(d, "outside/secret.bin")),
         INVALID, r"initializer 'W': external data location '\.\./outside/secret\.bin' contains '\.\.'"),
    Case("external_data_absolute", r_ext("/etc/passwd"), INVALID, r"'/etc/passwd' is an absolute path"),
    Case("external_data_symlink_out", r_ext("w.bin", 0, 16, setup=setup_symlink_out), INVALID, r"symbolic link"),
    Case("external_data_symlinked_folder", r_ext("sub/w.bin", 0, 16, setup=setup_symlink_dir), INVALID, r"symbolic link"),
    Case("external_data_symlink_inside", r_ext("w.bin", 0, 16, setup=setup_symlink_in), INVALID, r"symbolic link"),
    Case("external_data_hard_link", r_ext("w.bin", 0, 16, setup=setup_hardlink), INVALID, r"hard links"),
    Case("external_data_missing_file", r_ext("nope.bin"), INVALID, r"'nope\.bin' cannot be opened: No such file"),
    Case("external_data_past_end", r_ext("w.bin", 8, 16, setup=make_weights), INVALID,
         r"offset 8 \+ length 16 is past the end of 'w\.bin' \(16 bytes\)"),
    Case("external_data_offset_overflow", r_ext("w.bin", (1 << 63) - 1, 16, setup=make_weights), INVALID, r"past the end"),
    Case("external_data_bad_offset", r_ext("w.bin", "12abc", 16, setup=make_weights), INVALID, r"offset '12abc' is not a non-negative integer"),
    Case("external_data_length_mismatch", r_ext("w.bin", 0, 12, setup=make_weights), INVALID, r"length 12 does not match 16 bytes"),
    Case("external_data_fifo", r_ext("w.bin", 0, 16, setup=setup_ext_fifo), INVALID, r"not a regular file", timeout=20),
    Case("external_data_folder", r_ext("w.bin", 0, 16, setup=setup_ext_dir), INVALID, r"not a regular file"),
    Case("external_data_ok", r_ext_ok, 0, r"Y: float\[4\] 0 1 2 3"),
    # Attributes.
    Case("missing_required_attribute", r_constant_no_value, INVALID, r"node 'const' \(Constant\).*exactly one value attribute"),
    Case("attribute_wrong_type", r_attr_wrong_type, INVALID, r"node 'fc' \(Gemm\).*attribute 'alpha' must be of type float"),
    Case("attribute_unknown", r_attr_unknown, INVALID, r"node 'act' \(Relu\): unknown attribute 'slope'"),
    Case("attribute_twice", r_attr_twice, INVALID, r"node 'sm' \(Softmax\): attribute 'axis' is given twice"),
    # Shapes and op arguments.
    Case("gemm_inner_dims_static", r_gemm_inner_static, INVALID, r"node 'fc' \(Gemm\): inner dimensions differ"),
    Case("gemm_inner_dims_runtime", r_gemm_inner_runtime, BAD_INPUT, r"node 'fc' \(Gemm\): inner dimensions differ"),
    Case("gemm_bias_does_not_broadcast", r_gemm_bad_bias, BAD_INPUT, r"node 'fc' \(Gemm\): input 'C'.*does not broadcast"),
    Case("gemm_rank3", r_gemm_rank3, INVALID, r"node 'fc' \(Gemm\).*2-D"),
    Case("matmul_inner_dims", r_matmul_inner, INVALID, r"node 'mm' \(MatMul\): inner dimensions differ"),
    Case("matmul_batch_mismatch_runtime", r_matmul_batch_mismatch, BAD_INPUT, r"node 'mm' \(MatMul\).*cannot be broadcast"),
    Case("add_broadcast_mismatch", r_add_broadcast, INVALID, r"node 'add' \(Add\).*cannot be broadcast"),
    Case("add_mixed_dtypes", r_add_mixed_dtype, BAD_INPUT, r"node 'add' \(Add\).*(dtype|float.*int64)"),
    Case("reshape_impossible_static", r_reshape_static, INVALID, r"node 'reshape' \(Reshape\).*cannot reshape"),
    Case("reshape_impossible_runtime", r_reshape_runtime, BAD_INPUT, r"node 'reshape' \(Reshape\).*cannot reshape"),
    Case("reshape_two_minus_one", r_reshape_two_minus_one, INVALID, r"node 'reshape' \(Reshape\).*more than one -1"),
    Case("reshape_shape_not_int64", r_reshape_int32_shape, BAD_INPUT, r"node 'reshape' \(Reshape\).*input 'shape'.*int64"),
    Case("softmax_axis_out_of_range", r_softmax_axis, INVALID, r"node 'sm' \(Softmax\).*axis 5"),
    Case("flatten_axis_out_of_range", r_flatten_axis, INVALID, r"node 'flat' \(Flatten\).*axis"),
    # Limits.
    Case("max_memory_exceeded", r_max_memory, LIMIT, r"node 'act' \(Relu\).*above --max-memory"),
    Case("too_many_nodes", r_too_many_nodes, LIMIT, r"1000001 nodes, above the limit of 1000000", timeout=300),
    Case("million_node_chain_runs", r_million_nodes, 0, r"t1000000: float\[1\]", timeout=600),
    # User inputs.
    Case("input_wrong_dtype", r_input_dtype, BAD_INPUT, r"input 'X': expected float, got int64"),
    Case("input_wrong_rank", r_input_rank, BAD_INPUT, r"input 'X': expected rank 2 \(declared float\[2, 3\]\), got float\[6\]"),
    Case("input_wrong_fixed_dim", r_input_fixed_dim, BAD_INPUT, r"input 'X': dimension 1 must be 3 \(declared float\[2, 3\]\), got float\[2, 4\]"),
    Case("input_missing", r_missing_input, BAD_INPUT, r"input 'B' has no declared shape"),
    Case("input_unknown_name", r_unknown_input, BAD_INPUT, r"unknown input name 'x' \(the model's inputs: X\)"),
    Case("npy_bad_magic", r_npy_magic, BAD_INPUT, r"x\.npy: malformed \.npy: missing", names="x.npy"),
    Case("npy_truncated_many_offsets", r_npy_truncated, BAD_INPUT, r"malformed \.npy|file is empty", names=".npy"),
    Case("npy_header_length_past_end", r_npy_header_len, BAD_INPUT, r"header length past the end", names="x.npy"),
    Case("npy_negative_dim", r_npy_bad_shape, BAD_INPUT, r"bad dimension '-3'", names="x.npy"),
    Case("npy_huge_shape", r_npy_huge_shape, BAD_INPUT, r"x\.npy: malformed \.npy: .*too many elements", names="x.npy"),
    Case("npy_unsupported_dtype", r_npy_dtype, BAD_INPUT, r"unsupported dtype '<U8'", names="x.npy"),
    Case("npy_fortran_order", r_npy_fortran, BAD_INPUT, r"fortran_order", names="x.npy"),
    Case("pb_garbage", r_pb_garbage, BAD_INPUT, r"x\.pb: not a valid TensorProto", names="x.pb"),
    Case("pb_raw_data_mismatch", r_pb_raw_mismatch, BAD_INPUT, r"x\.pb: raw_data has 10 bytes", names="x.pb"),
    Case("pb_huge_dims_no_data", r_pb_huge_dims, BAD_INPUT, r"x\.pb: shape .* too many elements", names="x.pb"),
    Case("pb_external_data_refused", r_pb_external, BAD_INPUT, r"x\.pb: external data \('x\.bin'\) is not allowed", names="x.pb"),
    Case("input_file_fifo", r_input_fifo, BAD_INPUT, r"x\.pb: is a FIFO", names="x.pb", timeout=20),
    Case("check_reference_malformed", r_check_bad_reference, BAD_INPUT, r"output_0\.pb", names="output_0.pb"),
    # Good data through the same doors: must run.
    Case("nan_inf_propagate", r_nan_inf, 0, r"R: float\[2, 4\]", verify=v_nan_inf),
    Case("zero_batch_runs_empty", r_zero_batch, 0, r"Y: float\[0, 2\]", verify=v_zero_batch),
    Case("zero_size_reduction", r_zero_size_inner, 0, r"Y: float\[2, 3\]", verify=v_zero_size_inner),
    # Rows for ops that land later (SKIP until registered).
    Case("gather_index_out_of_range", r_gather_index, BAD_INPUT, r"node 'gather' \(Gather\).*index 3.*out of range",
         requires=("Gather",)),
    Case("gather_negative_index_out_of_range", r_gather_negative_index, BAD_INPUT,
         r"node 'gather' \(Gather\).*index -4.*out of range", requires=("Gather",)),
    Case("labels_out_of_range", r_labels_out_of_range, BAD_INPUT, r"node 'loss' \(SoftmaxCrossEntropyLoss\).*label 3",
         requires=("SoftmaxCrossEntropyLoss",)),
    Case("labels_all_ignored_mean_is_nan", r_labels_all_ignored, 0, r"Y: float\[\]", verify=v_labels_all_ignored,
         requires=("SoftmaxCrossEntropyLoss",)),
]


# ----------------------------------------------------------------------------
# Running.

def registered_ops(binary):
    out = subprocess.run([binary, "--list-ops"], capture_output=True, text=True, timeout=60).stdout
    return {line.split("\t")[1] for line in out.splitlines() if line.count("\t") >= 2}


def run_case(case, binary, workdir):
    if case.requires:
        missing = [op for op in case.requires if op not in registered_ops(binary)]
        if missing:
            print("SKIP %s: needs %s, not registered yet" % (case.name, ", ".join(missing)))
            return SKIP
    if os.path.isdir(workdir):
        shutil.rmtree(workdir)
    os.makedirs(workdir)
    runs = case.recipe(workdir)
    failures = []
    for args in runs:
        try:
            p = subprocess.run([binary] + args, cwd=workdir, capture_output=True, text=True, errors="replace",
                               timeout=case.timeout)
        except subprocess.TimeoutExpired:
            failures.append("%s: did not finish in %ds" % (" ".join(args), case.timeout))
            continue
        label = "onnx-run " + " ".join(args)
        out = p.stdout + p.stderr
        if p.returncode < 0 or p.returncode >= 128:
            failures.append("%s: ended by a signal or crash (exit %d)\n%s" % (label, p.returncode, p.stderr[-3000:]))
            continue
        if p.returncode != case.code:
            failures.append("%s: exit %d, expected %d\n%s" % (label, p.returncode, case.code, out[-3000:]))
            continue
        text = p.stderr if case.code else out
        if not re.search(case.msg, text, re.S):
            failures.append("%s: message does not match /%s/:\n%s" % (label, case.msg, text[-3000:]))
            continue
        if case.code:
            named = case.names or args[0]
            if named not in p.stderr:
                failures.append("%s: the message does not name the file '%s':\n%s" % (label, named, p.stderr))
                continue
            if "\n" in p.stderr.strip() and not p.stderr.strip().startswith("onnx-run: error:"):
                failures.append("%s: unexpected extra output on stderr:\n%s" % (label, p.stderr))
                continue
    if not failures and case.verify:
        try:
            case.verify(workdir)
        except AssertionError as e:
            failures.append("verify: %s" % e)
    if failures:
        print("FAIL %s (%d of %d runs)" % (case.name, len(failures), len(runs)))
        for f in failures[:10]:
            print("  " + f)
        return 1
    print("PASS %s (%d run%s): exit %d" % (case.name, len(runs), "" if len(runs) == 1 else "s", case.code))
    last = p.stderr.strip() if case.code else ""
    if last:
        print("  message: " + last)
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


def emit_seeds(out_dir, max_bytes):
    """Writes every model the recipes build (small enough) into out_dir."""
    import tempfile
    os.makedirs(out_dir, exist_ok=True)
    count = 0
    for case in CASES:
        if case.timeout > 60:
            continue  # the million-node models: far too big for a fuzzing seed
        with tempfile.TemporaryDirectory() as d:
            runs = case.recipe(d)
            seen = set()
            for args in runs[:8]:
                path = os.path.join(d, args[0])
                if path in seen or not os.path.isfile(path) or os.path.islink(path):
                    continue
                seen.add(path)
                if os.path.getsize(path) > max_bytes or not os.path.getsize(path):
                    continue
                shutil.copyfile(path, os.path.join(out_dir, "hostile_%s_%d.onnx" % (case.name, len(seen))))
                count += 1
    print("emitted %d seeds into %s" % (count, out_dir))


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--run")
    ap.add_argument("--onnx-run")
    ap.add_argument("--workdir")
    ap.add_argument("--emit-seeds")
    ap.add_argument("--max-bytes", type=int, default=1 << 16)
    a = ap.parse_args(argv)
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    if a.list:
        print("\n".join(names))
        return 0
    if a.emit_seeds:
        emit_seeds(a.emit_seeds, a.max_bytes)
        return 0
    if a.run:
        case = next((c for c in CASES if c.name == a.run), None)
        if case is None:
            print("no case named %r" % a.run)
            return 2
        return run_case(case, os.path.abspath(a.onnx_run), os.path.abspath(a.workdir))
    ap.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
