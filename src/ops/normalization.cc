// Per-channel normalization of [N, C, D1, ..., Dk] tensors: BatchNormalization
// (inference), InstanceNormalization and LRN. LayerNormalization lives with the
// transformer ops. Each [n, c] plane is contiguous, so every op is a loop over
// planes with a vectorisable inner loop; planes are split over the session's
// threads.
#include <cmath>
#include <string>

#include "ops/plane_tasks.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

Status check_float(const TensorInfo* t, const char* name) {
  if (t == nullptr || t->dtype == DataType::kUndefined || t->dtype == DataType::kFloat) return Status::ok();
  return unsupported(std::string("input '") + name + "' is " + dtype_name(t->dtype) + "; onnx-mini runs this op on float");
}

// A per-channel parameter must hold one value per channel; checked when both
// shapes are known (`expect` is the parameter's expected dims, e.g. [C]).
Status check_param_shape(const TensorInfo* p, const char* name, const std::vector<Dim>& expect, const TensorInfo& x) {
  if (p == nullptr || !p->has_shape) return Status::ok();
  bool agrees = p->dims.size() == expect.size();
  for (size_t i = 0; agrees && i < expect.size(); ++i) {
    agrees = !p->dims[i].known() || !expect[i].known() || p->dims[i].value == expect[i].value;
  }
  if (agrees) return Status::ok();
  std::string want = "[";
  for (size_t i = 0; i < expect.size(); ++i) {
    want += (i ? ", " : "") + (expect[i].known() ? std::to_string(expect[i].value) : std::string("?"));
  }
  return invalid_model(std::string("input '") + name + "' " + p->to_string() + " does not match input 'X' " +
                       x.to_string() + ": expected " + want + "]");
}

Status check_rank_at_least_2(const TensorInfo& x) {
  if (!x.has_shape || x.dims.size() >= 2) return Status::ok();
  return invalid_model("input 'X' " + x.to_string() + " needs rank >= 2 ([N, C, ...])");
}

Status check_runtime_param(const Tensor* p, const char* name, int64_t count) {
  if (p->dtype() != DataType::kFloat) return unsupported(std::string("input '") + name + "' is not float");
  if (p->num_elements() != count) {
    return bad_input(std::string("input '") + name + "' is " + describe(*p) + "; expected " + std::to_string(count) +
                     " values");
  }
  return Status::ok();
}

// ---- BatchNormalization ---------------------------------------------------
//
// y = scale * (x - mean) / sqrt(var + epsilon) + B per channel (spatial = 1,
// the only form from version 9), or per element of [C, D1, ...] (spatial = 0,
// versions 1-7). Training mode is refused: from version 14 it is the
// training_mode attribute; before, as ONNX Runtime reads those versions, a node
// asking for more than Y (the running and saved statistics) trains.

struct BatchNormAttrs {
  float epsilon = 1e-5f;
  bool spatial = true;
};

Result<BatchNormAttrs> parse_batch_norm(const NodeInfo& node) {
  BatchNormAttrs a;
  OM_ASSIGN_OR_RETURN(a.epsilon, node.attrs().get_float("epsilon", 1e-5f));
  if (!(a.epsilon >= 0)) return invalid_model("attribute 'epsilon' is " + std::to_string(a.epsilon) + ", expected >= 0");
  if (node.since_version < 9) {
    OM_ASSIGN_OR_RETURN(int64_t spatial, node.attrs().get_int("spatial", 1));
    a.spatial = spatial != 0;
  }
  bool training = false;
  if (node.since_version >= 14) {
    OM_ASSIGN_OR_RETURN(int64_t mode, node.attrs().get_int("training_mode", 0));
    training = mode != 0;
    if (!training && node.num_outputs > 1) {
      return invalid_model("outputs running_mean / running_var are only produced with training_mode = 1");
    }
  } else {
    training = node.num_outputs > 1;
  }
  if (training) {
    return unsupported("BatchNormalization in training mode (batch statistics, running mean and variance outputs) "
                       "is not supported; export the model in inference mode (model.eval())");
  }
  return a;
}

