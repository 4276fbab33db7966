"""Recipes of the bad-model suite: each builds its files in the case's work
folder and returns the onnx-run argument lists to run (paths relative to it);
verify_* functions check the outputs of the rows that must succeed.
"""
import os
import struct
import zlib

from builders import (onnx_mod,
                      vinfo,
                      node,
                      tensor,
                      model,
                      save,
                      relu_model,
                      mlp_model,
                      raw_tensor,
                      const_model_with,
                      external_init,
                      ext_model,
                      write,
                      npy,
                      npy_bytes,
                      chain_model_bytes,
                      nested_if_model,
                      FLOAT,
                      INT64,
                      INT32)

def empty_file(d):
    return [[write(d, "empty.onnx", b"")]]


def truncated(d):
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


def corrupted_protobuf(d):
    # ir_version 8, then a field with wire type 7 (there is none), then filler.
    return [[write(d, "m.onnx", b"\x08\x08\x0f" + b"\x00" * 7)]]


def png(d):
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    chunk = lambda t, p: struct.pack(">I", len(p)) + t + p + struct.pack(">I", zlib.crc32(t + p))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0\0\0\0")) + chunk(b"IEND", b"")
    return [[write(d, "image.onnx", png)]]


def zip_checkpoint(d):
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:  # the layout torch.save writes
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        z.writestr("archive/version", b"3\n")
    return [[write(d, "model.pt", buf.getvalue())]]


def pickle(d):
    return [[write(d, "model.pth", b"\x80\x02}q\x00(X\x06\x00\x00\x00weightq\x01K\x01u.")]]


def tensorproto_as_model(d):
    return [[save(d, "tensor.onnx", tensor("W", [1.0, 2.0, 3.0], [3]))]]


def directory(d):
    os.makedirs(os.path.join(d, "dir.onnx"), exist_ok=True)
    return [["dir.onnx"]]


def fifo(d):
    path = os.path.join(d, "fifo.onnx")
    if not os.path.exists(path):
        os.mkfifo(path)
    return [["fifo.onnx"]]


def dev_zero(d):
    return [["/dev/zero"]]


def missing_file(d):
    return [["no_such_model.onnx"]]


def no_ir_version(d):
    m = relu_model()
    m.ir_version = 0
    return [[save(d, "m.onnx", m)]]


def no_opset(d):
    m = relu_model()
    del m.opset_import[:]
    return [[save(d, "m.onnx", m)]]


def duplicate_opset(d):
    h = onnx_mod().helper
    m = model([node("Relu", ["X"], ["Y"])], [vinfo("X", FLOAT, [2])], [vinfo("Y", FLOAT, [2])],
              opsets=[h.make_opsetid("", 13), h.make_opsetid("ai.onnx", 12)])
    return [[save(d, "m.onnx", m)]]


def opset(version):
    def recipe(d):
        m = model([node("Relu", ["X"], ["Y"])], [vinfo("X", FLOAT, [2])], [vinfo("Y", FLOAT, [2])], opset=version)
        return [[save(d, "m.onnx", m)]]
    return recipe


def opset_wraps_int(d):
    m = relu_model()
    m.opset_import[0].version = (1 << 32) + 13
    return [[save(d, "m.onnx", m)]]


def unknown_domain(d):
    h = onnx_mod().helper
    m = model([node("Relu", ["X"], ["Y"], domain="com.example")], [vinfo("X", FLOAT, [2])], [vinfo("Y", FLOAT, [2])],
              opsets=[h.make_opsetid("", 13), h.make_opsetid("com.example", 1)])
    return [[save(d, "m.onnx", m)]]


def domain_not_imported(d):
    m = model([node("Relu", ["X"], ["Y"], domain="com.example")], [vinfo("X", FLOAT, [2])], [vinfo("Y", FLOAT, [2])])
    return [[save(d, "m.onnx", m)]]


def unknown_ops(d):
    m = model([node("FancyOp", ["X"], ["T"], name="first"), node("OtherOp", ["T"], ["Y"], name="second")],
              [vinfo("X", FLOAT, [2])], [vinfo("Y", FLOAT, [2])])
    return [[save(d, "m.onnx", m)]]


