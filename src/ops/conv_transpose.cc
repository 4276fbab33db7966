// ConvTranspose (ai.onnx 1 and 11), float32, NCHW, 1-D to 3-D, every
// attribute: strides, dilations, pads, output_padding, output_shape (the
// spatial sizes, or the whole [N, M, spatial...]), auto_pad, group. The
// geometry (ops/conv_geometry.h) resolves the padding each side gets; the
// product runs on OpenBLAS as W^T * X followed by a scatter of each input
// pixel's footprint into Y (ops/conv_im2col.h). The weight is read in place.
#include <span>

#include "ops/conv_epilogue.h"
#include "ops/conv_geometry.h"
#include "ops/conv_im2col.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

Status check_float(const Tensor& t, const char* name) {
  if (t.dtype() == DataType::kFloat) return Status::ok();
  return bad_input(std::string("input '") + name + "' must be float, got " + describe(t));
}

class ConvTranspose final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(attrs_, ConvAttributes::parse(node.attrs(), /*transpose=*/true));
    OM_ASSIGN_OR_RETURN(epilogue_, make_conv_epilogue("", Attributes{}));
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Tensor& w = *ctx.input(1);
    OM_RETURN_IF_ERROR(check_float(x, "X"));
    OM_RETURN_IF_ERROR(check_float(w, "W"));
    OM_ASSIGN_OR_RETURN(ConvGeometry g, conv_geometry(attrs_, x.shape(), w.shape()));
    const Tensor* b = ctx.input(2);
    if (b) {
      OM_RETURN_IF_ERROR(check_float(*b, "B"));
      if (b->rank() != 1 || b->dim(0) != g.out_channels) {
        return bad_input("input 'B' must be [" + std::to_string(g.out_channels) +
                         "] (one value per output channel), got " + describe(*b));
      }
    }
    const auto dims = g.output_dims();
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output_dims(0, std::span<const int64_t>(dims.data(), static_cast<size_t>(g.spatial) + 2),
                                                    DataType::kFloat));
    if (y->num_elements() == 0) return Status::ok();
    ConvRunArgs args;
    args.x = x.data<float>();
    args.bias = b ? b->data<float>() : nullptr;
    args.y = y->data<float>();
    args.epilogue = epilogue_.get();
    args.pool = ctx.thread_pool();
    col2im_conv_transpose(g, w.data<float>(), args);
    return Status::ok();
  }

 private:
  ConvAttributes attrs_;
  std::unique_ptr<ConvEpilogue> epilogue_;
};

Status infer_conv_transpose(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_ASSIGN_OR_RETURN(ConvAttributes attrs, ConvAttributes::parse(node.attrs(), /*transpose=*/true));
  for (const TensorInfo* t : {node.input(0), node.input(1), node.input(2)}) {
    if (t && t->dtype != DataType::kFloat && t->dtype != DataType::kUndefined) {
      return unsupported("ConvTranspose runs on float32, got " + t->to_string());
    }
  }
  return infer_conv_output(attrs, *node.input(0), *node.input(1), node.input(2), outputs[0]);
}

}  // namespace

void register_conv_transpose_ops(OpRegistry& r) {
  for (int since : {1, 11}) {
    r.add({.op_type = "ConvTranspose",
           .since_version = since,
           .min_inputs = 2,
           .max_inputs = 3,
           .attributes = {"auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape", "pads",
                          "strides"},
           .infer = infer_conv_transpose,
           .create = make_kernel<ConvTranspose>()});
  }
}

}  // namespace onnx_mini
