#!/usr/bin/env python3
"""Checks that every #include in library and tool code points down the layer order.

    src/core -> src/ops -> src/graph -> src/runtime -> (public API: include/onnx_mini, src/api)
             -> tools/<tool>

A file may include headers of its own layer and of the layers below it, never
above. Library code (src/) spells every project include from the src/ root
("ops/kernel.h"); the public headers include only each other ("onnx_mini/...");
a tool includes the libraries, the public API and its own folder, not another
tool. tests/, bench/, fuzz/ and examples/ may include anything. Relative
includes ("../x.h") are refused everywhere: they hide the direction.

Usage: check_layering.py SOURCE_DIR      (exit 1 listing every violation)
       check_layering.py --self-test     (proves each rule can fail)
"""
import os
import re
import sys
import tempfile

# Rank of each library layer, by its folder under src/ (= its include prefix).
LIB_RANK = {"core": 0, "ops": 1, "graph": 2, "runtime": 3, "api": 4}
PUBLIC_PREFIX = "onnx_mini"  # include/onnx_mini/*.h, at the rank of src/api
PUBLIC_RANK = 4
TOOL_RANK = 5
SOURCE_EXT = (".h", ".hpp", ".cc", ".cpp", ".c")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def layer_of(rel):
    """(rank, name) of the file at rel (relative to the source root), or None when
    it is outside the checked layers (tests, bench, fuzz, examples, ...)."""
    parts = rel.split("/")
    if parts[0] == "src" and len(parts) > 2 and parts[1] in LIB_RANK:
        return LIB_RANK[parts[1]], parts[1]
    if parts[0] == "include" and len(parts) > 2 and parts[1] == PUBLIC_PREFIX:
        return PUBLIC_RANK, PUBLIC_PREFIX
    if parts[0] == "tools" and len(parts) > 2:
        return TOOL_RANK, "tools/" + parts[1]
    return None


def check_include(rel, rank, name, target):
    """The reason this include breaks the layering, or None."""
    if target.startswith("../") or "/../" in target:
        return "relative include"
    prefix = target.split("/")[0] if "/" in target else ""
    if name == PUBLIC_PREFIX:  # public headers: only each other
        return None if prefix == PUBLIC_PREFIX else "a public header includes an internal header"
    if prefix in LIB_RANK:
        if LIB_RANK[prefix] > rank:
            return "includes '%s', a layer above its own" % prefix
        return None
    if prefix == PUBLIC_PREFIX:
        return None if rank >= PUBLIC_RANK else "includes the public API from below it"
    if name.startswith("tools/") and prefix == name.split("/")[1]:
        return None  # a tool's own headers, from the tools/ root
    return "includes '%s', which is not a layer it may see" % target


def check_tree(root):
    problems = []
    for top in ("src", "include", "tools"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if not f.endswith(SOURCE_EXT):
                    continue
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, root).replace(os.sep, "/")
                layer = layer_of(rel)
                if layer is None:
                    continue
                with open(path, encoding="utf-8", errors="replace") as fh:
                    for lineno, line in enumerate(fh, 1):
                        m = INCLUDE_RE.match(line)
                        if not m:
                            continue
                        why = check_include(rel, layer[0], layer[1], m.group(1))
                        if why:
                            problems.append('%s:%d: #include "%s": %s' % (rel, lineno, m.group(1), why))
    return problems


def self_test():
    cases = [  # (file, include, should pass)
        ("src/ops/a.cc", "core/tensor.h", True),
        ("src/ops/a.cc", "ops/kernel.h", True),
        ("src/ops/a.cc", "graph/ir.h", False),
        ("src/core/a.h", "runtime/session.h", False),
        ("src/graph/a.cc", "../ops/kernel.h", False),
        ("src/runtime/a.cc", "tests/testutil/x.h", False),
        ("src/runtime/a.cc", "onnx_mini/session.h", False),
        ("src/api/a.cc", "onnx_mini/session.h", True),
        ("include/onnx_mini/a.h", "onnx_mini/status.h", True),
        ("include/onnx_mini/a.h", "core/tensor.h", False),
        ("tools/onnx_run/main.cc", "onnx_run/options.h", True),
        ("tools/onnx_run/main.cc", "onnx_init/cli.h", False),
        ("tools/onnx_run/main.cc", "runtime/session.h", True),
        ("tests/ops/x_test.cc", "tools/anything.h", True),
    ]
    failures = 0
    with tempfile.TemporaryDirectory() as root:
        for i, (rel, target, ok) in enumerate(cases):
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as fh:
                fh.write('#include "%s"\n' % target)
            found = [p for p in check_tree(root) if p.startswith(rel + ":")]
            if bool(found) == ok:
                print("self-test case %d (%s includes %s): expected %s, got %s"
                      % (i, rel, target, "pass" if ok else "a violation", found or "pass"))
                failures += 1
            os.remove(path)
    print("self-test: %d of %d cases as expected" % (len(cases) - failures, len(cases)))
    return 1 if failures else 0


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--self-test":
        return self_test()
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    problems = check_tree(sys.argv[1])
    for p in problems:
        print(p)
    print("layering: %d violation(s)" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
