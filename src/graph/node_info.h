// Builds the NodeInfo (what kernels and inference functions see of a node)
// from the IR, with the constant value of initializer inputs attached.
#pragma once

#include <vector>

#include "graph/ir.h"

namespace onnx_mini {

class NodeInfoBuilder {
 public:
  // The returned reference is valid until the next build().
  const NodeInfo& build(const Graph& g, NodeId id);

 private:
  std::vector<TensorInfo> infos_;
  NodeInfo info_;
};

}  // namespace onnx_mini
