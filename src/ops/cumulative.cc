// CumSum: running sums along one axis, inclusive or exclusive, forward or
// reversed. float sums run in double and each output is rounded once (a float
// running sum would lose the small terms of a long axis: numpy's float32 cumsum
// of 1e8 ones stops at 16777216); integers wrap modulo 2^bits, as ONNX Runtime
// and numpy do, computed unsigned so the overflow is defined.
#include <algorithm>
#include <type_traits>

#include "ops/reduce_util.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

template <typename T>
using Accumulator = std::conditional_t<std::is_floating_point_v<T>, double,
                                       std::make_unsigned_t<std::conditional_t<std::is_integral_v<T>, T, int>>>;

// The geometry of one run: outer x len x inner, the axis in the middle.
struct ScanShape {
  int64_t outer = 1, len = 1, inner = 1;
};

template <typename T>
void cumulative_sum(const T* x, T* y, const ScanShape& s, bool exclusive, bool reverse) {
  using Acc = Accumulator<T>;
  // Inner positions are swept in blocks so the running sums stay in registers
  // or L1 while the axis is walked (no heap: a steady-state run allocates
  // nothing), and each block reads contiguous rows.
  constexpr int64_t kBlock = 64;
  Acc sum[kBlock];
  for (int64_t o = 0; o < s.outer; ++o) {
    for (int64_t j0 = 0; j0 < s.inner; j0 += kBlock) {
      const int64_t width = std::min(kBlock, s.inner - j0);
      std::fill(sum, sum + width, Acc{0});
      for (int64_t step = 0; step < s.len; ++step) {
        const int64_t a = reverse ? s.len - 1 - step : step;
        const int64_t base = (o * s.len + a) * s.inner + j0;
        for (int64_t j = 0; j < width; ++j) {
          const Acc v = static_cast<Acc>(x[base + j]);
          if (exclusive) {
            y[base + j] = static_cast<T>(sum[j]);
            sum[j] += v;
          } else {
            sum[j] += v;
            y[base + j] = static_cast<T>(sum[j]);
          }
        }
      }
    }
  }
}

// The axis input: an int32 or int64 scalar (0-D, or 1-D of one element).
Result<int64_t> scan_axis(const Tensor& axis, int64_t rank) {
  if (axis.num_elements() != 1 || axis.rank() > 1) return bad_input("input 'axis' must be a scalar, got " + describe(axis));
  OM_ASSIGN_OR_RETURN(std::vector<int64_t> a, read_int_list(axis, "input 'axis'"));
  OM_ASSIGN_OR_RETURN(std::vector<int64_t> n, normalize_axes(a, rank, "input 'axis'"));
  return n[0];
}

bool cumsum_type(DataType t) {
  return t == DataType::kFloat || t == DataType::kDouble || t == DataType::kInt32 || t == DataType::kInt64 ||
         t == DataType::kUInt32 || t == DataType::kUInt64;
}

Result<bool> flag(const NodeInfo& node, const char* name) {
  OM_ASSIGN_OR_RETURN(int64_t v, node.attrs().get_int(name, 0));
  if (v != 0 && v != 1) return invalid_model(std::string("attribute '") + name + "' must be 0 or 1, got " + std::to_string(v));
  return v == 1;
}

class CumSum final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(exclusive_, flag(node, "exclusive"));
    OM_ASSIGN_OR_RETURN(reverse_, flag(node, "reverse"));
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    if (x.rank() < 1) return bad_input("input 'x' must have rank >= 1, got " + describe(x));
    if (!cumsum_type(x.dtype())) return unsupported("input 'x' of dtype " + dtype_name(x.dtype()));
    OM_ASSIGN_OR_RETURN(int64_t axis, scan_axis(*ctx.input(1), x.rank()));
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, x.shape(), x.dtype()));
    ScanShape s;
    for (int64_t d = 0; d < x.rank(); ++d) {
      const int64_t n = x.shape()[static_cast<size_t>(d)];
      if (d < axis) s.outer *= n;
      if (d == axis) s.len = n;
      if (d > axis) s.inner *= n;
    }
    if (x.num_elements() == 0) return Status::ok();
    dispatch_arithmetic(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      cumulative_sum<T>(x.data<T>(), y->template data<T>(), s, exclusive_, reverse_);
    });
    return Status::ok();
  }

 private:
  bool exclusive_ = false, reverse_ = false;
};

Status infer_cumsum(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* x = node.input(0);
  // float16 and bfloat16 reach the kernel as float (computed in float32, see HalfTypes).
  if (x->dtype != DataType::kUndefined && !cumsum_type(x->dtype) && !dtype_is_half(x->dtype)) {
    return invalid_model("input 'x' of dtype " + dtype_name(x->dtype) + ": CumSum takes float, double, int32, int64, uint32, uint64");
  }
  const TensorInfo* axis = node.input(1);
  if (axis->dtype != DataType::kUndefined && axis->dtype != DataType::kInt32 && axis->dtype != DataType::kInt64) {
    return invalid_model("input 'axis' must be int32 or int64, got " + dtype_name(axis->dtype));
  }
  return infer_same_as_input0(node, outputs);
}

}  // namespace

void register_cumulative_ops(OpRegistry& r) {
  // 14 added float16 and bfloat16 (computed in float32 through the legalize pass).
  r.add({.op_type = "CumSum", .since_version = 11, .min_inputs = 2, .max_inputs = 2, .attributes = {"exclusive", "reverse"},
         .infer = infer_cumsum, .create = make_kernel<CumSum>(), .also_since = {14}});
}

}  // namespace onnx_mini
