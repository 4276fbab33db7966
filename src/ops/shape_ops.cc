// Ops that move or re-describe data without arithmetic: Identity, Constant,
// Flatten, Reshape, Shape, Size, Dropout (inference: identity).
#include <algorithm>
#include <array>
#include <cstring>

#include "core/printable.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

Status copy_to_output(KernelContext& ctx, const Tensor& x, const Shape& shape) {
  OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, shape, x.dtype()));
  if (x.byte_size()) std::memcpy(y->raw_data(), x.raw_data(), x.byte_size());
  return Status::ok();
}

class Identity final : public Kernel {
 public:
  Status init(const NodeInfo&) { return Status::ok(); }
  Status run(KernelContext& ctx) const override { return copy_to_output(ctx, *ctx.input(0), ctx.input(0)->shape()); }
};

// The value of a Constant node, from whichever of its attributes is set.
Result<Tensor> constant_value(const Attributes& attrs) {
  int count = 0;
  Tensor t;
  for (const auto& [name, a] : attrs.all()) {
    ++count;
    if (name == "value") {
      OM_ASSIGN_OR_RETURN(t, attrs.require_tensor("value"));
    } else if (name == "value_float") {
      OM_ASSIGN_OR_RETURN(float f, attrs.get_float(name, 0));
      t = Tensor::allocate(DataType::kFloat, {});
      *t.data<float>() = f;
    } else if (name == "value_int") {
      OM_ASSIGN_OR_RETURN(int64_t v, attrs.get_int(name, 0));
      t = Tensor::allocate(DataType::kInt64, {});
      *t.data<int64_t>() = v;
    } else if (name == "value_floats") {
      OM_ASSIGN_OR_RETURN(std::vector<float> v, attrs.get_floats(name));
      t = Tensor::allocate(DataType::kFloat, {static_cast<int64_t>(v.size())});
      std::copy(v.begin(), v.end(), t.data<float>());
    } else if (name == "value_ints") {
      OM_ASSIGN_OR_RETURN(std::vector<int64_t> v, attrs.get_ints(name));
      t = Tensor::allocate(DataType::kInt64, {static_cast<int64_t>(v.size())});
      std::copy(v.begin(), v.end(), t.data<int64_t>());
    } else {
      return unsupported("Constant attribute " + quote(name));
    }
  }
  if (count != 1) return invalid_model("Constant needs exactly one value attribute, got " + std::to_string(count));
  return t;
}

class Constant final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(value_, constant_value(node.attrs()));
    return Status::ok();
  }
  Status run(KernelContext& ctx) const override { return copy_to_output(ctx, value_, value_.shape()); }

 private:
  Tensor value_;
};

Status infer_constant(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_ASSIGN_OR_RETURN(Tensor t, constant_value(node.attrs()));
  outputs[0] = TensorInfo::of(t.dtype(), t.shape());
  return Status::ok();
}

// [outer, inner]: the dims before `axis_attr` and from it on, multiplied. A
// fixed array, so a run allocates nothing for it.
Result<std::array<int64_t, 2>> flatten_dims(const Shape& in, int64_t axis_attr) {
  const int64_t rank = static_cast<int64_t>(in.size());
  int64_t axis = axis_attr < 0 ? axis_attr + rank : axis_attr;
  if (axis < 0 || axis > rank) {
    return invalid_model("attribute 'axis' = " + std::to_string(axis_attr) + " is out of range [" + std::to_string(-rank) +
                         ", " + std::to_string(rank) + "] for input " + shape_to_string(in) + " of rank " + std::to_string(rank));
  }
  std::array<int64_t, 2> dims = {1, 1};
  for (int64_t d = 0; d < rank; ++d) dims[d < axis ? 0 : 1] *= in[static_cast<size_t>(d)];
  return dims;
}

class Flatten final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(axis_, node.attrs().get_int("axis", 1));
    return Status::ok();
  }
  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    OM_ASSIGN_OR_RETURN(auto dims, flatten_dims(x.shape(), axis_));
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output_dims(0, dims, x.dtype()));
    if (x.byte_size()) std::memcpy(y->raw_data(), x.raw_data(), x.byte_size());
    return Status::ok();
  }

 private:
  int64_t axis_ = 1;
};

