// The random source of onnx-init: PCG32 (O'Neill, "PCG: A Family of Simple Fast
// Space-Efficient Statistically Good Algorithms", variant XSH-RR 64/32) plus our own
// conversions to uniform and normal doubles.
//
// Why not <random>: std::normal_distribution (and even uniform_real_distribution)
// are implementation-defined, so the same seed gives different weights with
// libstdc++, libc++ and MSVC. "Same --seed, byte-identical file" must hold on every
// platform, so every step here is integer arithmetic or IEEE-754 +,-,*,/,sqrt
// (correctly rounded everywhere). The normal sampler needs a logarithm; libm's log
// is not guaranteed correctly rounded and differs between C libraries, so
// deterministic_log() below computes it with basic operations only. The library is
// compiled with -ffp-contract=off so no compiler fuses a*b+c into an FMA. (A target
// that evaluates doubles in extended precision, like 32-bit x87, would still differ.)
#pragma once

#include <cstdint>

namespace onnx_mini::init {

class Pcg32 {
 public:
  // `stream` selects one of 2^63 independent sequences; onnx-init uses the default.
  explicit Pcg32(uint64_t seed, uint64_t stream = 0x5851f42d4c957f2dULL);

  uint32_t next_u32();
  // Uniform on [0, 1) with 53 random bits (two draws).
  double uniform01();
  // Standard normal N(0, 1) by Marsaglia's polar method; produces values in pairs
  // and returns the cached second one on the next call.
  double standard_normal();

 private:
  uint64_t state_ = 0;
  uint64_t increment_ = 0;
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

// Natural logarithm of x > 0 with only +,-,*,/ and exact exponent extraction:
// x = m * 2^e with m in [sqrt(1/2), sqrt(2)), log(m) = 2*atanh((m-1)/(m+1)) by its
// odd power series. Accurate to a few ulp, identical on every IEEE-754 platform.
double deterministic_log(double x);

}  // namespace onnx_mini::init
