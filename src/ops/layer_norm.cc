// LayerNormalization (ai.onnx 17; the same op in com.onnx_mini, opset 1, for the
// graph compiler to emit below opset 17, where FuseLayerNorm finds the exported
// ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add chain).
//
// Each row (the dims from `axis` on, flattened) is normalised in one kernel
// call, the row in L1 throughout: mean and variance accumulated in double, the
// variance in a second pass over x - mean (two-pass: never E[x^2] - E[x]^2,
// which loses every digit when |mean| >> std), then y = (x - mean) * inv_std *
// Scale + B evaluated in double and rounded once (ops/simd_math.h). Mean and
// InvStdDev, when asked for, are those values rounded to float (stash_type 1,
// the only stash type of U = float; bfloat16 is left out, with an error).
//
// Scale and B broadcast unidirectionally to X. The usual case, a tensor of the
// normalised shape, is read in place; any other broadcast is expanded once per
// run into per-thread scratch (the normalised size when it does not vary over
// the leading dims, X's size when it does).
#include <algorithm>
#include <cmath>
#include <span>

#include "ops/broadcast.h"  // DimScratch
#include "ops/parallel.h"
#include "ops/registry.h"
#include "ops/scratch.h"
#include "ops/simd_math.h"

namespace onnx_mini {
namespace {

constexpr int64_t kStashFloat = 1;  // TensorProto FLOAT

struct LayerNormShape {
  int64_t axis;  // normalised
  int64_t rows, cols;
};

Result<LayerNormShape> layer_norm_shape(const Shape& x, int64_t axis_attr) {
  const int64_t rank = static_cast<int64_t>(x.size());
  // The spec allows axis in [-r, r]; r normalises over no dims (each element alone).
  if (axis_attr < -rank || axis_attr > rank) {
    return bad_input("axis " + std::to_string(axis_attr) + " is out of range for X of rank " + std::to_string(rank));
  }
  LayerNormShape s{axis_attr < 0 ? axis_attr + rank : axis_attr, 1, 1};
  for (int64_t d = 0; d < rank; ++d) (d < s.axis ? s.rows : s.cols) *= x[static_cast<size_t>(d)];
  return s;
}

// A broadcast operand (Scale or B) read as rows of `cols` floats: row r at
// data + r * row_stride (row_stride 0: the same row for all).
struct RowOperand {
  const float* data = nullptr;
  int64_t row_stride = 0;
};

// dst[i] = src at the element of `target` (row-major) that i names, `src`
// (shape `from`) broadcast to it; every dim of `from`, right-aligned, is 1 or
// the target's. No allocation (ranks past 8 aside).
void expand_into(const float* src, std::span<const int64_t> from, std::span<const int64_t> target, float* dst) {
  const size_t rank = target.size();
  DimScratch strides(rank), counter(rank);
  int64_t stride = 1;
  for (size_t d = rank; d-- > 0;) {
    const size_t back = rank - 1 - d;
    const int64_t dim = back < from.size() ? from[from.size() - 1 - back] : 1;
    strides.data()[d] = dim == 1 ? 0 : stride;
    stride *= dim;
  }
  int64_t n = 1;
  for (int64_t t : target) n *= t;
  int64_t offset = 0;
  for (int64_t i = 0; i < n; ++i) {
    dst[i] = src[offset];
    for (size_t d = rank; d-- > 0;) {
      offset += strides.data()[d];
      if (++counter.data()[d] < target[d]) break;
      offset -= strides.data()[d] * target[d];
      counter.data()[d] = 0;
    }
  }
}

// `t` broadcasts unidirectionally to `x`: right-aligned, each dim 1 or x's.
bool broadcasts_to(const Shape& t, const Shape& x) {
  if (t.size() > x.size()) return false;
  for (size_t i = 0; i < t.size(); ++i) {
    const int64_t td = t[t.size() - 1 - i], xd = x[x.size() - 1 - i];
    if (td != 1 && td != xd) return false;
  }
  return true;
}

class LayerNormalization final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(axis_, node.attrs().get_int("axis", -1));
    OM_ASSIGN_OR_RETURN(epsilon_, node.attrs().get_float("epsilon", 1e-5f));
    OM_ASSIGN_OR_RETURN(int64_t stash, node.attrs().get_int("stash_type", kStashFloat));
    if (stash != kStashFloat) {
      return unsupported("stash_type " + std::to_string(stash) + " is not supported (only 1, float)");
    }
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Tensor& scale = *ctx.input(1);
    const Tensor* bias = ctx.input(2);
    if (x.dtype() != DataType::kFloat) return unsupported("LayerNormalization on " + dtype_name(x.dtype()));
    if (scale.dtype() != x.dtype() || (bias && bias->dtype() != x.dtype())) {
      return bad_input("Scale and B must have X's dtype " + dtype_name(x.dtype()));
    }
    OM_ASSIGN_OR_RETURN(LayerNormShape s, layer_norm_shape(x.shape(), axis_));
    OM_ASSIGN_OR_RETURN(RowOperand sc, row_operand(scale, "Scale", x.shape(), s, ScratchSlot::kNormScale));
    RowOperand b;
    if (bias) {
      OM_ASSIGN_OR_RETURN(b, row_operand(*bias, "B", x.shape(), s, ScratchSlot::kNormBias));
    }
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, x.shape(), x.dtype()));
    OM_ASSIGN_OR_RETURN(float* mean, stat_output(ctx, 1, x.shape(), s.axis));
    OM_ASSIGN_OR_RETURN(float* inv_std, stat_output(ctx, 2, x.shape(), s.axis));
    if (x.num_elements() == 0) return Status::ok();
    const Rows rows{x.data<float>(), y->data<float>(), s.cols, sc, b, mean, inv_std, epsilon_};
    const int64_t num_tasks = tasks(s), per_task = (s.rows + num_tasks - 1) / num_tasks;
    for_each_task(num_tasks > 1 ? ctx.thread_pool() : nullptr, num_tasks, [&](int64_t t) {
      for (int64_t r = t * per_task; r < std::min(s.rows, (t + 1) * per_task); ++r) rows.normalize(r);
    });
    return Status::ok();
  }

 private:
  struct Rows {
    const float* x;
    float* y;
    int64_t cols;
    RowOperand scale, bias;
    float *mean, *inv_std;
    float epsilon;

    void normalize(int64_t r) const {
      const simd::MeanVar mv = simd::mean_variance(x + r * cols, cols);
      // Epsilon enters as the float the model holds, added in double.
      const double inv = 1.0 / std::sqrt(mv.variance + static_cast<double>(epsilon));
      simd::normalize_row(x + r * cols, y + r * cols, cols, mv.mean, inv, scale.data + r * scale.row_stride,
                          bias.data ? bias.data + r * bias.row_stride : nullptr);
      if (mean) mean[r] = static_cast<float>(mv.mean);
      if (inv_std) inv_std[r] = static_cast<float>(inv);
    }
  };

  // Rows per task: whole rows, about 64 KiB of X each, so a small tensor stays
  // on the calling thread.
  static int64_t tasks(const LayerNormShape& s) {
    constexpr int64_t kFloatsPerTask = 16 << 10;
    return std::clamp<int64_t>(s.rows * s.cols / kFloatsPerTask, 1, s.rows);
  }

  // Scale or B as rows: in place when it is the normalised shape (leading 1s
  // allowed), else expanded into scratch.
  static Result<RowOperand> row_operand(const Tensor& t, const char* name, const Shape& x, const LayerNormShape& s,
                                        ScratchSlot slot) {
    if (!broadcasts_to(t.shape(), x)) {
      return bad_input(std::string("input '") + name + "' " + describe(t) + " does not broadcast to X " +
                       shape_to_string(x));
    }
    if (t.num_elements() == s.cols && trailing_match(t.shape(), x, s.axis)) return RowOperand{t.data<float>(), 0};
    // Dims of t that lie over X's leading (row) dims, right-aligned.
    const std::span<const int64_t> ts(t.shape());
    const size_t norm_rank = x.size() - static_cast<size_t>(s.axis);
    const size_t over_rows = ts.size() > norm_rank ? ts.size() - norm_rank : 0;
    bool varies_over_rows = false;
    for (size_t d = 0; d < over_rows; ++d) varies_over_rows = varies_over_rows || ts[d] != 1;
    if (varies_over_rows) {
      float* dst = thread_scratch(slot, t.num_elements() == 0 ? 1 : s.rows * s.cols);
      expand_into(t.data<float>(), ts, std::span<const int64_t>(x), dst);
      return RowOperand{dst, s.cols};
    }
    float* dst = thread_scratch(slot, s.cols);
    expand_into(t.data<float>(), ts.subspan(over_rows), std::span<const int64_t>(x).subspan(s.axis), dst);
    return RowOperand{dst, 0};
  }

  // The shape's dims equal X's dims from axis on (after leading 1s).
  static bool trailing_match(const Shape& t, const Shape& x, int64_t axis) {
    const size_t norm_rank = x.size() - static_cast<size_t>(axis);
    size_t skip = 0;
    while (t.size() - skip > norm_rank && t[skip] == 1) ++skip;
    if (t.size() - skip != norm_rank) return false;
    for (size_t i = 0; i < norm_rank; ++i) {
      if (t[skip + i] != x[static_cast<size_t>(axis) + i]) return false;
    }
    return true;
  }

  // Mean or InvStdDev: X's dims before axis, 1 from axis on; null when not asked for.
  static Result<float*> stat_output(KernelContext& ctx, int i, const Shape& x, int64_t axis) {
    if (ctx.num_outputs() <= i || !ctx.output_wanted(i)) return static_cast<float*>(nullptr);
    DimScratch dims(x.size());
    for (size_t d = 0; d < x.size(); ++d) dims.data()[d] = static_cast<int64_t>(d) < axis ? x[d] : 1;
    OM_ASSIGN_OR_RETURN(Tensor * t, ctx.output_dims(i, dims.span(), DataType::kFloat));
    return t->data<float>();
  }

  int64_t axis_ = -1;
  float epsilon_ = 1e-5f;
};

