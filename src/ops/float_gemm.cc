#include "ops/float_gemm.h"

#include <algorithm>
#include <vector>

#include "ops/blas.h"
#include "ops/broadcast.h"
#include "ops/parallel.h"

namespace onnx_mini {
namespace {

// Output bytes per blocked-path row block: half of a 1 MiB L2 (the MLP layers
// up to batch 256 x 512 floats fit in one block).
constexpr int64_t kCacheBudgetBytes = int64_t{512} << 10;
constexpr int64_t kMinBlockRows = 64;
// Swapped-orientation window, from bench_small_m (1 thread, CPU-time medians,
// plain / swapped, Haswell kernels then OpenBLAS's own AVX-512 ones; this
// machine's run-to-run spread is +-10-15 %):
//   784 -> 512: M = 2 1.59 / 0.99, M = 4 1.07 / 1.51, M = 16 1.23 / 1.50,
//               M = 64 1.01 / 1.17, M = 96..128 1.03-1.05 (gain gone into noise);
//   512 -> 256: M = 2..64 1.06-1.66 / 1.03-1.37; 128 -> 64: 1.04-1.46 / 0.95-1.09;
//   narrow outputs lose: 256 -> 10 0.67-0.90 (Haswell), 512 -> 32 0.75-1.06,
//   since W is then too small for its packing to matter and the swapped GEMM
//   has an M of 10-32. Hence M in [2, 64] and N >= 64.
constexpr int64_t kSwapMinRows = 2, kSwapMaxRows = 64, kSwapMinCols = 64;

std::string rank_rule(ARank r, bool trans_a) {
  if (trans_a || r.max == 2) return "2-D";
  return r.min == 1 ? "1-D or more" : "2-D or more";
}

}  // namespace

Result<GemmAttributes> GemmAttributes::parse(const Attributes& attrs) {
  GemmAttributes g;
  OM_ASSIGN_OR_RETURN(g.alpha, attrs.get_float("alpha", 1.0f));
  OM_ASSIGN_OR_RETURN(g.beta, attrs.get_float("beta", 1.0f));
  OM_ASSIGN_OR_RETURN(int64_t ta, attrs.get_int("transA", 0));
  OM_ASSIGN_OR_RETURN(int64_t tb, attrs.get_int("transB", 0));
  g.trans_a = ta != 0;
  g.trans_b = tb != 0;
  return g;
}

Status bias_strides(const Shape& cs, int64_t m, int64_t n, int64_t* row_stride, int64_t* col_stride) {
  if (cs.size() > 2) return bad_input("input 'C' has rank " + std::to_string(cs.size()) + ", expected <= 2");
  const int64_t cm = cs.size() == 2 ? cs[0] : 1;
  const int64_t cn = cs.empty() ? 1 : cs.back();
  if ((cm != 1 && cm != m) || (cn != 1 && cn != n)) {
    return bad_input("input 'C' of shape " + shape_to_string(cs) + " does not broadcast to [" + std::to_string(m) +
                     ", " + std::to_string(n) + "]");
  }
  *row_stride = cm == 1 ? 0 : cn;
  *col_stride = cn == 1 ? 0 : 1;
  return Status::ok();
}

Status infer_gemm_output(const NodeInfo& node, const GemmAttributes& attrs, ARank a_rank,
                         std::vector<TensorInfo>& outputs) {
  const TensorInfo* a = node.input(0);
  const TensorInfo* b = node.input(1);
  if (a->dtype != b->dtype) return invalid_model("inputs 'A' and 'B' differ in dtype");
  outputs[0].dtype = a->dtype;
  if (!a->has_shape || !b->has_shape) return Status::ok();
  const int rank = static_cast<int>(a->dims.size());
  const bool a_ok = attrs.trans_a ? rank == 2 : rank >= a_rank.min && rank <= a_rank.max;
  if (b->dims.size() != 2 || !a_ok) {
    return invalid_model(node.op_type + " needs a 2-D B and a " + rank_rule(a_rank, attrs.trans_a) + " A, got A " +
                         a->to_string() + " and B " + b->to_string());
  }
  const Dim& k1 = attrs.trans_a ? a->dims[0] : a->dims.back();
  const Dim& k2 = b->dims[attrs.trans_b ? 1 : 0];
  if (k1.known() && k2.known() && k1.value != k2.value) {
    return invalid_model("inner dimensions differ: A " + a->to_string() + " and B " + b->to_string());
  }
  outputs[0].has_shape = true;
  if (attrs.trans_a) {
    outputs[0].dims = {a->dims[1]};
  } else {
    outputs[0].dims.assign(a->dims.begin(), a->dims.end() - 1);
  }
  outputs[0].dims.push_back(b->dims[attrs.trans_b ? 0 : 1]);
  return Status::ok();
}

const char* gemm_path_name(GemmPath path) {
  switch (path) {
    case GemmPath::kEmptyOutput: return "empty output";
    case GemmPath::kEmptyReduction: return "empty reduction";
    case GemmPath::kPacked: return "packed";
    case GemmPath::kGemv: return "gemv";
    case GemmPath::kSwapped: return "swapped";
    case GemmPath::kBlocked: return "blocked";
  }
  return "?";
}

Status FloatGemm::init(const NodeInfo& node, const GemmAttributes& attrs, ARank a_rank,
                       std::unique_ptr<Epilogue> epilogue) {
  attrs_ = attrs;
  a_rank_ = a_rank;
  epilogue_ = std::move(epilogue);
  const TensorInfo* b = node.input(1);
  const Tensor* w = b ? b->constant : nullptr;
  if (!w || w->dtype() != DataType::kFloat || w->rank() != 2 || w->num_elements() == 0 || attrs.trans_a ||
      !PackedWeights::enabled()) {
    return Status::ok();  // B read at run time, through OpenBLAS
  }
  if (node.packed_weights) {
    packed_ = node.packed_weights->request(*w, attrs.trans_b);
  } else {
    const int64_t k = attrs.trans_b ? w->dim(1) : w->dim(0);
    const int64_t n = attrs.trans_b ? w->dim(0) : w->dim(1);
    packed_ = std::make_shared<PackedWeights>(PackedWeights::pack(w->data<float>(), k, n, w->dim(1), attrs.trans_b));
  }
  return Status::ok();
}

GemmPath FloatGemm::path(int64_t m, int64_t n, int64_t k) const {
  if (m * n == 0) return GemmPath::kEmptyOutput;
  if (k == 0) return GemmPath::kEmptyReduction;
  if (packed_) return GemmPath::kPacked;
  if (m == 1) return GemmPath::kGemv;
  if (!attrs_.trans_a && attrs_.trans_b && m >= kSwapMinRows && m <= kSwapMaxRows && n >= kSwapMinCols) {
    return GemmPath::kSwapped;
  }
  return GemmPath::kBlocked;
}

Status FloatGemm::run(KernelContext& ctx) const {
  OM_ASSIGN_OR_RETURN(Operands op, operands(ctx));
  OM_ASSIGN_OR_RETURN(Tensor * y, output(ctx, op));
  OM_ASSIGN_OR_RETURN(BiasView bias, this->bias(ctx.input(2), op.m, op.n));
  float* yd = y->data<float>();
  switch (path(op.m, op.n, op.k)) {
    case GemmPath::kEmptyOutput: break;
    case GemmPath::kEmptyReduction: run_empty_reduction(yd, op, bias); break;
    case GemmPath::kPacked: run_packed(yd, op, bias, ctx.thread_pool()); break;
    case GemmPath::kGemv: run_gemv(yd, op, bias); break;
    case GemmPath::kSwapped: run_swapped(yd, op, bias); break;
    case GemmPath::kBlocked: run_blocked(yd, op, bias, ctx.thread_pool()); break;
  }
  return Status::ok();
}

// A and B checked against each other; m, n, k from their shapes (k and n from
// the packed weight when B is packed: the initializer may be gone).
Result<FloatGemm::Operands> FloatGemm::operands(KernelContext& ctx) const {
  const Tensor& a = *ctx.input(0);
  const Tensor* b = packed_ ? nullptr : ctx.input(1);
  if (a.dtype() != DataType::kFloat || (b && b->dtype() != DataType::kFloat)) {
    return bad_input("inputs 'A' and 'B' differ in dtype: A " + describe(a) + (b ? " and B " + describe(*b) : ""));
  }
  if (b && b->rank() != 2) return bad_input("input 'B' must be 2-D, got " + describe(*b));
  const bool a_ok = attrs_.trans_a ? a.rank() == 2 : a.rank() >= a_rank_.min && a.rank() <= a_rank_.max;
  if (!a_ok) return bad_input("input 'A' must be " + rank_rule(a_rank_, attrs_.trans_a) + ", got " + describe(a));
  Operands op{a.data<float>(), b ? b->data<float>() : nullptr, 1, 0, 0};
  op.k = attrs_.trans_a ? a.dim(0) : a.dim(a.rank() - 1);
  if (attrs_.trans_a) {
    op.m = a.dim(1);
  } else {
    for (int64_t d = 0; d + 1 < a.rank(); ++d) op.m *= a.dim(d);
  }
  const int64_t kb = packed_ ? packed_->k() : b->dim(attrs_.trans_b ? 1 : 0);
  op.n = packed_ ? packed_->n() : b->dim(attrs_.trans_b ? 0 : 1);
  if (op.k != kb) {
    const std::string b_text = packed_ ? "the constant B [" + std::to_string(kb) + " x " + std::to_string(op.n) + "]"
                                       : "B " + describe(*b) + (attrs_.trans_b ? " (transposed)" : "");
    return bad_input("inner dimensions differ: A " + describe(a) + (attrs_.trans_a ? " (transposed)" : "") + " and " +
                     b_text);
  }
  return op;
}

// Output dims on the stack (DimScratch): no Shape built per run.
Result<Tensor*> FloatGemm::output(KernelContext& ctx, const Operands& op) const {
  const Tensor& a = *ctx.input(0);
  DimScratch out_dims(attrs_.trans_a ? 2 : static_cast<size_t>(a.rank()));
  int64_t* od = out_dims.data();
  if (attrs_.trans_a) {
    od[0] = op.m;
    od[1] = op.n;
  } else {
    for (int64_t d = 0; d + 1 < a.rank(); ++d) od[d] = a.dim(d);
    od[a.rank() - 1] = op.n;  // a 1-D A (MatMul) gives [n]
  }
  return ctx.output_dims(0, out_dims.span(), DataType::kFloat);
}

Result<BiasView> FloatGemm::bias(const Tensor* c, int64_t m, int64_t n) const {
  BiasView view;
  if (!c || attrs_.beta == 0.0f) return view;  // beta = 0 ignores C entirely
  if (c->dtype() != DataType::kFloat) return bad_input("input 'C' must be float, got " + describe(*c));
  OM_RETURN_IF_ERROR(bias_strides(c->shape(), m, n, &view.row_stride, &view.col_stride));
  view.data = c->data<float>();
  return view;
}

// y = act(beta * C): the product of an empty reduction is 0.
void FloatGemm::run_empty_reduction(float* y, const Operands& op, const BiasView& bias) const {
  std::fill(y, y + op.m * op.n, 0.0f);
  epilogue_->apply(y, op.n, op.m, op.n, bias, attrs_.beta);
}

void FloatGemm::run_packed(float* y, const Operands& op, const BiasView& bias, ThreadPool* pool) const {
  const TileEpilogueAdapter tile_epilogue(*epilogue_, bias, attrs_.beta);
  packed_->multiply(op.m, op.a, op.k, attrs_.alpha, y, op.n, &tile_epilogue, pool);
}

// x = row 0 of op(A) is contiguous either way. M >= 2 stays on sgemm:
// bench_fusion's BM_SmallM (784 -> 512, 1 thread, CPU time) measured M = 2 as
// 110 us sgemm vs 49 us for two sgemv under OPENBLAS_CORETYPE=Haswell, but 28 us
// vs 40 us with OpenBLAS's own AVX-512 kernels; from M = 4 sgemm is at least as
// fast in both.
void FloatGemm::run_gemv(float* y, const Operands& op, const BiasView& bias) const {
  if (attrs_.trans_b) {
    blas::sgemv(false, op.n, op.k, attrs_.alpha, op.b, op.k, op.a, 0.0f, y);
  } else {
    blas::sgemv(true, op.k, op.n, attrs_.alpha, op.b, op.n, op.a, 0.0f, y);
  }
  epilogue_->apply(y, op.n, 1, op.n, bias, attrs_.beta);
}

// Y^T [n, m] = alpha * W [n, k] * X^T, X = A [m, k], into per-thread scratch
// that only grows (no allocation in steady state); the epilogue writes Y.
void FloatGemm::run_swapped(float* y, const Operands& op, const BiasView& bias) const {
  thread_local std::vector<float> scratch;
  const size_t need = static_cast<size_t>(op.m * op.n);
  if (scratch.size() < need) scratch.resize(need);
  blas::sgemm(false, true, op.n, op.m, op.k, attrs_.alpha, op.b, op.k, op.a, op.k, 0.0f, scratch.data(), op.m);
  epilogue_->apply_transposed(scratch.data(), y, op.m, op.n, bias, attrs_.beta);
}

void FloatGemm::run_blocked(float* y, const Operands& op, const BiasView& bias, ThreadPool* pool) const {
  int64_t block = std::max(kMinBlockRows, kCacheBudgetBytes / static_cast<int64_t>(op.n * sizeof(float)));
  const int64_t threads = pool ? pool->num_threads() : 1;
  // At least one block per thread when the rows allow it (OpenBLAS runs each
  // on the thread that calls it).
  if (threads > 1) block = std::min(block, std::max(kMinBlockRows, (op.m + threads - 1) / threads));
  const int64_t blocks = (op.m + block - 1) / block;
  for_each_task(blocks > 1 ? pool : nullptr, blocks, [&](int64_t i) {
    const int64_t r0 = i * block;
    const int64_t rows = std::min(block, op.m - r0);
    // Rows r0.. of op(A): a row offset in A, or a column offset when A is transposed.
    const float* a_block = attrs_.trans_a ? op.a + r0 : op.a + r0 * op.k;
    blas::sgemm(attrs_.trans_a, attrs_.trans_b, rows, op.n, op.k, attrs_.alpha, a_block,
                attrs_.trans_a ? op.m : op.k, op.b, attrs_.trans_b ? op.k : op.n, 0.0f, y + r0 * op.n, op.n);
    BiasView block_bias = bias;
    if (block_bias.data) block_bias.data += r0 * block_bias.row_stride;
    epilogue_->apply(y + r0 * op.n, op.n, rows, op.n, block_bias, attrs_.beta);
  });
}

}  // namespace onnx_mini
