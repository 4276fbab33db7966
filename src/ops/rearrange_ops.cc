// Ops that move elements between axes without computing: DepthToSpace,
// SpaceToDepth and Tile. They copy bytes, so one implementation per element
// size serves every dtype (float16 and bfloat16 natively).
//   DepthToSpace 1: DCR only;  11: attribute mode (DCR, CRD);  13: types.
//   SpaceToDepth 1;  13: types.
//   Tile 6: repeats as an int64 input;  13: types. (Tile 1 took a scalar
//   count and an axis; it is refused at load, "not defined at opset N".)
#include <array>
#include <cstring>
#include <string>

#include "ops/elementwise_util.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

// ---- DepthToSpace / SpaceToDepth --------------------------------------------

// Which input channel feeds block offset (i, j) of output channel c.
//   DCR (depth-column-row): the block offset is the outer part of the channel,
//     input [N, b, b, C/b^2, H, W] -> [N, C/b^2, H, b, W, b].
//   CRD (column-row-depth): the block offset is the inner part,
//     input [N, C/b^2, b, b, H, W] -> [N, C/b^2, H, b, W, b].
enum class BlockOrder { kDcr, kCrd };

int64_t block_channel(BlockOrder order, int64_t c, int64_t i, int64_t j, int64_t b, int64_t c_out) {
  return order == BlockOrder::kDcr ? (i * b + j) * c_out + c : (c * b + i) * b + j;
}

Result<int64_t> read_blocksize(const NodeInfo& node) {
  OM_ASSIGN_OR_RETURN(int64_t b, node.attrs().get_int("blocksize", -1));
  if (!node.attrs().has("blocksize")) return invalid_model("attribute 'blocksize' is required");
  if (b <= 0 || b > (int64_t{1} << 20)) return invalid_model("attribute 'blocksize' is " + std::to_string(b) + "; expected a positive size");
  return b;
}

Result<BlockOrder> read_order(const NodeInfo& node) {
  if (node.op_type != "DepthToSpace" || node.since_version < 11) return BlockOrder::kDcr;
  OM_ASSIGN_OR_RETURN(std::string mode, node.attrs().get_string("mode", "DCR"));
  if (mode == "DCR") return BlockOrder::kDcr;
  if (mode == "CRD") return BlockOrder::kCrd;
  return invalid_model("attribute 'mode' is '" + mode + "'; expected DCR or CRD");
}

// Output [N, C, H, W] of DepthToSpace (to_space) or SpaceToDepth from the
// input's, or why the input does not divide; -1 passes through unknown dims.
Result<std::array<int64_t, 4>> block_shape(bool to_space, std::array<int64_t, 4> in, int64_t b) {
  auto why = [&](const std::string& what) {
    return invalid_model(what + " of input [" + std::to_string(in[0]) + ", " + std::to_string(in[1]) + ", " +
                         std::to_string(in[2]) + ", " + std::to_string(in[3]) + "] does not divide by " +
                         (to_space ? "blocksize^2 = " + std::to_string(b * b) : "blocksize " + std::to_string(b)));
  };
  std::array<int64_t, 4> out = in;
  if (to_space) {
    if (in[1] >= 0 && in[1] % (b * b) != 0) return why("channel count " + std::to_string(in[1]));
    if (in[1] >= 0) out[1] = in[1] / (b * b);
    for (int a : {2, 3}) out[a] = in[a] >= 0 ? in[a] * b : -1;
  } else {
    for (int a : {2, 3}) {
      if (in[a] >= 0 && in[a] % b != 0) return why((a == 2 ? "height " : "width ") + std::to_string(in[a]));
      out[a] = in[a] >= 0 ? in[a] / b : -1;
    }
    out[1] = in[1] >= 0 ? in[1] * b * b : -1;
  }
  return out;
}

