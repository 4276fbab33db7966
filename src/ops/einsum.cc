// Einsum (opset 12) on float and double (float16 and bfloat16 computed in
// float, ops/registry.h); every other type is refused at load (exit 4).
//
// The equation is parsed and lowered to a plan once at load (ops/einsum_plan.h)
// whenever the operands' ranks are known (an equation without '...' fixes
// them); only an operand with '...' whose rank the model leaves unknown makes
// a run plan for itself. A run then walks the plan's steps:
// - reduce: a strided walk over the source that sums the dropped labels in
//   double (diagonals are a stride sum) - transpose, sum, diagonal and trace;
// - contract: one batched GEMM [batch, M, K] x [batch, K, N]. An operand whose
//   labels are already in [batch, M, K] or [batch, K, M] order (and not
//   broadcast) is used in place, transposed or not, as attention's
//   "bhqd,bhkd->bhqk" and "bij,bjk->bik" are; others are first copied into
//   that order (broadcast dims repeated). Float runs on the packed micro-kernel
//   (ops/packed_gemm.h; B packed per batch, as batched MatMul does) or on
//   OpenBLAS, double on OpenBLAS's dgemm; their float error is GEMM's, a few
//   ulp of K * max |a * b|. Matrix-vector products (N = 1) are dot products
//   in double instead.
// Intermediates live in the node's per-run scratch, so a steady-state run
// allocates nothing.
#include <algorithm>
#include <array>
#include <optional>
#include <span>

#include "ops/blas.h"
#include "ops/einsum_plan.h"
#include "ops/packed_gemm.h"
#include "ops/parallel.h"
#include "ops/registry.h"
#include "ops/scratch.h"

namespace onnx_mini {
namespace {

// Distinct labels one term can have: every letter and every ellipsis dim.
constexpr int kMaxAxes = 52 + kMaxEllipsisDims;
// Operands, and the terms of a plan for that many: each input, its reduced
// form, one result per contraction and a final reduce. The dims of all the
// steps' results together (a plan needing more is refused at load).
constexpr size_t kMaxInputs = 32;
constexpr size_t kMaxTerms = 3 * kMaxInputs + 1;
constexpr size_t kMaxResultDims = 512;

// A strided walk over some labels: their sizes and the source's stride for each.
struct Walk {
  int rank = 0;
  std::array<int64_t, kMaxAxes> dim{}, stride{};
  void add(int64_t d, int64_t s) {
    dim[static_cast<size_t>(rank)] = d;
    stride[static_cast<size_t>(rank)] = s;
    ++rank;
  }
  int64_t count() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= dim[static_cast<size_t>(i)];
    return n;
  }
};

// Advances the multi-index `at` of `w` by one, keeping `offset` its source offset.
inline void step_walk(const Walk& w, std::array<int64_t, kMaxAxes>& at, int64_t& offset, int first_axis) {
  for (int d = first_axis; d-- > 0;) {
    const size_t i = static_cast<size_t>(d);
    offset += w.stride[i];
    if (++at[i] < w.dim[i]) return;
    offset -= w.stride[i] * w.dim[i];
    at[i] = 0;
  }
}

// Sum of n contiguous values in double, over eight partial sums (which the
// compiler vectorises: one running sum would serialise on the add latency).
template <typename T>
double sum_contiguous(const T* p, int64_t n) {
  double partial[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) partial[j] += static_cast<double>(p[i + j]);
  }
  double total = 0;
  for (; i < n; ++i) total += static_cast<double>(p[i]);
  for (double v : partial) total += v;
  return total;
}

// Sum of src over every index of `sum` (innermost axis in a tight loop).
template <typename T>
double sum_walk(const T* src, const Walk& sum) {
  const size_t last = static_cast<size_t>(sum.rank - 1);
  const int64_t inner = sum.dim[last], inner_stride = sum.stride[last];
  const int64_t outer = inner ? sum.count() / inner : 0;
  std::array<int64_t, kMaxAxes> at{};
  int64_t offset = 0;
  double total = 0;
  for (int64_t o = 0; o < outer; ++o) {
    const T* p = src + offset;
    if (inner_stride == 1) {
      total += sum_contiguous(p, inner);
    } else {
      for (int64_t i = 0; i < inner; ++i) total += static_cast<double>(p[i * inner_stride]);
    }
    step_walk(sum, at, offset, sum.rank - 1);
  }
  return total;
}

