// Conv (ai.onnx 1 and 11) and FusedConv (com.onnx_mini 1), float32, NCHW,
// 1-D to 3-D, every attribute.
//
// FusedConv is what the graph compiler makes of Conv -> [Add(skip)] ->
// activation (graph/passes/fuse_conv_*.cc):
//   Y = act(conv(X, W) + B + Z)
// Inputs X, W, B (optional, [M]), Z (optional, shaped like Y: the residual
// connection's other branch). Attributes: Conv's, plus `activation` (the ONNX
// op of the epilogue, "" for none: ops/conv_epilogue.h lists them) and
// `activation_<param>` for its parameters (alpha, beta, gamma; min and max for
// Clip).
//
// Which kernel runs, chosen once at init from the weight (and X's shape when
// known at load):
// - depthwise (one input and one output channel per group): ops/conv_depthwise.h;
// - a constant 3x3 weight at stride 1 (one group, 2-D, 16+ channels each
//   way, an image of 8+ pixels each way): Winograd F(4x4, 3x3), or F(2x2,
//   3x3) on images under 12 pixels, on the packed micro-kernel,
//   ops/conv_winograd.h (WinogradConv::out_tile_for says where);
// - another constant weight: the packed kernel, ops/conv_packed.h (1x1:
//   pointwise GEMM, X in place or in pixel panels; few input channels per
//   group: patch panels, ops/conv_patch_panel.h, or phase planes,
//   ops/conv_phase_planes.h; else the gathered implicit
//   GEMM);
// - otherwise (a weight fed at run time, no AVX-512F, ONNX_MINI_PACKED_GEMM=0):
//   im2col + OpenBLAS, ops/conv_im2col.h.
#include <memory>
#include <span>

#include "ops/conv_depthwise.h"
#include "ops/conv_epilogue.h"
#include "ops/conv_geometry.h"
#include "ops/conv_im2col.h"
#include "ops/conv_packed.h"
#include "ops/conv_winograd.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

constexpr int kFusedInputZ = 3;

// FusedConv's epilogue from its `activation` and `activation_<param>` attributes.
Result<std::unique_ptr<ConvEpilogue>> epilogue_from(const Attributes& attrs) {
  OM_ASSIGN_OR_RETURN(std::string act, attrs.get_string("activation", ""));
  Attributes params;
  const std::string prefix = kFusedActivationPrefix;
  for (const auto& [name, a] : attrs.all()) {
    if (name.rfind(prefix, 0) == 0) params.set(name.substr(prefix.size()), a);
  }
  return make_conv_epilogue(act, params);
}

Status check_float(const Tensor& t, const char* name) {
  if (t.dtype() == DataType::kFloat) return Status::ok();
  return bad_input(std::string("input '") + name + "' must be float, got " + describe(t));
}

