// RecurrentKernel: init (attributes, packed weights) and the run over
// directions and time steps (ops/recurrent.h says what a run is).
#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>
#include <string>

#include "ops/recurrent.h"

namespace onnx_mini {
namespace {

// One chunk of the input projection holds at most this much (unless a single
// time step needs more): the projection of a long sequence is then a few GEMMs
// of many rows each instead of one, and the scratch stays bounded.
constexpr int64_t kProjectionBudgetBytes = int64_t{64} << 20;

int64_t projection_budget() {
  const char* env = std::getenv("ONNX_MINI_RECURRENT_PROJECTION_BYTES");
  if (!env) return kProjectionBudgetBytes;
  const long long v = std::atoll(env);
  return v > 0 ? static_cast<int64_t>(v) : kProjectionBudgetBytes;
}
// A run's whole scratch (projection chunk, state, gates); above it the run
// fails with a resource-limit error instead of asking the system for more.
constexpr int64_t kMaxScratchBytes = int64_t{4} << 30;

const char* input_name(int i) {
  static const char* names[] = {"X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"};
  return names[i];
}

// Dims of a run's shapes, held on the stack: a steady-state run builds no Shape.
struct Dims {
  std::array<int64_t, 4> v{};
  size_t rank = 0;
  Dims(std::initializer_list<int64_t> d) : rank(d.size()) { std::copy(d.begin(), d.end(), v.begin()); }
  std::span<const int64_t> span() const { return {v.data(), rank}; }
  std::string to_string() const { return shape_to_string(Shape(v.begin(), v.begin() + static_cast<ptrdiff_t>(rank))); }
};

Status expect_shape(const Tensor* t, int i, const Dims& want, DataType dtype = DataType::kFloat) {
  if (t->dtype() != dtype) {
    return bad_input("input '" + std::string(input_name(i)) + "': expected " + dtype_name(dtype) + ", got " + describe(*t));
  }
  const std::span<const int64_t> w = want.span();
  if (!std::equal(t->shape().begin(), t->shape().end(), w.begin(), w.end())) {
    return bad_input("input '" + std::string(input_name(i)) + "': expected shape " + want.to_string() + ", got " +
                     describe(*t));
  }
  return Status::ok();
}

// Typed arrays carved out of one buffer per thread (the kernel is stateless, so
// a run's scratch cannot live in it): grown on the first run, then reused, so a
// steady-state run allocates nothing.
class Scratch {
 public:
  template <typename T>
  void plan(T** slot, int64_t count) {
    entries_[used_++] = {reinterpret_cast<void**>(slot), bytes_};
    const std::optional<int64_t> size = checked_mul(count, static_cast<int64_t>(sizeof(T)));
    const std::optional<int64_t> end = size ? checked_add(bytes_, (*size + 63) / 64 * 64) : std::nullopt;
    bytes_ = end ? *end : kMaxScratchBytes + 1;
  }
  Status acquire(const char* op) {
    if (bytes_ > kMaxScratchBytes) {
      return resource_limit(std::string(op) + ": a run needs more than " + std::to_string(kMaxScratchBytes) +
                            " bytes of scratch (batch x hidden size too large)");
    }
    thread_local std::vector<std::max_align_t> buffer;
    const size_t units = (static_cast<size_t>(bytes_) + 64 + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t);
    if (buffer.size() < units) {
      try {
        buffer.resize(units);
      } catch (const std::bad_alloc&) {
        return resource_limit(std::string(op) + ": cannot allocate " + std::to_string(bytes_) + " bytes of scratch");
      }
    }
    auto base = reinterpret_cast<uintptr_t>(buffer.data());
    base = (base + 63) / 64 * 64;
    for (int i = 0; i < used_; ++i) *entries_[i].slot = reinterpret_cast<void*>(base + static_cast<uintptr_t>(entries_[i].offset));
    return Status::ok();
  }

