// ScatterND and ScatterElements: a copy of `data` with `updates` written, or
// combined by `reduction` (16: add, mul; 18: max, min), at the places `indices`
// names. Updates apply in the row-major order of `indices`, as the spec's loops.
//
// Every index is checked before anything is written: out of range is an error
// (bad input when fed, an invalid model when an initializer, checked at load).
// Two ScatterND index tuples naming the same slice without a reduction are an
// error (the spec: "not supported", the result would depend on the order);
// ScatterElements with duplicates and no reduction keeps the last update in
// row-major order, as the ONNX reference and ONNX Runtime do.
//
// Reductions: integers wrap modulo 2^bits (computed unsigned, so overflow is
// defined); bool adds as "or" and multiplies as "and" (numpy's bool arithmetic;
// max is "or", min "and"); float max/min propagate NaN (numpy's maximum and
// minimum, the reference's). float16 and bfloat16 compute in float32 and round
// once on store (HalfTypes::kInFloat32).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "ops/broadcast.h"
#include "ops/index_util.h"
#include "ops/registry.h"
#include "ops/scratch.h"

namespace onnx_mini {
namespace {

enum class Reduction { kNone, kAdd, kMul, kMax, kMin };

Result<Reduction> parse_reduction(const NodeInfo& node) {
  OM_ASSIGN_OR_RETURN(std::string r, node.attrs().get_string("reduction", "none"));
  const bool minmax = node.since_version >= 18;
  if (r == "none") return Reduction::kNone;
  if (r == "add") return Reduction::kAdd;
  if (r == "mul") return Reduction::kMul;
  if (minmax && r == "max") return Reduction::kMax;
  if (minmax && r == "min") return Reduction::kMin;
  return invalid_model("attribute 'reduction' = '" + r + "' is not one of " +
                       (minmax ? "none, add, mul, max, min" : "none, add, mul (max and min are opset 18's)"));
}

template <typename T>
T combine(T out, T update, Reduction r) {
  if constexpr (std::is_same_v<T, bool>) {
    if (r == Reduction::kAdd || r == Reduction::kMax) return out || update;
    if (r == Reduction::kMul || r == Reduction::kMin) return out && update;
  } else if constexpr (std::is_floating_point_v<T>) {
    if (r == Reduction::kAdd) return out + update;
    if (r == Reduction::kMul) return out * update;
    if (r == Reduction::kMax || r == Reduction::kMin) {
      if (std::isnan(out)) return out;
      if (std::isnan(update)) return update;
      return r == Reduction::kMax ? std::max(out, update) : std::min(out, update);
    }
  } else {
    using U = uint64_t;  // wide and unsigned: the products of narrow types stay defined
    if (r == Reduction::kAdd) return static_cast<T>(static_cast<U>(out) + static_cast<U>(update));
    if (r == Reduction::kMul) return static_cast<T>(static_cast<U>(out) * static_cast<U>(update));
    if (r == Reduction::kMax) return std::max(out, update);
    if (r == Reduction::kMin) return std::min(out, update);
  }
  return update;
}

template <typename T>
void combine_slice(T* out, const T* update, int64_t n, Reduction r) {
  if (r == Reduction::kNone) {
    std::copy(update, update + n, out);
    return;
  }
  for (int64_t i = 0; i < n; ++i) out[i] = combine(out[i], update[i], r);
}

Status check_same_dtype(const Tensor& data, const Tensor& updates) {
  if (updates.dtype() == data.dtype()) return Status::ok();
  return bad_input("input 'updates' is " + dtype_name(updates.dtype()) + ", input 'data' is " + dtype_name(data.dtype()));
}

// ---- ScatterND ----

// indices: [t_1 .. t_{q-1}, k] tuples into data's first k axes; updates:
// [t_1 .. t_{q-1}] ++ data[k:], each a slice of `slice` elements.
struct NdShape {
  int64_t tuples = 1, slices = 1, slice = 1;
};

Result<NdShape> scatter_nd_shape(const Shape& data, const Shape& indices, const Shape& updates) {
  if (data.empty()) return bad_input("input 'data' must have rank >= 1");
  if (indices.empty()) return bad_input("input 'indices' must have rank >= 1");
  const int64_t k = indices.back();
  if (k > static_cast<int64_t>(data.size())) {
    return bad_input("input 'indices' " + shape_to_string(indices) + ": tuples of " + std::to_string(k) +
                     " indices into input 'data' of rank " + std::to_string(data.size()));
  }
  // Compared in place: a Shape built per run would allocate.
  const auto lead = static_cast<std::ptrdiff_t>(indices.size() - 1);
  const bool match = static_cast<int64_t>(updates.size()) == lead + static_cast<int64_t>(data.size()) - k &&
                     std::equal(indices.begin(), indices.end() - 1, updates.begin()) &&
                     std::equal(data.begin() + k, data.end(), updates.begin() + lead);
  if (!match) {
    Shape expected(indices.begin(), indices.end() - 1);
    expected.insert(expected.end(), data.begin() + k, data.end());
    return bad_input("input 'updates' is " + shape_to_string(updates) + ", expected " + shape_to_string(expected) +
                     " (indices " + shape_to_string(indices) + ", data " + shape_to_string(data) + ")");
  }
  NdShape s;
  for (size_t d = 0; d + 1 < indices.size(); ++d) s.tuples *= indices[d];
  for (size_t d = 0; d < data.size(); ++d) (static_cast<int64_t>(d) < k ? s.slices : s.slice) *= data[d];
  return s;
}

// Every tuple in range; with `seen` (one bit per slice of data, cleared), no
// two tuples naming one slice. Written to `slices` when not null.
Status check_tuples(const Tensor& indices, const Shape& data, const NdShape& s, uint64_t* seen, int64_t* slices) {
  for (int64_t t = 0; t < s.tuples; ++t) {
    OM_ASSIGN_OR_RETURN(int64_t slice, tuple_slice(indices, t, data, 0));
    if (slices) slices[t] = slice;
    if (!seen) continue;
    uint64_t& word = seen[slice / 64];
    const uint64_t bit = uint64_t{1} << (slice % 64);
    if (word & bit) {
      const int64_t k = indices.dim(indices.rank() - 1);
      return bad_input("input 'indices': the tuple at " + position_of(t * k, indices.shape()) +
                       " names a slice of 'data' an earlier tuple names too; without a reduction ScatterND needs "
                       "distinct tuples (the result would depend on the order)");
    }
    word |= bit;
  }
  return Status::ok();
}

class ScatterND final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(reduction_, parse_reduction(node));
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& data = *ctx.input(0);
    const Tensor& indices = *ctx.input(1);
    const Tensor& updates = *ctx.input(2);
    OM_RETURN_IF_ERROR(check_index_dtype(indices, "indices"));
    OM_RETURN_IF_ERROR(check_same_dtype(data, updates));
    OM_ASSIGN_OR_RETURN(NdShape s, scatter_nd_shape(data.shape(), indices.shape(), updates.shape()));
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, data.shape(), data.dtype()));
    if (data.byte_size() > 0) std::memcpy(y->raw_data(), data.raw_data(), data.byte_size());
    // Empty slices write nothing: the indices are only range-checked. Their
    // count is not backed by any update (indices [2^30, 0] on data [0] is a few
    // bytes), so it gets neither scratch nor a loop when there are no indices.
    if (s.slice == 0) return indices.num_elements() == 0 ? Status::ok() : check_tuples(indices, data.shape(), s, nullptr, nullptr);
    // One scratch area: the slice of each tuple, then (without a reduction) the map of written slices.
    const int64_t words = reduction_ == Reduction::kNone ? (s.slices + 63) / 64 : 0;
    auto* work = reinterpret_cast<int64_t*>(thread_scratch(ScratchSlot::kIndexWork, 2 * (s.tuples + words)));
    uint64_t* seen = words ? reinterpret_cast<uint64_t*>(work + s.tuples) : nullptr;
    std::fill(seen, seen + words, uint64_t{0});
    OM_RETURN_IF_ERROR(check_tuples(indices, data.shape(), s, seen, work));
    const bool known = dispatch_dtype(data.dtype(), [&](auto tag) {
      using T = decltype(tag);
      for (int64_t t = 0; t < s.tuples; ++t) {
        combine_slice(y->data<T>() + work[t] * s.slice, updates.data<T>() + t * s.slice, s.slice, reduction_);
      }
    });
    if (!known) return unsupported("input 'data' of dtype " + dtype_name(data.dtype()));
    return Status::ok();
  }

 private:
  Reduction reduction_ = Reduction::kNone;
};

