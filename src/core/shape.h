// Shapes and the checked arithmetic every number read from a file goes through:
// an overflow is an error, never a wrap.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace onnx_mini {

using Shape = std::vector<int64_t>;

// Largest element count a single tensor may have (2^40: 4 TiB of float),
// far above any real model and far below int64 overflow in byte arithmetic.
inline constexpr int64_t kMaxTensorElements = int64_t{1} << 40;

std::optional<int64_t> checked_mul(int64_t a, int64_t b);
std::optional<int64_t> checked_add(int64_t a, int64_t b);

// Product of dims; error on a negative dim or when the product of the non-zero
// dims is above kMaxTensorElements (so even a zero-size shape has sane dims).
Result<int64_t> checked_num_elements(const Shape& shape);
// Same without building a Shape (the executor's per-run path): nullopt where the
// Shape version would return an error.
std::optional<int64_t> checked_num_elements(std::span<const int64_t> dims);
// A shape computed at run time from fed data (an Expand target, a broadcast,
// a OneHot depth, a Concat's sum...), before anything is allocated: a negative
// dim is bad input (exit 5, the value is wrong in itself); more elements than
// checked_num_elements allows is a resource limit (exit 6) whose message names
// the limit. The same rule as checked_num_elements: an error exactly when it
// would return one. Errors from a model's own constants stay kInvalidModel.
Status check_runtime_shape(std::span<const int64_t> dims);

// Product of dims for shapes already validated (tensors in memory).
int64_t num_elements(const Shape& shape);

std::string shape_to_string(const Shape& shape);  // "[2, 3, 4]"

// Normalises a possibly negative axis against rank; error when out of [-rank, rank).
Result<int64_t> normalize_axis(int64_t axis, int64_t rank);

// Numpy-style broadcast of two shapes; error when incompatible.
Result<Shape> broadcast_shapes(const Shape& a, const Shape& b);

// Row-major strides in elements.
std::vector<int64_t> strides_of(const Shape& shape);

}  // namespace onnx_mini
