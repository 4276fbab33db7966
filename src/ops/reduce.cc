// Reductions: ReduceSum/Mean/Max/Min/Prod/SumSquare/L1/L2/LogSum/LogSumExp, ArgMax/ArgMin.
// axes is an attribute before opset 13 (ReduceSum) / 18 (the others) and an
// optional input after; empty axes reduce everything unless noop_with_empty_axes.
// Float inputs accumulate in double; ReduceLogSumExp is max-shifted.
#include <cmath>
#include <cstring>
#include <limits>

#include "ops/broadcast.h"
#include "ops/elementwise_util.h"
#include "ops/numeric.h"
#include "ops/reduce_util.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

enum class Kind { kSum, kMean, kMax, kMin, kProd, kSumSquare, kL1, kL2, kLogSum, kLogSumExp };

struct ReducePlan {
  bool noop = false;
  std::vector<bool> reduced;  // per input dim
  Shape out_shape;
};

Result<ReducePlan> plan_reduce(const Shape& in, const std::vector<int64_t>& axes_raw, bool keepdims, bool noop_empty,
                               const std::string& what) {
  ReducePlan p;
  const int64_t rank = static_cast<int64_t>(in.size());
  if (axes_raw.empty() && noop_empty) {
    p.noop = true;
    p.out_shape = in;
    return p;
  }
  OM_ASSIGN_OR_RETURN(std::vector<int64_t> axes, normalize_axes(axes_raw, rank, what));
  p.reduced.assign(in.size(), axes.empty());
  for (int64_t a : axes) p.reduced[static_cast<size_t>(a)] = true;
  for (size_t d = 0; d < in.size(); ++d) {
    if (!p.reduced[d]) p.out_shape.push_back(in[d]);
    else if (keepdims) p.out_shape.push_back(1);
  }
  return p;
}

// Reads the axes of this node for one run (from the attribute or the input).
struct AxesSource {
  bool from_input = false;
  std::vector<int64_t> attr_axes;
  bool keepdims = true;
  bool noop_empty = false;

  Status init(const NodeInfo& node, int input_since) {
    from_input = node.since_version >= input_since;
    OM_ASSIGN_OR_RETURN(int64_t k, node.attrs().get_int("keepdims", 1));
    keepdims = k != 0;
    if (from_input) {
      OM_ASSIGN_OR_RETURN(int64_t n, node.attrs().get_int("noop_with_empty_axes", 0));
      noop_empty = n != 0;
    } else {
      OM_ASSIGN_OR_RETURN(attr_axes, node.attrs().get_ints("axes", {}));
    }
    return Status::ok();
  }
  // The axes for one run: the attribute, or the optional input (absent = empty).
  Result<std::vector<int64_t>> axes(const Tensor* axes_input) const {
    if (!from_input) return attr_axes;
    if (!axes_input) return std::vector<int64_t>{};
    return read_int_list(*axes_input, "input 'axes'");
  }
  std::string what() const { return from_input ? "input 'axes'" : "attribute 'axes'"; }
};