Status check_scatter_dtypes(const NodeInfo& node) {
  const TensorInfo* data = node.input(0);
  const TensorInfo* indices = node.input(1);
  const TensorInfo* updates = node.input(2);
  if (indices->dtype != DataType::kUndefined && !is_index_dtype(indices->dtype)) {
    return invalid_model("input 'indices' must be int32 or int64, got " + dtype_name(indices->dtype));
  }
  if (data->dtype != DataType::kUndefined && updates->dtype != DataType::kUndefined && data->dtype != updates->dtype) {
    return invalid_model("input 'updates' is " + dtype_name(updates->dtype) + ", input 'data' is " + dtype_name(data->dtype));
  }
  return Status::ok();
}

// Constant indices into data of a known shape are checked now (exit 3), so a
// bad initializer never waits for a run.
Status infer_scatter_nd(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_RETURN_IF_ERROR(check_scatter_dtypes(node));
  const TensorInfo* data = node.input(0);
  const Tensor* indices = node.input(1)->constant;
  const TensorInfo* updates = node.input(2);
  if (indices && data->fully_known() && updates->fully_known() && is_index_dtype(indices->dtype())) {
    OM_ASSIGN_OR_RETURN(Reduction r, parse_reduction(node));
    const Shape shape = data->concrete_shape();
    auto s = scatter_nd_shape(shape, indices->shape(), updates->concrete_shape());
    if (!s.is_ok()) return invalid_model(s.status().message());
    std::vector<uint64_t> seen(r == Reduction::kNone ? static_cast<size_t>((s->slices + 63) / 64) : 0);
    OM_RETURN_IF_ERROR(as_initializer_error(check_tuples(*indices, shape, *s, seen.empty() ? nullptr : seen.data(), nullptr)));
  }
  return infer_same_as_input0(node, outputs);
}