Status infer_batch_norm(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_RETURN_IF_ERROR(parse_batch_norm(node).status());
  const TensorInfo* x = node.input(0);
  const char* names[] = {"X", "scale", "B", "mean", "var"};
  for (size_t i = 0; i < 5; ++i) OM_RETURN_IF_ERROR(check_float(node.input(i), names[i]));
  OM_RETURN_IF_ERROR(check_rank_at_least_2(*x));
  if (x->has_shape) {
    OM_ASSIGN_OR_RETURN(BatchNormAttrs a, parse_batch_norm(node));
    const std::vector<Dim> expect = a.spatial ? std::vector<Dim>{x->dims[1]}
                                              : std::vector<Dim>(x->dims.begin() + 1, x->dims.end());
    for (size_t i = 1; i < 5; ++i) OM_RETURN_IF_ERROR(check_param_shape(node.input(i), names[i], expect, *x));
  }
  outputs[0].dtype = x->dtype;
  outputs[0].has_shape = x->has_shape;
  outputs[0].dims = x->dims;
  return Status::ok();
}

class BatchNormalization final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(attrs_, parse_batch_norm(node));
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    if (x.dtype() != DataType::kFloat) return unsupported("input 'X' is " + dtype_name(x.dtype()) + ", not float");
    if (x.rank() < 2) return bad_input("input 'X' is " + describe(x) + "; expected [N, C, ...]");
    const int64_t batch = x.dim(0);
    const int64_t channels = batch ? x.num_elements() / batch : 0;  // spatial = 0: every element of [C, D...]
    const int64_t params = attrs_.spatial ? x.dim(1) : channels;
    const char* names[] = {"scale", "B", "mean", "var"};
    for (int i = 1; i < 5; ++i) OM_RETURN_IF_ERROR(check_runtime_param(ctx.input(i), names[i - 1], params));
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, x.shape(), DataType::kFloat));
    if (x.num_elements() == 0) return Status::ok();
    const int64_t inner = attrs_.spatial ? channels / params : 1;
    const float *px = x.data<float>(), *scale = ctx.input(1)->data<float>(), *bias = ctx.input(2)->data<float>();
    const float *mean = ctx.input(3)->data<float>(), *var = ctx.input(4)->data<float>();
    float* py = y->data<float>();
    const double eps = attrs_.epsilon;
    for_each_item_block(ctx.thread_pool(), batch * params, inner, [&](int64_t first, int64_t count) {
      for (int64_t p = first; p < first + count; ++p) {
        const int64_t c = p % params;
        // y = x * a + b, with a and b formed in double so each output rounds about once.
        const double a = static_cast<double>(scale[c]) / std::sqrt(static_cast<double>(var[c]) + eps);
        const float af = static_cast<float>(a), bf = static_cast<float>(bias[c] - mean[c] * a);
        const float* xp = px + p * inner;
        float* yp = py + p * inner;
        for (int64_t i = 0; i < inner; ++i) yp[i] = xp[i] * af + bf;
      }
    });
    return Status::ok();
  }

 private:
  BatchNormAttrs attrs_;
};

// ---- InstanceNormalization ------------------------------------------------
//
// Per [n, c] plane: y = scale[c] * (x - mean) / sqrt(var + epsilon) + B[c],
// mean and (biased) variance over the plane, accumulated in double in two
// passes (mean first, then squared deviations: no cancellation).

Status infer_instance_norm(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_RETURN_IF_ERROR(node.attrs().get_float("epsilon", 1e-5f).status());
  const TensorInfo* x = node.input(0);
  const char* names[] = {"input", "scale", "B"};
  for (size_t i = 0; i < 3; ++i) OM_RETURN_IF_ERROR(check_float(node.input(i), names[i]));
  OM_RETURN_IF_ERROR(check_rank_at_least_2(*x));
  if (x->has_shape) {
    for (size_t i = 1; i < 3; ++i) OM_RETURN_IF_ERROR(check_param_shape(node.input(i), names[i], {x->dims[1]}, *x));
  }
  outputs[0].dtype = x->dtype;
  outputs[0].has_shape = x->has_shape;
  outputs[0].dims = x->dims;
  return Status::ok();
}