// dst (contiguous over `keep`) = src summed over `sum` (a copy when sum is
// empty). keep's last axis runs in a tight loop.
template <typename T>
void strided_reduce(const T* src, T* dst, const Walk& keep, const Walk& sum) {
  if (keep.rank == 0) {
    dst[0] = sum.rank == 0 ? src[0] : static_cast<T>(sum_walk(src, sum));
    return;
  }
  const size_t last = static_cast<size_t>(keep.rank - 1);
  const int64_t inner = keep.dim[last], inner_stride = keep.stride[last];
  const int64_t outer = inner ? keep.count() / inner : 0;
  std::array<int64_t, kMaxAxes> at{};
  int64_t offset = 0;
  for (int64_t o = 0; o < outer; ++o, dst += inner) {
    const T* p = src + offset;
    if (sum.rank == 0) {
      for (int64_t i = 0; i < inner; ++i) dst[i] = p[i * inner_stride];
    } else {
      for (int64_t i = 0; i < inner; ++i) dst[i] = static_cast<T>(sum_walk(p + i * inner_stride, sum));
    }
    step_walk(keep, at, offset, keep.rank - 1);
  }
}

// ---- Terms at run time ----------------------------------------------------

// A term at run time: its data, dims and labels (one per axis, may repeat
// for an input). Data pointers, not Tensor pointers: a scratch Tensor may move
// when the node asks for another scratch index; its buffer does not.
struct TermView {
  const void* data = nullptr;
  const int64_t* dims = nullptr;
  const std::vector<int>* labels = nullptr;

  template <typename T>
  const T* as() const { return static_cast<const T*>(data); }
  // The dim of label l (1 when the term lacks it).
  int64_t dim(int l) const {
    for (size_t a = 0; a < labels->size(); ++a) {
      if ((*labels)[a] == l) return dims[a];
    }
    return 1;
  }
  // The stride that steps label l by one: the sum over its axes (a diagonal).
  // 0 when the term lacks it or broadcasts it (dim 1 against `size`).
  int64_t stride(int l, int64_t size) const {
    int64_t s = 0, step = 1;
    for (size_t a = labels->size(); a-- > 0;) {
      if ((*labels)[a] == l && !(dims[a] == 1 && size != 1)) s += step;
      step *= dims[a];
    }
    return s;
  }
};

// One label's dim across two operands (label_sizes checked they agree):
// a 1 (or an absent label) takes the other's, a 0 stays 0.
int64_t broadcast(int64_t x, int64_t y) { return x == 1 ? y : x; }

// The views of every term of a plan, and the dims of the steps' results.
struct TermViews {
  std::array<TermView, kMaxTerms> term;
  std::array<int64_t, kMaxResultDims> dims;
  size_t dims_used = 0;
};

// Label sizes of all inputs, numpy's broadcasting (1 against n) across
// operands, equal dims within one operand's diagonal. kMaxLabels entries.
using LabelSizes = std::array<int64_t, kMaxLabels>;

Status label_sizes(KernelContext& ctx, const EinsumPlan& plan, LabelSizes& size) {
  size.fill(-1);
  for (int i = 0; i < plan.num_inputs; ++i) {
    const std::vector<int>& labels = plan.terms[static_cast<size_t>(i)];
    const Tensor& t = *ctx.input(i);
    LabelSizes own;
    own.fill(-1);
    for (size_t a = 0; a < labels.size(); ++a) {
      const size_t l = static_cast<size_t>(labels[a]);
      const int64_t d = t.dim(static_cast<int64_t>(a));
      if (own[l] >= 0 && own[l] != d) {
        return bad_input("input " + std::to_string(i) + " " + describe(t) + ": a repeated label needs equal dims, got " +
                         std::to_string(own[l]) + " and " + std::to_string(d));
      }
      own[l] = d;
      if (size[l] >= 0 && size[l] != d && size[l] != 1 && d != 1) {
        return bad_input("input " + std::to_string(i) + " " + describe(t) + ": dim " + std::to_string(d) +
                         " does not match " + std::to_string(size[l]) + " of the same label in an earlier input");
      }
      size[l] = size[l] < 0 || size[l] == 1 ? d : size[l];
    }
  }
  return Status::ok();
}

// ---- Batched GEMM ---------------------------------------------------------

struct GemmShape {
  int64_t batch, m, n, k;
  bool trans_a, trans_b;
};

