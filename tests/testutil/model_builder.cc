#include "tests/testutil/model_builder.h"

#include <cstdlib>
#include <filesystem>

#include "graph/onnx_loader.h"

namespace onnx_mini::testing {

ModelBuilder::ModelBuilder(int opset) {
  model_.set_ir_version(8);
  model_.set_producer_name("onnx-mini-tests");
  auto* op = model_.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  model_.mutable_graph()->set_name("test");
}

ModelBuilder& ModelBuilder::input(const std::string& name, DataType dtype, const std::vector<int64_t>& dims) {
  auto* in = model_.mutable_graph()->add_input();
  in->set_name(name);
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(static_cast<int32_t>(dtype));
  auto* shape = tt->mutable_shape();
  for (int64_t d : dims) {
    auto* dim = shape->add_dim();
    if (d < 0) dim->set_dim_param("N");
    else dim->set_dim_value(d);
  }
  return *this;
}

ModelBuilder& ModelBuilder::output(const std::string& name, DataType dtype) {
  auto* out = model_.mutable_graph()->add_output();
  out->set_name(name);
  if (dtype != DataType::kUndefined) out->mutable_type()->mutable_tensor_type()->set_elem_type(static_cast<int32_t>(dtype));
  return *this;
}

ModelBuilder& ModelBuilder::initializer(const std::string& name, const std::vector<int64_t>& dims,
                                        const std::vector<float>& values) {
  auto* t = model_.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  for (float v : values) t->add_float_data(v);
  return *this;
}

ModelBuilder& ModelBuilder::initializer_i64(const std::string& name, const std::vector<int64_t>& dims,
                                            const std::vector<int64_t>& values) {
  auto* t = model_.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  for (int64_t d : dims) t->add_dims(d);
  for (int64_t v : values) t->add_int64_data(v);
  return *this;
}

onnx::NodeProto& ModelBuilder::node(const std::string& op, const std::vector<std::string>& inputs,
                                    const std::vector<std::string>& outputs, const std::string& name) {
  auto* n = model_.mutable_graph()->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const auto& i : inputs) n->add_input(i);
  for (const auto& o : outputs) n->add_output(o);
  return *n;
}

void set_attr(onnx::NodeProto& n, const std::string& name, int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

void set_attr(onnx::NodeProto& n, const std::string& name, float v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}

void set_attr(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

Result<std::unique_ptr<Session>> make_session(const onnx::ModelProto& model, const SessionOptions& options) {
  onnx::ModelProto copy = model;
  OM_ASSIGN_OR_RETURN(Graph g, graph_from_model(copy, ""));
  return Session::from_graph(std::move(g), options);
}

std::string binary_dir() {
  const char* d = std::getenv("ONNX_MINI_BINARY_DIR");
  return d ? d : ONNX_MINI_BINARY_DIR_DEFAULT;
}

std::string source_dir() {
  const char* d = std::getenv("ONNX_MINI_SOURCE_DIR");
  return d ? d : ONNX_MINI_SOURCE_DIR_DEFAULT;
}

std::string temp_dir(const std::string& name) {
  std::filesystem::path p = std::filesystem::path(binary_dir()) / "test_tmp" / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

}  // namespace onnx_mini::testing
