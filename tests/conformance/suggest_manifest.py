#!/usr/bin/python3
"""Print the generated node tests of some op types, ready to paste into manifest.txt.

Usage: /usr/bin/python3 tests/conformance/suggest_manifest.py NODE_DIR OP_TYPE [OP_TYPE...]
           [--have OP_TYPE...] [--onnx-run PATH] [--all] [--verbose]

A test is suggested when it uses at least one of the OP_TYPEs and every other
op it uses is one of the OP_TYPEs, a --have op, or (with --onnx-run) an op the
runtime already registers. So `suggest_manifest.py DIR Elu` lists test_elu,
test_elu_default, test_elu_example, and the *_expanded variants only once the
ops of their function bodies are available.

Tests already in manifest.txt or skips.txt are left out unless --all. Tests
whose inputs/outputs are not plain numeric or bool tensors (string, bfloat16,
float16, complex, sequences, optionals) are printed to stderr as candidates
for skips.txt instead of stdout.
"""
import argparse
import os
import subprocess
import sys

from list_node_tests import format_ops, load_tests, read_manifest, read_skips

HERE = os.path.dirname(os.path.abspath(__file__))
# Element types onnx-mini claims to support (issue 2: every numeric dtype plus bool).
SUPPORTED_DTYPES = {"float", "double", "int8", "int16", "int32", "int64",
                    "uint8", "uint16", "uint32", "uint64", "bool",
                    "float16", "bfloat16"}  # 16-bit floats: computed in float32


def registered_op_types(onnx_run):
    """(domain, op_type) pairs from `onnx-run --list-ops`, ignoring versions."""
    out = subprocess.run([onnx_run, "--list-ops"], check=True, capture_output=True, text=True)
    ops = set()
    for line in out.stdout.splitlines():
        fields = line.split("\t")
        if len(fields) >= 2:
            ops.add((fields[0], fields[1]))
    return ops


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("node_dir")
    parser.add_argument("op_types", nargs="+", help="ai.onnx op types, or domain:op_type")
    parser.add_argument("--have", nargs="*", default=[], help="ops that are already available")
    parser.add_argument("--onnx-run", help="count the ops this onnx-run registers as available")
    parser.add_argument("--all", action="store_true", help="include tests already listed")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="append '# opset, ops, dtypes' to each name")
    args = parser.parse_args()

    def parse(op):
        domain, _, op_type = op.rpartition(":")
        return (domain, op_type)

    wanted = {parse(op) for op in args.op_types}
    available = wanted | {parse(op) for op in args.have}
    if args.onnx_run:
        available |= registered_op_types(args.onnx_run)
    listed = set()
    if not args.all:
        listed = set(read_manifest(os.path.join(HERE, "manifest.txt")))
        listed |= set(read_skips(os.path.join(HERE, "skips.txt")))

    for test in load_tests(args.node_dir):
        if test.name in listed or not (test.ops & wanted) or not test.ops <= available:
            continue
        note = f"  # opset {test.opset}; {format_ops(test.ops)}; {' '.join(sorted(test.dtypes))}"
        unsupported = test.dtypes - SUPPORTED_DTYPES
        if unsupported:
            print(f"{test.name}\t(skips.txt? dtypes {' '.join(sorted(unsupported))})",
                  file=sys.stderr)
        else:
            print(test.name + (note if args.verbose else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
