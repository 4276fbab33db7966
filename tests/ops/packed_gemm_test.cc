// The packed GEMM (ops/packed_gemm.*): products against a double-precision
// reference across every
// tiling boundary (tile rows 12, panel columns 32 and the 16-column narrow
// panel, depth chunks of 256, row chunks of 256), the epilogue seeing each output
// element exactly once with the right coordinates, and results independent of
// the thread count, bit for bit.
#include <time.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "ops/packed_gemm.h"
#include "ops/parallel.h"

namespace onnx_mini {
namespace {

std::vector<float> random_vector(int64_t n, uint32_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (float& x : v) x = dist(gen);
  return v;
}

class PackedGemm : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PackedWeights::supported()) GTEST_SKIP() << "this CPU has no AVX-512F: the packed kernel never runs here";
  }
};

struct Shape3 {
  int64_t m, k, n;
};

// y = alpha * x [m, k] * op(w), w [n, k] when trans_b else [k, n], ld = k + pad.
std::vector<float> run_packed(const Shape3& s, bool trans_b, float alpha, int64_t pad, const TileEpilogue* epi,
                              std::vector<float>* x_out = nullptr, std::vector<float>* w_out = nullptr,
                              ThreadPool* pool = nullptr) {
  const int64_t lda = s.k + pad, ldb = (trans_b ? s.k : s.n) + pad, ldy = s.n + pad;
  std::vector<float> x = random_vector(s.m * lda, 1);
  std::vector<float> w = random_vector((trans_b ? s.n : s.k) * ldb, 2);
  const PackedWeights pw = PackedWeights::pack(w.data(), s.k, s.n, ldb, trans_b);
  std::vector<float> y(static_cast<size_t>(s.m * ldy), -7.0f);
  pw.multiply(s.m, x.data(), lda, alpha, y.data(), ldy, epi, pool);
  if (x_out) *x_out = x;
  if (w_out) *w_out = w;
  return y;
}

TEST_F(PackedGemm, MatchesDoubleReferenceAcrossTilingBoundaries) {
  const std::vector<Shape3> shapes = {
      {1, 1, 1},    {1, 784, 512}, {2, 3, 5},     {11, 17, 31},  {12, 256, 32}, {13, 257, 33},
      {25, 255, 16}, {24, 512, 17}, {7, 784, 10}, {257, 300, 64}, {300, 40, 100}, {16, 784, 512},
      // Rows of A beyond L2 (256 x 600 floats > 512 KiB): tasks of several panels,
      // the last group short (10 panels of which the last is narrow).
      {260, 600, 300},
  };
  for (const Shape3& s : shapes) {
    for (bool trans_b : {false, true}) {
      for (int64_t pad : {0, 3}) {
        const float alpha = pad ? 0.5f : 1.0f;
        SCOPED_TRACE("m=" + std::to_string(s.m) + " k=" + std::to_string(s.k) + " n=" + std::to_string(s.n) +
                     " trans_b=" + std::to_string(trans_b) + " pad=" + std::to_string(pad));
        std::vector<float> x, w;
        const std::vector<float> y = run_packed(s, trans_b, alpha, pad, nullptr, &x, &w);
        const int64_t lda = s.k + pad, ldb = (trans_b ? s.k : s.n) + pad, ldy = s.n + pad;
        for (int64_t i = 0; i < s.m; ++i) {
          for (int64_t j = 0; j < s.n; ++j) {
            double acc = 0, mag = 0;
            for (int64_t p = 0; p < s.k; ++p) {
              const double prod = double(x[i * lda + p]) * (trans_b ? w[j * ldb + p] : w[p * ldb + j]);
              acc += prod;
              mag += std::fabs(prod);
            }
            // float32 accumulation of k products: each add rounds by at most
            // 2^-24 of the running magnitude, bounded by sum |products|; k * 2^-24
            // * sum|products| is the classic worst case, far above what happens.
            const double tol = static_cast<double>(s.k) * 0x1p-24 * mag + 1e-30;
            ASSERT_NEAR(y[i * ldy + j], alpha * acc, std::fabs(alpha) * tol) << "at " << i << "," << j;
          }
          // Padding columns of y are never written.
          for (int64_t j = s.n; j < ldy; ++j) ASSERT_EQ(y[i * ldy + j], -7.0f);
        }
      }
    }
  }
}

// Counts the calls per element and checks the coordinates it is told.
class CoverageEpilogue final : public TileEpilogue {
 public:
  CoverageEpilogue(int64_t m, int64_t n, const float* y_base, int64_t ldy)
      : m_(m), n_(n), base_(y_base), ldy_(ldy), hits_(static_cast<size_t>(m * n)) {}
  void apply(float* y, int64_t ldy, int64_t rows, int64_t cols, int64_t row0, int64_t col0) const override {
    if (ldy != ldy_ || y != base_ + row0 * ldy + col0 || row0 + rows > m_ || col0 + cols > n_) bad_.store(true);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) hits_[static_cast<size_t>((row0 + r) * n_ + col0 + c)].fetch_add(1);
    }
  }
  bool bad() const { return bad_.load(); }
  int hits(int64_t i) const { return hits_[static_cast<size_t>(i)].load(); }

 private:
  int64_t m_, n_;
  const float* base_;
  int64_t ldy_;
  mutable std::vector<std::atomic<int>> hits_;
  mutable std::atomic<bool> bad_{false};
};

