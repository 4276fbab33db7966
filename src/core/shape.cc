#include "core/shape.h"

#include <algorithm>

namespace onnx_mini {

std::optional<int64_t> checked_mul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

std::optional<int64_t> checked_add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

Result<int64_t> checked_num_elements(const Shape& shape) {
  // Bound the product of the non-zero dims too: a zero-size shape such as
  // [0, 2^40, 2^40] has 0 elements, but code that multiplies "all dims but one"
  // (strides, Flatten, Softmax's outer/inner) would still overflow on it.
  int64_t n = 1, nonzero = 1;
  bool zero = false;
  for (int64_t d : shape) {
    if (d < 0) return invalid_model("negative dimension " + std::to_string(d) + " in shape " + shape_to_string(shape));
    if (d == 0) {
      zero = true;
      continue;
    }
    auto m = checked_mul(nonzero, d);
    if (!m || *m > kMaxTensorElements) {
      return invalid_model("shape " + shape_to_string(shape) + " has too many elements (limit 2^40)");
    }
    nonzero = *m;
  }
  n = zero ? 0 : nonzero;
  return n;
}

std::optional<int64_t> checked_num_elements(std::span<const int64_t> dims) {
  // The rule of the Shape version: non-negative dims, non-zero product bounded.
  int64_t nonzero = 1;
  bool zero = false;
  for (int64_t d : dims) {
    if (d < 0) return std::nullopt;
    if (d == 0) {
      zero = true;
      continue;
    }
    auto m = checked_mul(nonzero, d);
    if (!m || *m > kMaxTensorElements) return std::nullopt;
    nonzero = *m;
  }
  return zero ? 0 : nonzero;
}

Status check_runtime_shape(std::span<const int64_t> dims) {
  if (checked_num_elements(dims)) return Status::ok();
  const Shape shape(dims.begin(), dims.end());
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0) {
      return bad_input("shape " + shape_to_string(shape) + ": dim " + std::to_string(shape[i]) + " at index " +
                       std::to_string(i) + " is negative");
    }
  }
  const bool zero_size = std::find(shape.begin(), shape.end(), 0) != shape.end();
  return resource_limit("shape " + shape_to_string(shape) + " has too many elements" +
                        (zero_size ? " in its non-zero dims" : "") +
                        ": above the limit of 2^40 elements per tensor (a fixed limit; 4 TiB of float)");
}

int64_t num_elements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_to_string(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

Result<int64_t> normalize_axis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank) {
    return invalid_model("axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
  }
  return axis < 0 ? axis + rank : axis;
}

Result<Shape> broadcast_shapes(const Shape& a, const Shape& b) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == db || db == 1) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else {
      return bad_input("shapes " + shape_to_string(a) + " and " + shape_to_string(b) + " cannot be broadcast");
    }
  }
  return out;
}

std::vector<int64_t> strides_of(const Shape& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) s[i - 1] = s[i] * shape[i];
  return s;
}

}  // namespace onnx_mini
