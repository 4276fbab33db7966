// SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss (opsets 12, 13).
// The math lives in two reusable functions (ops/loss.h) so the graph
// compiler's fused softmax-cross-entropy kernel runs exactly the same code.
#include "ops/loss.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "ops/exp_sum.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

// "[1, 0, 2]": the multi-index of a linear position, for error messages.
std::string position_string(int64_t index, const Shape& shape) {
  std::vector<int64_t> coords(shape.size(), 0);
  for (size_t d = shape.size(); d-- > 0;) {
    coords[d] = shape[d] > 0 ? index % shape[d] : 0;
    index = shape[d] > 0 ? index / shape[d] : 0;
  }
  return shape_to_string(coords);
}

// Every label is in [0, C) or equals ignore_index; checked before any
// label is used as an index.
template <typename L>
Status check_labels(const Tensor& labels, int64_t num_classes, const LossOptions& options) {
  const L* p = labels.data<L>();
  for (int64_t i = 0; i < labels.num_elements(); ++i) {
    const int64_t v = static_cast<int64_t>(p[i]);
    if (options.ignore_index && v == *options.ignore_index) continue;
    if (v < 0 || v >= num_classes) {
      return bad_input("input 'labels': label " + std::to_string(v) + " at position " + position_string(i, labels.shape()) +
                       " is outside [0, " + std::to_string(num_classes) + ")" +
                       (options.ignore_index ? " and is not ignore_index " + std::to_string(*options.ignore_index)
                                             : std::string()));
    }
  }
  return Status::ok();
}

// Neumaier's compensated sum in double: the rounding error of every addition
// is recovered exactly (Fast2Sum with the larger operand first) and added back
// at the end, so terms of opposite sign do not wipe out the small ones (the
// rows -1e30, -1, 1e30, -2.5 sum to 3.5, not the 2.5 a double, pairwise or
// Kahan sum gives). Error bound (Ogita, Rump and Oishi 2005, Prop. 4.5, for
// the equivalent cascaded TwoSum): |value() - S| <= 2^-53 |S| +
// (n - 1)^2 2^-106 (1 + O(n 2^-53)) * sum |t_i| for n terms t_i of exact sum S.
class CompensatedSum {
 public:
  void add(double t) {
    const double s = sum_ + t;
    compensation_ += std::abs(sum_) >= std::abs(t) ? (sum_ - s) + t : (t - s) + sum_;
    sum_ = s;
  }
  // An infinite or NaN sum is the answer as it stands (the compensation of
  // inf - inf is NaN and would turn an infinite loss into NaN).
  double value() const { return std::isfinite(sum_) ? sum_ + compensation_ : sum_; }

 private:
  double sum_ = 0, compensation_ = 0;
};

// Sums w_i * loss_i and w_i over [N, inner] positions, given
// neg_log_prob(n, label, j) for the label's class. Writes the per-position
// losses when the reduction is none, the reduced scalar otherwise. Each term
// is formed in double (NLL's w * x is exact there); the sums are compensated
// (CompensatedSum's bound), so a reduced float loss is faithfully rounded
// unless sum |t_i| exceeds |S| by a factor near 2^82 / n^2.
template <typename T, typename L, typename PerRow, typename NegLogProb>
void accumulate_loss(const L* labels, const T* weight, int64_t n_batch, int64_t inner, const LossOptions& options,
                     T* out, PerRow&& per_row, NegLogProb&& neg_log_prob) {
  CompensatedSum total, weight_sum;
  for (int64_t n = 0; n < n_batch; ++n) {
    per_row(n);
    for (int64_t j = 0; j < inner; ++j) {
      const int64_t label = static_cast<int64_t>(labels[n * inner + j]);
      double w = 0, term = 0;
      if (!(options.ignore_index && label == *options.ignore_index)) {
        w = weight ? static_cast<double>(weight[label]) : 1.0;
        term = w * neg_log_prob(n, label, j);
      }
      if (options.reduction == LossReduction::kNone) out[n * inner + j] = static_cast<T>(term);
      total.add(term);
      weight_sum.add(w);
    }
  }
  // mean over zero counted positions is 0/0 = NaN, as PyTorch.
  if (options.reduction == LossReduction::kSum) out[0] = static_cast<T>(total.value());
  if (options.reduction == LossReduction::kMean) out[0] = static_cast<T>(total.value() / weight_sum.value());
}