TEST_F(PackedGemm, EpilogueSeesEveryElementOnceAtItsCoordinates) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (const Shape3& s : {Shape3{1, 5, 10}, Shape3{13, 300, 70}, Shape3{260, 20, 33}}) {
      SCOPED_TRACE("threads=" + std::to_string(threads) + " m=" + std::to_string(s.m));
      const int64_t ldy = s.n + 1;
      std::vector<float> x = random_vector(s.m * s.k, 3), w = random_vector(s.n * s.k, 4);
      const PackedWeights pw = PackedWeights::pack(w.data(), s.k, s.n, s.k, true);
      std::vector<float> y(static_cast<size_t>(s.m * ldy));
      CoverageEpilogue epi(s.m, s.n, y.data(), ldy);
      pw.multiply(s.m, x.data(), s.k, 1.0f, y.data(), ldy, &epi, &pool);
      EXPECT_FALSE(epi.bad());
      for (int64_t i = 0; i < s.m * s.n; ++i) ASSERT_EQ(epi.hits(i), 1) << "element " << i;
    }
  }
}

// The epilogue runs after the last depth chunk: it sees final sums, not partial
// ones (k = 600 is three chunks).
class SquareEpilogue final : public TileEpilogue {
 public:
  void apply(float* y, int64_t ldy, int64_t rows, int64_t cols, int64_t, int64_t) const override {
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) y[r * ldy + c] = y[r * ldy + c] * y[r * ldy + c];
    }
  }
};

TEST_F(PackedGemm, EpilogueSeesFinalSums) {
  const Shape3 s{20, 600, 40};
  const std::vector<float> plain = run_packed(s, true, 1.0f, 0, nullptr);
  SquareEpilogue square;
  const std::vector<float> squared = run_packed(s, true, 1.0f, 0, &square);
  for (size_t i = 0; i < plain.size(); ++i) ASSERT_EQ(squared[i], plain[i] * plain[i]) << "at " << i;
}

// Bias + ReLU through TileEpilogue::apply, the scalar way FusedGemm's fallback does it.
class ScalarBiasRelu final : public TileEpilogue {
 public:
  ScalarBiasRelu(const float* bias, bool relu, bool offer_registers)
      : bias_(bias), relu_(relu), offer_(offer_registers) {}
  void apply(float* y, int64_t ldy, int64_t rows, int64_t cols, int64_t, int64_t col0) const override {
    calls_.fetch_add(1);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) {
        float v = y[r * ldy + c] + (bias_ ? bias_[col0 + c] : 0.0f);
        y[r * ldy + c] = relu_ ? (v < 0.0f ? 0.0f : v) : v;
      }
    }
  }
  bool in_registers(RegisterEpilogue* form) const override {
    if (!offer_) return false;
    form->bias = bias_;
    form->relu = relu_;
    return true;
  }
  int calls() const { return calls_.load(); }

 private:
  const float* bias_;
  bool relu_, offer_;
  mutable std::atomic<int> calls_{0};
};

TEST_F(PackedGemm, RegisterEpilogueEqualsTheScalarOneBitForBit) {
  // Inputs with NaN, +-Inf and -0 so that NaN propagation and the sign of zero
  // through ReLU are compared too; k = 1 makes y = x * w exactly (-0 * 1 = -0).
  for (const Shape3& s : {Shape3{1, 1, 40}, Shape3{13, 1, 33}, Shape3{29, 300, 70}, Shape3{5, 600, 10}}) {
    for (bool with_bias : {false, true}) {
      for (bool relu : {false, true}) {
        SCOPED_TRACE("m=" + std::to_string(s.m) + " k=" + std::to_string(s.k) + " n=" + std::to_string(s.n) +
                     " bias=" + std::to_string(with_bias) + " relu=" + std::to_string(relu));
        std::vector<float> x = random_vector(s.m * s.k, 5), w = random_vector(s.n * s.k, 6);
        std::vector<float> bias = random_vector(s.n, 7);
        if (s.k == 1) {
          w.assign(w.size(), 1.0f);
          const float specials[] = {NAN, -0.0f, 0.0f, INFINITY, -INFINITY, -1.5f};
          for (size_t i = 0; i < x.size(); ++i) x[i] = specials[i % 6];
          if (with_bias) bias.assign(bias.size(), 0.0f);  // keep -0 + 0 out: that is +0 either way
        }
        const PackedWeights pw = PackedWeights::pack(w.data(), s.k, s.n, s.k, true);
        std::vector<float> y_reg(static_cast<size_t>(s.m * s.n)), y_scalar(y_reg.size());
        const ScalarBiasRelu reg(with_bias ? bias.data() : nullptr, relu, true);
        const ScalarBiasRelu scalar(with_bias ? bias.data() : nullptr, relu, false);
        pw.multiply(s.m, x.data(), s.k, 1.0f, y_reg.data(), s.n, &reg, nullptr);
        pw.multiply(s.m, x.data(), s.k, 1.0f, y_scalar.data(), s.n, &scalar, nullptr);
        EXPECT_EQ(reg.calls(), 0) << "apply() called although the kernel took the epilogue";
        EXPECT_GT(scalar.calls(), 0);
        ASSERT_EQ(std::memcmp(y_reg.data(), y_scalar.data(), y_reg.size() * sizeof(float)), 0);
      }
    }
  }
}