template <Kind K, typename T>
void reduce_typed(const Tensor& x, Tensor& y, const ReducePlan& p) {
  constexpr bool kFloat = std::is_floating_point_v<T>;
  // Integer sums accumulate in 64 bits of the input's signedness: a uint64 above
  // INT64_MAX must not turn negative (ReduceL1 would negate it, Mean divide it signed).
  using Wide = std::conditional_t<std::is_unsigned_v<T>, uint64_t, int64_t>;
  using A = std::conditional_t<kFloat || K == Kind::kL2 || K == Kind::kLogSum || K == Kind::kLogSumExp, double,
                               std::conditional_t<K == Kind::kMax || K == Kind::kMin, T, Wide>>;
  const Shape& in = x.shape();
  const int64_t out_n = y.num_elements();
  // Output strides aligned to the input dims, 0 on reduced dims.
  Shape keep_shape;
  for (size_t d = 0; d < in.size(); ++d) keep_shape.push_back(p.reduced[d] ? 1 : in[d]);
  std::array<std::vector<int64_t>, 1> strides{broadcast_strides(keep_shape, in)};
  for (size_t d = 0; d < in.size(); ++d) {
    if (p.reduced[d]) strides[0][d] = 0;
  }
  int64_t count = 1;
  for (size_t d = 0; d < in.size(); ++d) {
    if (p.reduced[d]) count *= in[d];
  }
  A init{};
  if constexpr (K == Kind::kProd) init = A{1};
  if constexpr (K == Kind::kMax || K == Kind::kLogSumExp) {
    init = kFloat || K == Kind::kLogSumExp ? static_cast<A>(-std::numeric_limits<double>::infinity())
                                           : std::numeric_limits<A>::lowest();
  }
  if constexpr (K == Kind::kMin) {
    init = kFloat ? static_cast<A>(std::numeric_limits<double>::infinity()) : std::numeric_limits<A>::max();
  }
  std::vector<A> acc(static_cast<size_t>(out_n), init);
  const T* px = x.data<T>();
  auto walk = [&](auto fn) {
    for_each_broadcast<1>(in, strides, [&](int64_t i, const std::array<int64_t, 1>& o) { fn(acc[o[0]], px[i], o[0]); });
  };
  if constexpr (K == Kind::kSum || K == Kind::kMean) {
    walk([](A& a, T v, int64_t) { a = wrap_add(a, static_cast<A>(v)); });
  } else if constexpr (K == Kind::kProd) {
    walk([](A& a, T v, int64_t) { a = wrap_mul(a, static_cast<A>(v)); });
  } else if constexpr (K == Kind::kSumSquare) {
    walk([](A& a, T v, int64_t) { a = wrap_add(a, wrap_mul(static_cast<A>(v), static_cast<A>(v))); });
  } else if constexpr (K == Kind::kL1) {
    walk([](A& a, T v, int64_t) {
      A av = static_cast<A>(v);
      if constexpr (std::is_signed_v<A>) av = av < A{0} ? wrap_neg(av) : av;
      a = wrap_add(a, av);
    });
  } else if constexpr (K == Kind::kL2) {
    walk([](A& a, T v, int64_t) { a += static_cast<A>(v) * static_cast<A>(v); });
  } else if constexpr (K == Kind::kLogSum) {
    walk([](A& a, T v, int64_t) { a += static_cast<A>(v); });
  } else if constexpr (K == Kind::kMax || K == Kind::kMin) {
    walk([](A& a, T v, int64_t) {
      A av = static_cast<A>(v);
      if constexpr (kFloat) {
        if (std::isnan(av)) { a = av; return; }
        if (std::isnan(a)) return;
      }
      if (K == Kind::kMax ? av > a : av < a) a = av;
    });
  } else if constexpr (K == Kind::kLogSumExp) {
    std::vector<double> mx(acc);  // pass 1: the max per output, to shift exp() into range
    for_each_broadcast<1>(in, strides, [&](int64_t i, const std::array<int64_t, 1>& o) {
      double v = static_cast<double>(px[i]);
      if (std::isnan(v) || v > mx[o[0]]) mx[o[0]] = v;
    });
    std::fill(acc.begin(), acc.end(), 0.0);
    for_each_broadcast<1>(in, strides, [&](int64_t i, const std::array<int64_t, 1>& o) {
      acc[o[0]] += std::exp(static_cast<double>(px[i]) - mx[o[0]]);
    });
    for (size_t o = 0; o < acc.size(); ++o) {
      // An infinite (or empty: -inf) max is the result itself; exp(inf - inf) would be NaN.
      acc[o] = std::isinf(mx[o]) ? mx[o] : mx[o] + std::log(acc[o]);
    }
  }
  T* py = y.data<T>();
  for (int64_t o = 0; o < out_n; ++o) {
    A a = acc[static_cast<size_t>(o)];
    if constexpr (K == Kind::kMean) {
      if constexpr (kFloat) {
        a = a / static_cast<double>(count);  // 0/0 = NaN for an empty reduction, as numpy
      } else {
        a = count ? a / count : A{0};
      }
    }
    if constexpr (K == Kind::kL2) a = std::sqrt(a);
    if constexpr (K == Kind::kLogSum) a = std::log(a);
    py[o] = convert_value<T>(a);
  }
}

