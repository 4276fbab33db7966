// GroupNormalization: X [N, C, D1, ..., Dk] is split into num_groups groups of
// C / num_groups consecutive channels; each [n, group] block (contiguous) is
// normalised by its own mean and biased variance,
//   y = (x - mean) / sqrt(var + epsilon) * scale + bias.
// Version 18 gives scale and bias one value per group; version 21 (which
// deprecates 18) one per channel and adds stash_type, the precision of the
// statistics. Both versions accumulate the statistics here in double, in two
// passes (mean first, then squared deviations: no cancellation), which is at
// least the precision any stash_type asks for; stash_type 1 (float, the
// default) and 11 (double) are accepted, the 16-bit ones refused, since their
// results would be coarser than ours. float and double are computed natively,
// float16 and bfloat16 in float (ops/registry.h).
#include <cmath>
#include <string>

#include "ops/plane_tasks.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

constexpr int64_t kStashFloat = 1, kStashDouble = 11;

struct GroupNormAttrs {
  float epsilon = 1e-5f;
  int64_t num_groups = 0;
  bool per_channel = true;  // version 21: scale/bias of C values; 18: of num_groups
};

Result<GroupNormAttrs> parse_group_norm(const NodeInfo& node) {
  GroupNormAttrs a;
  OM_ASSIGN_OR_RETURN(a.epsilon, node.attrs().get_float("epsilon", 1e-5f));
  if (!(a.epsilon >= 0)) return invalid_model("attribute 'epsilon' is " + std::to_string(a.epsilon) + ", expected >= 0");
  OM_ASSIGN_OR_RETURN(a.num_groups, node.attrs().require_int("num_groups"));
  if (a.num_groups < 1) return invalid_model("attribute 'num_groups' is " + std::to_string(a.num_groups) + ", expected >= 1");
  a.per_channel = node.since_version >= 21;
  if (a.per_channel) {
    OM_ASSIGN_OR_RETURN(int64_t stash, node.attrs().get_int("stash_type", kStashFloat));
    if (stash != kStashFloat && stash != kStashDouble) {
      return unsupported("stash_type " + std::to_string(stash) + " is not supported (1, float, or 11, double)");
    }
  }
  return a;
}

bool float_or_double(DataType t) { return t == DataType::kFloat || t == DataType::kDouble; }

// What version 18 or 21 wants of scale and bias for C channels.
int64_t param_count(const GroupNormAttrs& a, int64_t channels) { return a.per_channel ? channels : a.num_groups; }

Status check_channels(int64_t channels, int64_t groups) {
  if (channels % groups == 0) return Status::ok();
  return invalid_model("input 'X' has " + std::to_string(channels) + " channels, not divisible by num_groups " +
                       std::to_string(groups));
}

Status infer_group_norm(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_ASSIGN_OR_RETURN(GroupNormAttrs a, parse_group_norm(node));
  const TensorInfo& x = *node.input(0);
  const char* names[] = {"X", "scale", "bias"};
  for (size_t i = 0; i < 3; ++i) {
    const TensorInfo* t = node.input(i);
    if (t->dtype != DataType::kUndefined && t->dtype != x.dtype) {
      return invalid_model(std::string("input '") + names[i] + "' is " + dtype_name(t->dtype) + ", X is " +
                           dtype_name(x.dtype));
    }
  }
  if (x.has_shape && x.dims.size() < 2) return invalid_model("input 'X' " + x.to_string() + " needs rank >= 2 ([N, C, ...])");
  if (x.has_shape && x.dims[1].known()) {
    const int64_t channels = x.dims[1].value;
    OM_RETURN_IF_ERROR(check_channels(channels, a.num_groups));
    for (size_t i = 1; i < 3; ++i) {
      const TensorInfo* p = node.input(i);
      if (!p->fully_known()) continue;
      const int64_t want = param_count(a, channels);
      if (p->dims.size() != 1 || p->dims[0].value != want) {
        return invalid_model(std::string("input '") + names[i] + "' " + p->to_string() + " should be [" +
                             std::to_string(want) + "] (" + (a.per_channel ? "C" : "num_groups") + ")");
      }
    }
  }
  return infer_same_as_input0(node, outputs);
}