template <bool kToSpace>
class BlockRearrange final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(b_, read_blocksize(node));
    OM_ASSIGN_OR_RETURN(order_, read_order(node));
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    if (x.rank() != 4) return bad_input("input 'input' is " + describe(x) + "; expected rank 4 [N, C, H, W]");
    Result<std::array<int64_t, 4>> out = block_shape(kToSpace, {x.dim(0), x.dim(1), x.dim(2), x.dim(3)}, b_);
    if (!out.is_ok()) return bad_input(out.status().message());
    const std::array<int64_t, 4>& o = *out;
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, {o[0], o[1], o[2], o[3]}, x.dtype()));
    if (y->num_elements() == 0) return Status::ok();
    const bool ok = dispatch_size(dtype_size(x.dtype()), [&](auto tag) {
      using U = decltype(tag);
      move_blocks(static_cast<const U*>(x.raw_data()), static_cast<U*>(y->raw_data()),
                  kToSpace ? std::array<int64_t, 4>{x.dim(0), x.dim(1), x.dim(2), x.dim(3)} : o);
    });
    return ok ? Status::ok() : unsupported("input 'input' is " + dtype_name(x.dtype()));
  }

 private:
  // Walks the space side [N, C', H, b, W, b] row by row against the depth side
  // [N, C, H, W] (`depth` is its shape): depth to space reads depth and writes
  // space, space to depth the other way round.
  template <typename U>
  void move_blocks(const U* in, U* out, const std::array<int64_t, 4>& depth) const {
    const int64_t b = b_, c_space = depth[1] / (b * b), h = depth[2], w = depth[3];
    for (int64_t n = 0; n < depth[0]; ++n) {
      for (int64_t c = 0; c < c_space; ++c) {
        for (int64_t hh = 0; hh < h; ++hh) {
          for (int64_t i = 0; i < b; ++i) {
            const int64_t space_row = ((n * c_space + c) * h * b + hh * b + i) * w * b;
            for (int64_t j = 0; j < b; ++j) {
              const int64_t depth_row = ((n * depth[1] + block_channel(order_, c, i, j, b, c_space)) * h + hh) * w;
              for (int64_t ww = 0; ww < w; ++ww) {
                if constexpr (kToSpace) {
                  out[space_row + ww * b + j] = in[depth_row + ww];
                } else {
                  out[depth_row + ww] = in[space_row + ww * b + j];
                }
              }
            }
          }
        }
      }
    }
  }

  int64_t b_ = 1;
  BlockOrder order_ = BlockOrder::kDcr;
};

template <bool kToSpace>
Status infer_block_rearrange(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_ASSIGN_OR_RETURN(int64_t b, read_blocksize(node));
  OM_RETURN_IF_ERROR(read_order(node).status());
  const TensorInfo* x = node.input(0);
  outputs[0].dtype = x->dtype;
  if (!x->has_shape) return Status::ok();
  if (x->dims.size() != 4) {
    return invalid_model("input 'input' has rank " + std::to_string(x->dims.size()) + "; expected 4 [N, C, H, W]");
  }
  std::array<int64_t, 4> in{};
  for (size_t a = 0; a < 4; ++a) in[a] = x->dims[a].known() ? x->dims[a].value : -1;
  OM_ASSIGN_OR_RETURN(auto out, block_shape(kToSpace, in, b));
  outputs[0].has_shape = true;
  outputs[0].dims = {x->dims[0], Dim{}, Dim{}, Dim{}};  // the batch, symbolic or not, is kept
  for (size_t a = 1; a < 4; ++a) {
    if (out[a] >= 0) outputs[0].dims[a] = Dim{out[a], ""};
  }
  return Status::ok();
}

// ---- Tile ------------------------------------------------------------------

// Ranks above this are refused: per-run coordinates live in a fixed array.
constexpr int kMaxTileRank = 12;

Status check_repeats(const Tensor& r, int64_t rank) {
  if (r.dtype() != DataType::kInt64 || r.rank() != 1) {
    return invalid_model("input 'repeats' is " + describe(r) + "; expected a 1-D int64 tensor");
  }
  if (r.num_elements() != rank) {
    return invalid_model("input 'repeats' has " + std::to_string(r.num_elements()) + " values for input rank " +
                         std::to_string(rank) + "; expected one per axis");
  }
  for (int64_t i = 0; i < rank; ++i) {
    const int64_t v = r.data<int64_t>()[i];
    if (v < 0 || v > kMaxTensorElements) {
      return invalid_model("input 'repeats' value " + std::to_string(v) + " for axis " + std::to_string(i) +
                           " is " + (v < 0 ? "negative" : "too large"));
    }
  }
  return Status::ok();
}

