#!/usr/bin/python3
"""onnx-init reinit: --bias with --match, and the per-tensor recipe.

    check_reinit_recipe.py ONNX_INIT WORK_DIR

--bias SPEC reaches the bias of every layer whose weight --match selects (and
nothing else); a --bias that reaches no bias exits 2. onnx_init.recipe lists
exactly the tensors whose bytes changed, each with the distribution it was
drawn from; re-running the recorded onnx_init.command writes the same file
byte for byte.
"""
import math
import os
import shlex
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

failures = []


def expect(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what)


def run(cmd, cwd):
    return subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)


def tensors(path):
    return {t.name: t for t in onnx.load(path).graph.initializer}


def metadata(path):
    return {p.key: p.value for p in onnx.load(path).metadata_props}


def parse_recipe(text):
    lines = [l for l in text.split("\n") if l]
    return [tuple(l.split("\t")) for l in lines]


def within(values, dist):
    if dist.startswith("constant "):
        return bool(np.all(values == np.float32(float(dist.split()[1]))))
    if dist.startswith("uniform["):
        low, high = (float(v) for v in dist[len("uniform["):-1].split(","))
        return bool(np.all(values >= np.float32(low)) and np.all(values < np.float32(high)))
    return False


def check_bias_follows_match(onnx_init, work):
    base, out = "base.onnx", "out.onnx"
    r = run([onnx_init, "mlp", "--layers", "6,5,4,3", "-o", base], work)
    expect(r.returncode == 0, f"mlp: {r.stderr}")
    r = run([onnx_init, "reinit", base, "--init", "xavier_uniform", "--match", r"fc[12]\.weight", "--bias", "zeros",
             "--seed", "9", "-o", out], work)
    expect(r.returncode == 0, f"reinit: exit {r.returncode}: {r.stderr}")
    before, after = tensors(f"{work}/{base}"), tensors(f"{work}/{out}")
    names = sorted(before)
    expect(any(n.endswith(".bias") for n in names) and "fc3.bias" in names, f"initializers {names}")
    for n in ("fc1.bias", "fc2.bias"):
        expect(np.all(numpy_helper.to_array(after[n]) == 0), f"{n} not zeros: {numpy_helper.to_array(after[n])}")
        expect(np.any(numpy_helper.to_array(before[n]) != 0), f"{n} was zeros already: the test proves nothing")
    for n in ("fc3.weight", "fc3.bias"):
        expect(after[n].SerializeToString() == before[n].SerializeToString(), f"{n} changed though --match excludes it")
    meta = metadata(f"{work}/{out}")
    recipe = parse_recipe(meta.get("onnx_init.recipe", ""))
    listed = [n for n, _ in recipe]
    expect(listed == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"], f"recipe lists {listed}")
    for name, dist in recipe:
        expect(within(numpy_helper.to_array(after[name]), dist), f"{name} outside its recipe's {dist}")
    # xavier_uniform bound for fc1.weight [5, 6]: sqrt(6 / (fan_in + fan_out)).
    bound = math.sqrt(6 / (6 + 5))
    expect(dict(recipe)["fc1.weight"] == f"uniform[{-bound!r}, {bound!r})".replace("'", ""),
           f"fc1.weight recipe {dict(recipe)['fc1.weight']}, want +-{bound!r}")
    for n in names:
        if n not in listed:
            expect(after[n].SerializeToString() == before[n].SerializeToString(), f"{n} changed but the recipe omits it")
    return meta


def check_recipe_reruns_byte_for_byte(onnx_init, work, meta):
    args = shlex.split(meta["onnx_init.command"])
    expect(args[0] == "onnx-init", f"command {args}")
    r = run([onnx_init] + args[1:] + ["-o", "again.onnx"], work)
    expect(r.returncode == 0, f"re-running {args}: {r.stderr}")
    with open(f"{work}/out.onnx", "rb") as a, open(f"{work}/again.onnx", "rb") as b:
        expect(a.read() == b.read(), "re-running the recorded command wrote different bytes")


def check_without_bias_flag(onnx_init, work):
    r = run([onnx_init, "reinit", "base.onnx", "--match", r"fc1\.weight", "-o", "weights_only.onnx"], work)
    expect(r.returncode == 0, f"reinit without --bias: {r.stderr}")
    before, after = tensors(f"{work}/base.onnx"), tensors(f"{work}/weights_only.onnx")
    expect(after["fc1.bias"].SerializeToString() == before["fc1.bias"].SerializeToString(),
           "without --bias, --match fc1.weight must leave fc1.bias")
    recipe = [n for n, _ in parse_recipe(metadata(f"{work}/weights_only.onnx")["onnx_init.recipe"])]
    expect(recipe == ["fc1.weight"], f"recipe {recipe}")


def check_bias_reaching_nothing(onnx_init, work):
    r = run([onnx_init, "reinit", "base.onnx", "--match", "no_such_tensor", "--bias", "zeros", "-o", "x.onnx"], work)
    expect(r.returncode == 2 and "applies to no bias" in r.stderr, f"--bias selecting nothing: exit {r.returncode}: {r.stderr}")
    w = numpy_helper.from_array(np.ones((3, 2), np.float32), "w")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])], [w])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), f"{work}/no_bias.onnx")
    r = run([onnx_init, "reinit", "no_bias.onnx", "--bias", "zeros", "-o", "y.onnx"], work)
    expect(r.returncode == 2 and "the model has no bias" in r.stderr, f"--bias on a bias-less model: exit {r.returncode}: {r.stderr}")
    expect(not os.path.exists(f"{work}/x.onnx") and not os.path.exists(f"{work}/y.onnx"), "a refused reinit wrote a file")


def main():
    onnx_init, work = os.path.abspath(sys.argv[1]), sys.argv[2]
    os.makedirs(work, exist_ok=True)
    meta = check_bias_follows_match(onnx_init, work)
    if "onnx_init.command" in meta:
        check_recipe_reruns_byte_for_byte(onnx_init, work, meta)
    check_without_bias_flag(onnx_init, work)
    check_bias_reaching_nothing(onnx_init, work)
    if failures:
        sys.exit(1)
    print("reinit --bias/--match and the recipe: all cases pass")


if __name__ == "__main__":
    main()
