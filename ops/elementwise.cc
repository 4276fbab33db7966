// Elementwise arithmetic with numpy broadcasting: Add Sub Mul Div Pow and the
// variadic Max Min Sum Mean. Integer arithmetic wraps (two's complement) instead
// of being undefined; integer division by zero is an error.
#include <cmath>
#include <limits>

#include "ops/broadcast.h"
#include "ops/elementwise_util.h"
#include "ops/numeric.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

struct AddOp {
  template <typename T> T operator()(T a, T b) const { return wrap_add(a, b); }
};
struct SubOp {
  template <typename T> T operator()(T a, T b) const { return wrap_sub(a, b); }
};
struct MulOp {
  template <typename T> T operator()(T a, T b) const { return wrap_mul(a, b); }
};
// Integer division truncates toward zero (C, and ORT); the divisor was checked
// for zero beforehand. INT_MIN / -1 wraps to INT_MIN instead of trapping.
struct DivOp {
  template <typename T> T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
      if (b == T{-1}) return wrap_neg(a);
    }
    return a / b;
  }
};

template <typename T>
Status check_no_zero_divisor(const Tensor& b) {
  if constexpr (std::is_integral_v<T>) {
    const T* p = b.data<T>();
    for (int64_t i = 0; i < b.num_elements(); ++i) {
      if (p[i] == T{0}) return bad_input("input 'B': integer division by zero at flat index " + std::to_string(i));
    }
  }
  return Status::ok();
}

template <typename Op, bool kIsDiv = false>
class BinaryArithmetic final : public Kernel {
 public:
  Status init(const NodeInfo&) { return Status::ok(); }

  Status run(KernelContext& ctx) const override {
    const Tensor& a = *ctx.input(0);
    const Tensor& b = *ctx.input(1);
    if (a.dtype() != b.dtype()) {
      return bad_input("inputs 'A' and 'B' differ in dtype: " + dtype_name(a.dtype()) + " and " + dtype_name(b.dtype()));
    }
    OM_ASSIGN_OR_RETURN(Tensor * y, broadcast_output(ctx, 0, a.shape(), b.shape(), a.dtype()));
    Status st;
    bool ok = dispatch_arithmetic(a.dtype(), [&](auto tag) {
      using T = decltype(tag);
      if constexpr (kIsDiv) {
        st = check_no_zero_divisor<T>(b);
        if (!st.is_ok()) return;
      }
      broadcast_apply<T, T, T>(a, b, *y, Op{});
    });
    if (!ok) return unsupported("dtype " + dtype_name(a.dtype()));
    return st;
  }
};

// Integer power by squaring with wrap-around; a negative exponent truncates
// 1/base^-e toward zero (only |base| == 1 gives a nonzero result).
template <typename T, typename E>
T int_pow(T base, E exp) {
  if (exp < 0) {
    if (base == T{1}) return T{1};
    if constexpr (std::is_signed_v<T>) {
      if (base == T{-1}) return (exp % 2 == 0) ? T{1} : T{-1};
    }
    return T{0};  // includes 0^negative, which has no integer value
  }
  T result{1};
  auto e = static_cast<uint64_t>(exp);
  while (e) {
    if (e & 1u) result = wrap_mul(result, base);
    base = wrap_mul(base, base);
    e >>= 1u;
  }
  return result;
}

template <typename T, typename E>
T pow_value(T base, E exp) {
  if constexpr (std::is_integral_v<T> && std::is_integral_v<E>) {
    return int_pow(base, exp);
  } else {
    return convert_value<T>(std::pow(static_cast<double>(base), static_cast<double>(exp)));
  }
}

// Pow-7 requires one dtype; Pow-12 lets the exponent have its own numeric dtype.
class Pow final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    mixed_ = node.since_version >= 12;
    return Status::ok();
  }
  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Tensor& e = *ctx.input(1);
    if (!mixed_ && x.dtype() != e.dtype()) {
      return bad_input("inputs 'X' and 'Y' differ in dtype (" + dtype_name(x.dtype()) + ", " + dtype_name(e.dtype()) +
                       "); mixed dtypes need opset 12");
    }
    OM_ASSIGN_OR_RETURN(Shape shape, broadcast_shapes(x.shape(), e.shape()));
    OM_ASSIGN_OR_RETURN(Tensor * z, ctx.output(0, shape, x.dtype()));
    bool inner_ok = true;
    bool ok = dispatch_arithmetic(x.dtype(), [&](auto xt) {
      using T = decltype(xt);
      inner_ok = dispatch_arithmetic(e.dtype(), [&](auto et) {
        using E = decltype(et);
        broadcast_apply<T, E, T>(x, e, *z, [](T a, E b) { return pow_value(a, b); });
      });
    });
    if (!ok || !inner_ok) return unsupported("Pow of " + dtype_name(x.dtype()) + " by " + dtype_name(e.dtype()));
    return Status::ok();
  }

 private:
  bool mixed_ = true;
};

