// Pooling: MaxPool (with its Indices output), AveragePool, LpPool and the
// global pools, over [N, C, D1, ..., Dk] inputs. Window geometry (output
// sizes, auto_pad, ceil_mode) in ops/window_geometry.*, the loops in
// ops/pool_loops.*; this file parses each version's attributes, infers shapes
// at load and splits the planes over the session's threads.
#include <array>
#include <span>

#include "ops/plane_tasks.h"
#include "ops/pool_loops.h"
#include "ops/registry.h"
#include "ops/window_geometry.h"

namespace onnx_mini {
namespace {

// Dims of one output: N, C and up to kMaxSpatialRank spatial sizes, on the stack.
struct OutputDims {
  std::array<int64_t, kMaxSpatialRank + 2> d{};
  size_t n = 0;
  std::span<const int64_t> span() const { return {d.data(), n}; }
};

Status check_dtype(const NodeInfo& node, DataType t, PoolKind kind) {
  if (t == DataType::kUndefined || t == DataType::kFloat) return Status::ok();
  const bool int8_max = kind == PoolKind::kMax && node.since_version >= 12 &&
                        (t == DataType::kInt8 || t == DataType::kUInt8);
  if (int8_max) return Status::ok();
  return unsupported("input 'X' is " + dtype_name(t) + "; " + node.op_type + " runs on float" +
                     (kind == PoolKind::kMax ? " (and int8/uint8 from opset 12)" : ""));
}

// LpPool's p: a float attribute in version 1, an int from version 2.
Result<double> parse_p(const NodeInfo& node) {
  double p = 2;
  if (node.since_version < 2) {
    OM_ASSIGN_OR_RETURN(float f, node.attrs().get_float("p", 2.0f));
    p = f;
  } else {
    OM_ASSIGN_OR_RETURN(int64_t i, node.attrs().get_int("p", 2));
    p = static_cast<double>(i);
  }
  if (!(p >= 1)) return invalid_model("attribute 'p' is " + std::to_string(p) + "; an Lp norm needs p >= 1");
  return p;
}

template <PoolKind K>
Result<PoolSpec> parse_spec(const NodeInfo& node) {
  PoolSpec spec;
  spec.kind = K;
  if constexpr (K == PoolKind::kAverage) {
    OM_ASSIGN_OR_RETURN(int64_t include, node.attrs().get_int("count_include_pad", 0));
    if (include != 0 && include != 1) return invalid_model("attribute 'count_include_pad' must be 0 or 1");
    spec.count_include_pad = include == 1;
  }
  if constexpr (K == PoolKind::kLp) {
    OM_ASSIGN_OR_RETURN(spec.p, parse_p(node));
  }
  return spec;
}

// Max and uncounted-padding averages are undefined over a window of padding alone.
bool needs_input_in_every_window(const PoolSpec& spec) {
  return spec.kind == PoolKind::kMax || (spec.kind == PoolKind::kAverage && !spec.count_include_pad);
}

template <PoolKind K>
Status infer_window_pool(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* x = node.input(0);
  OM_RETURN_IF_ERROR(check_dtype(node, x->dtype, K));
  OM_ASSIGN_OR_RETURN(WindowAttributes window, WindowAttributes::parse(node.attrs()));
  OM_ASSIGN_OR_RETURN(PoolSpec spec, parse_spec<K>(node));
  outputs[0].dtype = x->dtype;
  if (outputs.size() > 1) outputs[1].dtype = DataType::kInt64;
  if (!x->has_shape) return Status::ok();
  const size_t rank = static_cast<size_t>(window.rank()) + 2;
  if (x->dims.size() != rank) {
    return invalid_model("input 'X' " + x->to_string() + " has rank " + std::to_string(x->dims.size()) +
                         "; kernel_shape has " + std::to_string(window.rank()) + " axes, so rank " +
                         std::to_string(rank) + " ([N, C, spatial...]) is expected");
  }
  TensorInfo& y = outputs[0];
  y.has_shape = true;
  y.dims = {x->dims[0], x->dims[1]};
  for (int i = 0; i < window.rank(); ++i) {
    const Dim& in = x->dims[static_cast<size_t>(i) + 2];
    if (!in.known()) {
      y.dims.push_back(Dim{});
      continue;
    }
    Result<AxisWindow> w = window.axis(i, in.value);
    if (!w.is_ok()) return invalid_model("input 'X' " + x->to_string() + ": " + w.status().message());
    if (needs_input_in_every_window(spec)) {
      Status only_pad = check_no_padding_only_window(w.value(), i);
      if (!only_pad.is_ok()) return invalid_model("input 'X' " + x->to_string() + ": " + only_pad.message());
    }
    y.dims.push_back(Dim{w->out, ""});
  }
  if (outputs.size() > 1) {
    outputs[1].has_shape = true;
    outputs[1].dims = y.dims;
  }
  return Status::ok();
}

// MaxPool / AveragePool / LpPool.
template <PoolKind K>
class WindowPool final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(window_, WindowAttributes::parse(node.attrs()));
    OM_ASSIGN_OR_RETURN(spec_, parse_spec<K>(node));
    if constexpr (K == PoolKind::kMax) {
      OM_ASSIGN_OR_RETURN(int64_t order, node.attrs().get_int("storage_order", 0));
      if (order != 0 && order != 1) return invalid_model("attribute 'storage_order' must be 0 or 1");
      column_major_ = order == 1;
    }
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    OM_ASSIGN_OR_RETURN(WindowGeometry g, geometry_of(x));
    OutputDims dims;
    dims.d[0] = x.dim(0);
    dims.d[1] = x.dim(1);
    for (int i = 0; i < g.rank; ++i) dims.d[static_cast<size_t>(i) + 2] = g.axes[static_cast<size_t>(i)].out;
    dims.n = static_cast<size_t>(g.rank) + 2;
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output_dims(0, dims.span(), x.dtype()));
    Tensor* indices = nullptr;
    if (ctx.num_outputs() > 1 && ctx.output_wanted(1)) {
      OM_ASSIGN_OR_RETURN(indices, ctx.output_dims(1, dims.span(), DataType::kInt64));
    }
    switch (x.dtype()) {
      case DataType::kFloat: return compute<float>(ctx, x, *y, indices, g);
      case DataType::kInt8: if (K == PoolKind::kMax) return compute<int8_t>(ctx, x, *y, indices, g); break;
      case DataType::kUInt8: if (K == PoolKind::kMax) return compute<uint8_t>(ctx, x, *y, indices, g); break;
      default: break;
    }
    return unsupported("input 'X' is " + dtype_name(x.dtype()));
  }

 private:
  Result<WindowGeometry> geometry_of(const Tensor& x) const {
    if (x.rank() != window_.rank() + 2) {
      return bad_input("input 'X' is " + describe(x) + "; kernel_shape has " + std::to_string(window_.rank()) +
                       " axes, so rank " + std::to_string(window_.rank() + 2) + " is expected");
    }
    Result<WindowGeometry> g = window_.geometry(std::span<const int64_t>(x.shape()).subspan(2));
    if (!g.is_ok()) return bad_input("input 'X' " + describe(x) + ": " + g.status().message());
    if (needs_input_in_every_window(spec_)) {
      Status only_pad = check_no_padding_only_window(g.value());
      if (!only_pad.is_ok()) return bad_input("input 'X' " + describe(x) + ": " + only_pad.message());
    }
    return g;
  }

  template <typename T>
  Status compute(KernelContext& ctx, const Tensor& x, Tensor& y, Tensor* indices, const WindowGeometry& g) const {
    const int64_t planes = x.dim(0) * x.dim(1);
    const int64_t plane_out = planes ? y.num_elements() / planes : 0;
    if (plane_out == 0) return Status::ok();
    const int64_t plane_in = x.num_elements() / planes;
    int64_t taps = 1;
    for (int i = 0; i < g.rank; ++i) taps *= g.axes[static_cast<size_t>(i)].kernel;
    const T* px = x.data<T>();
    T* py = y.data<T>();
    int64_t* pi = indices ? indices->data<int64_t>() : nullptr;
    for_each_item_block(ctx.thread_pool(), planes, plane_in + plane_out * taps, [&](int64_t first, int64_t count) {
      if (pi) max_pool_with_indices(px, py, pi, first, count, g, column_major_);
      else pool_planes(px, py, first, count, g, spec_);
    });
    return Status::ok();
  }

  WindowAttributes window_;
  PoolSpec spec_;
  bool column_major_ = false;
};