class ConvKernel final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(attrs_, ConvAttributes::parse(node.attrs(), /*transpose=*/false));
    fused_ = node.domain == kOnnxMiniDomain;
    if (fused_) {
      OM_ASSIGN_OR_RETURN(epilogue_, epilogue_from(node.attrs()));
    } else {
      OM_ASSIGN_OR_RETURN(epilogue_, make_conv_epilogue("", Attributes{}));
    }
    vectorized_ = PackedWeights::enabled();
    const TensorInfo* w = node.input(1);
    const Tensor* constant = w ? w->constant : nullptr;
    if (!constant || !PackedConv::applies(*constant) || depthwise_applies(constant->shape(), attrs_.group)) {
      return Status::ok();  // W read at run time
    }
    w_shape_ = constant->shape();
    if (const int64_t out_tile = WinogradConv::out_tile_for(*constant, attrs_, node.input(0))) {
      winograd_ = std::make_unique<WinogradConv>();
      return winograd_->init(*constant, out_tile);
    }
    packed_ = std::make_unique<PackedConv>();
    return packed_->init(node, *constant, attrs_);
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    OM_RETURN_IF_ERROR(check_float(x, "X"));
    const Tensor* w = packed_ ? nullptr : ctx.input(1);
    if (w) OM_RETURN_IF_ERROR(check_float(*w, "W"));
    OM_ASSIGN_OR_RETURN(ConvGeometry g, conv_geometry(attrs_, x.shape(), packed_ ? w_shape_ : w->shape()));
    const auto dims = g.output_dims();
    const std::span<const int64_t> out_dims(dims.data(), static_cast<size_t>(g.spatial) + 2);
    ConvRunArgs args;
    OM_ASSIGN_OR_RETURN(args.bias, bias(ctx.input(2), g.out_channels));
    OM_ASSIGN_OR_RETURN(args.z, skip(fused_ ? ctx.input(kFusedInputZ) : nullptr, out_dims));
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output_dims(0, out_dims, DataType::kFloat));
    if (y->num_elements() == 0) return Status::ok();
    args.x = x.data<float>();
    args.y = y->data<float>();
    args.epilogue = epilogue_.get();
    args.pool = ctx.thread_pool();
    if (winograd_) {
      winograd_->run(g, w->data<float>(), args);
    } else if (packed_) {
      if (!packed_->can_run(g)) {
        return unsupported("input " + describe(x) + " is too large for the packed convolution (2^31 elements per image)");
      }
      packed_->run(g, args);
    } else if (vectorized_ && depthwise_applies(w->shape(), g.group)) {
      depthwise_conv(g, w->data<float>(), args);
    } else {
      im2col_conv(g, w->data<float>(), args);
    }
    return Status::ok();
  }

  bool reads_input_at_run(int i) const override { return !(i == 1 && packed_); }

 private:
  static Result<const float*> bias(const Tensor* b, int64_t channels) {
    if (!b) return static_cast<const float*>(nullptr);
    OM_RETURN_IF_ERROR(check_float(*b, "B"));
    if (b->rank() != 1 || b->dim(0) != channels) {
      return bad_input("input 'B' must be [" + std::to_string(channels) + "] (one value per output channel), got " +
                       describe(*b));
    }
    return b->data<float>();
  }

  static Result<const float*> skip(const Tensor* z, std::span<const int64_t> out_dims) {
    if (!z) return static_cast<const float*>(nullptr);
    OM_RETURN_IF_ERROR(check_float(*z, "Z"));
    if (!std::equal(out_dims.begin(), out_dims.end(), z->shape().begin(), z->shape().end())) {
      return bad_input("input 'Z' must have the output's shape " + shape_to_string(Shape(out_dims.begin(), out_dims.end())) +
                       ", got " + describe(*z));
    }
    return z->data<float>();
  }

  ConvAttributes attrs_;
  bool fused_ = false;
  bool vectorized_ = false;  // AVX-512F and not turned off: the depthwise kernel may run
  std::unique_ptr<ConvEpilogue> epilogue_;
  std::unique_ptr<PackedConv> packed_;  // set when W is a constant the packed kernel runs
  // Set when W is a constant 3x3 kernel Winograd runs; W is still read at run
  // (for tiles whose result is not finite), so the session keeps it.
  std::unique_ptr<WinogradConv> winograd_;
  Shape w_shape_;                       // W's shape when packed (the initializer may be let go of)
};

Status infer_conv(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_ASSIGN_OR_RETURN(ConvAttributes attrs, ConvAttributes::parse(node.attrs(), /*transpose=*/false));
  const TensorInfo* x = node.input(0);
  const TensorInfo* w = node.input(1);
  const TensorInfo* b = node.input(2);
  for (const TensorInfo* t : {x, w, b}) {
    if (t && t->dtype != DataType::kFloat && t->dtype != DataType::kUndefined) {
      return unsupported(node.op_type + " runs on float32, got " + t->to_string());
    }
  }
  const bool fused = node.domain == kOnnxMiniDomain;
  if (fused) {
    OM_ASSIGN_OR_RETURN(std::unique_ptr<ConvEpilogue> epilogue, epilogue_from(node.attrs()));
    (void)epilogue;
  }
  OM_RETURN_IF_ERROR(infer_conv_output(attrs, *x, *w, b, outputs[0]));
  const TensorInfo* z = fused ? node.input(kFusedInputZ) : nullptr;
  if (z && z->has_shape && outputs[0].has_shape) {
    bool same = z->dims.size() == outputs[0].dims.size();
    for (size_t i = 0; same && i < z->dims.size(); ++i) {
      const Dim &a = z->dims[i], &o = outputs[0].dims[i];
      same = !(a.known() && o.known() && a.value != o.value);
    }
    if (!same) return invalid_model("input 'Z' " + z->to_string() + " is not shaped like the output " + outputs[0].to_string());
  }
  return Status::ok();
}

const std::vector<std::string> kConvAttributes = {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"};

std::vector<std::string> fused_conv_attributes() {
  std::vector<std::string> names = kConvAttributes;
  for (const char* a : {"activation", "activation_alpha", "activation_beta", "activation_gamma", "activation_min",
                        "activation_max"}) {
    names.push_back(a);
  }
  return names;
}

}  // namespace

void register_conv_ops(OpRegistry& r) {
  for (int since : {1, 11}) {
    r.add({.op_type = "Conv",
           .since_version = since,
           .min_inputs = 2,
           .max_inputs = 3,
           .attributes = kConvAttributes,
           .infer = infer_conv,
           .create = make_kernel<ConvKernel>()});
  }
  r.add({.op_type = "FusedConv",
         .domain = kOnnxMiniDomain,
         .since_version = 1,
         .min_inputs = 2,
         .max_inputs = 4,
         .attributes = fused_conv_attributes(),
         .infer = infer_conv,
         .create = make_kernel<ConvKernel>()});
}

}  // namespace onnx_mini