template <Kind K>
class Reduce final : public Kernel {
 public:
  explicit Reduce(int input_since = 18) : input_since_(input_since) {}
  Status init(const NodeInfo& node) { return axes_.init(node, input_since_); }
  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    OM_ASSIGN_OR_RETURN(std::vector<int64_t> axes, axes_.axes(ctx.input(1)));
    OM_ASSIGN_OR_RETURN(ReducePlan p, plan_reduce(x.shape(), axes, axes_.keepdims, axes_.noop_empty, axes_.what()));
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, p.out_shape, x.dtype()));
    if (p.noop) {
      if (x.byte_size()) std::memcpy(y->raw_data(), x.raw_data(), x.byte_size());
      return Status::ok();
    }
    if constexpr (K == Kind::kMax || K == Kind::kMin) {
      // bool (ReduceMax/Min-20): any / all, which is max / min of the 0/1 bytes.
      if (x.dtype() == DataType::kBool) {
        reduce_typed<K, uint8_t>(x, *y, p);
        // An empty ReduceMin leaves its 255 start value: all() of nothing is true, stored as 1.
        auto* out = static_cast<uint8_t*>(y->raw_data());
        for (int64_t i = 0; i < y->num_elements(); ++i) out[i] = out[i] != 0 ? 1 : 0;
        return Status::ok();
      }
    }
    bool ok = dispatch_arithmetic(x.dtype(), [&](auto tag) { reduce_typed<K, decltype(tag)>(x, *y, p); });
    return ok ? Status::ok() : unsupported("input 'data': dtype " + dtype_name(x.dtype()));
  }

 private:
  int input_since_;
  AxesSource axes_;
};

InferFn infer_reduce(int input_since) {
  return [input_since](const NodeInfo& node, std::vector<TensorInfo>& outputs) -> Status {
    const TensorInfo* x = node.input(0);
    outputs[0].dtype = x->dtype;
    AxesSource src;
    OM_RETURN_IF_ERROR(src.init(node, input_since));
    if (!x->has_shape) return Status::ok();
    const TensorInfo* axes_in = node.input(1);
    if (src.from_input && axes_in && !axes_in->constant) {
      if (src.keepdims) {  // rank is kept, the dims are data-dependent
        outputs[0].has_shape = true;
        outputs[0].dims.assign(x->dims.size(), Dim{});
      }
      return Status::ok();
    }
    OM_ASSIGN_OR_RETURN(std::vector<int64_t> axes, src.axes(axes_in ? axes_in->constant : nullptr));
    Shape fake(x->dims.size(), 2);  // plan on the rank only, then copy dims through
    auto p = plan_reduce(fake, axes, src.keepdims, src.noop_empty, src.what());
    if (!p.is_ok()) return invalid_model(p.status().message());
    outputs[0].has_shape = true;
    outputs[0].dims.clear();
    for (size_t d = 0; d < x->dims.size(); ++d) {
      if (p->noop || !p->reduced[d]) outputs[0].dims.push_back(x->dims[d]);
      else if (src.keepdims) outputs[0].dims.push_back(Dim{1, ""});
    }
    return Status::ok();
  };
}

// ArgMax / ArgMin along one axis; ties pick the first index unless
// select_last_index (opset 12+). NaN counts as the extreme (numpy).
template <bool kMax>
class ArgReduce final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(axis_, node.attrs().get_int("axis", 0));
    OM_ASSIGN_OR_RETURN(int64_t k, node.attrs().get_int("keepdims", 1));
    OM_ASSIGN_OR_RETURN(int64_t l, node.attrs().get_int("select_last_index", 0));
    keepdims_ = k != 0;
    last_ = l != 0;
    return Status::ok();
  }
  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    auto axis_r = normalize_axis(axis_, x.rank());
    if (!axis_r.is_ok()) return bad_input("attribute 'axis': " + axis_r.status().message());
    const int64_t axis = axis_r.value();
    const int64_t n = x.dim(axis);
    if (n == 0) return bad_input("input 'data': cannot take Arg" + std::string(kMax ? "Max" : "Min") +
                                 " over the zero-size axis " + std::to_string(axis_));
    Shape out_shape;
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < x.rank(); ++d) {
      if (d < axis) outer *= x.dim(d);
      if (d > axis) inner *= x.dim(d);
      if (d != axis) out_shape.push_back(x.dim(d));
      else if (keepdims_) out_shape.push_back(1);
    }
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, out_shape, DataType::kInt64));
    int64_t* py = y->data<int64_t>();
    bool ok = dispatch_arithmetic(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* px = x.data<T>();
      for (int64_t o = 0; o < outer; ++o) {
        for (int64_t i = 0; i < inner; ++i) {
          const T* base = px + o * n * inner + i;
          int64_t best = 0;
          for (int64_t k = 1; k < n; ++k) {
            T v = base[k * inner], b = base[best * inner];
            if (is_nan(b)) break;
            bool better = is_nan(v) || (kMax ? v > b : v < b) || (last_ && v == b);
            if (better) best = k;
          }
          py[o * inner + i] = best;
        }
      }
    });
    return ok ? Status::ok() : unsupported("input 'data': dtype " + dtype_name(x.dtype()));
  }

 private:
  template <typename T> static bool is_nan(T v) {
    if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
    else return false;
  }
  int64_t axis_ = 0;
  bool keepdims_ = true, last_ = false;
};

