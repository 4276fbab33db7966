#include "onnx_init/init_schemes.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "onnx_init/parse_util.h"

namespace onnx_mini::init {

namespace {

constexpr const char* kSchemeList =
    "zeros, ones, constant:VAL, normal:MEAN,STD, uniform:A,B, xavier_normal[:GAIN], "
    "xavier_uniform[:GAIN], kaiming_normal[:A,MODE,NONLINEARITY], kaiming_uniform[:A,MODE,NONLINEARITY]";
constexpr const char* kNonlinearityList =
    "linear, identity, conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d, "
    "sigmoid, tanh, relu, leaky_relu, selu";

struct SchemeName {
  const char* name;
  SchemeKind kind;
  size_t max_params;
};
constexpr SchemeName kSchemeNames[] = {
    {"zeros", SchemeKind::kZeros, 0},
    {"ones", SchemeKind::kOnes, 0},
    {"constant", SchemeKind::kConstant, 1},
    {"normal", SchemeKind::kNormal, 2},
    {"uniform", SchemeKind::kUniform, 2},
    {"xavier_normal", SchemeKind::kXavierNormal, 1},
    {"xavier_uniform", SchemeKind::kXavierUniform, 1},
    {"kaiming_normal", SchemeKind::kKaimingNormal, 3},
    {"kaiming_uniform", SchemeKind::kKaimingUniform, 3},
};

const char* scheme_name(SchemeKind kind) {
  for (const auto& entry : kSchemeNames) {
    if (entry.kind == kind) return entry.name;
  }
  return "?";
}

// Xavier's gain may be spelled as a number or as a nonlinearity ("xavier_uniform:tanh").
Status parse_gain(const std::string& text, double& gain) {
  auto number = parse_finite_double(text, "xavier gain");
  if (number.is_ok()) {
    gain = number.value();
  } else {
    auto named = calculate_gain(text);
    if (!named.is_ok()) {
      return usage_error("xavier gain '" + text + "' is neither a number nor a known nonlinearity");
    }
    gain = named.value();
  }
  if (gain < 0.0) return usage_error("xavier gain must be >= 0, got " + text);
  return Status::ok();
}

Status parse_mode(const std::string& text, FanMode& mode) {
  if (text == "fan_in") {
    mode = FanMode::kFanIn;
  } else if (text == "fan_out") {
    mode = FanMode::kFanOut;
  } else {
    return usage_error("unknown kaiming mode '" + text + "' (choose fan_in or fan_out)");
  }
  return Status::ok();
}

Status parse_params(SchemeKind kind, const std::vector<std::string>& p, InitScheme& s) {
  // Each kind reads its own positional parameters; absent ones keep torch's defaults.
  auto number = [&](size_t i, double& field, const char* what) -> Status {
    if (i >= p.size()) return Status::ok();
    OM_ASSIGN_OR_RETURN(field, parse_finite_double(p[i], what));
    return Status::ok();
  };
  switch (kind) {
    case SchemeKind::kZeros:
      s.value = 0.0;
      return Status::ok();
    case SchemeKind::kOnes:
      s.value = 1.0;
      return Status::ok();
    case SchemeKind::kConstant:
      if (p.empty()) return usage_error("constant needs a value: constant:VAL");
      return number(0, s.value, "constant value");
    case SchemeKind::kNormal:
      OM_RETURN_IF_ERROR(number(0, s.mean, "normal mean"));
      OM_RETURN_IF_ERROR(number(1, s.stddev, "normal std"));
      if (s.stddev < 0.0) return usage_error("normal std must be >= 0, got " + format_double(s.stddev));
      return Status::ok();
    case SchemeKind::kUniform:
      OM_RETURN_IF_ERROR(number(0, s.low, "uniform A"));
      OM_RETURN_IF_ERROR(number(1, s.high, "uniform B"));
      if (s.low > s.high) {
        return usage_error("uniform needs A <= B, got A=" + format_double(s.low) + " B=" + format_double(s.high));
      }
      return Status::ok();
    case SchemeKind::kXavierNormal:
    case SchemeKind::kXavierUniform:
      if (p.empty()) return Status::ok();
      return parse_gain(p[0], s.gain);
    case SchemeKind::kKaimingNormal:
    case SchemeKind::kKaimingUniform:
      OM_RETURN_IF_ERROR(number(0, s.a, "kaiming a"));
      if (p.size() > 1) OM_RETURN_IF_ERROR(parse_mode(p[1], s.mode));
      if (p.size() > 2) s.nonlinearity = p[2];
      // Validate the nonlinearity now, not when the first tensor is filled.
      return calculate_gain(s.nonlinearity, s.a).status();
  }
  return internal_error("unhandled scheme kind");
}

}  // namespace

Result<InitScheme> parse_init_scheme(std::string_view spec) {
  const size_t colon = spec.find(':');
  const std::string name(spec.substr(0, colon));
  std::vector<std::string> params;
  if (colon != std::string_view::npos) params = split(spec.substr(colon + 1), ',');

  for (const auto& entry : kSchemeNames) {
    if (name != entry.name) continue;
    if (params.size() > entry.max_params) {
      return usage_error("init scheme '" + std::string(spec) + "': " + name + " takes at most " +
                         std::to_string(entry.max_params) + " parameter(s)");
    }
    for (const auto& p : params) {
      if (p.empty()) return usage_error("init scheme '" + std::string(spec) + "': empty parameter");
    }
    InitScheme scheme;
    scheme.kind = entry.kind;
    OM_RETURN_IF_ERROR(parse_params(entry.kind, params, scheme)
                           .with_context("init scheme '" + std::string(spec) + "': "));
    return scheme;
  }
  return usage_error("unknown init scheme '" + name + "' (known: " + kSchemeList + ")");
}

std::string to_string(const InitScheme& s) {
  const std::string name = scheme_name(s.kind);
  switch (s.kind) {
    case SchemeKind::kZeros:
    case SchemeKind::kOnes:
      return name;
    case SchemeKind::kConstant:
      return name + ":" + format_double(s.value);
    case SchemeKind::kNormal:
      return name + ":" + format_double(s.mean) + "," + format_double(s.stddev);
    case SchemeKind::kUniform:
      return name + ":" + format_double(s.low) + "," + format_double(s.high);
    case SchemeKind::kXavierNormal:
    case SchemeKind::kXavierUniform:
      return name + ":" + format_double(s.gain);
    case SchemeKind::kKaimingNormal:
    case SchemeKind::kKaimingUniform:
      return name + ":" + format_double(s.a) + "," + (s.mode == FanMode::kFanIn ? "fan_in" : "fan_out") + "," +
             s.nonlinearity;
  }
  return name;
}

bool needs_fans(const InitScheme& s) {
  switch (s.kind) {
    case SchemeKind::kXavierNormal:
    case SchemeKind::kXavierUniform:
    case SchemeKind::kKaimingNormal:
    case SchemeKind::kKaimingUniform:
      return true;
    default:
      return false;
  }
}

Result<double> calculate_gain(std::string_view nonlinearity, std::optional<double> param) {
  static constexpr const char* kUnitGain[] = {"linear",           "identity",         "conv1d",
                                              "conv2d",           "conv3d",           "conv_transpose1d",
                                              "conv_transpose2d", "conv_transpose3d", "sigmoid"};
  for (const char* name : kUnitGain) {
    if (nonlinearity == name) return 1.0;
  }
  if (nonlinearity == "tanh") return 5.0 / 3.0;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") {
    const double slope = param.value_or(0.01);
    return std::sqrt(2.0 / (1.0 + slope * slope));
  }
  if (nonlinearity == "selu") return 3.0 / 4.0;
  return usage_error("unknown nonlinearity '" + std::string(nonlinearity) + "' (known: " + kNonlinearityList + ")");
}