def op_before_opset(d):
    m = model([node("Gemm", ["A", "B"], ["Y"], name="old_gemm")],
              [vinfo("A", FLOAT, [2, 2]), vinfo("B", FLOAT, [2, 2])], [vinfo("Y", FLOAT, [2, 2])], opset=6)
    return [[save(d, "m.onnx", m)]]


def undefined_input(d):
    m = model([node("Add", ["X", "ghost"], ["Y"], name="add")], [vinfo("X", FLOAT, [2])], [vinfo("Y", FLOAT, [2])])
    return [[save(d, "m.onnx", m)]]


def cycle(d):
    m = model([node("Add", ["X", "B"], ["A"], name="a"), node("Relu", ["A"], ["B"], name="b"),
               node("Identity", ["A"], ["Y"], name="out")],
              [vinfo("X", FLOAT, [2])], [vinfo("Y", FLOAT, [2])])
    return [[save(d, "m.onnx", m)]]


def self_loop(d):
    m = model([node("Add", ["X", "Y"], ["Y"], name="self")], [vinfo("X", FLOAT, [2])], [vinfo("Y", FLOAT, [2])])
    return [[save(d, "m.onnx", m)]]


def produced_twice(d):
    m = model([node("Relu", ["X"], ["Y"], name="r1"), node("Identity", ["X"], ["Y"], name="r2")],
              [vinfo("X", FLOAT, [2])], [vinfo("Y", FLOAT, [2])])
    return [[save(d, "m.onnx", m)]]


def output_overwrites_input(d):
    m = model([node("Relu", ["X"], ["X"], name="r")], [vinfo("X", FLOAT, [2])], [vinfo("X", FLOAT, [2])])
    return [[save(d, "m.onnx", m)]]


def output_never_produced(d):
    m = model([node("Relu", ["X"], ["Y"])], [vinfo("X", FLOAT, [2])], [vinfo("Z", FLOAT, [2])])
    return [[save(d, "m.onnx", m)]]


def no_outputs(d):
    m = model([node("Relu", ["X"], ["Y"])], [vinfo("X", FLOAT, [2])], [])
    return [[save(d, "m.onnx", m)]]


def duplicate_initializer(d):
    m = const_model_with(tensor("W", [1, 2], [2]))
    m.graph.initializer.append(tensor("W", [3, 4], [2]))
    return [[save(d, "m.onnx", m)]]


def raw_data_size(d):
    return [[save(d, "m.onnx", const_model_with(raw_tensor("W", FLOAT, [2], raw=b"\0" * 7)))]]


def typed_count(d):
    return [[save(d, "m.onnx", const_model_with(raw_tensor("W", FLOAT, [2], float_data=[1.0, 2.0, 3.0])))]]


def negative_dim_init(d):
    return [[save(d, "m.onnx", const_model_with(raw_tensor("W", FLOAT, [2, -3], raw=b"")))]]


def negative_dim_input(d):
    return [[save(d, "m.onnx", relu_model(shape=(2, -3)))]]


def dims_overflow(d):
    return [[save(d, "m.onnx", const_model_with(raw_tensor("W", FLOAT, [1 << 32, 1 << 32, 16], raw=b"")))]]


def dims_overflow_after_zero(d):
    # The product is 0, but the non-zero dims alone overflow int64: any code that
    # multiplies "all but one" dim (strides, Flatten, Softmax) would wrap.
    return [[save(d, "m.onnx", const_model_with(raw_tensor("W", FLOAT, [0, 1 << 40, 1 << 40], raw=b"")))]]


def huge_dims_no_data(d):
    return [[save(d, "m.onnx", const_model_with(raw_tensor("W", FLOAT, [1 << 20, 1 << 20])))]]


def huge_dims_raw_empty(d):
    return [[save(d, "m.onnx", const_model_with(raw_tensor("W", FLOAT, [1 << 20, 1 << 19], raw=b"")))]]


def huge_input_decl(d):
    return [[save(d, "m.onnx", relu_model(shape=(1 << 30, 1 << 30)))]]


