// Resize (opsets 10, 11, 13, 18, 19) and Upsample (7, 9; 10 is Upsample-9
// deprecated): nearest, linear and cubic sampling in N dimensions, float.
//   Upsample-7: scales attribute; 9: scales input;  Resize-10: scales input.
//   Resize-11: roi, scales, sizes, coordinate modes, cubic;  13: optional roi
//   and scales;  18: antialias, axes, keep_aspect_ratio_policy;  19:
//   half_pixel_symmetric.
// The per-axis index/weight tables (resize_plan.h) are built once per input
// shape and scales/sizes values and kept; a run then only gathers. Leading
// axes that keep their size and read themselves (N and C of NCHW) become
// independent planes; the resized trailing one or two axes run a separable
// tap loop, more axes a general N-D loop.
#include <cstring>
#include <memory>
#include <mutex>

#include "ops/plane_tasks.h"
#include "ops/registry.h"
#include "ops/resize_plan.h"

namespace onnx_mini {
namespace {

struct ResizeTables {
  ResizeRequest request;
  std::vector<AxisTable> axes;
  int lead = 0;            // leading identity axes
  int64_t planes = 1;      // product of their sizes
};

bool same_request(const ResizeRequest& a, const ResizeRequest& b) {
  if (a.rank != b.rank) return false;
  for (int d = 0; d < a.rank; ++d) {
    if (a.in[d] != b.in[d] || a.out[d] != b.out[d] || a.scale[d] != b.scale[d] || a.roi_start[d] != b.roi_start[d] ||
        a.roi_end[d] != b.roi_end[d]) {
      return false;
    }
  }
  return true;
}

std::unique_ptr<ResizeTables> build_tables(const ResizeAttrs& a, const ResizeRequest& r) {
  auto t = std::make_unique<ResizeTables>();
  t->request = r;
  for (int d = 0; d < r.rank; ++d) t->axes.push_back(build_axis_table(a, r, d));
  while (t->lead < r.rank && t->axes[static_cast<size_t>(t->lead)].identity) {
    t->planes *= r.in[t->lead];
    ++t->lead;
  }
  return t;
}

// The trailing one or two axes of one plane: y[oy][ox] = sum wy * wx * x[iy][ix].
void resize_plane_2d(const float* x, float* y, const AxisTable& h, const AxisTable& w, float extrapolation) {
  const bool gather = h.taps == 1 && w.taps == 1;
  for (int64_t oy = 0; oy < h.out; ++oy) {
    float* row = y + oy * w.out;
    if (h.any_outside && h.outside[static_cast<size_t>(oy)]) {
      std::fill(row, row + w.out, extrapolation);
      continue;
    }
    const int64_t* iy = h.index.data() + oy * h.taps;
    const float* wy = h.weight.data() + oy * h.taps;
    for (int64_t ox = 0; ox < w.out; ++ox) {
      if (w.any_outside && w.outside[static_cast<size_t>(ox)]) {
        row[ox] = extrapolation;
        continue;
      }
      const int64_t* ix = w.index.data() + ox * w.taps;
      const float* wx = w.weight.data() + ox * w.taps;
      if (gather) {
        row[ox] = x[iy[0] * w.in + ix[0]];
        continue;
      }
      float acc = 0.f;
      for (int ky = 0; ky < h.taps; ++ky) {
        const float* src = x + iy[ky] * w.in;
        float inner = 0.f;
        for (int kx = 0; kx < w.taps; ++kx) inner += wx[kx] * src[ix[kx]];
        acc += wy[ky] * inner;
      }
      row[ox] = acc;
    }
  }
}

// Any number of resized trailing axes [lead, rank) of one plane.
void resize_plane_nd(const float* x, float* y, const ResizeTables& t, float extrapolation) {
  const int first = t.lead, rank = t.request.rank;
  int64_t o[kMaxResizeRank] = {}, k[kMaxResizeRank] = {};
  int64_t in_stride[kMaxResizeRank] = {};
  int64_t stride = 1;
  for (int d = rank - 1; d >= first; --d) {
    in_stride[d] = stride;
    stride *= t.request.in[d];
  }
  int64_t count = 1;
  for (int d = first; d < rank; ++d) count *= t.request.out[d];
  for (int64_t i = 0; i < count; ++i) {
    bool outside = false;
    for (int d = first; d < rank; ++d) {
      const AxisTable& a = t.axes[static_cast<size_t>(d)];
      outside = outside || (a.any_outside && a.outside[static_cast<size_t>(o[d])]);
    }
    float acc = 0.f;
    if (!outside) {
      for (int d = first; d < rank; ++d) k[d] = 0;
      for (;;) {  // every combination of taps
        float weight = 1.f;
        int64_t src = 0;
        for (int d = first; d < rank; ++d) {
          const AxisTable& a = t.axes[static_cast<size_t>(d)];
          const size_t at = static_cast<size_t>(o[d] * a.taps + k[d]);
          weight *= a.weight[at];
          src += a.index[at] * in_stride[d];
        }
        acc += weight * x[src];
        int d = rank - 1;
        for (; d >= first; --d) {
          if (++k[d] < t.axes[static_cast<size_t>(d)].taps) break;
          k[d] = 0;
        }
        if (d < first) break;
      }
    }
    y[i] = outside ? extrapolation : acc;
    for (int d = rank - 1; d >= first; --d) {
      if (++o[d] < t.request.out[d]) break;
      o[d] = 0;
    }
  }
}

const Tensor* optional_input(KernelContext& ctx, int slot) {
  return slot >= 0 && slot < ctx.num_inputs() ? ctx.input(slot) : nullptr;
}

class Resize final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(attrs_, parse_resize_attrs(node));
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    if (x.dtype() != DataType::kFloat) return unsupported("input 'X' is " + dtype_name(x.dtype()) + "; Resize runs on float");
    Result<ResizeRequest> r = resize_request(attrs_, x.shape(), optional_input(ctx, attrs_.scales_input),
                                             optional_input(ctx, attrs_.sizes_input),
                                             optional_input(ctx, attrs_.roi_input));
    if (!r.is_ok()) {
      const Status& s = r.status();
      return s.code() == ErrorCode::kInvalidModel ? bad_input(s.message()) : s;
    }
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output_dims(0, {r->out, static_cast<size_t>(r->rank)}, DataType::kFloat));
    if (y->num_elements() == 0) return Status::ok();
    std::lock_guard<std::mutex> lock(mutex_);  // the tables are rebuilt only when the request changes
    if (!tables_ || !same_request(tables_->request, *r)) tables_ = build_tables(attrs_, *r);
    compute(x.data<float>(), y->data<float>(), *tables_, ctx.thread_pool());
    return Status::ok();
  }

 private:
  void compute(const float* x, float* y, const ResizeTables& t, ThreadPool* pool) const {
    const int rank = t.request.rank;
    int64_t in_plane = 1, out_plane = 1;
    for (int d = t.lead; d < rank; ++d) {
      in_plane *= t.request.in[d];
      out_plane *= t.request.out[d];
    }
    if (t.lead == rank) {
      std::memcpy(y, x, static_cast<size_t>(out_plane * t.planes) * sizeof(float));
      return;
    }
    static const AxisTable kSingleRow = [] {
      AxisTable one;
      one.in = one.out = 1;
      one.identity = true;
      one.index = {0};
      one.weight = {1.f};
      one.outside = {0};
      return one;
    }();
    const AxisTable& w = t.axes[static_cast<size_t>(rank - 1)];
    const AxisTable& h = rank - t.lead >= 2 ? t.axes[static_cast<size_t>(rank - 2)] : kSingleRow;
    const bool separable = rank - t.lead <= 2;
    int64_t taps = 1;
    for (int d = t.lead; d < rank; ++d) taps *= t.axes[static_cast<size_t>(d)].taps;
    for_each_item_block(pool, t.planes, out_plane * taps, [&](int64_t first, int64_t count) {
      for (int64_t p = first; p < first + count; ++p) {
        if (separable) {
          resize_plane_2d(x + p * in_plane, y + p * out_plane, h, w, attrs_.extrapolation);
        } else {
          resize_plane_nd(x + p * in_plane, y + p * out_plane, t, attrs_.extrapolation);
        }
      }
    });
  }

  ResizeAttrs attrs_;
  mutable std::mutex mutex_;
  mutable std::unique_ptr<ResizeTables> tables_;
};

