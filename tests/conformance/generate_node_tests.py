#!/usr/bin/python3
"""Generate the official ONNX backend node tests into OUT_DIR.

Usage: /usr/bin/python3 tests/conformance/generate_node_tests.py OUT_DIR

Runs the generator behind onnx 1.12's `backend-test-tools generate-data`
(onnx.backend.test.cmd_tools.generate_data) in-process, after two fixes:
  * numpy 1.24 removed the aliases np.float/np.int/np.bool/np.object that the
    onnx 1.12 test cases still use; they were plain aliases of the builtins, so
    we restore exactly that.
  * the test cases draw random data at collection time; seeding numpy first
    makes the generated tree reproducible run to run.
The result is OUT_DIR/node/test_*/{model.onnx,test_data_set_*/} (plus the
model-level cases under OUT_DIR/simple and OUT_DIR/real, which we do not use).
A stamp file OUT_DIR/.complete is written last so build systems can tell a
finished tree from an interrupted one; with --if-missing, a tree whose stamp
matches this generator and this onnx version is left alone.
"""
import argparse
import builtins
import os
import sys
import time

import numpy as np

# Must run before any onnx.backend.test.case module is imported: several of
# them reference the aliases at import time.
# Bump when the generation changes (seed, fixes), so --if-missing regenerates.
GENERATOR_VERSION = 1

for _alias in ("float", "int", "bool", "object"):
    if _alias not in np.__dict__:
        setattr(np, _alias, getattr(builtins, _alias))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", help="directory to write node/test_*/ into")
    parser.add_argument("-t", "--op_type", default=None,
                        help="only generate cases using this op type")
    parser.add_argument("--if-missing", action="store_true",
                        help="do nothing if OUT_DIR already holds a complete, current tree")
    args = parser.parse_args()

    import onnx
    from onnx.backend.test import cmd_tools

    stamp = os.path.join(args.out_dir, ".complete")
    signature = f"generator {GENERATOR_VERSION} onnx {onnx.__version__} op_type {args.op_type}"
    if os.path.exists(stamp):
        with open(stamp) as f:
            current = f.readline().strip() == signature
        if args.if_missing and current:
            print(f"node tests in {args.out_dir} are current ({signature}); not regenerating")
            return 0
        os.remove(stamp)
    os.makedirs(args.out_dir, exist_ok=True)

    np.random.seed(0)
    start = time.monotonic()
    cmd_tools.generate_data(argparse.Namespace(output=args.out_dir, op_type=args.op_type))
    elapsed = time.monotonic() - start

    node_dir = os.path.join(args.out_dir, "node")
    count = len([d for d in os.listdir(node_dir) if d.startswith("test_")])
    with open(stamp, "w") as f:
        f.write(f"{signature}\n{count} node tests\n")
    print(f"generated {count} node tests into {node_dir} in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
