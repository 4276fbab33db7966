// The parts of ops/recurrent.h that are not the run: attributes, shape
// inference, the weights' products, and the registration of the three ops.
#include "ops/recurrent.h"

#include <algorithm>

#include "ops/blas.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

Result<RecurrentDirection> parse_direction(const std::string& s) {
  if (s == "forward") return RecurrentDirection::kForward;
  if (s == "reverse") return RecurrentDirection::kReverse;
  if (s == "bidirectional") return RecurrentDirection::kBidirectional;
  return invalid_model("direction must be forward, reverse or bidirectional, got '" + s + "'");
}

// Explicit names, or the op's defaults for every direction. A bidirectional
// node names each direction's activations (the spec's "3 (or 6 if
// bidirectional)"), so the count must be exact.
Result<std::vector<std::string>> activation_names(const Attributes& attrs, const RecurrentOp& op,
                                                  int64_t directions) {
  const size_t per_direction = op.default_activations.size();
  std::vector<std::string> names;
  if (const Attribute* a = attrs.find("activations")) {
    if (a->kind != Attribute::Kind::kStrings) return invalid_model("attribute 'activations' must be a list of strings");
    names = a->strings;
    if (names.size() != per_direction * static_cast<size_t>(directions)) {
      return invalid_model(std::string(op.name) + " with " + std::to_string(directions) + " direction(s) needs " +
                           std::to_string(per_direction * static_cast<size_t>(directions)) + " activations, got " +
                           std::to_string(names.size()));
    }
    return names;
  }
  for (int64_t d = 0; d < directions; ++d) names.insert(names.end(), op.default_activations.begin(), op.default_activations.end());
  return names;
}

// The hidden size known at load: the attribute, else R's or W's constant shape; 0 if none.
int64_t known_hidden_size(const NodeInfo& node, int64_t attribute, int gates) {
  if (attribute > 0) return attribute;
  const TensorInfo* r = node.input(kInR);
  if (r && r->has_shape && r->dims.size() == 3 && r->dims[2].known()) return r->dims[2].value;
  const TensorInfo* w = node.input(kInW);
  if (w && w->has_shape && w->dims.size() == 3 && w->dims[1].known() && w->dims[1].value % gates == 0) {
    return w->dims[1].value / gates;
  }
  return 0;
}

Dim known_dim(int64_t v) {
  Dim d;
  if (v > 0) d.value = v;
  return d;
}

// A biased product's bias on the packed kernel: added in registers.
class BiasInRegisters final : public TileEpilogue {
 public:
  explicit BiasInRegisters(const float* bias) : bias_(bias) {}
  bool in_registers(RegisterEpilogue* form) const override {
    form->bias = bias_;
    form->relu = false;
    return true;
  }
  void apply(float*, int64_t, int64_t, int64_t, int64_t, int64_t) const override {}

 private:
  const float* bias_;
};

// W, R and B given as initializers must agree with the attributes and with
// each other: a contradiction is the model's fault, found at load (a fed
// weight is checked at run time instead).
Status check_constant_weights(const NodeInfo& node, const RecurrentOp& op, int64_t directions, int64_t hidden) {
  if (hidden <= 0) return Status::ok();
  const int64_t n = op.gates * hidden;
  const TensorInfo* x = node.input(kInX);
  const int64_t input = x && x->has_shape && x->dims.size() == 3 && x->dims[2].known() ? x->dims[2].value : -1;
  struct Want {
    int index;
    const char* name;
    std::vector<int64_t> dims;  // -1: any
  };
  const Want wants[] = {{kInW, "W", {directions, n, input}},
                        {kInR, "R", {directions, n, hidden}},
                        {kInB, "B", {directions, 2 * n}}};
  for (const Want& w : wants) {
    const TensorInfo* info = node.input(static_cast<size_t>(w.index));
    const Tensor* t = info ? info->constant : nullptr;
    if (!t) continue;
    bool ok = t->rank() == static_cast<int64_t>(w.dims.size());
    for (size_t d = 0; ok && d < w.dims.size(); ++d) ok = w.dims[d] < 0 || t->dim(static_cast<int64_t>(d)) == w.dims[d];
    if (!ok) {
      std::string want;
      for (int64_t v : w.dims) want += (want.empty() ? "" : ", ") + (v < 0 ? std::string("?") : std::to_string(v));
      return invalid_model(std::string("initializer ") + w.name + " " + describe(*t) + " does not fit " + op.name +
                           " with " + std::to_string(directions) + " direction(s) and hidden size " +
                           std::to_string(hidden) + ": expected [" + want + "]");
    }
  }
  return Status::ok();
}

}  // namespace