 private:
  struct Entry {
    void** slot;
    int64_t offset;
  };
  static constexpr int kMaxEntries = 12;  // on the stack: planning allocates nothing
  std::array<Entry, kMaxEntries> entries_{};
  int used_ = 0;
  int64_t bytes_ = 0;
};

// A row's initial state: the given one, else zeros.
void load_state(const float* from, float* to, int64_t hidden) {
  if (from) {
    std::copy(from, from + hidden, to);
  } else {
    std::fill(to, to + hidden, 0.0f);
  }
}

}  // namespace

Status RecurrentKernel::init_recurrent(const NodeInfo& node, const RecurrentOp& op,
                                       std::vector<std::pair<int, int>> parts) {
  op_ = op;
  parts_ = std::move(parts);
  projection_budget_ = projection_budget();
  OM_ASSIGN_OR_RETURN(attrs_, RecurrentAttributes::parse(node.attrs(), op));
  std::vector<TensorInfo> ignored(3);
  OM_RETURN_IF_ERROR(infer_recurrent(node, op, ignored));
  int64_t hidden = attrs_.hidden_size;
  const TensorInfo* r = node.input(kInR);
  const TensorInfo* w = node.input(kInW);
  if (hidden == 0 && r->constant && r->constant->rank() == 3) hidden = r->constant->dim(2);
  packed_hidden_ = hidden;
  packed_input_ = w->constant && w->constant->rank() == 3 ? w->constant->dim(2) : 0;
  input_rows_.resize(static_cast<size_t>(attrs_.num_directions));
  recurrent_rows_.resize(static_cast<size_t>(attrs_.num_directions));
  for (int64_t d = 0; d < attrs_.num_directions; ++d) {
    OM_RETURN_IF_ERROR(input_rows_[static_cast<size_t>(d)].init(node, kInW, d, 0, op.gates, hidden));
    auto& rec = recurrent_rows_[static_cast<size_t>(d)];
    rec.resize(parts_.size());
    for (size_t p = 0; p < parts_.size(); ++p) {
      OM_RETURN_IF_ERROR(rec[p].init(node, kInR, d, parts_[p].first, parts_[p].second, hidden));
    }
  }
  return Status::ok();
}

bool RecurrentKernel::reads_input_at_run(int i) const {
  if (i == kInW) return !std::all_of(input_rows_.begin(), input_rows_.end(), [](const GateRows& g) { return g.packed(); });
  if (i == kInR) {
    for (const auto& rows : recurrent_rows_) {
      if (!std::all_of(rows.begin(), rows.end(), [](const GateRows& g) { return g.packed(); })) return true;
    }
    return false;
  }
  return true;
}

void RecurrentKernel::split_bias(const float* wb, const float* rb, int64_t n, float* input_bias, float* recurrent_bias,
                                 bool* has_recurrent_bias) const {
  for (int64_t j = 0; j < n; ++j) input_bias[j] = wb[j] + rb[j];
  std::fill(recurrent_bias, recurrent_bias + n, 0.0f);
  *has_recurrent_bias = false;
}

// One run: the inputs checked against one set of sizes, then each direction.
struct RecurrentKernel::Run {
  const RecurrentKernel& k;
  KernelContext& ctx;
  const Tensor *x = nullptr, *w = nullptr, *r = nullptr, *b = nullptr, *lens = nullptr, *h0 = nullptr,
               *c0 = nullptr, *p = nullptr;
  Tensor *y = nullptr, *yh = nullptr, *yc = nullptr;
  int64_t seq = 0, batch = 0, input = 0, hidden = 0, dirs = 0, n = 0;
  int64_t max_len = 0, chunk = 0;  // steps run, steps per projection chunk
  bool uniform_lens = true;        // every row runs max_len steps
  // Scratch.
  float *proj = nullptr, *hr = nullptr, *work = nullptr, *h = nullptr, *c = nullptr, *input_bias = nullptr,
        *recurrent_bias = nullptr;
  int64_t* rows = nullptr;
  const float** xw = nullptr;