template <PoolKind K>
Status infer_global_pool(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* x = node.input(0);
  if (x->dtype != DataType::kUndefined && x->dtype != DataType::kFloat) {
    return unsupported("input 'X' is " + dtype_name(x->dtype) + "; " + node.op_type + " runs on float");
  }
  if constexpr (K == PoolKind::kLp) {
    OM_RETURN_IF_ERROR(parse_p(node).status());
  }
  outputs[0].dtype = x->dtype;
  if (!x->has_shape) return Status::ok();
  if (x->dims.size() < 2) return invalid_model("input 'X' " + x->to_string() + " needs rank >= 2 ([N, C, ...])");
  if (x->dims.size() > kMaxSpatialRank + 2) {
    return unsupported("input 'X' " + x->to_string() + " has more than " + std::to_string(kMaxSpatialRank) +
                       " spatial dims");
  }
  outputs[0].has_shape = true;
  outputs[0].dims = {x->dims[0], x->dims[1]};
  outputs[0].dims.resize(x->dims.size(), Dim{1, ""});
  return Status::ok();
}

// GlobalAveragePool / GlobalMaxPool / GlobalLpPool: one value per [n, c] plane.
template <PoolKind K>
class GlobalPool final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    spec_.kind = K;
    if constexpr (K == PoolKind::kLp) {
      OM_ASSIGN_OR_RETURN(spec_.p, parse_p(node));
    }
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    if (x.rank() < 2 || x.rank() > kMaxSpatialRank + 2) {
      return bad_input("input 'X' is " + describe(x) + "; expected [N, C, up to " + std::to_string(kMaxSpatialRank) +
                       " spatial dims]");
    }
    if (x.dtype() != DataType::kFloat) return unsupported("input 'X' is " + dtype_name(x.dtype()) + ", not float");
    OutputDims dims;
    dims.n = static_cast<size_t>(x.rank());
    dims.d.fill(1);
    dims.d[0] = x.dim(0);
    dims.d[1] = x.dim(1);
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output_dims(0, dims.span(), x.dtype()));
    const int64_t planes = x.dim(0) * x.dim(1);
    if (planes == 0) return Status::ok();
    const int64_t plane_size = x.num_elements() / planes;
    const float* px = x.data<float>();
    float* py = y->data<float>();
    for_each_item_block(ctx.thread_pool(), planes, plane_size, [&](int64_t first, int64_t count) {
      global_pool_planes(px, py, first, count, plane_size, spec_);
    });
    return Status::ok();
  }

 private:
  PoolSpec spec_;
};