class GroupNormalization final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(attrs_, parse_group_norm(node));
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    if (!float_or_double(x.dtype())) return unsupported("input 'X' is " + dtype_name(x.dtype()) + "; expected float or double");
    if (x.rank() < 2) return bad_input("input 'X' is " + describe(x) + "; expected [N, C, ...]");
    const int64_t channels = x.dim(1);
    if (channels % attrs_.num_groups != 0) {
      return bad_input("input 'X' " + describe(x) + " has " + std::to_string(channels) +
                       " channels, not divisible by num_groups " + std::to_string(attrs_.num_groups));
    }
    const int64_t params = param_count(attrs_, channels);
    const char* names[] = {"scale", "bias"};
    for (int i = 1; i < 3; ++i) {
      const Tensor& p = *ctx.input(i);
      if (p.dtype() != x.dtype() || p.rank() != 1 || p.dim(0) != params) {
        return bad_input(std::string("input '") + names[i - 1] + "' is " + describe(p) + "; expected [" +
                         std::to_string(params) + "] of " + dtype_name(x.dtype()));
      }
    }
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, x.shape(), x.dtype()));
    if (x.dtype() == DataType::kFloat) compute<float>(x, *ctx.input(1), *ctx.input(2), *y, ctx.thread_pool());
    else compute<double>(x, *ctx.input(1), *ctx.input(2), *y, ctx.thread_pool());
    return Status::ok();
  }

 private:
  template <typename T>
  void compute(const Tensor& x, const Tensor& scale, const Tensor& bias, Tensor& y, ThreadPool* pool) const {
    const int64_t channels = x.dim(1), groups = attrs_.num_groups;
    const int64_t blocks = x.dim(0) * groups;  // one [n, group] block each
    if (blocks == 0 || x.num_elements() == 0) return;
    const int64_t block = x.num_elements() / blocks;  // channels per group x spatial
    const int64_t plane = block / (channels / groups);
    const T *px = x.data<T>(), *ps = scale.data<T>(), *pb = bias.data<T>();
    T* py = y.data<T>();
    for_each_item_block(pool, blocks, 3 * block, [&](int64_t first, int64_t count) {
      for (int64_t b = first; b < first + count; ++b) {
        const int64_t g = b % groups;
        normalize_block(px + b * block, py + b * block, block, plane, g, ps, pb);
      }
    });
  }

  // One group's block of channels_per_group planes; the parameters of its
  // first channel are at g * channels_per_group (per channel) or g (per group).
  template <typename T>
  void normalize_block(const T* x, T* y, int64_t n, int64_t plane, int64_t g, const T* scale, const T* bias) const {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += x[i];
    const double mean = sum / static_cast<double>(n);
    double squares = 0;
    for (int64_t i = 0; i < n; ++i) squares += (x[i] - mean) * (x[i] - mean);
    const double inv_std = 1 / std::sqrt(squares / static_cast<double>(n) + attrs_.epsilon);
    const int64_t planes = n / plane;
    const T mean_t = static_cast<T>(mean);
    for (int64_t c = 0; c < planes; ++c) {
      const int64_t p = attrs_.per_channel ? g * planes + c : g;
      // y = (x - mean) * a + bias: x - mean is exact when x is near the mean
      // (a constant group gives the bias exactly, as the spec's 0 / sqrt(eps)).
      const T a = static_cast<T>(inv_std * static_cast<double>(scale[p])), b = bias[p];
      for (int64_t i = c * plane; i < (c + 1) * plane; ++i) y[i] = (x[i] - mean_t) * a + b;
    }
  }

  GroupNormAttrs attrs_;
};

}  // namespace

void register_group_norm_ops(OpRegistry& r) {
  r.add({.op_type = "GroupNormalization", .since_version = 18, .min_inputs = 3, .max_inputs = 3,
         .attributes = {"epsilon", "num_groups"}, .infer = infer_group_norm,
         .create = make_kernel<GroupNormalization>()});
  r.add({.op_type = "GroupNormalization", .since_version = 21, .min_inputs = 3, .max_inputs = 3,
         .attributes = {"epsilon", "num_groups", "stash_type"}, .infer = infer_group_norm,
         .create = make_kernel<GroupNormalization>()});
}

}  // namespace onnx_mini
