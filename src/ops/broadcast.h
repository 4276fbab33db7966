// Numpy-style broadcasting for kernels (run time) and shape inference (build time).
#pragma once

#include <array>
#include <span>
#include <vector>

#include "ops/kernel.h"
#include "core/shape.h"
#include "core/tensor.h"

namespace onnx_mini {

// Broadcast of symbolic dims; unknown where it cannot be decided statically.
Result<std::vector<Dim>> broadcast_dims(const std::vector<Dim>& a, const std::vector<Dim>& b);
// Output info of an elementwise op over all present inputs (dtype of input 0).
Status infer_broadcast(const NodeInfo& node, std::vector<TensorInfo>& outputs);

// Maps a linear index of the broadcast output to the linear index of one input.
class BroadcastIndex {
 public:
  BroadcastIndex(const Shape& in, const Shape& out);
  int64_t offset(int64_t out_index) const;

 private:
  Shape out_;
  std::vector<int64_t> in_strides_;  // 0 on broadcast dims, aligned to out_
};

// Input strides aligned to `out` (0 on broadcast dims).
std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out);
// Same, written to strides[0, out.size()) without allocating.
void broadcast_strides_into(const Shape& in, const Shape& out, int64_t* strides);

// Per-dimension scratch for kernels' per-run path: on the stack for the usual
// ranks, on the heap beyond, so a steady-state run allocates nothing.
class DimScratch {
 public:
  explicit DimScratch(size_t n) : n_(n) {
    if (n > kInline) heap_.assign(n, 0);
  }
  int64_t* data() { return n_ > kInline ? heap_.data() : inline_; }
  std::span<const int64_t> span() { return {data(), n_}; }

 private:
  static constexpr size_t kInline = 8;
  size_t n_;
  int64_t inline_[kInline] = {};
  std::vector<int64_t> heap_;
};

// Output `index` of ctx shaped as the numpy broadcast of a and b (an error when
// they do not broadcast), without building a Shape.
Result<Tensor*> broadcast_output(KernelContext& ctx, int index, const Shape& a, const Shape& b, DataType dtype);

// out[i] = f(a[ia(i)], b[ib(i)]) over the broadcast shape `out.shape()`.
// Contiguous inner runs and scalar operands take the fast paths.
template <typename TA, typename TB, typename TO, typename F>
void broadcast_apply(const Tensor& a, const Tensor& b, Tensor& out, F f) {
  const TA* pa = a.data<TA>();
  const TB* pb = b.data<TB>();
  TO* po = out.data<TO>();
  const int64_t n = out.num_elements();
  if (n == 0) return;
  if (a.shape() == out.shape() && b.shape() == out.shape()) {
    for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i], pb[i]);
    return;
  }
  if (b.num_elements() == 1 && a.num_elements() == n) {
    const TB s = pb[0];
    for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i], s);
    return;
  }
  if (a.num_elements() == 1 && b.num_elements() == n) {
    const TA s = pa[0];
    for (int64_t i = 0; i < n; ++i) po[i] = f(s, pb[i]);
    return;
  }
  const Shape& os = out.shape();
  const size_t rank = os.size();
  DimScratch sa_buf(rank), sb_buf(rank), counter_buf(rank);
  int64_t* sa = sa_buf.data();
  int64_t* sb = sb_buf.data();
  int64_t* counter = counter_buf.data();
  broadcast_strides_into(a.shape(), os, sa);
  broadcast_strides_into(b.shape(), os, sb);
  const int64_t inner = os[rank - 1];
  const int64_t ia_step = sa[rank - 1], ib_step = sb[rank - 1];
  int64_t oa = 0, ob = 0;
  for (int64_t base = 0; base < n; base += inner) {
    if (ia_step == 1 && ib_step == 1) {
      for (int64_t j = 0; j < inner; ++j) po[base + j] = f(pa[oa + j], pb[ob + j]);
    } else {
      for (int64_t j = 0; j < inner; ++j) po[base + j] = f(pa[oa + j * ia_step], pb[ob + j * ib_step]);
    }
    // Advance the outer counter (all dims but the last).
    for (size_t d = rank - 1; d-- > 0;) {
      oa += sa[d];
      ob += sb[d];
      if (++counter[d] < os[d]) break;
      oa -= sa[d] * os[d];
      ob -= sb[d] * os[d];
      counter[d] = 0;
    }
  }
}

}  // namespace onnx_mini

namespace onnx_mini {

// Broadcast shape of any number of inputs (Max/Min/Sum/Mean, Where).
Result<Shape> broadcast_shapes_all(const std::vector<const Shape*>& shapes);

// Walks the broadcast output shape `out` in row-major order and calls
// f(out_index, offsets) where offsets[k] is the element offset into input k
// (given by its broadcast strides, see broadcast_strides). Offsets are updated
// incrementally, so a walk costs O(1) amortised per element.
template <size_t K, typename F>
void for_each_broadcast(const Shape& out, const std::array<std::vector<int64_t>, K>& strides, F f) {
  const int64_t n = num_elements(out);
  if (n == 0) return;
  const size_t rank = out.size();
  std::array<int64_t, K> off{};
  std::vector<int64_t> counter(rank, 0);
  for (int64_t i = 0; i < n; ++i) {
    f(i, off);
    for (size_t d = rank; d-- > 0;) {
      for (size_t k = 0; k < K; ++k) off[k] += strides[k][d];
      if (++counter[d] < out[d]) break;
      for (size_t k = 0; k < K; ++k) off[k] -= strides[k][d] * out[d];
      counter[d] = 0;
    }
  }
}

}  // namespace onnx_mini