Status infer_flatten(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* x = node.input(0);
  outputs[0].dtype = x->dtype;
  OM_ASSIGN_OR_RETURN(int64_t axis, node.attrs().get_int("axis", 1));
  if (!x->has_shape) return Status::ok();
  const int64_t rank = static_cast<int64_t>(x->dims.size());
  if (axis < -rank || axis > rank) {
    return invalid_model("attribute 'axis' = " + std::to_string(axis) + " is out of range [" + std::to_string(-rank) + ", " +
                         std::to_string(rank) + "] for input " + x->to_string() + " of rank " + std::to_string(rank));
  }
  if (axis < 0) axis += rank;
  outputs[0].has_shape = true;
  outputs[0].dims = {Dim{}, Dim{}};
  if (x->fully_known()) {
    OM_ASSIGN_OR_RETURN(auto dims, flatten_dims(x->concrete_shape(), axis));
    const Shape s{dims[0], dims[1]};
    outputs[0] = TensorInfo::of(x->dtype, s);
  } else if (axis == 1 && rank >= 1) {
    // [batch, ...] -> [batch, prod(rest)]: keep the symbolic batch dim.
    outputs[0].dims[0] = x->dims[0];
    bool rest_known = true;
    int64_t rest = 1;
    for (int64_t d = 1; d < rank; ++d) {
      rest_known = rest_known && x->dims[d].known();
      if (rest_known) rest *= x->dims[d].value;
    }
    if (rest_known) outputs[0].dims[1] = Dim{rest, ""};
  }
  return Status::ok();
}

std::string spec_to_string(const int64_t* spec, int64_t len) {
  return shape_to_string(Shape(spec, spec + len));
}

// The output shape of Reshape: 0 copies the input dim (unless allowzero), -1 is
// inferred. A spec that cannot hold the input's elements is bad input (exit 5);
// a valid one past the tensor size limit (zero-size, huge other dims) is a
// resource limit (exit 6, from the output's allocation). `known` saturates instead of overflowing: a product
// past 2^62 can never equal the input's count, which is at most 2^40.
Result<Shape> reshape_target(const Shape& in, const int64_t* spec, int64_t spec_len, bool allow_zero) {
  constexpr int64_t kSaturated = int64_t{1} << 62;
  Shape out(static_cast<size_t>(spec_len));
  int64_t infer_at = -1, known = 1;
  bool has_zero = false;
  for (int64_t i = 0; i < spec_len; ++i) {
    int64_t d = spec[i];
    if (d == -1) {
      if (infer_at >= 0) return bad_input("input 'shape' " + spec_to_string(spec, spec_len) + " has more than one -1");
      infer_at = i;
      continue;
    }
    if (d == 0 && !allow_zero) {
      if (i >= static_cast<int64_t>(in.size())) {
        return bad_input("input 'shape' " + spec_to_string(spec, spec_len) + " has 0 at index " + std::to_string(i) +
                         " past the rank of the data " + shape_to_string(in));
      }
      d = in[static_cast<size_t>(i)];
    }
    if (d < 0) return bad_input("input 'shape' " + spec_to_string(spec, spec_len) + " has invalid dim " + std::to_string(d));
    out[static_cast<size_t>(i)] = d;
    if (d == 0) {
      has_zero = true;
      continue;
    }
    auto m = checked_mul(known, d);
    known = m && *m < kSaturated ? *m : kSaturated;
  }
  if (has_zero) known = 0;
  int64_t total = num_elements(in);
  if (infer_at >= 0) {
    if (known == 0 || total % known != 0) {
      return bad_input("cannot reshape " + shape_to_string(in) + " with -1 into " + std::to_string(known) +
                       "-element blocks");
    }
    out[static_cast<size_t>(infer_at)] = total / known;
  } else if (known != total) {
    return bad_input("cannot reshape " + shape_to_string(in) + " (" + std::to_string(total) + " elements) to " +
                     shape_to_string(out));
  }
  return out;
}

class Reshape final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(int64_t az, node.attrs().get_int("allowzero", 0));
    allow_zero_ = az != 0;
    return Status::ok();
  }
  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Tensor& spec = *ctx.input(1);
    if (spec.dtype() != DataType::kInt64 || spec.rank() != 1) {
      return bad_input("input 'shape' must be a 1-D int64 tensor, got " + describe(spec));
    }
    OM_ASSIGN_OR_RETURN(Shape shape, reshape_target(x.shape(), spec.data<int64_t>(), spec.num_elements(), allow_zero_));
    return copy_to_output(ctx, x, shape);
  }

 private:
  bool allow_zero_ = false;
};