class Tile final : public Kernel {
 public:
  Status init(const NodeInfo&) { return Status::ok(); }

  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Tensor& r = *ctx.input(1);
    if (x.rank() > kMaxTileRank) {
      return unsupported("input 'input' has rank " + std::to_string(x.rank()) + "; Tile runs up to rank " +
                         std::to_string(kMaxTileRank));
    }
    Status valid = check_repeats(r, x.rank());
    if (!valid.is_ok()) return bad_input(valid.message());
    std::array<int64_t, kMaxTileRank> dims{};
    for (int a = 0; a < x.rank(); ++a) {
      if (x.dim(a) != 0 && r.data<int64_t>()[a] > kMaxTensorElements / x.dim(a)) {
        return resource_limit("input 'repeats': axis " + std::to_string(a) + " would be too large");
      }
      dims[static_cast<size_t>(a)] = x.dim(a) * r.data<int64_t>()[a];
    }
    const std::span<const int64_t> out_dims(dims.data(), static_cast<size_t>(x.rank()));
    // The context string is built only on failure: a steady-state run allocates nothing.
    if (Status st = check_runtime_shape(out_dims); !st.is_ok()) return st.with_context("input 'repeats': ");
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output_dims(0, out_dims, x.dtype()));
    if (y->num_elements() == 0) return Status::ok();
    if (x.rank() == 0) {
      std::memcpy(y->raw_data(), x.raw_data(), x.byte_size());
      return Status::ok();
    }
    tile_rows(x, *y);
    return Status::ok();
  }

 private:
  // Each output row (all axes but the last) reads input row (o mod in) and
  // writes it `repeats[last]` times.
  static void tile_rows(const Tensor& x, Tensor& y) {
    const int last = x.rank() - 1;
    const size_t row_bytes = static_cast<size_t>(x.dim(last)) * dtype_size(x.dtype());
    const int64_t copies = y.dim(last) / x.dim(last);
    const int64_t rows = y.num_elements() / y.dim(last);
    const auto* px = static_cast<const unsigned char*>(x.raw_data());
    auto* py = static_cast<unsigned char*>(y.raw_data());
    std::array<int64_t, kMaxTileRank> o{};
    for (int64_t row = 0; row < rows; ++row) {
      int64_t src = 0;
      for (int a = 0; a < last; ++a) src = src * x.dim(a) + o[static_cast<size_t>(a)] % x.dim(a);
      const unsigned char* from = px + static_cast<size_t>(src) * row_bytes;
      for (int64_t k = 0; k < copies; ++k, py += row_bytes) std::memcpy(py, from, row_bytes);
      for (int a = last - 1; a >= 0; --a) {
        if (++o[static_cast<size_t>(a)] < y.dim(a)) break;
        o[static_cast<size_t>(a)] = 0;
      }
    }
  }
};

Status infer_tile(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* x = node.input(0);
  const TensorInfo* r = node.input(1);
  outputs[0].dtype = x->dtype;
  if (r->dtype != DataType::kUndefined && r->dtype != DataType::kInt64) {
    return invalid_model("input 'repeats' is " + dtype_name(r->dtype) + "; expected int64");
  }
  if (!x->has_shape) return Status::ok();
  outputs[0].has_shape = true;
  outputs[0].dims.assign(x->dims.size(), Dim{});
  if (r->constant == nullptr) return Status::ok();
  OM_RETURN_IF_ERROR(check_repeats(*r->constant, static_cast<int64_t>(x->dims.size())));
  for (size_t a = 0; a < x->dims.size(); ++a) {
    const int64_t rep = r->constant->data<int64_t>()[a];
    if (rep == 1) {
      outputs[0].dims[a] = x->dims[a];  // a symbolic batch stays symbolic
    } else if (x->dims[a].known()) {
      if (x->dims[a].value != 0 && rep > kMaxTensorElements / x->dims[a].value) {
        return invalid_model("input 'repeats': axis " + std::to_string(a) + " would be too large");
      }
      outputs[0].dims[a] = Dim{x->dims[a].value * rep, ""};
    } else if (rep == 0) {
      outputs[0].dims[a] = Dim{0, ""};
    }
  }
  return Status::ok();
}

}  // namespace

void register_rearrange_ops(OpRegistry& r) {
  constexpr HalfTypes kNative = HalfTypes::kNative;
  r.add({.op_type = "DepthToSpace", .since_version = 1, .attributes = {"blocksize"},
         .infer = infer_block_rearrange<true>, .create = make_kernel<BlockRearrange<true>>(), .half_types = kNative});
  r.add({.op_type = "DepthToSpace", .since_version = 11, .attributes = {"blocksize", "mode"},
         .infer = infer_block_rearrange<true>, .create = make_kernel<BlockRearrange<true>>(), .also_since = {13},
         .half_types = kNative});
  r.add({.op_type = "SpaceToDepth", .since_version = 1, .attributes = {"blocksize"},
         .infer = infer_block_rearrange<false>, .create = make_kernel<BlockRearrange<false>>(), .also_since = {13},
         .half_types = kNative});
  r.add({.op_type = "Tile", .since_version = 6, .min_inputs = 2, .max_inputs = 2, .infer = infer_tile,
         .create = make_kernel<Tile>(), .also_since = {13}, .half_types = kNative});
}

}  // namespace onnx_mini