Status infer_pow(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_RETURN_IF_ERROR(infer_broadcast(node, outputs));
  outputs[0].dtype = node.input(0)->dtype;
  return Status::ok();
}

// NaN-propagating max/min (numpy.maximum / minimum).
struct MaxOp {
  template <typename T> T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
    }
    return a < b ? b : a;
  }
};
struct MinOp {
  template <typename T> T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
    }
    return b < a ? b : a;
  }
};

// Variadic Max/Min/Sum/Mean: the output starts as input 0 broadcast to the
// full shape, then each further input is folded in place.
template <typename Op, bool kMean = false>
class Variadic final : public Kernel {
 public:
  Status init(const NodeInfo&) { return Status::ok(); }
  Status run(KernelContext& ctx) const override {
    std::vector<const Tensor*> ins;
    std::vector<const Shape*> shapes;
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      const Tensor* t = ctx.input(i);
      if (!t) return bad_input("input " + std::to_string(i) + " is empty");
      if (t->dtype() != ctx.input(0)->dtype()) {
        return bad_input("input " + std::to_string(i) + " is " + dtype_name(t->dtype()) + ", input 0 is " +
                         dtype_name(ctx.input(0)->dtype()));
      }
      ins.push_back(t);
      shapes.push_back(&t->shape());
    }
    OM_ASSIGN_OR_RETURN(Shape shape, broadcast_shapes_all(shapes));
    const DataType dt = ins[0]->dtype();
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, shape, dt));
    bool ok = dispatch_arithmetic(dt, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (kMean && !std::is_floating_point_v<T>) {
        return;  // Mean is defined for float types only
      } else {
        T* out = y->data<T>();
        const T* p0 = ins[0]->data<T>();
        for_each_broadcast<1>(shape, {broadcast_strides(ins[0]->shape(), shape)},
                              [&](int64_t i, const std::array<int64_t, 1>& o) { out[i] = p0[o[0]]; });
        for (size_t k = 1; k < ins.size(); ++k) broadcast_apply<T, T, T>(*y, *ins[k], *y, Op{});
        if constexpr (kMean) {
          const T count = static_cast<T>(ins.size());
          for (int64_t i = 0; i < y->num_elements(); ++i) out[i] /= count;
        }
      }
    });
    if (!ok || (kMean && !dtype_is_float(dt))) return unsupported("dtype " + dtype_name(dt));
    return Status::ok();
  }
};

constexpr int kVariadic = 1 << 20;

}  // namespace

void register_elementwise_ops(OpRegistry& r) {
  r.add({"Add", kOnnxDomain, 7, 2, 2, 1, 1, {}, infer_broadcast, make_kernel<BinaryArithmetic<AddOp>>()});
  r.add({"Sub", kOnnxDomain, 7, 2, 2, 1, 1, {}, infer_broadcast, make_kernel<BinaryArithmetic<SubOp>>()});
  r.add({"Mul", kOnnxDomain, 7, 2, 2, 1, 1, {}, infer_broadcast, make_kernel<BinaryArithmetic<MulOp>>()});
  r.add({"Div", kOnnxDomain, 7, 2, 2, 1, 1, {}, infer_broadcast, make_kernel<BinaryArithmetic<DivOp, true>>()});
  r.add({"Pow", kOnnxDomain, 7, 2, 2, 1, 1, {}, infer_pow, make_kernel<Pow>()});
  r.add({"Pow", kOnnxDomain, 12, 2, 2, 1, 1, {}, infer_pow, make_kernel<Pow>()});
  r.add({"Max", kOnnxDomain, 8, 1, kVariadic, 1, 1, {}, infer_broadcast, make_kernel<Variadic<MaxOp>>()});
  r.add({"Min", kOnnxDomain, 8, 1, kVariadic, 1, 1, {}, infer_broadcast, make_kernel<Variadic<MinOp>>()});
  r.add({"Sum", kOnnxDomain, 8, 1, kVariadic, 1, 1, {}, infer_broadcast, make_kernel<Variadic<AddOp>>()});
  r.add({"Mean", kOnnxDomain, 8, 1, kVariadic, 1, 1, {}, infer_broadcast, make_kernel<Variadic<AddOp, true>>()});
}

}  // namespace onnx_mini
