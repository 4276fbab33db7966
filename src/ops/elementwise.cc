// Elementwise arithmetic with numpy broadcasting: Add Sub Mul Div Pow and the
// variadic Max Min Sum Mean. Integer arithmetic wraps (two's complement) instead
// of being undefined; integer division by zero is an error.
#include <cmath>
#include <limits>
#include <optional>

#include "ops/broadcast.h"
#include "ops/elementwise_util.h"
#include "ops/numeric.h"
#include "ops/registry.h"
#include "ops/strided_copy.h"

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

// Opset 6 and earlier broadcast only when attribute `broadcast` is 1, and then
// B's shape must be a contiguous run of A's dims (1s broadcast) starting at
// `axis`, or aligned to A's trailing dims when `axis` is absent. Returns the
// shape B is viewed as: A's rank, B's dims at [start, start + rank(B)), 1 elsewhere.
Result<Shape> legacy_broadcast_shape(const Shape& a, const Shape& b, std::optional<int64_t> axis) {
  const auto ra = static_cast<int64_t>(a.size()), rb = static_cast<int64_t>(b.size());
  auto describe_both = [&] { return "A " + shape_to_string(a) + ", B " + shape_to_string(b); };
  if (rb > ra) return bad_input("attribute 'broadcast' = 1 needs rank(B) <= rank(A): " + describe_both());
  int64_t start = ra - rb;
  if (axis) {
    start = *axis < 0 ? *axis + ra : *axis;
    if (start < 0 || start + rb > ra) {
      return bad_input("attribute 'axis' = " + std::to_string(*axis) + " does not place B inside A: " + describe_both());
    }
  }
  Shape view(a.size(), 1);
  for (int64_t d = 0; d < rb; ++d) {
    const int64_t bd = b[static_cast<size_t>(d)], ad = a[static_cast<size_t>(start + d)];
    if (bd != ad && bd != 1) {
      return bad_input("attribute 'broadcast' = 1: B dim " + std::to_string(d) + " (" + std::to_string(bd) +
                       ") matches neither A dim " + std::to_string(start + d) + " (" + std::to_string(ad) + ") nor 1: " +
                       describe_both());
    }
    view[static_cast<size_t>(start + d)] = bd;
  }
  return view;
}

// Attributes of the pre-opset-7 arithmetic ops (Add/Sub/Mul/Div-6).
struct LegacyBroadcast {
  bool enabled = false;  // the node is version 6 (numpy broadcasting starts at 7)
  bool broadcast = false;
  std::optional<int64_t> axis;

  Status init(const NodeInfo& node) {
    enabled = node.since_version < 7;
    if (!enabled) return Status::ok();
    OM_ASSIGN_OR_RETURN(int64_t b, node.attrs().get_int("broadcast", 0));
    broadcast = b != 0;
    if (node.attrs().has("axis")) {
      OM_ASSIGN_OR_RETURN(int64_t a, node.attrs().get_int("axis", 0));
      axis = a;
    }
    return Status::ok();
  }
  // B as the kernel sees it: unchanged, or reshaped to A's rank for the legacy broadcast.
  Result<Tensor> view_of_b(const Tensor& a, const Tensor& b) const {
    if (!broadcast) {
      if (a.shape() != b.shape()) {
        return bad_input("inputs 'A' " + shape_to_string(a.shape()) + " and 'B' " + shape_to_string(b.shape()) +
                         " differ in shape and attribute 'broadcast' is 0 (opset 6 has no implicit broadcasting)");
      }
      return b;
    }
    OM_ASSIGN_OR_RETURN(Shape view, legacy_broadcast_shape(a.shape(), b.shape(), axis));
    return b.reshaped(std::move(view));
  }
};

template <typename Op, bool kIsDiv = false>
class BinaryArithmetic final : public Kernel {
 public:
  Status init(const NodeInfo& node) { return legacy_.init(node); }

