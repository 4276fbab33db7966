// Tensor files for inputs and outputs: NumPy .npy and ONNX TensorProto .pb.
#pragma once

#include <string>

#include "core/status.h"
#include "core/tensor.h"

namespace onnx_mini {

struct TensorFile {
  std::string name;  // TensorProto.name for .pb; empty for .npy
  Tensor tensor;
};

// Reads .npy or .pb by extension (anything not .npy is read as TensorProto).
// Malformed files are bad-input errors naming the file.
Result<TensorFile> read_tensor_file(const std::string& path);
Result<Tensor> parse_npy(const std::string& bytes, const std::string& what);
Result<TensorFile> parse_tensor_pb(std::string bytes, const std::string& what);

Status write_npy(const std::string& path, const Tensor& t);
Status write_tensor_pb(const std::string& path, const std::string& name, const Tensor& t);

}  // namespace onnx_mini
