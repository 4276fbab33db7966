// TensorProto <-> Tensor, including external data kept inside the model's folder.
#pragma once

#include <string>

#include <onnx/onnx_pb.h>

#include "graph/model_mapping.h"
#include "core/status.h"
#include "core/tensor.h"

namespace onnx_mini {

struct TensorSource {
  // Folder that external data locations are relative to; empty: external data refused.
  std::string base_dir;
  // Where the tensor sits, for messages ("initializer 'fc1.weight'").
  std::string what;
  // raw_data cut out of the parsed message and left in the mapped model file
  // (see model_mapping.h); used in place when aligned, else read once.
  const MappedRawData* mapped = nullptr;
};

// Converts a TensorProto. raw_data is moved out of `proto` (no copy); external
// data is memory-mapped. Every size is checked against the bytes that exist.
Result<Tensor> tensor_from_proto(onnx::TensorProto& proto, const TensorSource& source);

// Serialises a tensor as raw_data.
void tensor_to_proto(const Tensor& t, const std::string& name, onnx::TensorProto& proto);

}  // namespace onnx_mini
