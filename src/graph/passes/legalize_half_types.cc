// LegalizeHalfTypes: float16 and bfloat16 models run on float32 kernels.
//
// A node whose definition does not take the 16-bit float types itself
// (OpDef::half_types, ops/registry.h) and that reads or writes one of them
// computes in float32 instead:
//   - each 16-bit input is widened once, exactly: a constant becomes a float32
//     constant now (so a weight is converted at build, then packed like any
//     float32 weight), anything else gets a Cast node, shared by every consumer;
//   - each 16-bit output is written in float32 and rounded to the 16-bit type
//     (nearest even) by a Cast that writes the original value, so consumers and
//     graph outputs see the model's types and names unchanged.
// Every kernel thus runs float16 models with no code of its own (Conv, LSTM, a
// fused op), with the rounding the model's types ask for at every node
// boundary. Kernels that only move, select or convert elements declare
// HalfTypes::kNative and are left alone.
//
// This is a correctness step, not an optimisation: it runs at every
// optimisation level, before the passes of the level (graph/passes/pass_manager.cc),
// and each rewrite is an --explain line.
#include <map>

#include "core/half.h"
#include "graph/passes/expand_fused_ops.h"
#include "graph/passes/pass_manager.h"
#include "graph/passes/pattern_pass.h"

namespace onnx_mini {
namespace {

bool is_half_value(const Graph& g, ValueId v) { return v != kNoId && dtype_is_half(g.value(v).info.dtype); }

// The node reads or writes a 16-bit float its kernel does not take.
bool needs_float32(const Graph& g, const Node& n) {
  if (n.removed || !n.def || n.def->half_types == HalfTypes::kNative) return false;
  for (ValueId v : n.inputs) {
    if (is_half_value(g, v)) return true;
  }
  for (ValueId v : n.outputs) {
    if (is_half_value(g, v)) return true;
  }
  return false;
}

Tensor widen_constant(const Tensor& t) {
  Tensor out = Tensor::allocate_for_overwrite(DataType::kFloat, t.shape());
  const auto* in = t.data<uint16_t>();
  float* dst = out.data<float>();
  const bool f16 = t.dtype() == DataType::kFloat16;
  for (int64_t i = 0; i < t.num_elements(); ++i) dst[i] = f16 ? half_to_float(in[i]) : bfloat16_to_float(in[i]);
  return out;
}

Result<Node> cast_node(const Graph& g, const std::string& name, DataType to, ValueId in, ValueId out) {
  Node cast = make_node(g, "Cast", kOnnxDomain, name);
  if (!cast.def) {
    return unsupported("computing " + dtype_name(g.value(in).info.dtype) + " in float32 needs Cast, which onnx-mini runs "
                       "from ai.onnx opset 6 (the model imports " + std::to_string(g.opset(kOnnxDomain)) + ")");
  }
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = static_cast<int64_t>(to);
  cast.attrs.set("to", a);
  cast.inputs = {in};
  cast.outputs = {out};
  return cast;
}

class LegalizeHalfTypes final : public Pass {
 public:
  const char* name() const override { return "LegalizeHalfTypes"; }

  Result<int> run(Graph& g, const PassContext& ctx) const override {
    OM_ASSIGN_OR_RETURN(std::vector<NodeId> order, g.topological_order());
    std::map<ValueId, ValueId> widened;  // a 16-bit value -> its float32 copy
    int count = 0;
    for (NodeId id : order) {
      if (!needs_float32(g, g.node(id))) continue;
      auto line = legalize(g, id, widened);
      if (!line.is_ok()) return line.status().with_context(g.node(id).describe() + ": ");
      ctx.explain(*line);
      ++count;
    }
    release_converted_constants(g, widened);
    return count;
  }

 private:
  // Rewires node `id` to compute in float32; returns the explain line.
  static Result<std::string> legalize(Graph& g, NodeId id, std::map<ValueId, ValueId>& widened) {
    std::string in_names, out_names;
    const size_t num_inputs = g.node(id).inputs.size();
    for (size_t i = 0; i < num_inputs; ++i) {
      const ValueId v = g.node(id).inputs[i];
      if (!is_half_value(g, v)) continue;
      OM_ASSIGN_OR_RETURN(ValueId wide, widen(g, v, widened));
      in_names += (in_names.empty() ? "'" : ", '") + g.value(v).name + "'" + (g.is_constant(v) ? " (constant)" : "");
      g.set_node_input(id, i, wide);
    }
    const size_t num_outputs = g.node(id).outputs.size();
    for (size_t i = 0; i < num_outputs; ++i) {
      const ValueId v = g.node(id).outputs[i];
      if (!is_half_value(g, v)) continue;
      OM_RETURN_IF_ERROR(round_output(g, id, i));
      out_names += (out_names.empty() ? "'" : ", '") + g.value(v).name + "' to " + dtype_name(g.value(v).info.dtype);
    }
    const Node& n = g.node(id);
    std::string line = "computed " + n.op_type + " " + quoted_name(g, n) + " in float32";
    if (!in_names.empty()) line += ": widened " + in_names;
    if (!out_names.empty()) line += (in_names.empty() ? ": " : "; ") + std::string("rounded ") + out_names;
    return line;
  }

  // The float32 copy of a 16-bit value, made once per value.
  static Result<ValueId> widen(Graph& g, ValueId v, std::map<ValueId, ValueId>& widened) {
    if (auto it = widened.find(v); it != widened.end()) return it->second;
    ValueId wide;
    if (const Tensor* c = g.constant_value(v)) {
      wide = add_constant(g, g.value(v).name + "_float32", widen_constant(*c));
    } else {
      wide = add_intermediate(g, g.value(v).name + "_float32");
      g.value(wide).info = g.value(v).info;
      g.value(wide).info.dtype = DataType::kFloat;
      OM_ASSIGN_OR_RETURN(Node cast, cast_node(g, g.value(v).name + "/to_float32", DataType::kFloat, v, wide));
      g.add_node(std::move(cast));
    }
    widened.emplace(v, wide);
    return wide;
  }

  // Output `slot` of node `id` is written in float32 into a new value, and a
  // Cast rounds it into the original value (same name, same consumers).
  static Status round_output(Graph& g, NodeId id, size_t slot) {
    const ValueId v = g.node(id).outputs[slot];
    const DataType half = g.value(v).info.dtype;
    const ValueId wide = add_intermediate(g, g.value(v).name + "_float32");
    g.value(wide).info = g.value(v).info;
    g.value(wide).info.dtype = DataType::kFloat;
    OM_ASSIGN_OR_RETURN(Node cast, cast_node(g, g.value(v).name + "/to_" + dtype_name(half), half, wide, v));
    g.node(id).outputs[slot] = wide;
    g.value(wide).producer = id;
    g.add_node(std::move(cast));  // now v's producer
    return Status::ok();
  }

  // A 16-bit constant that only legalised nodes read is held as its float32
  // copy alone: the 16-bit bytes are let go of.
  static void release_converted_constants(Graph& g, const std::map<ValueId, ValueId>& widened) {
    for (const auto& [v, wide] : widened) {
      Value& val = g.value(v);
      if (val.initializer && !val.is_graph_input && g.is_unused(v)) val.initializer.reset();
    }
  }
};

}  // namespace

std::unique_ptr<Pass> make_legalize_half_types() { return std::make_unique<LegalizeHalfTypes>(); }

}  // namespace onnx_mini
