// com.onnx_mini.FusedAttention (opset 1): what FuseAttention makes of the
// scaled dot-product attention exporters write,
//   S = MatMul(Q, Kt);  S = S * scale (or S / scale);
//   S = S + Mask (a float Mask) or S = Where(Mask, S, fill) / Where(Mask, fill, S)
//   (a bool Mask, as masked_fill exports);
//   P = Softmax(S) over the last axis;  Y = MatMul(P, V)
// Q [..., M, K], Kt [..., K, N], V [..., No, Dv]; the optional Mask broadcasts
// with S as numpy's (usually onto it; where S has one row or one column and
// the Mask more, S is broadcast to Mo rows and No columns first, as the Add
// does); the batch dims of all four broadcast. Y is [batch..., Mo, Dv].
// Attributes: `scale` (default 1) and `scale_divides` (0: S * scale, 1:
// S / scale, as the exported Div); with a bool Mask, `mask_fill` (the value
// written where the mask says so) and `mask_keeps` (1: Where(Mask, S, fill),
// scores kept where the Mask is true; 0: Where(Mask, fill, S), filled there).
//
// One task per batch matrix: its scores [M, N] live in per-thread scratch and
// are scaled, masked and normalised row by row while in cache, instead of a
// [batch, M, N] tensor written by one kernel and read back by three more. Each
// step does the float operations of the op it replaces, in the same order (the
// products on the packed kernel with the right operand packed per run, as the
// batched MatMul does; Softmax's own row function), so the fused node's output
// equals the unfused chain's bit for bit.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "ops/batched_matmul.h"
#include "ops/blas.h"
#include "ops/broadcast.h"  // DimScratch
#include "ops/packed_gemm.h"
#include "ops/parallel.h"
#include "ops/registry.h"
#include "ops/scratch.h"
#include "ops/softmax_row.h"