template <typename T>
void gemm_blas(const GemmShape& g, const T* a, const T* b, T* y) {
  const int64_t lda = g.trans_a ? g.m : g.k, ldb = g.trans_b ? g.k : g.n;
  if constexpr (std::is_same_v<T, float>) blas::sgemm(g.trans_a, g.trans_b, g.m, g.n, g.k, 1.f, a, lda, b, ldb, 0.f, y, g.n);
  else blas::dgemm(g.trans_a, g.trans_b, g.m, g.n, g.k, 1.0, a, lda, b, ldb, 0.0, y, g.n);
}

// One batch on the packed micro-kernel: B packed into the thread's scratch.
void gemm_packed(const GemmShape& g, const float* a, const float* b, float* y, ThreadPool* pool) {
  float* storage = thread_scratch(ScratchSlot::kPackedB, PackedPanels::floats_needed(g.k, g.n));
  PackedPanels::pack(b, g.k, g.n, g.trans_b ? g.k : g.n, g.trans_b, storage).multiply(g.m, a, g.k, 1.f, y, g.n, nullptr, pool);
}

// A batch of matrix-vector products (N = 1, as bilinear's last step
// "bam,bm->ba"): a dot product per row, in double. A GEMM call per batch
// would spend more on packing and dispatch than on the k multiply-adds.
template <typename T>
void batched_gemv(const GemmShape& g, const T* a, const T* b, T* y) {
  const int64_t row_step = g.trans_a ? 1 : g.k, col_step = g.trans_a ? g.m : 1;
  for (int64_t i = 0; i < g.batch; ++i) {
    const T* ai = a + i * g.m * g.k;
    const T* bi = b + i * g.k;  // [k, 1] and [1, k] are the same k values
    for (int64_t r = 0; r < g.m; ++r) {
      double total = 0;
      for (int64_t c = 0; c < g.k; ++c) total += static_cast<double>(ai[r * row_step + c * col_step]) * bi[c];
      y[i * g.m + r] = static_cast<T>(total);
    }
  }
}

template <typename T>
void batched_gemm(const GemmShape& g, const T* a, const T* b, T* y, ThreadPool* pool) {
  if (g.batch * g.m * g.n == 0) return;
  if (g.k == 0) {
    std::fill(y, y + g.batch * g.m * g.n, T(0));
    return;
  }
  if (g.n == 1) return batched_gemv(g, a, b, y);
  const int64_t a_size = g.m * g.k, b_size = g.k * g.n, y_size = g.m * g.n;
  bool packed = false;
  if constexpr (std::is_same_v<T, float>) packed = !g.trans_a && PackedWeights::enabled();
  if (packed && g.batch == 1) {
    if constexpr (std::is_same_v<T, float>) gemm_packed(g, a, b, y, pool);
    return;
  }
  for_each_task(pool, g.batch, [&](int64_t i) {
    if constexpr (std::is_same_v<T, float>) {
      if (packed) return gemm_packed(g, a + i * a_size, b + i * b_size, y + i * y_size, nullptr);
    }
    gemm_blas(g, a + i * a_size, b + i * b_size, y + i * y_size);
  });
}

// ---- The kernel -----------------------------------------------------------

Result<EinsumEquation> equation_of(const NodeInfo& node);

// The plan fits the run's fixed-size views (kMaxTerms, kMaxResultDims).
Status check_plan_size(const EinsumPlan& plan) {
  size_t dims = 0;
  for (size_t t = static_cast<size_t>(plan.num_inputs); t < plan.terms.size(); ++t) dims += plan.terms[t].size();
  if (plan.terms.size() <= kMaxTerms && dims <= kMaxResultDims) return Status::ok();
  return unsupported("the equation's plan has " + std::to_string(dims) + " result dims (at most " +
                     std::to_string(kMaxResultDims) + ")");
}