Status infer_layer_norm(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* x = node.input(0);
  for (size_t i = 1; i < node.inputs.size(); ++i) {
    if (node.input(i) && node.input(i)->dtype != x->dtype) {
      return invalid_model("inputs 'Scale' and 'B' must have X's dtype " + dtype_name(x->dtype));
    }
  }
  OM_ASSIGN_OR_RETURN(int64_t axis, node.attrs().get_int("axis", -1));
  OM_ASSIGN_OR_RETURN(int64_t stash, node.attrs().get_int("stash_type", kStashFloat));
  if (stash != kStashFloat) return unsupported("stash_type " + std::to_string(stash) + " is not supported (only 1, float)");
  outputs[0] = *x;
  outputs[0].constant = nullptr;
  for (size_t i = 1; i < outputs.size(); ++i) {
    outputs[i].dtype = DataType::kFloat;
    if (!x->has_shape) continue;
    const int64_t rank = static_cast<int64_t>(x->dims.size());
    if (axis < -rank || axis > rank) {
      return invalid_model("axis " + std::to_string(axis) + " is out of range for X " + x->to_string());
    }
    const int64_t a = axis < 0 ? axis + rank : axis;
    outputs[i].has_shape = true;
    outputs[i].dims = x->dims;
    for (int64_t d = a; d < rank; ++d) outputs[i].dims[static_cast<size_t>(d)] = Dim{1, ""};
  }
  return Status::ok();
}

OpDef layer_norm_def(const char* domain, int since) {
  return {.op_type = "LayerNormalization",
          .domain = domain,
          .since_version = since,
          .min_inputs = 2,
          .max_inputs = 3,
          .min_outputs = 1,
          .max_outputs = 3,
          .attributes = {"axis", "epsilon", "stash_type"},
          .infer = infer_layer_norm,
          .create = make_kernel<LayerNormalization>()};
}

}  // namespace

void register_layer_norm_ops(OpRegistry& r) {
  r.add(layer_norm_def(kOnnxDomain, 17));
  r.add(layer_norm_def(kOnnxMiniDomain, 1));
}

}  // namespace onnx_mini
