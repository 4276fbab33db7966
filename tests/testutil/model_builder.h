// Builds small ONNX models in C++ for tests, and runs them through a Session.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "runtime/session.h"
#include "tests/testutil/tensors.h"

namespace onnx_mini::testing {

class ModelBuilder {
 public:
  explicit ModelBuilder(int opset = 13);

  // dims: a negative value means a symbolic dim named "N".
  ModelBuilder& input(const std::string& name, DataType dtype, const std::vector<int64_t>& dims);
  ModelBuilder& output(const std::string& name, DataType dtype = DataType::kUndefined);
  ModelBuilder& initializer(const std::string& name, const std::vector<int64_t>& dims, const std::vector<float>& values);
  ModelBuilder& initializer_i64(const std::string& name, const std::vector<int64_t>& dims, const std::vector<int64_t>& values);
  // Adds a node; returns it for attributes.
  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "");
  onnx::ModelProto& model() { return model_; }
  std::string serialize() const { return model_.SerializeAsString(); }

 private:
  onnx::ModelProto model_;
};

void set_attr(onnx::NodeProto& n, const std::string& name, int64_t v);
void set_attr(onnx::NodeProto& n, const std::string& name, float v);
void set_attr(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v);

// Loads a model proto into a session (copying it: the loader moves tensor bytes out).
Result<std::unique_ptr<Session>> make_session(const onnx::ModelProto& model, const SessionOptions& options = {});

// Where the build tree and the source tree are (set by CTest; fallbacks for manual runs).
std::string binary_dir();
std::string source_dir();
std::string temp_dir(const std::string& name);  // fresh empty folder under the build tree

}  // namespace onnx_mini::testing
