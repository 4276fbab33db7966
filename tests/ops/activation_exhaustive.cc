// Every unary activation's float kernel on all 2^32 float inputs, each result
// judged against the reference formula of tests/testutil/
// activation_reference.h: faithfully rounded or not, correctly rounded or
// not, and the worst ULP error with its input. The formula is evaluated in
// double first and in long double wherever double leaves the verdict in doubt
// (judge_fast), which makes a run several times faster than long double
// alone. Not a CTest case: tens of minutes for all activations on two cores.
//
//   build/tests/ops/activation_exhaustive [--threads N] [--every K] [--worst FILE] [LABEL...]
//
// LABELs as in the reference ("Sigmoid", "Gelu(tanh)", ...; default: all).
// --every K checks only the bit patterns j * K (mod 2^32), j < 2^32 / K: a
// sample spread over every exponent and sign (tests/ops/CMakeLists.txt runs
// K = 4099 in CI, then the mpmath check); the claim is the full run (K = 1).
// --worst FILE appends the 16 largest errors of each activation as
// "label x_bits y_bits ulp" lines, which tests/ops/check_reference_mpmath.py
// recomputes independently with mpmath. Exit status 1 if any result is not
// faithfully rounded or the fast path ever disagreed with long double.
#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/testutil/accuracy.h"
#include "tests/testutil/activation_reference.h"

namespace onnx_mini::testing {
namespace {

constexpr int kChunkBits = 22;  // 4M inputs per kernel call
constexpr size_t kWorstKept = 16;

struct Point {
  uint32_t x_bits = 0, y_bits = 0;
  double ulp = 0;
};

struct Tally {
  uint64_t inputs = 0, not_faithful = 0, not_nearest = 0;
  uint64_t long_double_checks = 0, disagreements = 0;  // see judge_fast
  std::vector<Point> worst;       // the kWorstKept largest errors, largest first
  std::vector<Point> unfaithful;  // the first few, for the report
  std::string error;              // a kernel that failed to run