class Einsum final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(equation_, equation_of(node));
    std::vector<int64_t> ranks;
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const TensorInfo* t = node.input(i);
      if (t && t->has_shape) ranks.push_back(static_cast<int64_t>(t->dims.size()));
      else if (!equation_.has_ellipsis) ranks.push_back(static_cast<int64_t>(equation_.inputs[i].size()));
    }
    if (ranks.size() == node.inputs.size()) {
      OM_ASSIGN_OR_RETURN(plan_, plan_einsum(equation_, ranks));
      OM_RETURN_IF_ERROR(check_plan_size(*plan_));
    }
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    const DataType dtype = ctx.input(0)->dtype();
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      const Tensor& t = *ctx.input(i);
      if (t.dtype() != dtype) return bad_input("input " + std::to_string(i) + " is " + describe(t) + ", input 0 " + dtype_name(dtype));
    }
    if (dtype != DataType::kFloat && dtype != DataType::kDouble) return unsupported("Einsum on " + dtype_name(dtype));
    std::optional<EinsumPlan> own;
    const EinsumPlan* plan = plan_ ? &*plan_ : nullptr;
    OM_RETURN_IF_ERROR(check_ranks(ctx, plan, own));
    if (!plan) plan = &*own;
    return dtype == DataType::kFloat ? execute<float>(ctx, *plan) : execute<double>(ctx, *plan);
  }

 private:
  // Checks the fed ranks against the plan; without one (an ellipsis of rank
  // unknown at load), makes one for these ranks.
  Status check_ranks(KernelContext& ctx, const EinsumPlan* plan, std::optional<EinsumPlan>& own) const {
    if (plan) {
      for (int i = 0; i < ctx.num_inputs(); ++i) {
        if (static_cast<size_t>(ctx.input(i)->rank()) != plan->terms[static_cast<size_t>(i)].size()) {
          return bad_input("input " + std::to_string(i) + " is " + describe(*ctx.input(i)) + "; the equation wants rank " +
                           std::to_string(plan->terms[static_cast<size_t>(i)].size()));
        }
      }
      return Status::ok();
    }
    std::vector<int64_t> ranks;
    for (int i = 0; i < ctx.num_inputs(); ++i) ranks.push_back(ctx.input(i)->rank());
    auto made = plan_einsum(equation_, ranks);
    if (!made.is_ok()) return bad_input(made.status().message());
    own = std::move(made).value();
    return check_plan_size(*own);
  }

  template <typename T>
  Status execute(KernelContext& ctx, const EinsumPlan& plan) const {
    LabelSizes size;
    OM_RETURN_IF_ERROR(label_sizes(ctx, plan, size));
    TermViews views;
    for (int i = 0; i < plan.num_inputs; ++i) {
      const Tensor& t = *ctx.input(i);
      views.term[static_cast<size_t>(i)] = {t.raw_data(), t.shape().data(), &plan.terms[static_cast<size_t>(i)]};
    }
    for (size_t s = 0; s < plan.steps.size(); ++s) {
      const EinsumStep& step = plan.steps[s];
      const int dst = step.contract ? step.contraction.dst : step.reduce.dst;
      OM_ASSIGN_OR_RETURN(void* out, result_storage(ctx, plan, dst, step, views));
      if (step.contract) {
        OM_RETURN_IF_ERROR(contract<T>(ctx, plan, step.contraction, views, static_cast<T*>(out), s));
      } else {
        reduce<T>(views.term[static_cast<size_t>(step.reduce.src)], views.term[static_cast<size_t>(dst)], static_cast<T*>(out));
      }
    }
    return Status::ok();
  }

  // The storage a step writes, its dims recorded in `views`: the output for
  // the last term, else the node's scratch.
  Result<void*> result_storage(KernelContext& ctx, const EinsumPlan& plan, int dst, const EinsumStep& step,
                               TermViews& views) const {
    const std::vector<int>& labels = plan.terms[static_cast<size_t>(dst)];
    int64_t* dims = views.dims.data() + views.dims_used;
    views.dims_used += labels.size();
    for (size_t a = 0; a < labels.size(); ++a) dims[a] = result_dim(views, step, labels[a]);
    views.term[static_cast<size_t>(dst)] = {nullptr, dims, &labels};
    const std::span<const int64_t> shape(dims, labels.size());
    const DataType dtype = ctx.input(0)->dtype();
    Tensor* out = nullptr;
    if (static_cast<size_t>(dst) + 1 == plan.terms.size()) {
      OM_ASSIGN_OR_RETURN(out, ctx.output_dims(0, shape, dtype));
    } else {
      OM_ASSIGN_OR_RETURN(out, ctx.scratch(dst - plan.num_inputs, shape, dtype));
    }
    views.term[static_cast<size_t>(dst)].data = out->raw_data();
    return out->raw_data();
  }

  // A result's dim of label l: the source's for a reduce, the broadcast of
  // both operands' for a contraction.
  static int64_t result_dim(const TermViews& views, const EinsumStep& step, int l) {
    if (!step.contract) return views.term[static_cast<size_t>(step.reduce.src)].dim(l);
    return broadcast(views.term[static_cast<size_t>(step.contraction.a)].dim(l),
                     views.term[static_cast<size_t>(step.contraction.b)].dim(l));
  }

  template <typename T>
  void reduce(const TermView& src, const TermView& dst, T* out) const {
    const std::vector<int>& dst_labels = *dst.labels;
    Walk keep, sum;
    for (int l : dst_labels) keep.add(src.dim(l), src.stride(l, src.dim(l)));
    for (size_t a = 0; a < src.labels->size(); ++a) {
      const int l = (*src.labels)[a];
      const auto begin = src.labels->begin(), here = begin + static_cast<std::ptrdiff_t>(a);
      const bool first = std::find(begin, here, l) == here;
      if (first && std::find(dst_labels.begin(), dst_labels.end(), l) == dst_labels.end()) {
        sum.add(src.dim(l), src.stride(l, src.dim(l)));
      }
    }
    if (sum.count() == 0) {
      std::fill(out, out + keep.count(), T(0));
      return;
    }
    strided_reduce(src.as<T>(), out, keep, sum);
  }

  // An operand of a contraction in [batch, x, y] (trans: [batch, y, x]) order:
  // in place when its labels already are and nothing broadcasts, else copied
  // into scratch `slot` as [batch, x, y].
  template <typename T>
  Result<const T*> gemm_operand(KernelContext& ctx, const TermView& t, const std::vector<int>& batch,
                                const std::vector<int>& x, const std::vector<int>& y, const LabelSizes& dims,
                                int slot, bool& trans) const {
    const std::vector<int>& labels = *t.labels;
    bool broadcast = false;
    for (int l : labels) broadcast = broadcast || t.dim(l) != dims[static_cast<size_t>(l)];
    const size_t nb = batch.size(), nx = x.size();
    auto same = [&](size_t at, const std::vector<int>& g) { return std::equal(g.begin(), g.end(), labels.begin() + static_cast<std::ptrdiff_t>(at)); };
    trans = false;
    if (!broadcast && labels.size() == nb + nx + y.size() && same(0, batch)) {
      if (same(nb, x) && same(nb + nx, y)) return t.as<T>();
      trans = same(nb, y) && same(nb + y.size(), x);
      if (trans) return t.as<T>();
    }
    Walk walk;
    std::array<int64_t, kMaxAxes> shape{};
    for (const std::vector<int>* g : {&batch, &x, &y}) {
      for (int l : *g) {
        shape[static_cast<size_t>(walk.rank)] = dims[static_cast<size_t>(l)];
        walk.add(dims[static_cast<size_t>(l)], t.stride(l, dims[static_cast<size_t>(l)]));
      }
    }
    OM_ASSIGN_OR_RETURN(Tensor * copy, ctx.scratch(slot, std::span<const int64_t>(shape.data(), static_cast<size_t>(walk.rank)), dtype_of<T>()));
    strided_reduce(t.as<T>(), copy->data<T>(), walk, Walk{});
    return static_cast<const T*>(copy->data<T>());
  }

  template <typename T>
  Status contract(KernelContext& ctx, const EinsumPlan& plan, const EinsumContract& c,
                  const TermViews& views, T* out, size_t step) const {
    const TermView& a = views.term[static_cast<size_t>(c.a)];
    const TermView& b = views.term[static_cast<size_t>(c.b)];
    // This contraction's label sizes: both operands broadcast.
    LabelSizes dims;
    dims.fill(1);
    GemmShape g{1, 1, 1, 1, false, false};
    for (const auto& [group, extent] : {std::pair{&c.batch, &g.batch}, {&c.m, &g.m}, {&c.n, &g.n}, {&c.k, &g.k}}) {
      for (int l : *group) {
        dims[static_cast<size_t>(l)] = broadcast(a.dim(l), b.dim(l));
        *extent *= dims[static_cast<size_t>(l)];
      }
    }
    if (g.batch * g.m * g.n == 0) return Status::ok();
    const int copies = static_cast<int>(plan.terms.size()) - plan.num_inputs + 2 * static_cast<int>(step);
    OM_ASSIGN_OR_RETURN(const T* pa, gemm_operand<T>(ctx, a, c.batch, c.m, c.k, dims, copies, g.trans_a));
    OM_ASSIGN_OR_RETURN(const T* pb, gemm_operand<T>(ctx, b, c.batch, c.k, c.n, dims, copies + 1, g.trans_b));
    batched_gemm<T>(g, pa, pb, out, ctx.thread_pool());
    return Status::ok();
  }

  EinsumEquation equation_;
  std::optional<EinsumPlan> plan_;
};

