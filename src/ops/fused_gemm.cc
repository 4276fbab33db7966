// FusedGemm (com.onnx_mini, opset 1): Y = act(alpha * op(A) * op(B) + beta * C).
//
// Attributes: transA, transB, alpha, beta as ONNX Gemm; `activation` (the ONNX op
// name of the epilogue, "" for none) and `activation_<param>` for its parameters
// (activation_alpha, activation_beta, activation_gamma). Unlike Gemm, A may have
// rank > 2 when transA = 0: its leading dims are flattened into M and kept in the
// output ([..., K] x [K, N] -> [..., N]), which is what MatMul + Add computes.
//
// Execution, fast path: a constant B (the layer's weight) is packed once at
// session build (ops/packed_gemm.h, CPUs with AVX-512F, weights up to
// kMaxPackedWeightBytes) and every run is one packed multiply whose micro-kernel
// hands each finished register tile (12 rows x 32 columns) to the epilogue, which
// adds the bias and applies the activation while the tile is in L1: no second
// pass over the output. This is the path of every nn.Linear layer on such CPUs,
// at every batch size, transA = 0.
//
// Otherwise (no AVX-512F, ONNX_MINI_PACKED_GEMM=0, a fed or large B, transA):
// OpenBLAS. The GEMM writes its output with beta = 0 and the epilogue then reads
// each element once, adds the bias and applies the activation in place. When the
// output fits in kCacheBudgetBytes (half of a 1 MiB L2: the MLP layers up to
// batch 256 x 512 floats) this is a single BLAS call followed by the epilogue
// over data still in L2. Larger outputs are cut in row blocks that fit the
// budget, each one GEMM call (>= kMinBlockRows rows, so OpenBLAS stays at full
// speed: its packed B panel is reused within the call) immediately followed by
// its epilogue: the output is never swept a second time after it has left the
// cache.
//
// Small batches against an nn.Linear weight (transA = 0, transB = 1, B = W [N, K],
// kSwapMinRows <= M <= kSwapMaxRows, N >= kSwapMinCols): OpenBLAS's sgemm with a few rows of A
// spends much of its time packing the whole of W for them. The kernel computes
// Y^T = W * X^T instead (W as the A operand, N = M) into a per-thread scratch
// [N, M], and the epilogue reads it transposed while writing Y [M, N] with the
// bias and activation: still one pass, over M * N floats (<= 128 KiB for the MLP
// layers) that the GEMM has just written. The thresholds come from
// bench/bench_small_m.cc (numbers beside the constants).
#include <algorithm>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include "ops/activation_functors.h"
#include "ops/blas.h"
#include "ops/broadcast.h"
#include "ops/fused_gemm.h"
#include "ops/packed_gemm.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

// Constant weights up to this size are packed for ops/packed_gemm.h at session
// build; larger ones are used in place through OpenBLAS. A packed copy sits next
// to the initializer (the session keeps the original), so this bounds what
// packing adds to the model's footprint per weight; above it a layer is
// memory-bound at small batch anyway, where the packing gains least.
constexpr int64_t kMaxPackedWeightBytes = int64_t{16} << 20;

constexpr int64_t kCacheBudgetBytes = int64_t{512} << 10;
constexpr int64_t kMinBlockRows = 64;
// Swapped-orientation window (see the header comment), from bench_small_m (1
// thread, CPU-time medians, plain / swapped, Haswell kernels then OpenBLAS's own
// AVX-512 ones; this machine's run-to-run spread is +-10-15 %):
//   784 -> 512: M = 2 1.59 / 0.99, M = 4 1.07 / 1.51, M = 16 1.23 / 1.50,
//               M = 64 1.01 / 1.17, M = 96..128 1.03-1.05 (gain gone into noise);
//   512 -> 256: M = 2..64 1.06-1.66 / 1.03-1.37; 128 -> 64: 1.04-1.46 / 0.95-1.09;
//   narrow outputs lose: 256 -> 10 0.67-0.90 (Haswell), 512 -> 32 0.75-1.06,
//   since W is then too small for its packing to matter and the swapped GEMM
//   has an M of 10-32. Hence M in [2, 64] and N >= 64.
constexpr int64_t kSwapMinRows = 2, kSwapMaxRows = 64, kSwapMinCols = 64;

