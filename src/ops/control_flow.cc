// Control flow: If and Loop. Their subgraphs are compiled by the session and
// reached through KernelContext::run_subgraph (ops/kernel.h), so the kernels
// stay in ops and know nothing of the executor. Both kernels copy what a
// subgraph returns into their own outputs: a subgraph's buffers belong to its
// frame and are overwritten by its next run (the next iteration).
//
// Loop keeps everything a run needs in the node's scratch (KernelContext::
// scratch), so a steady-state run allocates nothing:
//   0                     the iteration number passed to the body (int64 scalar)
//   1                     the condition passed to the body (bool scalar)
//   2 + 2i + p            loop-carried value i, ping-pong parity p
//   S = 2 + 2N            per scan output: bytes used, bytes reserved, parity
//   S + 1 + 2k + p        scan output k's stacked bytes, ping-pong parity p
//   S + 1 + 2K + k        scan output k's per-iteration shape
//   S + 1 + 3K            the dims of the output being written
// Ping-pong: a value copied into a buffer that must grow cannot be the buffer
// it is copied from (Buffer::reserve keeps nothing when it grows).
#include <algorithm>
#include <cstring>
#include <limits>

#include "core/printable.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

// A condition: bool, one element (the spec's "tensor of bool with a single element").
Result<bool> read_condition(const Tensor& t, const char* what) {
  if (t.dtype() != DataType::kBool) return bad_input(std::string(what) + " must be bool, got " + dtype_name(t.dtype()));
  if (t.num_elements() != 1) return bad_input(std::string(what) + " must hold one element, got " + describe(t));
  return t.data<bool>()[0];
}

// Scratch i as a 1-D tensor of n elements (scalar when n < 0).
Result<Tensor*> scratch_of(KernelContext& ctx, int i, int64_t n, DataType dtype) {
  const int64_t dims[1] = {n};
  return ctx.scratch(i, std::span<const int64_t>(dims, n < 0 ? 0 : 1), dtype);
}

Status copy_to_output(KernelContext& ctx, int i, const Tensor& src) {
  OM_ASSIGN_OR_RETURN(Tensor* out, ctx.output(i, src.shape(), src.dtype()));
  if (src.byte_size() > 0 && out->raw_data() != src.raw_data()) std::memcpy(out->raw_data(), src.raw_data(), src.byte_size());
  return Status::ok();
}

Status check_condition_info(const TensorInfo* info, const char* what) {
  if (!info) return Status::ok();
  if (info->dtype != DataType::kUndefined && info->dtype != DataType::kBool) {
    return invalid_model(std::string(what) + " must be bool, got " + dtype_name(info->dtype));
  }
  if (info->fully_known() && (!checked_num_elements(info->concrete_shape()).is_ok() ||
                              checked_num_elements(info->concrete_shape()).value() != 1)) {
    return invalid_model(std::string(what) + " must hold one element, got " + info->to_string());
  }
  return Status::ok();
}

// Two values that may each be one of them at run time (the branches of an If,
// a loop-carried value before and after an iteration): the dtype must agree,
// dims that differ become unknown, a rank that differs leaves the shape unknown.
Result<TensorInfo> merge_alternatives(const TensorInfo& a, const TensorInfo& b, const std::string& what) {
  if (a.dtype != DataType::kUndefined && b.dtype != DataType::kUndefined && a.dtype != b.dtype) {
    return invalid_model(what + ": " + dtype_name(a.dtype) + " in one case and " + dtype_name(b.dtype) + " in the other");
  }
  TensorInfo merged;
  merged.dtype = a.dtype != DataType::kUndefined ? a.dtype : b.dtype;
  if (!a.has_shape || !b.has_shape || a.dims.size() != b.dims.size()) return merged;
  merged.has_shape = true;
  for (size_t i = 0; i < a.dims.size(); ++i) {
    const Dim& x = a.dims[i];
    const Dim& y = b.dims[i];
    const bool same = x.known() ? (y.known() && x.value == y.value) : (!y.known() && !x.param.empty() && x.param == y.param);
    merged.dims.push_back(same ? x : Dim{});
  }
  return merged;
}

