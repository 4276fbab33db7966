// TopK: the k largest (or smallest) elements along one axis, and their indices.
//
// Order: by value, equal values by the lower index (the spec's tie rule). NaN
// ranks above every number, NaNs among themselves by index, so NaNs come first
// when largest=1 and last when largest=0: the order of numpy's sort, PyTorch's
// topk and the ONNX reference. ONNX Runtime 1.30 has no rule to copy: its
// comparator is not an ordering once NaN is in (on [1, NaN, 3, NaN, 3, -0],
// largest k=1 gives 3, k=2 gives [1, NaN], k=3 gives [NaN, 3, 3]). -0 and +0 are
// equal values.
//
// Selection, never a sort of the whole axis: for k <= n / 16 one pass with a
// heap of the k best (O(n log k) at worst, ~n vectorised comparisons on typical data);
// above, nth_element on the row's (value, index) pairs then a sort of the k
// (O(n + k log k) on average). Scratch is per thread (ops/scratch.h), so a
// steady-state run allocates nothing. sorted=0 leaves the order to the
// implementation; the k are returned sorted all the same (one code path).
//
// float16 and bfloat16 values are widened to float32 (exact, so the order and
// the rounded-back values are exact).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <type_traits>

#include "ops/broadcast.h"
#include "ops/index_util.h"
#include "ops/parallel.h"
#include "ops/registry.h"
#include "ops/scratch.h"