Result<RecurrentAttributes> RecurrentAttributes::parse(const Attributes& attrs, const RecurrentOp& op) {
  RecurrentAttributes a;
  OM_ASSIGN_OR_RETURN(std::string direction, attrs.get_string("direction", "forward"));
  OM_ASSIGN_OR_RETURN(a.direction, parse_direction(direction));
  a.num_directions = a.direction == RecurrentDirection::kBidirectional ? 2 : 1;
  OM_ASSIGN_OR_RETURN(a.hidden_size, attrs.get_int("hidden_size", 0));
  if (attrs.has("hidden_size") && a.hidden_size <= 0) {
    return invalid_model("hidden_size must be positive, got " + std::to_string(a.hidden_size));
  }
  OM_ASSIGN_OR_RETURN(a.layout, attrs.get_int("layout", 0));
  if (a.layout != 0 && a.layout != 1) return invalid_model("layout must be 0 or 1, got " + std::to_string(a.layout));
  if (attrs.has("clip")) {
    OM_ASSIGN_OR_RETURN(float clip, attrs.get_float("clip", 0.0f));
    if (!(clip > 0.0f)) return invalid_model("clip must be positive, got " + std::to_string(clip));
    a.clip = clip;
  }
  OM_ASSIGN_OR_RETURN(int64_t output_sequence, attrs.get_int("output_sequence", 0));
  (void)output_sequence;  // version 1's flag; whether Y is wanted is its output name
  OM_ASSIGN_OR_RETURN(std::vector<std::string> names, activation_names(attrs, op, a.num_directions));
  OM_ASSIGN_OR_RETURN(std::vector<float> alphas, attrs.get_floats("activation_alpha"));
  OM_ASSIGN_OR_RETURN(std::vector<float> betas, attrs.get_floats("activation_beta"));
  OM_ASSIGN_OR_RETURN(a.activations, parse_recurrent_activations(names, alphas, betas));
  return a;
}

Status infer_recurrent(const NodeInfo& node, const RecurrentOp& op, std::vector<TensorInfo>& outputs) {
  OM_ASSIGN_OR_RETURN(RecurrentAttributes a, RecurrentAttributes::parse(node.attrs(), op));
  const TensorInfo* x = node.input(kInX);
  for (int i : {kInX, kInW, kInR, kInB, kInInitialH, kInInitialC, kInPeepholes}) {
    const TensorInfo* in = node.input(static_cast<size_t>(i));
    if (in && in->dtype != DataType::kUndefined && in->dtype != DataType::kFloat) {
      return unsupported(std::string(op.name) + " runs on float, got input " + std::to_string(i) + " " + in->to_string());
    }
  }
  const TensorInfo* lens = node.input(kInSequenceLens);
  if (lens && lens->dtype != DataType::kUndefined && lens->dtype != DataType::kInt32) {
    return invalid_model("sequence_lens must be int32, got " + lens->to_string());
  }
  for (int i : {kInX, kInW, kInR}) {
    const TensorInfo* in = node.input(static_cast<size_t>(i));
    if (in->has_shape && in->dims.size() != 3) {
      return invalid_model(std::string(i == kInX ? "X" : i == kInW ? "W" : "R") + " must be 3-D, got " + in->to_string());
    }
  }
  const int64_t hidden = known_hidden_size(node, a.hidden_size, op.gates);
  OM_RETURN_IF_ERROR(check_constant_weights(node, op, a.num_directions, hidden));
  Dim seq, batch;
  if (x->has_shape) {
    seq = x->dims[a.layout == 0 ? 0 : 1];
    batch = x->dims[a.layout == 0 ? 1 : 0];
  }
  const Dim dirs = known_dim(a.num_directions), h = known_dim(hidden);
  for (size_t i = 0; i < outputs.size(); ++i) {
    outputs[i].dtype = DataType::kFloat;
    if (!x->has_shape) continue;
    outputs[i].has_shape = true;
    if (i == kOutY) {
      outputs[i].dims = a.layout == 0 ? std::vector<Dim>{seq, dirs, batch, h} : std::vector<Dim>{batch, seq, dirs, h};
    } else {
      outputs[i].dims = a.layout == 0 ? std::vector<Dim>{dirs, batch, h} : std::vector<Dim>{batch, dirs, h};
    }
  }
  return Status::ok();
}

void clip_values(float* x, int64_t n, float clip) {
  for (int64_t i = 0; i < n; ++i) x[i] = std::clamp(x[i], -clip, clip);
}

