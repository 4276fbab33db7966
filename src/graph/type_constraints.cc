#include "graph/type_constraints.h"

#include <cstring>
#include <map>

#include "core/printable.h"

namespace onnx_mini {
namespace {

// One row per ai.onnx op whose inputs share a type parameter, from the ONNX
// operator schemas. `params` holds one letter per input: inputs with the same
// letter must have the same dtype, '.' is not tied to any other input; a trailing
// '*' repeats the last letter for every further (variadic) input. A row applies
// to definitions from `since` until the next row of the same op.
struct SharedTypeRule {
  const char* op_type;
  int since;
  const char* params;
};

constexpr SharedTypeRule kRules[] = {
    {"Add", 1, "TT"}, {"Sub", 1, "TT"}, {"Mul", 1, "TT"}, {"Div", 1, "TT"},
    {"Pow", 1, "TT"}, {"Pow", 12, ".."},  // 12 gives the exponent its own T1
    {"And", 1, "TT"}, {"Or", 1, "TT"}, {"Xor", 1, "TT"},
    {"Equal", 1, "TT"}, {"Greater", 1, "TT"}, {"Less", 1, "TT"},
    {"GreaterOrEqual", 12, "TT"}, {"LessOrEqual", 12, "TT"},
    {"PRelu", 1, "TT"}, {"MatMul", 1, "TT"}, {"Gemm", 1, "TTT"},
    {"Clip", 11, "TTT"},  // min and max are inputs from 11
    {"Max", 1, "T*"}, {"Min", 1, "T*"}, {"Sum", 1, "T*"}, {"Mean", 1, "T*"}, {"Concat", 1, "T*"},
    {"Where", 9, ".TT"}, {"Range", 11, "TTT"},
    {"Slice", 10, ".IIII"},  // starts, ends, axes, steps: one index type
    {"SoftmaxCrossEntropyLoss", 12, "T.T"}, {"NegativeLogLikelihoodLoss", 12, "T.T"},
};

const SharedTypeRule* rule_for(const Node& n) {
  if (!n.domain.empty() || !n.def) return nullptr;
  const SharedTypeRule* best = nullptr;
  for (const SharedTypeRule& r : kRules) {
    if (n.op_type == r.op_type && r.since <= n.def->since_version && (!best || r.since > best->since)) best = &r;
  }
  return best;
}

// The type parameter letter of input i, or '.' when it has none.
char param_of(const char* params, size_t i) {
  size_t len = std::strlen(params);
  bool repeats = len > 0 && params[len - 1] == '*';
  size_t fixed = repeats ? len - 1 : len;
  if (i < fixed) return params[i];
  return repeats && fixed > 0 ? params[fixed - 1] : '.';
}

}  // namespace

Status check_shared_input_types(const Graph& g, const Node& n) {
  const SharedTypeRule* rule = rule_for(n);
  if (!rule) return Status::ok();
  // Each input is compared with the first typed input of its letter: linear in
  // the inputs (a Concat may have 100,000), and the first mismatch found is the
  // one an all-pairs scan would report first.
  std::map<char, size_t> first_of_letter;
  for (size_t j = 0; j < n.inputs.size(); ++j) {
    const char p = param_of(rule->params, j);
    if (p == '.' || n.inputs[j] == kNoId) continue;
    const Value& b = g.value(n.inputs[j]);
    if (b.info.dtype == DataType::kUndefined) continue;
    const auto [it, first] = first_of_letter.emplace(p, j);
    if (first) continue;
    const size_t i = it->second;
    const Value& a = g.value(n.inputs[i]);
    if (b.info.dtype == a.info.dtype) continue;
    return invalid_model(n.describe() + ": input " + std::to_string(i) + " " + quote(a.name) + " is " +
                         dtype_name(a.info.dtype) + " but input " + std::to_string(j) + " " + quote(b.name) + " is " +
                         dtype_name(b.info.dtype) + "; " + n.op_type + " requires them to have the same type (" +
                         std::string(1, p) + ")");
  }
  return Status::ok();
}

}  // namespace onnx_mini
