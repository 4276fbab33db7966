// Gemm and MatMul on BLAS.
#include <algorithm>
#include <cstring>
#include <span>
#include <vector>

#include "ops/blas.h"
#include "ops/broadcast.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

// Copies C, unidirectionally broadcast to [m, n], into y (the Gemm bias).
template <typename T>
Status broadcast_bias_into(const Tensor& c, int64_t m, int64_t n, T* y) {
  const Shape& cs = c.shape();
  if (cs.size() > 2) return bad_input("input 'C' has rank " + std::to_string(cs.size()) + ", expected <= 2");
  int64_t cm = cs.size() == 2 ? cs[0] : 1;
  int64_t cn = cs.empty() ? 1 : cs.back();
  if ((cm != 1 && cm != m) || (cn != 1 && cn != n)) {
    return bad_input("input 'C' of shape " + shape_to_string(cs) + " does not broadcast to [" + std::to_string(m) +
                     ", " + std::to_string(n) + "]");
  }
  const T* cd = c.data<T>();
  for (int64_t i = 0; i < m; ++i) {
    const T* row = cd + (cm == 1 ? 0 : i * cn);
    T* out = y + i * n;
    if (cn == 1) {
      std::fill(out, out + n, row[0]);
    } else {
      std::memcpy(out, row, static_cast<size_t>(n) * sizeof(T));
    }
  }
  return Status::ok();
}

template <typename T>
void gemm_call(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, const T* b, T beta, T* y) {
  int64_t lda = ta ? m : k, ldb = tb ? k : n;
  if constexpr (std::is_same_v<T, float>) {
    if (m == 1) {
      // A single row is a matrix-vector product; sgemv is several times faster than
      // sgemm with M=1 in OpenBLAS.
      if (tb) {
        blas::sgemv(false, n, k, alpha, b, ldb, a, beta, y);
      } else {
        blas::sgemv(true, k, n, alpha, b, ldb, a, beta, y);
      }
      return;
    }
    blas::sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, y, n);
  } else {
    blas::dgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, y, n);
  }
}

// Small batches against a [N, K] weight (transB = 1, what torch exports for
// nn.Linear): OpenBLAS's sgemm with M = 4..64 spends much of its time packing
// the whole weight for a few rows. Computing Y^T = W * X^T instead (the weight
// as the A operand) measured 1.2-1.6x faster on this machine for 784x512 at
// M = 4..64 with OpenBLAS's own (AVX-512) kernels, equal or slightly better with
// the Haswell ones; the [N, M] result is transposed into Y, adding beta * C.
constexpr int64_t kSwapMinRows = 4, kSwapMaxRows = 64;

bool use_swapped_gemm(bool ta, bool tb, int64_t m) { return !ta && tb && m >= kSwapMinRows && m <= kSwapMaxRows; }

// y[m, n] = alpha * x[m, k] * w[n, k]^T + beta * y (y holds C when beta != 0).
void swapped_sgemm(int64_t m, int64_t n, int64_t k, float alpha, const float* x, const float* w, float beta, float* y) {
  // Per-thread scratch that only grows: no allocation in steady state.
  thread_local std::vector<float> scratch;
  const size_t need = static_cast<size_t>(m * n);
  if (scratch.size() < need) scratch.resize(need);
  float* yt = scratch.data();
  blas::sgemm(false, true, n, m, k, alpha, w, k, x, k, 0.0f, yt, m);
  for (int64_t i = 0; i < m; ++i) {
    float* row = y + i * n;
    if (beta == 0.0f) {
      for (int64_t j = 0; j < n; ++j) row[j] = yt[j * m + i];  // y may hold garbage: never read it
    } else {
      for (int64_t j = 0; j < n; ++j) row[j] = yt[j * m + i] + beta * row[j];
    }
  }
}