namespace onnx_mini {
namespace {

template <typename T>
struct Entry {
  T value;
  int64_t index;
};

template <typename T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
  return false;
}

// a comes before b in the output (a strict total order on (NaN, value, index)).
template <typename T, bool kLargest>
struct Before {
  bool operator()(const Entry<T>& a, const Entry<T>& b) const {
    const bool an = is_nan(a.value), bn = is_nan(b.value);
    if (an != bn) return kLargest ? an : bn;
    if (!an && a.value != b.value) return kLargest ? a.value > b.value : a.value < b.value;
    return a.index < b.index;
  }
};

// The geometry of one run: outer x n x inner, the axis of length n in the middle.
struct RowShape {
  int64_t outer = 1, n = 1, inner = 1, k = 0;
  int64_t rows() const { return outer * inner; }
};

// v, read after every kept element, ranks before the kept worst w (a tie
// loses: the kept one has the lower index). Branch-free, so the block test
// below vectorises.
template <typename T, bool kLargest>
bool beats(T v, T w) {
  if constexpr (std::is_floating_point_v<T>) {
    // NaN ranks above every number: with largest a NaN beats any number and
    // nothing beats a NaN; with smallest any number beats a NaN.
    if constexpr (kLargest) return (v > w) | ((v != v) & (w == w));
    else return (v < w) | ((w != w) & (v == v));
  }
  return kLargest ? v > w : v < w;
}

// Small k (at most n / 16): one pass keeping the k best seen so far in a heap
// whose root is the worst of them. Blocks of elements are first tested
// against the root's value at once; most blocks hold nothing better and are
// skipped. O(n log k) at worst (every element better than the root), ~n
// vectorised comparisons on typical data, and only k entries of scratch.
template <typename T, bool kLargest>
void select_by_heap(const T* in, int64_t stride, int64_t n, int64_t k, Entry<T>* work, const Before<T, kLargest>& before) {
  for (int64_t i = 0; i < k; ++i) work[i] = {in[i * stride], i};
  std::make_heap(work, work + k, before);
  T worst = work[0].value;
  constexpr int64_t kBlock = 32;
  for (int64_t i = k; i < n;) {
    const int64_t end = std::min(n, i + kBlock);
    bool any = false;
    for (int64_t j = i; j < end; ++j) any |= beats<T, kLargest>(in[j * stride], worst);
    if (!any) {
      i = end;
      continue;
    }
    for (; i < end; ++i) {
      const T v = in[i * stride];
      if (!beats<T, kLargest>(v, worst)) continue;
      std::pop_heap(work, work + k, before);
      work[k - 1] = {v, i};
      std::push_heap(work, work + k, before);
      worst = work[0].value;
    }
  }
  std::sort_heap(work, work + k, before);
}

// Larger k: the whole row in scratch, nth_element (introselect: O(n) on
// average, O(n log n) at worst) moves the k best to the front, then only those
// k are sorted.
template <typename T, bool kLargest>
void select_by_partition(const T* in, int64_t stride, int64_t n, int64_t k, Entry<T>* work, const Before<T, kLargest>& before) {
  for (int64_t i = 0; i < n; ++i) work[i] = {in[i * stride], i};
  if (k < n) std::nth_element(work, work + k, work + n, before);
  std::sort(work, work + k, before);
}

template <typename T, bool kLargest>
void select_row(const T* x, T* values, int64_t* indices, const RowShape& s, int64_t row) {
  const int64_t o = row / s.inner, j = row % s.inner;
  const T* in = x + o * s.n * s.inner + j;
  const bool small_k = s.k * 16 <= s.n;
  const size_t bytes = static_cast<size_t>(small_k ? s.k : s.n) * sizeof(Entry<T>);
  auto* work = reinterpret_cast<Entry<T>*>(thread_scratch(ScratchSlot::kIndexWork, static_cast<int64_t>(bytes / sizeof(float) + 1)));
  const Before<T, kLargest> before;
  if (small_k) select_by_heap(in, s.inner, s.n, s.k, work, before);
  else select_by_partition(in, s.inner, s.n, s.k, work, before);
  T* v = values + o * s.k * s.inner + j;
  int64_t* idx = indices + o * s.k * s.inner + j;
  for (int64_t i = 0; i < s.k; ++i) {
    v[i * s.inner] = work[i].value;
    idx[i * s.inner] = work[i].index;
  }
}

// Rows are independent: large inputs split them over the session's threads
// (each thread has its own scratch).
template <typename T, bool kLargest>
void select_rows(const T* x, T* values, int64_t* indices, const RowShape& s, ThreadPool* pool) {
  constexpr int64_t kMinElementsPerTask = 1 << 14;
  const int64_t rows_per_task = std::max<int64_t>(1, kMinElementsPerTask / std::max<int64_t>(s.n, 1));
  const int64_t tasks = (s.rows() + rows_per_task - 1) / rows_per_task;
  for_each_task(pool, tasks, [&](int64_t t) {
    const int64_t end = std::min(s.rows(), (t + 1) * rows_per_task);
    for (int64_t row = t * rows_per_task; row < end; ++row) select_row<T, kLargest>(x, values, indices, s, row);
  });
}

// k from the K input (opset 10+): a 1-D int64 tensor of one element.
Result<int64_t> read_k(const Tensor& k) {
  if (k.dtype() != DataType::kInt64 || k.rank() != 1 || k.num_elements() != 1) {
    return bad_input("input 'K' must be a 1-D int64 tensor of one element, got " + describe(k));
  }
  return k.data<int64_t>()[0];
}

Status check_k(int64_t k, int64_t axis, int64_t dim, const char* source) {
  if (k < 0) return bad_input(std::string(source) + ": k = " + std::to_string(k) + " is negative");
  if (k > dim) {
    return bad_input(std::string(source) + ": k = " + std::to_string(k) + " is larger than axis " + std::to_string(axis) +
                     " of input 'X' (size " + std::to_string(dim) + ")");
  }
  return Status::ok();
}

Result<bool> flag(const NodeInfo& node, const char* name) {
  OM_ASSIGN_OR_RETURN(int64_t v, node.attrs().get_int(name, 1));
  if (v != 0 && v != 1) return invalid_model(std::string("attribute '") + name + "' must be 0 or 1, got " + std::to_string(v));
  return v == 1;
}

class TopK final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(axis_, node.attrs().get_int("axis", -1));
    if (node.since_version < 10) {
      OM_ASSIGN_OR_RETURN(attr_k_, node.attrs().require_int("k"));
      if (attr_k_ < 0) return invalid_model("attribute 'k' = " + std::to_string(attr_k_) + " is negative");
    }
    if (node.since_version >= 11) {
      OM_ASSIGN_OR_RETURN(largest_, flag(node, "largest"));
      // sorted=0 allows any order; the k are returned sorted (see the top).
      OM_RETURN_IF_ERROR(flag(node, "sorted").status());
    }
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    if (x.rank() < 1) return bad_input("input 'X' must have rank >= 1, got " + describe(x));
    auto a = normalize_axis(axis_, x.rank());
    if (!a.is_ok()) return bad_input("attribute 'axis': " + a.status().message());
    RowShape s;
    OM_ASSIGN_OR_RETURN(s.k, attr_k_ >= 0 ? Result<int64_t>(attr_k_) : read_k(*ctx.input(1)));
    OM_RETURN_IF_ERROR(check_k(s.k, a.value(), x.dim(a.value()), attr_k_ >= 0 ? "attribute 'k'" : "input 'K'"));
    for (int64_t d = 0; d < x.rank(); ++d) {
      if (d < a.value()) s.outer *= x.dim(d);
      if (d == a.value()) s.n = x.dim(d);
      if (d > a.value()) s.inner *= x.dim(d);
    }
    // The output dims are X's with the axis shortened to k: no Shape is built per run.
    DimScratch dims(static_cast<size_t>(x.rank()));
    std::copy(x.shape().begin(), x.shape().end(), dims.data());
    dims.data()[a.value()] = s.k;
    OM_ASSIGN_OR_RETURN(Tensor * values, ctx.output_dims(0, dims.span(), x.dtype()));
    OM_ASSIGN_OR_RETURN(Tensor * indices, ctx.output_dims(1, dims.span(), DataType::kInt64));
    if (values->num_elements() == 0) return Status::ok();
    const bool known = dispatch_arithmetic(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      if (largest_) select_rows<T, true>(x.data<T>(), values->data<T>(), indices->data<int64_t>(), s, ctx.thread_pool());
      else select_rows<T, false>(x.data<T>(), values->data<T>(), indices->data<int64_t>(), s, ctx.thread_pool());
    });
    if (!known) return unsupported("input 'X' of dtype " + dtype_name(x.dtype()));
    return Status::ok();
  }

 private:
  int64_t axis_ = -1;
  int64_t attr_k_ = -1;  // opset 1's attribute; -1 when k is the K input
  bool largest_ = true;
};

