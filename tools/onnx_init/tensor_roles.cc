#include "onnx_init/tensor_roles.h"

#include <set>

#include "core/printable.h"

namespace onnx_mini::init {

namespace {

int64_t int_attr(const onnx::NodeProto& node, const std::string& name, int64_t default_value) {
  for (const auto& attr : node.attribute()) {
    if (attr.name() == name) return attr.i();
  }
  return default_value;
}

std::string node_label(const onnx::NodeProto& node) { return printable(node.op_type()) + " " + quote(node.name()); }

bool has_input(const onnx::NodeProto& node, int index) {
  return node.input_size() > index && !node.input(index).empty();
}

// The ONNX op whose inputs a node's are: its own, or for onnx-mini's fused ops
// (in a model saved with onnx-run --save-optimized) the op they extend, whose
// inputs and attributes they take first: FusedGemm Gemm's, FusedConv Conv's.
std::string layer_op(const onnx::NodeProto& node) {
  if (node.domain() == "com.onnx_mini") {
    if (node.op_type() == "FusedGemm") return "Gemm";
    if (node.op_type() == "FusedConv") return "Conv";
  }
  return node.op_type();
}

// The weight initializer of a layer-like node (Gemm, MatMul, Conv, ConvTranspose), or "".
std::string layer_weight(const onnx::NodeProto& node, const std::set<std::string>& initializers) {
  const std::string op = layer_op(node);
  if (op == "Gemm" || op == "MatMul") {
    if (has_input(node, 1) && initializers.count(node.input(1))) return node.input(1);
    if (has_input(node, 0) && initializers.count(node.input(0))) return node.input(0);
  }
  if ((op == "Conv" || op == "ConvTranspose") && has_input(node, 1) && initializers.count(node.input(1))) {
    return node.input(1);
  }
  return "";
}

}  // namespace

std::map<std::string, std::vector<TensorUse>> find_tensor_uses(const onnx::GraphProto& graph) {
  std::set<std::string> initializers;
  for (const auto& t : graph.initializer()) initializers.insert(t.name());
  std::map<std::string, const onnx::NodeProto*> producer;
  for (const auto& node : graph.node()) {
    for (const auto& out : node.output()) producer[out] = &node;
  }

  std::map<std::string, std::vector<TensorUse>> uses;
  auto add_weight = [&](const onnx::NodeProto& node, int index, WeightLayout layout, const std::string& how) {
    if (!has_input(node, index) || !initializers.count(node.input(index))) return;
    uses[node.input(index)].push_back({TensorUse::Role::kWeight, layout, "", node_label(node) + " " + how});
  };
  auto add_bias = [&](const std::string& name, const std::string& weight, const std::string& how) {
    if (!initializers.count(name) || weight.empty()) return;
    uses[name].push_back({TensorUse::Role::kBias, WeightLayout::kOutIn, weight, how});
  };

  for (const auto& node : graph.node()) {
    const std::string op = layer_op(node);
    if (op == "Gemm") {
      // Y = op(A) op(B) + C: B is [in, out] unless transB; A (a constant on the left) is
      // [out, in] unless transA.
      const bool trans_a = int_attr(node, "transA", 0) != 0, trans_b = int_attr(node, "transB", 0) != 0;
      add_weight(node, 1, trans_b ? WeightLayout::kOutIn : WeightLayout::kInOut,
                 trans_b ? "input B (transB=1)" : "input B (transB=0)");
      add_weight(node, 0, trans_a ? WeightLayout::kInOut : WeightLayout::kOutIn,
                 trans_a ? "input A (transA=1)" : "input A (transA=0)");
      if (has_input(node, 2)) {
        add_bias(node.input(2), layer_weight(node, initializers), node_label(node) + " input C");
      }
    } else if (op == "MatMul") {
      add_weight(node, 1, WeightLayout::kInOut, "right operand [.., in, out]");
      add_weight(node, 0, WeightLayout::kOutIn, "left operand [out, in]");
    } else if (op == "Conv" || op == "ConvTranspose") {
      add_weight(node, 1, WeightLayout::kOutIn, "input W");
      if (has_input(node, 2)) add_bias(node.input(2), layer_weight(node, initializers), node_label(node) + " input B");
    } else if (op == "Add" && node.input_size() == 2) {
      // The MatMul + Add form of a linear layer: the constant operand is the bias.
      for (int i = 0; i < 2; ++i) {
        const auto it = producer.find(node.input(1 - i));
        if (it == producer.end()) continue;
        add_bias(node.input(i), layer_weight(*it->second, initializers),
                 node_label(node) + " after " + node_label(*it->second));
      }
    }
  }
  return uses;
}

}  // namespace onnx_mini::init
