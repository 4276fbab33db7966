#include "onnx_run/compare.h"

#include <cmath>

#include "onnx_run/check.h"  // value_at: element i as double, 16-bit floats included

namespace onnx_mini::onnx_run {

Comparison compare_tensors(const Tensor& got, const Tensor& expected, double atol, double rtol) {
  Comparison c;
  if (got.dtype() != expected.dtype()) {
    c.pass = false;
    c.problem = "dtype " + dtype_name(got.dtype()) + ", expected " + dtype_name(expected.dtype());
    return c;
  }
  if (got.shape() != expected.shape()) {
    c.pass = false;
    c.problem = "shape " + shape_to_string(got.shape()) + ", expected " + shape_to_string(expected.shape());
    return c;
  }
  const bool exact = !dtype_is_float(got.dtype());
  double worst_ratio = -1;
  for (int64_t i = 0; i < got.num_elements(); ++i) {
    double g = value_at(got, i), e = value_at(expected, i);
    bool ok;
    double abs_err = std::fabs(g - e);
    double ratio;
    if (exact) {
      ok = g == e;
      ratio = ok ? 0 : INFINITY;
    } else if (std::isnan(e) || std::isnan(g)) {
      ok = std::isnan(e) && std::isnan(g);
      ratio = ok ? 0 : INFINITY;
      abs_err = ok ? 0 : NAN;
    } else if (std::isinf(e) || std::isinf(g)) {
      ok = g == e;
      ratio = ok ? 0 : INFINITY;
      abs_err = ok ? 0 : INFINITY;
    } else {
      double tol = atol + rtol * std::fabs(e);
      ok = abs_err <= tol;
      ratio = tol > 0 ? abs_err / tol : (abs_err > 0 ? INFINITY : 0);
    }
    if (!ok) ++c.mismatches;
    if (ratio > worst_ratio || (c.worst_index < 0)) {
      worst_ratio = ratio;
      c.worst_index = i;
      c.got = g;
      c.expected = e;
      c.abs_err = abs_err;
      c.rel_err = e != 0 ? abs_err / std::fabs(e) : (abs_err == 0 ? 0 : INFINITY);
    }
  }
  c.pass = c.mismatches == 0;
  return c;
}

}  // namespace onnx_mini::onnx_run
