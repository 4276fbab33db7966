// NodeModel: builds a one-node ONNX model in memory, loads it through the
// validating loader (so attribute names, arities and opset resolution are
// exercised) and runs it through a Session. For the kernel alone, without the
// loader and the session, use run_kernel() (kernel_runner.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "graph/onnx_loader.h"
#include "graph/tensor_proto.h"
#include "runtime/session.h"
#include "tests/testutil/tensors.h"

namespace onnx_mini::testing {

// One node input: a tensor fed at run time, the same tensor as an initializer
// (constant: shape inference can read it), or absent (empty name).
// `symbolic`: a fed input declared with named dims, so build-time shape
// inference sees no sizes (the path a dynamic-batch model takes).
struct In {
  std::optional<Tensor> t;
  bool constant = false;
  bool symbolic = false;
  static In feed(Tensor t) { return {std::move(t), false}; }
  static In init(Tensor t) { return {std::move(t), true}; }
  static In none() { return {std::nullopt, false}; }
  static In feed_symbolic(Tensor t) { return {std::move(t), false, true}; }
};

class NodeModel {
 public:
  NodeModel(std::string op, int opset) : op_(std::move(op)), opset_(opset) {}
  NodeModel& input(In in) { inputs_.push_back(std::move(in)); return *this; }
  NodeModel& feed(Tensor t) { return input(In::feed(std::move(t))); }
  NodeModel& init(Tensor t) { return input(In::init(std::move(t))); }
  NodeModel& none() { return input(In::none()); }
  NodeModel& outputs(int n) { num_outputs_ = n; return *this; }
  // The session's threads (SessionOptions::threads; 0 = every online CPU).
  NodeModel& threads(int n) { threads_ = n; return *this; }
  NodeModel& attr_int(const std::string& name, int64_t v) {
    auto& a = attrs_.emplace_back(); a.set_name(name); a.set_type(onnx::AttributeProto::INT); a.set_i(v);
    return *this;
  }
  NodeModel& attr_float(const std::string& name, float v) {
    auto& a = attrs_.emplace_back(); a.set_name(name); a.set_type(onnx::AttributeProto::FLOAT); a.set_f(v);
    return *this;
  }
  NodeModel& attr_string(const std::string& name, const std::string& v) {
    auto& a = attrs_.emplace_back(); a.set_name(name); a.set_type(onnx::AttributeProto::STRING); a.set_s(v);
    return *this;
  }
  NodeModel& attr_ints(const std::string& name, const std::vector<int64_t>& v) {
    auto& a = attrs_.emplace_back(); a.set_name(name); a.set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a.add_ints(x);
    return *this;
  }
  NodeModel& attr_floats(const std::string& name, const std::vector<float>& v) {
    auto& a = attrs_.emplace_back(); a.set_name(name); a.set_type(onnx::AttributeProto::FLOATS);
    for (float x : v) a.add_floats(x);
    return *this;
  }
  NodeModel& attr_tensor(const std::string& name, const Tensor& t) {
    auto& a = attrs_.emplace_back(); a.set_name(name); a.set_type(onnx::AttributeProto::TENSOR);
    tensor_to_proto(t, name, *a.mutable_t());
    return *this;
  }

  // Loads (status of the loader) and runs; outputs in node order.
  Result<std::vector<Tensor>> run(int opt_level = 1) const {
    onnx::ModelProto m;
    m.set_ir_version(8);
    auto* op = m.add_opset_import();
    op->set_domain("");
    op->set_version(opset_);
    auto* g = m.mutable_graph();
    g->set_name("t");
    auto* n = g->add_node();
    n->set_op_type(op_);
    n->set_name("n");
    for (const auto& a : attrs_) *n->add_attribute() = a;
    std::vector<NamedTensor> feeds;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      if (!inputs_[i].t) {
        n->add_input("");
        continue;
      }
      std::string name = "in" + std::to_string(i);
      n->add_input(name);
      const Tensor& t = *inputs_[i].t;
      if (inputs_[i].constant) {
        tensor_to_proto(t, name, *g->add_initializer());
      } else {
        auto* vi = g->add_input();
        vi->set_name(name);
        auto* tt = vi->mutable_type()->mutable_tensor_type();
        tt->set_elem_type(static_cast<int32_t>(t.dtype()));
        auto* sh = tt->mutable_shape();
        for (size_t d = 0; d < t.shape().size(); ++d) {
          if (inputs_[i].symbolic) sh->add_dim()->set_dim_param(name + "_d" + std::to_string(d));
          else sh->add_dim()->set_dim_value(t.shape()[d]);
        }
        feeds.push_back({name, t});
      }
    }
    for (int i = 0; i < num_outputs_; ++i) {
      std::string name = "out" + std::to_string(i);
      n->add_output(name);
      g->add_output()->set_name(name);
    }
    OM_ASSIGN_OR_RETURN(Graph graph, graph_from_model(m, ""));
    SessionOptions opts;
    opts.opt_level = opt_level;
    opts.threads = threads_;
    OM_ASSIGN_OR_RETURN(auto session, Session::from_graph(std::move(graph), opts));
    OM_ASSIGN_OR_RETURN(std::vector<NamedTensor> outs, session->run(feeds));
    std::vector<Tensor> result;
    for (auto& o : outs) result.push_back(std::move(o.tensor));
    return result;
  }

 private:
  std::string op_;
  int opset_;
  int num_outputs_ = 1;
  int threads_ = 0;
  std::vector<In> inputs_;
  std::vector<onnx::AttributeProto> attrs_;
};

}  // namespace onnx_mini::testing
