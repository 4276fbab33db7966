// Ops that rearrange or re-describe elements: Transpose, Squeeze, Unsqueeze, Expand.
// They move bytes, so one implementation per element size serves every dtype.
#include <cstring>

#include "ops/broadcast.h"
#include "ops/elementwise_util.h"
#include "ops/reduce_util.h"
#include "ops/registry.h"
#include "ops/strided_copy.h"

namespace onnx_mini {
namespace {

Status copy_as(KernelContext& ctx, const Tensor& x, const Shape& shape) {
  OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, shape, x.dtype()));
  if (x.byte_size()) std::memcpy(y->raw_data(), x.raw_data(), x.byte_size());
  return Status::ok();
}

// Copies x into out (shape `out_shape`) where input element offsets follow `strides`.
Status strided_copy(const Tensor& x, Tensor& out, const std::vector<int64_t>& strides, ThreadPool* pool) {
  return copy_strided(x.raw_data(), out.shape(), strides.data(), dtype_size(x.dtype()), out.raw_data(), pool)
             ? Status::ok()
             : unsupported("dtype " + dtype_name(x.dtype()));
}

Result<std::vector<int64_t>> transpose_perm(const std::vector<int64_t>& attr, bool has_attr, int64_t rank) {
  std::vector<int64_t> perm(static_cast<size_t>(rank));
  if (!has_attr) {
    for (int64_t i = 0; i < rank; ++i) perm[static_cast<size_t>(i)] = rank - 1 - i;
    return perm;
  }
  if (static_cast<int64_t>(attr.size()) != rank) {
    return bad_input("attribute 'perm' has " + std::to_string(attr.size()) + " entries for rank " + std::to_string(rank));
  }
  // A permutation: each axis once (negative axes are not allowed by the spec but harmless to accept).
  OM_ASSIGN_OR_RETURN(perm, normalize_axes(attr, rank, "attribute 'perm'"));
  return perm;
}

class Transpose final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    has_perm_ = node.attrs().has("perm");
    OM_ASSIGN_OR_RETURN(perm_, node.attrs().get_ints("perm", {}));
    return Status::ok();
  }
  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    OM_ASSIGN_OR_RETURN(std::vector<int64_t> perm, transpose_perm(perm_, has_perm_, x.rank()));
    Shape out_shape;
    std::vector<int64_t> in_strides = strides_of(x.shape()), strides;
    for (int64_t p : perm) {
      out_shape.push_back(x.dim(p));
      strides.push_back(in_strides[static_cast<size_t>(p)]);
    }
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, out_shape, x.dtype()));
    return strided_copy(x, *y, strides, ctx.thread_pool());
  }

 private:
  bool has_perm_ = false;
  std::vector<int64_t> perm_;
};

Status infer_transpose(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* x = node.input(0);
  outputs[0].dtype = x->dtype;
  if (!x->has_shape) return Status::ok();
  OM_ASSIGN_OR_RETURN(std::vector<int64_t> attr, node.attrs().get_ints("perm", {}));
  auto perm = transpose_perm(attr, node.attrs().has("perm"), static_cast<int64_t>(x->dims.size()));
  if (!perm.is_ok()) return invalid_model(perm.status().message());
  outputs[0].has_shape = true;
  for (int64_t p : perm.value()) outputs[0].dims.push_back(x->dims[static_cast<size_t>(p)]);
  return Status::ok();
}

// Axes of Squeeze/Unsqueeze: attribute before opset 13, optional/required input after.
struct AxesArg {
  bool from_input = false;
  bool has_attr = false;
  std::vector<int64_t> attr;

  Status init(const NodeInfo& node) {
    from_input = node.since_version >= 13;
    has_attr = node.attrs().has("axes");
    OM_ASSIGN_OR_RETURN(attr, node.attrs().get_ints("axes", {}));
    return Status::ok();
  }
  // present=false when no axes were given at all.
  Result<std::vector<int64_t>> get(const Tensor* input, bool& present) const {
    if (!from_input) {
      present = has_attr;
      return attr;
    }
    present = input != nullptr;
    if (!input) return std::vector<int64_t>{};
    return read_int_list(*input, "input 'axes'");
  }
  std::string what() const { return from_input ? "input 'axes'" : "attribute 'axes'"; }
};

