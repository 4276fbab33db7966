#!/usr/bin/python3
"""onnx-run --save-optimized --portable on every shipped model (models/**/model.onnx).

    check_portable.py ONNX_RUN MODELS_DIR WORK_DIR [--ort]

Without --ort, for each model: the portable file holds no com.onnx_mini op or
opset import, passes onnx.checker with full_check (strict shape inference), and
onnx-run gives the same results with it as with the original: --check against
the model's own test_data_set_*/ references, and equal outputs on seeded inputs.
At least one model must have had fused ops in the default --save-optimized form
(otherwise nothing was expanded and the test proves nothing).

With --ort, the portable files run in ONNX Runtime (npm onnxruntime-node,
found through ONNX_MINI_ORT_MODULES or /work/ort/node_modules) on each
test_data_set's inputs and are compared with its references. Exit 77 (CTest's
skip) with the reason when ONNX Runtime or node is absent.
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

PRIVATE_DOMAIN = "com.onnx_mini"
# The shipped models' references come from double-precision computations; the
# same tolerances as onnx-run --check's defaults (float32 rounding, a few ULP
# of sums over at most a few hundred terms). A model with other outputs
# (float16) states its own in check_options.txt, as CTest's models.* read it.
ATOL, RTOL = 1e-5, 1e-4


def check_options(model_dir):
    """The model's extra onnx-run --check options (check_options.txt), if any."""
    path = os.path.join(model_dir, "check_options.txt")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return f.read().split()


def tolerances(model_dir):
    """(atol, rtol) for the model's references: its check_options.txt or the defaults."""
    options = check_options(model_dir)
    atol = float(options[options.index("--atol") + 1]) if "--atol" in options else ATOL
    rtol = float(options[options.index("--rtol") + 1]) if "--rtol" in options else RTOL
    return atol, rtol


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def shipped_models(models_dir):
    found = []
    for root, _, files in os.walk(models_dir):
        if "model.onnx" in files:
            found.append(root)
    return sorted(found)


def case_name(models_dir, model_dir):
    return os.path.relpath(model_dir, models_dir).replace(os.sep, "__")


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)


def private_nodes(model):
    return [n.op_type for n in model.graph.node if n.domain == PRIVATE_DOMAIN]


def save(onnx_run, model_dir, out, portable):
    cmd = [onnx_run, os.path.join(model_dir, "model.onnx"), "--save-optimized", out] + (["--portable"] if portable else [])
    r = run(cmd)
    if r.returncode != 0:
        fail(" ".join(cmd) + f": exit {r.returncode}: {r.stderr}")


def check_portable_file(path):
    model = onnx.load(path)
    if private_nodes(model):
        fail(f"{path}: com.onnx_mini ops left: {private_nodes(model)}")
    if any(o.domain == PRIVATE_DOMAIN for o in model.opset_import):
        fail(f"{path}: still imports {PRIVATE_DOMAIN}")
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as e:  # the checker's own exception types vary by version
        fail(f"{path}: onnx.checker full_check: {e}")


def outputs_of(onnx_run, model, out_dir):
    shutil.rmtree(out_dir, ignore_errors=True)
    r = run([onnx_run, model, "--seed", "7", "--output-dir", out_dir, "--json"])
    if r.returncode != 0:
        fail(f"{model}: exit {r.returncode}: {r.stderr}")
    report = json.loads(r.stdout)
    return {o["name"]: np.load(o["file"]) for o in report["outputs"]}


def same_results(onnx_run, model_dir, portable, work):
    r = run([onnx_run, portable, "--check", model_dir] + check_options(model_dir))
    if r.returncode != 0:
        fail(f"{portable} --check {model_dir}: exit {r.returncode}:\n{r.stdout}{r.stderr}")
    original = outputs_of(onnx_run, os.path.join(model_dir, "model.onnx"), work + "/original")
    expanded = outputs_of(onnx_run, portable, work + "/portable")
    if original.keys() != expanded.keys():
        fail(f"{portable}: outputs {sorted(expanded)} but the original has {sorted(original)}")
    for name, want in original.items():
        got = expanded[name]
        if got.shape != want.shape or got.dtype != want.dtype:
            fail(f"{portable}: output {name}: {got.dtype}{got.shape}, original {want.dtype}{want.shape}")
        if not np.allclose(got, want, atol=ATOL, rtol=RTOL, equal_nan=True):
            fail(f"{portable}: output {name} differs from the original's: max abs {np.max(np.abs(got - want))}")


def check_in_onnx_mini(onnx_run, models_dir, work):
    fused_models = 0
    for model_dir in shipped_models(models_dir):
        name = case_name(models_dir, model_dir)
        default_form = f"{work}/{name}.optimized.onnx"
        save(onnx_run, model_dir, default_form, portable=False)
        fused_models += bool(private_nodes(onnx.load(default_form)))
        portable = f"{work}/{name}.portable.onnx"
        save(onnx_run, model_dir, portable, portable=True)
        check_portable_file(portable)
        same_results(onnx_run, model_dir, portable, f"{work}/{name}.outputs")
        print(f"ok {name}")
    if fused_models == 0:
        fail("no shipped model has a fused op in its optimized form: --portable expanded nothing")
    print(f"{len(shipped_models(models_dir))} portable models pass full_check and match ({fused_models} had fused ops)")