// ---- If ----

Status infer_if(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_RETURN_IF_ERROR(check_condition_info(node.input(0), "cond"));
  const SubgraphSignature* then_branch = node.subgraph("then_branch");
  const SubgraphSignature* else_branch = node.subgraph("else_branch");
  if (!then_branch || !else_branch) {
    return invalid_model(std::string("missing graph attribute ") + (then_branch ? "'else_branch'" : "'then_branch'"));
  }
  for (const SubgraphSignature* branch : {then_branch, else_branch}) {
    if (branch->outputs.size() != outputs.size()) {
      return invalid_model(quote(branch->attribute) + " has " + std::to_string(branch->outputs.size()) + " outputs, the node " +
                           std::to_string(outputs.size()));
    }
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    OM_ASSIGN_OR_RETURN(outputs[i], merge_alternatives(then_branch->outputs[i], else_branch->outputs[i],
                                                       "output " + std::to_string(i) + " of the branches"));
  }
  return Status::ok();
}

class If final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    then_ = node.subgraph_index("then_branch");
    else_ = node.subgraph_index("else_branch");
    if (then_ < 0 || else_ < 0) return invalid_model("If needs both 'then_branch' and 'else_branch'");
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    OM_ASSIGN_OR_RETURN(bool cond, read_condition(*ctx.input(0), "cond"));
    const int branch = cond ? then_ : else_;
    OM_RETURN_IF_ERROR(ctx.run_subgraph(branch));
    for (int i = 0; i < ctx.num_outputs(); ++i) {
      OM_ASSIGN_OR_RETURN(const Tensor* out, ctx.subgraph_output(branch, i));
      OM_RETURN_IF_ERROR(copy_to_output(ctx, i, *out));
    }
    return Status::ok();
  }

 private:
  int then_ = -1, else_ = -1;
};

// ---- Loop ----

// Inputs: M, cond (both optional), N loop-carried initial values. Body: inputs
// (iteration, cond, N carried), outputs (cond, N carried, K scan outputs).
// Node outputs: N final carried values, K scan outputs stacked on a new axis 0.
Status infer_loop(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const SubgraphSignature* body = node.subgraph("body");
  if (!body) return invalid_model("missing graph attribute 'body'");
  const TensorInfo* m = node.input(0);
  if (m && m->dtype != DataType::kUndefined && m->dtype != DataType::kInt64) {
    return invalid_model("M must be int64, got " + std::string(dtype_name(m->dtype)));
  }
  OM_RETURN_IF_ERROR(check_condition_info(node.input(1), "cond"));
  if (node.inputs.size() < 2) {
    return invalid_model("has " + std::to_string(node.inputs.size()) + " inputs, expected at least 2 (M and cond, either may be empty)");
  }
  const size_t carried = node.inputs.size() - 2;
  if (outputs.size() < carried) {
    return invalid_model("has " + std::to_string(outputs.size()) + " outputs, fewer than its " + std::to_string(carried) +
                         " loop-carried values");
  }
  if (body->outputs.size() != 1 + outputs.size()) {
    return invalid_model("the body has " + std::to_string(body->outputs.size()) + " outputs, expected " +
                         std::to_string(1 + outputs.size()) + " (the condition, " + std::to_string(carried) +
                         " loop-carried values, " + std::to_string(outputs.size() - carried) + " scan outputs)");
  }
  OM_RETURN_IF_ERROR(check_condition_info(&body->outputs[0], "the body's condition output"));
  for (size_t i = 0; i < carried; ++i) {
    const TensorInfo* initial = node.input(2 + i);
    if (!initial) return invalid_model("loop-carried value " + std::to_string(i) + " has no initial value");
    OM_ASSIGN_OR_RETURN(outputs[i], merge_alternatives(*initial, body->outputs[1 + i],
                                                       "loop-carried value " + std::to_string(i)));
  }
  for (size_t k = carried; k < outputs.size(); ++k) {
    const TensorInfo& each = body->outputs[1 + k];
    outputs[k].dtype = each.dtype;
    if (!each.has_shape) continue;
    outputs[k].has_shape = true;
    outputs[k].dims.push_back(Dim{});  // the iteration count: data-dependent
    outputs[k].dims.insert(outputs[k].dims.end(), each.dims.begin(), each.dims.end());
  }
  return Status::ok();
}

