// Every unary activation's float kernel on all 2^32 float inputs, each result
// checked against the long-double reference of tests/testutil/
// activation_reference.h: faithfully rounded or not, correctly rounded or
// not, and the worst ULP error with its input. Not a CTest case: about an hour
// for all activations on two cores (the reference's x87 libm calls dominate).
//
//   build/tests/ops/activation_exhaustive [--threads N] [--worst FILE] [LABEL...]
//
// LABELs as in the reference ("Sigmoid", "Gelu(tanh)", ...; default: all).
// --worst FILE appends the 16 largest errors of each activation as
// "label x_bits y_bits ulp" lines, which tests/ops/check_reference_mpmath.py
// recomputes independently with mpmath. Exit status 1 if any result is not
// faithfully rounded.
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
    not_faithful += o.not_faithful;
    not_nearest += o.not_nearest;
    for (const Point& p : o.worst) keep(p);
    for (const Point& p : o.unfaithful) {
      if (unfaithful.size() < 8) unfaithful.push_back(p);
    }
    if (error.empty()) error = o.error;
  }
};

Tally check_chunk(const ActivationCase& c, uint32_t first) {
  Tally t;
  const int64_t n = int64_t{1} << kChunkBits;
  Tensor x = Tensor::allocate(DataType::kFloat, {n});
  for (int64_t i = 0; i < n; ++i) x.data<float>()[i] = std::bit_cast<float>(static_cast<uint32_t>(first + i));
  auto out = run_activation(c, x);
  if (!out.is_ok()) {
    t.error = out.status().message();
    return t;
  }
  const float* y = (*out)[0].data<float>();
  for (int64_t i = 0; i < n; ++i) {
    const float xi = x.data<float>()[i];
    const long double ref = c.ref(static_cast<long double>(xi));
    const Point p{std::bit_cast<uint32_t>(xi), std::bit_cast<uint32_t>(y[i]), ulp_error<float>(y[i], ref)};
    ++t.inputs;
    if (!faithfully_rounded(y[i], ref)) {
      ++t.not_faithful;
      if (t.unfaithful.size() < 8) t.unfaithful.push_back(p);
    }
    t.not_nearest += !correctly_rounded(y[i], ref);
    t.keep(p);
  }
  return t;
}

Tally check_all_floats(const ActivationCase& c, int threads) {
  const uint32_t chunks = uint32_t{1} << (32 - kChunkBits);
  std::atomic<uint32_t> next{0};
  std::mutex mu;
  Tally total;
  std::vector<std::thread> pool;
  for (int k = 0; k < threads; ++k) {
    pool.emplace_back([&] {
      for (uint32_t chunk = next++; chunk < chunks; chunk = next++) {
        Tally t = check_chunk(c, chunk << kChunkBits);
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
  std::string worst_file;
  std::vector<std::string> wanted;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
      threads = std::max(1, std::atoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--worst") && i + 1 < argc) {
      worst_file = argv[++i];
    } else if (argv[i][0] == '-') {
      std::fprintf(stderr, "usage: %s [--threads N] [--worst FILE] [LABEL...]\n", argv[0]);
      return 2;
    } else {
      wanted.push_back(argv[i]);
    }
  }
  bool all_faithful = true;
  for (const ActivationCase& c : activation_cases()) {
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), c.label) == wanted.end()) continue;
    const auto start = std::chrono::steady_clock::now();
    const Tally t = check_all_floats(c, threads);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!t.error.empty()) {
      std::printf("%-16s kernel failed: %s\n", c.label.c_str(), t.error.c_str());
      all_faithful = false;
      continue;
    }
    const Point top = t.worst.empty() ? Point{} : t.worst.front();
    std::printf("%-16s %llu inputs: worst %.8f ULP at x = %s, %llu not faithfully rounded, %llu not correctly rounded (%.0f s)\n",
                c.label.c_str(), static_cast<unsigned long long>(t.inputs), top.ulp, describe(top.x_bits).c_str(),
                static_cast<unsigned long long>(t.not_faithful), static_cast<unsigned long long>(t.not_nearest), seconds);
    for (const Point& p : t.unfaithful) {
      std::printf("    not faithful: x = %s -> 0x%08x (%.3f ULP)\n", describe(p.x_bits).c_str(), p.y_bits, p.ulp);
    }
    std::fflush(stdout);
    all_faithful = all_faithful && t.not_faithful == 0;
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