// sum of exp(x[i] - shift) over i < n without the term at `skip`, in double.
// Float logits: ops/exp_sum.h (vectorised, each term within 2^-45 relative).
inline double row_exp_sum(const float* x, int64_t n, float shift, int64_t skip) {
  return sum_exp_shifted(x, 1, n, static_cast<double>(shift), skip);
}

inline double row_exp_sum(const double* x, int64_t n, double shift, int64_t skip) {
  double total = 0;
  for (int64_t i = 0; i < n; ++i) total += i == skip ? 0.0 : std::exp(x[i] - shift);
  return total;
}

// exp in double of a shifted logit: vecmath's for float data (enough for a
// float result, and vectorised), the C library's for double data.
inline double exp_shifted(float v, double shift) { return vecmath::exp(static_cast<double>(v) - shift); }
inline double exp_shifted(double v, double shift) { return std::exp(v - shift); }

// The 2-D case [N, C] (no inner dims, what every classifier head feeds): scalar
// accumulators, no per-row vectors. Per row: the max and its position, then one
// pass summing exp(x - max) over the other classes (row_exp_sum), all in
// double: for float logits each term is within 2^-45 of its own value, however
// far below the maximum, which the loss of a confident correct prediction,
// log1p(rest) ~ rest, needs (float terms, ~2 ULP each, gave up to 1.5 ULP).
// As in the general path the maximum's term (exactly 1) is left out and
// log(sum) = log1p(rest), so a confident correct prediction keeps its tiny loss
// with full relative precision, and loss / log_prob are formed in double, so
// logits of 1e4 give the exact finite loss. Probabilities are never stored.
// Each loss and log_prob is (max - x) + log_sum or its negation, two terms of
// one sign: no cancellation, so each float output is faithfully rounded.
template <typename T, typename L>
void sce_rows(const T* x, const L* labels, const T* weight, int64_t n_batch, int64_t classes,
              const LossOptions& options, T* out, T* lp) {
  double shift = 0, log_sum = 0;  // of the current row
  auto per_row = [&](int64_t n) {
    const T* row = x + n * classes;
    T max_v = -std::numeric_limits<T>::infinity();
    int64_t arg = -1;
    for (int64_t c = 0; c < classes; ++c) {
      if (row[c] > max_v) {
        max_v = row[c];
        arg = c;
      }
    }
    // No finite maximum (all -inf or NaN): shift 0 and rest starts at -1 (nothing
    // is left out of the sum), so log_sum is -inf or NaN and the loss NaN, as in
    // the general path.
    const T shift_t = arg < 0 ? T(0) : max_v;
    const double rest = (arg < 0 ? -1.0 : 0.0) + row_exp_sum(row, classes, shift_t, arg);
    shift = static_cast<double>(shift_t);
    log_sum = std::log1p(rest);
    if (lp) {
      T* o = lp + n * classes;
      for (int64_t c = 0; c < classes; ++c) o[c] = static_cast<T>(static_cast<double>(row[c]) - shift - log_sum);
    }
  };
  auto neg_log_prob = [&](int64_t n, int64_t label, int64_t) {
    return -(static_cast<double>(x[n * classes + label]) - shift - log_sum);
  };
  accumulate_loss<T>(labels, weight, n_batch, 1, options, out, per_row, neg_log_prob);
}

