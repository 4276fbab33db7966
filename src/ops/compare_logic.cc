// Comparisons (bool output, numpy broadcasting), boolean logic and Where.
#include "ops/broadcast.h"
#include "ops/elementwise_util.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

struct EqualOp {
  template <typename T> bool operator()(T a, T b) const { return a == b; }
};
struct LessOp {
  template <typename T> bool operator()(T a, T b) const { return a < b; }
};
struct GreaterOp {
  template <typename T> bool operator()(T a, T b) const { return a > b; }
};
struct LessOrEqualOp {
  template <typename T> bool operator()(T a, T b) const { return a <= b; }
};
struct GreaterOrEqualOp {
  template <typename T> bool operator()(T a, T b) const { return a >= b; }
};
struct AndOp {
  bool operator()(bool a, bool b) const { return a && b; }
};
struct OrOp {
  bool operator()(bool a, bool b) const { return a || b; }
};
struct XorOp {
  bool operator()(bool a, bool b) const { return a != b; }
};

Status infer_bool_broadcast(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_RETURN_IF_ERROR(infer_broadcast(node, outputs));
  outputs[0].dtype = DataType::kBool;
  return Status::ok();
}

// kAllowBool: Equal compares bools too; the ordering comparisons do not.
template <typename Op, bool kAllowBool>
class Compare final : public Kernel {
 public:
  Status init(const NodeInfo&) { return Status::ok(); }
  Status run(KernelContext& ctx) const override {
    const Tensor& a = *ctx.input(0);
    const Tensor& b = *ctx.input(1);
    if (a.dtype() != b.dtype()) {
      return bad_input("inputs 'A' and 'B' differ in dtype: " + dtype_name(a.dtype()) + " and " + dtype_name(b.dtype()));
    }
    if (!kAllowBool && a.dtype() == DataType::kBool) return unsupported("dtype bool");
    OM_ASSIGN_OR_RETURN(Shape shape, broadcast_shapes(a.shape(), b.shape()));
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, shape, DataType::kBool));
    bool ok = dispatch_dtype(a.dtype(), [&](auto tag) {
      using T = decltype(tag);
      broadcast_apply<T, T, bool>(a, b, *y, Op{});
    });
    return ok ? Status::ok() : unsupported("dtype " + dtype_name(a.dtype()));
  }
};

template <typename Op>
class Logic final : public Kernel {
 public:
  Status init(const NodeInfo&) { return Status::ok(); }
  Status run(KernelContext& ctx) const override {
    const Tensor& a = *ctx.input(0);
    const Tensor& b = *ctx.input(1);
    if (a.dtype() != DataType::kBool || b.dtype() != DataType::kBool) {
      return bad_input("inputs must be bool, got " + dtype_name(a.dtype()) + " and " + dtype_name(b.dtype()));
    }
    OM_ASSIGN_OR_RETURN(Shape shape, broadcast_shapes(a.shape(), b.shape()));
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, shape, DataType::kBool));
    broadcast_apply<bool, bool, bool>(a, b, *y, Op{});
    return Status::ok();
  }
};

class Not final : public Kernel {
 public:
  Status init(const NodeInfo&) { return Status::ok(); }
  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    if (x.dtype() != DataType::kBool) return bad_input("input 'X' must be bool, got " + dtype_name(x.dtype()));
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, x.shape(), DataType::kBool));
    for (int64_t i = 0; i < x.num_elements(); ++i) y->data<bool>()[i] = !x.data<bool>()[i];
    return Status::ok();
  }
};