Result<Shape> squeeze_shape(const Shape& in, const std::vector<int64_t>& axes_raw, bool present, const std::string& what) {
  const int64_t rank = static_cast<int64_t>(in.size());
  std::vector<bool> drop(in.size(), false);
  if (!present) {
    for (size_t d = 0; d < in.size(); ++d) drop[d] = in[d] == 1;
  } else {
    OM_ASSIGN_OR_RETURN(std::vector<int64_t> axes, normalize_axes(axes_raw, rank, what));
    for (int64_t a : axes) {
      if (in[static_cast<size_t>(a)] != 1) {
        return bad_input(what + ": cannot squeeze axis " + std::to_string(a) + " of size " +
                         std::to_string(in[static_cast<size_t>(a)]) + " in " + shape_to_string(in));
      }
      drop[static_cast<size_t>(a)] = true;
    }
  }
  Shape out;
  for (size_t d = 0; d < in.size(); ++d) {
    if (!drop[d]) out.push_back(in[d]);
  }
  return out;
}

Result<Shape> unsqueeze_shape(const Shape& in, const std::vector<int64_t>& axes_raw, const std::string& what) {
  const int64_t out_rank = static_cast<int64_t>(in.size() + axes_raw.size());
  OM_ASSIGN_OR_RETURN(std::vector<int64_t> axes, normalize_axes(axes_raw, out_rank, what));
  std::vector<bool> inserted(static_cast<size_t>(out_rank), false);
  for (int64_t a : axes) inserted[static_cast<size_t>(a)] = true;
  Shape out;
  size_t next = 0;
  for (int64_t d = 0; d < out_rank; ++d) out.push_back(inserted[static_cast<size_t>(d)] ? 1 : in[next++]);
  return out;
}

template <bool kSqueeze>
class SqueezeLike final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_RETURN_IF_ERROR(axes_.init(node));
    if (!kSqueeze && !axes_.from_input && !axes_.has_attr) return invalid_model("attribute 'axes' is required");
    return Status::ok();
  }
  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    bool present = false;
    OM_ASSIGN_OR_RETURN(std::vector<int64_t> axes, axes_.get(ctx.input(1), present));
    Shape shape;
    if constexpr (kSqueeze) {
      OM_ASSIGN_OR_RETURN(shape, squeeze_shape(x.shape(), axes, present, axes_.what()));
    } else {
      OM_ASSIGN_OR_RETURN(shape, unsqueeze_shape(x.shape(), axes, axes_.what()));
    }
    return copy_as(ctx, x, shape);
  }

 private:
  AxesArg axes_;
};

template <bool kSqueeze>
Status infer_squeeze_like(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* x = node.input(0);
  outputs[0].dtype = x->dtype;
  AxesArg arg;
  OM_RETURN_IF_ERROR(arg.init(node));
  const TensorInfo* axes_in = node.input(1);
  if (!x->has_shape || (arg.from_input && axes_in && !axes_in->constant)) return Status::ok();
  bool present = false;
  OM_ASSIGN_OR_RETURN(std::vector<int64_t> axes, arg.get(axes_in ? axes_in->constant : nullptr, present));
  if (kSqueeze && !present && !x->fully_known()) return Status::ok();  // which dims are 1 is unknown
  // Compute on a stand-in shape (unknown dims as 1 for Squeeze's check, copied back after).
  Shape stand_in;
  for (const Dim& d : x->dims) stand_in.push_back(d.known() ? d.value : (kSqueeze ? 1 : 2));
  Result<Shape> s = kSqueeze ? squeeze_shape(stand_in, axes, present, arg.what()) : unsqueeze_shape(stand_in, axes, arg.what());
  if (!s.is_ok()) return invalid_model(s.status().message());
  // Re-derive dims (keeping symbolic names): walk kept input dims in order.
  outputs[0].has_shape = true;
  if constexpr (kSqueeze) {
    std::vector<bool> drop(x->dims.size(), false);
    if (present) {
      auto norm = normalize_axes(axes, static_cast<int64_t>(x->dims.size()), arg.what());
      for (int64_t a : norm.value()) drop[static_cast<size_t>(a)] = true;
    } else {
      for (size_t d = 0; d < x->dims.size(); ++d) drop[d] = x->dims[d].value == 1;
    }
    for (size_t d = 0; d < x->dims.size(); ++d) {
      if (!drop[d]) outputs[0].dims.push_back(x->dims[d]);
    }
  } else {
    const int64_t out_rank = static_cast<int64_t>(x->dims.size() + axes.size());
    auto norm = normalize_axes(axes, out_rank, arg.what());
    std::vector<bool> ins(static_cast<size_t>(out_rank), false);
    for (int64_t a : norm.value()) ins[static_cast<size_t>(a)] = true;
    size_t next = 0;
    for (int64_t d = 0; d < out_rank; ++d) outputs[0].dims.push_back(ins[static_cast<size_t>(d)] ? Dim{1, ""} : x->dims[next++]);
  }
  return Status::ok();
}