TEST_F(PackedGemm, ThreadCountDoesNotChangeAnyBit) {
  // Each output element is computed by one task in one fixed order, whatever
  // thread runs it.
  // The last shape's tasks group several panels, a number that depends on the
  // thread count (ops/packed_gemm.cc): the sums must not.
  for (const Shape3& s : {Shape3{1, 784, 512}, Shape3{16, 784, 512}, Shape3{300, 257, 100}, Shape3{300, 700, 300}}) {
    const std::vector<float> one = run_packed(s, true, 1.0f, 0, nullptr);
    for (int threads : {2, 3, 4}) {
      ThreadPool pool(threads);
      EXPECT_EQ(run_packed(s, true, 1.0f, 0, nullptr, nullptr, nullptr, &pool), one)
          << "threads=" << threads << " m=" << s.m;
    }
  }
}

// Packing only moves values: unpacking gives the source back bit for bit, in
// both layouts, with padding columns (n not a multiple of 32) and row strides.
TEST_F(PackedGemm, UnpackGivesTheSourceBackBitForBit) {
  for (bool trans_b : {true, false}) {
    for (const Shape3& s : {Shape3{0, 1, 1}, Shape3{0, 7, 33}, Shape3{0, 300, 64}, Shape3{0, 5, 100}}) {
      const int64_t ldb = (trans_b ? s.k : s.n) + 3;
      std::vector<float> w = random_vector((trans_b ? s.n : s.k) * ldb, 9);
      const PackedWeights pw = PackedWeights::pack(w.data(), s.k, s.n, ldb, trans_b);
      std::vector<float> back(w.size(), 0.0f);
      pw.unpack(back.data(), ldb, trans_b);
      for (int64_t r = 0; r < (trans_b ? s.n : s.k); ++r) {
        const int64_t cols = trans_b ? s.k : s.n;
        ASSERT_EQ(std::memcmp(back.data() + r * ldb, w.data() + r * ldb, static_cast<size_t>(cols) * sizeof(float)), 0)
            << "trans_b=" << trans_b << " k=" << s.k << " n=" << s.n << " row " << r;
      }
    }
  }
}

// pack() reads B front to back and reports each prefix it is done with: after
// a report, overwriting that prefix must not change the packed result (the
// session drops those pages while the rest is packed).
TEST_F(PackedGemm, ConsumedPrefixesAreNeverReadAgain) {
  for (bool trans_b : {true, false}) {
    for (const Shape3& s : {Shape3{0, 70, 100}, Shape3{0, 300, 64}, Shape3{0, 129, 33}}) {
      const std::vector<float> w = random_vector(s.k * s.n, 11);
      const PackedWeights clean = PackedWeights::pack(w.data(), s.k, s.n, trans_b ? s.k : s.n, trans_b);
      std::vector<float> scratch = w;
      const float* last = scratch.data();
      const PackedWeights poisoned = PackedWeights::pack(
          scratch.data(), s.k, s.n, trans_b ? s.k : s.n, trans_b, [&](const float* end) {
            EXPECT_GE(end, last) << "prefixes only grow";
            for (float* p = scratch.data(); p < end; ++p) *p = std::numeric_limits<float>::quiet_NaN();
            last = end;
          });
      EXPECT_EQ(last, scratch.data() + scratch.size()) << "the whole of B is reported consumed";
      std::vector<float> a(w.size()), b(w.size());
      clean.unpack(a.data(), trans_b ? s.k : s.n, trans_b);
      poisoned.unpack(b.data(), trans_b ? s.k : s.n, trans_b);
      ASSERT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << "trans_b=" << trans_b;
    }
  }
}

// One packing per (storage, layout): a weight several nodes read is packed once.
TEST(PackedWeightRequests, OneRequestPerStorageAndLayout) {
  Tensor w = Tensor::allocate(DataType::kFloat, Shape{8, 4});
  Tensor view = w;  // the same storage, as two nodes reading one initializer see it
  PackedWeightRequests requests;
  auto first = requests.request(w, true);
  auto second = requests.request(view, true);
  auto other_layout = requests.request(w, false);
  EXPECT_EQ(first, second);
  EXPECT_NE(first, other_layout);
  EXPECT_EQ(requests.requests().size(), 2u);
}

}  // namespace
}  // namespace onnx_mini