def huge_reshape_target(d):
    # A 0-element tensor reshaped to [0, 2^40, 2^40]: its element count is 0, the
    # other dims are absurd; then Flatten multiplies the trailing dims.
    m = model([node("Reshape", ["X", "S"], ["R"], name="reshape"), node("Flatten", ["R"], ["Y"], name="flatten")],
              [vinfo("X", FLOAT, [0, 4])], [vinfo("Y", FLOAT, None)],
              inits=[tensor("S", [0, 1 << 40, 1 << 40], [3], INT64)])
    return [[save(d, "m.onnx", m)]]


def huge_reshape_runtime(d):
    # The same absurd target shape, given at run time: the kernel's output allocation refuses it.
    import numpy as np
    m = model([node("Reshape", ["X", "S"], ["R"], name="reshape"), node("Flatten", ["R"], ["Y"], name="flatten")],
              [vinfo("X", FLOAT, [0, 4]), vinfo("S", INT64, [3])], [vinfo("Y", FLOAT, None)])
    s = npy(d, "s.npy", np.array([0, 1 << 40, 1 << 40], dtype=np.int64))
    return [[save(d, "m.onnx", m), "--input", "S=" + s]]


def unsupported_dtype_init(d):
    t = raw_tensor("W", 14, [2], raw=b"\0" * 16)  # complex64
    return [[save(d, "m.onnx", const_model_with(t))]]


def invalid_dtype_init(d):
    return [[save(d, "m.onnx", const_model_with(raw_tensor("W", 99, [2], raw=b"\0" * 8)))]]


def string_input(d):
    return [[save(d, "m.onnx", relu_model(elem=8))]]


def sequence_input(d):
    h = onnx_mod().helper
    seq = h.make_tensor_sequence_value_info("X", FLOAT, [2])
    m = model([node("Identity", ["X"], ["Y"])], [seq], [vinfo("Y", FLOAT, [2])])
    return [[save(d, "m.onnx", m)]]


def sparse_initializer(d):
    h = onnx_mod().helper
    m = const_model_with(tensor("W", [1, 2], [2]))
    sp = h.make_sparse_tensor(tensor("V", [5.0], [1]), tensor("I", [1], [1], INT64), [2])
    m.graph.sparse_initializer.append(sp)
    return [[save(d, "m.onnx", m)]]


def ext(location, offset=None, length=None, dims=(4,), setup=None):
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


def constant_no_value(d):
    m = model([node("Constant", [], ["Y"], name="const")], [], [vinfo("Y", FLOAT, None)])
    return [[save(d, "m.onnx", m)]]


def attr_wrong_type(d):
    m = model([node("Gemm", ["A", "B"], ["Y"], name="fc", alpha="big")],
              [vinfo("A", FLOAT, [2, 2]), vinfo("B", FLOAT, [2, 2])], [vinfo("Y", FLOAT, [2, 2])])
    return [[save(d, "m.onnx", m)]]


def attr_unknown(d):
    m = model([node("Relu", ["X"], ["Y"], name="act", slope=0.1)], [vinfo("X", FLOAT, [2])], [vinfo("Y", FLOAT, [2])])
    return [[save(d, "m.onnx", m)]]


def attr_twice(d):
    m = model([node("Softmax", ["X"], ["Y"], name="sm", axis=1)], [vinfo("X", FLOAT, [2, 2])], [vinfo("Y", FLOAT, [2, 2])])
    m.graph.node[0].attribute.append(m.graph.node[0].attribute[0])
    return [[save(d, "m.onnx", m)]]


def subgraph_attr(d):
    return [[save(d, "m.onnx", nested_if_model(3))]]


# Control flow: If/Loop whose subgraphs break the ops' contracts.
def _graph(nodes, outputs, inputs=(), name="g"):
    return onnx_mod().helper.make_graph(nodes, name, list(inputs), outputs)


def _if_model(then_g, else_g, cond_elem=9, outputs=1):
    attrs = {}
    if then_g is not None:
        attrs["then_branch"] = then_g
    if else_g is not None:
        attrs["else_branch"] = else_g
    outs = ["Y%d" % i for i in range(outputs)]
    n = node("If", ["C"], outs, name="choose", **attrs)
    return model([n], [vinfo("C", cond_elem, []), vinfo("X", FLOAT, [2])], [vinfo(o, FLOAT, [2]) for o in outs])


