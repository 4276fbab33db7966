#include "onnx_init/reinit.h"

#include <map>
#include <regex>

#include "onnx_init/mlp_builder.h"
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
      return usage_error("'" + name + "' is used with different layouts (" + first_use + "; " + use.description +
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

}  // namespace

Result<ReinitReport> reinit_model(onnx::ModelProto& model, const ReinitOptions& o) {
  std::optional<std::regex> pattern;
  if (o.match) {
    try {
      pattern.emplace(*o.match, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return usage_error("bad --match regex '" + *o.match + "': " + e.what());
    }
  }
  onnx::GraphProto* graph = model.mutable_graph();
  const auto uses = find_tensor_uses(*graph);
  std::map<std::string, Shape> shapes;
  for (const auto& t : graph->initializer()) shapes[t.name()] = shape_of(t);

  ReinitReport report;
  std::vector<Plan> plans;
  for (int i = 0; i < graph->initializer_size(); ++i) {
    const onnx::TensorProto& t = graph->initializer(i);
    const Shape shape = shape_of(t);
    const std::string label = t.name() + " " + shape_to_string(shape);
    if (pattern && !std::regex_search(t.name(), *pattern)) continue;
    const auto count = checked_num_elements(shape);
    if (!count.is_ok()) return invalid_model("initializer '" + t.name() + "': " + count.status().message());
    if (t.data_type() != onnx::TensorProto::FLOAT) {
      report.unchanged.push_back(label + ": not float");
      continue;
    }
    if (t.data_location() == onnx::TensorProto::EXTERNAL) {
      return unsupported("'" + t.name() + "' uses external data, which reinit does not rewrite");
    }
    const auto it = uses.find(t.name());
    static const std::vector<TensorUse> kNoUses;
    const std::vector<TensorUse>& tensor_uses = it == uses.end() ? kNoUses : it->second;
    const TensorUse* as_weight = find_role(tensor_uses, TensorUse::Role::kWeight);
    const TensorUse* as_bias = find_role(tensor_uses, TensorUse::Role::kBias);

    if (as_bias && !as_weight) {
      if (o.bias_init.kind == BiasInit::Kind::kKeep) {
        report.unchanged.push_back(label + ": bias of " + as_bias->description + ", --bias keep");
        continue;
      }
      Distribution dist;
      if (o.bias_init.kind == BiasInit::Kind::kScheme) {
        if (needs_fans(o.bias_init.scheme)) {
          return torch_fans(shape).status().with_context("'" + t.name() + "' (a bias) with --bias " +
                                                         to_string(o.bias_init) + ": ");
        }
        OM_ASSIGN_OR_RETURN(dist, resolve(o.bias_init.scheme, std::nullopt));
      } else {
        const auto w = uses.find(as_bias->weight);
        const std::vector<TensorUse>& weight_uses = w == uses.end() ? kNoUses : w->second;
        OM_ASSIGN_OR_RETURN(const Fans fans, weight_fans(as_bias->weight, shapes[as_bias->weight], weight_uses));
        dist = torch_default_bias(fans.fan_in);
      }
      plans.push_back({i, dist, label + ": bias of " + as_bias->description + " -> " + describe(dist)});
      continue;
    }
    if (!as_weight && !o.match) {
      report.unchanged.push_back(label + ": no weight or bias role (name it with --match to change it)");
      continue;
    }
    std::optional<Fans> fans;
    if (needs_fans(o.weight_init)) {
      auto fans_or = weight_fans(t.name(), shape, tensor_uses);
      if (!fans_or.is_ok()) return fans_or.status().with_context("'" + t.name() + "': ");
      fans = fans_or.value();
    }
    OM_ASSIGN_OR_RETURN(const Distribution dist, resolve(o.weight_init, fans));
    std::string why = as_weight ? as_weight->description : "no recognised use, PyTorch's axis rule";
    if (fans) why += ", fan_in " + std::to_string(fans->fan_in) + " fan_out " + std::to_string(fans->fan_out);
    plans.push_back({i, dist, label + ": " + why + " -> " + describe(dist)});
  }
  if (plans.empty()) {
    std::string names;
    for (const auto& t : graph->initializer()) names += (names.empty() ? "" : ", ") + t.name();
    return usage_error(std::string(o.match ? "--match '" + *o.match + "' selects" : "the model has") +
                       " no initializer to re-initialize (initializers: " + (names.empty() ? "none" : names) + ")");
  }

  // Every check passed: now draw, in initializer order, and rewrite.
  Pcg32 rng(o.seed);
  std::string changed_names;
  for (const Plan& plan : plans) {
    onnx::TensorProto* t = graph->mutable_initializer(plan.index);
    std::vector<float> values(static_cast<size_t>(num_elements(shape_of(*t))));
    fill(plan.dist, rng, values);
    set_float_raw_data(*t, values);
    report.changed.push_back(plan.report);
    changed_names += (changed_names.empty() ? "" : ",") + t->name();
  }
  set_metadata(model, "onnx_init.tool", kToolVersion);
  set_metadata(model, "onnx_init.command", o.command_line);
  set_metadata(model, "onnx_init.weight_init", to_string(o.weight_init));
  set_metadata(model, "onnx_init.bias_init", to_string(o.bias_init));
  set_metadata(model, "onnx_init.seed", std::to_string(o.seed));
  set_metadata(model, "onnx_init.match", o.match.value_or(""));
  set_metadata(model, "onnx_init.reinitialized", changed_names);
  return report;
}

}  // namespace onnx_mini::init
