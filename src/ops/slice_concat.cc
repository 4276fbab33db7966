// Slice, Concat, Split. Slice arguments are clamped as the spec says (never
// read outside the input); Concat/Split check that the pieces tile the axis.
#include <algorithm>
#include <cstring>
#include <vector>

#include "ops/broadcast.h"
#include "ops/parallel.h"
#include "ops/reduce_util.h"
#include "ops/registry.h"
#include "ops/strided_copy.h"

namespace onnx_mini {
namespace {

struct SliceArgs {
  std::vector<int64_t> starts, ends, axes, steps;
  bool has_axes = false, has_steps = false;
};

struct SlicePlan {
  Shape out_shape;
  std::vector<int64_t> start, step;  // per input dim
};

Result<SlicePlan> plan_slice(const Shape& in, const SliceArgs& a) {
  const int64_t rank = static_cast<int64_t>(in.size());
  const size_t n = a.starts.size();
  if (a.ends.size() != n) return bad_input("'starts' has " + std::to_string(n) + " values, 'ends' " + std::to_string(a.ends.size()));
  std::vector<int64_t> axes_raw = a.axes;
  if (!a.has_axes) {
    axes_raw.clear();
    for (size_t i = 0; i < n; ++i) axes_raw.push_back(static_cast<int64_t>(i));
  }
  if (axes_raw.size() != n) return bad_input("'axes' has " + std::to_string(axes_raw.size()) + " values, 'starts' " + std::to_string(n));
  if (a.has_steps && a.steps.size() != n) return bad_input("'steps' has " + std::to_string(a.steps.size()) + " values, 'starts' " + std::to_string(n));
  OM_ASSIGN_OR_RETURN(std::vector<int64_t> axes, normalize_axes(axes_raw, rank, "'axes'"));
  SlicePlan p;
  p.out_shape = in;
  p.start.assign(in.size(), 0);
  p.step.assign(in.size(), 1);
  for (size_t i = 0; i < n; ++i) {
    const auto d = static_cast<size_t>(axes[i]);
    const int64_t dim = in[d];
    const int64_t step = a.has_steps ? a.steps[i] : 1;
    if (step == 0) return bad_input("'steps': step 0 at index " + std::to_string(i));
    // Negative starts/ends count from the end (no overflow: 0 <= dim <= 2^40),
    // then clamp as the spec says, so any int64 is accepted and nothing is read outside.
    int64_t s = a.starts[i], e = a.ends[i];
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    int64_t count = 0;
    if (dim == 0) {
      count = 0;
    } else if (step > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      count = e > s ? (e - s - 1) / step + 1 : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      // -step overflows for INT64_MIN; any step that large takes one element.
      const int64_t stride = step == INT64_MIN ? INT64_MAX : -step;
      count = s > e ? (s - e - 1) / stride + 1 : 0;
    }
    p.out_shape[d] = count;
    p.start[d] = count ? s : 0;
    // The step only moves between elements: with one element (or none) it is
    // never used, and keeping it would make step * stride overflow int64 for
    // steps like 2^62 or INT64_MIN. With two or more, |step| < dim, so
    // step * stride stays within the tensor's size.
    p.step[d] = count > 1 ? step : 1;
  }
  return p;
}

Status run_slice(KernelContext& ctx, const Tensor& x, const SliceArgs& args) {
  OM_ASSIGN_OR_RETURN(SlicePlan p, plan_slice(x.shape(), args));
  OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, p.out_shape, x.dtype()));
  if (y->num_elements() == 0) return Status::ok();
  std::vector<int64_t> in_strides = strides_of(x.shape()), strides(in_strides.size());
  int64_t base = 0;
  for (size_t d = 0; d < in_strides.size(); ++d) {
    base += p.start[d] * in_strides[d];
    strides[d] = p.step[d] * in_strides[d];
  }
  const size_t es = dtype_size(x.dtype());
  const auto* src = static_cast<const uint8_t*>(x.raw_data()) + static_cast<size_t>(base) * es;
  if (!copy_strided(src, p.out_shape, strides.data(), es, y->raw_data(), ctx.thread_pool())) {
    return unsupported("dtype " + dtype_name(x.dtype()));
  }
  return Status::ok();
}

