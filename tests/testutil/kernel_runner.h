// Runs one op kernel from the default registry on in-memory tensors, the way the
// session does (registry lookup by opset, attribute whitelist, shape inference,
// kernel init, run), without building a graph: run_kernel(). For the whole path
// (a model through the loader and a Session) use NodeModel (node_model.h).
#pragma once

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ops/registry.h"
#include "tests/testutil/attribute_values.h"
#include "tests/testutil/tensors.h"

namespace onnx_mini::testing {

class TestContext final : public KernelContext {
 public:
  TestContext(std::vector<const Tensor*> inputs, std::vector<bool> wanted)
      : inputs_(std::move(inputs)), wanted_(std::move(wanted)), outputs_(wanted_.size()) {}
  int num_inputs() const override { return static_cast<int>(inputs_.size()); }
  const Tensor* input(int i) const override { return i < num_inputs() ? inputs_[static_cast<size_t>(i)] : nullptr; }
  int num_outputs() const override { return static_cast<int>(wanted_.size()); }
  bool output_wanted(int i) const override { return wanted_[static_cast<size_t>(i)]; }
  Result<Tensor*> output(int i, const Shape& shape, DataType dtype) override {
    if (!output_wanted(i)) return internal_error("output " + std::to_string(i) + " not wanted");
    OM_RETURN_IF_ERROR(check_runtime_shape(shape));  // as the session's executor does
    // Poisoned with NaN-like bytes so a kernel that skips an element is caught.
    Tensor t = Tensor::allocate(dtype, shape);
    std::memset(t.raw_data(), 0xFF, t.byte_size());
    outputs_[static_cast<size_t>(i)] = t;
    return &outputs_[static_cast<size_t>(i)];
  }
  const std::string& node_name() const override { return name_; }
  std::vector<Tensor>& outputs() { return outputs_; }

 private:
  std::vector<const Tensor*> inputs_;
  std::vector<bool> wanted_;
  std::vector<Tensor> outputs_;
  std::string name_ = "test_node";
};

// Inputs may be null (absent optional). `wanted` gives the number of outputs.
inline Result<std::vector<Tensor>> run_kernel(const std::string& op, int opset, const Attributes& attrs,
                                              const std::vector<const Tensor*>& inputs, std::vector<bool> wanted = {true}) {
  const OpDef* def = default_registry().find(op, kOnnxDomain, opset);
  if (!def) return unsupported(op + " not registered at opset " + std::to_string(opset));
  for (const auto& [name, a] : attrs.all()) {
    bool known = false;
    for (const std::string& allowed : def->attributes) known = known || allowed == name;
    if (!known) return invalid_model(op + ": unknown attribute '" + name + "'");
  }
  std::vector<TensorInfo> infos;
  infos.reserve(inputs.size());
  NodeInfo node;
  node.op_type = op;
  node.domain = kOnnxDomain;
  node.name = "test_node";
  node.opset = opset;
  node.since_version = def->since_version;
  node.attributes = &attrs;
  node.num_outputs = static_cast<int>(wanted.size());
  for (const Tensor* t : inputs) {
    infos.push_back(t ? TensorInfo::of(t->dtype(), t->shape()) : TensorInfo{});
  }
  for (size_t i = 0; i < inputs.size(); ++i) node.inputs.push_back(inputs[i] ? &infos[i] : nullptr);
  std::vector<TensorInfo> out_infos(wanted.size());
  OM_RETURN_IF_ERROR(def->infer(node, out_infos));
  OM_ASSIGN_OR_RETURN(std::unique_ptr<Kernel> kernel, def->create(node));
  TestContext ctx(inputs, wanted);
  OM_RETURN_IF_ERROR(kernel->run(ctx));
  // The kernel's output shapes must agree with what inference promised.
  for (size_t i = 0; i < wanted.size(); ++i) {
    if (!wanted[i] || !out_infos[i].fully_known()) continue;
    if (out_infos[i].concrete_shape() != ctx.outputs()[i].shape()) {
      return internal_error("output " + std::to_string(i) + " shape " + shape_to_string(ctx.outputs()[i].shape()) +
                            " differs from inferred " + out_infos[i].to_string());
    }
  }
  return std::move(ctx.outputs());
}

}  // namespace onnx_mini::testing
