// Gemm and MatMul: float with a 2-D B through the one float GEMM
// (ops/float_gemm.h); what that does not take (double, batched MatMul) on BLAS.
#include <algorithm>
#include <type_traits>
#include <vector>

#include "ops/blas.h"
#include "ops/broadcast.h"
#include "ops/float_gemm.h"
#include "ops/parallel.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

// y = beta * C broadcast to [m, n] (Gemm's double path; y then accumulates the product).
Status bias_into(const Tensor& c, int64_t m, int64_t n, double beta, double* y) {
  int64_t row_stride = 0, col_stride = 0;
  OM_RETURN_IF_ERROR(bias_strides(c.shape(), m, n, &row_stride, &col_stride));
  const double* cd = c.data<double>();
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) y[i * n + j] = beta * cd[i * row_stride + j * col_stride];
  }
  return Status::ok();
}

// One plain GEMM of a batched MatMul.
template <typename T>
void gemm_call(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, const T* b, T beta, T* y) {
  const int64_t lda = ta ? m : k, ldb = tb ? k : n;
  if constexpr (std::is_same_v<T, float>) {
    blas::sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, y, n);
  } else {
    blas::dgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, y, n);
  }
}

// Float Gemm is the one float GEMM (ops/float_gemm.h) with no activation: the
// same code as the FusedGemm it becomes at -O1. Double goes to dgemm.
class Gemm final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(attrs_, GemmAttributes::parse(node.attrs()));
    OM_ASSIGN_OR_RETURN(std::unique_ptr<Epilogue> identity, make_epilogue<IdentityFn>(Attributes{}));
    return float_gemm_.init(node, attrs_, kMatrixA, std::move(identity));
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& a = *ctx.input(0);
    if (float_gemm_.packed() || a.dtype() == DataType::kFloat) return float_gemm_.run(ctx);
    if (a.dtype() == DataType::kDouble) return run_double(ctx);
    return unsupported("Gemm on " + dtype_name(a.dtype()));
  }

  bool reads_input_at_run(int i) const override { return !(i == 1 && float_gemm_.packed()); }

 private:
  Status run_double(KernelContext& ctx) const {
    const Tensor& a = *ctx.input(0);
    const Tensor& b = *ctx.input(1);
    const Tensor* c = ctx.input(2);
    if (a.rank() != 2) return bad_input("input 'A' must be 2-D, got " + describe(a));
    if (b.rank() != 2) return bad_input("input 'B' must be 2-D, got " + describe(b));
    if (a.dtype() != b.dtype()) return bad_input("inputs 'A' and 'B' differ in dtype");
    const bool ta = attrs_.trans_a, tb = attrs_.trans_b;
    const int64_t m = ta ? a.dim(1) : a.dim(0), k = ta ? a.dim(0) : a.dim(1);
    const int64_t kb = tb ? b.dim(1) : b.dim(0), n = tb ? b.dim(0) : b.dim(1);
    if (k != kb) {
      return bad_input("inner dimensions differ: A " + describe(a) + (ta ? " (transposed)" : "") + " and B " +
                       describe(b) + (tb ? " (transposed)" : ""));
    }
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, {m, n}, a.dtype()));
    double* yd = y->data<double>();
    double beta = 0;
    if (c && attrs_.beta != 0.0f && m * n > 0) {
      if (c->dtype() != a.dtype()) return bad_input("input 'C' dtype differs from 'A'");
      beta = attrs_.beta;
      OM_RETURN_IF_ERROR(bias_into(*c, m, n, 1.0, yd));
    }
    if (m * n == 0) return Status::ok();
    if (k == 0) {  // empty reduction: y = beta * C
      for (int64_t i = 0; i < m * n; ++i) yd[i] = beta == 0 ? 0.0 : yd[i] * beta;
      return Status::ok();
    }
    blas::dgemm(ta, tb, m, n, k, attrs_.alpha, a.data<double>(), ta ? m : k, b.data<double>(), tb ? k : n, beta, yd, n);
    return Status::ok();
  }

  GemmAttributes attrs_;
  FloatGemm float_gemm_;
};