// Slice-1: starts/ends/axes attributes. Slice-10+: inputs (starts, ends, axes?, steps?).
class Slice final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    from_inputs_ = node.since_version >= 10;
    if (!from_inputs_) {
      OM_ASSIGN_OR_RETURN(attr_.starts, node.attrs().require_ints("starts"));
      OM_ASSIGN_OR_RETURN(attr_.ends, node.attrs().require_ints("ends"));
      attr_.has_axes = node.attrs().has("axes");
      OM_ASSIGN_OR_RETURN(attr_.axes, node.attrs().get_ints("axes", {}));
    }
    return Status::ok();
  }
  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    if (!from_inputs_) return run_slice(ctx, x, attr_);
    SliceArgs a;
    OM_ASSIGN_OR_RETURN(a.starts, read_int_list(*ctx.input(1), "input 'starts'"));
    OM_ASSIGN_OR_RETURN(a.ends, read_int_list(*ctx.input(2), "input 'ends'"));
    if (const Tensor* axes = ctx.input(3)) {
      a.has_axes = true;
      OM_ASSIGN_OR_RETURN(a.axes, read_int_list(*axes, "input 'axes'"));
    }
    if (const Tensor* steps = ctx.input(4)) {
      a.has_steps = true;
      OM_ASSIGN_OR_RETURN(a.steps, read_int_list(*steps, "input 'steps'"));
    }
    return run_slice(ctx, x, a);
  }

 private:
  bool from_inputs_ = true;
  SliceArgs attr_;
};

Status infer_slice(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* x = node.input(0);
  outputs[0].dtype = x->dtype;
  if (!x->has_shape) return Status::ok();
  SliceArgs a;
  if (node.since_version < 10) {
    OM_ASSIGN_OR_RETURN(a.starts, node.attrs().require_ints("starts"));
    OM_ASSIGN_OR_RETURN(a.ends, node.attrs().require_ints("ends"));
    a.has_axes = node.attrs().has("axes");
    OM_ASSIGN_OR_RETURN(a.axes, node.attrs().get_ints("axes", {}));
  } else {
    // Rank is always known; dims only when every argument is constant.
    outputs[0].has_shape = true;
    outputs[0].dims.assign(x->dims.size(), Dim{});
    for (size_t i = 1; i < 5; ++i) {
      const TensorInfo* in = node.input(i);
      if (in && !in->constant) return Status::ok();
      if (!in && i < 3) return Status::ok();
    }
    auto read = [&](size_t i, std::vector<int64_t>& v, const char* what) -> Status {
      auto r = read_int_list(*node.input(i)->constant, what);
      if (!r.is_ok()) return invalid_model(r.status().message());
      v = r.value();
      return Status::ok();
    };
    OM_RETURN_IF_ERROR(read(1, a.starts, "input 'starts'"));
    OM_RETURN_IF_ERROR(read(2, a.ends, "input 'ends'"));
    if (node.input(3)) { a.has_axes = true; OM_RETURN_IF_ERROR(read(3, a.axes, "input 'axes'")); }
    if (node.input(4)) { a.has_steps = true; OM_RETURN_IF_ERROR(read(4, a.steps, "input 'steps'")); }
  }
  if (!x->fully_known()) {
    outputs[0].has_shape = true;
    outputs[0].dims.assign(x->dims.size(), Dim{});
    return Status::ok();
  }
  auto p = plan_slice(x->concrete_shape(), a);
  if (!p.is_ok()) return invalid_model(p.status().message());
  outputs[0] = TensorInfo::of(x->dtype, p->out_shape);
  return Status::ok();
}

