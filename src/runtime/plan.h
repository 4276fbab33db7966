// The memory plan: which intermediate values share a buffer (a slot), and the
// step after which each value is dead. Computed once per session from value
// lifetimes; buffers grow to the largest size a run needs and are reused by
// every later run. After its first run a frame puts the values that are no
// graph output at offsets of one block instead, worked out as the run goes
// from the same lifetimes (runtime/block_offsets.h); the slots hold them in the
// first run and whenever the block is too small (runtime/execution_frame.h).
#pragma once

#include <vector>

#include "graph/ir.h"

namespace onnx_mini {

// Where a Concat's input may be written straight into its place in the
// Concat's output, so that the Concat copies nothing for it: SqueezeNet's
// eight Concats (two 1x1 / 3x3 convolutions side by side) were 3 % of its
// time at batch 1. Decided per run by the frame (runtime/execution_frame.cc),
// since the shapes are known only then: it needs one image (every dimension
// before the axis 1), and otherwise gives the input a buffer of its own.
struct ConcatPlacement {
  ValueId whole = kNoId;  // the Concat's output; kNoId: not placed
  int64_t rank = 0;       // of every input and the output
  int64_t axis = 0;       // normalised
  int64_t axis_begin = 0;  // where the input starts along the axis
  int64_t axis_size = 0;   // its extent along the axis
  int64_t axis_total = 0;  // the output's extent along the axis
};

struct ExecutionPlan {
  std::vector<NodeId> order;            // nodes in execution order
  std::vector<int> value_slot;          // per value: buffer slot, or -1 (input/initializer/unused/placed)
  int num_slots = 0;
  std::vector<std::vector<ValueId>> release_after;  // per step: values whose last use it is
  std::vector<ConcatPlacement> placement;           // per value
};

// Greedy interval colouring: a value takes a free slot (freed after the last
// step that reads it) or a new one. Graph outputs get slots of their own, never
// shared. A Concat whose inputs may be placed in its output (ConcatPlacement)
// takes its slot when the first of them is written, not when it runs.
ExecutionPlan make_plan(const Graph& g, std::vector<NodeId> order);

}  // namespace onnx_mini