def _identity_branch(out):
    return _graph([node("Identity", ["X"], [out])], [vinfo(out, FLOAT, [2])])


def if_missing_branch(d):
    return [[save(d, "m.onnx", _if_model(_identity_branch("t"), None))]]


def if_branch_output_count(d):
    return [[save(d, "m.onnx", _if_model(_identity_branch("t"), _identity_branch("e"), outputs=2))]]


def if_cond_float(d):
    return [[save(d, "m.onnx", _if_model(_identity_branch("t"), _identity_branch("e"), cond_elem=FLOAT))]]


def if_branch_undefined_name(d):
    bad = _graph([node("Identity", ["nowhere"], ["t"])], [vinfo("t", FLOAT, [2])])
    return [[save(d, "m.onnx", _if_model(bad, _identity_branch("e")))]]


def _loop_model(body, inputs=("M", "", "X")):
    n = node("Loop", list(inputs), ["Y"], name="repeat", body=body)
    return model([n], [vinfo("M", 7, []), vinfo("X", FLOAT, [2])], [vinfo("Y", FLOAT, [2])])


def loop_body_input_count(d):
    body = _graph([node("Identity", ["c"], ["c_out"]), node("Identity", ["X"], ["y"])],
                  [vinfo("c_out", 9, []), vinfo("y", FLOAT, [2])], [vinfo("i", 7, []), vinfo("c", 9, [])])
    return [[save(d, "m.onnx", _loop_model(body))]]


def loop_body_cond_float(d):
    body = _graph([node("Identity", ["y_in"], ["c_out"]), node("Identity", ["y_in"], ["y"])],
                  [vinfo("c_out", FLOAT, [2]), vinfo("y", FLOAT, [2])],
                  [vinfo("i", 7, []), vinfo("c", 9, []), vinfo("y_in", FLOAT, [2])])
    return [[save(d, "m.onnx", _loop_model(body))]]


def loop_sequence_carried(d):
    h = onnx_mod().helper
    seq = h.make_sequence_value_info("s", FLOAT, [2]) if hasattr(h, "make_sequence_value_info") else \
        h.make_value_info("s", h.make_sequence_type_proto(h.make_tensor_type_proto(FLOAT, [2])))
    body = _graph([node("Identity", ["c"], ["c_out"])], [vinfo("c_out", 9, []), seq], [vinfo("i", 7, []), vinfo("c", 9, []), seq])
    return [[save(d, "m.onnx", _loop_model(body))]]


def loop_scan_memory_bomb(d):
    """M = 2^40 iterations, each stacking a float[2]: the stack hits --max-memory."""
    body = _graph([node("Identity", ["c"], ["c_out"]), node("Identity", ["X"], ["s"])],
                  [vinfo("c_out", 9, []), vinfo("s", FLOAT, [2])], [vinfo("i", 7, []), vinfo("c", 9, [])])
    n = node("Loop", ["M", ""], ["S"], name="repeat", body=body)
    m = model([n], [vinfo("X", FLOAT, [2])], [vinfo("S", FLOAT, ["n", 2])], inits=[tensor("M", [1 << 40], [], elem=7)])
    return [[save(d, "m.onnx", m), "--max-memory", "1M"]]


def deep_nesting(d):
    return [[save(d, "m.onnx", nested_if_model(200))]]


def gemm_inner_static(d):
    m = model([node("Gemm", ["A", "B"], ["Y"], name="fc")],
              [vinfo("A", FLOAT, [2, 3]), vinfo("B", FLOAT, [4, 5])], [vinfo("Y", FLOAT, [2, 5])])
    return [[save(d, "m.onnx", m)]]


def gemm_inner_runtime(d):
    m = model([node("Gemm", ["A", "B"], ["Y"], name="fc")],
              [vinfo("A", FLOAT, [2, "K"]), vinfo("B", FLOAT, ["K2", 5])], [vinfo("Y", FLOAT, [2, 5])])
    return [[save(d, "m.onnx", m), "--dim", "K=3", "--dim", "K2=4"]]


def gemm_bad_bias(d):
    m = model([node("Gemm", ["A", "B", "C"], ["Y"], name="fc")],
              [vinfo("A", FLOAT, [2, 3]), vinfo("B", FLOAT, [3, 4]), vinfo("C", FLOAT, [3])], [vinfo("Y", FLOAT, None)])
    return [[save(d, "m.onnx", m)]]