class InstanceNormalization final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(epsilon_, node.attrs().get_float("epsilon", 1e-5f));
    if (!(epsilon_ >= 0)) return invalid_model("attribute 'epsilon' is " + std::to_string(epsilon_) + ", expected >= 0");
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    if (x.dtype() != DataType::kFloat) return unsupported("input 'input' is " + dtype_name(x.dtype()) + ", not float");
    if (x.rank() < 2) return bad_input("input 'input' is " + describe(x) + "; expected [N, C, ...]");
    const int64_t channels = x.dim(1);
    OM_RETURN_IF_ERROR(check_runtime_param(ctx.input(1), "scale", channels));
    OM_RETURN_IF_ERROR(check_runtime_param(ctx.input(2), "B", channels));
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, x.shape(), DataType::kFloat));
    const int64_t planes = x.dim(0) * channels;
    if (planes == 0) return Status::ok();
    const int64_t inner = x.num_elements() / planes;
    const float *px = x.data<float>(), *scale = ctx.input(1)->data<float>(), *bias = ctx.input(2)->data<float>();
    float* py = y->data<float>();
    for_each_item_block(ctx.thread_pool(), planes, 3 * inner, [&](int64_t first, int64_t count) {
      for (int64_t p = first; p < first + count; ++p) {
        const int64_t c = p % channels;
        normalize_plane(px + p * inner, py + p * inner, inner, scale[c], bias[c]);
      }
    });
    return Status::ok();
  }

 private:
  void normalize_plane(const float* x, float* y, int64_t n, float scale, float bias) const {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += x[i];
    const double mean = n ? sum / static_cast<double>(n) : 0;
    double squares = 0;
    for (int64_t i = 0; i < n; ++i) squares += (x[i] - mean) * (x[i] - mean);
    const double var = n ? squares / static_cast<double>(n) : 0;
    const double a = scale / std::sqrt(var + epsilon_);
    const float af = static_cast<float>(a), bf = static_cast<float>(bias - mean * a);
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * af + bf;
  }

  float epsilon_ = 1e-5f;
};

// ---- LRN ------------------------------------------------------------------
//
// Across channels: y = x / (bias + alpha / size * sum of x^2 over channels
// [c - floor((size - 1) / 2), c + ceil((size - 1) / 2)])^beta. The channel sum
// is built in y itself, plane by plane (contiguous, vectorised), then
// replaced by the result.

struct LrnAttrs {
  float alpha = 1e-4f, beta = 0.75f, bias = 1.0f;
  int64_t size = 1;
};

Result<LrnAttrs> parse_lrn(const Attributes& attrs) {
  LrnAttrs a;
  OM_ASSIGN_OR_RETURN(a.alpha, attrs.get_float("alpha", 1e-4f));
  OM_ASSIGN_OR_RETURN(a.beta, attrs.get_float("beta", 0.75f));
  OM_ASSIGN_OR_RETURN(a.bias, attrs.get_float("bias", 1.0f));
  OM_ASSIGN_OR_RETURN(a.size, attrs.require_int("size"));
  if (a.size < 1) return invalid_model("attribute 'size' is " + std::to_string(a.size) + ", expected >= 1");
  return a;
}

Status infer_lrn(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_RETURN_IF_ERROR(parse_lrn(node.attrs()).status());
  OM_RETURN_IF_ERROR(check_float(node.input(0), "X"));
  OM_RETURN_IF_ERROR(check_rank_at_least_2(*node.input(0)));
  return infer_same_as_input0(node, outputs);
}