template <typename T, typename L>
void sce_typed(const Tensor& scores, const Tensor& labels, const Tensor* weight, const LossOptions& options,
               Tensor& loss, Tensor* log_prob) {
  const int64_t n_batch = scores.dim(0), classes = scores.dim(1);
  const int64_t inner = n_batch * classes == 0 ? 0 : scores.num_elements() / (n_batch * classes);
  const T* x = scores.data<T>();
  T* lp = log_prob ? log_prob->data<T>() : nullptr;
  if (scores.rank() == 2) {
    sce_rows<T>(x, labels.data<L>(), weight ? weight->data<T>() : nullptr, n_batch, classes, options,
                loss.data<T>(), lp);
    return;
  }
  // Per row (fixed n, all j at once so the class loop reads contiguous memory):
  // shift[j] = max over classes, log_sum[j] = log(sum exp(x - shift)).
  // log_sum is log1p(sum of the non-maximal terms) so a confident correct
  // prediction keeps its tiny loss with full relative precision.
  std::vector<double> shift(static_cast<size_t>(inner)), log_sum(static_cast<size_t>(inner));
  std::vector<int64_t> arg(static_cast<size_t>(inner));
  auto per_row = [&](int64_t n) {
    const T* row = x + n * classes * inner;
    std::fill(shift.begin(), shift.end(), -std::numeric_limits<double>::infinity());
    std::fill(arg.begin(), arg.end(), int64_t{-1});
    for (int64_t c = 0; c < classes; ++c) {
      for (int64_t j = 0; j < inner; ++j) {
        const double v = static_cast<double>(row[c * inner + j]);
        arg[j] = v > shift[j] ? c : arg[j];
        shift[j] = v > shift[j] ? v : shift[j];
      }
    }
    // No finite maximum (all -inf or NaN): shift 0 and the sum ends up 0 or NaN,
    // so the loss is NaN (undefined), never an out-of-range read.
    for (int64_t j = 0; j < inner; ++j) {
      shift[j] = arg[j] < 0 ? 0.0 : shift[j];
      log_sum[j] = arg[j] < 0 ? -1.0 : 0.0;  // nothing will be left out of the sum
    }
    for (int64_t c = 0; c < classes; ++c) {
      for (int64_t j = 0; j < inner; ++j) {
        const double e = exp_shifted(row[c * inner + j], shift[j]);
        log_sum[j] += c == arg[j] ? 0.0 : e;
      }
    }
    for (double& s : log_sum) s = std::log1p(s);
    if (lp) {
      T* out = lp + n * classes * inner;
      for (int64_t c = 0; c < classes; ++c) {
        for (int64_t j = 0; j < inner; ++j) {
          out[c * inner + j] = static_cast<T>(static_cast<double>(row[c * inner + j]) - shift[j] - log_sum[j]);
        }
      }
    }
  };
  auto neg_log_prob = [&](int64_t n, int64_t label, int64_t j) {
    const double v = static_cast<double>(x[(n * classes + label) * inner + j]);
    return -(v - shift[j] - log_sum[j]);
  };
  accumulate_loss<T>(labels.data<L>(), weight ? weight->data<T>() : nullptr, n_batch, inner, options, loss.data<T>(),
                     per_row, neg_log_prob);
}

template <typename T, typename L>
void nll_typed(const Tensor& input, const Tensor& labels, const Tensor* weight, const LossOptions& options,
               Tensor& loss) {
  const int64_t n_batch = input.dim(0), classes = input.dim(1);
  const int64_t inner = n_batch * classes == 0 ? 0 : input.num_elements() / (n_batch * classes);
  const T* x = input.data<T>();
  accumulate_loss<T>(
      labels.data<L>(), weight ? weight->data<T>() : nullptr, n_batch, inner, options, loss.data<T>(),
      [](int64_t) {},
      [&](int64_t n, int64_t label, int64_t j) { return -static_cast<double>(x[(n * classes + label) * inner + j]); });
}

// Calls f(T{}, L{}) for float/double scores and int32/int64 labels.
template <typename F>
Status dispatch_loss(DataType scores, DataType labels, F&& f) {
  auto with_labels = [&](auto t) -> Status {
    using T = decltype(t);
    if (labels == DataType::kInt64) return f(T{}, int64_t{});
    if (labels == DataType::kInt32) return f(T{}, int32_t{});
    return unsupported("labels dtype " + dtype_name(labels) + " (expected int32 or int64)");
  };
  if (scores == DataType::kFloat) return with_labels(float{});
  if (scores == DataType::kDouble) return with_labels(double{});
  return unsupported("scores dtype " + dtype_name(scores) + " (expected float or double)");
}

}  // namespace

Result<LossReduction> parse_loss_reduction(const std::string& s) {
  if (s == "none") return LossReduction::kNone;
  if (s == "sum") return LossReduction::kSum;
  if (s == "mean") return LossReduction::kMean;
  return invalid_model("reduction must be 'none', 'sum' or 'mean', got '" + s + "'");
}

Result<Shape> loss_output_shape(const Tensor& scores, const Tensor& labels, const Tensor* weight,
                                LossReduction reduction) {
  if (scores.rank() < 2) return bad_input("scores " + describe(scores) + " must have rank >= 2 ([N, C, ...])");
  Shape expected{scores.dim(0)};
  expected.insert(expected.end(), scores.shape().begin() + 2, scores.shape().end());
  if (labels.shape() != expected) {
    return bad_input("labels " + describe(labels) + " must have shape " + shape_to_string(expected) + " for scores " +
                     describe(scores));
  }
  if (weight) {
    if (weight->dtype() != scores.dtype() || weight->shape() != Shape{scores.dim(1)}) {
      return bad_input("weight " + describe(*weight) + " must be " + dtype_name(scores.dtype()) + "[" +
                       std::to_string(scores.dim(1)) + "]");
    }
  }
  if (reduction == LossReduction::kNone) return expected;
  return Shape{};
}