def gemm_rank3(d):
    m = model([node("Gemm", ["A", "B"], ["Y"], name="fc")],
              [vinfo("A", FLOAT, [2, 2, 2]), vinfo("B", FLOAT, [2, 2])], [vinfo("Y", FLOAT, None)])
    return [[save(d, "m.onnx", m)]]


def matmul_inner(d):
    m = model([node("MatMul", ["A", "B"], ["Y"], name="mm")],
              [vinfo("A", FLOAT, [2, 3]), vinfo("B", FLOAT, [4, 5])], [vinfo("Y", FLOAT, None)])
    return [[save(d, "m.onnx", m)]]


def matmul_batch_mismatch(d):
    m = model([node("MatMul", ["A", "B"], ["Y"], name="mm")],
              [vinfo("A", FLOAT, ["P", 2, 3]), vinfo("B", FLOAT, ["Q", 3, 4])], [vinfo("Y", FLOAT, None)])
    return [[save(d, "m.onnx", m), "--dim", "P=2", "--dim", "Q=3"]]


def add_broadcast(d):
    m = model([node("Add", ["A", "B"], ["Y"], name="add")],
              [vinfo("A", FLOAT, [2, 3]), vinfo("B", FLOAT, [4])], [vinfo("Y", FLOAT, None)])
    return [[save(d, "m.onnx", m)]]


def add_mixed_dtype(d):
    m = model([node("Add", ["A", "B"], ["Y"], name="add")],
              [vinfo("A", FLOAT, [2]), vinfo("B", INT64, [2])], [vinfo("Y", FLOAT, None)])
    return [[save(d, "m.onnx", m)]]


def concat_mixed_dtype(d):
    m = model([node("Concat", ["A", "B", "C"], ["Y"], name="cat", axis=0)],
              [vinfo("A", FLOAT, [2]), vinfo("B", FLOAT, [2]), vinfo("C", INT64, [2])], [vinfo("Y", FLOAT, None)])
    return [[save(d, "m.onnx", m)]]


def where_mixed_dtype(d):
    m = model([node("Where", ["C", "X", "Y"], ["Z"], name="where")],
              [vinfo("C", 9, [2]), vinfo("X", FLOAT, [2]), vinfo("Y", INT64, [2])], [vinfo("Z", FLOAT, None)])
    return [[save(d, "m.onnx", m)]]


def mixed_dtype_inferred(d):
    # C's dtype is not declared: load-time inference gives it (Shape -> int64).
    m = model([node("Shape", ["X"], ["C"], name="shape"), node("MatMul", ["C", "W"], ["Y"], name="mm")],
              [vinfo("X", FLOAT, [2, 3])], [vinfo("Y", FLOAT, None)], inits=[tensor("W", [1.0, 2.0], [2])])
    return [[save(d, "m.onnx", m)]]


def reshape_static(d):
    m = model([node("Reshape", ["X", "S"], ["Y"], name="reshape")], [vinfo("X", FLOAT, [2, 3])],
              [vinfo("Y", FLOAT, None)], inits=[tensor("S", [4, 2], [2], INT64)])
    return [[save(d, "m.onnx", m)]]


def reshape_runtime(d):
    m = model([node("Reshape", ["X", "S"], ["Y"], name="reshape")], [vinfo("X", FLOAT, [2, 3]), vinfo("S", INT64, [2])],
              [vinfo("Y", FLOAT, None)])
    import numpy as np
    return [[save(d, "m.onnx", m), "--input", "S=" + npy(d, "s.npy", np.array([4, 2], dtype=np.int64))]]


def reshape_two_minus_one(d):
    m = model([node("Reshape", ["X", "S"], ["Y"], name="reshape")], [vinfo("X", FLOAT, [2, 3])],
              [vinfo("Y", FLOAT, None)], inits=[tensor("S", [-1, -1], [2], INT64)])
    return [[save(d, "m.onnx", m)]]


