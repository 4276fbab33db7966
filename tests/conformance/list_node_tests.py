#!/usr/bin/python3
"""List the generated ONNX node tests with the ops and opset each one needs.

Usage: /usr/bin/python3 tests/conformance/list_node_tests.py NODE_DIR

NODE_DIR is the `node/` folder written by generate_node_tests.py. Prints one
TSV line per test (after a '#' header):

    name  opset  ops  dtypes

  opset   the model's ai.onnx opset; other domains are appended as domain=version
  ops     space-separated op types of every node, subgraphs included; an op
          outside the ai.onnx domain is written domain:op_type
  dtypes  space-separated element types of the graph inputs and outputs
          (non-tensor types are written as seq/map/optional/opaque)

The functions are imported by report.py and suggest_manifest.py.
"""
import os
import sys
from dataclasses import dataclass

import onnx
from onnx import TensorProto

ONNX_DOMAINS = ("", "ai.onnx")


@dataclass
class NodeTest:
    name: str
    path: str                 # folder holding model.onnx
    opsets: dict              # domain ("" for ai.onnx) -> version
    ops: frozenset            # {(domain, op_type)}
    dtypes: frozenset         # {"float", "int64", ..., "seq", ...}

    @property
    def opset(self):
        return self.opsets.get("", 0)


def canonical_domain(domain):
    return "" if domain in ONNX_DOMAINS else domain


def _graph_ops(graph, out):
    for node in graph.node:
        out.add((canonical_domain(node.domain), node.op_type))
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                _graph_ops(attr.g, out)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    _graph_ops(g, out)


def _type_name(tp):
    kind = tp.WhichOneof("value")
    if kind == "tensor_type" or kind == "sparse_tensor_type":
        return TensorProto.DataType.Name(getattr(tp, kind).elem_type).lower()
    return {"sequence_type": "seq", "map_type": "map",
            "optional_type": "optional"}.get(kind, "opaque")


def load_test(path):
    model = onnx.load(os.path.join(path, "model.onnx"), load_external_data=False)
    opsets = {canonical_domain(o.domain): o.version for o in model.opset_import}
    ops = set()
    _graph_ops(model.graph, ops)
    dtypes = {_type_name(v.type) for v in list(model.graph.input) + list(model.graph.output)}
    return NodeTest(os.path.basename(path), path, opsets, frozenset(ops), frozenset(dtypes))


def load_tests(node_dir):
    tests = []
    for name in sorted(os.listdir(node_dir)):
        path = os.path.join(node_dir, name)
        if name.startswith("test_") and os.path.isfile(os.path.join(path, "model.onnx")):
            tests.append(load_test(path))
    return tests


def read_manifest(path):
    """Test names in manifest.txt order; '#' starts a comment."""
    names = []
    with open(path) as f:
        for line in f:
            name = line.split("#", 1)[0].strip()
            if name:
                names.append(name)
    return names


def read_skips(path):
    """{name: reason} from skips.txt (name<TAB>reason; '#' lines are comments)."""
    skips = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            name, sep, reason = line.rstrip("\n").partition("\t")
            if not sep or not reason.strip():
                raise ValueError(f"{path}:{number}: expected name<TAB>reason")
            skips[name.strip()] = reason.strip()
    return skips


def format_ops(ops):
    return " ".join(sorted(op if dom == "" else f"{dom}:{op}" for dom, op in ops))


def format_opset(test):
    extra = [f"{d}={v}" for d, v in sorted(test.opsets.items()) if d != ""]
    return " ".join([str(test.opset)] + extra)


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    print("#name\topset\tops\tdtypes")
    for t in load_tests(argv[1]):
        print(f"{t.name}\t{format_opset(t)}\t{format_ops(t.ops)}\t{' '.join(sorted(t.dtypes))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