class Loop final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    body_ = node.subgraph_index("body");
    if (body_ < 0) return invalid_model("Loop needs a 'body' graph");
    if (node.inputs.size() < 2) return invalid_model("Loop needs M and cond (either may be empty)");
    carried_ = static_cast<int>(node.inputs.size()) - 2;
    scans_ = node.num_outputs - carried_;
    const SubgraphSignature& body = node.subgraphs[static_cast<size_t>(body_)];
    for (int k = 0; k < scans_; ++k) {
      // What a loop that runs zero times returns: the per-iteration shape as
      // far as it is known, unknown dims as 0 (there is nothing to stack).
      const TensorInfo& each = body.outputs[static_cast<size_t>(1 + carried_ + k)];
      empty_scans_.push_back(each.dtype == DataType::kUndefined ? DataType::kFloat : each.dtype);
      Shape shape = {0};
      for (const Dim& d : each.dims) shape.push_back(d.known() ? d.value : 0);
      empty_scan_shapes_.push_back(std::move(shape));
    }
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override;

 private:
  int carried_slot(int i, int parity) const { return 2 + 2 * i + parity; }
  int state_slot() const { return 2 + 2 * carried_; }
  int scan_slot(int k, int parity) const { return state_slot() + 1 + 2 * k + parity; }
  int scan_shape_slot(int k) const { return state_slot() + 1 + 2 * scans_ + k; }
  int dims_slot() const { return state_slot() + 1 + 3 * scans_; }

  Result<int64_t> trip_limit(KernelContext& ctx) const;
  Status bind_body_inputs(KernelContext& ctx, int64_t iteration, bool cond) const;
  Status carry(KernelContext& ctx, int parity) const;
  Status append_scans(KernelContext& ctx, int64_t iteration, int64_t* state) const;
  Status write_outputs(KernelContext& ctx, int64_t iterations, const int64_t* state) const;

  int body_ = -1;
  int carried_ = 0;  // N
  int scans_ = 0;    // K
  std::vector<DataType> empty_scans_;
  std::vector<Shape> empty_scan_shapes_;
};

Result<int64_t> Loop::trip_limit(KernelContext& ctx) const {
  const Tensor* m = ctx.input(0);
  if (!m) return std::numeric_limits<int64_t>::max();
  if (m->dtype() != DataType::kInt64 || m->num_elements() != 1) return bad_input("M must be one int64, got " + describe(*m));
  return std::max<int64_t>(m->data<int64_t>()[0], 0);
}

Status Loop::bind_body_inputs(KernelContext& ctx, int64_t iteration, bool cond) const {
  OM_ASSIGN_OR_RETURN(Tensor* it, scratch_of(ctx, 0, -1, DataType::kInt64));
  it->data<int64_t>()[0] = iteration;
  OM_ASSIGN_OR_RETURN(Tensor* c, scratch_of(ctx, 1, -1, DataType::kBool));
  c->data<bool>()[0] = cond;
  OM_ASSIGN_OR_RETURN(Tensor* in0, ctx.subgraph_input(body_, 0));
  *in0 = *it;
  OM_ASSIGN_OR_RETURN(Tensor* in1, ctx.subgraph_input(body_, 1));
  *in1 = *c;
  return Status::ok();  // the carried values are bound by run() and carry()
}

