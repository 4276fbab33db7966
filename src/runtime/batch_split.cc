#include "runtime/batch_split.h"

#include <algorithm>
#include <set>

#include "core/shape.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

// Ops that compute each index of dimension 0 from the same index of their
// batched inputs alone (given the per-op conditions in node_splits below).
const std::set<std::string>& per_image_ops() {
  static const std::set<std::string> ops = {
      "Conv",        "ConvTranspose",     "MaxPool",     "AveragePool",    "GlobalAveragePool", "GlobalMaxPool",
      "LpPool",      "LRN",               "InstanceNormalization",         "BatchNormalization", "Relu",
      "LeakyRelu",   "Clip",              "Sigmoid",     "HardSigmoid",    "HardSwish",         "Tanh",
      "Elu",         "Selu",              "Softplus",    "Identity",       "Add",               "Sub",
      "Mul",         "Div",               "Concat",      "Flatten",        "Gemm",              "Softmax",
      "LogSoftmax"};
  return ops;
}

// Bytes of one image of a value whose dims past the first are known, or -1.
int64_t image_bytes(const TensorInfo& info) {
  if (!info.has_shape || info.dims.empty()) return -1;
  int64_t elements = 1;
  for (size_t d = 1; d < info.dims.size(); ++d) {
    if (!info.dims[d].known() || info.dims[d].value > (int64_t{1} << 40) / std::max<int64_t>(1, elements)) return -1;
    elements *= info.dims[d].value;
  }
  return elements * static_cast<int64_t>(dtype_size(info.dtype));
}

struct Checker {
  const Graph& g;
  const std::string& batch;

  bool batched(ValueId v) const {
    const TensorInfo& info = g.value(v).info;
    return info.has_shape && !info.dims.empty() && !info.dims[0].known() && info.dims[0].param == batch;
  }
  int64_t rank(ValueId v) const { return static_cast<int64_t>(g.value(v).info.dims.size()); }

  // An axis attribute, normalized, is not 0 (Concat, Softmax: the batch stays
  // outside the op's axis; Flatten: rows are images).
  bool axis_past_batch(const Node& n, int64_t default_axis, ValueId shaped) const {
    auto axis = n.attrs.get_int("axis", default_axis);
    if (!axis.is_ok()) return false;
    if (n.op_type == "Flatten") {  // axis in [-rank, rank]; rank itself is allowed
      const int64_t a = axis.value() < 0 ? axis.value() + rank(shaped) : axis.value();
      return a > 0 && a <= rank(shaped);
    }
    auto a = normalize_axis(axis.value(), rank(shaped));
    return a.is_ok() && a.value() != 0;
  }

  // Why node n does not compute each image on its own, or "" when it does.
  std::string node_splits(const Node& n) const {
    const bool ours = n.domain == kOnnxMiniDomain;
    const std::string op = ours && (n.op_type == "FusedConv" || n.op_type == "FusedGemm") ? n.op_type.substr(5)
                                                                                           : n.op_type;
    if ((!n.domain.empty() && !ours) || (ours && op == n.op_type) || !per_image_ops().count(op)) {
      return n.describe() + " is not known to treat dimension 0 as a batch";
    }
    if (n.inputs.empty() || n.inputs[0] == kNoId || !batched(n.inputs[0])) {
      return n.describe() + ": input 0 does not carry the batch dimension first";
    }
    for (size_t i = 1; i < n.inputs.size(); ++i) {
      const ValueId v = n.inputs[i];
      if (v == kNoId || batched(v)) continue;
      if (!g.is_constant(v)) return n.describe() + ": input " + std::to_string(i) + " is neither batched nor constant";
      // A constant broadcast against a batched operand must not span dimension 0.
      const TensorInfo& c = g.value(v).info;
      const bool elementwise = op == "Add" || op == "Sub" || op == "Mul" || op == "Div";
      if (elementwise && c.dims.size() >= g.value(n.inputs[0]).info.dims.size() &&
          !(c.dims[0].known() && c.dims[0].value == 1)) {
        return n.describe() + ": constant input " + std::to_string(i) + " spans the batch dimension";
      }
      if (op == "Concat") return n.describe() + ": a constant is concatenated";
    }
    for (ValueId v : n.outputs) {
      if (v != kNoId && !batched(v)) return n.describe() + ": an output does not carry the batch dimension first";
    }
    if (op == "Gemm") {
      auto trans_a = n.attrs.get_int("transA", 0);
      if (!trans_a.is_ok() || trans_a.value() != 0 || rank(n.inputs[0]) != 2) return n.describe() + ": A is transposed";
      for (size_t i = 1; i < n.inputs.size(); ++i) {
        if (n.inputs[i] != kNoId && !g.is_constant(n.inputs[i])) return n.describe() + ": B or C is not constant";
      }
    }
    if (op == "Concat" && !axis_past_batch(n, 0, n.inputs[0])) return n.describe() + ": concatenates along the batch";
    if (op == "Flatten" && !axis_past_batch(n, 1, n.inputs[0])) return n.describe() + ": flattens the batch";
    if ((op == "Softmax" || op == "LogSoftmax") && !axis_past_batch(n, n.opset >= 13 ? -1 : 1, n.inputs[0])) {
      return n.describe() + ": normalizes across the batch";
    }
    if (op == "BatchNormalization") {
      auto training = n.attrs.get_int("training_mode", 0);
      if (!training.is_ok() || training.value() != 0 || n.outputs.size() > 1) return n.describe() + ": training mode";
    }
    return "";
  }
};

}  // namespace

