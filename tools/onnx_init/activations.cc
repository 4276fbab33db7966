#include "onnx_init/activations.h"

#include <cmath>
#include <vector>

#include "onnx_init/parse_util.h"

namespace onnx_mini::init {

namespace {

struct ActivationInfo {
  const char* name;
  ActivationKind kind;
  size_t max_params;
  double default_alpha;
  double default_beta;
  int min_opset;  // lowest opset at which we can express it (natively or by pattern)
};

constexpr ActivationInfo kActivations[] = {
    {"identity", ActivationKind::kIdentity, 0, 0.0, 0.0, 1},
    {"relu", ActivationKind::kRelu, 0, 0.0, 0.0, 1},
    {"leaky_relu", ActivationKind::kLeakyRelu, 1, 0.01, 0.0, 1},
    {"sigmoid", ActivationKind::kSigmoid, 0, 0.0, 0.0, 1},
    {"tanh", ActivationKind::kTanh, 0, 0.0, 0.0, 1},
    {"elu", ActivationKind::kElu, 1, 1.0, 0.0, 1},
    {"selu", ActivationKind::kSelu, 0, 0.0, 0.0, 1},
    {"celu", ActivationKind::kCelu, 1, 1.0, 0.0, 12},    // Celu-12
    {"softplus", ActivationKind::kSoftplus, 0, 0.0, 0.0, 1},
    {"softsign", ActivationKind::kSoftsign, 0, 0.0, 0.0, 1},
    {"gelu", ActivationKind::kGelu, 0, 0.0, 0.0, 9},      // Erf-9 (Gelu-20 is past onnx 1.12)
    {"hardsigmoid", ActivationKind::kHardSigmoid, 2, 1.0 / 6.0, 0.5, 6},
    {"hardswish", ActivationKind::kHardSwish, 0, 0.0, 0.0, 6},  // HardSigmoid-6 pattern below 14
    {"mish", ActivationKind::kMish, 0, 0.0, 0.0, 1},      // Softplus/Tanh pattern below 18
};

const ActivationInfo& info_of(ActivationKind kind) {
  for (const auto& info : kActivations) {
    if (info.kind == kind) return info;
  }
  return kActivations[0];
}

std::string known_names() {
  std::string names;
  for (const auto& info : kActivations) names += (names.empty() ? "" : ", ") + std::string(info.name);
  return names;
}

}  // namespace

Result<Activation> parse_activation(std::string_view spec) {
  const size_t colon = spec.find(':');
  const std::string name(spec.substr(0, colon));
  for (const auto& info : kActivations) {
    if (name != info.name) continue;
    std::vector<std::string> params;
    if (colon != std::string_view::npos) params = split(spec.substr(colon + 1), ',');
    if (params.size() > info.max_params) {
      return usage_error("activation '" + std::string(spec) + "': " + name + " takes at most " +
                         std::to_string(info.max_params) + " parameter(s)");
    }
    Activation act{info.kind, info.default_alpha, info.default_beta};
    if (params.size() > 0) {
      OM_ASSIGN_OR_RETURN(act.alpha, parse_finite_double(params[0], name + " alpha"));
    }
    if (params.size() > 1) {
      OM_ASSIGN_OR_RETURN(act.beta, parse_finite_double(params[1], name + " beta"));
    }
    if (act.kind == ActivationKind::kCelu && act.alpha == 0.0) return usage_error("celu alpha must not be 0");
    return act;
  }
  return usage_error("unknown activation '" + name + "' (known: " + known_names() + ")");
}

std::string to_string(const Activation& act) {
  const ActivationInfo& info = info_of(act.kind);
  std::string text = info.name;
  if (info.max_params >= 1) text += ":" + format_double(act.alpha);
  if (info.max_params >= 2) text += "," + format_double(act.beta);
  return text;
}

Status check_activation_opset(const Activation& act, int opset) {
  const ActivationInfo& info = info_of(act.kind);
  if (opset < info.min_opset) {
    return usage_error("activation " + std::string(info.name) + " needs --opset >= " +
                       std::to_string(info.min_opset) + " (got " + std::to_string(opset) + ")");
  }
  return Status::ok();
}

std::string emit_activation(GraphBuilder& g, const Activation& act, const std::string& input,
                            const std::string& scope) {
  const std::string name = info_of(act.kind).name;
  const std::string out = scope + "/" + name;
  // Single-op activations: the op name, the attributes it takes.
  auto unary = [&](const char* op) -> onnx::NodeProto& { return g.add_node(op, out, {input}, {out}); };
  switch (act.kind) {
    case ActivationKind::kIdentity:
      return input;
    case ActivationKind::kRelu:
      unary("Relu");
      return out;
    case ActivationKind::kLeakyRelu:
      set_float_attr(unary("LeakyRelu"), "alpha", static_cast<float>(act.alpha));
      return out;
    case ActivationKind::kSigmoid:
      unary("Sigmoid");
      return out;
    case ActivationKind::kTanh:
      unary("Tanh");
      return out;
    case ActivationKind::kElu:
      set_float_attr(unary("Elu"), "alpha", static_cast<float>(act.alpha));
      return out;
    case ActivationKind::kSelu:
      unary("Selu");  // ONNX's default alpha/gamma are PyTorch's constants
      return out;
    case ActivationKind::kCelu:
      set_float_attr(unary("Celu"), "alpha", static_cast<float>(act.alpha));
      return out;
    case ActivationKind::kSoftplus:
      unary("Softplus");
      return out;
    case ActivationKind::kSoftsign:
      unary("Softsign");
      return out;
    case ActivationKind::kHardSigmoid: {
      onnx::NodeProto& node = unary("HardSigmoid");
      set_float_attr(node, "alpha", static_cast<float>(act.alpha));
      set_float_attr(node, "beta", static_cast<float>(act.beta));
      return out;
    }
    case ActivationKind::kHardSwish: {
      if (g.opset() >= 14) {
        unary("HardSwish");
        return out;
      }
      // HardSwish's spec definition: x * HardSigmoid(x; alpha=1/6, beta=0.5).
      const std::string hs = out + "/HardSigmoid";
      onnx::NodeProto& node = g.add_node("HardSigmoid", hs, {input}, {hs});
      set_float_attr(node, "alpha", 1.0f / 6.0f);
      set_float_attr(node, "beta", 0.5f);
      g.add_node("Mul", out, {input, hs}, {out});
      return out;
    }
    case ActivationKind::kMish: {
      // Mish's spec definition: x * tanh(softplus(x)); Mish-18 is past our opsets.
      const std::string sp = out + "/Softplus", th = out + "/Tanh";
      g.add_node("Softplus", sp, {input}, {sp});
      g.add_node("Tanh", th, {sp}, {th});
      g.add_node("Mul", out, {input, th}, {out});
      return out;
    }
    case ActivationKind::kGelu: {
      // The erf form PyTorch exports: 0.5 * x * (1 + erf(x / sqrt(2))).
      const std::string sqrt2 = g.add_scalar_constant(out + "/sqrt2", static_cast<float>(std::sqrt(2.0)));
      const std::string one = g.add_scalar_constant(out + "/one", 1.0f);
      const std::string half = g.add_scalar_constant(out + "/half", 0.5f);
      const std::string div = out + "/Div", erf = out + "/Erf", add = out + "/Add", mul = out + "/Mul";
      g.add_node("Div", div, {input, sqrt2}, {div});
      g.add_node("Erf", erf, {div}, {erf});
      g.add_node("Add", add, {erf, one}, {add});
      g.add_node("Mul", mul, {input, add}, {mul});
      g.add_node("Mul", out, {mul, half}, {out});
      return out;
    }
  }
  return input;
}

}  // namespace onnx_mini::init
