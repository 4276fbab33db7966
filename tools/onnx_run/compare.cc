#include "onnx_run/compare.h"

#include <cmath>

#include "onnx_run/tensor_values.h"

namespace onnx_mini::onnx_run {
namespace {

// How elements of a dtype are compared; nullopt when they cannot be.
enum class Rule { kTolerance, kExact };
std::optional<Rule> rule_for(DataType t) {
  if (dtype_is_float(t)) return Rule::kTolerance;
  if (dtype_is_integer(t) || t == DataType::kBool) return Rule::kExact;
  return std::nullopt;
}

// One element pair: whether it matches, and its error relative to its tolerance.
struct ElementResult {
  bool ok = true;
  double ratio = 0, abs_err = 0;
};

ElementResult compare_floats(double g, double e, double atol, double rtol) {
  if (std::isnan(e) || std::isnan(g)) {
    const bool ok = std::isnan(e) && std::isnan(g);
    return {ok, ok ? 0 : INFINITY, ok ? 0 : NAN};
  }
  if (std::isinf(e) || std::isinf(g)) {
    const bool ok = g == e;
    return {ok, ok ? 0 : INFINITY, ok ? 0 : INFINITY};
  }
  const double abs_err = std::fabs(g - e);
  const double tol = atol + rtol * std::fabs(e);
  const double ratio = tol > 0 ? abs_err / tol : (abs_err > 0 ? INFINITY : 0);
  return {abs_err <= tol, ratio, abs_err};
}

// Integers and bools in their own type: int64 values past 2^53 are not equal
// just because they round to the same double.
ElementResult compare_exact(const Tensor& got, const Tensor& expected, int64_t i) {
  bool equal = false;
  dispatch_dtype(got.dtype(), [&](auto tag) {
    using T = decltype(tag);
    equal = got.data<T>()[i] == expected.data<T>()[i];
  });
  const double abs_err = equal ? 0 : std::fabs(element_as_double(got, i) - element_as_double(expected, i));
  return {equal, equal ? 0 : INFINITY, abs_err};
}

}  // namespace

Result<Comparison> compare_tensors(const Tensor& got, const Tensor& expected, double atol, double rtol) {
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
  const std::optional<Rule> rule = rule_for(got.dtype());
  if (!rule) return unsupported("--check cannot compare " + dtype_name(got.dtype()) + " outputs");
  double worst_ratio = -1;
  for (int64_t i = 0; i < got.num_elements(); ++i) {
    const ElementResult r = *rule == Rule::kExact
                                ? compare_exact(got, expected, i)
                                : compare_floats(element_as_double(got, i), element_as_double(expected, i), atol, rtol);
    if (!r.ok) ++c.mismatches;
    if (r.ratio > worst_ratio) {
      worst_ratio = r.ratio;
      c.worst_index = i;
      c.abs_err = r.abs_err;
      const double e = element_as_double(expected, i);
      c.rel_err = e != 0 ? r.abs_err / std::fabs(e) : (r.abs_err == 0 ? 0 : INFINITY);
    }
  }
  if (c.worst_index >= 0) {
    c.got_text = element_text(got, c.worst_index);
    c.expected_text = element_text(expected, c.worst_index);
  }
  c.pass = c.mismatches == 0;
  return c;
}

}  // namespace onnx_mini::onnx_run
