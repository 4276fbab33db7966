// Dense sweep of SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss on float
// rows (label `sweep`): the families of tests/testutil/logit_rows.h (about 5
// million logits in 330k rows), against the long-double references of
// tests/testutil/loss_reference.h (NLL's sums exact). Checked, every output
// faithfully rounded:
// - reduction none, two labelings (each row's first maximum: the confident
//   correct prediction whose loss is log1p(rest) alone; and a label cycling
//   through the classes), through the [N, C] path and the [N, C, 1] one;
//   SoftmaxCrossEntropyLoss's log_prob output too;
// - sum and mean over groups of 16 rows, with and without class weights;
// - NLL on rows built to cancel (x, -1, -x, -2.5 for x up to 1e38: the terms
//   sum to 3.5 whatever x, where a plain double sum gives 2.5 or 0).
// Bound: 0.5 + 2^-16 ULP (terms in double within 2^-40, Neumaier sums, one
// rounding to float; see ops/loss.cc). The test prints the measured worst.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/testutil/accuracy.h"
#include "tests/testutil/kernel_runner.h"
#include "tests/testutil/logit_rows.h"
#include "tests/testutil/loss_reference.h"

namespace onnx_mini::testing {
namespace {

using LD = long double;
constexpr double kMaxUlp = 0.5 + 1.0 / 65536;
constexpr int64_t kGroup = 16;

struct Worst {
  double ulp = 0;
  std::string where;
  int64_t unfaithful = 0;