// Output shape when the input's rank and the scales / sizes (and roi) are
// known at load: unknown input dims stay unknown unless their axis keeps its
// size (a symbolic batch) or sizes names them directly.
Status infer_resize(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_ASSIGN_OR_RETURN(ResizeAttrs a, parse_resize_attrs(node));
  const TensorInfo* x = node.input(0);
  outputs[0].dtype = x->dtype;
  if (x->dtype != DataType::kUndefined && x->dtype != DataType::kFloat && x->dtype != DataType::kFloat16 &&
      x->dtype != DataType::kBFloat16) {
    return unsupported("input 'X' is " + dtype_name(x->dtype) + "; Resize runs on float");
  }
  if (!x->has_shape) return Status::ok();
  outputs[0].has_shape = true;
  outputs[0].dims.assign(x->dims.size(), Dim{});
  auto constant = [&](int slot, bool& unknown) -> const Tensor* {
    const TensorInfo* t = slot >= 0 ? node.input(static_cast<size_t>(slot)) : nullptr;
    if (t != nullptr && t->constant == nullptr) unknown = true;
    return t ? t->constant : nullptr;
  };
  bool unknown = false;
  const Tensor* scales = constant(a.scales_input, unknown);
  const Tensor* sizes = constant(a.sizes_input, unknown);
  const Tensor* roi = constant(a.roi_input, unknown);
  if (unknown) return Status::ok();
  // Unknown dims stand in as 1 to check the values; their result is not kept.
  std::vector<int64_t> in(x->dims.size(), 1);
  for (size_t d = 0; d < in.size(); ++d) in[d] = x->dims[d].known() ? x->dims[d].value : 1;
  OM_ASSIGN_OR_RETURN(ResizeRequest r, resize_request(a, in, scales, sizes, roi));
  const bool by_sizes = sizes != nullptr && sizes->num_elements() > 0;
  const bool stretch = a.policy == AspectPolicy::kStretch;
  bool all_known = true;
  for (const Dim& d : x->dims) all_known = all_known && d.known();
  for (size_t d = 0; d < in.size(); ++d) {
    bool listed = a.axes.empty();
    for (int64_t ax : a.axes) listed = listed || ax == static_cast<int64_t>(d) || ax + static_cast<int64_t>(in.size()) == static_cast<int64_t>(d);
    const bool keeps_size = !listed || (!by_sizes && r.scale[d] == 1.0 && a.coordinates != CoordinateMode::kTfCropAndResize);
    if ((by_sizes && listed && stretch) || (x->dims[d].known() && (!by_sizes || stretch || all_known))) {
      outputs[0].dims[d] = Dim{r.out[d], ""};
    } else if (keeps_size) {
      outputs[0].dims[d] = x->dims[d];  // a symbolic batch stays symbolic
    }
  }
  return Status::ok();
}

}  // namespace

