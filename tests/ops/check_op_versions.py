#!/usr/bin/python3
"""Check tests/ops/op_versions.txt against onnx's own schemas.

Usage: /usr/bin/python3 tests/ops/check_op_versions.py [TABLE]

For every ai.onnx line, the versions up to the newest opset the installed onnx
knows (17 for Debian's python3-onnx 1.12) must be exactly the since_versions of
the op's schemas; later versions are the table's own (written from the
operator changelog) and must lie above that opset. Exit 1 on any difference.
"""
import os
import sys

from onnx import defs

HERE = os.path.dirname(os.path.abspath(__file__))


def schema_versions():
    versions = {}
    for s in defs.get_all_schemas_with_history():
        if s.domain in ("", "ai.onnx"):
            versions.setdefault(s.name, set()).add(s.since_version)
    return versions


def read_table(path):
    rows = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            words = line.split()
            if "from" in words:
                words = words[:words.index("from")]
            rows.append((number, words[0], [int(w) for w in words[1:]]))
    return rows


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "op_versions.txt")
    known = defs.onnx_opset_version()
    schemas = schema_versions()
    errors = 0
    for number, op, versions in read_table(path):
        if ":" in op:
            continue  # onnx-mini's own domain
        if op not in schemas:
            if any(v <= known for v in versions):
                print(f"{path}:{number}: {op} has no schema in onnx {known}, yet lists versions <= {known}")
                errors += 1
            continue
        listed = [v for v in versions if v <= known]
        expected = sorted(schemas[op])
        if listed != expected:
            print(f"{path}:{number}: {op} lists {listed} up to opset {known}; onnx's schemas say {expected}")
            errors += 1
    print(f"checked {path} against onnx opset {known}: {errors} difference(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
