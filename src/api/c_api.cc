// The C API (include/onnx_mini/onnx_mini_c.h) over the public C++ API: every
// entry point catches what C++ could throw (allocation failure) and turns it
// into an error object, so no exception crosses into C.
#include "onnx_mini/onnx_mini_c.h"

#include <new>
#include <string>
#include <vector>

#include "onnx_mini/session.h"

namespace api = onnx_mini::api;

struct onnx_mini_error {
  int code;
  std::string message;
};

struct onnx_mini_options {
  api::SessionOptions options;
};

struct onnx_mini_session {
  // The declared inputs and outputs as C arrays, built once at load.
  struct CValueInfo {
    std::vector<int64_t> dims;
    std::vector<const char*> symbols;
  };
  std::unique_ptr<api::Session> session;
  std::vector<CValueInfo> inputs, outputs;
};

namespace {

onnx_mini_error* make_error(int code, std::string message) {
  return new (std::nothrow) onnx_mini_error{code, std::move(message)};
}

onnx_mini_error* from_status(const api::Status& st) {
  return st.ok() ? nullptr : make_error(static_cast<int>(st.code()), st.message());
}

// Runs `body` (returning onnx_mini_error*), turning an escaped exception into an error.
template <typename F>
onnx_mini_error* guarded(const F& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return make_error(ONNX_MINI_RESOURCE_LIMIT, "out of memory");
  } catch (const std::exception& e) {
    return make_error(ONNX_MINI_INTERNAL, std::string("internal error: ") + e.what());
  }
}

std::vector<onnx_mini_session::CValueInfo> c_infos(const std::vector<api::ValueInfo>& infos) {
  std::vector<onnx_mini_session::CValueInfo> out(infos.size());
  for (size_t i = 0; i < infos.size(); ++i) {
    for (const api::Dimension& d : infos[i].shape) {
      out[i].dims.push_back(d.value);
      out[i].symbols.push_back(d.symbol.c_str());
    }
  }
  return out;
}

onnx_mini_error* finish_load(api::Status st, std::unique_ptr<api::Session> s, onnx_mini_session** out) {
  if (!st.ok()) return from_status(st);
  auto* handle = new onnx_mini_session{std::move(s), {}, {}};
  handle->inputs = c_infos(handle->session->info().inputs);
  handle->outputs = c_infos(handle->session->info().outputs);
  *out = handle;
  return nullptr;
}

onnx_mini_error* value_info(const onnx_mini_session* s, size_t index, bool input, onnx_mini_value_info* out) {
  if (s == nullptr || out == nullptr) return make_error(ONNX_MINI_USAGE, "value info: null session or out");
  const auto& infos = input ? s->session->info().inputs : s->session->info().outputs;
  const auto& c = input ? s->inputs : s->outputs;
  if (index >= infos.size()) {
    return make_error(ONNX_MINI_USAGE, std::string(input ? "input" : "output") + " index " + std::to_string(index) +
                                           " out of range (the model has " + std::to_string(infos.size()) + ")");
  }
  out->name = infos[index].name.c_str();
  out->type = static_cast<onnx_mini_element_type>(infos[index].type);
  out->rank = infos[index].has_shape ? static_cast<int64_t>(c[index].dims.size()) : -1;
  out->dims = c[index].dims.data();
  out->symbols = c[index].symbols.data();
  return nullptr;
}

}  // namespace

