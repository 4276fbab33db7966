// One registry of every op onnx-mini runs. Each op family registers its ops in
// an explicit function (register_activation_ops, ...), called from
// register_all_ops(); no static self-registration (static libraries drop it).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ops/kernel.h"

namespace onnx_mini {

inline constexpr const char* kOnnxDomain = "";
inline constexpr const char* kOnnxMiniDomain = "com.onnx_mini";  // our fused ops

// Fills the output infos from the input infos; leaves a shape unknown when it
// depends on data that is not constant. Errors mean the node is invalid.
using InferFn = std::function<Status(const NodeInfo&, std::vector<TensorInfo>& outputs)>;
using KernelFactory = std::function<Result<std::unique_ptr<Kernel>>(const NodeInfo&)>;

// How a definition treats float16 and bfloat16 (the 16-bit float storage types).
enum class HalfTypes {
  // The default: the kernel never sees them. At session build, a node with a
  // 16-bit float input or output computes in float32 instead: its 16-bit inputs
  // are widened (exactly) on the way in and its outputs rounded to nearest even
  // on the way out (graph/passes/legalize_half_types.cc), so every float kernel
  // runs float16 models without code of its own.
  kInFloat32,
  // The kernel takes them itself: it only moves or selects elements (Reshape,
  // Gather, Where, ...), or converts them (Cast), so the result is exact.
  kNative,
};

// max_inputs / max_outputs of a variadic op (Sum, Concat, Split, ...).
inline constexpr int kVariadic = 1 << 20;

// One version of one op. Registered with designated initializers, naming every
// fact that differs from the defaults (ai.onnx, one input, one output, no
// attributes), e.g.
//   r.add({.op_type = "Pow", .since_version = 12, .min_inputs = 2, .max_inputs = 2,
//          .infer = infer_pow, .create = make_kernel<Pow>()});
// The member order is the positional order older registrations still use.
//
// Every version the ONNX specification defines resolves to a definition of
// that version number (tests/ops/op_versions.txt lists them, a test checks):
// a version that changed nothing onnx-mini implements differently (it widened
// the type list, or added a type onnx-mini refuses anyway) is the previous
// definition again, named in `also_since`:
//   r.add({.op_type = "Abs", .since_version = 6, ..., .also_since = {13}});
struct OpDef {
  std::string op_type;
  std::string domain = kOnnxDomain;
  int since_version = 1;  // the ONNX opset that introduced this version
  int min_inputs = 1, max_inputs = 1;
  int min_outputs = 1, max_outputs = 1;
  std::vector<std::string> attributes = {};  // every attribute the op accepts
  InferFn infer;
  KernelFactory create;
  std::vector<int> also_since = {};  // later versions registered as copies of this one
  // How float16 and bfloat16 reach the kernel (see HalfTypes).
  HalfTypes half_types = HalfTypes::kInFloat32;
};

class OpRegistry {
 public:
  void add(OpDef def);
  // The definition with the highest since_version <= opset, or null.
  const OpDef* find(const std::string& op_type, const std::string& domain, int opset) const;
  // True when any version of the op exists (to tell "unknown op" from "not at this opset").
  bool knows(const std::string& op_type, const std::string& domain) const;
  std::vector<const OpDef*> all() const;

 private:
  std::map<std::pair<std::string, std::string>, std::vector<OpDef>> defs_;  // sorted by since
};

// The registry with every op family; built once, thread-safe to read.
const OpRegistry& default_registry();

// Helpers for the common inference shapes and kernel factories.
Status infer_same_as_input0(const NodeInfo& node, std::vector<TensorInfo>& outputs);

template <typename K>
KernelFactory make_kernel() {
  return [](const NodeInfo& node) -> Result<std::unique_ptr<Kernel>> {
    auto k = std::make_unique<K>();
    OM_RETURN_IF_ERROR(k->init(node));
    return std::unique_ptr<Kernel>(std::move(k));
  };
}

// Family registration functions (one per ops/*.cc family).
void register_elementwise_ops(OpRegistry& r);
void register_activation_ops(OpRegistry& r);
void register_softmax_ops(OpRegistry& r);
void register_gemm_ops(OpRegistry& r);
void register_shape_ops(OpRegistry& r);
void register_loss_ops(OpRegistry& r);
void register_fused_ops(OpRegistry& r);  // com.onnx_mini ops the graph compiler emits
void register_attention_ops(OpRegistry& r);  // com.onnx_mini FusedAttention
void register_conv_ops(OpRegistry& r);   // Conv and FusedConv
void register_conv_transpose_ops(OpRegistry& r);
// Primitives exported graphs are built from (shape arithmetic, losses as graphs of primitives).
void register_unary_math_ops(OpRegistry& r);
void register_compare_logic_ops(OpRegistry& r);
void register_reduce_ops(OpRegistry& r);
void register_cast_ops(OpRegistry& r);
void register_layout_ops(OpRegistry& r);
void register_gather_ops(OpRegistry& r);
void register_slice_concat_ops(OpRegistry& r);
void register_generator_ops(OpRegistry& r);
// Transformer pieces: LayerNormalization.
void register_layer_norm_ops(OpRegistry& r);
// Convolutional networks: pooling, normalization, padding and resampling.
void register_pool_ops(OpRegistry& r);
void register_normalization_ops(OpRegistry& r);
void register_pad_ops(OpRegistry& r);
void register_rearrange_ops(OpRegistry& r);  // DepthToSpace, SpaceToDepth, Tile
void register_resize_ops(OpRegistry& r);     // Resize, Upsample
// Transformer and indexing pieces of opsets 7-21.
void register_trigonometric_ops(OpRegistry& r);
void register_binary_math_ops(OpRegistry& r);
void register_recurrent_ops(OpRegistry& r);  // RNN, GRU, LSTM
void register_quantize_ops(OpRegistry& r);   // QuantizeLinear, DequantizeLinear
void register_diagonal_ops(OpRegistry& r);   // Trilu, EyeLike
void register_cumulative_ops(OpRegistry& r); // CumSum
void register_group_norm_ops(OpRegistry& r);  // GroupNormalization
void register_lp_norm_ops(OpRegistry& r);     // LpNormalization
void register_einsum_ops(OpRegistry& r);      // Einsum
void register_topk_ops(OpRegistry& r);       // TopK
void register_scatter_ops(OpRegistry& r);    // ScatterND, ScatterElements
void register_gather_nd_ops(OpRegistry& r);  // GatherND
void register_nonzero_ops(OpRegistry& r);    // NonZero
void register_control_flow_ops(OpRegistry& r);  // If, Loop (their subgraphs run through KernelContext)

}  // namespace onnx_mini
