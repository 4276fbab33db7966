// Thin helpers for writing an onnx::GraphProto by hand: nodes with attributes,
// scalar Constant nodes, float initializers and typed graph inputs/outputs.
// Shared by the MLP builder, the activation and loss emitters, and reinit.
#pragma once

#include <cstdint>
#include <onnx/onnx_pb.h>

#include <span>
#include <string>
#include <variant>
#include <vector>

#include "core/shape.h"

namespace onnx_mini::init {

// One dim of a declared graph input/output: fixed size or symbolic name ("batch").
using Dim = std::variant<int64_t, std::string>;

// The IR version written next to an opset: the one ONNX released with that opset,
// but at least 4, since IR < 4 would force every initializer to also be a graph input.
int64_t ir_version_for_opset(int opset);

class GraphBuilder {
 public:
  GraphBuilder(onnx::GraphProto* graph, int opset) : graph_(graph), opset_(opset) {}

  int opset() const { return opset_; }

  onnx::NodeProto& add_node(const std::string& op_type, const std::string& name,
                            const std::vector<std::string>& inputs, const std::vector<std::string>& outputs);
  // A Constant node producing a 0-d float tensor; returns the value name (== name).
  std::string add_scalar_constant(const std::string& name, float value);
  void add_float_initializer(const std::string& name, const Shape& shape, std::span<const float> values);
  void add_input(const std::string& name, int32_t elem_type, const std::vector<Dim>& dims);
  void add_output(const std::string& name, int32_t elem_type, const std::vector<Dim>& dims);

 private:
  onnx::GraphProto* graph_;
  int opset_;
};

void set_int_attr(onnx::NodeProto& node, const std::string& name, int64_t value);
void set_float_attr(onnx::NodeProto& node, const std::string& name, float value);
void set_string_attr(onnx::NodeProto& node, const std::string& name, const std::string& value);

// Stores floats as little-endian raw_data (the layout ONNX specifies), independent of
// the host's byte order.
void set_float_raw_data(onnx::TensorProto& tensor, std::span<const float> values);

// Sets metadata_props[key] = value, replacing an existing entry with that key.
void set_metadata(onnx::ModelProto& model, const std::string& key, const std::string& value);

}  // namespace onnx_mini::init
