#include "graph/passes/pattern_pass.h"

#include <algorithm>

#include "core/printable.h"

namespace onnx_mini {

bool is_op(const Node& n, const char* op_type, const char* domain, int min_since) {
  return !n.removed && n.op_type == op_type && n.domain == domain && n.def && n.def->since_version >= min_since;
}

bool only_attributes(const Node& n, std::initializer_list<const char*> allowed) {
  for (const auto& entry : n.attrs.all()) {
    // A plain reference, not a structured binding: clang 14 cannot capture those.
    const std::string& name = entry.first;
    if (std::none_of(allowed.begin(), allowed.end(), [&](const char* x) { return name == x; })) return false;
  }
  return true;
}

bool is_float(const Graph& g, ValueId v) { return v != kNoId && g.value(v).info.dtype == DataType::kFloat; }

bool is_private_intermediate(const Graph& g, ValueId v) {
  if (v == kNoId || !g.has_single_consumer(v) || g.is_graph_output(v)) return false;
  const Value& val = g.value(v);
  return !val.is_graph_input && !val.initializer;
}

int64_t known_rank(const Graph& g, ValueId v) {
  if (v == kNoId || !g.value(v).info.has_shape) return -1;
  return static_cast<int64_t>(g.value(v).info.dims.size());
}

Node make_node(const Graph& g, const std::string& op_type, const std::string& domain, const std::string& name) {
  Node n;
  n.op_type = op_type;
  n.domain = domain;
  n.name = name;
  n.opset = g.opset(domain);
  if (domain == kOnnxMiniDomain && n.opset == 0) n.opset = 1;  // declared by the writer when used
  n.def = default_registry().find(op_type, domain, n.opset);
  return n;
}

std::string quoted_name(const Graph& g, const Node& n) {
  if (!n.name.empty()) return quote(n.name);
  for (ValueId out : n.outputs) {
    if (out != kNoId) return "(output " + quote(g.value(out).name) + ")";
  }
  return "(unnamed)";
}

}  // namespace onnx_mini
