#include "onnx_init/onnx_graph_builder.h"

#include <bit>
#include <cstring>

namespace onnx_mini::init {

int64_t ir_version_for_opset(int opset) {
  // From ONNX's release table (docs/Versioning.md): opset 9 -> IR 4, 10 -> 5,
  // 11 -> 6, 12..14 -> 7, 15..17 -> 8.
  if (opset <= 9) return 4;
  if (opset == 10) return 5;
  if (opset == 11) return 6;
  if (opset <= 14) return 7;
  return 8;
}

onnx::NodeProto& GraphBuilder::add_node(const std::string& op_type, const std::string& name,
                                        const std::vector<std::string>& inputs,
                                        const std::vector<std::string>& outputs) {
  onnx::NodeProto* node = graph_->add_node();
  node->set_op_type(op_type);
  node->set_name(name);
  for (const auto& in : inputs) node->add_input(in);
  for (const auto& out : outputs) node->add_output(out);
  return *node;
}

std::string GraphBuilder::add_scalar_constant(const std::string& name, float value) {
  onnx::NodeProto& node = add_node("Constant", name, {}, {name});
  onnx::AttributeProto* attr = node.add_attribute();
  attr->set_name("value");
  attr->set_type(onnx::AttributeProto::TENSOR);
  onnx::TensorProto* tensor = attr->mutable_t();
  tensor->set_data_type(onnx::TensorProto::FLOAT);  // no dims: a 0-d scalar
  tensor->add_float_data(value);
  return name;
}

void GraphBuilder::add_float_initializer(const std::string& name, const Shape& shape,
                                         std::span<const float> values) {
  onnx::TensorProto* tensor = graph_->add_initializer();
  tensor->set_name(name);
  tensor->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : shape) tensor->add_dims(d);
  set_float_raw_data(*tensor, values);
}

namespace {
void set_value_info(onnx::ValueInfoProto* info, const std::string& name, int32_t elem_type,
                    const std::vector<Dim>& dims) {
  info->set_name(name);
  onnx::TypeProto_Tensor* tensor_type = info->mutable_type()->mutable_tensor_type();
  tensor_type->set_elem_type(elem_type);
  onnx::TensorShapeProto* shape = tensor_type->mutable_shape();  // present even for scalars
  for (const Dim& dim : dims) {
    onnx::TensorShapeProto_Dimension* d = shape->add_dim();
    if (const auto* size = std::get_if<int64_t>(&dim)) {
      d->set_dim_value(*size);
    } else {
      d->set_dim_param(std::get<std::string>(dim));
    }
  }
}
}  // namespace

void GraphBuilder::add_input(const std::string& name, int32_t elem_type, const std::vector<Dim>& dims) {
  set_value_info(graph_->add_input(), name, elem_type, dims);
}

void GraphBuilder::add_output(const std::string& name, int32_t elem_type, const std::vector<Dim>& dims) {
  set_value_info(graph_->add_output(), name, elem_type, dims);
}

namespace {
onnx::AttributeProto& new_attr(onnx::NodeProto& node, const std::string& name,
                               onnx::AttributeProto::AttributeType type) {
  onnx::AttributeProto* attr = node.add_attribute();
  attr->set_name(name);
  attr->set_type(type);
  return *attr;
}
}  // namespace

void set_int_attr(onnx::NodeProto& node, const std::string& name, int64_t value) {
  new_attr(node, name, onnx::AttributeProto::INT).set_i(value);
}

void set_float_attr(onnx::NodeProto& node, const std::string& name, float value) {
  new_attr(node, name, onnx::AttributeProto::FLOAT).set_f(value);
}

void set_string_attr(onnx::NodeProto& node, const std::string& name, const std::string& value) {
  new_attr(node, name, onnx::AttributeProto::STRING).set_s(value);
}

void set_float_raw_data(onnx::TensorProto& tensor, std::span<const float> values) {
  std::string bytes(values.size() * 4, '\0');
  for (size_t i = 0; i < values.size(); ++i) {
    const auto bits = std::bit_cast<uint32_t>(values[i]);
    for (int b = 0; b < 4; ++b) bytes[i * 4 + b] = static_cast<char>((bits >> (8 * b)) & 0xffu);
  }
  tensor.clear_float_data();
  tensor.set_raw_data(std::move(bytes));
}

void set_metadata(onnx::ModelProto& model, const std::string& key, const std::string& value) {
  for (auto& entry : *model.mutable_metadata_props()) {
    if (entry.key() == key) {
      entry.set_value(value);
      return;
    }
  }
  onnx::StringStringEntryProto* entry = model.add_metadata_props();
  entry->set_key(key);
  entry->set_value(value);
}

}  // namespace onnx_mini::init