Status GateRows::init(const NodeInfo& node, int input, int64_t direction, int g0, int g1, int64_t hidden) {
  direction_ = direction;
  g0_ = g0;
  g1_ = g1;
  const TensorInfo* info = node.input(static_cast<size_t>(input));
  const Tensor* w = info ? info->constant : nullptr;
  if (!w || hidden <= 0 || w->dtype() != DataType::kFloat || w->rank() != 3 || w->dim(0) <= direction ||
      w->dim(1) % hidden != 0 || w->dim(1) < g1 * hidden || w->dim(2) == 0 || !PackedWeights::enabled()) {
    return Status::ok();  // read at run time (its shape checked then)
  }
  const int64_t rows = (g1 - g0) * hidden, cols = w->dim(2);
  const float* first = w->data<float>() + (direction * w->dim(1) + g0 * hidden) * cols;
  Tensor view = Tensor::wrap(DataType::kFloat, {rows, cols}, const_cast<float*>(first), w->owner());
  if (node.packed_weights) {
    packed_ = node.packed_weights->request(view, /*trans_b=*/true);
  } else {
    packed_ = std::make_shared<PackedWeights>(PackedWeights::pack(first, cols, rows, cols, /*trans_b=*/true));
  }
  return Status::ok();
}

void GateRows::multiply(const Tensor* weight, int64_t hidden, int64_t m, const float* a, int64_t lda, float* y,
                        int64_t ldy, const float* bias, ThreadPool* pool) const {
  const int64_t n = (g1_ - g0_) * hidden;
  if (m == 0 || n == 0) return;
  if (packed_) {
    const BiasInRegisters epilogue(bias);
    packed_->multiply(m, a, lda, 1.0f, y, ldy, bias ? &epilogue : nullptr, pool);
    return;
  }
  const int64_t k = weight->dim(2);
  if (k == 0) {  // an empty input: the product is 0
    for (int64_t i = 0; i < m; ++i) std::fill(y + i * ldy, y + i * ldy + n, 0.0f);
  } else {
    const float* first = weight->data<float>() + (direction_ * weight->dim(1) + g0_ * hidden) * k;
    blas::sgemm(false, true, m, n, k, 1.0f, a, lda, first, k, 0.0f, y, ldy);
  }
  if (!bias) return;
  for (int64_t i = 0; i < m; ++i) {
    float* row = y + i * ldy;
    for (int64_t j = 0; j < n; ++j) row[j] += bias[j];
  }
}

void CellStep::recurrent(int part, const float* a, int64_t lda) const {
  const GateRows& rows = (*products.parts)[static_cast<size_t>(part)];
  const int64_t first = rows.first_column(hidden);
  rows.multiply(products.r, hidden, batch, a, lda, hr + first, gates * hidden,
                products.bias ? products.bias + first : nullptr, products.pool);
}

namespace {

std::vector<std::string> recurrent_attributes(std::vector<std::string> extra) {
  std::vector<std::string> names = {"activation_alpha", "activation_beta", "activations", "clip", "direction",
                                    "hidden_size"};
  names.insert(names.end(), extra.begin(), extra.end());
  return names;
}

InferFn infer_for(const RecurrentOp& op) {
  return [&op](const NodeInfo& node, std::vector<TensorInfo>& outputs) { return infer_recurrent(node, op, outputs); };
}

}  // namespace

// Versions: 1 has `output_sequence`; GRU 3 adds `linear_before_reset` (GRU 1
// also requires Y_h); 7 drops `output_sequence`; 14 adds `layout`.
void register_recurrent_ops(OpRegistry& r) {
  for (int since : {1, 7, 14}) {
    std::vector<std::string> extra;
    if (since == 1) extra.push_back("output_sequence");
    if (since == 14) extra.push_back("layout");
    r.add({.op_type = "RNN", .since_version = since, .min_inputs = 3, .max_inputs = 6, .min_outputs = 0,
           .max_outputs = 2, .attributes = recurrent_attributes(extra), .infer = infer_for(kRnnOp),
           .create = make_rnn_kernel});
    extra.push_back("input_forget");
    r.add({.op_type = "LSTM", .since_version = since, .min_inputs = 3, .max_inputs = 8, .min_outputs = 0,
           .max_outputs = 3, .attributes = recurrent_attributes(extra), .infer = infer_for(kLstmOp),
           .create = make_lstm_kernel});
  }
  for (int since : {1, 3, 7, 14}) {
    std::vector<std::string> extra;
    if (since <= 3) extra.push_back("output_sequence");
    if (since >= 3) extra.push_back("linear_before_reset");
    if (since == 14) extra.push_back("layout");
    r.add({.op_type = "GRU", .since_version = since, .min_inputs = 3, .max_inputs = 6,
           .min_outputs = since == 1 ? 2 : 0, .max_outputs = 2, .attributes = recurrent_attributes(extra),
           .infer = infer_for(kGruOp), .create = make_gru_kernel});
  }
}

}  // namespace onnx_mini