// How the bias C is read: element (i, j) is at data[i * row_stride + j * col_stride]
// (strides 0 along broadcast dims).
struct BiasView {
  const float* data = nullptr;
  int64_t row_stride = 0, col_stride = 0;
};

// The epilogue over rows [0, rows) of a block: y = act(y + beta * C).
class Epilogue {
 public:
  virtual ~Epilogue() = default;
  // Rows [0, rows) of a block whose rows are ldy apart.
  virtual void apply(float* y, int64_t ldy, int64_t rows, int64_t n, const BiasView& bias, float beta) const = 0;
  // y[i, j] = act(yt[j, i] + beta * C[i, j]) for i < m, j < n: the epilogue of the
  // swapped GEMM, reading its [n, m] result transposed.
  virtual void apply_transposed(const float* yt, float* y, int64_t m, int64_t n, const BiasView& bias,
                                float beta) const = 0;
  // Whether the activation is Relu or none: the two the packed micro-kernel
  // applies in registers (RegisterEpilogue).
  virtual bool register_form(bool* relu) const = 0;
};

template <typename Fn>
class EpilogueImpl final : public Epilogue {
 public:
  explicit EpilogueImpl(Fn fn) : fn_(fn) {}
  bool register_form(bool* relu) const override {
    *relu = std::is_same_v<Fn, ReluFn>;
    return std::is_same_v<Fn, ReluFn> || std::is_same_v<Fn, IdentityFn>;
  }
  void apply(float* y, int64_t ldy, int64_t rows, int64_t n, const BiasView& bias, float beta) const override {
    for (int64_t i = 0; i < rows; ++i) {
      float* row = y + i * ldy;
      if (!bias.data) {
        for (int64_t j = 0; j < n; ++j) row[j] = fn_(row[j]);
      } else if (bias.col_stride == 1 && beta == 1.0f) {  // the nn.Linear case: vectorizes
        const float* b = bias.data + i * bias.row_stride;
        for (int64_t j = 0; j < n; ++j) row[j] = fn_(row[j] + b[j]);
      } else {
        const float* b = bias.data + i * bias.row_stride;
        for (int64_t j = 0; j < n; ++j) row[j] = fn_(row[j] + beta * b[j * bias.col_stride]);
      }
    }
  }
  void apply_transposed(const float* yt, float* y, int64_t m, int64_t n, const BiasView& bias,
                        float beta) const override {
    for (int64_t i = 0; i < m; ++i) {
      float* row = y + i * n;
      const float* col = yt + i;  // column i of yt, stride m
      if (!bias.data) {
        for (int64_t j = 0; j < n; ++j) row[j] = fn_(col[j * m]);
      } else if (bias.col_stride == 1 && beta == 1.0f) {  // the nn.Linear case
        const float* b = bias.data + i * bias.row_stride;
        for (int64_t j = 0; j < n; ++j) row[j] = fn_(col[j * m] + b[j]);
      } else {
        const float* b = bias.data + i * bias.row_stride;
        for (int64_t j = 0; j < n; ++j) row[j] = fn_(col[j * m] + beta * b[j * bias.col_stride]);
      }
    }
  }

 private:
  Fn fn_;
};