Result<Fans> torch_fans(const Shape& shape) {
  if (shape.size() < 2) {
    return usage_error("fan-in and fan-out need a tensor with at least 2 dims, got shape " + shape_to_string(shape));
  }
  int64_t receptive_field = 1;
  for (size_t i = 2; i < shape.size(); ++i) receptive_field *= shape[i];
  for (int64_t d : shape) {
    if (d <= 0) return usage_error("cannot compute fans of shape " + shape_to_string(shape) + ": a dim is <= 0");
  }
  return Fans{shape[1] * receptive_field, shape[0] * receptive_field};
}

Result<Fans> fans_for_layout(const Shape& shape, WeightLayout layout) {
  if (layout == WeightLayout::kOutIn || shape.size() < 2) return torch_fans(shape);
  for (int64_t d : shape) {
    if (d <= 0) return usage_error("cannot compute fans of shape " + shape_to_string(shape) + ": a dim is <= 0");
  }
  // [..., in, out]: leading dims are a batch of independent matrices, not a receptive field.
  return Fans{shape[shape.size() - 2], shape[shape.size() - 1]};
}

namespace {

// The largest |z| the polar method can return: |u| <= sqrt(s), so
// |u * sqrt(-2 ln s / s)| <= sqrt(-2 ln s), and s >= 2^-104 (u, v are
// multiples of 2^-52): sqrt(208 ln 2) = 12.007...
constexpr double kMaxStandardNormal = 12.01;

// The largest magnitude a distribution can draw (before rounding to float).
double largest_draw(const Distribution& d) {
  switch (d.kind) {
    case Distribution::Kind::kConstant: return std::fabs(d.p1);
    case Distribution::Kind::kNormal: return std::fabs(d.p1) + kMaxStandardNormal * d.p2;
    case Distribution::Kind::kUniform: return std::max(std::fabs(d.p1), std::fabs(d.p2));
  }
  return INFINITY;
}

// Weights are float32: a scheme whose draws round to inf (xavier_uniform:1e308)
// would write a model of infinities, as constant:inf would.
Status check_finite_float32(const InitScheme& s, const Distribution& d) {
  const double largest = largest_draw(d);
  if (largest <= std::numeric_limits<float>::max()) return Status::ok();
  return usage_error("scheme " + to_string(s) + " draws values up to " + format_double(largest) +
                     ", which are not finite in float32 (largest " +
                     format_double(std::numeric_limits<float>::max()) + ")");
}

Result<Distribution> resolve_formula(const InitScheme& s, std::optional<Fans> fans) {
  using Kind = Distribution::Kind;
  switch (s.kind) {
    case SchemeKind::kZeros:
      return Distribution{Kind::kConstant, 0.0, 0.0};
    case SchemeKind::kOnes:
      return Distribution{Kind::kConstant, 1.0, 0.0};
    case SchemeKind::kConstant:
      return Distribution{Kind::kConstant, s.value, 0.0};
    case SchemeKind::kNormal:
      return Distribution{Kind::kNormal, s.mean, s.stddev};
    case SchemeKind::kUniform:
      return Distribution{Kind::kUniform, s.low, s.high};
    case SchemeKind::kXavierNormal:
    case SchemeKind::kXavierUniform: {
      const double stddev = s.gain * std::sqrt(2.0 / static_cast<double>(fans->fan_in + fans->fan_out));
      if (s.kind == SchemeKind::kXavierNormal) return Distribution{Kind::kNormal, 0.0, stddev};
      const double bound = std::sqrt(3.0) * stddev;
      return Distribution{Kind::kUniform, -bound, bound};
    }
    case SchemeKind::kKaimingNormal:
    case SchemeKind::kKaimingUniform: {
      const int64_t fan = s.mode == FanMode::kFanIn ? fans->fan_in : fans->fan_out;
      OM_ASSIGN_OR_RETURN(const double gain, calculate_gain(s.nonlinearity, s.a));
      const double stddev = gain / std::sqrt(static_cast<double>(fan));
      if (s.kind == SchemeKind::kKaimingNormal) return Distribution{Kind::kNormal, 0.0, stddev};
      const double bound = std::sqrt(3.0) * stddev;
      return Distribution{Kind::kUniform, -bound, bound};
    }
  }
  return internal_error("unhandled scheme kind");
}

}  // namespace