  // `what` names the output; called (it builds a string) only when needed.
  template <typename What>
  void check(float got, LD want, const What& what) {
    const double e = ulp_error<float>(got, want);
    if (!faithfully_rounded(got, want) && ++unfaithful <= 5) {
      ADD_FAILURE() << describe(what) << ": got " << got << ", exact " << static_cast<double>(want);
    }
    if (e > ulp) {
      ulp = e;
      where = describe(what);
    }
  }
  static std::string describe(const std::string& what) { return what; }
  template <typename F>
  static std::string describe(const F& what) {
    return what();
  }
};

std::vector<int64_t> labels_for(const LogitRows& rows, bool confident) {
  std::vector<int64_t> labels;
  for (int64_t r = 0; r < rows.rows(); ++r) {
    labels.push_back(confident ? argmax(rows.row(r), rows.classes) : (r * 7 + 3) % rows.classes);
  }
  return labels;
}

std::vector<float> class_weights(int64_t classes) {
  std::vector<float> w;
  for (int64_t c = 0; c < classes; ++c) w.push_back(std::vector<float>{0.25f, 3.0f, 1.0f, 0.5f, 7.0f}[c % 5]);
  return w;
}

Result<std::vector<Tensor>> run_loss(const std::string& op, const std::vector<float>& x, int64_t classes,
                                     const std::vector<int64_t>& labels, const char* reduction, bool kdim,
                                     const std::vector<float>* weights, bool want_log_prob) {
  const auto n = static_cast<int64_t>(labels.size());
  Tensor scores = make_tensor<float>(kdim ? Shape{n, classes, 1} : Shape{n, classes}, x);
  Tensor lab = make_tensor<int64_t>(kdim ? Shape{n, 1} : Shape{n}, labels);
  Tensor w = weights ? make_tensor<float>({classes}, *weights) : Tensor{};
  Attributes a;
  a.set("reduction", string_attr(reduction));
  std::vector<bool> wanted = {true};
  if (want_log_prob) wanted.push_back(true);
  return run_kernel(op, 13, a, {&scores, &lab, weights ? &w : nullptr}, wanted);
}

// Reduction none over every row, both labelings and both paths.
void check_per_row(const std::string& op, const LogitRows& rows, Worst& worst) {
  const bool sce = op == "SoftmaxCrossEntropyLoss";
  for (bool confident : {true, false}) {
    const std::vector<int64_t> labels = labels_for(rows, confident);
    for (bool kdim : {false, true}) {
      const bool log_prob = sce && !kdim && confident;
      auto out = run_loss(op, rows.x, rows.classes, labels, "none", kdim, nullptr, log_prob);
      ASSERT_TRUE(out.is_ok()) << out.status().message();
      const float* loss = (*out)[0].data<float>();
      for (int64_t r = 0; r < rows.rows(); ++r) {
        const int64_t label = labels[static_cast<size_t>(r)];
        auto what = [&] {
          return op + " " + rows.family + " C=" + std::to_string(rows.classes) + " row " + std::to_string(r) +
                 (kdim ? " [N,C,1]" : "") + " label " + std::to_string(label);
        };
        if (!sce) {
          worst.check(loss[r], ref_nll(rows.row(r), rows.classes, label), what);
          continue;
        }
        const SoftmaxCrossEntropyRow ref(rows.row(r), rows.classes);
        worst.check(loss[r], ref.loss(label), what);
        if (!log_prob) continue;
        // log_prob[c] = -loss of label c.
        const float* lp = (*out)[1].data<float>() + r * rows.classes;
        for (int64_t c = 0; c < rows.classes; ++c) {
          worst.check(lp[c], -ref.loss(c), [&] { return what() + " log_prob " + std::to_string(c); });
        }
      }
    }
  }
}

// sum (unweighted) and mean (weighted) over groups of kGroup rows.
void check_reductions(const std::string& op, const LogitRows& rows, Worst& worst) {
  const bool sce = op == "SoftmaxCrossEntropyLoss";
  const std::vector<int64_t> labels = labels_for(rows, false);
  const std::vector<float> weights = class_weights(rows.classes);
  const int64_t c = rows.classes;
  for (int64_t first = 0; first + kGroup <= rows.rows(); first += kGroup) {
    const std::vector<float> x(rows.x.begin() + first * c, rows.x.begin() + (first + kGroup) * c);
    const std::vector<int64_t> lab(labels.begin() + first, labels.begin() + first + kGroup);
    for (bool weighted : {false, true}) {
      auto out = run_loss(op, x, c, lab, weighted ? "mean" : "sum", false, weighted ? &weights : nullptr, false);
      ASSERT_TRUE(out.is_ok()) << out.status().message();
      std::vector<double> terms;  // NLL: exact doubles; summed exactly
      LD total = 0, weight_sum = 0;
      for (int64_t r = 0; r < kGroup; ++r) {
        const int64_t l = lab[static_cast<size_t>(r)];
        const LD w = weighted ? weights[static_cast<size_t>(l)] : 1.0f;
        const LD term = w * (sce ? ref_softmax_ce(x.data() + r * c, c, l) : ref_nll(x.data() + r * c, c, l));
        terms.push_back(static_cast<double>(term));
        total += term;  // SoftmaxCrossEntropyLoss: terms >= 0, no cancellation
        weight_sum += w;
      }
      if (!sce) total = exact_sum(terms);
      worst.check((*out)[0].data<float>()[0], weighted ? total / weight_sum : total,
                  op + (weighted ? " mean " : " sum ") + rows.family + " C=" + std::to_string(c) + " rows [" +
                      std::to_string(first) + ", " + std::to_string(first + kGroup) + ")");
    }
  }
}

// One class per row: rows (x, -1, -x, -2.5) sum to 3.5 for every x.
void check_cancellation(Worst& worst) {
  std::vector<float> x;
  for (int e = -30; e <= 38; ++e) {
    for (float m : {1.0f, 1.7f, 3.3f, 9.9f}) {
      const float big = m * std::pow(10.0f, static_cast<float>(e));
      if (!std::isfinite(big)) continue;
      x.insert(x.end(), {-big, -1.0f, big, -2.5f});
    }
  }
  const int64_t groups = static_cast<int64_t>(x.size()) / 4;
  for (int64_t g = 0; g < groups; ++g) {
    const std::vector<float> rows(x.begin() + g * 4, x.begin() + g * 4 + 4);
    for (const char* reduction : {"sum", "mean"}) {
      auto out = run_loss("NegativeLogLikelihoodLoss", rows, 1, {0, 0, 0, 0}, reduction, false, nullptr, false);
      ASSERT_TRUE(out.is_ok()) << out.status().message();
      const LD want = exact_sum({-rows[0] * 1.0, -rows[1] * 1.0, -rows[2] * 1.0, -rows[3] * 1.0});
      worst.check((*out)[0].data<float>()[0], std::string(reduction) == "sum" ? want : want / 4,
                  std::string("NLL cancellation ") + reduction + " x = " + std::to_string(rows[2]));
    }
  }
}

void sweep(const std::string& op) {
  Worst worst;
  for (const LogitRows& rows : sweep_logit_rows()) {
    check_per_row(op, rows, worst);
    check_reductions(op, rows, worst);
  }
  if (op == "NegativeLogLikelihoodLoss") check_cancellation(worst);
  std::printf("[ sweep ] %-26s worst %.8f ULP at %s\n", op.c_str(), worst.ulp, worst.where.c_str());
  EXPECT_EQ(worst.unfaithful, 0);
  EXPECT_LE(worst.ulp, kMaxUlp) << worst.where;
}

TEST(LossSweep, SoftmaxCrossEntropyFaithfullyRounded) { sweep("SoftmaxCrossEntropyLoss"); }

TEST(LossSweep, NegativeLogLikelihoodFaithfullyRounded) { sweep("NegativeLogLikelihoodLoss"); }

}  // namespace
}  // namespace onnx_mini::testing
