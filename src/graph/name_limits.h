// Names come from untrusted files. A name of megabytes is never a real model:
// it only costs memory and time (every message quotes it) and reaches code that
// is not built for it (std::regex's recursion overflowed the stack on 50,000
// characters). Every name in a model is refused above kMaxNameBytes.
#pragma once

#include <cstddef>

#include <onnx/onnx_pb.h>

#include "core/status.h"

namespace onnx_mini {

inline constexpr size_t kMaxNameBytes = size_t{64} << 10;

// kInvalidModel naming the first field whose text is longer than `limit`: the
// graph's name; each node's name, op_type, domain, input and output names and
// attribute names; initializer, sparse initializer, graph input, output and
// value_info names; opset_import domains and metadata keys; and the same inside
// every subgraph attribute (If/Loop/Scan bodies), which the loader refuses later
// but the parser has read. The message quotes the start of the name only.
Status check_name_lengths(const onnx::ModelProto& model, size_t limit = kMaxNameBytes);

}  // namespace onnx_mini