// ---- Load-time checks and shape inference ---------------------------------

bool einsum_type(DataType t) {
  return t == DataType::kFloat || t == DataType::kDouble || t == DataType::kFloat16 || t == DataType::kBFloat16;
}

Result<EinsumEquation> equation_of(const NodeInfo& node) {
  if (!node.attrs().has("equation")) return invalid_model("attribute 'equation' is required");
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    if (!node.input(i)) return invalid_model("input " + std::to_string(i) + " is absent: every operand is required");
  }
  if (node.inputs.size() > kMaxInputs) {
    return unsupported(std::to_string(node.inputs.size()) + " operands (at most " + std::to_string(kMaxInputs) + ")");
  }
  OM_ASSIGN_OR_RETURN(std::string equation, node.attrs().get_string("equation", ""));
  return parse_einsum(equation, node.inputs.size());
}

Status check_types(const NodeInfo& node, DataType& dtype) {
  dtype = DataType::kUndefined;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const DataType t = node.input(i)->dtype;
    if (t == DataType::kUndefined) continue;
    if (!einsum_type(t)) {
      return unsupported("input " + std::to_string(i) + " is " + dtype_name(t) +
                         "; onnx-mini runs Einsum on float, double, float16 and bfloat16");
    }
    if (dtype != DataType::kUndefined && t != dtype) {
      return invalid_model("input " + std::to_string(i) + " is " + dtype_name(t) + ", an earlier input " + dtype_name(dtype));
    }
    dtype = t;
  }
  return Status::ok();
}

