// Unary math: Abs Neg Exp Log Sqrt Reciprocal Erf Floor Ceil Sign, and Clip.
// Float ops compute in the input's own type via <cmath>; integer Abs/Neg wrap
// (abs(INT_MIN) == INT_MIN, as two's complement hardware and numpy give).
#include <cmath>
#include <limits>

#include "ops/elementwise_util.h"
#include "ops/numeric.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

// Which dtypes an op accepts.
enum class Domain { kFloat, kSigned, kNumeric };

template <Domain D, typename F>
bool dispatch_domain(DataType t, F&& f) {
  if constexpr (D == Domain::kFloat) {
    return dispatch_float(t, std::forward<F>(f));
  } else {
    if (D == Domain::kSigned && (t == DataType::kUInt8 || t == DataType::kUInt16 || t == DataType::kUInt32 ||
                                 t == DataType::kUInt64)) {
      return false;
    }
    return dispatch_arithmetic(t, std::forward<F>(f));
  }
}

struct AbsFn {
  template <typename T> T operator()(T x) const {
    if constexpr (std::is_floating_point_v<T>) return std::fabs(x);
    else if constexpr (std::is_signed_v<T>) return x < 0 ? wrap_neg(x) : x;
    else return x;
  }
};
struct NegFn {
  template <typename T> T operator()(T x) const { return wrap_neg(x); }
};
struct ExpFn {
  template <typename T> T operator()(T x) const { return std::exp(x); }
};
struct LogFn {
  template <typename T> T operator()(T x) const { return std::log(x); }
};
struct SqrtFn {
  template <typename T> T operator()(T x) const { return std::sqrt(x); }
};
struct ReciprocalFn {
  template <typename T> T operator()(T x) const { return T{1} / x; }
};
struct ErfFn {
  template <typename T> T operator()(T x) const { return std::erf(x); }
};
struct FloorFn {
  template <typename T> T operator()(T x) const { return std::floor(x); }
};
struct CeilFn {
  template <typename T> T operator()(T x) const { return std::ceil(x); }
};
// Sign of NaN is NaN (numpy).
struct SignFn {
  template <typename T> T operator()(T x) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(x)) return x;
    }
    return x > T{0} ? T{1} : (x < T{0} ? static_cast<T>(-1) : T{0});
  }
};

template <typename Fn, Domain D>
class Unary final : public Kernel {
 public:
  Status init(const NodeInfo&) { return Status::ok(); }
  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, x.shape(), x.dtype()));
    bool ok = dispatch_domain<D>(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* in = x.data<T>();
      T* out = y->data<T>();
      const Fn fn;
      for (int64_t i = 0; i < x.num_elements(); ++i) out[i] = fn(in[i]);
    });
    return ok ? Status::ok() : unsupported("input 'X': dtype " + dtype_name(x.dtype()));
  }
};

// Reads a bound of Clip-11+ (a scalar or one-element tensor of the input dtype).
template <typename T>
Result<T> clip_bound(const Tensor* t, const char* name, T fallback, DataType dt) {
  if (!t) return fallback;
  if (t->dtype() != dt) {
    return bad_input(std::string("input '") + name + "' is " + dtype_name(t->dtype()) + ", input 'input' is " +
                     dtype_name(dt));
  }
  if (t->num_elements() != 1) {
    return bad_input(std::string("input '") + name + "' must be a scalar, got " + describe(*t));
  }
  return t->data<T>()[0];
}

// Clip-6 takes min/max as float attributes; Clip-11 takes them as optional
// inputs (an empty input name, as PyTorch exports for a missing max, means no bound).
// y = min(max(x, lo), hi): with lo > hi every element becomes hi (numpy.clip). NaN stays NaN.
class Clip final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    from_inputs_ = node.since_version >= 11;
    if (!from_inputs_) {
      OM_ASSIGN_OR_RETURN(attr_min_, node.attrs().get_float("min", std::numeric_limits<float>::lowest()));
      OM_ASSIGN_OR_RETURN(attr_max_, node.attrs().get_float("max", std::numeric_limits<float>::max()));
    }
    return Status::ok();
  }
  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, x.shape(), x.dtype()));
    Status st;
    bool ok = dispatch_arithmetic(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      T lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
      if (from_inputs_) {
        auto l = clip_bound<T>(ctx.input(1), "min", lo, x.dtype());
        auto h = clip_bound<T>(ctx.input(2), "max", hi, x.dtype());
        if (!l.is_ok()) { st = l.status(); return; }
        if (!h.is_ok()) { st = h.status(); return; }
        lo = l.value();
        hi = h.value();
      } else {
        lo = convert_value<T>(attr_min_);
        hi = convert_value<T>(attr_max_);
      }
      const T* in = x.data<T>();
      T* out = y->data<T>();
      for (int64_t i = 0; i < x.num_elements(); ++i) {
        T v = in[i];
        if (v < lo) v = lo;
        if (v > hi) v = hi;
        out[i] = v;
      }
    });
    if (!ok) return unsupported("input 'input': dtype " + dtype_name(x.dtype()));
    return st;
  }

 private:
  bool from_inputs_ = true;
  float attr_min_ = 0, attr_max_ = 0;
};

}  // namespace

void register_unary_math_ops(OpRegistry& r) {
  r.add({.op_type = "Abs", .since_version = 6, .infer = infer_same_as_input0,
         .create = make_kernel<Unary<AbsFn, Domain::kNumeric>>()});
  r.add({.op_type = "Neg", .since_version = 6, .infer = infer_same_as_input0,
         .create = make_kernel<Unary<NegFn, Domain::kSigned>>()});
  r.add({.op_type = "Exp", .since_version = 6, .infer = infer_same_as_input0,
         .create = make_kernel<Unary<ExpFn, Domain::kFloat>>()});
  r.add({.op_type = "Log", .since_version = 6, .infer = infer_same_as_input0,
         .create = make_kernel<Unary<LogFn, Domain::kFloat>>()});
  r.add({.op_type = "Sqrt", .since_version = 6, .infer = infer_same_as_input0,
         .create = make_kernel<Unary<SqrtFn, Domain::kFloat>>()});
  r.add({.op_type = "Reciprocal", .since_version = 6, .infer = infer_same_as_input0,
         .create = make_kernel<Unary<ReciprocalFn, Domain::kFloat>>()});
  r.add({.op_type = "Erf", .since_version = 9, .infer = infer_same_as_input0,
         .create = make_kernel<Unary<ErfFn, Domain::kFloat>>()});
  r.add({.op_type = "Floor", .since_version = 6, .infer = infer_same_as_input0,
         .create = make_kernel<Unary<FloorFn, Domain::kFloat>>()});
  r.add({.op_type = "Ceil", .since_version = 6, .infer = infer_same_as_input0,
         .create = make_kernel<Unary<CeilFn, Domain::kFloat>>()});
  r.add({.op_type = "Sign", .since_version = 9, .infer = infer_same_as_input0,
         .create = make_kernel<Unary<SignFn, Domain::kNumeric>>()});
  r.add({.op_type = "Clip", .since_version = 6, .attributes = {"min", "max"}, .infer = infer_same_as_input0,
         .create = make_kernel<Clip>()});
  r.add({.op_type = "Clip", .since_version = 11, .max_inputs = 3, .infer = infer_same_as_input0,
         .create = make_kernel<Clip>()});
}

}  // namespace onnx_mini