class Lrn final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(attrs_, parse_lrn(node.attrs()));
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    if (x.dtype() != DataType::kFloat) return unsupported("input 'X' is " + dtype_name(x.dtype()) + ", not float");
    if (x.rank() < 2) return bad_input("input 'X' is " + describe(x) + "; expected [N, C, ...]");
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, x.shape(), DataType::kFloat));
    const int64_t batch = x.dim(0), channels = x.dim(1);
    if (x.num_elements() == 0) return Status::ok();
    const int64_t inner = x.num_elements() / (batch * channels);
    const float* px = x.data<float>();
    float* py = y->data<float>();
    for_each_item_block(ctx.thread_pool(), batch * channels, inner * attrs_.size, [&](int64_t first, int64_t count) {
      for (int64_t p = first; p < first + count; ++p) {
        const int64_t n = p / channels, c = p % channels;
        normalize_plane(px + n * channels * inner, py + p * inner, c, channels, inner);
      }
    });
    return Status::ok();
  }

 private:
  // y (plane c of image `image`) from the squares of the planes around c.
  void normalize_plane(const float* image, float* y, int64_t c, int64_t channels, int64_t inner) const {
    const int64_t lo = std::max<int64_t>(0, c - (attrs_.size - 1) / 2);
    const int64_t hi = std::min(channels - 1, c + attrs_.size / 2);  // ceil((size - 1) / 2) = floor(size / 2)
    for (int64_t i = 0; i < inner; ++i) y[i] = 0;
    for (int64_t k = lo; k <= hi; ++k) {
      const float* xk = image + k * inner;
      for (int64_t i = 0; i < inner; ++i) y[i] += xk[i] * xk[i];
    }
    const float* xc = image + c * inner;
    const float scale = attrs_.alpha / static_cast<float>(attrs_.size);
    for (int64_t i = 0; i < inner; ++i) y[i] = xc[i] * std::pow(attrs_.bias + scale * y[i], -attrs_.beta);
  }

  LrnAttrs attrs_;
};

}  // namespace

void register_normalization_ops(OpRegistry& r) {
  // 1: consumed_inputs (a legacy in-place hint, read and ignored) and is_test;
  // 6: is_test; 7: spatial; 9: per-channel only; 14: training_mode, 3 outputs;
  // 15: scale/B and mean/var may differ in type (float only here).
  const KernelFactory bn = make_kernel<BatchNormalization>();
  r.add({.op_type = "BatchNormalization", .since_version = 1, .min_inputs = 5, .max_inputs = 5, .max_outputs = 5,
         .attributes = {"consumed_inputs", "epsilon", "is_test", "momentum", "spatial"}, .infer = infer_batch_norm,
         .create = bn});
  r.add({.op_type = "BatchNormalization", .since_version = 6, .min_inputs = 5, .max_inputs = 5, .max_outputs = 5,
         .attributes = {"epsilon", "is_test", "momentum", "spatial"}, .infer = infer_batch_norm, .create = bn});
  r.add({.op_type = "BatchNormalization", .since_version = 7, .min_inputs = 5, .max_inputs = 5, .max_outputs = 5,
         .attributes = {"epsilon", "momentum", "spatial"}, .infer = infer_batch_norm, .create = bn});
  r.add({.op_type = "BatchNormalization", .since_version = 9, .min_inputs = 5, .max_inputs = 5, .max_outputs = 5,
         .attributes = {"epsilon", "momentum"}, .infer = infer_batch_norm, .create = bn});
  for (int since : {14, 15}) {
    r.add({.op_type = "BatchNormalization", .since_version = since, .min_inputs = 5, .max_inputs = 5, .max_outputs = 3,
           .attributes = {"epsilon", "momentum", "training_mode"}, .infer = infer_batch_norm, .create = bn});
  }
  // 1 and 6 differ only in a legacy attribute ("consumed_inputs", version 1).
  r.add({.op_type = "InstanceNormalization", .since_version = 1, .min_inputs = 3, .max_inputs = 3,
         .attributes = {"consumed_inputs", "epsilon"}, .infer = infer_instance_norm,
         .create = make_kernel<InstanceNormalization>()});
  r.add({.op_type = "InstanceNormalization", .since_version = 6, .min_inputs = 3, .max_inputs = 3,
         .attributes = {"epsilon"}, .infer = infer_instance_norm, .create = make_kernel<InstanceNormalization>()});
  for (int since : {1, 13}) {  // 13: bfloat16 allowed (float only here)
    r.add({.op_type = "LRN", .since_version = since, .attributes = {"alpha", "beta", "bias", "size"},
           .infer = infer_lrn, .create = make_kernel<Lrn>()});
  }
}

}  // namespace onnx_mini
