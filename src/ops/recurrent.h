// What RNN, GRU and LSTM share: attributes, the checks of every input against
// one set of sizes, the weights' products, and the run itself (directions,
// time steps, sequence lengths, layouts, outputs). A cell (ops/rnn.cc,
// ops/gru.cc, ops/lstm.cc) adds only its gate arithmetic for one time step.
//
// Per direction d a run is:
//   1. the input projection XW = X * W[d]^T + bias, for all time steps in one
//      GEMM before the loop (in chunks of steps when that would need more than
//      64 MiB: bounded scratch whatever the sizes; the environment variable
//      ONNX_MINI_RECURRENT_PROJECTION_BYTES, read when the kernel is built,
//      sets another budget, for tests of the chunks);
//   2. per time step, the recurrent product H * R[d]^T (all batch rows in one
//      GEMM) and the cell's gates for the rows still inside their sequence;
//   3. Y, Y_h and Y_c from the state.
// W and R, when constant, are packed once at session build (ops/packed_gemm.h),
// one packing per direction and per product the cell needs (GRU's default
// form multiplies r (.) H by the candidate gate's rows of R on their own);
// otherwise (a fed weight, no AVX-512F) the products read them through OpenBLAS.
//
// Sequence lengths: batch row b runs the time steps t < sequence_lens[b];
// forward it reads t = 0, 1, ..., reverse t = len - 1, ..., 0 (its own last
// step first, as ONNX Runtime). Y is 0 at t >= len; Y_h / Y_c hold the state
// after the row's last step (its initial state when len = 0).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "ops/kernel.h"
#include "ops/packed_gemm.h"
#include "ops/recurrent_activation.h"

namespace onnx_mini {

// Input positions shared by the three ops (initial_c and P: LSTM only).
enum RecurrentInput : int { kInX, kInW, kInR, kInB, kInSequenceLens, kInInitialH, kInInitialC, kInPeepholes };
enum RecurrentOutput : int { kOutY, kOutYH, kOutYC };

// What tells the three ops apart for the shared code.
struct RecurrentOp {
  const char* name;
  int gates;  // rows of W and R per hidden unit: RNN 1, GRU 3, LSTM 4
  std::vector<const char*> default_activations;  // per direction
};

enum class RecurrentDirection { kForward, kReverse, kBidirectional };

struct RecurrentAttributes {
  RecurrentDirection direction = RecurrentDirection::kForward;
  int64_t num_directions = 1;
  int64_t hidden_size = 0;  // 0: absent, taken from R
  int64_t layout = 0;       // 0: [seq, batch, ...]; 1: [batch, seq, ...]
  std::optional<float> clip;
  // op.default_activations.size() per direction, forward's first.
  std::vector<RecurrentActivation> activations;

  static Result<RecurrentAttributes> parse(const Attributes& attrs, const RecurrentOp& op);
};

// Shape inference for Y, Y_h, Y_c.
Status infer_recurrent(const NodeInfo& node, const RecurrentOp& op, std::vector<TensorInfo>& outputs);

// Clamps n values to [-clip, clip] (the spec applies clip to every activation's input).
void clip_values(float* x, int64_t n, float clip);

// One direction's rows [g0 * hidden, g1 * hidden) of W or R ([directions,
// gates * hidden, cols]): the B operand of y = a * rows^T + bias. Packed once
// when the weight is constant, else read from the run's tensor.
class GateRows {
 public:
  Status init(const NodeInfo& node, int input, int64_t direction, int g0, int g1, int64_t hidden);
  // y [m, n] (row stride ldy) = a [m, k] (row stride lda) * rows^T (+ bias, n
  // values, when not null); n = (g1 - g0) * hidden, k = the weight's columns.
  // `weight` (the run's W or R) is read only when not packed.
  void multiply(const Tensor* weight, int64_t hidden, int64_t m, const float* a, int64_t lda, float* y, int64_t ldy,
                const float* bias, ThreadPool* pool) const;
  bool packed() const { return packed_ != nullptr; }
  int64_t first_column(int64_t hidden) const { return g0_ * hidden; }