class Gemm final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(alpha_, node.attrs().get_float("alpha", 1.0f));
    OM_ASSIGN_OR_RETURN(beta_, node.attrs().get_float("beta", 1.0f));
    OM_ASSIGN_OR_RETURN(int64_t ta, node.attrs().get_int("transA", 0));
    OM_ASSIGN_OR_RETURN(int64_t tb, node.attrs().get_int("transB", 0));
    trans_a_ = ta != 0;
    trans_b_ = tb != 0;
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& a = *ctx.input(0);
    const Tensor& b = *ctx.input(1);
    const Tensor* c = ctx.input(2);
    if (a.rank() != 2) return bad_input("input 'A' must be 2-D, got " + describe(a));
    if (b.rank() != 2) return bad_input("input 'B' must be 2-D, got " + describe(b));
    if (a.dtype() != b.dtype()) return bad_input("inputs 'A' and 'B' differ in dtype");
    int64_t m = trans_a_ ? a.dim(1) : a.dim(0);
    int64_t k = trans_a_ ? a.dim(0) : a.dim(1);
    int64_t kb = trans_b_ ? b.dim(1) : b.dim(0);
    int64_t n = trans_b_ ? b.dim(0) : b.dim(1);
    if (k != kb) {
      return bad_input("inner dimensions differ: A " + describe(a) + (trans_a_ ? " (transposed)" : "") + " and B " +
                       describe(b) + (trans_b_ ? " (transposed)" : ""));
    }
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, {m, n}, a.dtype()));
    if (a.dtype() == DataType::kFloat) return compute<float>(a, b, c, m, n, k, *y);
    if (a.dtype() == DataType::kDouble) return compute<double>(a, b, c, m, n, k, *y);
    return unsupported("Gemm on " + dtype_name(a.dtype()));
  }

 private:
  template <typename T>
  Status compute(const Tensor& a, const Tensor& b, const Tensor* c, int64_t m, int64_t n, int64_t k,
                 Tensor& y) const {
    T beta = 0;
    if (c && beta_ != 0.0f && m * n > 0) {
      if (c->dtype() != a.dtype()) return bad_input("input 'C' dtype differs from 'A'");
      OM_RETURN_IF_ERROR(broadcast_bias_into<T>(*c, m, n, y.data<T>()));
      beta = static_cast<T>(beta_);
    }
    if (m * n == 0) return Status::ok();
    if (k == 0) {  // empty reduction: y = beta * C
      T* yd = y.data<T>();
      for (int64_t i = 0; i < m * n; ++i) yd[i] = beta == T(0) ? T(0) : yd[i] * beta;
      return Status::ok();
    }
    if constexpr (std::is_same_v<T, float>) {
      if (use_swapped_gemm(trans_a_, trans_b_, m)) {
        swapped_sgemm(m, n, k, alpha_, a.data<T>(), b.data<T>(), beta, y.data<T>());
        return Status::ok();
      }
    }
    gemm_call<T>(trans_a_, trans_b_, m, n, k, static_cast<T>(alpha_), a.data<T>(), b.data<T>(), beta, y.data<T>());
    return Status::ok();
  }

  float alpha_ = 1, beta_ = 1;
  bool trans_a_ = false, trans_b_ = false;
};

Status infer_gemm(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* a = node.input(0);
  const TensorInfo* b = node.input(1);
  OM_ASSIGN_OR_RETURN(int64_t ta, node.attrs().get_int("transA", 0));
  OM_ASSIGN_OR_RETURN(int64_t tb, node.attrs().get_int("transB", 0));
  outputs[0].dtype = a->dtype;
  if (a->dtype != b->dtype) return invalid_model("inputs 'A' and 'B' differ in dtype");
  if (!a->has_shape || !b->has_shape) return Status::ok();
  if (a->dims.size() != 2 || b->dims.size() != 2) {
    return invalid_model("Gemm needs 2-D inputs, got A " + a->to_string() + " and B " + b->to_string());
  }
  const Dim& k1 = a->dims[ta ? 0 : 1];
  const Dim& k2 = b->dims[tb ? 1 : 0];
  if (k1.known() && k2.known() && k1.value != k2.value) {
    return invalid_model("inner dimensions differ: A " + a->to_string() + " and B " + b->to_string());
  }
  outputs[0].has_shape = true;
  outputs[0].dims = {a->dims[ta ? 1 : 0], b->dims[tb ? 0 : 1]};
  return Status::ok();
}

// MatMul with numpy semantics: 1-D operands are promoted and the added dim
// removed afterwards; leading (batch) dims broadcast.
class MatMul final : public Kernel {
 public:
  Status init(const NodeInfo&) { return Status::ok(); }

