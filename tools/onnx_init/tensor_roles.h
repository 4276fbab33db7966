// Which initializers are layer weights or biases, read from the nodes that consume
// them. reinit needs this to compute fans from the real layout (see reinit.h).
#pragma once

#include <onnx/onnx_pb.h>

#include <map>
#include <string>
#include <vector>

#include "onnx_init/init_schemes.h"

namespace onnx_mini::init {

struct TensorUse {
  enum class Role { kWeight, kBias } role = Role::kWeight;
  WeightLayout layout = WeightLayout::kOutIn;  // kWeight: how its dims map to in/out
  std::string weight;                          // kBias: the layer's weight initializer
  std::string description;                     // "Gemm 'fc1' input B (transB=1)"
};

// Uses of each initializer of the top-level graph (subgraphs are not inspected).
// Initializers without a recognised use are absent from the map.
std::map<std::string, std::vector<TensorUse>> find_tensor_uses(const onnx::GraphProto& graph);

}  // namespace onnx_mini::init
