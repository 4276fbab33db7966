#include "tests/testutil/expect_close.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

namespace onnx_mini::testing {
namespace {

bool is_floating(DataType t) { return t == DataType::kFloat || t == DataType::kDouble; }

double element(const Tensor& t, int64_t i) {
  return t.dtype() == DataType::kFloat ? t.data<float>()[i] : t.data<double>()[i];
}

bool within(double got, double want, const Tolerance& tol) {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want)) return got == want;
  return std::fabs(got - want) <= tol.atol + tol.rtol * std::max(std::fabs(want), tol.magnitude_floor);
}

}  // namespace

void expect_close(const Tensor& got, const Tensor& want, const Tolerance& tol, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  // Same dtype, except a double-precision reference for a float result.
  const bool double_reference = got.dtype() == DataType::kFloat && want.dtype() == DataType::kDouble;
  if (!double_reference) {
    ASSERT_EQ(got.dtype(), want.dtype()) << what;
  }
  if (!is_floating(got.dtype())) {
    EXPECT_EQ(0, std::memcmp(got.raw_data(), want.raw_data(), got.byte_size())) << what;
    return;
  }
  // One failure listing the first few mismatches and how many there were in all.
  constexpr int kListed = 10;
  int64_t mismatches = 0;
  std::ostringstream listed;
  listed.precision(17);
  for (int64_t i = 0; i < got.num_elements(); ++i) {
    const double g = element(got, i), w = element(want, i);
    if (within(g, w, tol)) continue;
    if (++mismatches <= kListed) listed << "\n  [" << i << "] got " << g << " want " << w;
  }
  if (mismatches > 0) {
    ADD_FAILURE() << what << ": " << mismatches << " of " << got.num_elements()
                  << " elements out of tolerance (atol " << tol.atol << ", rtol " << tol.rtol << ", magnitude floor "
                  << tol.magnitude_floor << ")" << listed.str();
  }
}

}  // namespace onnx_mini::testing
