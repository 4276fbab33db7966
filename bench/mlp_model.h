// MLP models built in code for the benchmarks and the allocation test:
// layers of Linear (+ReLU between them), optionally a Softmax head, with seeded
// weights. Header-only so bench/*.cc stay one executable per file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

namespace onnx_mini::bench {

enum class LinearForm {
  kGemm,         // Gemm(X, W[out,in], b, transB=1): what torch exports for nn.Linear
  kMatMulAdd,    // MatMul(X, W[in,out]) + Add(b): the form of 3-D inputs
};

struct MlpSpec {
  std::vector<int64_t> widths;  // {784, 512, 256, 10}: input then each layer's output
  LinearForm form = LinearForm::kGemm;
  bool softmax_head = false;
  uint64_t seed = 1;
  int opset = 13;
};

// Uniform in [-1/sqrt(in), 1/sqrt(in)) from a 64-bit LCG (Knuth's MMIX constants):
// the scale of torch's default Linear init, reproducible everywhere.
inline void fill_weights(std::string& raw, int64_t count, int64_t fan_in, uint64_t& state) {
  raw.resize(static_cast<size_t>(count) * sizeof(float));
  auto* out = reinterpret_cast<float*>(raw.data());
  const float bound = 1.0f / static_cast<float>(fan_in > 0 ? __builtin_sqrt(static_cast<double>(fan_in)) : 1.0);
  for (int64_t i = 0; i < count; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    float u = static_cast<float>(state >> 40) / static_cast<float>(1 << 24);  // [0, 1)
    out[i] = (2.0f * u - 1.0f) * bound;
  }
}

inline onnx::TensorProto* add_weight(onnx::GraphProto& g, const std::string& name, std::vector<int64_t> dims,
                                     int64_t fan_in, uint64_t& state) {
  onnx::TensorProto* t = g.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  int64_t count = 1;
  for (int64_t d : dims) {
    t->add_dims(d);
    count *= d;
  }
  fill_weights(*t->mutable_raw_data(), count, fan_in, state);
  return t;
}

inline void set_float_value(onnx::ValueInfoProto& v, const std::string& name, const std::string& batch_param,
                            int64_t width) {
  v.set_name(name);
  auto* tt = v.mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  tt->mutable_shape()->add_dim()->set_dim_param(batch_param);
  tt->mutable_shape()->add_dim()->set_dim_value(width);
}

// Input "X" [N, widths[0]], output "Y" [N, widths.back()].
inline onnx::ModelProto make_mlp(const MlpSpec& spec) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("onnx-mini bench");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(spec.opset);
  onnx::GraphProto& g = *model.mutable_graph();
  g.set_name("mlp");
  set_float_value(*g.add_input(), "X", "N", spec.widths.front());
  uint64_t state = spec.seed;
  std::string x = "X";
  const size_t layers = spec.widths.size() - 1;
  for (size_t l = 0; l < layers; ++l) {
    const int64_t in = spec.widths[l], out = spec.widths[l + 1];
    const std::string p = "fc" + std::to_string(l + 1);
    const bool last = l + 1 == layers;
    std::string y = last && !spec.softmax_head ? "Y" : p + "_out";
    if (spec.form == LinearForm::kGemm) {
      add_weight(g, p + ".weight", {out, in}, in, state);
      add_weight(g, p + ".bias", {out}, in, state);
      onnx::NodeProto* n = g.add_node();
      n->set_name(p);
      n->set_op_type("Gemm");
      n->add_input(x);
      n->add_input(p + ".weight");
      n->add_input(p + ".bias");
      n->add_output(y);
      onnx::AttributeProto* tb = n->add_attribute();
      tb->set_name("transB");
      tb->set_type(onnx::AttributeProto::INT);
      tb->set_i(1);
    } else {
      add_weight(g, p + ".weight", {in, out}, in, state);
      add_weight(g, p + ".bias", {out}, in, state);
      onnx::NodeProto* mm = g.add_node();
      mm->set_name(p + "/matmul");
      mm->set_op_type("MatMul");
      mm->add_input(x);
      mm->add_input(p + ".weight");
      mm->add_output(p + "_mm");
      onnx::NodeProto* add = g.add_node();
      add->set_name(p + "/add");
      add->set_op_type("Add");
      add->add_input(p + "_mm");
      add->add_input(p + ".bias");
      add->add_output(y);
    }
    x = y;
    if (!last) {
      onnx::NodeProto* r = g.add_node();
      r->set_name(p + "/relu");
      r->set_op_type("Relu");
      r->add_input(x);
      x = p + "_relu";
      r->add_output(x);
    }
  }
  if (spec.softmax_head) {
    onnx::NodeProto* s = g.add_node();
    s->set_name("softmax");
    s->set_op_type("Softmax");
    s->add_input(x);
    s->add_output("Y");
  }
  set_float_value(*g.add_output(), "Y", "N", spec.widths.back());
  return model;
}

// {784, 512, 256, 10}, {784, 128, 64, 10}, and 784 -> 20 hidden layers of 512 -> 10.
inline std::vector<int64_t> mlp_widths(const std::string& name) {
  if (name == "784-512-256-10") return {784, 512, 256, 10};
  if (name == "784-128-64-10") return {784, 128, 64, 10};
  if (name == "deep20x512") {
    std::vector<int64_t> w{784};
    for (int i = 0; i < 20; ++i) w.push_back(512);
    w.push_back(10);
    return w;
  }
  return {};
}

}  // namespace onnx_mini::bench