Status Loop::run(KernelContext& ctx) const {
  OM_ASSIGN_OR_RETURN(int64_t limit, trip_limit(ctx));
  bool cond = true;
  if (const Tensor* c = ctx.input(1)) {
    OM_ASSIGN_OR_RETURN(cond, read_condition(*c, "cond"));
  }
  // The carried values start as copies of the initial values (parity 0).
  for (int i = 0; i < carried_; ++i) {
    const Tensor* initial = ctx.input(2 + i);
    if (!initial) return bad_input("loop-carried value " + std::to_string(i) + " has no initial value");
    OM_ASSIGN_OR_RETURN(Tensor* t, ctx.scratch(carried_slot(i, 0), initial->shape(), initial->dtype()));
    if (initial->byte_size() > 0) std::memcpy(t->raw_data(), initial->raw_data(), initial->byte_size());
    OM_ASSIGN_OR_RETURN(Tensor* in, ctx.subgraph_input(body_, 2 + i));
    *in = *t;
  }
  OM_ASSIGN_OR_RETURN(Tensor* state_tensor, scratch_of(ctx, state_slot(), 3 * static_cast<int64_t>(scans_), DataType::kInt64));
  int64_t* state = state_tensor->data<int64_t>();
  std::fill(state, state + 3 * scans_, 0);
  int parity = 0;
  int64_t iteration = 0;
  for (; iteration < limit && cond; ++iteration) {
    OM_RETURN_IF_ERROR(bind_body_inputs(ctx, iteration, cond));
    OM_RETURN_IF_ERROR(ctx.run_subgraph(body_));
    OM_ASSIGN_OR_RETURN(const Tensor* cond_out, ctx.subgraph_output(body_, 0));
    OM_ASSIGN_OR_RETURN(cond, read_condition(*cond_out, "the body's condition output"));
    OM_RETURN_IF_ERROR(carry(ctx, 1 - parity));
    OM_RETURN_IF_ERROR(append_scans(ctx, iteration, state));
    parity = 1 - parity;
  }
  return write_outputs(ctx, iteration, state);
}

// The body's carried outputs become the next iteration's inputs (copied into
// `parity`: the other buffers are still bound as this iteration's inputs).
Status Loop::carry(KernelContext& ctx, int parity) const {
  for (int i = 0; i < carried_; ++i) {
    OM_ASSIGN_OR_RETURN(const Tensor* out, ctx.subgraph_output(body_, 1 + i));
    const Tensor* initial = ctx.input(2 + i);
    if (out->dtype() != initial->dtype()) {
      return bad_input("the body returns loop-carried value " + std::to_string(i) + " as " + dtype_name(out->dtype()) +
                       ", it entered as " + dtype_name(initial->dtype()));
    }
    OM_ASSIGN_OR_RETURN(Tensor* next, ctx.scratch(carried_slot(i, parity), out->shape(), out->dtype()));
    if (out->byte_size() > 0) std::memcpy(next->raw_data(), out->raw_data(), out->byte_size());
    OM_ASSIGN_OR_RETURN(Tensor* in, ctx.subgraph_input(body_, 2 + i));
    *in = *next;
  }
  return Status::ok();
}

// Appends this iteration's scan values to their stacks, doubling a stack's
// buffer (into the other parity) when it is full. state[3k..3k+2]: bytes
// used, bytes reserved, parity of scan output k.
Status Loop::append_scans(KernelContext& ctx, int64_t iteration, int64_t* state) const {
  for (int k = 0; k < scans_; ++k) {
    OM_ASSIGN_OR_RETURN(const Tensor* out, ctx.subgraph_output(body_, 1 + carried_ + k));
    OM_ASSIGN_OR_RETURN(Tensor* shape, scratch_of(ctx, scan_shape_slot(k), out->rank(), DataType::kInt64));
    if (iteration == 0) {
      std::copy(out->shape().begin(), out->shape().end(), shape->data<int64_t>());
    } else if (!std::equal(out->shape().begin(), out->shape().end(), shape->data<int64_t>())) {
      return bad_input("scan output " + std::to_string(k) + " changes shape from one iteration to the next (now " +
                       describe(*out) + ")");
    }
    int64_t* s = state + 3 * k;
    const int64_t bytes = static_cast<int64_t>(out->byte_size());
    if (s[0] + bytes > s[1]) {
      const int64_t reserved = std::max(2 * s[1], s[0] + bytes);
      const int old_parity = static_cast<int>(s[2]);
      // The buffer's data, not the Tensor*: asking for another scratch may move the tensors.
      OM_ASSIGN_OR_RETURN(Tensor* old_stack, scratch_of(ctx, scan_slot(k, old_parity), s[1], DataType::kUInt8));
      const void* old_bytes = old_stack->raw_data();
      OM_ASSIGN_OR_RETURN(Tensor* new_stack, scratch_of(ctx, scan_slot(k, 1 - old_parity), reserved, DataType::kUInt8));
      if (s[0] > 0) std::memcpy(new_stack->raw_data(), old_bytes, static_cast<size_t>(s[0]));
      s[1] = reserved;
      s[2] = 1 - old_parity;
    }
    OM_ASSIGN_OR_RETURN(Tensor* stack, scratch_of(ctx, scan_slot(k, static_cast<int>(s[2])), s[1], DataType::kUInt8));
    if (bytes > 0) std::memcpy(stack->data<uint8_t>() + s[0], out->raw_data(), static_cast<size_t>(bytes));
    s[0] += bytes;
  }
  return Status::ok();
}

