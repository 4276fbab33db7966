// Tensors for tests: built from values, read back, filled with seeded random
// values, and the index arithmetic the naive references use.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace onnx_mini::testing {

// A tensor of `shape` holding `values` in row-major order; the count must match.
// T defaults to float so a braced list reads naturally: make_tensor({2}, {1, 2}).
template <typename T = float>
Tensor make_tensor(const Shape& shape, const std::vector<T>& values) {
  Tensor t = Tensor::allocate(dtype_of<T>(), shape);
  if (static_cast<int64_t>(values.size()) != t.num_elements()) {
    ADD_FAILURE() << "make_tensor: " << values.size() << " values for " << describe(t);
  }
  for (size_t i = 0; i < values.size() && i < static_cast<size_t>(t.num_elements()); ++i) t.data<T>()[i] = values[i];
  return t;
}
template <typename T>
Tensor scalar(T v) { return make_tensor<T>({}, {v}); }
// A 1-D int64 tensor (shapes, axes, indices fed as inputs).
inline Tensor ints(const std::vector<int64_t>& v) { return make_tensor<int64_t>({static_cast<int64_t>(v.size())}, v); }

template <typename T>
std::vector<T> values_of(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.num_elements());
}

// Uniform floats in [lo, hi) from `seed` (SplitMix64: the same values on every
// platform and standard library, so a failure reproduces anywhere).
Tensor random_tensor(const Shape& shape, uint64_t seed, float lo = -1.f, float hi = 1.f);

// Multi-index helpers for naive references.
// Into c (of s.size() entries), so that a loop over many indices allocates nothing.
inline void unravel(int64_t i, const Shape& s, std::vector<int64_t>& c) {
  for (size_t d = s.size(); d-- > 0;) {
    c[d] = i % s[d];
    i /= s[d];
  }
}
inline std::vector<int64_t> unravel(int64_t i, const Shape& s) {
  std::vector<int64_t> c(s.size());
  unravel(i, s, c);
  return c;
}
inline int64_t ravel(const std::vector<int64_t>& c, const Shape& s) {
  int64_t i = 0;
  for (size_t d = 0; d < s.size(); ++d) i = i * s[d] + c[d];
  return i;
}
// Index into `in` for output coordinate c under numpy broadcasting.
inline int64_t broadcast_source(const std::vector<int64_t>& c, const Shape& in, const Shape& out) {
  std::vector<int64_t> ic(in.size());
  const size_t off = out.size() - in.size();
  for (size_t d = 0; d < in.size(); ++d) ic[d] = in[d] == 1 ? 0 : c[off + d];
  return ravel(ic, in);
}

}  // namespace onnx_mini::testing
