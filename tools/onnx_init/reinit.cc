#include "onnx_init/reinit.h"

#include <map>

#include "core/printable.h"

#include "onnx_init/mlp_builder.h"
#include "onnx_init/name_pattern.h"
#include "onnx_init/onnx_graph_builder.h"
#include "onnx_init/parse_util.h"
#include "onnx_init/tensor_roles.h"

namespace onnx_mini::init {

namespace {

Shape shape_of(const onnx::TensorProto& t) { return Shape(t.dims().begin(), t.dims().end()); }

std::string describe(const Distribution& d) {
  switch (d.kind) {
    case Distribution::Kind::kConstant:
      return "constant " + format_double(d.p1);
    case Distribution::Kind::kNormal:
      return "normal(mean " + format_double(d.p1) + ", std " + format_double(d.p2) + ")";
    case Distribution::Kind::kUniform:
      return "uniform[" + format_double(d.p1) + ", " + format_double(d.p2) + ")";
  }
  return "?";
}

// The fans of a weight; an error when its consumers disagree on them.
Result<Fans> weight_fans(const std::string& name, const Shape& shape, const std::vector<TensorUse>& uses) {
  std::optional<Fans> agreed;
  std::string first_use;
  for (const auto& use : uses) {
    if (use.role != TensorUse::Role::kWeight) continue;
    OM_ASSIGN_OR_RETURN(const Fans fans, fans_for_layout(shape, use.layout));
    if (agreed && (agreed->fan_in != fans.fan_in || agreed->fan_out != fans.fan_out)) {
      return usage_error(quote(name) + " is used with different layouts (" + first_use + "; " + use.description +
                         "), so its fans are ambiguous; select it out with --match");
    }
    agreed = fans;
    first_use = use.description;
  }
  if (!agreed) return torch_fans(shape);
  return *agreed;
}

const TensorUse* find_role(const std::vector<TensorUse>& uses, TensorUse::Role role) {
  for (const auto& use : uses) {
    if (use.role == role) return &use;
  }
  return nullptr;
}

struct Plan {
  int index;               // into graph.initializer
  Distribution dist;
  std::string report;
};

Result<std::optional<NamePattern>> compile_match(const ReinitOptions& o) {
  if (!o.match) return std::optional<NamePattern>{};
  OM_ASSIGN_OR_RETURN(NamePattern pattern, NamePattern::compile(*o.match));
  return std::optional<NamePattern>(std::move(pattern));
}

// Decides, initializer by initializer, what is drawn from which distribution
// and why, from how the graph's nodes use each tensor. Nothing is drawn yet.
class Planner {
 public:
  Planner(const onnx::GraphProto& graph, const ReinitOptions& o) : graph_(graph), o_(o), uses_(find_tensor_uses(graph)) {
    for (const auto& t : graph.initializer()) shapes_[t.name()] = shape_of(t);
  }

  // The plan for initializer i, or nullopt with the reason it stays added to report.unchanged.
  Result<std::optional<Plan>> plan(int i, ReinitReport& report) const {
    const onnx::TensorProto& t = graph_.initializer(i);
    const Shape shape = shape_of(t);
    const std::string label = printable(t.name()) + " " + shape_to_string(shape);
    const auto count = checked_num_elements(shape);
    if (!count.is_ok()) return invalid_model("initializer " + quote(t.name()) + ": " + count.status().message());
    if (t.data_type() != onnx::TensorProto::FLOAT) return unchanged(report, label + ": not float");
    if (t.data_location() == onnx::TensorProto::EXTERNAL) {
      return unsupported(quote(t.name()) + " uses external data, which reinit does not rewrite");
    }
    const std::vector<TensorUse>& tensor_uses = uses_of(t.name());
    const TensorUse* as_weight = find_role(tensor_uses, TensorUse::Role::kWeight);
    const TensorUse* as_bias = find_role(tensor_uses, TensorUse::Role::kBias);
    if (as_bias && !as_weight) return plan_bias(i, label, *as_bias, report);
    if (!as_weight && !o_.match) {
      return unchanged(report, label + ": no weight or bias role (name it with --match to change it)");
    }
    OM_ASSIGN_OR_RETURN(Plan weight, plan_weight(i, label, tensor_uses, as_weight));
    return std::optional<Plan>(std::move(weight));
  }

 private:
  static std::optional<Plan> unchanged(ReinitReport& report, std::string why) {
    report.unchanged.push_back(std::move(why));
    return std::nullopt;
  }

  // Empty for a name that is not an initializer.
  Shape shape_of_initializer(const std::string& name) const {
    const auto it = shapes_.find(name);
    return it == shapes_.end() ? Shape{} : it->second;
  }

  const std::vector<TensorUse>& uses_of(const std::string& name) const {
    static const std::vector<TensorUse> kNoUses;
    const auto it = uses_.find(name);
    return it == uses_.end() ? kNoUses : it->second;
  }

