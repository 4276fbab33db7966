// Initialization schemes with torch.nn.init's names, parameters and statistics.
//
// A scheme is parsed once from its command-line spelling ("kaiming_normal:0,fan_out,relu")
// into a typed InitScheme, then resolved for one tensor (its fans) into a concrete
// Distribution, then sampled. The split keeps the PyTorch formulas (gain, fan, std,
// bound) testable without any random numbers.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/shape.h"
#include "core/status.h"
#include "onnx_init/rng.h"

namespace onnx_mini::init {

enum class SchemeKind {
  kZeros,
  kOnes,
  kConstant,       // constant:VAL
  kNormal,         // normal:MEAN,STD            (torch defaults 0,1)
  kUniform,        // uniform:A,B                (torch defaults 0,1)
  kXavierNormal,   // xavier_normal[:gain]       (gain a number or a nonlinearity name)
  kXavierUniform,  // xavier_uniform[:gain]
  kKaimingNormal,  // kaiming_normal[:a,mode,nonlinearity]  (torch defaults 0,fan_in,leaky_relu)
  kKaimingUniform, // kaiming_uniform[:a,mode,nonlinearity]
};

enum class FanMode { kFanIn, kFanOut };

struct InitScheme {
  SchemeKind kind = SchemeKind::kZeros;
  double value = 0.0;                         // constant
  double mean = 0.0, stddev = 1.0;             // normal
  double low = 0.0, high = 1.0;               // uniform
  double gain = 1.0;                          // xavier
  double a = 0.0;                             // kaiming: leaky_relu negative slope
  FanMode mode = FanMode::kFanIn;             // kaiming
  std::string nonlinearity = "leaky_relu";    // kaiming
};

// Parses "NAME[:P1,P2,...]"; every error names the offending part and the valid choices.
Result<InitScheme> parse_init_scheme(std::string_view spec);
// The canonical spelling with every parameter explicit, e.g.
// "kaiming_normal:0,fan_in,relu"; parse_init_scheme(to_string(s)) gives s back.
std::string to_string(const InitScheme& scheme);
// Whether sampling the scheme needs the tensor's fans (xavier, kaiming).
bool needs_fans(const InitScheme& scheme);

// torch.nn.init.calculate_gain. `param` is leaky_relu's negative slope; absent means
// PyTorch's 0.01. "identity" is accepted as a synonym of "linear".
Result<double> calculate_gain(std::string_view nonlinearity, std::optional<double> param = std::nullopt);

struct Fans {
  int64_t fan_in = 0;
  int64_t fan_out = 0;
};
// torch.nn.init._calculate_fan_in_and_fan_out: dim 1 is the input, dim 0 the output,
// trailing dims are the receptive field. Error for fewer than 2 dims or a zero dim.
Result<Fans> torch_fans(const Shape& shape);

// How a 2-D-or-more weight maps to inputs and outputs. PyTorch's rule (torch_fans)
// assumes kOutIn: Linear [out, in], Conv [out, in/groups, k...]. A MatMul weight, or
// a Gemm B without transB, is [in, out] (and batched MatMul weights [..., in, out]).
enum class WeightLayout { kOutIn, kInOut };
Result<Fans> fans_for_layout(const Shape& shape, WeightLayout layout);

// What a tensor's elements are drawn from.
struct Distribution {
  enum class Kind { kConstant, kNormal, kUniform } kind = Kind::kConstant;
  double p1 = 0.0;  // constant value | normal mean | uniform low
  double p2 = 0.0;  // (unused)       | normal std  | uniform high
};

// Applies PyTorch's formulas: xavier std = gain*sqrt(2/(fan_in+fan_out)),
// kaiming std = gain/sqrt(fan), uniform bounds = sqrt(3)*std.
// `fans` is required exactly when needs_fans(scheme).
Result<Distribution> resolve(const InitScheme& scheme, std::optional<Fans> fans);

// nn.Linear / nn.Conv bias default: uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) with the
// fan_in of the layer's weight.
Distribution torch_default_bias(int64_t weight_fan_in);

// How biases are initialized: PyTorch's layer default, a scheme, or left as they are
// (reinit only). Spelled "default", "keep" or any scheme ("zeros", "normal:0,0.01").
struct BiasInit {
  enum class Kind { kTorchDefault, kScheme, kKeep } kind = Kind::kTorchDefault;
  InitScheme scheme;  // kScheme only
};
Result<BiasInit> parse_bias_init(std::string_view spec);
std::string to_string(const BiasInit& bias);

// Fills `out` with samples, consuming `rng` in element order. Uniform samples are in
// [low, high) as floats (a value that rounds onto `high` is moved just below it).
void fill(const Distribution& dist, Pcg32& rng, std::span<float> out);

}  // namespace onnx_mini::init
