#!/usr/bin/env python3
"""libonnx_mini.so exports its public API and nothing else, under its SONAME.

    check_exports.py LIBRARY SONAME     check the built library (nm -D, readelf -d)
    check_exports.py --self-test        show that each rule rejects what it must

Exported: the C API (onnx_mini_*), the C++ API (onnx_mini::api::..., with its
typeinfo and vtables) and the version node of cmake/onnx_mini.map. Anything else
(the IR, kernels, protobuf, onnx::, std:: template instances) would become part
of the ABI the SONAME promises, and could clash with a user's own copy.
"""
import re
import subprocess
import sys

ALLOWED = [
    re.compile(r"onnx_mini_\w+$"),  # the C API
    re.compile(r"(typeinfo for |typeinfo name for |vtable for )?onnx_mini::api::"),
    re.compile(r"ONNX_MINI_\d+$"),  # the symbol version node itself
]
# Without these the export list is broken, not clean (e.g. everything hidden).
REQUIRED = [
    "onnx_mini_session_run",
    "onnx_mini_version",
    "onnx_mini::api::version()",
    "onnx_mini::api::Session::info() const",
]


def disallowed(names):
    return [n for n in names if not any(p.match(n) for p in ALLOWED)]


def missing(names):
    return [r for r in REQUIRED if r not in names]


def exported_names(library):
    out = subprocess.run(["nm", "-D", "--defined-only", "-C", library], check=True,
                         capture_output=True, text=True).stdout
    # "0000000000012340 T onnx_mini_version" (the version node: "A ONNX_MINI_1")
    return [line.split(" ", 2)[2].split("@")[0] for line in out.splitlines() if line.count(" ") >= 2]


def soname(library):
    out = subprocess.run(["readelf", "-d", library], check=True, capture_output=True, text=True).stdout
    found = re.search(r"\(SONAME\)\s+Library soname: \[(.*)\]", out)
    return found.group(1) if found else None


def check(library, expected_soname):
    names = exported_names(library)
    problems = ["exports internal symbol: " + n for n in disallowed(names)]
    problems += ["does not export: " + n for n in missing(names)]
    if soname(library) != expected_soname:
        problems.append("SONAME is %r, expected %r" % (soname(library), expected_soname))
    for p in problems[:40]:
        print(library + ": " + p)
    if len(problems) > 40:
        print("... %d more" % (len(problems) - 40))
    print("%s: %d exported symbols, %d problems" % (library, len(names), len(problems)))
    return 1 if problems else 0


def self_test():
    internal = [
        "onnx_mini::graph::Graph::add_node(onnx_mini::Node&&)",
        "onnx_mini::Session::run() const",
        "google::protobuf::Message::~Message()",
        "onnx::ModelProto::ModelProto()",
        "std::vector<long, std::allocator<long> >::_M_realloc_insert(long const&)",
        "cblas_sgemm",
        "onnx_mini_internal::helper",
    ]
    public = list(REQUIRED) + ["typeinfo for onnx_mini::api::Session", "ONNX_MINI_1"]
    ok = disallowed(internal) == internal and disallowed(public) == [] and missing(public) == []
    ok = ok and missing(public[1:]) == [REQUIRED[0]]
    print("self-test " + ("passed" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(check(sys.argv[1], sys.argv[2]))