def reshape_int32_shape(d):
    m = model([node("Reshape", ["X", "S"], ["Y"], name="reshape")], [vinfo("X", FLOAT, [2, 3]), vinfo("S", INT32, [2])],
              [vinfo("Y", FLOAT, None)])
    return [[save(d, "m.onnx", m)]]


def softmax_axis(d):
    m = model([node("Softmax", ["X"], ["Y"], name="sm", axis=5)], [vinfo("X", FLOAT, [2, 3])], [vinfo("Y", FLOAT, None)])
    return [[save(d, "m.onnx", m)]]


def flatten_axis(d):
    m = model([node("Flatten", ["X"], ["Y"], name="flat", axis=7)], [vinfo("X", FLOAT, [2, 3])], [vinfo("Y", FLOAT, None)])
    return [[save(d, "m.onnx", m)]]


def relu_arity(d):
    m = model([node("Relu", ["X", "X"], ["Y"], name="act")], [vinfo("X", FLOAT, [2])], [vinfo("Y", FLOAT, [2])])
    return [[save(d, "m.onnx", m)]]


def value_info_contradicts(d):
    m = model([node("Relu", ["X"], ["H"], name="act"), node("Identity", ["H"], ["Y"], name="id")],
              [vinfo("X", FLOAT, [2, 3])], [vinfo("Y", FLOAT, None)], value_info=[vinfo("H", FLOAT, [5])])
    return [[save(d, "m.onnx", m)]]


def max_memory(d):
    m = model([node("Relu", ["X"], ["H"], name="act"), node("Relu", ["H"], ["Y"], name="act2")],
              [vinfo("X", FLOAT, [256, 256])], [vinfo("Y", FLOAT, None)])
    return [[save(d, "m.onnx", m), "--max-memory", "64K"]]


def too_many_nodes(d):
    return [[save(d, "m.onnx", chain_model_bytes(1_000_001))]]


def million_nodes(d):
    return [[save(d, "m.onnx", chain_model_bytes(1_000_000))]]


# Inputs given by the user.

def relu_with_input(d, rel):
    return [save(d, "m.onnx", relu_model()), "--input", "X=" + rel]


def input_dtype(d):
    import numpy as np
    return [relu_with_input(d, npy(d, "x.npy", np.zeros((2, 3), dtype=np.int64)))]


def input_rank(d):
    import numpy as np
    return [relu_with_input(d, npy(d, "x.npy", np.zeros((6,), dtype=np.float32)))]


def input_fixed_dim(d):
    import numpy as np
    return [relu_with_input(d, npy(d, "x.npy", np.zeros((2, 4), dtype=np.float32)))]


def missing_input(d):
    m = model([node("Add", ["A", "B"], ["Y"], name="add")], [vinfo("A", FLOAT, [2]), vinfo("B", FLOAT, None)],
              [vinfo("Y", FLOAT, None)])
    import numpy as np
    return [[save(d, "m.onnx", m), "--input", "A=" + npy(d, "a.npy", np.zeros(2, dtype=np.float32))]]


def unknown_input(d):
    import numpy as np
    return [[save(d, "m.onnx", relu_model()), "--input", "x=" + npy(d, "x.npy", np.zeros((2, 3), dtype=np.float32))]]


def npy_magic(d):
    return [relu_with_input(d, write(d, "x.npy", b"NOTNUMPY" + b"\0" * 40))]


def npy_truncated(d):
    import io
    import numpy as np
    buf = io.BytesIO()
    np.save(buf, np.zeros((2, 3), dtype=np.float32))
    data = buf.getvalue()
    return [relu_with_input(d, write(d, "x_%d.npy" % c, data[:c])) for c in (0, 5, 9, 11, 40, len(data) - 1)]


def npy_header_len(d):
    return [relu_with_input(d, write(d, "x.npy", b"\x93NUMPY\x01\x00\xff\xff{'descr': '<f4'"))]


def npy_bad_shape(d):
    return [relu_with_input(d, write(d, "x.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }")))]


def npy_huge_shape(d):
    return [relu_with_input(d, write(d, "x.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1073741824, 1073741824), }", b"\0" * 24)))]


def npy_dtype(d):
    return [relu_with_input(d, write(d, "x.npy", npy_bytes("{'descr': '<U8', 'fortran_order': False, 'shape': (2, 3), }", b"\0" * 192)))]