namespace onnx_mini {
namespace {

// Batch rank at most this many dims (attention's are 1 or 2): dims on the stack.
constexpr size_t kMaxBatchRank = 8;

// The batch dims (all but the last two) of an operand, right-aligned to the
// broadcast batch; an operand of rank < 2 (a Mask) has none.
std::span<const int64_t> batch_dims(const Shape& s) {
  return std::span<const int64_t>(s).first(s.size() >= 2 ? s.size() - 2 : 0);
}

struct AttentionShape {
  int64_t m, k, n, dv;
  int64_t mask_rows, mask_cols;
  int64_t mo, no;  // the masked scores' rows and columns: m and n broadcast with the Mask's
  int64_t batch[kMaxBatchRank];
  size_t batch_rank;
  int64_t count;  // batch matrices
};

// Broadcasts `in` (right-aligned) into s.batch; false when a dim conflicts.
bool broadcast_into(AttentionShape& s, std::span<const int64_t> in) {
  for (size_t i = 1; i <= in.size(); ++i) {
    int64_t& out = s.batch[s.batch_rank - i];
    const int64_t d = in[in.size() - i];
    if (out == 1) {
      out = d;
    } else if (d != 1 && d != out) {
      return false;
    }
  }
  return true;
}

Result<AttentionShape> attention_shape(const Tensor& q, const Tensor& kt, const Tensor& v, const Tensor* mask) {
  if (q.rank() < 2 || kt.rank() < 2 || v.rank() < 2) return bad_input("Q, Kt and V must have rank >= 2");
  AttentionShape s{};
  s.m = q.dim(q.rank() - 2), s.k = q.dim(q.rank() - 1);
  s.n = kt.dim(kt.rank() - 1), s.dv = v.dim(v.rank() - 1);
  const Shape empty;
  const Shape& ms = mask ? mask->shape() : empty;
  s.mask_rows = ms.size() >= 2 ? ms[ms.size() - 2] : 1;
  s.mask_cols = ms.empty() ? 1 : ms.back();
  auto broadcast = [](int64_t a, int64_t b) { return a == 1 ? b : b == 1 || b == a ? a : int64_t{-1}; };
  s.mo = broadcast(s.m, s.mask_rows), s.no = broadcast(s.n, s.mask_cols);
  if (s.mo < 0 || s.no < 0) {
    return bad_input("Mask " + describe(*mask) + " does not broadcast with the scores [" + std::to_string(s.m) +
                     ", " + std::to_string(s.n) + "]");
  }
  if (kt.dim(kt.rank() - 2) != s.k || v.dim(v.rank() - 2) != s.no) {
    return bad_input("inner dimensions differ: Q " + describe(q) + ", Kt " + describe(kt) + ", V " + describe(v));
  }
  for (const Shape* t : {&q.shape(), &kt.shape(), &v.shape(), &ms}) {
    s.batch_rank = std::max(s.batch_rank, batch_dims(*t).size());
  }
  if (s.batch_rank > kMaxBatchRank) return unsupported("more than 8 batch dims");
  std::fill(s.batch, s.batch + s.batch_rank, int64_t{1});
  for (const Shape* t : {&q.shape(), &kt.shape(), &v.shape(), &ms}) {
    if (!broadcast_into(s, batch_dims(*t))) return bad_input("the batch dims of Q, Kt, V and Mask do not broadcast");
  }
  s.count = 1;
  for (size_t d = 0; d < s.batch_rank; ++d) s.count *= s.batch[d];
  return s;
}

// How the Mask enters the scores: added (float), or selecting between the
// scores and a fill value (bool, the Where form).
struct MaskForm {
  bool selects = false;
  bool keeps = false;  // selects: a true mask element keeps the score
  float fill = 0.0f;
};

struct AttentionJob {
  const AttentionShape& s;
  const Tensor &q, &kt, &v;
  const Tensor* mask;
  float* y;
  float scale;
  bool divides, packed;
  MaskForm form;
};

// y [m, n] = a [m, k] * b [k, n], each dense: on the packed kernel with b
// packed into the calling thread's scratch slot, else OpenBLAS.
void product(const AttentionJob& job, const float* a, const float* b, float* y, int64_t m, int64_t n, int64_t k,
             ScratchSlot slot) {
  if (m * n == 0) return;
  if (k == 0) {
    std::fill(y, y + m * n, 0.0f);
  } else if (job.packed) {
    matmul_packed_per_run(a, b, y, m, n, k, slot, nullptr);
  } else {
    blas::sgemm(false, false, m, n, k, 1.0f, a, k, b, n, 0.0f, y, n);
  }
}

// Row i of the scores: scaled, masked (`mask` at the row's first element,
// `mask_step` 0 when one value serves the row), normalised in place.
template <typename MaskT>
void finish_row(const AttentionJob& job, float* row, const MaskT* mask, int64_t mask_step) {
  const int64_t n = job.s.no;
  if (job.divides) {
    for (int64_t j = 0; j < n; ++j) row[j] = row[j] / job.scale;
  } else if (job.scale != 1.0f) {
    for (int64_t j = 0; j < n; ++j) row[j] = row[j] * job.scale;
  }
  if constexpr (std::is_same_v<MaskT, bool>) {
    if (mask) {
      const bool keeps = job.form.keeps;
      for (int64_t j = 0; j < n; ++j) row[j] = mask[j * mask_step] == keeps ? row[j] : job.form.fill;
    }
  } else {
    if (mask) {
      for (int64_t j = 0; j < n; ++j) row[j] = row[j] + mask[j * mask_step];
    }
  }
  softmax_row(row, row, n);
}

// The scores [m, n] repeated to [mo, no] (a row or a column of one), in scratch.
float* broadcast_scores(const AttentionShape& s, const float* scores) {
  float* out = thread_scratch(ScratchSlot::kScoresBroadcast, s.mo * s.no);
  for (int64_t i = 0; i < s.mo; ++i) {
    const float* row = scores + (s.m == 1 ? 0 : i) * s.n;
    for (int64_t j = 0; j < s.no; ++j) out[i * s.no + j] = row[s.n == 1 ? 0 : j];
  }
  return out;
}

void attend(const AttentionJob& job, int64_t index) {
  const AttentionShape& s = job.s;
  const std::span<const int64_t> batch(s.batch, s.batch_rank);
  const float* q = job.q.data<float>() + broadcast_batch_offset(batch_dims(job.q.shape()), batch, index) * s.m * s.k;
  const float* kt = job.kt.data<float>() + broadcast_batch_offset(batch_dims(job.kt.shape()), batch, index) * s.k * s.n;
  const float* v = job.v.data<float>() + broadcast_batch_offset(batch_dims(job.v.shape()), batch, index) * s.no * s.dv;
  float* scores = thread_scratch(ScratchSlot::kScores, s.m * s.n);
  product(job, q, kt, scores, s.m, s.n, s.k, ScratchSlot::kPackedB);
  if (s.mo != s.m || s.no != s.n) scores = broadcast_scores(s, scores);
  const int64_t mask_offset =
      job.mask ? broadcast_batch_offset(batch_dims(job.mask->shape()), batch, index) * s.mask_rows * s.mask_cols : 0;
  const int64_t mask_row_step = s.mask_rows == 1 ? 0 : s.mask_cols, mask_step = s.mask_cols == 1 ? 0 : 1;
  if (job.mask && job.form.selects) {
    const bool* mask = job.mask->data<bool>() + mask_offset;
    for (int64_t i = 0; i < s.mo; ++i) finish_row(job, scores + i * s.no, mask + i * mask_row_step, mask_step);
  } else {
    const float* mask = job.mask ? job.mask->data<float>() + mask_offset : nullptr;
    for (int64_t i = 0; i < s.mo; ++i) {
      finish_row(job, scores + i * s.no, mask ? mask + i * mask_row_step : nullptr, mask_step);
    }
  }
  product(job, scores, v, job.y + index * s.mo * s.dv, s.mo, s.dv, s.no, ScratchSlot::kPackedB);
}

class FusedAttention final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(scale_, node.attrs().get_float("scale", 1.0f));
    OM_ASSIGN_OR_RETURN(int64_t divides, node.attrs().get_int("scale_divides", 0));
    if (divides != 0 && divides != 1) return invalid_model("scale_divides must be 0 or 1");
    divides_ = divides == 1;
    OM_ASSIGN_OR_RETURN(form_, mask_form(node));
    packed_ = PackedWeights::enabled();
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    const Tensor &q = *ctx.input(0), &kt = *ctx.input(1), &v = *ctx.input(2);
    const Tensor* mask = ctx.num_inputs() > 3 ? ctx.input(3) : nullptr;
    for (const Tensor* t : {&q, &kt, &v}) {
      if (t->dtype() != DataType::kFloat) return unsupported("FusedAttention on " + dtype_name(t->dtype()));
    }
    if (mask && mask->dtype() != (form_.selects ? DataType::kBool : DataType::kFloat)) {
      return bad_input("FusedAttention's Mask is " + dtype_name(mask->dtype()) + ", expected " +
                       (form_.selects ? "bool (mask_keeps is set)" : "float (no mask_keeps)"));
    }
    OM_ASSIGN_OR_RETURN(AttentionShape s, attention_shape(q, kt, v, mask));
    DimScratch dims(s.batch_rank + 2);
    std::copy(s.batch, s.batch + s.batch_rank, dims.data());
    dims.data()[s.batch_rank] = s.mo;
    dims.data()[s.batch_rank + 1] = s.dv;
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output_dims(0, dims.span(), DataType::kFloat));
    if (s.count * s.mo * s.dv == 0) return Status::ok();
    const AttentionJob job{s, q, kt, v, mask, y->data<float>(), scale_, divides_, packed_, form_};
    for_each_task(ctx.thread_pool(), s.count, [&job](int64_t i) { attend(job, i); });
    return Status::ok();
  }

 private:
  // A bool Mask selects (mask_keeps and mask_fill both given), a float one adds.
  static Result<MaskForm> mask_form(const NodeInfo& node) {
    MaskForm form;
    const bool has_keeps = node.attrs().find("mask_keeps"), has_fill = node.attrs().find("mask_fill");
    if (has_keeps != has_fill) return invalid_model("mask_keeps and mask_fill go together");
    if (!has_keeps) return form;
    OM_ASSIGN_OR_RETURN(int64_t keeps, node.attrs().get_int("mask_keeps", 0));
    if (keeps != 0 && keeps != 1) return invalid_model("mask_keeps must be 0 or 1");
    OM_ASSIGN_OR_RETURN(form.fill, node.attrs().get_float("mask_fill", 0.0f));
    form.selects = true;
    form.keeps = keeps == 1;
    return form;
  }

  float scale_ = 1.0f;
  bool divides_ = false, packed_ = false;
  MaskForm form_;
};