// Expand(input, shape): numpy broadcast of the input against `shape`.
Result<Shape> expand_shape(const Shape& in, const Tensor& spec) {
  if (spec.dtype() != DataType::kInt64 || spec.rank() != 1) {
    return bad_input("input 'shape' must be a 1-D int64 tensor, got " + describe(spec));
  }
  Shape target(spec.data<int64_t>(), spec.data<int64_t>() + spec.num_elements());
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] < 0) return bad_input("input 'shape': dim " + std::to_string(target[i]) + " at index " + std::to_string(i) + " is negative");
  }
  auto out = broadcast_shapes(in, target);
  if (!out.is_ok()) return bad_input("input 'shape': " + out.status().message());
  // A size from fed data: past the limit is exit 6, not an invalid model.
  OM_RETURN_IF_ERROR(check_runtime_shape(out.value()).with_context("input 'shape': "));
  return out;
}

class Expand final : public Kernel {
 public:
  Status init(const NodeInfo&) { return Status::ok(); }
  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    OM_ASSIGN_OR_RETURN(Shape shape, expand_shape(x.shape(), *ctx.input(1)));
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, shape, x.dtype()));
    return strided_copy(x, *y, broadcast_strides(x.shape(), shape), ctx.thread_pool());
  }
};

Status infer_expand(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* x = node.input(0);
  outputs[0].dtype = x->dtype;
  const TensorInfo* spec = node.input(1);
  if (!spec->constant || !x->has_shape) return Status::ok();
  const Tensor& s = *spec->constant;
  if (s.dtype() != DataType::kInt64 || s.rank() != 1) return invalid_model("input 'shape' must be 1-D int64");
  std::vector<Dim> target;
  for (int64_t i = 0; i < s.num_elements(); ++i) {
    if (s.data<int64_t>()[i] < 0) return invalid_model("input 'shape' has a negative dim");
    target.push_back(Dim{s.data<int64_t>()[i], ""});
  }
  auto dims = broadcast_dims(x->dims, target);
  if (!dims.is_ok()) return invalid_model("input 'shape': " + dims.status().message());
  outputs[0].has_shape = true;
  outputs[0].dims = dims.value();
  return Status::ok();
}

}  // namespace

void register_layout_ops(OpRegistry& r) {
  // Element moves only: float16 and bfloat16 pass through natively. Versions in
  // also_since widened the types (11: negative axes, which the kernels always took).
  constexpr HalfTypes kNative = HalfTypes::kNative;
  r.add({.op_type = "Transpose", .since_version = 1, .attributes = {"perm"}, .infer = infer_transpose,
         .create = make_kernel<Transpose>(), .also_since = {13, 21}, .half_types = kNative});
  r.add({.op_type = "Squeeze", .since_version = 1, .attributes = {"axes"}, .infer = infer_squeeze_like<true>,
         .create = make_kernel<SqueezeLike<true>>(), .also_since = {11}, .half_types = kNative});
  r.add({.op_type = "Squeeze", .since_version = 13, .max_inputs = 2, .infer = infer_squeeze_like<true>,
         .create = make_kernel<SqueezeLike<true>>(), .also_since = {21}, .half_types = kNative});
  r.add({.op_type = "Unsqueeze", .since_version = 1, .attributes = {"axes"}, .infer = infer_squeeze_like<false>,
         .create = make_kernel<SqueezeLike<false>>(), .also_since = {11}, .half_types = kNative});
  r.add({.op_type = "Unsqueeze", .since_version = 13, .min_inputs = 2, .max_inputs = 2,
         .infer = infer_squeeze_like<false>, .create = make_kernel<SqueezeLike<false>>(), .also_since = {21},
         .half_types = kNative});
  r.add({.op_type = "Expand", .since_version = 8, .min_inputs = 2, .max_inputs = 2, .infer = infer_expand,
         .create = make_kernel<Expand>(), .also_since = {13}, .half_types = kNative});
}

}  // namespace onnx_mini