// Concat along `axis`: every input has the same rank and dims off the axis.
class Concat final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(axis_, node.attrs().require_int("axis"));
    return Status::ok();
  }
  Status run(KernelContext& ctx) const override {
    const Tensor& first = *ctx.input(0);
    auto a = normalize_axis(axis_, first.rank());
    if (!a.is_ok()) return bad_input("attribute 'axis': " + a.status().message());
    const int64_t axis = a.value();
    Shape shape = first.shape();
    shape[static_cast<size_t>(axis)] = 0;
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      const Tensor* t = ctx.input(i);
      if (!t) return bad_input("input " + std::to_string(i) + " is empty");
      if (t->dtype() != first.dtype() || t->rank() != first.rank()) {
        return bad_input("input " + std::to_string(i) + " is " + describe(*t) + ", input 0 is " + describe(first));
      }
      for (int64_t d = 0; d < t->rank(); ++d) {
        if (d != axis && t->dim(d) != first.dim(d)) {
          return bad_input("input " + std::to_string(i) + " " + describe(*t) + " differs from input 0 " + describe(first) +
                           " off axis " + std::to_string(axis));
        }
      }
      // Checked: zero-size inputs may have huge dims on the axis.
      const auto sum = checked_add(shape[static_cast<size_t>(axis)], t->dim(axis));
      if (!sum) return resource_limit("the inputs' sizes along axis " + std::to_string(axis) + " add up to more than 2^63");
      shape[static_cast<size_t>(axis)] = *sum;
    }
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, shape, first.dtype()));
    ConcatCopy copy{&ctx, static_cast<uint8_t*>(y->raw_data()), 1, 0, 0, dtype_size(first.dtype())};
    int64_t inner = 1;
    for (int64_t d = 0; d < axis; ++d) copy.outer *= shape[static_cast<size_t>(d)];
    for (int64_t d = axis + 1; d < first.rank(); ++d) inner *= shape[static_cast<size_t>(d)];
    copy.out_row = static_cast<size_t>(shape[static_cast<size_t>(axis)] * inner) * copy.element;
    copy.inner = static_cast<size_t>(inner);
    copy.run(axis);
    return Status::ok();
  }

 private:
  // The copy of every input's rows into Y, in pieces of at most kPieceBytes
  // spread over the session's threads once Y is large. On 2 threads the inputs
  // were mostly written by both cores (a convolution splits its pixels), so one
  // thread copying alone reads half of them from the other core's cache:
  // SqueezeNet's eight Concats took 1.6x their 1-thread time on 2 threads.
  struct ConcatCopy {
    static constexpr size_t kPieceBytes = size_t{64} << 10;
    static constexpr size_t kParallelBytes = size_t{256} << 10;
    // A piece finds its input by walking the inputs before it: cheap for the
    // few inputs of a network's Concat, quadratic for a Concat of 100,000.
    static constexpr int kMaxPieceInputs = 64;
    KernelContext* ctx;
    uint8_t* y;
    int64_t outer;
    size_t out_row, inner, element;

    size_t row_bytes(int input, int64_t axis) const {
      return static_cast<size_t>(ctx->input(input)->dim(axis)) * inner * element;
    }
    size_t pieces(size_t bytes) const { return (bytes + kPieceBytes - 1) / kPieceBytes; }

    void run(int64_t axis) const {
      if (outer == 0 || out_row == 0 || all_in_place(axis)) return;
      ThreadPool* pool = static_cast<size_t>(outer) * out_row >= kParallelBytes ? ctx->thread_pool() : nullptr;
      if (out_row <= kPieceBytes || ctx->num_inputs() > kMaxPieceInputs) {
        // Short rows (or inputs too many to search per piece): a task is a run
        // of whole rows, about one piece of bytes.
        const int64_t rows = static_cast<int64_t>(std::max<size_t>(1, kPieceBytes / out_row));
        for_each_task(pool, (outer + rows - 1) / rows, [&](int64_t task) {
          for (int64_t o = task * rows; o < std::min(outer, (task + 1) * rows); ++o) copy_row(axis, o);
        });
        return;
      }
      size_t per_outer = 0;  // pieces of one row of Y, all inputs
      for (int i = 0; i < ctx->num_inputs(); ++i) per_outer += pieces(row_bytes(i, axis));
      for_each_task(pool, outer * static_cast<int64_t>(per_outer), [&](int64_t task) {
        copy_piece(axis, task / static_cast<int64_t>(per_outer), static_cast<size_t>(task) % per_outer);
      });
    }

    // Whether the memory plan wrote every input in its place in Y already (one
    // image: a single row of Y). Then nothing is dispatched: on 2 threads a
    // dispatch of pieces that each copy nothing still cost SqueezeNet's
    // Concats above 256 KiB 2.8-4.2 us each (--profile, batch 1; 1.1-1.7
    // without it), the two threads signalling each other across cores.
    bool all_in_place(int64_t axis) const {
      if (outer != 1) return false;
      size_t col = 0;
      for (int i = 0; i < ctx->num_inputs(); ++i) {
        const size_t row = row_bytes(i, axis);
        if (row != 0 && static_cast<const uint8_t*>(ctx->input(i)->raw_data()) != y + col) return false;
        col += row;
      }
      return true;
    }

    void copy_row(int64_t axis, int64_t o) const {
      size_t col = 0;
      for (int i = 0; i < ctx->num_inputs(); ++i) {
        const size_t row = row_bytes(i, axis);
        const auto* src = static_cast<const uint8_t*>(ctx->input(i)->raw_data());
        copy(y + static_cast<size_t>(o) * out_row + col, src + static_cast<size_t>(o) * row, row);
        col += row;
      }
    }

    // An input the memory plan had written in its place in Y already
    // (runtime/plan.h, ConcatPlacement) is not copied onto itself.
    static void copy(uint8_t* dst, const uint8_t* src, size_t bytes) {
      if (bytes != 0 && dst != src) std::memcpy(dst, src, bytes);
    }

    // Piece `piece` of row `o` of Y: find its input (few inputs; no table, so
    // a run allocates nothing), then copy its bytes.
    void copy_piece(int64_t axis, int64_t o, size_t piece) const {
      size_t col = 0;
      for (int i = 0; i < ctx->num_inputs(); ++i) {
        const size_t row = row_bytes(i, axis), count = pieces(row);
        if (piece < count) {
          const size_t begin = piece * kPieceBytes, bytes = std::min(kPieceBytes, row - begin);
          const auto* src = static_cast<const uint8_t*>(ctx->input(i)->raw_data());
          copy(y + static_cast<size_t>(o) * out_row + col + begin, src + static_cast<size_t>(o) * row + begin, bytes);
          return;
        }
        piece -= count;
        col += row;
      }
    }
  };

  int64_t axis_ = 0;
};

