// Reading an ONNX model into the IR: the validating pipeline
// read -> parse -> structure -> support check -> tensors (incl. external data) -> shapes.
#pragma once

#include <string>

#include <onnx/onnx_pb.h>

#include "graph/ir.h"
#include "graph/model_mapping.h"
#include "ops/registry.h"

namespace onnx_mini {

inline constexpr int kMinOnnxOpset = 1;
// The newest ai.onnx opset whose changes to registered ops onnx-mini implements.
// 18 moved Reduce* axes to an input (implemented) and added Split's num_outputs
// (refused as an unknown attribute); 19 and 20 only added dtypes (float8, string,
// bool) to the ops registered here, plus new ops such as Gelu (20). A newer opset
// may change semantics silently, so it is refused until reviewed the same way.
inline constexpr int kMaxOnnxOpset = 20;
inline constexpr int64_t kDefaultMaxNodes = 1'000'000;

struct LoadOptions {
  const OpRegistry* registry = nullptr;  // default_registry() when null
  int64_t max_nodes = kDefaultMaxNodes;
  int64_t max_file_bytes = int64_t{2} << 30;  // protobuf's own limit is 2 GiB
};

// Reads and validates a model file. Errors name the file.
Result<Graph> load_onnx_file(const std::string& path, const LoadOptions& options = {});
// Builds the IR from a parsed model (tensor bytes are moved out of it).
// base_dir resolves external data; empty refuses it.
// initializer_raw (from strip_large_raw_data, by initializer index) supplies the
// raw_data payloads cut out of `model`.
Result<Graph> graph_from_model(onnx::ModelProto& model, const std::string& base_dir, const LoadOptions& options = {},
                               const std::vector<std::optional<MappedRawData>>* initializer_raw = nullptr);

}  // namespace onnx_mini
