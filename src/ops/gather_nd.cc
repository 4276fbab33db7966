// GatherND: slices of `data` picked by index tuples (the last axis of
// `indices`), after `batch_dims` leading axes that data and indices share.
// Elements are copied, so float16 and bfloat16 are taken as they are. Every
// index is range-checked before its slice is read (negative counts from the
// end); constant indices are checked at load.
#include <algorithm>
#include <cstring>

#include "ops/broadcast.h"
#include "ops/index_util.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

// data [B.., S..] with b batch axes; indices [B.., T.., k]; output [B.., T..] ++ data[b+k:].
struct NdGather {
  int64_t batch_dims = 0, k = 0;
  int64_t batches = 1, tuples = 1;  // tuples per batch
  int64_t batch_stride = 1, slice = 1;  // in elements of data
};

Result<NdGather> gather_nd_geometry(const Shape& data, const Shape& indices, int64_t batch_dims) {
  const auto r = static_cast<int64_t>(data.size()), q = static_cast<int64_t>(indices.size());
  if (r < 1 || q < 1) return bad_input("inputs 'data' and 'indices' must have rank >= 1, got " + shape_to_string(data) + " and " + shape_to_string(indices));
  if (batch_dims >= std::min(q, r)) {
    return bad_input("attribute 'batch_dims' = " + std::to_string(batch_dims) + " must be below the ranks of 'data' " +
                     shape_to_string(data) + " and 'indices' " + shape_to_string(indices));
  }
  NdGather g;
  g.batch_dims = batch_dims;
  g.k = indices.back();
  if (g.k < 1 || g.k > r - batch_dims) {
    return bad_input("input 'indices' " + shape_to_string(indices) + ": tuples of " + std::to_string(g.k) +
                     " indices, expected 1 to " + std::to_string(r - batch_dims) + " (data " + shape_to_string(data) +
                     ", batch_dims " + std::to_string(batch_dims) + ")");
  }
  for (int64_t d = 0; d < batch_dims; ++d) {
    if (indices[static_cast<size_t>(d)] != data[static_cast<size_t>(d)]) {
      return bad_input("batch axis " + std::to_string(d) + " differs: input 'data' " + shape_to_string(data) +
                       ", input 'indices' " + shape_to_string(indices));
    }
    g.batches *= data[static_cast<size_t>(d)];
  }
  for (int64_t d = batch_dims; d < q - 1; ++d) g.tuples *= indices[static_cast<size_t>(d)];
  for (int64_t d = batch_dims; d < r; ++d) g.batch_stride *= data[static_cast<size_t>(d)];
  for (int64_t d = batch_dims + g.k; d < r; ++d) g.slice *= data[static_cast<size_t>(d)];
  return g;
}

// Calls f(output slice number, data element offset) for every tuple, after
// checking its indices.
template <typename F>
Status for_each_slice(const Tensor& indices, const Shape& data, const NdGather& g, F&& f) {
  for (int64_t b = 0; b < g.batches; ++b) {
    for (int64_t t = 0; t < g.tuples; ++t) {
      const int64_t tuple = b * g.tuples + t;
      OM_ASSIGN_OR_RETURN(int64_t slice, tuple_slice(indices, tuple, data, g.batch_dims));
      f(tuple, b * g.batch_stride + slice * g.slice);
    }
  }
  return Status::ok();
}

