// The memory plan: which intermediate values share a buffer. Computed once per
// session from value lifetimes; buffers grow to the largest size a run needs and
// are reused by every later run.
#pragma once

#include <vector>

#include "graph/ir.h"

namespace onnx_mini {

struct ExecutionPlan {
  std::vector<NodeId> order;            // nodes in execution order
  std::vector<int> value_slot;          // per value: buffer slot, or -1 (input/initializer/unused)
  int num_slots = 0;
  std::vector<std::vector<ValueId>> release_after;  // per step: values whose last use it is
};

// Greedy interval colouring: a value takes a free slot (freed after the last
// step that reads it) or a new one. Graph outputs get slots of their own, never shared.
ExecutionPlan make_plan(const Graph& g, std::vector<NodeId> order);

}  // namespace onnx_mini