// The dim each label takes, numpy's broadcasting across operands (a known
// dim other than 1 wins; with none, an unknown one leaves it unknown); a
// conflict between known dims is an invalid model.
Status infer_label_dims(const NodeInfo& node, const EinsumPlan& plan, std::vector<Dim>& dims) {
  dims.assign(kMaxLabels, Dim{1, ""});
  std::vector<bool> unknown(kMaxLabels, false);
  for (int i = 0; i < plan.num_inputs; ++i) {
    const TensorInfo& t = *node.input(static_cast<size_t>(i));
    const std::vector<int>& labels = plan.terms[static_cast<size_t>(i)];
    for (size_t a = 0; a < labels.size(); ++a) {
      const Dim& d = t.dims[a];
      // The same label earlier in this operand (a diagonal) must match exactly.
      for (size_t e = 0; e < a; ++e) {
        const Dim& other = t.dims[e];
        if (labels[e] == labels[a] && d.known() && other.known() && d.value != other.value) {
          return invalid_model("input " + std::to_string(i) + " " + t.to_string() + ": a repeated label needs equal dims, got " +
                               std::to_string(other.value) + " and " + std::to_string(d.value));
        }
      }
      Dim& have = dims[static_cast<size_t>(labels[a])];
      if (!d.known()) {
        if (!unknown[static_cast<size_t>(labels[a])] && have.value == 1) have = d;  // keeps a symbolic name
        unknown[static_cast<size_t>(labels[a])] = true;
      } else if (d.value != 1) {
        if (have.known() && have.value != 1 && have.value != d.value) {
          return invalid_model("input " + std::to_string(i) + " " + t.to_string() + ": dim " + std::to_string(d.value) +
                               " does not match " + std::to_string(have.value) + " of the same label in an earlier input");
        }
        have = d;
      }
    }
  }
  return Status::ok();
}

Status infer_einsum(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_ASSIGN_OR_RETURN(EinsumEquation eq, equation_of(node));
  OM_RETURN_IF_ERROR(check_types(node, outputs[0].dtype));
  std::vector<int64_t> ranks;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    if (!node.input(i)->has_shape) return Status::ok();  // rank unknown: so is the output's
    ranks.push_back(static_cast<int64_t>(node.input(i)->dims.size()));
  }
  OM_ASSIGN_OR_RETURN(EinsumPlan plan, plan_einsum(eq, ranks));
  std::vector<Dim> dims;
  OM_RETURN_IF_ERROR(infer_label_dims(node, plan, dims));
  outputs[0].has_shape = true;
  outputs[0].dims.clear();
  for (int l : plan.terms.back()) outputs[0].dims.push_back(dims[static_cast<size_t>(l)]);
  return Status::ok();
}

}  // namespace

void register_einsum_ops(OpRegistry& r) {
  r.add({.op_type = "Einsum", .since_version = 12, .min_inputs = 1, .max_inputs = kVariadic,
         .attributes = {"equation"}, .infer = infer_einsum, .create = make_kernel<Einsum>()});
}

}  // namespace onnx_mini
