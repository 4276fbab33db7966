"""Recipes of the bad-model suite for sizes and indices that come from fed data,
for names of hostile lengths, and for .npy headers with decoys. Same contract as
recipes.py: build the files in the case's folder, return the onnx-run argument
lists (paths relative to it); verify_* check the outputs of the rows that must run.
"""
import os

from builders import vinfo, node, tensor, model, save, write, npy, npy_bytes, FLOAT, INT64

INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)


def _np():
    import numpy as np
    return np


_runs = [0]


def _fed(d, nodes, inputs, outputs, feeds, opset=13):
    """A model whose inputs are all fed from .npy files: feeds maps name -> array.
    Every run of a case gets its own files (a case builds all its runs first)."""
    _runs[0] += 1
    tag = "r%d_" % _runs[0]
    args = [save(d, tag + "m.onnx", model(nodes, inputs, outputs, opset=opset))]
    for name, arr in feeds.items():
        args += ["--input", "%s=%s" % (name, npy(d, tag + name.lower() + ".npy", arr))]
    return args


def _expand(d, shape):
    np = _np()
    return _fed(d, [node("Expand", ["X", "S"], ["Y"], name="expand")],
                [vinfo("X", FLOAT, [1]), vinfo("S", INT64, [len(shape)])], [vinfo("Y", FLOAT, None)],
                {"X": np.zeros(1, np.float32), "S": np.array(shape, np.int64)})


# Sizes past a limit, reached from fed data: exit 6 naming the limit.

def expand_past_limit(d):
    return [_expand(d, [1 << 21, 1 << 20]), _expand(d, [INT64_MAX, INT64_MAX])]


def expand_negative_dim(d):
    return [_expand(d, [-2, 3])]


def constant_of_shape_past_limit(d):
    np = _np()
    return [_fed(d, [node("ConstantOfShape", ["S"], ["Y"], name="cos")], [vinfo("S", INT64, [2])],
                 [vinfo("Y", FLOAT, None)], {"S": np.array([1 << 30, 1 << 30], np.int64)})]


def range_past_limit(d):
    np = _np()
    runs = []
    for start, limit, delta in ((0, 1 << 62, 1), (INT64_MIN, INT64_MAX, 1), (INT64_MAX, INT64_MIN, -1)):
        runs.append(_fed(d, [node("Range", ["A", "B", "C"], ["Y"], name="range")],
                         [vinfo("A", INT64, []), vinfo("B", INT64, []), vinfo("C", INT64, [])], [vinfo("Y", INT64, None)],
                         {"A": np.array(start, np.int64), "B": np.array(limit, np.int64), "C": np.array(delta, np.int64)}))
    return runs


def _one_hot(d, depth):
    np = _np()
    return _fed(d, [node("OneHot", ["I", "D", "V"], ["Y"], name="onehot")],
                [vinfo("I", INT64, [2]), vinfo("D", FLOAT, []), vinfo("V", FLOAT, [2])], [vinfo("Y", FLOAT, None)],
                {"I": np.array([0, 1], np.int64), "D": np.array(depth, np.float32), "V": np.array([0, 1], np.float32)},
                opset=11)


def one_hot_depth_past_limit(d):
    return [_one_hot(d, 1e30), _one_hot(d, float("inf"))]


def one_hot_depth_not_a_number(d):
    return [_one_hot(d, float("nan"))]


def one_hot_depth_not_positive(d):
    return [_one_hot(d, 0.0), _one_hot(d, -3.0), _one_hot(d, float("-inf"))]


def broadcast_past_limit(d):
    # Zero-size inputs (nothing to read) whose broadcast shape is absurd.
    np = _np()
    return [_fed(d, [node("Add", ["A", "B"], ["Y"], name="add")], [vinfo("A", FLOAT, None), vinfo("B", FLOAT, None)],
                 [vinfo("Y", FLOAT, None)],
                 {"A": np.zeros((1 << 20, 1, 0), np.float32), "B": np.zeros((1, 1 << 30, 0), np.float32)})]


def concat_past_limit(d):
    np = _np()
    z = np.zeros((0, 1 << 40), np.float32)
    return [_fed(d, [node("Concat", ["A", "B", "C"], ["Y"], name="cat", axis=1)],
                 [vinfo(n, FLOAT, None) for n in "ABC"], [vinfo("Y", FLOAT, None)], {"A": z, "B": z, "C": z})]


def gather_past_limit(d):
    np = _np()
    return [_fed(d, [node("Gather", ["X", "I"], ["Y"], name="gather", axis=1)],
                 [vinfo("X", FLOAT, None), vinfo("I", INT64, None)], [vinfo("Y", FLOAT, None)],
                 {"X": np.zeros((1 << 25, 0), np.float32), "I": np.zeros((1 << 20, 0), np.int64)})]


# Extreme index arithmetic that must run, and give the right answer.

SLICE_X = list(range(15))  # [5, 3]


