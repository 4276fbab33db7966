// Whether a graph computes each image of a batch on its own, so that a run on
// N images may be made as N runs on one image each (runtime/session.cc).
//
// Why: at batch 8 a CNN's activations no longer fit in the caches (MobileNetV2's
// widest layer is 4.8 MB per image, 38 MB for the batch), so every layer
// streams them from memory; one image at a time keeps them in L2/L3. On two
// threads each thread takes its own images, so no layer waits for the other
// core or reads what it wrote. The results are the same as one image's run.
//
// The test is conservative: every node must be an op known to treat dimension
// 0 as a batch (convolutions, pooling, activations, broadcasting arithmetic,
// Concat and Softmax off axis 0, Flatten from axis 1, Gemm on constant
// weights), and every value it reads or writes must either be a constant or
// carry the graph input's symbolic batch dimension first.
#pragma once

#include <cstdint>
#include <string>

#include "graph/ir.h"

namespace onnx_mini {

struct BatchSplit {
  bool per_image = false;
  std::string batch;    // the symbolic name of dimension 0 ("batch")
  std::string why_not;  // when !per_image: the first thing that rules it out
};

// Graphs whose largest value of one image is under this fit the caches as a
// batch, and a run per image would only multiply the per-node cost.
inline constexpr int64_t kMinSplitImageBytes = int64_t{1} << 20;

// `min_image_bytes`: kMinSplitImageBytes, or 0 to split graphs of any size
// (ONNX_MINI_SPLIT_BATCH=1, for tests on small models).
BatchSplit plan_batch_split(const Graph& g, int64_t min_image_bytes = kMinSplitImageBytes);

}  // namespace onnx_mini