Status infer_concat(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* first = node.input(0);
  outputs[0].dtype = first->dtype;
  OM_ASSIGN_OR_RETURN(int64_t axis, node.attrs().require_int("axis"));
  for (const TensorInfo* in : node.inputs) {
    if (!in || !in->has_shape) return Status::ok();
    if (in->dims.size() != first->dims.size()) return invalid_model("inputs differ in rank: " + in->to_string() + " vs " + first->to_string());
  }
  auto a = normalize_axis(axis, static_cast<int64_t>(first->dims.size()));
  if (!a.is_ok()) return invalid_model("attribute 'axis': " + a.status().message());
  const auto ax = static_cast<size_t>(a.value());
  outputs[0].has_shape = true;
  outputs[0].dims = first->dims;
  int64_t total = 0;
  for (const TensorInfo* in : node.inputs) {
    if (total >= 0 && in->dims[ax].known()) total += in->dims[ax].value;
    else total = -1;
    for (size_t d = 0; d < in->dims.size(); ++d) {
      if (d != ax && !outputs[0].dims[d].known() && in->dims[d].known()) outputs[0].dims[d] = in->dims[d];
    }
  }
  outputs[0].dims[ax] = total >= 0 ? Dim{total, ""} : Dim{};
  return Status::ok();
}