// ---- ScatterElements ----

// ScatterElements' shapes: indices and updates alike, of data's rank, no larger
// than data off the axis.
Status check_elements_shapes(const Shape& data, const Shape& indices, const Shape& updates, int64_t axis) {
  if (data.empty()) return bad_input("input 'data' must have rank >= 1");
  if (indices.size() != data.size()) {
    return bad_input("input 'indices' " + shape_to_string(indices) + " must have the rank of input 'data' " + shape_to_string(data));
  }
  if (updates != indices) {
    return bad_input("input 'updates' " + shape_to_string(updates) + " must have the shape of input 'indices' " + shape_to_string(indices));
  }
  for (size_t d = 0; d < data.size(); ++d) {
    if (static_cast<int64_t>(d) != axis && indices[d] > data[d]) {
      return bad_input("input 'indices' " + shape_to_string(indices) + " is larger than input 'data' " + shape_to_string(data) +
                       " on axis " + std::to_string(d));
    }
  }
  return Status::ok();
}

// Calls f(i, offset) for each element i of `indices` (row-major) with the offset
// in data of its target, after checking every index: nothing is written unless
// all are in range.
template <typename F>
Status for_each_target(const Tensor& indices, const Shape& data, int64_t axis, F&& f) {
  const size_t rank = data.size();
  DimScratch strides(rank), coord(rank);
  int64_t stride = 1;
  for (size_t d = rank; d-- > 0;) {
    strides.data()[d] = stride;
    stride *= data[d];
  }
  const int64_t n = indices.num_elements(), dim = data[static_cast<size_t>(axis)];
  for (int pass = 0; pass < 2; ++pass) {  // 0 checks, 1 visits
    std::fill(coord.data(), coord.data() + rank, int64_t{0});
    for (int64_t i = 0; i < n; ++i) {
      const int64_t v = index_at(indices, i);
      const std::optional<int64_t> target = wrap_index(v, dim);
      if (!target) return index_out_of_range("indices", v, i, indices.shape(), dim, axis);
      if (pass == 1) {
        int64_t offset = 0;
        for (size_t d = 0; d < rank; ++d) offset += (static_cast<int64_t>(d) == axis ? *target : coord.data()[d]) * strides.data()[d];
        f(i, offset);
      }
      for (size_t d = rank; d-- > 0;) {  // the next coordinate of indices
        if (++coord.data()[d] < indices.dim(static_cast<int64_t>(d))) break;
        coord.data()[d] = 0;
      }
    }
  }
  return Status::ok();
}