// Y: the broadcast batch of all four inputs, then [Mo, Dv].
Status infer_attention(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const bool selects = node.attrs().find("mask_keeps");
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const DataType want = i == 3 && selects ? DataType::kBool : DataType::kFloat;
    if (node.input(i) && node.input(i)->dtype != want) {
      return invalid_model(i == 3 ? "FusedAttention's Mask must be " + dtype_name(want) +
                                        (selects ? " (mask_keeps is set)" : " (no mask_keeps)")
                                  : std::string("FusedAttention takes float Q, Kt and V only"));
    }
  }
  outputs[0].dtype = DataType::kFloat;
  std::vector<Dim> batch;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const TensorInfo* t = node.input(i);
    if (!t) continue;
    if (!t->has_shape) return Status::ok();
    if (i < 3 && t->dims.size() < 2) return invalid_model("Q, Kt and V must have rank >= 2");
    const std::vector<Dim> b(t->dims.begin(), t->dims.end() - std::min<size_t>(2, t->dims.size()));
    OM_ASSIGN_OR_RETURN(batch, broadcast_dims(batch, b));
  }
  const TensorInfo &q = *node.input(0), &v = *node.input(2);
  std::vector<Dim> rows = {q.dims[q.dims.size() - 2]};
  if (const TensorInfo* mask = node.input(3); mask && mask->dims.size() >= 2) {
    OM_ASSIGN_OR_RETURN(rows, broadcast_dims(rows, {mask->dims[mask->dims.size() - 2]}));
  }
  batch.push_back(rows[0]);
  batch.push_back(v.dims.back());
  outputs[0].has_shape = true;
  outputs[0].dims = std::move(batch);
  return Status::ok();
}

}  // namespace

void register_attention_ops(OpRegistry& r) {
  r.add({.op_type = "FusedAttention",
         .domain = kOnnxMiniDomain,
         .since_version = 1,
         .min_inputs = 3,
         .max_inputs = 4,
         .attributes = {"scale", "scale_divides", "mask_keeps", "mask_fill"},
         .infer = infer_attention,
         .create = make_kernel<FusedAttention>()});
}

}  // namespace onnx_mini