// Split sizes: from the attribute (opset 2-12) or input (13+); else, from
// 18, `num_outputs` parts of ceil(dim / num_outputs) with a smaller (possibly
// empty) last one (ONNX's shape inference and reference agree on this; a size
// that leaves the last part negative, e.g. 5 into 4, cannot be split and is
// an error); else equal parts, one per output.
Result<std::vector<int64_t>> split_sizes(int64_t dim, const std::vector<int64_t>& given, bool has_given, int n_out,
                                         int64_t num_outputs, const std::string& what) {
  if (!has_given && num_outputs > 0) {
    const int64_t chunk = dim / num_outputs + (dim % num_outputs != 0 ? 1 : 0);
    const int64_t last = dim - chunk * (num_outputs - 1);
    if (last < 0) {
      return bad_input("axis of size " + std::to_string(dim) + " cannot be split into " + std::to_string(num_outputs) +
                       " parts (attribute 'num_outputs'): parts of " + std::to_string(chunk) + " leave nothing for the last ones");
    }
    std::vector<int64_t> sizes(static_cast<size_t>(num_outputs), chunk);
    sizes.back() = last;
    return sizes;
  }
  if (!has_given) {
    if (n_out <= 0 || dim % n_out != 0) {
      return bad_input("axis of size " + std::to_string(dim) + " cannot be split into " + std::to_string(n_out) + " equal parts");
    }
    return std::vector<int64_t>(static_cast<size_t>(n_out), dim / n_out);
  }
  if (static_cast<int>(given.size()) != n_out) {
    return bad_input(what + " has " + std::to_string(given.size()) + " sizes for " + std::to_string(n_out) + " outputs");
  }
  int64_t sum = 0;
  for (int64_t s : given) {
    if (s < 0) return bad_input(what + ": negative size " + std::to_string(s));
    // Compared before adding: sum <= dim, so dim - sum cannot overflow, and sum + s never does.
    if (s > dim - sum) return bad_input(what + " sums to more than the axis size " + std::to_string(dim));
    sum += s;
  }
  if (sum != dim) return bad_input(what + " sums to " + std::to_string(sum) + ", axis has size " + std::to_string(dim));
  return given;
}

// Split-18's `num_outputs` (0 when absent or before 18): must match the node's
// outputs, and cannot be combined with the 'split' input.
Result<int64_t> read_num_outputs(const NodeInfo& node) {
  if (node.since_version < 18 || !node.attrs().has("num_outputs")) return int64_t{0};
  OM_ASSIGN_OR_RETURN(int64_t n, node.attrs().get_int("num_outputs", 0));
  if (n < 1) return invalid_model("attribute 'num_outputs' = " + std::to_string(n) + " must be positive");
  if (n != node.num_outputs) {
    return invalid_model("attribute 'num_outputs' = " + std::to_string(n) + " but the node has " +
                         std::to_string(node.num_outputs) + " outputs");
  }
  if (node.input(1)) return invalid_model("input 'split' and attribute 'num_outputs' are both given; Split-18 takes one");
  return n;
}

class Split final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    from_input_ = node.since_version >= 13;
    OM_ASSIGN_OR_RETURN(axis_, node.attrs().get_int("axis", 0));
    has_attr_ = node.attrs().has("split");
    OM_ASSIGN_OR_RETURN(attr_, node.attrs().get_ints("split", {}));
    OM_ASSIGN_OR_RETURN(num_outputs_, read_num_outputs(node));
    return Status::ok();
  }
  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    auto a = normalize_axis(axis_, x.rank());
    if (!a.is_ok()) return bad_input("attribute 'axis': " + a.status().message());
    const int64_t axis = a.value();
    std::vector<int64_t> given = attr_;
    bool has = has_attr_;
    if (from_input_) {
      has = ctx.input(1) != nullptr;
      if (has) {
        OM_ASSIGN_OR_RETURN(given, read_int_list(*ctx.input(1), "input 'split'"));
      }
    }
    OM_ASSIGN_OR_RETURN(std::vector<int64_t> sizes,
                        split_sizes(x.dim(axis), given, has, ctx.num_outputs(), num_outputs_,
                                    from_input_ ? "input 'split'" : "attribute 'split'"));
    // Output i is the slice [start, start + sizes[i]) of the axis: a strided
    // view of X, copied as Slice copies one (runs of whole rows, split over the
    // session's threads from 64 KiB). Copied by one thread, the GPT block's
    // Split of its QKV projection (3 x 128 KiB at batch 1) took 48-55 us on 2
    // threads against 12 on 1, half of X in the other core's cache
    // (bench/README.md, 2026-12-06 afternoon).
    const std::vector<int64_t> strides = strides_of(x.shape());
    const size_t es = dtype_size(x.dtype());
    const auto* src = static_cast<const uint8_t*>(x.raw_data());
    int64_t start = 0;
    for (int i = 0; i < ctx.num_outputs(); ++i) {
      Shape s = x.shape();
      s[static_cast<size_t>(axis)] = sizes[static_cast<size_t>(i)];
      OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(i, s, x.dtype()));
      const uint8_t* from = src + static_cast<size_t>(start * strides[static_cast<size_t>(axis)]) * es;
      if (y->num_elements() > 0 && !copy_strided(from, s, strides.data(), es, y->raw_data(), ctx.thread_pool())) {
        return unsupported("dtype " + dtype_name(x.dtype()));
      }
      start += sizes[static_cast<size_t>(i)];
    }
    return Status::ok();
  }

 private:
  bool from_input_ = false, has_attr_ = false;
  int64_t axis_ = 0;
  int64_t num_outputs_ = 0;
  std::vector<int64_t> attr_;
};