  Status run(KernelContext& ctx) const override {
    const Tensor& a = *ctx.input(0);
    const Tensor* b = ctx.input(1);
    if (a.dtype() != b->dtype()) {
      return bad_input("inputs 'A' and 'B' differ in dtype: " + dtype_name(a.dtype()) + " and " + dtype_name(b->dtype()));
    }
    Tensor b_view;
    if (legacy_.enabled) {
      OM_ASSIGN_OR_RETURN(b_view, legacy_.view_of_b(a, *b));
      b = &b_view;
    }
    OM_ASSIGN_OR_RETURN(Tensor * y, broadcast_output(ctx, 0, a.shape(), b->shape(), a.dtype()));
    Status st;
    bool ok = dispatch_arithmetic(a.dtype(), [&](auto tag) {
      using T = decltype(tag);
      if constexpr (kIsDiv) {
        st = check_no_zero_divisor<T>(*b);
        if (!st.is_ok()) return;
      }
      broadcast_apply<T, T, T>(a, *b, *y, Op{});
    });
    if (!ok) return unsupported("dtype " + dtype_name(a.dtype()));
    return st;
  }

 private:
  LegacyBroadcast legacy_;
};

// Opset 6 arithmetic: the output is shaped like A (legacy broadcast never grows A).
Status infer_legacy_arithmetic(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  LegacyBroadcast legacy;
  OM_RETURN_IF_ERROR(legacy.init(node));
  const TensorInfo* a = node.input(0);
  const TensorInfo* b = node.input(1);
  outputs[0] = *a;
  outputs[0].constant = nullptr;
  if (!a->fully_known() || !b->fully_known()) return Status::ok();
  const Shape sa = a->concrete_shape(), sb = b->concrete_shape();
  if (!legacy.broadcast && sa != sb) {
    return invalid_model("inputs 'A' " + a->to_string() + " and 'B' " + b->to_string() +
                         " differ in shape and attribute 'broadcast' is 0 (opset 6 has no implicit broadcasting)");
  }
  if (legacy.broadcast) {
    auto view = legacy_broadcast_shape(sa, sb, legacy.axis);
    if (!view.is_ok()) return invalid_model(view.status().message());
  }
  return Status::ok();
}

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

// out = input 0 broadcast to out's shape, then each further input folded in place.
template <typename T, typename Op>
void fold_inputs(const std::vector<const Tensor*>& ins, Tensor& y, Op op) {
  T* out = y.data<T>();
  const T* p0 = ins[0]->data<T>();
  copy_strided(p0, y.shape(), broadcast_strides(ins[0]->shape(), y.shape()).data(), sizeof(T), out);
  for (size_t k = 1; k < ins.size(); ++k) broadcast_apply<T, T, T>(y, *ins[k], y, op);
}

// Variadic Max/Min/Sum/Mean. Version 6 (the one opset 7 resolves to) requires
// equal shapes; numpy broadcasting starts at 8.
template <typename Op, bool kMean = false>
class Variadic final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    same_shape_ = node.since_version < 8;
    return Status::ok();
  }
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
      if (same_shape_ && t->shape() != ctx.input(0)->shape()) {
        return bad_input("input " + std::to_string(i) + " " + shape_to_string(t->shape()) + " differs from input 0 " +
                         shape_to_string(ctx.input(0)->shape()) + " (broadcasting needs opset 8)");
      }
      ins.push_back(t);
      shapes.push_back(&t->shape());
    }
    OM_ASSIGN_OR_RETURN(Shape shape, broadcast_shapes_all(shapes));
    const DataType dt = ins[0]->dtype();
    if (kMean && !dtype_is_float(dt)) return unsupported("dtype " + dtype_name(dt) + " (Mean is for float types)");
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, shape, dt));
    bool ok = dispatch_arithmetic(dt, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (kMean && !std::is_floating_point_v<T>) {
        return;  // rejected above
      } else {
        fold_inputs<T>(ins, *y, Op{});
        if constexpr (kMean) {
          const T count = static_cast<T>(ins.size());
          T* out = y->data<T>();
          for (int64_t i = 0; i < y->num_elements(); ++i) out[i] /= count;
        }
      }
    });
    if (!ok) return unsupported("dtype " + dtype_name(dt));
    return Status::ok();
  }

 private:
  bool same_shape_ = false;
};

}  // namespace

