// Writing the IR back out as a valid ONNX model (onnx-run --save-optimized).
#pragma once

#include <string>

#include <onnx/onnx_pb.h>

#include "graph/ir.h"

namespace onnx_mini {

// Fused ops are written in onnx-mini's own domain, which is then declared in opset_import.
void graph_to_model(const Graph& g, onnx::ModelProto& model);
Status save_onnx_file(const Graph& g, const std::string& path);

}  // namespace onnx_mini
