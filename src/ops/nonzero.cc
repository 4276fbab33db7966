// NonZero: the coordinates of the non-zero elements of X, row-major, as an
// int64 tensor [rank, count] whose second dim is only known once X is read (the
// kernel sizes its output at run time; shape inference says [rank, unknown]).
// A scalar gives [0, count], as the spec says (numpy would give [1, count]).
// NaN is non-zero. float16 and bfloat16 are read as their bit patterns: zero is
// +0 or -0, every other pattern (NaN included) is non-zero.
#include <algorithm>

#include "ops/broadcast.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

// Writes the coordinates of every element where nonzero(i) into out [rank, count].
template <typename F>
void write_coordinates(const Shape& shape, int64_t count, F&& nonzero, int64_t* out) {
  const size_t rank = shape.size();
  DimScratch coord(rank);
  const int64_t n = num_elements(shape);
  int64_t c = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (nonzero(i)) {
      for (size_t d = 0; d < rank; ++d) out[static_cast<int64_t>(d) * count + c] = coord.data()[d];
      ++c;
    }
    for (size_t d = rank; d-- > 0;) {
      if (++coord.data()[d] < shape[d]) break;
      coord.data()[d] = 0;
    }
  }
}

template <typename F>
Status nonzero_output(KernelContext& ctx, const Tensor& x, F&& nonzero) {
  int64_t count = 0;
  for (int64_t i = 0; i < x.num_elements(); ++i) count += nonzero(i) ? 1 : 0;
  OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, {x.rank(), count}, DataType::kInt64));
  if (y->num_elements() > 0) write_coordinates(x.shape(), count, nonzero, y->data<int64_t>());
  return Status::ok();
}

class NonZero final : public Kernel {
 public:
  Status init(const NodeInfo&) { return Status::ok(); }

  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    if (dtype_is_half(x.dtype())) {
      const uint16_t* bits = x.data<uint16_t>();
      return nonzero_output(ctx, x, [bits](int64_t i) { return (bits[i] & 0x7fffu) != 0; });
    }
    Status st;
    const bool known = dispatch_dtype(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* v = x.data<T>();
      st = nonzero_output(ctx, x, [v](int64_t i) { return v[i] != T(0); });
    });
    if (!known) return unsupported("input 'X' of dtype " + dtype_name(x.dtype()));
    return st;
  }
};

Status infer_nonzero(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* x = node.input(0);
  outputs[0].dtype = DataType::kInt64;
  outputs[0].has_shape = true;
  outputs[0].dims.assign(2, Dim{});
  if (x->has_shape) outputs[0].dims[0].value = static_cast<int64_t>(x->dims.size());
  return Status::ok();
}

}  // namespace

void register_nonzero_ops(OpRegistry& r) {
  // 13 added bfloat16.
  r.add({.op_type = "NonZero", .since_version = 9, .infer = infer_nonzero, .create = make_kernel<NonZero>(),
         .also_since = {13}, .half_types = HalfTypes::kNative});
}

}  // namespace onnx_mini