// Where(condition, X, Y): three-way broadcast.
class Where final : public Kernel {
 public:
  Status init(const NodeInfo&) { return Status::ok(); }
  Status run(KernelContext& ctx) const override {
    const Tensor& c = *ctx.input(0);
    const Tensor& x = *ctx.input(1);
    const Tensor& y = *ctx.input(2);
    if (c.dtype() != DataType::kBool) return bad_input("input 'condition' must be bool, got " + dtype_name(c.dtype()));
    if (x.dtype() != y.dtype()) {
      return bad_input("inputs 'X' and 'Y' differ in dtype: " + dtype_name(x.dtype()) + " and " + dtype_name(y.dtype()));
    }
    OM_ASSIGN_OR_RETURN(Shape shape, broadcast_shapes_all({&c.shape(), &x.shape(), &y.shape()}));
    OM_ASSIGN_OR_RETURN(Tensor * out, ctx.output(0, shape, x.dtype()));
    std::array<std::vector<int64_t>, 3> strides{broadcast_strides(c.shape(), shape), broadcast_strides(x.shape(), shape),
                                                broadcast_strides(y.shape(), shape)};
    // A selection moves elements: one instantiation per element size serves
    // every dtype, float16 and bfloat16 included.
    bool ok = dispatch_size(dtype_size(x.dtype()), [&](auto tag) {
      using T = decltype(tag);
      const bool* pc = c.data<bool>();
      const T* px = x.data<T>();
      const T* py = y.data<T>();
      T* po = out->data<T>();
      for_each_broadcast<3>(shape, strides, [&](int64_t i, const std::array<int64_t, 3>& o) {
        po[i] = pc[o[0]] ? px[o[1]] : py[o[2]];
      });
    });
    return ok ? Status::ok() : unsupported("dtype " + dtype_name(x.dtype()));
  }
};

Status infer_where(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_RETURN_IF_ERROR(infer_broadcast(node, outputs));
  outputs[0].dtype = node.input(1)->dtype;
  return Status::ok();
}

Status infer_bool_same(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_RETURN_IF_ERROR(infer_same_as_input0(node, outputs));
  outputs[0].dtype = DataType::kBool;
  return Status::ok();
}

}  // namespace

void register_compare_logic_ops(OpRegistry& r) {
  // Later versions widened the type lists only (Equal-19 adds string, which
  // onnx-mini refuses at load).
  r.add({.op_type = "Equal", .since_version = 7, .min_inputs = 2, .max_inputs = 2, .infer = infer_bool_broadcast,
         .create = make_kernel<Compare<EqualOp, true>>(), .also_since = {11, 13, 19}});
  r.add({.op_type = "Less", .since_version = 7, .min_inputs = 2, .max_inputs = 2, .infer = infer_bool_broadcast,
         .create = make_kernel<Compare<LessOp, false>>(), .also_since = {9, 13}});
  r.add({.op_type = "Greater", .since_version = 7, .min_inputs = 2, .max_inputs = 2, .infer = infer_bool_broadcast,
         .create = make_kernel<Compare<GreaterOp, false>>(), .also_since = {9, 13}});
  r.add({.op_type = "LessOrEqual", .since_version = 12, .min_inputs = 2, .max_inputs = 2, .infer = infer_bool_broadcast,
         .create = make_kernel<Compare<LessOrEqualOp, false>>(), .also_since = {16}});
  r.add({.op_type = "GreaterOrEqual", .since_version = 12, .min_inputs = 2, .max_inputs = 2,
         .infer = infer_bool_broadcast, .create = make_kernel<Compare<GreaterOrEqualOp, false>>(), .also_since = {16}});
  r.add({.op_type = "Not", .since_version = 1, .infer = infer_bool_same, .create = make_kernel<Not>()});
  r.add({.op_type = "And", .since_version = 7, .min_inputs = 2, .max_inputs = 2, .infer = infer_bool_broadcast,
         .create = make_kernel<Logic<AndOp>>()});
  r.add({.op_type = "Or", .since_version = 7, .min_inputs = 2, .max_inputs = 2, .infer = infer_bool_broadcast,
         .create = make_kernel<Logic<OrOp>>()});
  r.add({.op_type = "Xor", .since_version = 7, .min_inputs = 2, .max_inputs = 2, .infer = infer_bool_broadcast,
         .create = make_kernel<Logic<XorOp>>()});
  r.add({.op_type = "Where", .since_version = 9, .min_inputs = 3, .max_inputs = 3, .infer = infer_where,
         .create = make_kernel<Where>(), .also_since = {16}, .half_types = HalfTypes::kNative});
}

}  // namespace onnx_mini
