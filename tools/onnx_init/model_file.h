// Reading and writing ONNX model files.
//
// Reading goes through the loader's door (core/regular_file.h): a regular file
// of at most 2 GiB (protobuf's limit), so /dev/zero, a FIFO or a folder is refused
// at once instead of read without end or waited on; then every name in the model
// is checked against the loader's limit (graph/name_limits.h).
//
// Writing goes through the one writer of every output file (core/atomic_file.h):
// a fresh temporary in the destination's folder, fsynced, renamed over the
// destination only once complete; a symbolic link or a device at the destination
// is refused; a failure leaves the old file as it was.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>

#include "core/status.h"

namespace onnx_mini::init {

// kInvalidModel when the file is empty, not a ModelProto or has a name over the
// limit; kUsage when it cannot be opened or is not a regular file.
Result<onnx::ModelProto> read_model_file(const std::string& path);
// Serializes deterministically (same message, same bytes) and replaces `path`.
Status write_model_file_atomically(const onnx::ModelProto& model, const std::string& path);

}  // namespace onnx_mini::init