void register_resize_ops(OpRegistry& r) {
  const KernelFactory create = make_kernel<Resize>();
  r.add({.op_type = "Upsample", .since_version = 7, .attributes = {"mode", "scales"}, .infer = infer_resize,
         .create = create});
  // Upsample-10 is Upsample-9 marked deprecated: models still carry it, it runs the same.
  r.add({.op_type = "Upsample", .since_version = 9, .min_inputs = 2, .max_inputs = 2, .attributes = {"mode"},
         .infer = infer_resize, .create = create, .also_since = {10}});
  r.add({.op_type = "Resize", .since_version = 10, .min_inputs = 2, .max_inputs = 2, .attributes = {"mode"},
         .infer = infer_resize, .create = create});
  const std::vector<std::string> v11 = {"coordinate_transformation_mode", "cubic_coeff_a", "exclude_outside",
                                        "extrapolation_value", "mode", "nearest_mode"};
  r.add({.op_type = "Resize", .since_version = 11, .min_inputs = 3, .max_inputs = 4, .attributes = v11,
         .infer = infer_resize, .create = create});
  r.add({.op_type = "Resize", .since_version = 13, .min_inputs = 1, .max_inputs = 4, .attributes = v11,
         .infer = infer_resize, .create = create});
  std::vector<std::string> v18 = v11;
  for (const char* name : {"antialias", "axes", "keep_aspect_ratio_policy"}) v18.push_back(name);
  r.add({.op_type = "Resize", .since_version = 18, .min_inputs = 1, .max_inputs = 4, .attributes = v18,
         .infer = infer_resize, .create = create, .also_since = {19}});
}

}  // namespace onnx_mini
