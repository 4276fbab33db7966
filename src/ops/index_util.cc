#include "ops/index_util.h"

namespace onnx_mini {

std::string position_of(int64_t i, const Shape& shape) {
  std::string out;
  for (size_t d = shape.size(); d-- > 0;) {
    const int64_t n = shape[d] > 0 ? shape[d] : 1;
    out = std::to_string(i % n) + (out.empty() ? "" : ", ") + out;
    i /= n;
  }
  return "[" + out + "]";
}

Status index_out_of_range(const char* input, int64_t value, int64_t position, const Shape& shape, int64_t dim,
                          int64_t axis) {
  return bad_input(std::string("input '") + input + "': index " + std::to_string(value) + " at " +
                   position_of(position, shape) + " is out of range [" + std::to_string(-dim) + ", " +
                   std::to_string(dim) + ") for axis " + std::to_string(axis) + " of input 'data'");
}

Result<int64_t> tuple_slice(const Tensor& indices, int64_t t, const Shape& data, int64_t first_axis) {
  const int64_t k = indices.dim(indices.rank() - 1);
  int64_t slice = 0;
  for (int64_t j = 0; j < k; ++j) {
    const int64_t axis = first_axis + j;
    const int64_t dim = data[static_cast<size_t>(axis)];
    const int64_t position = t * k + j;
    const int64_t v = index_at(indices, position);
    const std::optional<int64_t> wrapped = wrap_index(v, dim);
    if (!wrapped) return index_out_of_range("indices", v, position, indices.shape(), dim, axis);
    slice = slice * dim + *wrapped;
  }
  return slice;
}

}  // namespace onnx_mini