// The packed kernel's per-tile callback: the epilogue on one tile, with the bias
// moved to the tile's origin.
class TileEpilogueAdapter final : public TileEpilogue {
 public:
  TileEpilogueAdapter(const Epilogue& epilogue, const BiasView& bias, float beta)
      : epilogue_(epilogue), bias_(bias), beta_(beta) {}
  // nn.Linear's form (a bias per column, beta = 1, or no bias) with Relu or no
  // activation goes into the micro-kernel's registers.
  bool in_registers(RegisterEpilogue* form) const override {
    bool relu = false;
    if (!epilogue_.register_form(&relu)) return false;
    if (bias_.data && !(bias_.col_stride == 1 && bias_.row_stride == 0 && beta_ == 1.0f)) return false;
    form->bias = bias_.data;
    form->relu = relu;
    return true;
  }
  void apply(float* y, int64_t ldy, int64_t rows, int64_t cols, int64_t row0, int64_t col0) const override {
    BiasView bias = bias_;
    if (bias.data) bias.data += row0 * bias.row_stride + col0 * bias.col_stride;
    epilogue_.apply(y, ldy, rows, cols, bias, beta_);
  }

 private:
  const Epilogue& epilogue_;
  BiasView bias_;
  float beta_;
};

using EpilogueFactory = Result<std::unique_ptr<Epilogue>> (*)(const Attributes& params);

template <typename Fn>
Result<std::unique_ptr<Epilogue>> make_epilogue(const Attributes& params) {
  Fn fn;
  OM_RETURN_IF_ERROR(fn.init(params));
  return std::unique_ptr<Epilogue>(std::make_unique<EpilogueImpl<Fn>>(fn));
}

struct ActivationEntry {
  FusedActivationInfo info;
  EpilogueFactory make;
};

// Every activation the epilogue applies, each through the same functor as its
// standalone kernel (ops/activation_functors.h), with the oldest ONNX definition
// of the same semantics (version 1 of most carried `consumed_inputs`). Mish (18)
// and Gelu (20) are above the opsets onnx-mini loads.
const std::vector<ActivationEntry>& activation_table() {
  static const std::vector<ActivationEntry> table = {
      {{"Relu", 6, {}}, make_epilogue<ReluFn>},
      {{"LeakyRelu", 6, {"alpha"}}, make_epilogue<LeakyReluFn>},
      {{"Sigmoid", 6, {}}, make_epilogue<SigmoidFn>},
      {{"Tanh", 6, {}}, make_epilogue<TanhFn>},
      {{"Elu", 6, {"alpha"}}, make_epilogue<EluFn>},
      {{"Selu", 6, {"alpha", "gamma"}}, make_epilogue<SeluFn>},
      {{"Celu", 12, {"alpha"}}, make_epilogue<CeluFn>},
      {{"HardSigmoid", 6, {"alpha", "beta"}}, make_epilogue<HardSigmoidFn>},
      {{"HardSwish", 14, {}}, make_epilogue<HardSwishFn>},
      {{"Softplus", 1, {}}, make_epilogue<SoftplusFn>},
      {{"Softsign", 1, {}}, make_epilogue<SoftsignFn>},
      {{"ThresholdedRelu", 10, {"alpha"}}, make_epilogue<ThresholdedReluFn>},
  };
  return table;
}

const ActivationEntry* find_entry(const std::string& op_type) {
  for (const auto& e : activation_table()) {
    if (e.info.op_type == op_type) return &e;
  }
  return nullptr;
}