Status infer_reshape(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* x = node.input(0);
  const TensorInfo* spec = node.input(1);
  outputs[0].dtype = x->dtype;
  if (!spec->constant) {
    // A shape computed at run time (Shape -> Gather -> Concat, as exporters
    // write for a dynamic batch) still fixes the rank: its length. The
    // fusions that follow need ranks (attention's reshapes feed MatMuls).
    if (spec->has_shape && spec->dims.size() == 1 && spec->dims[0].known()) {
      outputs[0].has_shape = true;
      outputs[0].dims.assign(static_cast<size_t>(spec->dims[0].value), Dim{});
    }
    return Status::ok();
  }
  const Tensor& s = *spec->constant;
  if (s.dtype() != DataType::kInt64 || s.rank() != 1) return invalid_model("input 'shape' must be 1-D int64");
  OM_ASSIGN_OR_RETURN(int64_t az, node.attrs().get_int("allowzero", 0));
  if (x->fully_known()) {
    auto shape = reshape_target(x->concrete_shape(), s.data<int64_t>(), s.num_elements(), az != 0);
    if (!shape.is_ok()) return invalid_model(shape.status().message());
    outputs[0] = TensorInfo::of(x->dtype, shape.value());
    return Status::ok();
  }
  // Rank is known even when some dims are not.
  outputs[0].has_shape = true;
  outputs[0].dims.assign(static_cast<size_t>(s.num_elements()), Dim{});
  for (int64_t i = 0; i < s.num_elements(); ++i) {
    int64_t d = s.data<int64_t>()[i];
    if (d > 0) outputs[0].dims[i] = Dim{d, ""};
    if (d == 0 && az == 0 && x->has_shape && i < static_cast<int64_t>(x->dims.size())) outputs[0].dims[i] = x->dims[i];
  }
  return Status::ok();
}

// Shape-15 takes start/end (clamped into [0, rank] after adding rank to negatives).
class ShapeOp final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(start_, node.attrs().get_int("start", 0));
    has_end_ = node.attrs().has("end");
    OM_ASSIGN_OR_RETURN(end_, node.attrs().get_int("end", 0));
    return Status::ok();
  }
  std::pair<int64_t, int64_t> range(int64_t rank) const {
    auto clamp = [rank](int64_t v) {
      if (v < 0) v += rank;
      return std::clamp<int64_t>(v, 0, rank);
    };
    int64_t s = clamp(start_), e = has_end_ ? clamp(end_) : rank;
    return {s, std::max(s, e)};
  }
  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    auto [s, e] = range(x.rank());
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, {e - s}, DataType::kInt64));
    for (int64_t i = s; i < e; ++i) y->data<int64_t>()[i - s] = x.dim(i);
    return Status::ok();
  }

 private:
  int64_t start_ = 0, end_ = 0;
  bool has_end_ = false;
};

Status infer_shape_op(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* x = node.input(0);
  outputs[0].dtype = DataType::kInt64;
  outputs[0].has_shape = true;
  outputs[0].dims = {Dim{}};
  if (!x->has_shape) return Status::ok();
  ShapeOp op;
  OM_RETURN_IF_ERROR(op.init(node));
  auto [s, e] = op.range(static_cast<int64_t>(x->dims.size()));
  outputs[0].dims[0] = Dim{e - s, ""};
  return Status::ok();
}

class Size final : public Kernel {
 public:
  Status init(const NodeInfo&) { return Status::ok(); }
  Status run(KernelContext& ctx) const override {
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, {}, DataType::kInt64));
    *y->data<int64_t>() = ctx.input(0)->num_elements();
    return Status::ok();
  }
};

Status infer_size(const NodeInfo&, std::vector<TensorInfo>& outputs) {
  outputs[0] = TensorInfo::of(DataType::kInt64, {});
  return Status::ok();
}

// Dropout at inference is the identity. The optional mask is all true (bool from
// opset 10; before that it has the input's dtype, all ones). training_mode = true
// (Dropout-12's third input) would need random numbers: unsupported, except with
// ratio 0, where training mode is the identity too.
class Dropout final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    bool_mask_ = node.since_version >= 10;
    if (node.since_version < 7) {
      OM_ASSIGN_OR_RETURN(int64_t is_test, node.attrs().get_int("is_test", 0));
      if (!is_test) return unsupported("Dropout with is_test=0 (training) is not supported");
    }
    return Status::ok();
  }
  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    if (const Tensor* t = ctx.input(2)) {
      if (t->dtype() != DataType::kBool || t->num_elements() != 1) {
        return bad_input("input 'training_mode' must be a bool scalar, got " + describe(*t));
      }
      if (t->data<bool>()[0]) {
        // Training mode drops nothing when ratio is 0 (deterministic); any other ratio needs an RNG.
        const Tensor* r = ctx.input(1);
        double ratio = 0.5;  // the spec's default
        if (r) {
          if (r->num_elements() != 1) return bad_input("input 'ratio' must be a scalar, got " + describe(*r));
          if (r->dtype() == DataType::kFloat) ratio = r->data<float>()[0];
          else if (r->dtype() == DataType::kDouble) ratio = r->data<double>()[0];
          else return bad_input("input 'ratio' must be float or double, got " + describe(*r));
        }
        if (ratio != 0) {
          return unsupported("input 'training_mode' is true with ratio " + std::to_string(ratio) +
                             ": training-mode Dropout is not supported");
        }
      }
    }
    OM_RETURN_IF_ERROR(copy_to_output(ctx, x, x.shape()));
    if (ctx.output_wanted(1)) {
      const DataType mt = bool_mask_ ? DataType::kBool : x.dtype();
      OM_ASSIGN_OR_RETURN(Tensor * m, ctx.output(1, x.shape(), mt));
      bool ok = dispatch_dtype(mt, [&](auto tag) {
        using T = decltype(tag);
        std::fill(m->data<T>(), m->data<T>() + m->num_elements(), T{1});
      });
      if (!ok) return unsupported("mask dtype " + dtype_name(mt));
    }
    return Status::ok();
  }

 private:
  bool bool_mask_ = true;
};