  Status run(KernelContext& ctx) const override {
    const Tensor& a = *ctx.input(0);
    const Tensor& b = *ctx.input(1);
    if (a.dtype() != b.dtype()) return bad_input("inputs 'A' and 'B' differ in dtype");
    if (a.rank() == 0 || b.rank() == 0) return bad_input("MatMul inputs must have rank >= 1");
    if (b.rank() == 2 && a.rank() <= kMaxFastRank) return run_2d_weight(ctx, a, b);
    Shape as = a.shape(), bs = b.shape();
    bool a_vec = as.size() == 1, b_vec = bs.size() == 1;
    if (a_vec) as.insert(as.begin(), 1);
    if (b_vec) bs.push_back(1);
    int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
    if (bs[bs.size() - 2] != k) {
      return bad_input("inner dimensions differ: A " + describe(a) + " and B " + describe(b));
    }
    Shape a_batch(as.begin(), as.end() - 2), b_batch(bs.begin(), bs.end() - 2);
    OM_ASSIGN_OR_RETURN(Shape batch, broadcast_shapes(a_batch, b_batch));
    Shape out = batch;
    if (!a_vec) out.push_back(m);
    if (!b_vec) out.push_back(n);
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, out, a.dtype()));
    if (a.dtype() == DataType::kFloat) return compute<float>(a, b, a_batch, b_batch, batch, m, n, k, *y);
    if (a.dtype() == DataType::kDouble) return compute<double>(a, b, a_batch, b_batch, batch, m, n, k, *y);
    return unsupported("MatMul on " + dtype_name(a.dtype()));
  }

 private:
  static constexpr int64_t kMaxFastRank = 8;

  // The common Linear case, B a 2-D weight: A's leading dims fold into M for one
  // GEMM, and the output dims live on the stack (no Shape built per run).
  Status run_2d_weight(KernelContext& ctx, const Tensor& a, const Tensor& b) const {
    const int64_t k = a.dim(a.rank() - 1), n = b.dim(1);
    if (b.dim(0) != k) return bad_input("inner dimensions differ: A " + describe(a) + " and B " + describe(b));
    int64_t out_dims[kMaxFastRank];
    const size_t out_rank = static_cast<size_t>(a.rank());
    for (size_t d = 0; d + 1 < out_rank; ++d) out_dims[d] = a.dim(static_cast<int64_t>(d));
    out_dims[out_rank - 1] = n;  // a 1-D A loses its promoted row: output [n]
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output_dims(0, std::span<const int64_t>(out_dims, out_rank), a.dtype()));
    const int64_t m = k == 0 ? 0 : a.num_elements() / k;
    if (a.dtype() == DataType::kFloat) return compute_folded<float>(a, b, m, n, k, *y);
    if (a.dtype() == DataType::kDouble) return compute_folded<double>(a, b, m, n, k, *y);
    return unsupported("MatMul on " + dtype_name(a.dtype()));
  }

  template <typename T>
  Status compute_folded(const Tensor& a, const Tensor& b, int64_t m, int64_t n, int64_t k, Tensor& y) const {
    T* yd = y.data<T>();
    if (y.num_elements() == 0) return Status::ok();
    if (k == 0) {
      std::fill(yd, yd + y.num_elements(), T(0));
      return Status::ok();
    }
    gemm_call<T>(false, false, m, n, k, T(1), a.data<T>(), b.data<T>(), T(0), yd);
    return Status::ok();
  }

  template <typename T>
  Status compute(const Tensor& a, const Tensor& b, const Shape& a_batch, const Shape& b_batch, const Shape& batch,
                 int64_t m, int64_t n, int64_t k, Tensor& y) const {
    int64_t count = num_elements(batch);
    if (count * m * n == 0) return Status::ok();
    T* yd = y.data<T>();
    if (k == 0) {
      std::fill(yd, yd + count * m * n, T(0));
      return Status::ok();
    }
    // B shared by every batch: fold the batch into M for one large GEMM.
    if (num_elements(b_batch) == 1 && a_batch.size() >= b_batch.size() && num_elements(a_batch) == count) {
      gemm_call<T>(false, false, count * m, n, k, T(1), a.data<T>(), b.data<T>(), T(0), yd);
      return Status::ok();
    }
    BroadcastIndex ia(a_batch, batch), ib(b_batch, batch);
    for (int64_t i = 0; i < count; ++i) {
      gemm_call<T>(false, false, m, n, k, T(1), a.data<T>() + ia.offset(i) * m * k,
                   b.data<T>() + ib.offset(i) * k * n, T(0), yd + i * m * n);
    }
    return Status::ok();
  }
};

Status infer_matmul(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* a = node.input(0);
  const TensorInfo* b = node.input(1);
  if (a->dtype != b->dtype) return invalid_model("inputs 'A' and 'B' differ in dtype");
  outputs[0].dtype = a->dtype;
  if (!a->has_shape || !b->has_shape) return Status::ok();
  if (a->dims.empty() || b->dims.empty()) return invalid_model("MatMul inputs must have rank >= 1");
  std::vector<Dim> ad = a->dims, bd = b->dims;
  bool a_vec = ad.size() == 1, b_vec = bd.size() == 1;
  if (a_vec) ad.insert(ad.begin(), Dim{1, ""});
  if (b_vec) bd.push_back(Dim{1, ""});
  const Dim& k1 = ad.back();
  const Dim& k2 = bd[bd.size() - 2];
  if (k1.known() && k2.known() && k1.value != k2.value) {
    return invalid_model("inner dimensions differ: A " + a->to_string() + " and B " + b->to_string());
  }
  std::vector<Dim> a_batch(ad.begin(), ad.end() - 2), b_batch(bd.begin(), bd.end() - 2);
  OM_ASSIGN_OR_RETURN(std::vector<Dim> out, broadcast_dims(a_batch, b_batch));
  if (!a_vec) out.push_back(ad[ad.size() - 2]);
  if (!b_vec) out.push_back(bd.back());
  outputs[0].has_shape = true;
  outputs[0].dims = out;
  return Status::ok();
}

}  // namespace

void register_gemm_ops(OpRegistry& r) {
  r.add({"Gemm", kOnnxDomain, 7, 2, 3, 1, 1, {"alpha", "beta", "transA", "transB"}, infer_gemm, make_kernel<Gemm>()});
  r.add({"MatMul", kOnnxDomain, 1, 2, 2, 1, 1, {}, infer_matmul, make_kernel<MatMul>()});
}

}  // namespace onnx_mini