Status Loop::write_outputs(KernelContext& ctx, int64_t iterations, const int64_t* state) const {
  for (int i = 0; i < carried_; ++i) {
    OM_ASSIGN_OR_RETURN(Tensor* in, ctx.subgraph_input(body_, 2 + i));  // the current value, bound as the next input
    OM_RETURN_IF_ERROR(copy_to_output(ctx, i, *in));
  }
  for (int k = 0; k < scans_; ++k) {
    const int out = carried_ + k;
    if (iterations == 0) {
      OM_RETURN_IF_ERROR(ctx.output(out, empty_scan_shapes_[static_cast<size_t>(k)], empty_scans_[static_cast<size_t>(k)]).status());
      continue;
    }
    OM_ASSIGN_OR_RETURN(const Tensor* last, ctx.subgraph_output(body_, 1 + carried_ + k));
    OM_ASSIGN_OR_RETURN(Tensor* dims, scratch_of(ctx, dims_slot(), last->rank() + 1, DataType::kInt64));
    int64_t* d = dims->data<int64_t>();
    d[0] = iterations;
    std::copy(last->shape().begin(), last->shape().end(), d + 1);
    OM_ASSIGN_OR_RETURN(Tensor* stacked, ctx.output_dims(out, std::span<const int64_t>(d, static_cast<size_t>(last->rank() + 1)), last->dtype()));
    const int64_t* s = state + 3 * k;
    OM_ASSIGN_OR_RETURN(Tensor* stack, scratch_of(ctx, scan_slot(k, static_cast<int>(s[2])), s[1], DataType::kUInt8));
    if (s[0] > 0) std::memcpy(stacked->raw_data(), stack->raw_data(), static_cast<size_t>(s[0]));
  }
  return Status::ok();
}

}  // namespace

void register_control_flow_ops(OpRegistry& r) {
  // The versions after 1 widened the types (sequences and optionals from 16,
  // float8/int4 from 19 and 21: refused at load) or relaxed If's branch
  // shapes (11), which the merge above already allows.
  r.add({.op_type = "If", .since_version = 1, .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = kVariadic,
         .attributes = {"then_branch", "else_branch"}, .infer = infer_if, .create = make_kernel<If>(),
         .also_since = {11, 13, 16, 19, 21}, .half_types = HalfTypes::kNative});
  // min_inputs 0: M and cond are optional yet positional (empty names), which
  // the loader's count of trailing empty inputs would refuse; infer_loop checks.
  r.add({.op_type = "Loop", .since_version = 1, .min_inputs = 0, .max_inputs = kVariadic, .min_outputs = 1,
         .max_outputs = kVariadic, .attributes = {"body"}, .infer = infer_loop, .create = make_kernel<Loop>(),
         .also_since = {11, 13, 16, 19, 21}, .half_types = HalfTypes::kNative});
}

}  // namespace onnx_mini