  // --bias keep leaves it; a --bias scheme draws from that scheme; the default is
  // nn.Linear's bias rule with its weight's fan_in.
  Result<std::optional<Plan>> plan_bias(int i, const std::string& label, const TensorUse& as_bias,
                                        ReinitReport& report) const {
    const onnx::TensorProto& t = graph_.initializer(i);
    if (o_.bias_init.kind == BiasInit::Kind::kKeep) {
      return unchanged(report, label + ": bias of " + as_bias.description + ", --bias keep");
    }
    Distribution dist;
    if (o_.bias_init.kind == BiasInit::Kind::kScheme) {
      // As torch.nn.init, a scheme that needs fans takes them from the tensor's own
      // shape: a 1-D bias has none (an error), a 2-D one such as Gemm's [1, N] C has.
      std::optional<Fans> fans;
      if (needs_fans(o_.bias_init.scheme)) {
        auto own = torch_fans(shape_of(t));
        if (!own.is_ok()) return own.status().with_context(quote(t.name()) + " (a bias) with --bias " + to_string(o_.bias_init) + ": ");
        fans = own.value();
      }
      OM_ASSIGN_OR_RETURN(dist, resolve(o_.bias_init.scheme, fans));
    } else {
      const std::string& weight = as_bias.weight;
      OM_ASSIGN_OR_RETURN(const Fans fans, weight_fans(weight, shape_of_initializer(weight), uses_of(weight)));
      dist = torch_default_bias(fans.fan_in);
    }
    return std::optional<Plan>(Plan{i, dist, label + ": bias of " + as_bias.description + " -> " + describe(dist)});
  }

  // A weight (or a tensor --match names): --weight's scheme, with fans from its uses.
  Result<Plan> plan_weight(int i, const std::string& label, const std::vector<TensorUse>& tensor_uses,
                           const TensorUse* as_weight) const {
    const onnx::TensorProto& t = graph_.initializer(i);
    std::optional<Fans> fans;
    if (needs_fans(o_.weight_init)) {
      auto fans_or = weight_fans(t.name(), shape_of(t), tensor_uses);
      if (!fans_or.is_ok()) return fans_or.status().with_context(quote(t.name()) + ": ");
      fans = fans_or.value();
    }
    OM_ASSIGN_OR_RETURN(const Distribution dist, resolve(o_.weight_init, fans));
    std::string why = as_weight ? as_weight->description : "no recognised use, PyTorch's axis rule";
    if (fans) why += ", fan_in " + std::to_string(fans->fan_in) + " fan_out " + std::to_string(fans->fan_out);
    return Plan{i, dist, label + ": " + why + " -> " + describe(dist)};
  }

  const onnx::GraphProto& graph_;
  const ReinitOptions& o_;
  const std::map<std::string, std::vector<TensorUse>> uses_;
  std::map<std::string, Shape> shapes_;
};

Status nothing_selected(const onnx::GraphProto& graph, const ReinitOptions& o) {
  std::string names;
  for (const auto& t : graph.initializer()) names += (names.empty() ? "" : ", ") + printable(t.name());
  return usage_error(std::string(o.match ? "--match " + quote(*o.match) + " selects" : "the model has") +
                     " no initializer to re-initialize (initializers: " + (names.empty() ? "none" : names) + ")");
}

// Draws every plan in initializer order (the order consumes the generator) and
// rewrites the tensors; returns their names, comma-separated.
std::string apply_plans(onnx::GraphProto& graph, const std::vector<Plan>& plans, uint64_t seed, ReinitReport& report) {
  Pcg32 rng(seed);
  std::string changed_names;
  for (const Plan& plan : plans) {
    onnx::TensorProto* t = graph.mutable_initializer(plan.index);
    std::vector<float> values(static_cast<size_t>(num_elements(shape_of(*t))));
    fill(plan.dist, rng, values);
    set_float_raw_data(*t, values);
    report.changed.push_back(plan.report);
    changed_names += (changed_names.empty() ? "" : ",") + t->name();
  }
  return changed_names;
}

// The recipe, so the model says how its values were drawn.
void record_recipe(onnx::ModelProto& model, const ReinitOptions& o, const std::string& changed_names) {
  set_metadata(model, "onnx_init.tool", kToolVersion);
  set_metadata(model, "onnx_init.command", o.command_line);
  set_metadata(model, "onnx_init.weight_init", to_string(o.weight_init));
  set_metadata(model, "onnx_init.bias_init", to_string(o.bias_init));
  set_metadata(model, "onnx_init.seed", std::to_string(o.seed));
  set_metadata(model, "onnx_init.match", o.match.value_or(""));
  set_metadata(model, "onnx_init.reinitialized", changed_names);
}

}  // namespace

Result<ReinitReport> reinit_model(onnx::ModelProto& model, const ReinitOptions& o) {
  OM_ASSIGN_OR_RETURN(const std::optional<NamePattern> pattern, compile_match(o));
  onnx::GraphProto* graph = model.mutable_graph();
  const Planner planner(*graph, o);
  ReinitReport report;
  std::vector<Plan> plans;
  for (int i = 0; i < graph->initializer_size(); ++i) {
    if (pattern && !pattern->search(graph->initializer(i).name())) continue;
    OM_ASSIGN_OR_RETURN(std::optional<Plan> plan, planner.plan(i, report));
    if (plan) plans.push_back(std::move(*plan));
  }
  if (plans.empty()) return nothing_selected(*graph, o);
  // Every check passed: only now draw and rewrite, so an error leaves the model untouched.
  const std::string changed_names = apply_plans(*graph, plans, o.seed, report);
  record_recipe(model, o, changed_names);
  return report;
}

}  // namespace onnx_mini::init