def _slice(d, name, starts, ends, axes, steps):
    np = _np()
    return _fed(d, [node("Slice", ["X", "S", "E", "A", "T"], ["Y"], name="slice")],
                [vinfo("X", FLOAT, [5, 3])] + [vinfo(n, INT64, [len(starts)]) for n in "SEAT"], [vinfo("Y", FLOAT, None)],
                {"X": np.array(SLICE_X, np.float32).reshape(5, 3), "S": np.array(starts, np.int64),
                 "E": np.array(ends, np.int64), "A": np.array(axes, np.int64), "T": np.array(steps, np.int64)}) + \
        ["--output-dir", name]


def slice_extreme_steps(d):
    # One element taken per axis: a step of 2^62 or INT64_MIN times a stride of 3
    # overflowed int64 (UBSan: 3 * 4611686018427387904).
    return [_slice(d, "big_step", [0], [INT64_MAX], [0], [1 << 62]),
            _slice(d, "min_step", [-1], [INT64_MIN], [0], [INT64_MIN]),
            _slice(d, "max_step", [INT64_MIN], [INT64_MAX], [0], [INT64_MAX]),
            _slice(d, "both_axes", [4, 2], [INT64_MIN, INT64_MIN], [0, 1], [-(1 << 62), INT64_MIN])]


def verify_slice_extreme_steps(d):
    np = _np()
    x = np.array(SLICE_X, np.float32).reshape(5, 3)
    want = {"big_step": x[0:1], "min_step": x[4:5], "max_step": x[0:1], "both_axes": x[4:5, 2:3]}
    for name, expected in want.items():
        got = np.load(os.path.join(d, name, "Y.npy"))
        assert got.shape == expected.shape and (got == expected).all(), "%s: got %s, want %s" % (name, got, expected)


def split_sizes_overflow(d):
    np = _np()
    return [_fed(d, [node("Split", ["X", "P"], ["Y", "Z"], name="split")],
                 [vinfo("X", FLOAT, [4]), vinfo("P", INT64, [2])], [vinfo("Y", FLOAT, None), vinfo("Z", FLOAT, None)],
                 {"X": np.zeros(4, np.float32), "P": np.array(p, np.int64)})
            for p in ([1, INT64_MAX], [INT64_MAX, INT64_MAX], [-1, 5])]


# Names: at most 64 KiB each, wherever they are.

def _long_name_model(where, name):
    h = __import__("onnx").helper
    x, w, y, n, op = "X", "W", "Y", "relu", "Relu"
    if where == "input":
        x = name
    if where == "initializer":
        w = name
    if where == "output":
        y = name
    if where == "node":
        n = name
    if where == "value":
        nodes = [node("Add", [x, w], [name], name="add"), node("Relu", [name], [y], name=n)]
    else:
        nodes = [node("Add", [x, w], ["H"], name="add"), node(op, ["H"], [y], name=n)]
    if where == "subgraph":
        then_g = h.make_graph([node("Identity", ["H"], [name], name="id")], "then", [], [vinfo(name, FLOAT, [2])])
        else_g = h.make_graph([node("Identity", ["H"], ["e"], name="id2")], "else", [], [vinfo("e", FLOAT, [2])])
        nodes.append(node("If", ["C"], ["Z"], name="if", then_branch=then_g, else_branch=else_g))
    inputs = [vinfo(x, FLOAT, [2])] + ([vinfo("C", 9, [])] if where == "subgraph" else [])
    return model(nodes, inputs, [vinfo(y, FLOAT, [2])], inits=[tensor(w, [1, 2], [2])])


LONG_NAME_PLACES = ("input", "initializer", "output", "node", "value", "subgraph")


def names_past_limit(d):
    return [[save(d, "m_%s.onnx" % where, _long_name_model(where, "n" * (64 * 1024 + 1)))] for where in LONG_NAME_PLACES]


def op_type_past_limit(d):
    m = model([node("R" * (1 << 20), ["X"], ["Y"], name="r")], [vinfo("X", FLOAT, [2])], [vinfo("Y", FLOAT, [2])])
    return [[save(d, "m.onnx", m)]]


def names_of_60_kib_run(d):
    return [[save(d, "m_%s.onnx" % where, _long_name_model(where, "n" * (60 * 1024)))]
            for where in LONG_NAME_PLACES if where != "subgraph"]


# .npy headers: parsed as the dict literal they are.

def _npy_input(d, header, data):
    return [save(d, "m.onnx", model([node("Relu", ["X"], ["Y"], name="relu")], [vinfo("X", FLOAT, [2, 3])],
                                    [vinfo("Y", FLOAT, [2, 3])])),
            "--input", "X=" + write(d, "x.npy", npy_bytes(header, data))]


def npy_decoy_fortran_order(d):
    return [_npy_input(d, "{'descr': '<f4', 'x': \"'fortran_order': False, \", 'fortran_order': True, 'shape': (2, 3), }",
                       b"\0" * 24)]


def npy_decoy_descr(d):
    return [_npy_input(d, "{'x': \"'descr': '<f4', \", 'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }",
                       b"\0" * 24)]


def npy_unterminated_or_extra(d):
    return [_npy_input(d, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), ", b"\0" * 24),
            _npy_input(d, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 'x'}", b"\0" * 24)]