Result<Distribution> resolve(const InitScheme& s, std::optional<Fans> fans) {
  if (needs_fans(s) && !fans) return internal_error("scheme " + to_string(s) + " resolved without fans");
  OM_ASSIGN_OR_RETURN(const Distribution d, resolve_formula(s, fans));
  OM_RETURN_IF_ERROR(check_finite_float32(s, d));
  return d;
}

Distribution torch_default_bias(int64_t weight_fan_in) {
  const double bound = weight_fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(weight_fan_in)) : 0.0;
  return Distribution{Distribution::Kind::kUniform, -bound, bound};
}

Result<BiasInit> parse_bias_init(std::string_view spec) {
  if (spec == "default") return BiasInit{};
  if (spec == "keep") return BiasInit{BiasInit::Kind::kKeep, {}};
  auto scheme = parse_init_scheme(spec);
  if (!scheme.is_ok()) return scheme.status().with_context("--bias (default, keep or a scheme): ");
  return BiasInit{BiasInit::Kind::kScheme, scheme.value()};
}

std::string to_string(const BiasInit& bias) {
  switch (bias.kind) {
    case BiasInit::Kind::kTorchDefault:
      return "default";
    case BiasInit::Kind::kKeep:
      return "keep";
    case BiasInit::Kind::kScheme:
      return to_string(bias.scheme);
  }
  return "?";
}

namespace {
// Rounds a double sample into the float interval [low, high): double-to-float
// rounding could otherwise land exactly on `high` or just below `low`.
float to_float_in_half_open(double v, double low, double high) {
  auto f = static_cast<float>(v);
  if (static_cast<double>(f) < low) f = std::nextafter(f, std::numeric_limits<float>::infinity());
  if (static_cast<double>(f) >= high && low < high) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  return f;
}
}  // namespace

void fill(const Distribution& dist, Pcg32& rng, std::span<float> out) {
  switch (dist.kind) {
    case Distribution::Kind::kConstant:
      for (float& x : out) x = static_cast<float>(dist.p1);
      return;
    case Distribution::Kind::kNormal:
      for (float& x : out) x = static_cast<float>(dist.p1 + dist.p2 * rng.standard_normal());
      return;
    case Distribution::Kind::kUniform: {
      const double width = dist.p2 - dist.p1;
      for (float& x : out) x = to_float_in_half_open(dist.p1 + width * rng.uniform01(), dist.p1, dist.p2);
      return;
    }
  }
}

}  // namespace onnx_mini::init
