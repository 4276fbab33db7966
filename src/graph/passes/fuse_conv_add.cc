// FuseConvAdd: Conv -> Add(skip), the residual connection of a ResNet block,
// becomes FusedConv with the skip tensor as its input Z, so the addition runs
// in the convolution's epilogue while each output tile is in registers rather
// than as a second pass over Y. Runs before FuseConvActivation, which then
// takes the Relu after the Add: y = relu(conv + bias + skip).
//
// Only an Add of two tensors of the same shape (no broadcasting: Z must be
// shaped like Y), the convolution's output read by nothing else and not a
// graph output, float; the fused node is named after the Conv and writes the
// Add's output.
#include "graph/passes/conv_patterns.h"
#include "graph/passes/fusion.h"
#include "graph/passes/pass_manager.h"
#include "graph/passes/pattern_pass.h"

namespace onnx_mini {
namespace {

constexpr int kFusedConvInputZ = 3;

struct FuseConvAdd {
  static constexpr const char* kName = "FuseConvAdd";
  struct Match {
    NodeId conv, add;
    ValueId skip;
  };

  std::optional<Match> match(const Graph& g, NodeId id) const {
    const Node& conv = g.node(id);
    if (!is_plain_conv(g, conv)) return std::nullopt;
    const ValueId y = conv.outputs[0];
    if (!is_private_intermediate(g, y)) return std::nullopt;
    const NodeId add_id = g.sole_consumer(y);
    const Node& add = g.node(add_id);
    if (!is_op(add, "Add", kOnnxDomain, 7) || add.inputs.size() != 2 || add.inputs[0] == add.inputs[1]) {
      return std::nullopt;  // Add before 7 had broadcast attributes; y + y is no skip connection
    }
    const ValueId skip = add.inputs[0] == y ? add.inputs[1] : add.inputs[0];
    if (!is_float(g, skip) || !same_shape(g, skip, y) || !same_shape(g, y, add.outputs[0])) return std::nullopt;
    if (!make_node(g, "FusedConv", kOnnxMiniDomain, "").def) return std::nullopt;
    return Match{id, add_id, skip};
  }

  Result<std::string> rewrite(Graph& g, const Match& m) const {
    const Node& conv = g.node(m.conv);
    Fusion f = start_fusion(g, {m.conv, m.add}, "FusedConv", kOnnxMiniDomain, conv.name);
    f.node.attrs = conv.attrs;
    f.node.inputs = conv.inputs;
    f.node.inputs.resize(kFusedConvInputZ, kNoId);
    f.node.inputs.push_back(m.skip);
    std::string line = "fused Add " + quoted_name(g, g.node(m.add)) + " (skip '" + g.value(m.skip).name + "') into " +
                       conv.op_type + " " + quoted_name(g, conv);
    finalize_fusion(g, std::move(f));
    return line;
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_conv_add() { return std::make_unique<PatternPass<FuseConvAdd>>(); }

}  // namespace onnx_mini
