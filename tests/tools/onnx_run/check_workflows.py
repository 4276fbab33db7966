#!/usr/bin/python3
"""onnx-run's workflows end to end: --inspect (of an optimized model too), --save-inputs,
--dump-all, --check-all, --json values and errors, --profile/--profile-file, --verbose,
--repeat interrupted by SIGINT.

    check_workflows.py ONNX_RUN MODELS_DIR WORK_DIR

Expected values come from numpy and onnx (the model's own weights), never from
onnx-run itself.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from cli_check import expect, failures, run  # noqa: E402 (beside this script)


def weights(model):
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(model).graph.initializer}


def check_inspect(onnx_run, classifier, work):
    code, out, err = run(onnx_run, classifier, "--inspect", "--dim", "batch=4", "--json")
    expect(code == 0, f"--inspect --json: exit {code}: {err}")
    r = json.loads(out)
    w = weights(classifier)
    gemm_flops = sum(2 * 4 * w[f"{k}.weight"].size for k in (0, 2, 4))  # 2 per multiply-add, batch 4
    expect(r["producer"] == "pytorch" and r["ir_version"] == 7 and r["opsets"] == {"ai.onnx": 13}, f"header {r}")
    expect(r["inputs"] == [{"name": "input", "dtype": "float", "shape": ["batch", 784]}], f"inputs {r['inputs']}")
    expect(r["initializers"] == 6 and r["parameters"] == sum(a.size for a in w.values()), f"parameters {r['parameters']}")
    expect(r["initializer_bytes"] == 4 * r["parameters"], f"bytes {r['initializer_bytes']}")
    expect(r["op_histogram"] == {"Gemm": 3, "Relu": 2, "Softmax": 1}, f"histogram {r['op_histogram']}")
    expect(r["flops_by_op"]["Gemm"]["flops"] == gemm_flops, f"Gemm FLOPs {r['flops_by_op']['Gemm']} want {gemm_flops}")
    expect(r["flops_by_op"]["Relu"]["flops"] == 4 * (128 + 64), f"Relu FLOPs {r['flops_by_op']['Relu']}")
    expect(r["dims"] == {"batch": 4} and r["supported"], f"dims {r['dims']}")
    expect(any("fused Relu '/1/Relu' into FusedGemm '/0/Gemm'" in l for l in r["rewrites"]), f"rewrites {r['rewrites']}")
    expect(r["optimized_nodes"] == 4, f"optimized nodes {r['optimized_nodes']}")
    code, out, err = run(onnx_run, classifier, "--inspect")
    expect(code == 0 and "input: float[batch, 784]" in out and "Gemm x3" in out and "5 rewrite(s), 6 -> 4 nodes" in out,
           f"--inspect text: {out}{err}")
    # A node onnx-mini cannot run is listed, not an error.
    graph = helper.make_graph([helper.make_node("Frobnicate", ["x"], ["y"], name="odd", domain="com.example")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    odd = f"{work}/unsupported.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.example", 1)]), odd)
    code, out, err = run(onnx_run, odd, "--inspect", "--json")
    r = json.loads(out) if code == 0 else {}
    expect(code == 0 and r.get("supported") is False and "Frobnicate" in r.get("unsupported", ""), f"unsupported: {code} {out}{err}")
    expect(r.get("op_histogram") == {"com.example.Frobnicate": 1}, f"histogram of an unsupported model {r.get('op_histogram')}")
    code, out, err = run(onnx_run, classifier, "--inspect", "--dim", "N=4")
    expect(code == 2 and "its inputs have 'batch'" in err, f"--inspect --dim N: exit {code}: {err}")


def reference_mlp(w, x):
    """The classifier in numpy (double): Gemm(transB) + Relu, twice, Gemm, Softmax."""
    outs = []
    h = x.astype(np.float64)
    for k, act in ((0, True), (2, True), (4, False)):
        h = h @ w[f"{k}.weight"].astype(np.float64).T + w[f"{k}.bias"]
        outs.append(h)
        if act:
            h = np.maximum(h, 0)
            outs.append(h)
    e = np.exp(h - h.max(axis=1, keepdims=True))
    outs.append(e / e.sum(axis=1, keepdims=True))
    return outs


def check_save_inputs_and_dump_all(onnx_run, classifier, work):
    shutil.rmtree(f"{work}/in", ignore_errors=True)
    shutil.rmtree(f"{work}/dump", ignore_errors=True)
    code, out, err = run(onnx_run, classifier, "--dim", "batch=3", "--seed", "5", "--save-inputs", f"{work}/in",
                         "--dump-all", f"{work}/dump", "--json")
    expect(code == 0, f"--save-inputs --dump-all: exit {code}: {err}")
    if code != 0:
        return
    r = json.loads(out)
    expect(r["saved_inputs"] == [{"name": "input", "file": f"{work}/in/input.npy"}], f"saved_inputs {r['saved_inputs']}")
    x = np.load(f"{work}/in/input.npy")
    expect(x.shape == (3, 784) and x.dtype == np.float32 and np.all(np.abs(x) <= 1), f"saved input {x.shape} {x.dtype}")
    # Fed back, the saved input gives the same outputs as the generated run.
    code2, out2, err2 = run(onnx_run, classifier, "--input", f"input={work}/in/input.npy", "--json", "--all-values")
    expect(code2 == 0 and json.loads(out2)["outputs"][0]["values"] == r["outputs"][0]["values"], f"re-fed input: {err2}")
    dumped = r["dumped"]
    values = [d["value"] for d in dumped]
    expect(values == ["/0/Gemm_output_0", "/1/Relu_output_0", "/2/Gemm_output_0", "/3/Relu_output_0", "/4/Gemm_output_0",
                      "probs"], f"dumped values {values}")
    expect(dumped[0]["file"] == f"{work}/dump/_0_Gemm_output_0.npy" and dumped[0]["op"] == "Gemm", f"dump entry {dumped[0]}")
    # Every intermediate against a double-precision numpy run of the same weights:
    # float32 sums of 784 terms of size <= 1: 1e-4 absolute is far above their rounding.
    for d, want in zip(dumped, reference_mlp(weights(classifier), x)):
        got = np.load(d["file"])
        expect(got.shape == want.shape and np.allclose(got, want, atol=1e-4, rtol=1e-4), f"dumped {d['value']} differs")


def make_cases(models_dir, work):
    cases = f"{work}/cases"
    shutil.rmtree(cases, ignore_errors=True)
    os.makedirs(cases)
    shutil.copytree(f"{models_dir}/mlp_classifier", f"{cases}/a_classifier")
    shutil.copytree(f"{models_dir}/gelu_erf", f"{cases}/b_gelu")
    shutil.copytree(f"{models_dir}/mlp_classifier", f"{cases}/c_wrong_reference")
    ref = f"{cases}/c_wrong_reference/test_data_set_1/output_0.pb"
    t = onnx.TensorProto()
    with open(ref, "rb") as f:
        t.ParseFromString(f.read())
    a = numpy_helper.to_array(t).copy()
    a.flat[3] += 0.5
    with open(ref, "wb") as f:
        f.write(numpy_helper.from_array(a, t.name).SerializeToString())
    os.makedirs(f"{cases}/d_broken")
    with open(f"{cases}/d_broken/model.onnx", "wb") as f:
        f.write(b"not a model")
    os.makedirs(f"{cases}/e_not_a_case")  # no model.onnx: not a case
    return cases


def check_check_all(onnx_run, models_dir, work):
    cases = make_cases(models_dir, work)
    code, out, err = run(onnx_run, "--check-all", cases)
    lines = out.strip().split("\n")
    expect(code == 1, f"--check-all with failures: exit {code}: {err}")
    expect(len(lines) == 5 and lines[-1] == "2 passed, 2 failed", f"--check-all lines {lines}")
    expect(lines[0] == "PASS  a_classifier: 3 of 3 test data sets match", f"line {lines[0]}")
    expect(lines[2] == "FAIL  c_wrong_reference: 2 of 3 test data sets match", f"line {lines[2]}")
    expect(lines[3].startswith("FAIL  d_broken: ") and "model.onnx" in lines[3], f"line {lines[3]}")
    code, out, err = run(onnx_run, "--check-all", cases, "--json")
    r = json.loads(out)
    expect(code == 1 and r["passed"] == 2 and r["failed"] == 2 and len(r["cases"]) == 4, f"--check-all --json {r}")
    wrong = r["cases"][2]["check"][1]["outputs"][0]
    expect(wrong["worst_index"] == 3 and abs(wrong["abs_err"] - 0.5) < 1e-6 and wrong["mismatches"] == 1,
           f"structured mismatch {wrong}")
    shutil.rmtree(f"{cases}/c_wrong_reference")
    shutil.rmtree(f"{cases}/d_broken")
    code, out, err = run(onnx_run, "--check-all", cases)
    expect(code == 0 and out.strip().endswith("2 passed, 0 failed"), f"--check-all passing: exit {code}: {out}")
    code, out, err = run(onnx_run, "--check-all", f"{work}/in")
    expect(code == 2 and "no case folder" in err, f"--check-all on a folder without cases: exit {code}: {err}")
    code, out, err = run(onnx_run, "model.onnx", "--check-all", cases)
    expect(code == 2 and "takes no model" in err, f"--check-all with a model: exit {code}: {err}")


def check_json(onnx_run, classifier):
    code, out, err = run(onnx_run, classifier, "--dim", "batch=200", "--json")
    o = json.loads(out)["outputs"][0]
    expect(len(o["values"]) == 1024 and o["values_left_out"] == 2000 - 1024 and "--all-values" in o["all_values"],
           f"--json truncation {len(o['values'])} {o.get('values_left_out')}")
    code, out, err = run(onnx_run, classifier, "--dim", "batch=200", "--json", "--all-values")
    o = json.loads(out)["outputs"][0]
    expect(len(o["values"]) == 2000 and "values_left_out" not in o, "--all-values leaves values out")
    code, out, err = run(onnx_run, classifier, "--input", "input=/nonexistent.npy", "--json")
    e = json.loads(out)["error"] if out else {}
    expect(code == 5 and e.get("exit_code") == 5 and e.get("kind") == "bad input" and "/nonexistent.npy" in e.get("message", ""),
           f"--json error object: exit {code}: {out}")
    code, out, err = run(onnx_run, classifier, "--check", "--json")
    s = json.loads(out)["check"][0]["outputs"][0]
    expect(code == 0 and s["pass"] and {"worst_index", "got", "expected", "abs_err", "rel_err", "mismatches"} <= s.keys(),
           f"--check --json fields {s}")


def check_profile_and_verbose(onnx_run, classifier, work):
    trace = f"{work}/trace.json"
    code, out, err = run(onnx_run, classifier, "--repeat", "3", "--profile-file", trace, "--json")
    r = json.loads(out)
    by_op = {row["op"]: row for row in r["profile_by_op"]}
    expect(code == 0 and by_op["FusedGemm"]["nodes"] == 3 and by_op["FusedGemm"]["calls"] == 9, f"profile_by_op {by_op}")
    expect(all(row["total_us"] > 0 for row in r["profile"]), f"profile rows {r['profile']}")
    events = json.load(open(trace))["traceEvents"]
    expect(len(events) == 4 * 3 and all(e["ph"] == "X" and e["dur"] >= 0 for e in events), f"{len(events)} trace events")
    expect(all(a["ts"] + a["dur"] <= b["ts"] + 1e-3 for a, b in zip(events, events[1:])), "trace events overlap or go back")
    code, out, err = run(onnx_run, classifier, "--profile")
    expect("total_us" in out and "per op type:" in out, f"--profile text: {out}")
    code, plain, _ = run(onnx_run, classifier)
    code, out, err = run(onnx_run, classifier, "--verbose")
    expect(code == 0 and out == plain, "--verbose changed stdout")
    expect("loaded" in err and "IR version 7" in err and "pass: fused Relu '/1/Relu'" in err and "4 nodes" in err,
           f"--verbose stderr: {err}")


def check_repeat_interrupted(onnx_run, classifier):
    p = subprocess.Popen([onnx_run, classifier, "--repeat", "100000000", "--json"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)  # past the 0.25 s warm-up, well before 10^8 runs end
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    r = json.loads(out) if out else {}
    expect(p.returncode == 130 and r.get("interrupted") is True and 0 < r.get("runs", 0) < 100000000 and r["median_ms"] > 0,
           f"SIGINT during --repeat: exit {p.returncode}: {out} {err}")


def check_inspect_fused_conv(onnx_run, models_dir, work):
    # A model saved optimized holds FusedConv: its multiply-adds are the Conv's
    # (2 per multiply-add: N x M x Ho x Wo x C/group x kernel), not one per output.
    lenet = f"{models_dir}/cnn/lenet5/model.onnx"
    optimized = f"{work}/lenet5_optimized.onnx"
    code, out, err = run(onnx_run, lenet, "--save-optimized", optimized)
    expect(code == 0, f"--save-optimized: exit {code}: {err}")
    code, out, err = run(onnx_run, optimized, "--inspect", "--dim", "batch=2", "--json")
    expect(code == 0, f"--inspect of the optimized LeNet: exit {code}: {err}")
    r = json.loads(out) if code == 0 else {}
    m = onnx.load(lenet)
    w = weights(lenet)
    shapes = {v.name: [2 if d.dim_param == "batch" else d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in onnx.shape_inference.infer_shapes(m).graph.value_info}
    conv_flops = 0
    for node in m.graph.node:
        if node.op_type == "Conv":
            y = shapes[node.output[0]]
            conv_flops += 2 * int(np.prod(y)) * int(np.prod(w[node.input[1]].shape[1:]))
    got = r.get("flops_by_op", {}).get("FusedConv", {})
    expect(conv_flops > 0 and got.get("nodes") == 2 and got.get("flops") == conv_flops,
           f"FusedConv FLOPs {got} want {conv_flops}")


def main():
    onnx_run, models_dir, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    classifier = f"{models_dir}/mlp_classifier/model.onnx"
    check_inspect(onnx_run, classifier, work)
    check_inspect_fused_conv(onnx_run, models_dir, work)
    check_save_inputs_and_dump_all(onnx_run, classifier, work)
    check_check_all(onnx_run, models_dir, work)
    check_json(onnx_run, classifier)
    check_profile_and_verbose(onnx_run, classifier, work)
    check_repeat_interrupted(onnx_run, classifier)
    if failures:
        sys.exit(1)
    print("onnx-run workflows: all cases pass")


if __name__ == "__main__":
    main()