Status infer_gemm(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_ASSIGN_OR_RETURN(GemmAttributes attrs, GemmAttributes::parse(node.attrs()));
  return infer_gemm_output(node, attrs, kMatrixA, outputs);
}

// MatMul with numpy semantics: 1-D operands are promoted and the added dim
// removed afterwards; leading (batch) dims broadcast. A float MatMul with a 2-D
// B is the one float GEMM (ops/float_gemm.h), as the FusedGemm it becomes at
// -O1 when B is constant; the rest (double, batched B) is OpenBLAS here.
class MatMul final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(std::unique_ptr<Epilogue> identity, make_epilogue<IdentityFn>(Attributes{}));
    return float_gemm_.init(node, GemmAttributes{}, kMatMulA, std::move(identity));
  }

  Status run(KernelContext& ctx) const override {
    if (float_gemm_.packed()) return float_gemm_.run(ctx);
    const Tensor& a = *ctx.input(0);
    const Tensor& b = *ctx.input(1);
    if (a.dtype() != b.dtype()) return bad_input("inputs 'A' and 'B' differ in dtype");
    if (a.rank() == 0 || b.rank() == 0) return bad_input("MatMul inputs must have rank >= 1");
    if (a.dtype() == DataType::kFloat && b.rank() == 2) return float_gemm_.run(ctx);
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
    const Batches batches{a_batch, b_batch, batch, m, n, k};
    if (a.dtype() == DataType::kFloat) return compute<float>(a, b, batches, *y, ctx.thread_pool());
    if (a.dtype() == DataType::kDouble) return compute<double>(a, b, batches, *y, ctx.thread_pool());
    return unsupported("MatMul on " + dtype_name(a.dtype()));
  }

  bool reads_input_at_run(int i) const override { return !(i == 1 && float_gemm_.packed()); }

 private:
  struct Batches {
    const Shape &a_batch, &b_batch, &batch;
    int64_t m, n, k;
  };

  // One GEMM per broadcast batch, spread over the session's threads (OpenBLAS
  // runs each call on the thread that makes it).
  template <typename T>
  Status compute(const Tensor& a, const Tensor& b, const Batches& p, Tensor& y, ThreadPool* pool) const {
    const Shape &a_batch = p.a_batch, &b_batch = p.b_batch, &batch = p.batch;
    const int64_t m = p.m, n = p.n, k = p.k;
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
    for_each_task(pool, count, [&](int64_t i) {
      gemm_call<T>(false, false, m, n, k, T(1), a.data<T>() + ia.offset(i) * m * k,
                   b.data<T>() + ib.offset(i) * k * n, T(0), yd + i * m * n);
    });
    return Status::ok();
  }

  FloatGemm float_gemm_;
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
  // C is required before version 11; 9 and 13 widened the types.
  r.add({.op_type = "Gemm",
         .since_version = 7,
         .min_inputs = 3,
         .max_inputs = 3,
         .attributes = {"alpha", "beta", "transA", "transB"},
         .infer = infer_gemm,
         .create = make_kernel<Gemm>(),
         .also_since = {9}});
  r.add({.op_type = "Gemm",
         .since_version = 11,
         .min_inputs = 2,
         .max_inputs = 3,
         .attributes = {"alpha", "beta", "transA", "transB"},
         .infer = infer_gemm,
         .create = make_kernel<Gemm>(),
         .also_since = {13}});
  r.add({.op_type = "MatMul",
         .since_version = 1,
         .min_inputs = 2,
         .max_inputs = 2,
         .infer = infer_matmul,
         .create = make_kernel<MatMul>(),
         .also_since = {9, 13}});
}

}  // namespace onnx_mini
