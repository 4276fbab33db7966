#include "ops/strided_copy.h"

#include <cstring>

#include "ops/broadcast.h"
#include "ops/elementwise_util.h"

namespace onnx_mini {
namespace {

// The view after dropping size-1 axes and merging each axis into the next
// when it steps exactly over it (stride == next stride x next dim).
struct Axes {
  int64_t* dims;
  int64_t* strides;
  size_t rank = 0;
};

void collapse(const Shape& shape, const int64_t* strides, Axes& axes) {
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (axes.rank > 0 && axes.strides[axes.rank - 1] == strides[d] * shape[d]) {
      axes.dims[axes.rank - 1] *= shape[d];
      axes.strides[axes.rank - 1] = strides[d];
      continue;
    }
    axes.dims[axes.rank] = shape[d];
    axes.strides[axes.rank] = strides[d];
    ++axes.rank;
  }
}

}  // namespace

bool copy_strided(const void* src, const Shape& shape, const int64_t* strides, size_t element_size, void* dst) {
  const int64_t n = num_elements(shape);
  if (n == 0) return dispatch_size(element_size, [](auto) {});
  DimScratch dims_buf(shape.size()), strides_buf(shape.size()), counter_buf(shape.size());
  Axes axes{dims_buf.data(), strides_buf.data()};
  collapse(shape, strides, axes);
  int64_t* counter = counter_buf.data();
  return dispatch_size(element_size, [&](auto tag) {
    using U = decltype(tag);
    const U* in = static_cast<const U*>(src);
    U* out = static_cast<U*>(dst);
    if (axes.rank == 0) {
      out[0] = in[0];
      return;
    }
    const size_t inner_axis = axes.rank - 1;
    const int64_t inner = axes.dims[inner_axis], step = axes.strides[inner_axis];
    int64_t offset = 0;
    for (int64_t base = 0; base < n; base += inner) {
      if (step == 1) {
        std::memcpy(out + base, in + offset, static_cast<size_t>(inner) * sizeof(U));
      } else {
        for (int64_t j = 0; j < inner; ++j) out[base + j] = in[offset + j * step];
      }
      for (size_t d = inner_axis; d-- > 0;) {  // the outer axes' odometer
        offset += axes.strides[d];
        if (++counter[d] < axes.dims[d]) break;
        offset -= axes.strides[d] * axes.dims[d];
        counter[d] = 0;
      }
    }
  });
}

}  // namespace onnx_mini