 private:
  int64_t direction_ = 0;
  int g0_ = 0, g1_ = 0;
  std::shared_ptr<const PackedWeights> packed_;
};

// What a cell sees of one time step: the state, the rows to advance and the
// recurrent products it may run.
struct CellStep {
  int64_t batch = 0, hidden = 0, gates = 0;
  float* h = nullptr;  // [batch, hidden]: the state, updated in place for the active rows
  float* c = nullptr;  // [batch, hidden]: LSTM's cell state, else null
  // The active rows this step: their batch index and their input projection
  // (gates * hidden values, biases already added).
  int64_t count = 0;
  const int64_t* rows = nullptr;
  const float* const* xw = nullptr;
  float* work = nullptr;  // [batch, gates * hidden] of cell scratch beyond `hr`
  float* hr = nullptr;    // [batch, gates * hidden]: where the recurrent products go
  const float* recurrent_bias = nullptr;  // gates * hidden values added by the products, or null
  const float* peepholes = nullptr;       // LSTM's P[d] (3 * hidden: i, o, f), or null
  const RecurrentActivation* act = nullptr;  // this direction's activations
  std::optional<float> clip;
  // hr[:, parts[p]] = a * R[d] part p ^ T (+ the recurrent bias of those gates).
  struct Products {
    const std::vector<GateRows>* parts;  // this direction's
    const Tensor* r;  // the run's R (null when released: every part is packed)
    ThreadPool* pool;
    const float* bias;  // gates * hidden, or null
  } products;
  // Runs part p of the recurrent product for every batch row: a [batch,
  // hidden] (row stride lda) into hr's columns of that part.
  void recurrent(int part, const float* a, int64_t lda) const;
};

// The shared kernel: RNN, GRU and LSTM derive from it and add their cell.
class RecurrentKernel : public Kernel {
 public:
  Status run(KernelContext& ctx) const final;
  bool reads_input_at_run(int i) const final;

 protected:
  // `parts`: the recurrent product's gate ranges [g0, g1), one GEMM each.
  Status init_recurrent(const NodeInfo& node, const RecurrentOp& op, std::vector<std::pair<int, int>> parts);
  const RecurrentAttributes& attrs() const { return attrs_; }

  // Splits B[d] (Wb then Rb, gates * hidden each) into the bias the input
  // projection adds and the one the recurrent product adds (zeros: none).
  // Default: all of Wb + Rb into the projection.
  virtual void split_bias(const float* wb, const float* rb, int64_t n, float* input_bias, float* recurrent_bias,
                          bool* has_recurrent_bias) const;
  // Advances the active rows by one time step.
  virtual void step(const CellStep& s) const = 0;
  virtual bool has_cell_state() const { return false; }

 private:
  struct Run;
  RecurrentOp op_;
  RecurrentAttributes attrs_;
  std::vector<std::pair<int, int>> parts_;
  std::vector<GateRows> input_rows_;                   // per direction: all of W[d]
  std::vector<std::vector<GateRows>> recurrent_rows_;  // per direction, per part of R[d]
  // The sizes W and R were packed with (0 when not packed): a run whose W or R
  // the session let go of checks X and the hidden size against them.
  int64_t packed_input_ = 0, packed_hidden_ = 0;
  int64_t projection_budget_ = 0;  // bytes of input projection per chunk
};

// The cells' kernels and what the registration needs of them (ops/rnn.cc,
// ops/gru.cc, ops/lstm.cc); recurrent.cc registers every version.
extern const RecurrentOp kRnnOp, kGruOp, kLstmOp;
Result<std::unique_ptr<Kernel>> make_rnn_kernel(const NodeInfo& node);
Result<std::unique_ptr<Kernel>> make_gru_kernel(const NodeInfo& node);
Result<std::unique_ptr<Kernel>> make_lstm_kernel(const NodeInfo& node);

}  // namespace onnx_mini