// k when it is known at load: opset 1's attribute or a constant K input.
Result<std::optional<int64_t>> static_k(const NodeInfo& node) {
  if (node.since_version < 10) {
    OM_ASSIGN_OR_RETURN(int64_t k, node.attrs().require_int("k"));
    return std::optional<int64_t>(k);
  }
  const TensorInfo* k = node.input(1);
  if (!k->constant) return std::optional<int64_t>();
  auto value = read_k(*k->constant);
  if (!value.is_ok()) return as_initializer_error(value.status());
  return std::optional<int64_t>(value.value());
}

Status infer_topk(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* x = node.input(0);
  if (x->dtype == DataType::kBool) return invalid_model("input 'X' of dtype bool: TopK takes numeric types");
  if (node.since_version >= 10 && node.input(1)->dtype != DataType::kUndefined && node.input(1)->dtype != DataType::kInt64) {
    return invalid_model("input 'K' must be int64, got " + dtype_name(node.input(1)->dtype));
  }
  outputs[0].dtype = x->dtype;
  outputs[1].dtype = DataType::kInt64;
  OM_ASSIGN_OR_RETURN(std::optional<int64_t> k, static_k(node));
  const char* source = node.since_version < 10 ? "attribute 'k'" : "initializer input 'K'";
  if (k && *k < 0) return invalid_model(check_k(*k, 0, 0, source).message());
  if (!x->has_shape) return Status::ok();
  OM_ASSIGN_OR_RETURN(int64_t axis, node.attrs().get_int("axis", -1));
  auto a = normalize_axis(axis, static_cast<int64_t>(x->dims.size()));
  if (!a.is_ok()) return invalid_model("attribute 'axis': " + a.status().message());
  const auto ax = static_cast<size_t>(a.value());
  Dim kdim;
  if (k) {
    // Against the axis size when it is known, else only the sign.
    const Dim& d = x->dims[ax];
    const Status st = check_k(*k, a.value(), d.known() ? d.value : INT64_MAX, source);
    if (!st.is_ok()) return invalid_model(st.message());
    kdim.value = *k;
  }
  for (TensorInfo& out : outputs) {
    out.has_shape = true;
    out.dims = x->dims;
    out.dims[ax] = kdim;
  }
  return Status::ok();
}

}  // namespace

void register_topk_ops(OpRegistry& r) {
  // 1: k is an attribute; 10: k is the input K; 11 adds largest and sorted and
  // the integer types. float16 (and bfloat16) compute in float32 (exact).
  r.add({.op_type = "TopK", .since_version = 1, .min_outputs = 2, .max_outputs = 2, .attributes = {"axis", "k"},
         .infer = infer_topk, .create = make_kernel<TopK>()});
  r.add({.op_type = "TopK", .since_version = 10, .min_inputs = 2, .max_inputs = 2, .min_outputs = 2, .max_outputs = 2,
         .attributes = {"axis"}, .infer = infer_topk, .create = make_kernel<TopK>()});
  r.add({.op_type = "TopK", .since_version = 11, .min_inputs = 2, .max_inputs = 2, .min_outputs = 2, .max_outputs = 2,
         .attributes = {"axis", "largest", "sorted"}, .infer = infer_topk, .create = make_kernel<TopK>()});
}

}  // namespace onnx_mini
