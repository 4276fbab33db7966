// SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss (opsets 12, 13).
// The math lives in two reusable functions (ops/loss.h) so the graph
// compiler's fused softmax-cross-entropy kernel runs exactly the same code.
#include "ops/loss.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

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

// Sums w_i * loss_i and w_i in double over [N, inner] positions, given
// neg_log_prob(n, label, j) for the label's class. Writes the per-position
// losses when the reduction is none, the reduced scalar otherwise.
template <typename T, typename L, typename PerRow, typename NegLogProb>
void accumulate_loss(const L* labels, const T* weight, int64_t n_batch, int64_t inner, const LossOptions& options,
                     T* out, PerRow&& per_row, NegLogProb&& neg_log_prob) {
  double total = 0, weight_sum = 0;
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
      total += term;
      weight_sum += w;
    }
  }
  // mean over zero counted positions is 0/0 = NaN, as PyTorch.
  if (options.reduction == LossReduction::kSum) out[0] = static_cast<T>(total);
  if (options.reduction == LossReduction::kMean) out[0] = static_cast<T>(total / weight_sum);
}

// Four floats as one value (SSE2 width, the x86-64 baseline): GCC / Clang vector extensions, so the loop below is
// SIMD on any target without intrinsics (and without relaxing -ftrapping-math,
// under which GCC will not if-convert a scalar select into a vector one).
using Float4 = float __attribute__((vector_size(16)));
using Int4 = int32_t __attribute__((vector_size(16)));

// exp(d) lane by lane for d = x - max <= 0 (-inf, NaN allowed). glibc's expf is
// a call per element and was most of the loss's time. d = n * ln2 + r with
// n = round(d / ln2) and |r| <= ln2 / 2, ln2 split in a 9-bit head (n * head is
// exact for |n| <= 256) and a tail; e^r by its Taylor series to r^7 (truncation
// r^8 / 8! < 5.3e-9, under float's 6e-8 half ULP); 2^n built in the exponent
// bits. d < -87 gives exactly 0: those terms are below 1.7e-38 (float's normal
// range ends at 1.2e-38) next to the maximum's own term of 1, and producing
// subnormals would cost a microcode assist per element (measured: the C = 10
// case, whose tail is padded with -inf, ran 2x slower); sce_rows re-sums the
// rare rows where the flushed terms are not negligible. NaN stays NaN: neither
// select picks it away and the polynomial carries it.
// `d_lo` is the rounding error of d itself (see sum_exp_shifted): e^(d + d_lo)
// is computed, so the float rounding of x - max does not reach the result.
Float4 exp_nonpositive(Float4 d, Float4 d_lo) {
  const Float4 min = Float4{} - 87.0f;
  const Float4 dc = d < min ? min : d;
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440054690583e-4f;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const Float4 nf = (dc * kLog2e + kRound) - kRound;
  const Float4 r = ((dc - nf * kLn2Hi) - nf * kLn2Lo) + d_lo;
  Float4 p = Float4{} + 1.0f / 5040;
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const Int4 n = __builtin_convertvector(nf, Int4);
  const Float4 e = p * std::bit_cast<Float4>((n + 127) << 23);
  return d < min ? Float4{} : e;
}

// sum of exp(x[i] - shift), i < n, for float logits: each of the 4 float lanes
// adds 4 terms <= 1 (3 roundings), then every 16 elements the lanes go into the
// double total, so 32000 classes lose no more than 10 do. The tail is padded
// with -inf (exp 0).
//
// x - shift is formed with its rounding error (TwoSum, exact in float without
// FMA contraction or fast-math): rounding d = x - max to float moves e^d by up to
// |d| * 2^-24 relative, e.g. 25 float ULP at d = -41, which is invisible next to
// the maximum's term of 1 but is all of a confident correct prediction's loss
// log1p(rest) ~ rest. With the error fed into the reduced argument, each term
// keeps the polynomial's ~2 ULP whatever d is.
Float4 exp_of_difference(Float4 v, Float4 shift) {
  const Float4 neg = -shift;
  const Float4 d = v + neg;
  const Float4 neg_part = d - v;
  const Float4 v_part = d - neg_part;
  const Float4 d_lo = (v - v_part) + (neg - neg_part);
  return exp_nonpositive(d, d_lo);
}

double sum_exp_shifted(const float* x, int64_t n, float shift) {
  constexpr int64_t kLanes = 4, kBlock = 16;
  const Float4 shift4 = Float4{} + shift;
  double total = 0;
  int64_t i = 0;
  auto add_lanes = [&](Float4 lanes) {
    for (int l = 0; l < kLanes; ++l) total += static_cast<double>(lanes[l]);
  };
  for (; i + kBlock <= n; i += kBlock) {
    Float4 acc{};
    for (int64_t b = 0; b < kBlock; b += kLanes) {
      Float4 v;
      std::memcpy(&v, x + i + b, sizeof(v));
      acc += exp_of_difference(v, shift4);
    }
    add_lanes(acc);
  }
  for (; i < n; i += kLanes) {
    Float4 v = Float4{} - std::numeric_limits<float>::infinity();
    for (int64_t l = 0; l < kLanes && i + l < n; ++l) v[l] = x[i + l];
    add_lanes(exp_of_difference(v, shift4));
  }
  return total;
}

template <typename T>
double sum_exp_shifted(const T* x, int64_t n, T shift) {
  double total = 0;
  for (int64_t i = 0; i < n; ++i) total += static_cast<double>(std::exp(x[i] - shift));
  return total;
}

// The 2-D case [N, C] (no inner dims, what every classifier head feeds): scalar
// accumulators, no per-row vectors. Per row: the max and its position, then one
// pass summing exp(x - max) over the other classes. The exp runs in T (float for
// float logits, vectorized by sum_exp_shifted above, which carries the rounding
// error of x - max into the exp so each term keeps ~2 float ULP of its own value,
// not just of the maximum's term; tests/ops_activation/loss_accuracy_test.cc);
// the sum is kept in double because over 32000 classes a float sum would lose
// ~log2(C) bits.
// As in the general path the maximum's term (exactly 1) is left out and
// log(sum) = log1p(rest), so a confident correct prediction keeps its tiny loss
// with full relative precision, and loss / log_prob are formed in double, so
// logits of 1e4 give the exact finite loss. Probabilities are never stored.
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
    double rest = arg < 0 ? -1.0 : 0.0;
    const int64_t skip = arg < 0 ? classes : arg;
    rest += sum_exp_shifted(row, skip, shift_t);
    if (skip + 1 < classes) rest += sum_exp_shifted(row + skip + 1, classes - skip - 1, shift_t);
    if constexpr (std::is_same_v<T, float>) {
      // The float exp flushes terms below e^-87 (< 1.7e-38) to 0. Next to the
      // maximum's term of 1 they are nothing, but the loss of the maximum's own
      // class is log1p(rest) ~ rest alone: when rest is so small that the flushed
      // terms could move it by 2^-26 relative (rest < (C - 1) * 1.7e-38 * 2^26),
      // the row is summed again with double exp. Only rows whose every other
      // class trails the maximum by more than ~69 get here.
      constexpr double kFlushedTermBound = 1.7e-38 * 67108864.0;  // * 2^26
      if (arg >= 0 && rest < kFlushedTermBound * static_cast<double>(classes - 1)) {
        rest = 0;
        for (int64_t c = 0; c < classes; ++c) {
          if (c != arg) rest += std::exp(static_cast<double>(row[c]) - static_cast<double>(max_v));
        }
      }
    }
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
        const double e = std::exp(static_cast<double>(row[c * inner + j]) - shift[j]);
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