class ScatterElements final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(axis_, node.attrs().get_int("axis", 0));
    OM_ASSIGN_OR_RETURN(reduction_, parse_reduction(node));
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& data = *ctx.input(0);
    const Tensor& indices = *ctx.input(1);
    const Tensor& updates = *ctx.input(2);
    OM_RETURN_IF_ERROR(check_index_dtype(indices, "indices"));
    OM_RETURN_IF_ERROR(check_same_dtype(data, updates));
    auto a = normalize_axis(axis_, data.rank());
    if (!a.is_ok()) return bad_input("attribute 'axis': " + a.status().message());
    OM_RETURN_IF_ERROR(check_elements_shapes(data.shape(), indices.shape(), updates.shape(), a.value()));
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, data.shape(), data.dtype()));
    if (data.byte_size() > 0) std::memcpy(y->raw_data(), data.raw_data(), data.byte_size());
    Status st;
    const bool known = dispatch_dtype(data.dtype(), [&](auto tag) {
      using T = decltype(tag);
      T* out = y->data<T>();
      const T* upd = updates.data<T>();
      st = for_each_target(indices, data.shape(), a.value(),
                           [&](int64_t i, int64_t offset) { out[offset] = combine(out[offset], upd[i], reduction_); });
    });
    if (!known) return unsupported("input 'data' of dtype " + dtype_name(data.dtype()));
    return st;
  }

 private:
  int64_t axis_ = 0;
  Reduction reduction_ = Reduction::kNone;
};

Status infer_scatter_elements(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_RETURN_IF_ERROR(check_scatter_dtypes(node));
  OM_RETURN_IF_ERROR(parse_reduction(node).status());
  const TensorInfo* data = node.input(0);
  const Tensor* indices = node.input(1)->constant;
  if (data->has_shape) {
    OM_ASSIGN_OR_RETURN(int64_t axis, node.attrs().get_int("axis", 0));
    auto a = normalize_axis(axis, static_cast<int64_t>(data->dims.size()));
    if (!a.is_ok()) return invalid_model("attribute 'axis': " + a.status().message());
    if (indices && data->fully_known() && node.input(2)->fully_known() && is_index_dtype(indices->dtype())) {
      const Shape shape = data->concrete_shape();
      const Status shapes = check_elements_shapes(shape, indices->shape(), node.input(2)->concrete_shape(), a.value());
      if (!shapes.is_ok()) return invalid_model(shapes.message());
      OM_RETURN_IF_ERROR(as_initializer_error(for_each_target(*indices, shape, a.value(), [](int64_t, int64_t) {})));
    }
  }
  return infer_same_as_input0(node, outputs);
}

}  // namespace

void register_scatter_ops(OpRegistry& r) {
  // 13 added bfloat16, 16 the reduction attribute (none, add, mul), 18 max and min.
  r.add({.op_type = "ScatterND", .since_version = 11, .min_inputs = 3, .max_inputs = 3, .infer = infer_scatter_nd,
         .create = make_kernel<ScatterND>(), .also_since = {13}});
  r.add({.op_type = "ScatterND", .since_version = 16, .min_inputs = 3, .max_inputs = 3, .attributes = {"reduction"},
         .infer = infer_scatter_nd, .create = make_kernel<ScatterND>(), .also_since = {18}});
  r.add({.op_type = "ScatterElements", .since_version = 11, .min_inputs = 3, .max_inputs = 3, .attributes = {"axis"},
         .infer = infer_scatter_elements, .create = make_kernel<ScatterElements>(), .also_since = {13}});
  r.add({.op_type = "ScatterElements", .since_version = 16, .min_inputs = 3, .max_inputs = 3,
         .attributes = {"axis", "reduction"}, .infer = infer_scatter_elements, .create = make_kernel<ScatterElements>(),
         .also_since = {18}});
}

}  // namespace onnx_mini
