// Reading index tensors (int32 or int64) for the index ops (TopK's k,
// ScatterND, ScatterElements, GatherND). Every index is untrusted data: it is
// range-checked before it addresses anything, and an error says which input,
// where in it, the bad value and the range it had to be in.
#pragma once

#include <optional>
#include <string>

#include "core/shape.h"
#include "core/status.h"
#include "core/tensor.h"

namespace onnx_mini {

inline bool is_index_dtype(DataType t) { return t == DataType::kInt64 || t == DataType::kInt32; }

inline Status check_index_dtype(const Tensor& t, const char* input) {
  if (is_index_dtype(t.dtype())) return Status::ok();
  return bad_input(std::string("input '") + input + "' must be int32 or int64, got " + dtype_name(t.dtype()));
}

// Element i of an int32 or int64 tensor (checked by check_index_dtype).
inline int64_t index_at(const Tensor& t, int64_t i) {
  return t.dtype() == DataType::kInt64 ? t.data<int64_t>()[i] : t.data<int32_t>()[i];
}

// v in [-dim, dim) counted from the end when negative, or nullopt.
inline std::optional<int64_t> wrap_index(int64_t v, int64_t dim) {
  if (v < -dim || v >= dim) return std::nullopt;
  return v < 0 ? v + dim : v;
}

// "[1, 0, 2]": the coordinates of element i of a tensor of `shape`, for messages.
std::string position_of(int64_t i, const Shape& shape);

// "input 'indices': index 7 at [0, 3] is out of range [-4, 4) for axis 1 of input 'data'".
Status index_out_of_range(const char* input, int64_t value, int64_t position, const Shape& shape, int64_t dim,
                          int64_t axis);

// Index tuples (the last axis of `indices`, of length k) address the k axes of
// `data` from `first_axis` (GatherND's batch_dims, else 0). The ravelled number
// of the slice tuple t names among the prod(data[first_axis .. first_axis+k))
// slices of one batch, each component range-checked (negative counts from the end).
Result<int64_t> tuple_slice(const Tensor& indices, int64_t t, const Shape& data, int64_t first_axis);

// A check of index values made at load on a constant (an initializer) rather
// than at run on fed data: the same message, as an invalid model (exit 3).
inline Status as_initializer_error(const Status& s) {
  if (s.is_ok()) return s;
  return invalid_model("initializer " + s.message());
}

}  // namespace onnx_mini