  void keep(const Point& p) {
    if (worst.size() == kWorstKept && p.ulp <= worst.back().ulp) return;
    worst.insert(std::upper_bound(worst.begin(), worst.end(), p, [](const Point& a, const Point& b) { return a.ulp > b.ulp; }),
                 p);
    if (worst.size() > kWorstKept) worst.pop_back();
  }
  void merge(const Tally& o) {
    inputs += o.inputs;
    long_double_checks += o.long_double_checks;
    disagreements += o.disagreements;
    not_faithful += o.not_faithful;
    not_nearest += o.not_nearest;
    for (const Point& p : o.worst) keep(p);
    for (const Point& p : o.unfaithful) {
      if (unfaithful.size() < 8) unfaithful.push_back(p);
    }
    if (error.empty()) error = o.error;
  }
};

// ulp_error's measure in double arithmetic, from the bits (the run spends
// most of its time per input here, so no frexp / ldexp calls): the float
// spacing at r's binade, 2^-149 at least, right to ~2^-29 ULP.
double cheap_ulp_error(float got, double r) {
  if (!std::isfinite(r) || !std::isfinite(got)) return ulp_error<float>(got, r);
  const int binade = static_cast<int>((std::bit_cast<uint64_t>(r) >> 52) & 0x7ff) - 1023;  // -1023: 0 or subnormal
  const int spacing_exponent = std::max(binade, -126) - 23;
  const double inverse_spacing = std::bit_cast<double>(static_cast<uint64_t>(1023 - spacing_exponent) << 52);
  return std::abs(static_cast<double>(got) - r) * inverse_spacing;
}

// The float next to a finite f, up or down (nextafter without the call).
float next_float(float f, bool up) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  if ((bits & 0x7fffffff) == 0) return up ? std::numeric_limits<float>::denorm_min() : -std::numeric_limits<float>::denorm_min();
  const bool away_from_zero = up != (bits >> 31 != 0);
  return std::bit_cast<float>(away_from_zero ? bits + 1 : bits - 1);
}

// The fast path: the formula in double, `r`, is within kFastRelError * |exact|
// + kFastAbsError of the exact value (the formulas have no cancellation; glibc's
// double exp, expm1, log1p, tanh and erfc are within a few 2^-53, and the worst
// amplification, erfc's 2 z^2 at z = 14, costs 2^-44.4; anything smaller than
// 2^-900 underflows the float result anyway). When that interval leaves no
// doubt about the nearest float and, for a result that is not it, about the
// side, the verdict needs no long double. Otherwise kUncertain, and the long
// double reference decides (about 1 input in 2^15, plus exact-valued results).
constexpr double kFastRelError = 0x1p-40, kFastAbsError = 0x1p-900;
// One in kAuditEvery fast verdicts is recomputed in long double; a
// disagreement would mean the bound above is wrong (the run reports them).
constexpr int64_t kAuditEvery = 61;
enum class Verdict { kUncertain, kNearest, kFaithful, kUnfaithful };

Verdict judge_fast(float y, double r) {
  if (!std::isfinite(r)) return Verdict::kUncertain;
  const float f = static_cast<float>(r);
  if (!std::isfinite(f) || std::abs(f) == std::numeric_limits<float>::max()) return Verdict::kUncertain;
  const double err = kFastRelError * std::abs(r) + kFastAbsError;
  const float below = next_float(f, false), above = next_float(f, true);
  const double mid_below = (static_cast<double>(f) + below) / 2, mid_above = (static_cast<double>(f) + above) / 2;
  if (!(r - err > mid_below && r + err < mid_above)) return Verdict::kUncertain;
  if (y == f) return Verdict::kNearest;
  if (std::abs(r - f) <= err) return Verdict::kUncertain;
  return y == (r > f ? above : below) ? Verdict::kFaithful : Verdict::kUnfaithful;
}

// Inputs j * every (mod 2^32) for j in [first, first + n).
Tally check_chunk(const ActivationCase& c, uint64_t first, int64_t n, uint32_t every) {
  Tally t;
  Tensor x = Tensor::allocate(DataType::kFloat, {n});
  for (int64_t i = 0; i < n; ++i) {
    x.data<float>()[i] = std::bit_cast<float>(static_cast<uint32_t>((first + static_cast<uint64_t>(i)) * every));
  }
  auto out = run_activation(c, x);
  if (!out.is_ok()) {
    t.error = out.status().message();
    return t;
  }
  const float* y = (*out)[0].data<float>();
  for (int64_t i = 0; i < n; ++i) {
    const float xi = x.data<float>()[i];
    ++t.inputs;
    const double r = c.ref.in_double(static_cast<double>(xi));
    Verdict v = judge_fast(y[i], r);
    double ulp = cheap_ulp_error(y[i], r);
    const bool audit = i % kAuditEvery == 0 && v != Verdict::kUncertain;
    if (v == Verdict::kUncertain || v == Verdict::kUnfaithful || audit) {
      // The long double reference decides; an unfaithful verdict is confirmed
      // there too, so the counts never rest on the double formula alone.
      ++t.long_double_checks;
      const long double ref = c.ref(static_cast<long double>(xi));
      const Verdict fast = v;
      v = correctly_rounded(y[i], ref) ? Verdict::kNearest
          : faithfully_rounded(y[i], ref) ? Verdict::kFaithful
                                          : Verdict::kUnfaithful;
      if (fast != Verdict::kUncertain && v != fast) ++t.disagreements;
      ulp = ulp_error<float>(y[i], ref);
    }
    const Point p{std::bit_cast<uint32_t>(xi), std::bit_cast<uint32_t>(y[i]), ulp};
    if (v != Verdict::kNearest) ++t.not_nearest;
    if (v == Verdict::kUnfaithful) {
      ++t.not_faithful;
      if (t.unfaithful.size() < 8) t.unfaithful.push_back(p);
    }
    t.keep(p);
  }
  // The kept points' errors from the long double reference.
  for (Point& p : t.worst) {
    p.ulp = ulp_error<float>(std::bit_cast<float>(p.y_bits), c.ref(static_cast<long double>(std::bit_cast<float>(p.x_bits))));
  }
  std::sort(t.worst.begin(), t.worst.end(), [](const Point& a, const Point& b) { return a.ulp > b.ulp; });
  return t;
}

// Every float when `every` is 1; the bit patterns j * every otherwise. Chunks
// of 2^22 inputs go to the threads in turn.
Tally check_all_floats(const ActivationCase& c, int threads, uint32_t every) {
  const uint64_t inputs = ((uint64_t{1} << 32) + every - 1) / every;
  const uint64_t chunk_size = uint64_t{1} << kChunkBits;
  const uint64_t chunks = (inputs + chunk_size - 1) / chunk_size;
  std::atomic<uint64_t> next{0};
  std::mutex mu;
  Tally total;
  std::vector<std::thread> pool;
  for (int k = 0; k < threads; ++k) {
    pool.emplace_back([&] {
      for (uint64_t chunk = next++; chunk < chunks; chunk = next++) {
        const uint64_t first = chunk * chunk_size;
        Tally t = check_chunk(c, first, static_cast<int64_t>(std::min(chunk_size, inputs - first)), every);
        std::lock_guard<std::mutex> lock(mu);
        total.merge(t);
      }
    });
  }
  for (std::thread& th : pool) th.join();
  return total;
}

std::string describe(uint32_t bits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g (0x%08x)", static_cast<double>(std::bit_cast<float>(bits)), bits);
  return buf;
}

int run(int argc, char** argv) {
  int threads = 2;
  uint32_t every = 1;
  std::string worst_file;
  std::vector<std::string> wanted;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
      threads = std::max(1, std::atoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--every") && i + 1 < argc) {
      every = static_cast<uint32_t>(std::max(1, std::atoi(argv[++i])));
    } else if (!std::strcmp(argv[i], "--worst") && i + 1 < argc) {
      worst_file = argv[++i];
    } else if (argv[i][0] == '-') {
      std::fprintf(stderr, "usage: %s [--threads N] [--every K] [--worst FILE] [LABEL...]\n", argv[0]);
      return 2;
    } else {
      wanted.push_back(argv[i]);
    }
  }
  bool all_faithful = true;
  for (const ActivationCase& c : activation_cases()) {
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), c.label) == wanted.end()) continue;
    const auto start = std::chrono::steady_clock::now();
    const Tally t = check_all_floats(c, threads, every);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!t.error.empty()) {
      std::printf("%-16s kernel failed: %s\n", c.label.c_str(), t.error.c_str());
      all_faithful = false;
      continue;
    }
    const Point top = t.worst.empty() ? Point{} : t.worst.front();
    std::printf("%-16s %llu inputs: worst %.8f ULP at x = %s, %llu not faithfully rounded, %llu not correctly rounded "
                "(%.0f s; %llu long double checks, %llu disagreements with the double fast path)\n",
                c.label.c_str(), static_cast<unsigned long long>(t.inputs), top.ulp, describe(top.x_bits).c_str(),
                static_cast<unsigned long long>(t.not_faithful), static_cast<unsigned long long>(t.not_nearest), seconds,
                static_cast<unsigned long long>(t.long_double_checks), static_cast<unsigned long long>(t.disagreements));
    for (const Point& p : t.unfaithful) {
      std::printf("    not faithful: x = %s -> 0x%08x (%.3f ULP)\n", describe(p.x_bits).c_str(), p.y_bits, p.ulp);
    }
    std::fflush(stdout);
    all_faithful = all_faithful && t.not_faithful == 0 && t.disagreements == 0;
    if (!worst_file.empty()) {
      FILE* f = std::fopen(worst_file.c_str(), "a");
      if (!f) {
        std::perror(worst_file.c_str());
        return 2;
      }
      for (const Point& p : t.worst) std::fprintf(f, "%s 0x%08x 0x%08x %.9f\n", c.label.c_str(), p.x_bits, p.y_bits, p.ulp);
      if (std::fclose(f) != 0) {
        std::perror(worst_file.c_str());
        return 2;
      }
    }
  }
  return all_faithful ? 0 : 1;
}

}  // namespace
}  // namespace onnx_mini::testing

int main(int argc, char** argv) { return onnx_mini::testing::run(argc, argv); }