def npy_fortran(d):
    return [relu_with_input(d, write(d, "x.npy", npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", b"\0" * 24)))]


def pb_garbage(d):
    return [relu_with_input(d, write(d, "x.pb", b"\xff\xff\xff\xff\xff\xff"))]


def pb_raw_mismatch(d):
    return [relu_with_input(d, write(d, "x.pb", raw_tensor("X", FLOAT, [2, 3], raw=b"\0" * 10).SerializeToString()))]


def pb_huge_dims(d):
    return [relu_with_input(d, write(d, "x.pb", raw_tensor("X", FLOAT, [1 << 30, 1 << 30]).SerializeToString()))]


def pb_external(d):
    t = external_init("x.bin")
    write(d, "x.bin", b"\0" * 16)
    return [relu_with_input(d, write(d, "x.pb", t.SerializeToString()))]


def input_fifo(d):
    p = os.path.join(d, "x.pb")
    if not os.path.exists(p):
        os.mkfifo(p)
    return [relu_with_input(d, "x.pb")]


def check_bad_reference(d):
    rel = save(d, "m/model.onnx", relu_model())
    write(d, "m/test_data_set_0/input_0.pb", tensor("X", [0] * 6, [2, 3]).SerializeToString())
    write(d, "m/test_data_set_0/output_0.pb", b"\x08\x02\x08")  # dims 2, then a cut field
    return [[rel, "--check"]]


# Runs that must succeed: the guard rails must not refuse good data.

def ext_ok(d):
    make_weights(d)
    return [[ext_model(d, "w.bin", 0, 16), "--output-dir", "out"]]


def nan_inf(d):
    import numpy as np
    x = np.array([[np.nan, np.inf, -np.inf, 1.0], [0.0, -1.0, np.nan, 2.0]], dtype=np.float32)
    m = model([node("Relu", ["X"], ["R"], name="act"), node("Add", ["X", "X"], ["S"], name="add"),
               node("Softmax", ["X"], ["P"], name="sm", axis=1),
               node("Gemm", ["X", "X"], ["G"], name="fc", transB=1)],
              [vinfo("X", FLOAT, [2, 4])], [vinfo("R", FLOAT, None), vinfo("S", FLOAT, None), vinfo("P", FLOAT, None),
                                            vinfo("G", FLOAT, None)])
    return [[save(d, "m.onnx", m), "--input", "X=" + npy(d, "x.npy", x), "--output-dir", "out"]]


def verify_nan_inf(d):
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


def zero_batch(d):
    m = mlp_model()
    m.graph.node.extend([node("Reshape", ["Y", "S"], ["Z"], name="reshape"), node("Flatten", ["Z"], ["F"], name="flat"),
                         node("MatMul", ["X", "WT"], ["M"], name="mm")])
    m.graph.initializer.extend([tensor("S", [-1, 2, 1], [3], INT64), tensor("WT", [1.0] * 6, [3, 2])])
    m.graph.output.extend([vinfo("Z", FLOAT, None), vinfo("F", FLOAT, None), vinfo("M", FLOAT, None)])
    return [[save(d, "m.onnx", m), "--dim", "N=0", "--output-dir", "out"]]


def verify_zero_batch(d):
    import numpy as np
    for name, shape in (("Y", (0, 2)), ("Z", (0, 2, 1)), ("F", (0, 2)), ("M", (0, 2))):
        got = np.load(os.path.join(d, "out", name + ".npy"))
        assert got.shape == shape, "%s: shape %r, expected %r" % (name, got.shape, shape)


def zero_size_softmax_axis(d):
    # Found by fuzzing: [0, 1, 5] with axis 0 gave outer 1, n 0, inner 5, and the
    # row loop offset the null data pointer of the empty tensor.
    m = model([node("Softmax", ["X"], ["S"], name="sm", axis=0), node("LogSoftmax", ["X"], ["L"], name="lsm", axis=0),
               node("Softmax", ["X"], ["T"], name="sm_last", axis=-1)],
              [vinfo("X", FLOAT, [0, 1, 5])], [vinfo("S", FLOAT, None), vinfo("L", FLOAT, None), vinfo("T", FLOAT, None)])
    return [[save(d, "m.onnx", m), "--output-dir", "out"]]


def verify_zero_size_softmax_axis(d):
    import numpy as np
    for name in ("S", "L", "T"):
        got = np.load(os.path.join(d, "out", name + ".npy"))
        assert got.shape == (0, 1, 5), "%s: shape %r, expected (0, 1, 5)" % (name, got.shape)


def zero_size_inner(d):
    # K = 0: Gemm's reduction is empty, so Y = beta * C exactly.
    m = model([node("Gemm", ["A", "B", "C"], ["Y"], name="fc", beta=2.0)],
              [vinfo("A", FLOAT, [2, 0]), vinfo("B", FLOAT, [0, 3])], [vinfo("Y", FLOAT, None)],
              inits=[tensor("C", [1.0, 2.0, 3.0], [3])])
    return [[save(d, "m.onnx", m), "--output-dir", "out"]]


def verify_zero_size_inner(d):
    import numpy as np
    got = np.load(os.path.join(d, "out", "Y.npy"))
    assert_same("Gemm K=0", got, np.tile(np.array([2.0, 4.0, 6.0], dtype=np.float32), (2, 1)))


# Ops not on main yet: these rows enable themselves when the op is registered.

def gather_index(d):
    m = model([node("Gather", ["X", "I"], ["Y"], name="gather", axis=0)], [vinfo("X", FLOAT, [3, 2])],
              [vinfo("Y", FLOAT, None)], inits=[tensor("I", [0, 3], [2], INT64)])
    return [[save(d, "m.onnx", m)]]


def gather_negative_index(d):
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


def labels_out_of_range(d):
    return [[save(d, "m.onnx", loss_model([0, 3]))]]


def nll_negative_label(d):
    m = model([node("NegativeLogLikelihoodLoss", ["S", "L"], ["Y"], name="nll", reduction="mean")],
              [vinfo("S", FLOAT, [2, 3])], [vinfo("Y", FLOAT, None)], inits=[tensor("L", [0, -1], [2], INT64)])
    return [[save(d, "m.onnx", m)]]


def labels_all_ignored(d):
    return [[save(d, "m.onnx", loss_model([1, 1], ignore_index=1)), "--output-dir", "out"]]


def verify_labels_all_ignored(d):
    import numpy as np
    got = np.load(os.path.join(d, "out", "Y.npy"))
    assert np.isnan(got).all(), "mean over zero weights must be NaN (0/0, as PyTorch), got %r" % got


# ----------------------------------------------------------------------------
# Recurrent ops: a forward LSTM (seq 3, batch 2, input 2, hidden 2) to spoil.

def lstm_model(hidden_attr=2, r_hidden=2, lens=None):
    import numpy as np
    w = np.linspace(-0.5, 0.5, 4 * r_hidden * 2).tolist()
    r_ = np.linspace(-0.4, 0.4, 4 * r_hidden * r_hidden).tolist()
    inputs = ["X", "W", "R"]
    inits = [tensor("W", w, [1, 4 * r_hidden, 2]), tensor("R", r_, [1, 4 * r_hidden, r_hidden])]
    if lens is not None:
        inputs += ["", "L"]
        inits.append(onnx_mod().helper.make_tensor("L", INT32, [len(lens)], lens))
    return model([node("LSTM", inputs, ["Y", "Y_h"], name="lstm", hidden_size=hidden_attr)],
                 [vinfo("X", FLOAT, [3, 2, 2])], [vinfo("Y", FLOAT, None), vinfo("Y_h", FLOAT, None)], inits=inits,
                 opset=14)


def lstm_huge_hidden_size(d):
    return [[save(d, "m.onnx", lstm_model(hidden_attr=1 << 40))]]


def lstm_hidden_size_mismatch(d):
    return [[save(d, "m.onnx", lstm_model(hidden_attr=3))]]


def lstm_sequence_lens_past_the_sequence(d):
    return [[save(d, "m.onnx", lstm_model(lens=[3, 4]))]]


def lstm_unknown_activation(d):
    m = lstm_model()
    m.graph.node[0].attribute.extend([onnx_mod().helper.make_attribute("activations", ["Sigmoid", "Tanh", "Swish"])])
    return [[save(d, "m.onnx", m)]]