extern "C" {

const char* onnx_mini_version(void) { return api::version(); }

int onnx_mini_error_code(const onnx_mini_error* e) { return e ? e->code : ONNX_MINI_OK; }
const char* onnx_mini_error_message(const onnx_mini_error* e) { return e ? e->message.c_str() : ""; }
void onnx_mini_error_free(onnx_mini_error* e) { delete e; }

onnx_mini_options* onnx_mini_options_create(void) { return new (std::nothrow) onnx_mini_options{}; }
void onnx_mini_options_set_threads(onnx_mini_options* o, int threads) {
  if (o) o->options.threads = threads;
}
void onnx_mini_options_set_opt_level(onnx_mini_options* o, int opt_level) {
  if (o) o->options.opt_level = opt_level;
}
void onnx_mini_options_set_max_memory_bytes(onnx_mini_options* o, int64_t bytes) {
  if (o) o->options.max_memory_bytes = bytes;
}
void onnx_mini_options_set_max_loop_iterations(onnx_mini_options* o, int64_t iterations) {
  if (o) o->options.max_loop_iterations = iterations;
}
void onnx_mini_options_free(onnx_mini_options* o) { delete o; }

onnx_mini_error* onnx_mini_session_load(const char* path, const onnx_mini_options* options, onnx_mini_session** out) {
  return guarded([&] {
    if (path == nullptr || out == nullptr) return make_error(ONNX_MINI_USAGE, "onnx_mini_session_load: null path or out");
    *out = nullptr;
    std::unique_ptr<api::Session> s;
    api::Status st = api::Session::load(path, options ? options->options : api::SessionOptions{}, s);
    return finish_load(st, std::move(s), out);
  });
}

onnx_mini_error* onnx_mini_session_load_bytes(const void* data, size_t size, const onnx_mini_options* options,
                                              onnx_mini_session** out) {
  return guarded([&] {
    if (out == nullptr) return make_error(ONNX_MINI_USAGE, "onnx_mini_session_load_bytes: null out");
    *out = nullptr;
    std::unique_ptr<api::Session> s;
    api::Status st = api::Session::load_from_bytes(data, size, options ? options->options : api::SessionOptions{}, s);
    return finish_load(st, std::move(s), out);
  });
}

void onnx_mini_session_free(onnx_mini_session* s) { delete s; }

size_t onnx_mini_session_input_count(const onnx_mini_session* s) { return s ? s->inputs.size() : 0; }
size_t onnx_mini_session_output_count(const onnx_mini_session* s) { return s ? s->outputs.size() : 0; }

onnx_mini_error* onnx_mini_session_input_info(const onnx_mini_session* s, size_t index, onnx_mini_value_info* out) {
  return value_info(s, index, true, out);
}
onnx_mini_error* onnx_mini_session_output_info(const onnx_mini_session* s, size_t index, onnx_mini_value_info* out) {
  return value_info(s, index, false, out);
}

onnx_mini_error* onnx_mini_session_run(const onnx_mini_session* s, const onnx_mini_tensor* inputs, size_t num_inputs,
                                       onnx_mini_tensor* outputs, size_t num_outputs) {
  return guarded([&]() -> onnx_mini_error* {
    if (s == nullptr || (num_inputs && !inputs) || (num_outputs && !outputs)) {
      return make_error(ONNX_MINI_USAGE, "onnx_mini_session_run: null session, inputs or outputs");
    }
    std::vector<api::TensorView> in(num_inputs), out(num_outputs);
    for (size_t i = 0; i < num_inputs; ++i) {
      const onnx_mini_tensor& t = inputs[i];
      if (t.name == nullptr || t.rank < 0 || (t.rank > 0 && t.shape == nullptr)) {
        return make_error(ONNX_MINI_USAGE, "input " + std::to_string(i) + ": null name, negative rank or null shape");
      }
      in[i] = {t.name, static_cast<api::ElementType>(t.type), std::vector<int64_t>(t.shape, t.shape + t.rank), t.data,
               t.capacity_bytes};
    }
    for (size_t i = 0; i < num_outputs; ++i) {
      if (outputs[i].name == nullptr) return make_error(ONNX_MINI_USAGE, "output " + std::to_string(i) + ": null name");
      out[i] = {outputs[i].name, api::ElementType::kUndefined, {}, outputs[i].data, outputs[i].capacity_bytes};
    }
    if (onnx_mini_error* e = from_status(s->session->run(in, out))) return e;
    for (size_t i = 0; i < num_outputs; ++i) {
      onnx_mini_tensor& t = outputs[i];
      const int64_t rank = static_cast<int64_t>(out[i].shape.size());
      if (rank > t.max_rank || (rank > 0 && t.shape == nullptr)) {
        return make_error(ONNX_MINI_USAGE, std::string("output '") + t.name + "': rank " + std::to_string(rank) +
                                               ", but shape has room for " + std::to_string(t.max_rank));
      }
      t.type = static_cast<onnx_mini_element_type>(out[i].type);
      t.rank = rank;
      for (int64_t d = 0; d < rank; ++d) t.shape[d] = out[i].shape[static_cast<size_t>(d)];
    }
    return nullptr;
  });
}

}  // extern "C"
