// Unary math: Abs Neg Exp Log Sqrt Reciprocal Erf Floor Ceil Sign Round, the
// predicates IsNaN and IsInf, Shrink, and Clip.
// Float ops compute in the input's own type via <cmath>; integer Abs/Neg wrap
// (abs(INT_MIN) == INT_MIN, as two's complement hardware and numpy give).
#include <cmath>
#include <limits>

#include "ops/numeric.h"
#include "ops/unary_kernel.h"

namespace onnx_mini {
namespace {

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

// Halves round to the even neighbour (numpy.round, ONNX Round): nearbyint in
// the default rounding mode, which nothing in onnx-mini changes.
struct RoundFn {
  template <typename T> T operator()(T x) const { return std::nearbyint(x); }
};

// y[i] = Pred(x[i]) as bool, for float and double inputs (16-bit floats arrive
// widened, which keeps NaN and infinities).
template <typename Pred>
class FloatPredicate final : public Kernel {
 public:
  Status init(const NodeInfo& node) { return pred_.init(node); }
  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, x.shape(), DataType::kBool));
    bool* out = y->data<bool>();
    bool ok = dispatch_float(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* in = x.data<T>();
      for (int64_t i = 0; i < x.num_elements(); ++i) out[i] = pred_(in[i]);
    });
    return ok ? Status::ok() : unsupported("input 'X': dtype " + dtype_name(x.dtype()));
  }

 private:
  Pred pred_;
};

struct IsNaNPred {
  Status init(const NodeInfo&) { return Status::ok(); }
  template <typename T> bool operator()(T x) const { return std::isnan(x); }
};

// IsInf-10: which signs count is chosen by detect_positive / detect_negative.
struct IsInfPred {
  bool positive = true, negative = true;
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(int64_t p, node.attrs().get_int("detect_positive", 1));
    OM_ASSIGN_OR_RETURN(int64_t n, node.attrs().get_int("detect_negative", 1));
    positive = p != 0;
    negative = n != 0;
    return Status::ok();
  }
  template <typename T> bool operator()(T x) const { return std::isinf(x) && (x > 0 ? positive : negative); }
};

Status infer_bool_like_input0(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_RETURN_IF_ERROR(infer_same_as_input0(node, outputs));
  outputs[0].dtype = DataType::kBool;
  return Status::ok();
}

// Shrink-9: y = x + bias below -lambd, x - bias above lambd, 0 between. The
// arithmetic is done in double and converted to the input's type (integer
// inputs truncate, as ONNX Runtime does).
class Shrink final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(float bias, node.attrs().get_float("bias", 0.0f));
    OM_ASSIGN_OR_RETURN(float lambd, node.attrs().get_float("lambd", 0.5f));
    bias_ = bias;
    lambd_ = lambd;
    return Status::ok();
  }
  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, x.shape(), x.dtype()));
    bool ok = dispatch_arithmetic(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* in = x.data<T>();
      T* out = y->data<T>();
      for (int64_t i = 0; i < x.num_elements(); ++i) {
        const double v = static_cast<double>(in[i]);
        const double r = v < -lambd_ ? v + bias_ : (v > lambd_ ? v - bias_ : 0.0);
        out[i] = convert_value<T>(std::isnan(v) ? v : r);
      }
    });
    return ok ? Status::ok() : unsupported("input 'input': dtype " + dtype_name(x.dtype()));
  }

 private:
  double bias_ = 0, lambd_ = 0.5;
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
         .create = make_kernel<Unary<AbsFn, Domain::kNumeric>>(), .also_since = {13}});
  r.add({.op_type = "Neg", .since_version = 6, .infer = infer_same_as_input0,
         .create = make_kernel<Unary<NegFn, Domain::kSigned>>(), .also_since = {13}});
  r.add({.op_type = "Exp", .since_version = 6, .infer = infer_same_as_input0,
         .create = make_kernel<Unary<ExpFn, Domain::kFloat>>(), .also_since = {13}});
  r.add({.op_type = "Log", .since_version = 6, .infer = infer_same_as_input0,
         .create = make_kernel<Unary<LogFn, Domain::kFloat>>(), .also_since = {13}});
  r.add({.op_type = "Sqrt", .since_version = 6, .infer = infer_same_as_input0,
         .create = make_kernel<Unary<SqrtFn, Domain::kFloat>>(), .also_since = {13}});
  r.add({.op_type = "Reciprocal", .since_version = 6, .infer = infer_same_as_input0,
         .create = make_kernel<Unary<ReciprocalFn, Domain::kFloat>>(), .also_since = {13}});
  r.add({.op_type = "Erf", .since_version = 9, .infer = infer_same_as_input0,
         .create = make_kernel<Unary<ErfFn, Domain::kFloat>>(), .also_since = {13}});
  r.add({.op_type = "Floor", .since_version = 6, .infer = infer_same_as_input0,
         .create = make_kernel<Unary<FloorFn, Domain::kFloat>>(), .also_since = {13}});
  r.add({.op_type = "Ceil", .since_version = 6, .infer = infer_same_as_input0,
         .create = make_kernel<Unary<CeilFn, Domain::kFloat>>(), .also_since = {13}});
  r.add({.op_type = "Sign", .since_version = 9, .infer = infer_same_as_input0,
         .create = make_kernel<Unary<SignFn, Domain::kNumeric>>(), .also_since = {13}});
  r.add({.op_type = "Round", .since_version = 11, .infer = infer_same_as_input0,
         .create = make_kernel<Unary<RoundFn, Domain::kFloat>>()});
  // 13 widened the types, 20 added float8 (refused at load).
  r.add({.op_type = "IsNaN", .since_version = 9, .infer = infer_bool_like_input0,
         .create = make_kernel<FloatPredicate<IsNaNPred>>(), .also_since = {13, 20}});
  r.add({.op_type = "IsInf", .since_version = 10, .attributes = {"detect_negative", "detect_positive"},
         .infer = infer_bool_like_input0, .create = make_kernel<FloatPredicate<IsInfPred>>(), .also_since = {20}});
  r.add({.op_type = "Shrink", .since_version = 9, .attributes = {"bias", "lambd"}, .infer = infer_same_as_input0,
         .create = make_kernel<Shrink>()});
  r.add({.op_type = "Clip", .since_version = 6, .attributes = {"min", "max"}, .infer = infer_same_as_input0,
         .create = make_kernel<Clip>()});
  // 12 added the integer types, 13 bfloat16.
  r.add({.op_type = "Clip", .since_version = 11, .max_inputs = 3, .infer = infer_same_as_input0,
         .create = make_kernel<Clip>(), .also_since = {12, 13}});
}

}  // namespace onnx_mini