Status infer_split(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* x = node.input(0);
  for (auto& o : outputs) o.dtype = x->dtype;
  OM_ASSIGN_OR_RETURN(int64_t num_outputs, read_num_outputs(node));
  if (!x->has_shape) return Status::ok();
  OM_ASSIGN_OR_RETURN(int64_t axis, node.attrs().get_int("axis", 0));
  auto a = normalize_axis(axis, static_cast<int64_t>(x->dims.size()));
  if (!a.is_ok()) return invalid_model("attribute 'axis': " + a.status().message());
  const auto ax = static_cast<size_t>(a.value());
  std::vector<int64_t> given;
  bool has = false;
  bool known = x->dims[ax].known();
  if (node.since_version >= 13) {
    const TensorInfo* s = node.input(1);
    has = s != nullptr;
    if (s && !s->constant) known = false;
    if (s && s->constant) {
      auto r = read_int_list(*s->constant, "input 'split'");
      if (!r.is_ok()) return invalid_model(r.status().message());
      given = r.value();
    }
  } else {
    has = node.attrs().has("split");
    OM_ASSIGN_OR_RETURN(given, node.attrs().get_ints("split", {}));
  }
  // Checked here too: with the axis size unknown, given[i] is read below.
  const bool given_known = has && (node.since_version < 13 || node.input(1)->constant);
  if (given_known && given.size() != outputs.size()) {
    return invalid_model("split has " + std::to_string(given.size()) + " sizes for " + std::to_string(outputs.size()) +
                         " outputs");
  }
  std::vector<int64_t> sizes;
  if (known) {
    auto r = split_sizes(x->dims[ax].value, given, has, node.num_outputs, num_outputs, "split");
    if (!r.is_ok()) return invalid_model(r.status().message());
    sizes = r.value();
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    outputs[i].has_shape = true;
    outputs[i].dims = x->dims;
    outputs[i].dims[ax] = known ? Dim{sizes[i], ""} : (given_known ? Dim{given[i], ""} : Dim{});
  }
  return Status::ok();
}

}  // namespace

void register_slice_concat_ops(OpRegistry& r) {
  // Element moves only: float16 and bfloat16 natively. Versions in also_since
  // widened the types (11: negative axes, which the kernels always took).
  constexpr HalfTypes kNative = HalfTypes::kNative;
  r.add({.op_type = "Slice", .since_version = 1, .attributes = {"starts", "ends", "axes"}, .infer = infer_slice,
         .create = make_kernel<Slice>(), .half_types = kNative});
  r.add({.op_type = "Slice", .since_version = 10, .min_inputs = 3, .max_inputs = 5, .infer = infer_slice,
         .create = make_kernel<Slice>(), .also_since = {11, 13}, .half_types = kNative});
  r.add({.op_type = "Concat", .since_version = 4, .max_inputs = kVariadic, .attributes = {"axis"},
         .infer = infer_concat, .create = make_kernel<Concat>(), .also_since = {11, 13}, .half_types = kNative});
  r.add({.op_type = "Split", .since_version = 2, .max_outputs = kVariadic, .attributes = {"axis", "split"},
         .infer = infer_split, .create = make_kernel<Split>(), .also_since = {11}, .half_types = kNative});
  r.add({.op_type = "Split", .since_version = 13, .max_inputs = 2, .max_outputs = kVariadic, .attributes = {"axis"},
         .infer = infer_split, .create = make_kernel<Split>(), .half_types = kNative});
  r.add({.op_type = "Split", .since_version = 18, .max_inputs = 2, .max_outputs = kVariadic,
         .attributes = {"axis", "num_outputs"}, .infer = infer_split, .create = make_kernel<Split>(),
         .half_types = kNative});
}

}  // namespace onnx_mini