class GatherND final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(batch_dims_, node.attrs().get_int("batch_dims", 0));
    if (batch_dims_ < 0) return invalid_model("attribute 'batch_dims' = " + std::to_string(batch_dims_) + " is negative");
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& data = *ctx.input(0);
    const Tensor& indices = *ctx.input(1);
    OM_RETURN_IF_ERROR(check_index_dtype(indices, "indices"));
    OM_ASSIGN_OR_RETURN(NdGather g, gather_nd_geometry(data.shape(), indices.shape(), batch_dims_));
    const size_t q = indices.shape().size(), tail = data.shape().size() - static_cast<size_t>(batch_dims_ + g.k);
    DimScratch dims(q - 1 + tail);
    std::copy(indices.shape().begin(), indices.shape().end() - 1, dims.data());
    std::copy(data.shape().end() - static_cast<std::ptrdiff_t>(tail), data.shape().end(), dims.data() + q - 1);
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output_dims(0, dims.span(), data.dtype()));
    const size_t es = dtype_size(data.dtype()), bytes = static_cast<size_t>(g.slice) * es;
    const auto* src = static_cast<const uint8_t*>(data.raw_data());
    auto* dst = static_cast<uint8_t*>(y->raw_data());
    // Empty slices copy nothing, but their indices are checked all the same.
    if (bytes == 0) return for_each_slice(indices, data.shape(), g, [](int64_t, int64_t) {});
    return for_each_slice(indices, data.shape(), g, [&](int64_t out, int64_t offset) {
      std::memcpy(dst + static_cast<size_t>(out) * bytes, src + static_cast<size_t>(offset) * es, bytes);
    });
  }

 private:
  int64_t batch_dims_ = 0;
};

Status infer_gather_nd(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* data = node.input(0);
  const TensorInfo* indices = node.input(1);
  if (indices->dtype != DataType::kUndefined && !is_index_dtype(indices->dtype)) {
    return invalid_model("input 'indices' must be int64 or int32, got " + dtype_name(indices->dtype));
  }
  outputs[0].dtype = data->dtype;
  OM_ASSIGN_OR_RETURN(int64_t b, node.attrs().get_int("batch_dims", 0));
  if (!data->has_shape || !indices->has_shape || indices->dims.empty() || !indices->dims.back().known()) return Status::ok();
  const auto r = static_cast<int64_t>(data->dims.size()), k = indices->dims.back().value;
  const auto q = static_cast<int64_t>(indices->dims.size());
  if (b < 0 || b >= std::min(r, q)) {
    return invalid_model("attribute 'batch_dims' = " + std::to_string(b) + " must be in [0, " +
                         std::to_string(std::min(r, q)) + "): below the ranks of 'data' and 'indices'");
  }
  if (k < 1 || k > r - b) {
    return invalid_model("input 'indices': tuples of " + std::to_string(k) + " indices, expected 1 to " +
                         std::to_string(r - b) + " (data of rank " + std::to_string(r) + ", batch_dims " + std::to_string(b) + ")");
  }
  if (indices->constant && data->fully_known() && is_index_dtype(indices->constant->dtype())) {
    const Shape shape = data->concrete_shape();
    auto g = gather_nd_geometry(shape, indices->constant->shape(), b);
    if (!g.is_ok()) return invalid_model(g.status().message());
    OM_RETURN_IF_ERROR(as_initializer_error(for_each_slice(*indices->constant, shape, *g, [](int64_t, int64_t) {})));
  }
  outputs[0].has_shape = true;
  outputs[0].dims.assign(indices->dims.begin(), indices->dims.end() - 1);
  outputs[0].dims.insert(outputs[0].dims.end(), data->dims.begin() + b + k, data->dims.end());
  return Status::ok();
}

}  // namespace

void register_gather_nd_ops(OpRegistry& r) {
  // 12 added batch_dims, 13 bfloat16.
  r.add({.op_type = "GatherND", .since_version = 11, .min_inputs = 2, .max_inputs = 2, .infer = infer_gather_nd,
         .create = make_kernel<GatherND>(), .half_types = HalfTypes::kNative});
  r.add({.op_type = "GatherND", .since_version = 12, .min_inputs = 2, .max_inputs = 2, .attributes = {"batch_dims"},
         .infer = infer_gather_nd, .create = make_kernel<GatherND>(), .also_since = {13}, .half_types = HalfTypes::kNative});
}

}  // namespace onnx_mini
