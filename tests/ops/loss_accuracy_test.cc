// Accuracy of the loss kernels on the edge-case grid (±1e-30, ±1, ±20, ±100,
// ±1e4, ±FLT_MAX, ±Inf, NaN, denormals, ... from sweep_grid) and seeded random
// rows, against a long-double reference (tests/testutil/loss_reference.h):
// every ordered pair of edge values as a 2-class row (each label), plus random
// rows of 5 and 37 classes; reductions none / sum / mean, with and without
// class weights, as [N, C] and as [N, C, 1] (the two code paths). Every float
// output must be faithfully rounded, with no NaN or Inf where the exact
// (correctly rounded) result is finite; the dense sweep over millions of rows
// is loss_sweep_test.cc.
//
// Bound: 0.5 + 2^-16 ULP. Both kernels form each term in double (NLL's w * x
// exactly, SoftmaxCrossEntropyLoss's with exps within 2^-45, see ops/loss.cc),
// sum the terms with Neumaier's compensation and round once to float. The
// test prints the measured worst case.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/testutil/accuracy.h"
#include "tests/testutil/kernel_runner.h"
#include "tests/testutil/loss_reference.h"

namespace onnx_mini::testing {
namespace {

using LD = long double;

// Rows of the sweep, C classes each, with their labels.
struct Rows {
  int64_t classes = 0;
  std::vector<float> x;
  std::vector<int64_t> labels;
  int64_t count() const { return static_cast<int64_t>(labels.size()); }
};

Rows edge_pair_rows() {
  std::vector<float> grid = sweep_grid<float>();
  std::vector<float> edges(grid.begin(), grid.begin() + 57);  // the edge values and NaN, before the random ones
  Rows r;
  r.classes = 2;
  for (float a : edges) {
    for (float b : edges) {
      for (int64_t label : {0, 1}) {
        r.x.push_back(a);
        r.x.push_back(b);
        r.labels.push_back(label);
      }
    }
  }
  return r;
}

// The grid's random values in rows of `classes`; labels cycle through the classes.
Rows random_rows(int64_t classes) {
  std::vector<float> grid = sweep_grid<float>();
  Rows r;
  r.classes = classes;
  const auto c = static_cast<size_t>(classes);
  for (size_t i = 57, row = 0; i + c <= grid.size(); i += c, ++row) {
    r.x.insert(r.x.end(), grid.begin() + static_cast<std::ptrdiff_t>(i), grid.begin() + static_cast<std::ptrdiff_t>(i + c));
    r.labels.push_back(static_cast<int64_t>(row % c));
  }
  return r;
}

struct Worst {
  double ulp = 0;
  std::string where;
};

// Runs `op` over rows [first, first + n) and checks the output against the reference.
// kdim: the same rows as [n, C, 1] with labels [n, 1] (same memory), which
// takes the kernels' general [N, C, d1..dk] path instead of the 2-D one.
void check_group(const std::string& op, const Rows& rows, int64_t first, int64_t n, const char* reduction,
                 const std::vector<float>* weights, bool kdim, Worst& worst) {
  const int64_t c = rows.classes;
  Tensor x = make_tensor<float>(kdim ? Shape{n, c, 1} : Shape{n, c},
                                std::vector<float>(rows.x.begin() + first * c, rows.x.begin() + (first + n) * c));
  Tensor labels = make_tensor<int64_t>(
      kdim ? Shape{n, 1} : Shape{n}, std::vector<int64_t>(rows.labels.begin() + first, rows.labels.begin() + first + n));
  Tensor w = weights ? make_tensor<float>({c}, *weights) : Tensor{};
  Attributes a;
  a.set("reduction", string_attr(reduction));
  auto out = run_kernel(op, 13, a, {&x, &labels, weights ? &w : nullptr});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  const bool nll = op == "NegativeLogLikelihoodLoss";
  auto ref_of = nll ? ref_nll : ref_softmax_ce;
  std::vector<LD> per(static_cast<size_t>(n));
  // NLL's terms w * x are exact doubles and may cancel: summed exactly.
  // SoftmaxCrossEntropyLoss's are >= 0 (positive weights): no cancellation.
  std::vector<double> exact_terms;
  LD total = 0, wsum = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t l = labels.data<int64_t>()[i];
    const LD wi = weights ? static_cast<LD>((*weights)[static_cast<size_t>(l)]) : 1;
    per[static_cast<size_t>(i)] = ref_of(x.data<float>() + i * c, c, l) * wi;
    exact_terms.push_back(static_cast<double>(per[static_cast<size_t>(i)]));
    total += per[static_cast<size_t>(i)];
    wsum += wi;
  }
  if (nll) total = exact_sum(exact_terms);
  const std::string red = reduction;
  std::vector<LD> want = red == "none" ? per : std::vector<LD>{red == "sum" ? total : total / wsum};
  const Tensor& got = (*out)[0];
  ASSERT_EQ(got.num_elements(), static_cast<int64_t>(want.size()));
  for (size_t i = 0; i < want.size(); ++i) {
    const float g = got.data<float>()[i];
    const double e = ulp_error<float>(g, want[i]);
    std::string where = "rows [" + std::to_string(first) + ", " + std::to_string(first + n) + ") out " + std::to_string(i) +
                        " x = [";
    for (int64_t k = 0; k < c; ++k) where += (k ? ", " : "") + std::to_string(x.data<float>()[(red == "none" ? i : 0) * c + k]);
    where += "]";
    ASSERT_FALSE(std::isinf(e)) << op << " " << red << ": got " << g << ", exact " << static_cast<double>(want[i]) << " at "
                                << where;
    ASSERT_TRUE(faithfully_rounded(g, want[i])) << op << " " << red << ": got " << g << ", exact "
                                                << static_cast<double>(want[i]) << " at " << where;
    if (e > worst.ulp) worst = {e, where};
  }
}

std::vector<float> class_weights(int64_t classes) {
  std::vector<float> w;
  for (int64_t c = 0; c < classes; ++c) w.push_back(std::vector<float>{0.25f, 3.0f, 1.0f, 0.5f, 7.0f}[c % 5]);
  return w;
}

void sweep(const std::string& op) {
  // 2 classes: every edge pair. 5: the vector exp's tail only; 37: two blocks of 16 and a tail.
  const std::vector<Rows> sets = {edge_pair_rows(), random_rows(5), random_rows(37)};
  for (const char* reduction : {"none", "sum", "mean"}) {
    Worst worst;
    for (const Rows& rows : sets) {
      const std::vector<float> weights = class_weights(rows.classes);
      // Reductions over small groups, so one Inf or NaN row does not hide the others.
      const int64_t group = std::string(reduction) == "none" ? 64 : rows.classes == 2 ? 2 : 8;
      for (bool weighted : {false, true}) {
        for (bool kdim : {false, true}) {
          for (int64_t i = 0; i < rows.count(); i += group) {
            check_group(op, rows, i, std::min(group, rows.count() - i), reduction, weighted ? &weights : nullptr, kdim,
                        worst);
          }
        }
      }
    }
    std::printf("[ accuracy ] %-26s %-4s float worst %.8f ULP at %s\n", op.c_str(), reduction, worst.ulp,
                worst.where.c_str());
    // Terms and sums in double, one rounding to float (see the header).
    EXPECT_LE(worst.ulp, 0.5 + 1.0 / 65536) << op << " " << reduction << " worst at " << worst.where;
  }
}

TEST(LossAccuracy, SoftmaxCrossEntropyWithinStatedUlp) { sweep("SoftmaxCrossEntropyLoss"); }

// Four one-class rows whose terms 1e30, 1, -1e30, 2.5 sum to 3.5: a double,
// pairwise or Kahan sum gives 2.5 (the 1 is lost next to 1e30).
TEST(LossAccuracy, NegativeLogLikelihoodSumKeepsTermsThatCancel) {
  Tensor x = make_tensor<float>({4, 1}, {-1e30f, -1.0f, 1e30f, -2.5f});
  Tensor labels = make_tensor<int64_t>({4}, {0, 0, 0, 0});
  for (const auto& [reduction, want] : {std::pair{"sum", 3.5f}, std::pair{"mean", 0.875f}}) {
    Attributes a;
    a.set("reduction", string_attr(reduction));
    auto out = run_kernel("NegativeLogLikelihoodLoss", 13, a, {&x, &labels});
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    EXPECT_EQ((*out)[0].data<float>()[0], want) << reduction;
  }
}

// The row where an independent sweep measured 1.52 ULP on the [N, C] path
// (float exps summed, each ~2 ULP of itself): the correct class leads by
// 65.78, so the loss is log1p(15 e^-65.78) ~ 4e-28 and every term's error
// shows. The same row through LogSoftmax -> NLL (what the fusion replaces)
// must be as good: the fused kernel once did worse (1.05 vs 0.5 ULP).
TEST(LossAccuracy, ConfidentRowFusedAndUnfusedFaithful) {
  std::vector<float> row(16, -723.5246f);
  row[0] = -657.74f;
  const long double want = ref_softmax_ce(row.data(), 16, 0);
  Tensor x = make_tensor<float>({1, 16}, row);
  Tensor labels = make_tensor<int64_t>({1}, {0});
  Attributes none;
  none.set("reduction", string_attr("none"));
  auto fused = run_kernel("SoftmaxCrossEntropyLoss", 13, none, {&x, &labels});
  ASSERT_TRUE(fused.is_ok()) << fused.status().message();
  auto log_prob = run_kernel("LogSoftmax", 13, Attributes{}, {&x});
  ASSERT_TRUE(log_prob.is_ok()) << log_prob.status().message();
  auto unfused = run_kernel("NegativeLogLikelihoodLoss", 13, none, {&(*log_prob)[0], &labels});
  ASSERT_TRUE(unfused.is_ok()) << unfused.status().message();
  for (const auto& [name, got] : {std::pair{"fused", (*fused)[0].data<float>()[0]},
                                  std::pair{"unfused", (*unfused)[0].data<float>()[0]}}) {
    EXPECT_TRUE(faithfully_rounded(got, want)) << name << ": " << got << " vs " << static_cast<double>(want) << " ("
                                               << ulp_error<float>(got, want) << " ULP)";
  }
}

TEST(LossAccuracy, NegativeLogLikelihoodWithinStatedUlp) { sweep("NegativeLogLikelihoodLoss"); }

}  // namespace
}  // namespace onnx_mini::testing