class FusedGemm final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    const Attributes& attrs = node.attrs();
    OM_ASSIGN_OR_RETURN(alpha_, attrs.get_float("alpha", 1.0f));
    OM_ASSIGN_OR_RETURN(beta_, attrs.get_float("beta", 1.0f));
    OM_ASSIGN_OR_RETURN(int64_t ta, attrs.get_int("transA", 0));
    OM_ASSIGN_OR_RETURN(int64_t tb, attrs.get_int("transB", 0));
    trans_a_ = ta != 0;
    trans_b_ = tb != 0;
    OM_ASSIGN_OR_RETURN(std::string act, attrs.get_string("activation", ""));
    // The activation's own parameters, under their ONNX names for the functor.
    Attributes params;
    const std::string prefix = kFusedActivationPrefix;
    for (const auto& [name, a] : attrs.all()) {
      if (name.rfind(prefix, 0) == 0) params.set(name.substr(prefix.size()), a);
    }
    const ActivationEntry* entry = act.empty() ? nullptr : find_entry(act);
    if (!act.empty() && !entry) {
      std::string known;
      for (const auto& e : activation_table()) known += (known.empty() ? "" : ", ") + e.info.op_type;
      return unsupported("FusedGemm activation '" + act + "' is not supported (supported: " + known + ")");
    }
    if (entry) {
      for (const auto& [name, a] : params.all()) {
        if (std::find(entry->info.params.begin(), entry->info.params.end(), name) == entry->info.params.end()) {
          return invalid_model("attribute 'activation_" + name + "' is not a parameter of " + act);
        }
      }
      OM_ASSIGN_OR_RETURN(epilogue_, entry->make(params));
    } else {
      if (!params.all().empty()) return invalid_model("activation parameters given without an activation");
      OM_ASSIGN_OR_RETURN(epilogue_, make_epilogue<IdentityFn>(params));
    }
    return prepare_weights(node.input(1));
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& a = *ctx.input(0);
    const Tensor* c = ctx.input(2);
    const Tensor& b = weights_.defined() ? weights_ : *ctx.input(1);
    const bool tb = trans_b_;
    if (a.dtype() != DataType::kFloat || b.dtype() != DataType::kFloat) {
      return unsupported("FusedGemm runs on float, got A " + describe(a) + " and B " + describe(b));
    }
    if (b.rank() != 2) return bad_input("input 'B' must be 2-D, got " + describe(b));
    if (a.rank() < 2 || (trans_a_ && a.rank() != 2)) {
      return bad_input("input 'A' must be 2-D (or N-D without transA), got " + describe(a));
    }
    const int64_t k = trans_a_ ? a.dim(0) : a.dim(a.rank() - 1);
    int64_t m = trans_a_ ? a.dim(1) : 1;
    if (!trans_a_) {
      for (int64_t d = 0; d + 1 < a.rank(); ++d) m *= a.dim(d);
    }
    const int64_t kb = tb ? b.dim(1) : b.dim(0);
    const int64_t n = tb ? b.dim(0) : b.dim(1);
    if (k != kb) {
      return bad_input("inner dimensions differ: A " + describe(a) + (trans_a_ ? " (transposed)" : "") + " and B " +
                       describe(b) + (trans_b_ ? " (transposed)" : ""));
    }
    // Output dims on the stack (DimScratch): no Shape built per run.
    DimScratch out_dims(trans_a_ ? 2 : static_cast<size_t>(a.rank()));
    int64_t* od = out_dims.data();
    if (trans_a_) {
      od[0] = m;
      od[1] = n;
    } else {
      for (int64_t d = 0; d + 1 < a.rank(); ++d) od[d] = a.dim(d);
      od[a.rank() - 1] = n;
    }
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output_dims(0, out_dims.span(), DataType::kFloat));
    BiasView bias;
    if (c && beta_ != 0.0f) OM_RETURN_IF_ERROR(bias_view(*c, m, n, bias));
    if (m * n == 0) return Status::ok();
    float* yd = y->data<float>();
    if (k == 0) {  // empty reduction: y = act(beta * C)
      std::fill(yd, yd + m * n, 0.0f);
      epilogue_->apply(yd, n, m, n, bias, beta_);
      return Status::ok();
    }
    const float* ad = a.data<float>();
    const float* bd = b.data<float>();
    if (packed_.defined() && !trans_a_) {
      const TileEpilogueAdapter tile_epilogue(*epilogue_, bias, beta_);
      packed_.multiply(m, ad, k, alpha_, yd, n, &tile_epilogue);
      return Status::ok();
    }
    if (m == 1) {
      // A single row is a matrix-vector product: sgemv is several times faster than
      // sgemm with M = 1 in OpenBLAS. x = row 0 of op(A) is contiguous either way.
      // M >= 2 stays on sgemm: bench_fusion's BM_SmallM (784 -> 512, 1 thread, CPU
      // time) measured M = 2 as 110 us sgemm vs 49 us for two sgemv under
      // OPENBLAS_CORETYPE=Haswell, but 28 us vs 40 us with OpenBLAS's own AVX-512
      // kernels (a user's machine); from M = 4 sgemm is at least as fast in both.
      if (tb) {
        blas::sgemv(false, n, k, alpha_, bd, k, ad, 0.0f, yd);
      } else {
        blas::sgemv(true, k, n, alpha_, bd, n, ad, 0.0f, yd);
      }
      epilogue_->apply(yd, n, 1, n, bias, beta_);
      return Status::ok();
    }
    if (!trans_a_ && tb && m >= kSwapMinRows && m <= kSwapMaxRows && n >= kSwapMinCols) {
      // Y^T [n, m] = alpha * W [n, k] * X^T, X = A [m, k]. Per-thread scratch that
      // only grows: no allocation in steady state.
      thread_local std::vector<float> scratch;
      const size_t need = static_cast<size_t>(m * n);
      if (scratch.size() < need) scratch.resize(need);
      blas::sgemm(false, true, n, m, k, alpha_, bd, k, ad, k, 0.0f, scratch.data(), m);
      epilogue_->apply_transposed(scratch.data(), yd, m, n, bias, beta_);
      return Status::ok();
    }
    const int64_t lda = trans_a_ ? m : k;
    const int64_t ldb = tb ? k : n;
    const int64_t block = std::max(kMinBlockRows, kCacheBudgetBytes / static_cast<int64_t>(n * sizeof(float)));
    for (int64_t r0 = 0; r0 < m; r0 += block) {
      const int64_t rows = std::min(block, m - r0);
      // Rows r0.. of op(A): row offset in A, or column offset when A is transposed.
      const float* a_block = trans_a_ ? ad + r0 : ad + r0 * k;
      blas::sgemm(trans_a_, tb, rows, n, k, alpha_, a_block, lda, bd, ldb, 0.0f, yd + r0 * n, n);
      BiasView block_bias = bias;
      if (block_bias.data) block_bias.data += r0 * block_bias.row_stride;
      epilogue_->apply(yd + r0 * n, n, rows, n, block_bias, beta_);
    }
    return Status::ok();
  }

 private:
  // A constant B is used in place, in the layout the model stores it (PyTorch:
  // [N, K] with transB = 1), and never transposed by us, at build or per run: BLAS
  // reads either layout through its trans flag and packs B inside sgemm anyway.
  // Measured (784 -> 512, 1 thread, CPU time, OpenBLAS own kernels / Haswell):
  // M = 1 sgemv 22.5 us on [N, K] vs 25.5 us on [K, N]; M = 64 sgemm 380-440 us vs
  // 343-371 us; M = 256 within noise. A transposed copy would win ~5-10 % at
  // mid-size M only, and would double the weight memory of every transB layer
  // (issue 5 allows ~1.15x the weight bytes), so the view is the better trade.
  Status prepare_weights(const TensorInfo* b) {
    if (!b || !b->constant || b->constant->dtype() != DataType::kFloat || b->constant->rank() != 2) {
      return Status::ok();
    }
    weights_ = *b->constant;  // a view of the initializer: shared storage, no copy
    if (PackedWeights::enabled() && !trans_a_ && weights_.num_elements() > 0 &&
        static_cast<int64_t>(weights_.byte_size()) <= kMaxPackedWeightBytes) {
      const int64_t k = trans_b_ ? weights_.dim(1) : weights_.dim(0);
      const int64_t n = trans_b_ ? weights_.dim(0) : weights_.dim(1);
      packed_ = PackedWeights::pack(weights_.data<float>(), k, n, weights_.dim(1), trans_b_);
    }
    return Status::ok();
  }

  static Status bias_view(const Tensor& c, int64_t m, int64_t n, BiasView& view) {
    if (c.dtype() != DataType::kFloat) return bad_input("input 'C' must be float, got " + describe(c));
    const Shape& cs = c.shape();
    if (cs.size() > 2) return bad_input("input 'C' has rank " + std::to_string(cs.size()) + ", expected <= 2");
    const int64_t cm = cs.size() == 2 ? cs[0] : 1;
    const int64_t cn = cs.empty() ? 1 : cs.back();
    if ((cm != 1 && cm != m) || (cn != 1 && cn != n)) {
      return bad_input("input 'C' of shape " + shape_to_string(cs) + " does not broadcast to [" + std::to_string(m) +
                       ", " + std::to_string(n) + "]");
    }
    view.data = c.data<float>();
    view.row_stride = cm == 1 ? 0 : cn;
    view.col_stride = cn == 1 ? 0 : 1;
    return Status::ok();
  }

  float alpha_ = 1, beta_ = 1;
  bool trans_a_ = false, trans_b_ = false;
  Tensor weights_;  // constant B (a view of the initializer), or undefined when fed
  PackedWeights packed_;  // weights_ packed for ops/packed_gemm.h, when the CPU runs it
  std::unique_ptr<Epilogue> epilogue_;
};

