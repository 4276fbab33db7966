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
// The newest ai.onnx opset whose changes to registered ops onnx-mini implements:
// every registered op resolves at each opset to the version the specification
// names (tests/ops/op_versions.txt). 18 moved Reduce* axes to an input, added
// Split's num_outputs and ScatterElements/ScatterND's min/max reductions; 19 to
// 21 otherwise added dtypes onnx-mini refuses at load (float8, int4, uint4,
// string), bool ReduceMax/Min (20), and GroupNormalization's per-channel scale
// and bias (21). A newer opset may change semantics silently, so it is refused
// until reviewed the same way.
inline constexpr int kMaxOnnxOpset = 21;
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
