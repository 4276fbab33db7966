// EliminateIdentity: removes Identity and inference-mode Dropout, which copy
// their input. Their consumers read the input directly; when the copy is a graph
// output, the producer of the input is made to write the output name instead, so
// the graph's interface keeps its names.
#include "graph/passes/pass_manager.h"
#include "graph/passes/pattern_pass.h"

namespace onnx_mini {
namespace {

struct EliminateIdentity {
  static constexpr const char* kName = "EliminateIdentity";
  struct Match {
    NodeId node;
    bool rename_producer;  // the output is a graph output: the input's producer takes its name
  };

  // Dropout copies its input when not training: opset 7 and 10 have no training
  // mode at all (runtimes run inference); from 12 training_mode is an optional
  // input, false when absent. Opset < 7 had is_test (default 0 = training): skipped.
  // The mask output must be unused (in inference it would be all true).
  static bool is_inference_dropout(const Graph& g, const Node& n) {
    if (!is_op(n, "Dropout", kOnnxDomain, 7)) return false;
    if (n.outputs.size() > 1 && n.outputs[1] != kNoId && !g.is_unused(n.outputs[1])) return false;
    if (n.inputs.size() > 2 && n.inputs[2] != kNoId) {
      const Tensor* t = g.constant_value(n.inputs[2]);
      if (!t || t->dtype() != DataType::kBool || t->num_elements() != 1 || t->data<bool>()[0]) return false;
    }
    return true;
  }

  std::optional<Match> match(const Graph& g, NodeId id) const {
    const Node& n = g.node(id);
    if (n.op_type != "Identity" && n.op_type != "Dropout") return std::nullopt;
    if (!is_op(n, "Identity", kOnnxDomain, 1) && !is_inference_dropout(g, n)) return std::nullopt;
    if (n.inputs.empty() || n.inputs[0] == kNoId || n.outputs.empty() || n.outputs[0] == kNoId) return std::nullopt;
    if (!g.is_graph_output(n.outputs[0])) return Match{id, false};
    // Output name must survive: only when the input is a private node output.
    if (g.value(n.inputs[0]).producer == kNoId || !is_private_intermediate(g, n.inputs[0])) return std::nullopt;
    return Match{id, true};
  }

  Result<std::string> rewrite(Graph& g, const Match& m) const {
    Node& n = g.node(m.node);
    const std::string what = n.op_type == "Dropout" ? "inference Dropout " : "Identity ";
    const std::string line = "removed " + what + quoted_name(g, n);
    const ValueId in = n.inputs[0], out = n.outputs[0];
    if (!m.rename_producer) {
      g.replace_all_uses(out, in);
      g.remove_node(m.node);
      return line;
    }
    const NodeId producer = g.value(in).producer;
    g.remove_node(m.node);
    Node& p = g.node(producer);
    for (ValueId& o : p.outputs) {
      if (o == in) o = out;
    }
    g.value(out).producer = producer;
    g.value(in).producer = kNoId;
    return line;
  }
};

}  // namespace

std::unique_ptr<Pass> make_eliminate_identity() { return std::make_unique<PatternPass<EliminateIdentity>>(); }

}  // namespace onnx_mini