Status softmax_cross_entropy_forward(const Tensor& scores, const Tensor& labels, const Tensor* weight,
                                     const LossOptions& options, Tensor& loss, Tensor* log_prob) {
  return dispatch_loss(scores.dtype(), labels.dtype(), [&](auto t, auto l) -> Status {
    using T = decltype(t);
    using L = decltype(l);
    OM_RETURN_IF_ERROR(check_labels<L>(labels, scores.dim(1), options));
    sce_typed<T, L>(scores, labels, weight, options, loss, log_prob);
    return Status::ok();
  });
}

Status nll_loss_forward(const Tensor& log_prob, const Tensor& labels, const Tensor* weight,
                        const LossOptions& options, Tensor& loss) {
  return dispatch_loss(log_prob.dtype(), labels.dtype(), [&](auto t, auto l) -> Status {
    using T = decltype(t);
    using L = decltype(l);
    OM_RETURN_IF_ERROR(check_labels<L>(labels, log_prob.dim(1), options));
    nll_typed<T, L>(log_prob, labels, weight, options, loss);
    return Status::ok();
  });
}

namespace {

Result<LossOptions> parse_loss_options(const Attributes& attrs) {
  LossOptions o;
  OM_ASSIGN_OR_RETURN(std::string reduction, attrs.get_string("reduction", "mean"));
  OM_ASSIGN_OR_RETURN(o.reduction, parse_loss_reduction(reduction));
  if (attrs.has("ignore_index")) {
    OM_ASSIGN_OR_RETURN(int64_t ii, attrs.require_int("ignore_index"));
    o.ignore_index = ii;
  }
  return o;
}

template <bool kSoftmax>
class ClassificationLoss final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(options_, parse_loss_options(node.attrs()));
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& scores = *ctx.input(0);
    const Tensor& labels = *ctx.input(1);
    const Tensor* weight = ctx.input(2);
    OM_ASSIGN_OR_RETURN(Shape shape, loss_output_shape(scores, labels, weight, options_.reduction));
    OM_ASSIGN_OR_RETURN(Tensor * loss, ctx.output(0, shape, scores.dtype()));
    if constexpr (kSoftmax) {
      Tensor* log_prob = nullptr;
      if (ctx.num_outputs() > 1 && ctx.output_wanted(1)) {
        OM_ASSIGN_OR_RETURN(log_prob, ctx.output(1, scores.shape(), scores.dtype()));
      }
      return softmax_cross_entropy_forward(scores, labels, weight, options_, *loss, log_prob);
    } else {
      return nll_loss_forward(scores, labels, weight, options_, *loss);
    }
  }

 private:
  LossOptions options_;
};

Status infer_loss(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* scores = node.input(0);
  const TensorInfo* labels = node.input(1);
  if (!scores || !labels) return invalid_model("missing scores or labels input");
  OM_ASSIGN_OR_RETURN(LossOptions options, parse_loss_options(node.attrs()));
  outputs[0] = TensorInfo{};
  outputs[0].dtype = scores->dtype;
  if (options.reduction == LossReduction::kNone) {
    outputs[0].has_shape = labels->has_shape;
    outputs[0].dims = labels->dims;
  } else {
    outputs[0].has_shape = true;  // scalar
  }
  if (outputs.size() > 1) {
    outputs[1] = *scores;
    outputs[1].constant = nullptr;
  }
  return Status::ok();
}

}  // namespace

void register_loss_ops(OpRegistry& r) {
  // 12 -> 13 only widened the type list (bfloat16), which onnx-mini does not run.
  for (int since : {12, 13}) {
    r.add({.op_type = "SoftmaxCrossEntropyLoss", .since_version = since, .min_inputs = 2, .max_inputs = 3,
           .max_outputs = 2, .attributes = {"reduction", "ignore_index"}, .infer = infer_loss,
           .create = make_kernel<ClassificationLoss<true>>()});
    r.add({.op_type = "NegativeLogLikelihoodLoss", .since_version = since, .min_inputs = 2, .max_inputs = 3,
           .attributes = {"reduction", "ignore_index"}, .infer = infer_loss,
           .create = make_kernel<ClassificationLoss<false>>()});
  }
}

}  // namespace onnx_mini