Status infer_dropout(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_RETURN_IF_ERROR(infer_same_as_input0(node, outputs));
  if (outputs.size() > 1) {
    outputs[1] = outputs[0];
    if (node.since_version >= 10) outputs[1].dtype = DataType::kBool;
  }
  return Status::ok();
}

}  // namespace

void register_shape_ops(OpRegistry& r) {
  // Every op here moves bytes or reads shapes only, so float16 and bfloat16
  // pass through natively. Versions listed in also_since widened the types only.
  constexpr HalfTypes kNative = HalfTypes::kNative;
  r.add({.op_type = "Identity", .since_version = 1, .infer = infer_same_as_input0, .create = make_kernel<Identity>(),
         .also_since = {13, 14, 16, 19, 21}, .half_types = kNative});
  // Constant: 11 added `sparse_value` (refused when used: no sparse tensors),
  // 12 the value_float(s)/value_int(s)/value_string(s) shorthands.
  r.add({.op_type = "Constant", .since_version = 1, .min_inputs = 0, .max_inputs = 0, .attributes = {"value"},
         .infer = infer_constant, .create = make_kernel<Constant>(), .also_since = {9}, .half_types = kNative});
  r.add({.op_type = "Constant", .since_version = 11, .min_inputs = 0, .max_inputs = 0,
         .attributes = {"value", "sparse_value"}, .infer = infer_constant, .create = make_kernel<Constant>(),
         .half_types = kNative});
  r.add({.op_type = "Constant", .since_version = 12, .min_inputs = 0, .max_inputs = 0,
         .attributes = {"value", "value_float", "value_floats", "value_int", "value_ints", "value_string",
                        "value_strings", "sparse_value"},
         .infer = infer_constant, .create = make_kernel<Constant>(), .also_since = {13, 19, 21}, .half_types = kNative});
  // Flatten-11 allows a negative axis (the kernel always did).
  r.add({.op_type = "Flatten", .since_version = 1, .attributes = {"axis"}, .infer = infer_flatten,
         .create = make_kernel<Flatten>(), .also_since = {9, 11, 13, 21}, .half_types = kNative});
  // Reshape-14 adds `allowzero`.
  r.add({.op_type = "Reshape", .since_version = 5, .min_inputs = 2, .max_inputs = 2, .infer = infer_reshape,
         .create = make_kernel<Reshape>(), .also_since = {13}, .half_types = kNative});
  r.add({.op_type = "Reshape", .since_version = 14, .min_inputs = 2, .max_inputs = 2, .attributes = {"allowzero"},
         .infer = infer_reshape, .create = make_kernel<Reshape>(), .also_since = {19, 21}, .half_types = kNative});
  r.add({.op_type = "Shape", .since_version = 1, .infer = infer_shape_op, .create = make_kernel<ShapeOp>(),
         .also_since = {13}, .half_types = kNative});
  r.add({.op_type = "Shape", .since_version = 15, .attributes = {"start", "end"}, .infer = infer_shape_op,
         .create = make_kernel<ShapeOp>(), .also_since = {19, 21}, .half_types = kNative});
  r.add({.op_type = "Size", .since_version = 1, .infer = infer_size, .create = make_kernel<Size>(),
         .also_since = {13, 19, 21}, .half_types = kNative});
  // Dropout's mask is of the input's type before 10: computed in float32 like
  // any other op then (an inference Dropout is an identity, removed at -O1).
  r.add({.op_type = "Dropout", .since_version = 6, .max_outputs = 2, .attributes = {"is_test", "ratio"},
         .infer = infer_dropout, .create = make_kernel<Dropout>()});
  r.add({.op_type = "Dropout", .since_version = 7, .max_outputs = 2, .attributes = {"ratio"}, .infer = infer_dropout,
         .create = make_kernel<Dropout>()});
  r.add({.op_type = "Dropout", .since_version = 10, .max_outputs = 2, .attributes = {"ratio"}, .infer = infer_dropout,
         .create = make_kernel<Dropout>()});
  r.add({.op_type = "Dropout", .since_version = 12, .max_inputs = 3, .max_outputs = 2, .attributes = {"seed"},
         .infer = infer_dropout, .create = make_kernel<Dropout>(), .also_since = {13}});
}

}  // namespace onnx_mini
