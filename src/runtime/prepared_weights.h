// After a session's kernels are built: pack the constant weights they asked for
// (ops/packed_gemm.h's PackedWeightRequests) and let go of every initializer
// that only packed kernels read during runs, so a model's weights are resident
// once (packed), not twice.
//
// How an initializer is let go of depends on where its bytes live:
// - in a read-only mapping of the model or external-data file: its pages are
//   dropped (madvise MADV_DONTNEED) as packing passes them; the tensor stays a
//   view of the file (no resident memory) and anything that reads it later
//   (writing the model) faults the pages in again from the file;
// - in memory the session alone owns (a copy read from a misaligned payload,
//   a graph built in memory): its pages are returned to the system as packing
//   passes them and the tensor is dropped; writing the model unpacks the values
//   from the packed copy (Value::rebuild_initializer);
// - in memory someone else also holds (a graph the caller kept a copy of): the
//   session drops its own reference and the caller's copy lives on.
// Peak memory while packing is thus the packed weights plus the part of one
// weight not yet packed, not the weights twice.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "graph/ir.h"
#include "ops/kernel.h"
#include "ops/packed_gemm.h"

namespace onnx_mini {

struct PreparedWeightStats {
  int64_t packed_weights = 0;  // packings made (a weight shared by several nodes counts once)
  int64_t packed_bytes = 0;
  int64_t released_initializers = 0;  // initializers only packed kernels read
  int64_t released_bytes = 0;
};

// `kernels`: every node's kernel, built with `requests` in its NodeInfo.
PreparedWeightStats prepare_weights(Graph& g, const std::vector<std::pair<NodeId, const Kernel*>>& kernels,
                                    PackedWeightRequests& requests);

// Whether [p, p + bytes) lies in one read-only mapping of a file (Linux:
// /proc/self/maps), whose pages can be dropped and read back from the file.
bool in_read_only_file_mapping(const void* p, size_t bytes);

}  // namespace onnx_mini
