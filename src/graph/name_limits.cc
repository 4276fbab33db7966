#include "graph/name_limits.h"

#include <string>

#include "core/printable.h"

namespace onnx_mini {
namespace {

// Walks every name of a model; the first one above the limit stops the walk.
class NameLengthCheck {
 public:
  explicit NameLengthCheck(size_t limit) : limit_(limit) {}

  Status model(const onnx::ModelProto& m) {
    for (int i = 0; i < m.opset_import_size(); ++i) OM_RETURN_IF_ERROR(name("opset_import " + std::to_string(i) + ": its domain", m.opset_import(i).domain()));
    for (int i = 0; i < m.metadata_props_size(); ++i) OM_RETURN_IF_ERROR(name("metadata_props " + std::to_string(i) + ": its key", m.metadata_props(i).key()));
    return graph(m.graph(), "");
  }

 private:
  // `where` places a subgraph: "" for the main graph, "node 3 attribute 'then_branch': ".
  Status graph(const onnx::GraphProto& g, const std::string& where) {
    OM_RETURN_IF_ERROR(name(where + "the graph's name", g.name()));
    for (int i = 0; i < g.initializer_size(); ++i) OM_RETURN_IF_ERROR(name(where + "initializer " + std::to_string(i) + ": its name", g.initializer(i).name()));
    for (int i = 0; i < g.sparse_initializer_size(); ++i) {
      OM_RETURN_IF_ERROR(name(where + "sparse initializer " + std::to_string(i) + ": its name", g.sparse_initializer(i).values().name()));
    }
    for (int i = 0; i < g.input_size(); ++i) OM_RETURN_IF_ERROR(name(where + "graph input " + std::to_string(i) + ": its name", g.input(i).name()));
    for (int i = 0; i < g.output_size(); ++i) OM_RETURN_IF_ERROR(name(where + "graph output " + std::to_string(i) + ": its name", g.output(i).name()));
    for (int i = 0; i < g.value_info_size(); ++i) OM_RETURN_IF_ERROR(name(where + "value_info " + std::to_string(i) + ": its name", g.value_info(i).name()));
    for (int i = 0; i < g.node_size(); ++i) OM_RETURN_IF_ERROR(node(g.node(i), where + "node " + std::to_string(i)));
    return Status::ok();
  }

  Status node(const onnx::NodeProto& n, const std::string& where) {
    OM_RETURN_IF_ERROR(name(where + ": its name", n.name()));
    OM_RETURN_IF_ERROR(name(where + ": its op_type", n.op_type()));
    OM_RETURN_IF_ERROR(name(where + ": its domain", n.domain()));
    for (int i = 0; i < n.input_size(); ++i) OM_RETURN_IF_ERROR(name(where + ": input " + std::to_string(i) + " names a value that", n.input(i)));
    for (int i = 0; i < n.output_size(); ++i) OM_RETURN_IF_ERROR(name(where + ": output " + std::to_string(i) + " names a value that", n.output(i)));
    for (const auto& a : n.attribute()) {
      OM_RETURN_IF_ERROR(name(where + ": an attribute's name", a.name()));
      const std::string sub = where + " attribute " + quote(a.name()) + ": ";
      if (a.has_g()) OM_RETURN_IF_ERROR(graph(a.g(), sub));
      for (const auto& g : a.graphs()) OM_RETURN_IF_ERROR(graph(g, sub));
    }
    return Status::ok();
  }

  Status name(const std::string& field, const std::string& text) const {
    if (text.size() <= limit_) return Status::ok();
    return invalid_model(field + " is " + std::to_string(text.size()) + " bytes, above the limit of " + std::to_string(limit_) +
                         " bytes per name (it starts " + quote(text.substr(0, 40)) + ")");
  }

  size_t limit_;
};

}  // namespace

Status check_name_lengths(const onnx::ModelProto& model, size_t limit) { return NameLengthCheck(limit).model(model); }

}  // namespace onnx_mini
