#include "ops/broadcast.h"

#include <algorithm>

namespace onnx_mini {

namespace {

std::string dims_to_string(const std::vector<Dim>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    s += (i ? ", " : "") + (dims[i].known() ? std::to_string(dims[i].value) : dims[i].param.empty() ? "?" : dims[i].param);
  }
  return s + "]";
}

}  // namespace

Result<std::vector<Dim>> broadcast_dims(const std::vector<Dim>& a, const std::vector<Dim>& b) {
  size_t rank = std::max(a.size(), b.size());
  std::vector<Dim> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    Dim da = i < rank - a.size() ? Dim{1, ""} : a[i - (rank - a.size())];
    Dim db = i < rank - b.size() ? Dim{1, ""} : b[i - (rank - b.size())];
    if (da.known() && db.known()) {
      if (da.value != db.value && da.value != 1 && db.value != 1) {
        return invalid_model("shapes " + dims_to_string(a) + " and " + dims_to_string(b) + ": dimensions " +
                             std::to_string(da.value) + " and " + std::to_string(db.value) + " cannot be broadcast");
      }
      out[i] = da.value == 1 ? db : da;
    } else if (da.known() && da.value == 1) {
      out[i] = db;
    } else if (db.known() && db.value == 1) {
      out[i] = da;
    } else if (!da.known() && !db.known() && !da.param.empty() && da.param == db.param) {
      out[i] = da;
    } else if (da.known() && !db.known()) {
      out[i] = da;  // db must be 1 or equal to da at run time
    } else if (db.known() && !da.known()) {
      out[i] = db;
    } else {
      out[i] = Dim{};  // unknown
    }
  }
  return out;
}

Status infer_broadcast(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* first = node.input(0);
  if (!first) return invalid_model("missing input 0");
  outputs[0].dtype = first->dtype;
  std::vector<Dim> dims;
  bool known = true, started = false;
  for (const TensorInfo* in : node.inputs) {
    if (!in) continue;
    if (!in->has_shape) {
      known = false;
      continue;
    }
    if (!started) {
      dims = in->dims;
      started = true;
      continue;
    }
    OM_ASSIGN_OR_RETURN(dims, broadcast_dims(dims, in->dims));
  }
  outputs[0].has_shape = known && started;
  if (outputs[0].has_shape) outputs[0].dims = dims;
  return Status::ok();
}

std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out) {
  std::vector<int64_t> strides(out.size(), 0);
  broadcast_strides_into(in, out, strides.data());
  return strides;
}

void broadcast_strides_into(const Shape& in, const Shape& out, int64_t* strides) {
  const size_t offset = out.size() - in.size();
  for (size_t i = 0; i < offset; ++i) strides[i] = 0;
  int64_t own = 1;  // row-major stride of in[i], built from the last dim
  for (size_t i = in.size(); i-- > 0;) {
    strides[offset + i] = in[i] == 1 ? 0 : own;
    own *= in[i];
  }
}

Result<Tensor*> broadcast_output(KernelContext& ctx, int index, const Shape& a, const Shape& b, DataType dtype) {
  if (a == b) return ctx.output(index, a, dtype);
  const size_t rank = std::max(a.size(), b.size());
  DimScratch dims(rank);
  int64_t* out = dims.data();
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) {
      return bad_input("shapes " + shape_to_string(a) + " and " + shape_to_string(b) + " cannot be broadcast");
    }
    out[i] = da == 1 ? db : da;
  }
  return ctx.output_dims(index, dims.span(), dtype);
}

BroadcastIndex::BroadcastIndex(const Shape& in, const Shape& out) : out_(out), in_strides_(broadcast_strides(in, out)) {}

int64_t BroadcastIndex::offset(int64_t out_index) const {
  int64_t off = 0;
  for (size_t d = out_.size(); d-- > 0;) {
    int64_t coord = out_index % out_[d];
    out_index /= out_[d];
    off += coord * in_strides_[d];
  }
  return off;
}

}  // namespace onnx_mini

namespace onnx_mini {

Result<Shape> broadcast_shapes_all(const std::vector<const Shape*>& shapes) {
  if (shapes.empty()) return internal_error("broadcast of no shapes");
  Shape out = *shapes[0];
  for (size_t i = 1; i < shapes.size(); ++i) {
    OM_ASSIGN_OR_RETURN(out, broadcast_shapes(out, *shapes[i]));
  }
  return out;
}

}  // namespace onnx_mini