Status infer_fused_gemm(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* a = node.input(0);
  const TensorInfo* b = node.input(1);
  OM_ASSIGN_OR_RETURN(int64_t ta, node.attrs().get_int("transA", 0));
  OM_ASSIGN_OR_RETURN(int64_t tb, node.attrs().get_int("transB", 0));
  OM_ASSIGN_OR_RETURN(std::string act, node.attrs().get_string("activation", ""));
  if (!act.empty() && !find_entry(act)) return unsupported("FusedGemm activation '" + act + "' is not supported");
  if (a->dtype != DataType::kFloat || b->dtype != DataType::kFloat) {
    return unsupported("FusedGemm runs on float, got A " + a->to_string() + " and B " + b->to_string());
  }
  outputs[0].dtype = DataType::kFloat;
  if (!a->has_shape || !b->has_shape) return Status::ok();
  if (b->dims.size() != 2 || a->dims.size() < 2 || (ta && a->dims.size() != 2)) {
    return invalid_model("FusedGemm needs a 2-D B and a 2-D A (N-D without transA), got A " + a->to_string() +
                         " and B " + b->to_string());
  }
  const Dim& k1 = ta ? a->dims[0] : a->dims.back();
  const Dim& k2 = b->dims[tb ? 1 : 0];
  if (k1.known() && k2.known() && k1.value != k2.value) {
    return invalid_model("inner dimensions differ: A " + a->to_string() + " and B " + b->to_string());
  }
  outputs[0].has_shape = true;
  if (ta) {
    outputs[0].dims = {a->dims[1]};
  } else {
    outputs[0].dims.assign(a->dims.begin(), a->dims.end() - 1);
  }
  outputs[0].dims.push_back(b->dims[tb ? 0 : 1]);
  return Status::ok();
}

}  // namespace

const FusedActivationInfo* find_fused_activation(const std::string& op_type) {
  const ActivationEntry* e = find_entry(op_type);
  return e ? &e->info : nullptr;
}

void register_fused_ops(OpRegistry& r) {
  r.add({"FusedGemm", kOnnxMiniDomain, 1, 2, 3, 1, 1,
         {"alpha", "beta", "transA", "transB", "activation", "activation_alpha", "activation_beta",
          "activation_gamma"},
         infer_fused_gemm, make_kernel<FusedGemm>()});
}

}  // namespace onnx_mini