void register_elementwise_ops(OpRegistry& r) {
  // Version 6 carries the legacy `broadcast`/`axis` attributes; 7 switched to numpy broadcasting.
  const std::vector<std::string> legacy{"broadcast", "axis"};
  r.add({.op_type = "Add", .since_version = 6, .min_inputs = 2, .max_inputs = 2, .attributes = legacy,
         .infer = infer_legacy_arithmetic, .create = make_kernel<BinaryArithmetic<AddOp>>()});
  r.add({.op_type = "Sub", .since_version = 6, .min_inputs = 2, .max_inputs = 2, .attributes = legacy,
         .infer = infer_legacy_arithmetic, .create = make_kernel<BinaryArithmetic<SubOp>>()});
  r.add({.op_type = "Mul", .since_version = 6, .min_inputs = 2, .max_inputs = 2, .attributes = legacy,
         .infer = infer_legacy_arithmetic, .create = make_kernel<BinaryArithmetic<MulOp>>()});
  r.add({.op_type = "Div", .since_version = 6, .min_inputs = 2, .max_inputs = 2, .attributes = legacy,
         .infer = infer_legacy_arithmetic, .create = make_kernel<BinaryArithmetic<DivOp, true>>()});
  r.add({.op_type = "Add", .since_version = 7, .min_inputs = 2, .max_inputs = 2, .infer = infer_broadcast,
         .create = make_kernel<BinaryArithmetic<AddOp>>(), .also_since = {13, 14}});
  r.add({.op_type = "Sub", .since_version = 7, .min_inputs = 2, .max_inputs = 2, .infer = infer_broadcast,
         .create = make_kernel<BinaryArithmetic<SubOp>>(), .also_since = {13, 14}});
  r.add({.op_type = "Mul", .since_version = 7, .min_inputs = 2, .max_inputs = 2, .infer = infer_broadcast,
         .create = make_kernel<BinaryArithmetic<MulOp>>(), .also_since = {13, 14}});
  r.add({.op_type = "Div", .since_version = 7, .min_inputs = 2, .max_inputs = 2, .infer = infer_broadcast,
         .create = make_kernel<BinaryArithmetic<DivOp, true>>(), .also_since = {13, 14}});
  r.add({.op_type = "Pow", .since_version = 7, .min_inputs = 2, .max_inputs = 2, .infer = infer_pow,
         .create = make_kernel<Pow>()});
  r.add({.op_type = "Pow", .since_version = 12, .min_inputs = 2, .max_inputs = 2, .infer = infer_pow,
         .create = make_kernel<Pow>(), .also_since = {13, 15}});
  // Version 6 is what an opset-7 model resolves to (equal shapes); 8 added
  // broadcasting; 12 (Max/Min) and 13 only widened the type lists.
  for (int since : {6, 8}) {
    const std::vector<int> max_min_later = since == 8 ? std::vector<int>{12, 13} : std::vector<int>{};
    const std::vector<int> sum_mean_later = since == 8 ? std::vector<int>{13} : std::vector<int>{};
    r.add({.op_type = "Max", .since_version = since, .max_inputs = kVariadic, .infer = infer_broadcast,
           .create = make_kernel<Variadic<MaxOp>>(), .also_since = max_min_later});
    r.add({.op_type = "Min", .since_version = since, .max_inputs = kVariadic, .infer = infer_broadcast,
           .create = make_kernel<Variadic<MinOp>>(), .also_since = max_min_later});
    r.add({.op_type = "Sum", .since_version = since, .max_inputs = kVariadic, .infer = infer_broadcast,
           .create = make_kernel<Variadic<AddOp>>(), .also_since = sum_mean_later});
    r.add({.op_type = "Mean", .since_version = since, .max_inputs = kVariadic, .infer = infer_broadcast,
           .create = make_kernel<Variadic<AddOp, true>>(), .also_since = sum_mean_later});
  }
}

}  // namespace onnx_mini
