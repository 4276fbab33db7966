// com.onnx_mini.LayerNormalization (emitted below opset 17, where ai.onnx has
// none) back to the chain PyTorch exports for layer_norm, over the dims from
// `axis` on:
//   mean = ReduceMean(X);  d = X - mean;  var = ReduceMean(d * d)
//   std = Sqrt(var + epsilon);  Y = d / std * Scale [+ B]
// with Mean and InvStdDev (Reciprocal(std)) written when the node has them.
// ReduceMean takes its axes as an attribute before opset 18, as an input from.
#include <string>

#include "graph/passes/expand_fused_ops.h"
#include "graph/passes/fusion.h"
#include "graph/passes/pattern_pass.h"

namespace onnx_mini {
namespace {

constexpr int kReduceAxesInputSince = 18;

ValueId output_or_none(const Node& n, size_t i) { return i < n.outputs.size() ? n.outputs[i] : kNoId; }

}  // namespace

Result<std::string> expand_layer_norm(Graph& g, NodeId id) {
  const Node ln = g.node(id);  // a copy: adding values below may move the original
  const int64_t rank = known_rank(g, ln.inputs[0]);
  if (rank < 0) return unsupported("LayerNormalization on an input of unknown rank has no ReduceMean form");
  OM_ASSIGN_OR_RETURN(int64_t axis_attr, ln.attrs.get_int("axis", -1));
  if (axis_attr < -rank || axis_attr > rank) {  // the spec allows [-r, r]
    return invalid_model("axis " + std::to_string(axis_attr) + " is out of range for rank " + std::to_string(rank));
  }
  const int64_t axis = axis_attr < 0 ? axis_attr + rank : axis_attr;
  OM_ASSIGN_OR_RETURN(float epsilon, ln.attrs.get_float("epsilon", 1e-5f));
  std::vector<int64_t> axes;
  for (int64_t d = axis; d < rank; ++d) axes.push_back(d);

  ExpansionBuilder c{g, ln, {}};
  auto reduce_mean = [&](ValueId in, ValueId out) -> Result<ValueId> {
    Attributes a;
    Attribute keep;
    keep.kind = Attribute::Kind::kInt;
    keep.i = 1;
    a.set("keepdims", keep);
    std::vector<ValueId> inputs = {in};
    const Node probe = make_node(g, "ReduceMean", kOnnxDomain, "");
    if (probe.def && probe.def->since_version >= kReduceAxesInputSince) {
      Tensor t = Tensor::allocate(DataType::kInt64, {static_cast<int64_t>(axes.size())});
      for (size_t i = 0; i < axes.size(); ++i) t.data<int64_t>()[i] = axes[i];
      inputs.push_back(add_constant(g, ln.name + "_axes", std::move(t)));
    } else {
      a.set("axes", Attribute::from_ints(axes));
    }
    return c.op("ReduceMean", std::move(inputs), out, std::move(a));
  };
  const ValueId x = ln.inputs[0], scale = ln.inputs[1];
  const ValueId bias = ln.inputs.size() > 2 ? ln.inputs[2] : kNoId;
  OM_ASSIGN_OR_RETURN(ValueId mean, reduce_mean(x, output_or_none(ln, 1)));
  OM_ASSIGN_OR_RETURN(ValueId d, c.op("Sub", {x, mean}));
  OM_ASSIGN_OR_RETURN(ValueId sq, c.op("Mul", {d, d}));
  OM_ASSIGN_OR_RETURN(ValueId var, reduce_mean(sq, kNoId));
  OM_ASSIGN_OR_RETURN(ValueId shifted, c.op("Add", {var, c.float_constant("epsilon", epsilon)}));
  OM_ASSIGN_OR_RETURN(ValueId stddev, c.op("Sqrt", {shifted}));
  OM_ASSIGN_OR_RETURN(ValueId normalized, c.op("Div", {d, stddev}));
  const ValueId y = ln.outputs[0];
  OM_ASSIGN_OR_RETURN(ValueId scaled, c.op("Mul", {normalized, scale}, bias == kNoId ? y : kNoId));
  if (bias != kNoId) OM_RETURN_IF_ERROR(c.op("Add", {scaled, bias}, y).status());
  if (const ValueId inv = output_or_none(ln, 2); inv != kNoId) {
    OM_RETURN_IF_ERROR(c.op("Reciprocal", {stddev}, inv).status());
  }
  std::string line = c.explain();
  replace_nodes(g, {id}, std::move(c.nodes));
  return line;
}

}  // namespace onnx_mini