  Status check_inputs();
  Status check_sequence_lens();
  Status allocate();
  int64_t len(int64_t bi) const { return lens ? lens->data<int32_t>()[bi] : seq; }
  const float* state_source(const Tensor* t, int64_t d, int64_t bi) const;
  float* state_target(Tensor* t, int64_t d, int64_t bi) const { return t->data<float>() + state_offset(d, bi); }
  int64_t state_offset(int64_t d, int64_t bi) const {
    return (k.attrs_.layout == 0 ? d * batch + bi : bi * dirs + d) * hidden;
  }
  int64_t x_row(int64_t t, int64_t bi) const { return k.attrs_.layout == 0 ? t * batch + bi : bi * seq + t; }
  void project(int64_t d, bool reverse, int64_t s0, int64_t s1) const;
  int64_t projection_row(bool reverse, int64_t s0, int64_t s1, int64_t t, int64_t bi) const;
  void run_direction(int64_t d);
};

Status RecurrentKernel::Run::check_inputs() {
  x = ctx.input(kInX);
  w = ctx.input(kInW);
  r = ctx.input(kInR);
  b = ctx.input(kInB);
  lens = ctx.input(kInSequenceLens);
  h0 = ctx.input(kInInitialH);
  c0 = k.has_cell_state() ? ctx.input(kInInitialC) : nullptr;
  p = k.has_cell_state() ? ctx.input(kInPeepholes) : nullptr;
  const int64_t layout = k.attrs_.layout;
  if (x->rank() != 3 || x->dtype() != DataType::kFloat) return bad_input("input 'X': expected a 3-D float tensor, got " + describe(*x));
  seq = x->dim(layout == 0 ? 0 : 1);
  batch = x->dim(layout == 0 ? 1 : 0);
  input = x->dim(2);
  dirs = k.attrs_.num_directions;
  const int gates = k.op_.gates;
  // W and R are null at run when the session let go of them (all packed): the
  // packing checked their shapes against the attributes at init.
  const Shape* r_shape = r ? &r->shape() : nullptr;
  if (r && (r->rank() != 3 || r->dim(1) % gates != 0)) {
    return bad_input("input 'R': expected [" + std::to_string(dirs) + ", " + std::to_string(gates) +
                     " x hidden_size, hidden_size], got " + describe(*r));
  }
  hidden = r_shape ? (*r_shape)[2] : k.packed_hidden_;
  if (hidden <= 0 || (k.attrs_.hidden_size > 0 && hidden != k.attrs_.hidden_size)) {
    return bad_input("input 'R' " + (r ? describe(*r) : std::string("(absent)")) + " does not match hidden_size " +
                     std::to_string(k.attrs_.hidden_size));
  }
  n = gates * hidden;
  if (r) OM_RETURN_IF_ERROR(expect_shape(r, kInR, {dirs, n, hidden}));
  if (w) OM_RETURN_IF_ERROR(expect_shape(w, kInW, {dirs, n, input}));
  if (!w && input != k.packed_input_) {
    return bad_input("input 'X': expected input size " + std::to_string(k.packed_input_) + " (W's), got " + describe(*x));
  }
  if (b) OM_RETURN_IF_ERROR(expect_shape(b, kInB, {dirs, 2 * n}));
  const Dims state = layout == 0 ? Dims{dirs, batch, hidden} : Dims{batch, dirs, hidden};
  if (h0) OM_RETURN_IF_ERROR(expect_shape(h0, kInInitialH, state));
  if (c0) OM_RETURN_IF_ERROR(expect_shape(c0, kInInitialC, state));
  if (p) OM_RETURN_IF_ERROR(expect_shape(p, kInPeepholes, {dirs, 3 * hidden}));
  return check_sequence_lens();
}

Status RecurrentKernel::Run::check_sequence_lens() {
  max_len = seq;
  if (!lens) return Status::ok();
  OM_RETURN_IF_ERROR(expect_shape(lens, kInSequenceLens, {batch}, DataType::kInt32));
  max_len = 0;
  for (int64_t bi = 0; bi < batch; ++bi) {
    const int64_t l = len(bi);
    if (l < 0 || l > seq) {
      return bad_input("input 'sequence_lens': element " + std::to_string(bi) + " is " + std::to_string(l) +
                       ", outside [0, " + std::to_string(seq) + "] (the sequence length)");
    }
    max_len = std::max(max_len, l);
  }
  for (int64_t bi = 0; bi < batch; ++bi) uniform_lens = uniform_lens && len(bi) == max_len;
  return Status::ok();
}

Status RecurrentKernel::Run::allocate() {
  const Dims state = k.attrs_.layout == 0 ? Dims{dirs, batch, hidden} : Dims{batch, dirs, hidden};
  if (ctx.output_wanted(kOutY)) {
    const Dims ys = k.attrs_.layout == 0 ? Dims{seq, dirs, batch, hidden} : Dims{batch, seq, dirs, hidden};
    OM_ASSIGN_OR_RETURN(y, ctx.output_dims(kOutY, ys.span(), DataType::kFloat));
    // Steps past a row's length are 0; a run with every length full writes all of Y.
    if (!uniform_lens || max_len < seq) std::memset(y->raw_data(), 0, y->byte_size());
  }
  if (ctx.output_wanted(kOutYH)) {
    OM_ASSIGN_OR_RETURN(yh, ctx.output_dims(kOutYH, state.span(), DataType::kFloat));
  }
  if (k.has_cell_state() && ctx.output_wanted(kOutYC)) {
    OM_ASSIGN_OR_RETURN(yc, ctx.output_dims(kOutYC, state.span(), DataType::kFloat));
  }
  // Steps per projection chunk: all of them when the whole projection fits the budget.
  const int64_t step_bytes = std::max<int64_t>(batch * n * static_cast<int64_t>(sizeof(float)), 1);
  chunk = std::clamp<int64_t>(k.projection_budget_ / step_bytes, 1, std::max<int64_t>(max_len, 1));
  const int64_t whole_rows = k.attrs_.layout == 0 ? max_len * batch : seq * batch;
  Scratch s;
  s.plan(&proj, chunk >= max_len ? whole_rows * n : chunk * batch * n);
  s.plan(&hr, batch * n);
  s.plan(&work, batch * n);
  s.plan(&h, batch * hidden);
  s.plan(&c, k.has_cell_state() ? batch * hidden : 0);
  s.plan(&input_bias, n);
  s.plan(&recurrent_bias, n);
  s.plan(&rows, batch);
  s.plan(&xw, batch);
  return s.acquire(k.op_.name);
}

// Where row (t, bi) of the projection is: X's own row order when the chunk is
// the whole run; else (slot, bi) with slot the row's position in the chunk's
// time window, which for a reversed row with its own length starts elsewhere.
int64_t RecurrentKernel::Run::projection_row(bool reverse, int64_t s0, int64_t s1, int64_t t, int64_t bi) const {
  if (chunk >= max_len) return x_row(t, bi);
  const int64_t slot = reverse ? t + s1 - len(bi) : t - s0;
  return slot * batch + bi;
}

// The projection of steps [s0, s1): one GEMM over X's rows when the chunk is
// the whole run (or, laid out [seq, batch], a time window every row shares);
// else one GEMM per batch row over its time window.
void RecurrentKernel::Run::project(int64_t d, bool reverse, int64_t s0, int64_t s1) const {
  const GateRows& rows_of_w = k.input_rows_[static_cast<size_t>(d)];
  ThreadPool* pool = ctx.thread_pool();
  const float* xs = x->data<float>();
  if (chunk >= max_len) {
    const int64_t m = k.attrs_.layout == 0 ? max_len * batch : seq * batch;
    rows_of_w.multiply(w, hidden, m, xs, input, proj, n, input_bias, pool);
    return;
  }
  if (k.attrs_.layout == 0 && uniform_lens) {
    const int64_t t0 = reverse ? max_len - s1 : s0;
    rows_of_w.multiply(w, hidden, (s1 - s0) * batch, xs + t0 * batch * input, input, proj, n, input_bias, pool);
    return;
  }
  const int64_t x_stride = k.attrs_.layout == 0 ? batch * input : input;  // between a row's time steps
  for (int64_t bi = 0; bi < batch; ++bi) {
    const int64_t l = len(bi);
    const int64_t lo = reverse ? std::max<int64_t>(l - s1, 0) : s0;
    const int64_t hi = reverse ? l - s0 : std::min(s1, l);
    if (hi <= lo) continue;
    rows_of_w.multiply(w, hidden, hi - lo, xs + x_row(lo, bi) * input, x_stride,
                       proj + projection_row(reverse, s0, s1, lo, bi) * n, batch * n, input_bias, pool);
  }
}

const float* RecurrentKernel::Run::state_source(const Tensor* t, int64_t d, int64_t bi) const {
  return t ? t->data<float>() + state_offset(d, bi) : nullptr;
}

void RecurrentKernel::Run::run_direction(int64_t d) {
  const bool reverse = k.attrs_.direction == RecurrentDirection::kReverse || d == 1;
  const float* bias = b ? b->data<float>() + d * 2 * n : nullptr;
  bool has_recurrent_bias = false;
  if (bias) {
    k.split_bias(bias, bias + n, n, input_bias, recurrent_bias, &has_recurrent_bias);
  } else {
    std::fill(input_bias, input_bias + n, 0.0f);
  }
  for (int64_t bi = 0; bi < batch; ++bi) {
    const float* hs = state_source(h0, d, bi);
    const float* cs = state_source(c0, d, bi);
    load_state(hs, h + bi * hidden, hidden);
    if (k.has_cell_state()) load_state(cs, c + bi * hidden, hidden);
  }
  const size_t per_direction = k.op_.default_activations.size();
  CellStep step;
  step.batch = batch;
  step.hidden = hidden;
  step.gates = k.op_.gates;
  step.h = h;
  step.c = k.has_cell_state() ? c : nullptr;
  step.rows = rows;
  step.xw = xw;
  step.work = work;
  step.hr = hr;
  step.peepholes = p ? p->data<float>() + d * 3 * hidden : nullptr;
  step.act = &k.attrs_.activations[static_cast<size_t>(d) * per_direction];
  step.clip = k.attrs_.clip;
  step.products = {&k.recurrent_rows_[static_cast<size_t>(d)], r, ctx.thread_pool(),
                   has_recurrent_bias ? recurrent_bias : nullptr};
  for (int64_t s0 = 0; s0 < max_len; s0 += chunk) {
    const int64_t s1 = std::min(s0 + chunk, max_len);
    project(d, reverse, s0, s1);
    for (int64_t s = s0; s < s1; ++s) {
      step.count = 0;
      for (int64_t bi = 0; bi < batch; ++bi) {
        const int64_t l = len(bi);
        if (s >= l) continue;
        const int64_t t = reverse ? l - 1 - s : s;
        rows[step.count] = bi;
        xw[step.count] = proj + projection_row(reverse, s0, s1, t, bi) * n;
        ++step.count;
      }
      k.step(step);
      if (!y) continue;
      for (int64_t i = 0; i < step.count; ++i) {
        const int64_t bi = rows[i], l = len(bi), t = reverse ? l - 1 - s : s;
        const int64_t at = k.attrs_.layout == 0 ? ((t * dirs + d) * batch + bi) * hidden : ((bi * seq + t) * dirs + d) * hidden;
        std::copy(h + bi * hidden, h + (bi + 1) * hidden, y->data<float>() + at);
      }
    }
  }
  for (int64_t bi = 0; bi < batch; ++bi) {
    if (yh) std::copy(h + bi * hidden, h + (bi + 1) * hidden, state_target(yh, d, bi));
    if (yc) std::copy(c + bi * hidden, c + (bi + 1) * hidden, state_target(yc, d, bi));
  }
}

Status RecurrentKernel::run(KernelContext& ctx) const {
  Run run{*this, ctx};
  OM_RETURN_IF_ERROR(run.check_inputs());
  OM_RETURN_IF_ERROR(run.allocate());
  for (int64_t d = 0; d < run.dirs; ++d) run.run_direction(d);
  return Status::ok();
}

}  // namespace onnx_mini
