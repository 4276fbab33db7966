// Reading and writing ONNX model files.
//
// Writing goes to a temporary file in the destination's folder and is renamed over
// the destination only once complete, so an interrupted or failed write never leaves
// a half-written model behind (rename is atomic within one filesystem).
#pragma once

#include <onnx/onnx_pb.h>

#include <string>

#include "core/status.h"

namespace onnx_mini::init {

// kInvalidModel when the file is not a ModelProto; kUsage when it cannot be opened.
Result<onnx::ModelProto> read_model_file(const std::string& path);
// Serializes deterministically (same message, same bytes) and replaces `path`.
Status write_model_file_atomically(const onnx::ModelProto& model, const std::string& path);

}  // namespace onnx_mini::init