Status infer_arg_reduce(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* x = node.input(0);
  outputs[0].dtype = DataType::kInt64;
  if (!x->has_shape) return Status::ok();
  OM_ASSIGN_OR_RETURN(int64_t axis, node.attrs().get_int("axis", 0));
  OM_ASSIGN_OR_RETURN(int64_t keep, node.attrs().get_int("keepdims", 1));
  const int64_t rank = static_cast<int64_t>(x->dims.size());
  auto a = normalize_axis(axis, rank);
  if (!a.is_ok()) return invalid_model("attribute 'axis': " + a.status().message());
  outputs[0].has_shape = true;
  for (int64_t d = 0; d < rank; ++d) {
    if (d != a.value()) outputs[0].dims.push_back(x->dims[static_cast<size_t>(d)]);
    else if (keep) outputs[0].dims.push_back(Dim{1, ""});
  }
  return Status::ok();
}

// Versions with the axes attribute (1, then `attribute_later`, which made axes
// negative-capable (11) or widened the types), then the one taking axes as an
// input (`input_since`, then `input_later`: types only, bool for Max/Min at 20).
template <Kind K>
void add_reduce(OpRegistry& r, const char* name, int input_since, std::vector<int> attribute_later,
                std::vector<int> input_later = {}) {
  auto create = [input_since](const NodeInfo& node) -> Result<std::unique_ptr<Kernel>> {
    auto k = std::make_unique<Reduce<K>>(input_since);
    OM_RETURN_IF_ERROR(k->init(node));
    return std::unique_ptr<Kernel>(std::move(k));
  };
  r.add({.op_type = name, .since_version = 1, .attributes = {"axes", "keepdims"}, .infer = infer_reduce(input_since),
         .create = create, .also_since = std::move(attribute_later)});
  r.add({.op_type = name, .since_version = input_since, .max_inputs = 2,
         .attributes = {"keepdims", "noop_with_empty_axes"}, .infer = infer_reduce(input_since), .create = create,
         .also_since = std::move(input_later)});
}

}  // namespace

void register_reduce_ops(OpRegistry& r) {
  add_reduce<Kind::kSum>(r, "ReduceSum", 13, {11});
  add_reduce<Kind::kMean>(r, "ReduceMean", 18, {11, 13});
  add_reduce<Kind::kMax>(r, "ReduceMax", 18, {11, 12, 13}, {20});
  add_reduce<Kind::kMin>(r, "ReduceMin", 18, {11, 12, 13}, {20});
  add_reduce<Kind::kProd>(r, "ReduceProd", 18, {11, 13});
  add_reduce<Kind::kSumSquare>(r, "ReduceSumSquare", 18, {11, 13});
  add_reduce<Kind::kL1>(r, "ReduceL1", 18, {11, 13});
  add_reduce<Kind::kL2>(r, "ReduceL2", 18, {11, 13});
  add_reduce<Kind::kLogSum>(r, "ReduceLogSum", 18, {11, 13});
  add_reduce<Kind::kLogSumExp>(r, "ReduceLogSumExp", 18, {11, 13});
  // 11 allowed a negative axis (the kernel always did), 13 added bfloat16.
  r.add({.op_type = "ArgMax", .since_version = 1, .attributes = {"axis", "keepdims"}, .infer = infer_arg_reduce,
         .create = make_kernel<ArgReduce<true>>(), .also_since = {11}});
  r.add({.op_type = "ArgMax", .since_version = 12, .attributes = {"axis", "keepdims", "select_last_index"},
         .infer = infer_arg_reduce, .create = make_kernel<ArgReduce<true>>(), .also_since = {13}});
  r.add({.op_type = "ArgMin", .since_version = 1, .attributes = {"axis", "keepdims"}, .infer = infer_arg_reduce,
         .create = make_kernel<ArgReduce<false>>(), .also_since = {11}});
  r.add({.op_type = "ArgMin", .since_version = 12, .attributes = {"axis", "keepdims", "select_last_index"},
         .infer = infer_arg_reduce, .create = make_kernel<ArgReduce<false>>(), .also_since = {13}});
}

}  // namespace onnx_mini
