// LpNormalization (opset 1): every vector along `axis` divided by its L1 or L2
// norm. As ONNX Runtime does: a zero vector gives zeros (not 0/0 = NaN); a
// finite vector is first scaled by its largest magnitude, so forming the norm
// can neither overflow nor underflow (a double vector of 1e200s normalises
// fine); a vector holding an Inf or NaN is divided by its plain norm (Inf / Inf
// = NaN, finite / Inf = 0, NaN spreads). Norms are accumulated in double.
#include <algorithm>
#include <cmath>
#include <string>

#include "ops/plane_tasks.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

struct LpNormAttrs {
  int64_t axis = -1;
  int64_t p = 2;
};

Result<LpNormAttrs> parse_lp_norm(const Attributes& attrs) {
  LpNormAttrs a;
  OM_ASSIGN_OR_RETURN(a.axis, attrs.get_int("axis", -1));
  OM_ASSIGN_OR_RETURN(a.p, attrs.get_int("p", 2));
  if (a.p != 1 && a.p != 2) return invalid_model("attribute 'p' is " + std::to_string(a.p) + ", expected 1 or 2");
  return a;
}

Status infer_lp_norm(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_ASSIGN_OR_RETURN(LpNormAttrs a, parse_lp_norm(node.attrs()));
  const TensorInfo& x = *node.input(0);
  if (x.has_shape) OM_RETURN_IF_ERROR(normalize_axis(a.axis, static_cast<int64_t>(x.dims.size())).status());
  return infer_same_as_input0(node, outputs);
}

// sum |v|^p over n values `stride` apart, each divided by `scale` first.
template <typename T>
double lp_sum(const T* v, int64_t n, int64_t stride, double scale, int64_t p) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double e = std::abs(static_cast<double>(v[i * stride])) / scale;
    sum += p == 1 ? e : e * e;
  }
  return sum;
}

template <typename T>
void normalize_vector(const T* x, T* y, int64_t n, int64_t stride, int64_t p) {
  double largest = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double e = std::abs(static_cast<double>(x[i * stride]));
    largest = std::isnan(e) || std::isnan(largest) ? NAN : std::max(largest, e);
  }
  if (largest == 0) {
    for (int64_t i = 0; i < n; ++i) y[i * stride] = T(0);
    return;
  }
  const double scale = std::isfinite(largest) ? largest : 1.0;
  const double sum = lp_sum(x, n, stride, scale, p);
  const double norm = (p == 1 ? sum : std::sqrt(sum)) * scale;
  for (int64_t i = 0; i < n; ++i) y[i * stride] = static_cast<T>(static_cast<double>(x[i * stride]) / norm);
}

class LpNormalization final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(attrs_, parse_lp_norm(node.attrs()));
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    if (x.dtype() != DataType::kFloat && x.dtype() != DataType::kDouble) {
      return unsupported("input 'input' is " + dtype_name(x.dtype()) + "; expected float or double");
    }
    auto axis = normalize_axis(attrs_.axis, x.rank());
    if (!axis.is_ok()) return bad_input("input 'input' " + describe(x) + ": " + axis.status().message());
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, x.shape(), x.dtype()));
    if (x.num_elements() == 0) return Status::ok();
    int64_t inner = 1;
    for (int64_t d = axis.value() + 1; d < x.rank(); ++d) inner *= x.dim(d);
    const int64_t n = x.dim(axis.value()), vectors = x.num_elements() / n;
    if (x.dtype() == DataType::kFloat) compute<float>(x.data<float>(), y->data<float>(), n, inner, vectors, ctx.thread_pool());
    else compute<double>(x.data<double>(), y->data<double>(), n, inner, vectors, ctx.thread_pool());
    return Status::ok();
  }

 private:
  // Vector v starts at (v / inner) * n * inner + v % inner, elements inner apart.
  template <typename T>
  void compute(const T* x, T* y, int64_t n, int64_t inner, int64_t vectors, ThreadPool* pool) const {
    for_each_item_block(pool, vectors, 3 * n, [&](int64_t first, int64_t count) {
      for (int64_t v = first; v < first + count; ++v) {
        const int64_t start = (v / inner) * n * inner + v % inner;
        normalize_vector(x + start, y + start, n, inner, attrs_.p);
      }
    });
  }

  LpNormAttrs attrs_;
};

}  // namespace

void register_lp_norm_ops(OpRegistry& r) {
  // Version 22 only widened the types (bfloat16, float16), past the opsets onnx-mini loads.
  r.add({.op_type = "LpNormalization", .since_version = 1, .attributes = {"axis", "p"}, .infer = infer_lp_norm,
         .create = make_kernel<LpNormalization>()});
}

}  // namespace onnx_mini