# ---- ONNX Runtime ----------------------------------------------------------

def ort_modules():
    for d in [os.environ.get("ONNX_MINI_ORT_MODULES", ""), "/work/ort/node_modules"]:
        if d and os.path.isdir(os.path.join(d, "onnxruntime-node")):
            return d
    return None


def to_json_tensor(a):
    if a.dtype == np.float16:  # as its bits: ort_run.js builds the Uint16Array ONNX Runtime takes
        return {"dtype": "float16", "dims": list(a.shape), "data": [int(v) for v in a.ravel().view(np.uint16)]}
    if a.dtype == np.int64 or a.dtype == np.uint64:
        data = [str(int(v)) for v in a.ravel()]
    elif a.dtype == np.bool_:
        data = [int(v) for v in a.ravel()]
    else:
        data = [float(v) if np.isfinite(v) else str(float(v)).replace("inf", "Infinity").replace("nan", "NaN")
                for v in a.ravel().astype(np.float64)] if a.dtype.kind == "f" else [int(v) for v in a.ravel()]
    dtype = {np.dtype(np.float32): "float32", np.dtype(np.float64): "float64", np.dtype(np.int64): "int64",
             np.dtype(np.int32): "int32", np.dtype(np.bool_): "bool", np.dtype(np.uint8): "uint8",
             np.dtype(np.int8): "int8"}[a.dtype]
    return {"dtype": dtype, "dims": list(a.shape), "data": data}


def from_json_tensor(t):
    if t["dtype"] == "float16":
        return np.array(t["data"], dtype=np.uint16).view(np.float16).reshape(t["dims"])
    vals = [float(v) if isinstance(v, str) and t["dtype"] in ("float32", "float64") else v for v in t["data"]]
    dtype = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "int32": np.int32,
             "bool": np.bool_, "uint8": np.uint8, "int8": np.int8}[t["dtype"]]
    return np.array([int(v) if dtype == np.int64 else v for v in vals], dtype=dtype).reshape(t["dims"])


def numbered(folder, prefix):
    files = [f for f in os.listdir(folder) if f.startswith(prefix + "_") and f.endswith(".pb")]
    return [os.path.join(folder, f) for f in sorted(files, key=lambda f: int(f[len(prefix) + 1:-3]))]


def read_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t.name, numpy_helper.to_array(t)


def check_set_in_ort(modules, portable, test_set, work):
    model = onnx.load(portable)
    initializers = {i.name for i in model.graph.initializer}
    feedable = [i.name for i in model.graph.input if i.name not in initializers]
    feeds = {}
    for k, path in enumerate(numbered(test_set, "input")):
        name, array = read_pb(path)
        feeds[name if name in feedable else feedable[k]] = to_json_tensor(array)
    feeds_file = work + "/feeds.json"
    with open(feeds_file, "w") as f:
        json.dump(feeds, f)
    runner = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ort_run.js")
    r = subprocess.run(["node", runner, portable, feeds_file], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=300, env=dict(os.environ, NODE_PATH=modules))
    if r.returncode != 0:
        fail(f"ONNX Runtime refused {portable}: {r.stderr.strip()}")
    got = json.loads(r.stdout)
    outputs = [o.name for o in model.graph.output]
    for k, path in enumerate(numbered(test_set, "output")):
        name, want = read_pb(path)
        name = name if name in got else outputs[k]
        have = from_json_tensor(got[name])
        if have.shape != want.shape:
            fail(f"{portable} in ONNX Runtime: output {name} shape {have.shape}, reference {want.shape}")
        atol, rtol = tolerances(os.path.dirname(test_set))
        if not np.allclose(have.astype(np.float64), want.astype(np.float64), atol=atol, rtol=rtol, equal_nan=True):
            fail(f"{portable} in ONNX Runtime, {test_set}: output {name} differs from the reference")


def check_in_ort(onnx_run, models_dir, work):
    modules = ort_modules()
    if modules is None or shutil.which("node") is None:
        print("SKIP: ONNX Runtime not found (node, and onnxruntime-node in ONNX_MINI_ORT_MODULES or "
              "/work/ort/node_modules); CI does not install it")
        sys.exit(77)
    count = 0
    for model_dir in shipped_models(models_dir):
        name = case_name(models_dir, model_dir)
        portable = f"{work}/{name}.portable.onnx"
        save(onnx_run, model_dir, portable, portable=True)
        sets = sorted(d for d in os.listdir(model_dir) if d.startswith("test_data_set_"))
        for s in sets:
            check_set_in_ort(modules, portable, os.path.join(model_dir, s), work)
            count += 1
        print(f"ok {name} in ONNX Runtime ({len(sets)} sets)")
    print(f"{count} test data sets of portable models match their references in ONNX Runtime")


def main():
    args = [a for a in sys.argv[1:] if a != "--ort"]
    if len(args) != 3:
        print(__doc__)
        sys.exit(2)
    onnx_run, models_dir, work = args
    os.makedirs(work, exist_ok=True)
    if "--ort" in sys.argv:
        check_in_ort(onnx_run, models_dir, work)
    else:
        check_in_onnx_mini(onnx_run, models_dir, work)


if __name__ == "__main__":
    main()
