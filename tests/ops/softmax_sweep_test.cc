// Dense sweep of Softmax and LogSoftmax on float rows (label `sweep`): about 5
// million outputs over the families of tests/testutil/logit_rows.h, along the
// last axis (contiguous rows) and along axis 0 of the transposed rows (strided
// rows), against a long-double reference. Every output must be faithfully
// rounded: the kernel works in double and rounds each output once (see
// ops/softmax.cc), so the claimed bound is 0.5 + 2^-16 ULP, what a double
// result within 2^-40 relative gives (each exp within 2^-45, the sum within
// ~2^-43 for these rows) with room for the reference's ~2^-28 ULP on rows of
// 3000 terms.
//
// The test prints the measured worst error of each op and family.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/testutil/accuracy.h"
#include "tests/testutil/kernel_runner.h"
#include "tests/testutil/logit_rows.h"

namespace onnx_mini::testing {
namespace {

constexpr double kMaxUlp = 0.5 + 1.0 / 65536;

// Softmax (or LogSoftmax) of one row in long double: the first maximum's term
// is left out of the sum, and log(sum) = log1p(rest), so a dominant class
// keeps its tiny log-probability. No maximum above -inf: every output NaN
// (0/0, as the kernel); NaN or +inf anywhere: NaN.
std::vector<long double> reference(const float* row, int64_t n, bool log) {
  bool nan = false;
  int64_t arg = -1;
  for (int64_t i = 0; i < n; ++i) {
    nan = nan || std::isnan(row[i]) || row[i] == INFINITY;
    if (row[i] > -INFINITY && (arg < 0 || row[i] > row[arg])) arg = i;
  }
  if (nan || arg < 0) return std::vector<long double>(static_cast<size_t>(n), NAN);
  const long double m = row[arg];
  long double rest = 0;
  for (int64_t i = 0; i < n; ++i) rest += i == arg ? 0 : std::exp(static_cast<long double>(row[i]) - m);
  std::vector<long double> out;
  for (int64_t i = 0; i < n; ++i) {
    const long double d = static_cast<long double>(row[i]) - m;
    out.push_back(log ? d - std::log1p(rest) : std::exp(d) / (1 + rest));
  }
  return out;
}

struct Worst {
  double ulp = 0;
  std::string where;
  int64_t unfaithful = 0;
};

// Runs op over the rows, as [rows, C] along axis 1 or, strided, as the
// transposed [C, rows] along axis 0, and checks every output.
void check(const std::string& op, const LogitRows& rows, bool strided, Worst& worst) {
  const int64_t n = rows.rows(), c = rows.classes;
  std::vector<float> data = rows.x;
  if (strided) {
    for (int64_t r = 0; r < n; ++r) {
      for (int64_t k = 0; k < c; ++k) data[static_cast<size_t>(k * n + r)] = rows.x[static_cast<size_t>(r * c + k)];
    }
  }
  Tensor x = make_tensor<float>(strided ? Shape{c, n} : Shape{n, c}, data);
  Attributes attrs;
  attrs.set("axis", int_attr(strided ? 0 : 1));
  auto out = run_kernel(op, 13, attrs, {&x});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  const float* y = (*out)[0].data<float>();
  for (int64_t r = 0; r < n; ++r) {
    const std::vector<long double> ref = reference(rows.row(r), c, op == "LogSoftmax");
    for (int64_t k = 0; k < c; ++k) {
      const float got = y[strided ? k * n + r : r * c + k];
      const long double want = ref[static_cast<size_t>(k)];
      const double e = ulp_error<float>(got, want);
      const bool faithful = faithfully_rounded(got, want);
      if (!faithful && ++worst.unfaithful <= 5) {
        ADD_FAILURE() << op << " " << rows.family << " C=" << c << " row " << r << " class " << k << ": got " << got
                      << ", exact " << static_cast<double>(want);
      }
      if (e > worst.ulp) {
        worst.ulp = e;
        worst.where = rows.family + " C=" + std::to_string(c) + (strided ? " strided" : "") + " row " + std::to_string(r) +
                      " class " + std::to_string(k) + " x = " + std::to_string(rows.row(r)[k]);
      }
    }
  }
}

void sweep(const std::string& op) {
  Worst worst;
  int64_t outputs = 0;
  for (const LogitRows& rows : sweep_logit_rows()) {
    check(op, rows, false, worst);
    outputs += static_cast<int64_t>(rows.x.size());
    // The strided path on the smaller families (its arithmetic is the same).
    if (rows.x.size() <= 300000) {
      check(op, rows, true, worst);
      outputs += static_cast<int64_t>(rows.x.size());
    }
  }
  std::printf("[ sweep ] %-10s %lld outputs: worst %.8f ULP at %s\n", op.c_str(), static_cast<long long>(outputs),
              worst.ulp, worst.where.c_str());
  EXPECT_EQ(worst.unfaithful, 0);
  EXPECT_LE(worst.ulp, kMaxUlp) << worst.where;
}

TEST(SoftmaxSweep, SoftmaxFaithfullyRounded) { sweep("Softmax"); }

TEST(SoftmaxSweep, LogSoftmaxFaithfullyRounded) { sweep("LogSoftmax"); }

}  // namespace
}  // namespace onnx_mini::testing