void register_max_pool(OpRegistry& r) {
  const InferFn infer = infer_window_pool<PoolKind::kMax>;
  const KernelFactory create = make_kernel<WindowPool<PoolKind::kMax>>();
  r.add({.op_type = "MaxPool", .since_version = 1, .attributes = {"auto_pad", "kernel_shape", "pads", "strides"},
         .infer = infer, .create = create});
  // 8: storage_order and the Indices output; 10: ceil_mode, dilations; 11: pads
  // documented as any value >= 0 (no change here); 12: int8 / uint8.
  const std::vector<std::string> v8 = {"auto_pad", "kernel_shape", "pads", "storage_order", "strides"};
  r.add({.op_type = "MaxPool", .since_version = 8, .max_outputs = 2, .attributes = v8, .infer = infer,
         .create = create});
  std::vector<std::string> v10 = v8;
  v10.insert(v10.end(), {"ceil_mode", "dilations"});
  for (int since : {10, 11, 12}) {
    r.add({.op_type = "MaxPool", .since_version = since, .max_outputs = 2, .attributes = v10, .infer = infer,
           .create = create});
  }
}

void register_average_pool(OpRegistry& r) {
  const InferFn infer = infer_window_pool<PoolKind::kAverage>;
  const KernelFactory create = make_kernel<WindowPool<PoolKind::kAverage>>();
  std::vector<std::string> attrs = {"auto_pad", "kernel_shape", "pads", "strides"};
  r.add({.op_type = "AveragePool", .since_version = 1, .attributes = attrs, .infer = infer, .create = create});
  attrs.push_back("count_include_pad");
  r.add({.op_type = "AveragePool", .since_version = 7, .attributes = attrs, .infer = infer, .create = create});
  attrs.push_back("ceil_mode");
  for (int since : {10, 11}) {
    r.add({.op_type = "AveragePool", .since_version = since, .attributes = attrs, .infer = infer, .create = create});
  }
  attrs.push_back("dilations");
  r.add({.op_type = "AveragePool", .since_version = 19, .attributes = attrs, .infer = infer, .create = create});
}

void register_lp_pool(OpRegistry& r) {
  const InferFn infer = infer_window_pool<PoolKind::kLp>;
  const KernelFactory create = make_kernel<WindowPool<PoolKind::kLp>>();
  std::vector<std::string> attrs = {"auto_pad", "kernel_shape", "p", "pads", "strides"};
  // 1: p is a float; 2: an int; 11: documentation; 18: ceil_mode, dilations.
  for (int since : {1, 2, 11}) {
    r.add({.op_type = "LpPool", .since_version = since, .attributes = attrs, .infer = infer, .create = create});
  }
  attrs.insert(attrs.end(), {"ceil_mode", "dilations"});
  r.add({.op_type = "LpPool", .since_version = 18, .attributes = attrs, .infer = infer, .create = create});
}

}  // namespace

void register_pool_ops(OpRegistry& r) {
  register_max_pool(r);
  register_average_pool(r);
  register_lp_pool(r);
  r.add({.op_type = "GlobalAveragePool", .since_version = 1, .infer = infer_global_pool<PoolKind::kAverage>,
         .create = make_kernel<GlobalPool<PoolKind::kAverage>>()});
  r.add({.op_type = "GlobalMaxPool", .since_version = 1, .infer = infer_global_pool<PoolKind::kMax>,
         .create = make_kernel<GlobalPool<PoolKind::kMax>>()});
  for (int since : {1, 2}) {  // p: float in 1, int from 2
    r.add({.op_type = "GlobalLpPool", .since_version = since, .attributes = {"p"},
           .infer = infer_global_pool<PoolKind::kLp>, .create = make_kernel<GlobalPool<PoolKind::kLp>>()});
  }
}

}  // namespace onnx_mini