BatchSplit plan_batch_split(const Graph& g, int64_t min_image_bytes) {
  BatchSplit plan;
  if (g.inputs().empty()) return {false, "", "the graph has no inputs"};
  for (ValueId v : g.inputs()) {
    const Value& in = g.value(v);
    if (in.initializer) return {false, "", "input " + in.name + " has a default (an initializer)"};
    if (!in.info.has_shape || in.info.dims.empty() || in.info.dims[0].known() || in.info.dims[0].param.empty()) {
      return {false, "", "input " + in.name + " has no symbolic dimension 0"};
    }
    if (plan.batch.empty()) plan.batch = in.info.dims[0].param;
    if (in.info.dims[0].param != plan.batch) return {false, "", "the inputs' dimension 0 differ"};
  }
  const Checker check{g, plan.batch};
  for (ValueId v : g.outputs()) {
    const TensorInfo& info = g.value(v).info;
    if (!check.batched(v) || info.dtype == DataType::kUndefined) {
      return {false, "", "output " + g.value(v).name + " does not carry the batch dimension first"};
    }
    for (size_t d = 1; d < info.dims.size(); ++d) {
      if (!info.dims[d].known()) return {false, "", "output " + g.value(v).name + " has unknown dimensions"};
    }
  }
  bool convolves = false;
  int64_t widest = 0;  // bytes of the largest value of one image
  for (size_t id = 0; id < g.num_node_slots(); ++id) {
    const Node& n = g.node(static_cast<NodeId>(id));
    if (n.removed) continue;
    std::string why = check.node_splits(n);
    if (!why.empty()) return {false, "", why};
    convolves = convolves || n.op_type == "Conv" || n.op_type == "FusedConv" || n.op_type == "ConvTranspose";
    for (ValueId v : n.outputs) {
      if (v == kNoId) continue;
      const int64_t bytes = image_bytes(g.value(v).info);
      if (bytes < 0) return {false, "", n.describe() + ": an output's size per image is not known at load"};
      widest = std::max(widest, bytes);
    }
  }
  // An MLP's rows share its weights: one row at a time would read every
  // weight once per row instead of once per batch.
  if (!convolves) return {false, "", "no convolution (rows of a batch share the weights' reads)"};
  // Small images fit the caches as a batch anyway, and a run per image
  // multiplies the per-node cost: ResNet-18 on 32x32 inputs (64 KB per image at
  // most) took 2.8x ONNX Runtime's time at batch 8 split, 1.6x whole.
  if (widest < min_image_bytes) return {false, "", "its values are small (the batch fits the caches whole)"};
  plan.per_image = true;
  return plan;
}

}  // namespace onnx_mini
