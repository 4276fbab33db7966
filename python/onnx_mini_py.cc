// The Python extension `onnx_mini._onnx_mini`, over the public C++ API
// (include/onnx_mini/). Python's onnx_mini/__init__.py shapes it like ONNX
// Runtime's InferenceSession. Inputs are read in place when C-contiguous;
// outputs are numpy arrays over the library's buffers (no copy); the GIL is
// released while the graph runs.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <bit>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "onnx_mini/onnx_mini.h"

namespace py = pybind11;
namespace api = onnx_mini::api;

namespace {

// A failed Status on its way to Python, where it becomes the exception class of its code.
struct ApiError {
  api::Status status;
};

void check(const api::Status& st) {
  if (!st.ok()) throw ApiError{st};
}

// numpy's dtype for each element type numpy has.
const std::map<api::ElementType, const char*>& numpy_names() {
  static const std::map<api::ElementType, const char*> names = {
      {api::ElementType::kFloat, "float32"}, {api::ElementType::kDouble, "float64"},
      {api::ElementType::kFloat16, "float16"}, {api::ElementType::kInt8, "int8"},
      {api::ElementType::kInt16, "int16"},   {api::ElementType::kInt32, "int32"},
      {api::ElementType::kInt64, "int64"},   {api::ElementType::kUInt8, "uint8"},
      {api::ElementType::kUInt16, "uint16"}, {api::ElementType::kUInt32, "uint32"},
      {api::ElementType::kUInt64, "uint64"}, {api::ElementType::kBool, "bool"}};
  return names;
}

// By kind and size (not by name: int64 is both "long" and "longlong" to numpy),
// in native byte order only: the library reads the bytes as they are.
api::ElementType element_type_of(const py::dtype& dt, const std::string& input) {
  const char kind = dt.kind();
  const py::ssize_t size = dt.itemsize();
  const char order = dt.byteorder();
  const bool native = order == '=' || order == '|' || (order == '<' && std::endian::native == std::endian::little) ||
                      (order == '>' && std::endian::native == std::endian::big);
  api::ElementType type = api::ElementType::kUndefined;
  if (native) {
    if (kind == 'f') type = size == 4 ? api::ElementType::kFloat : size == 8 ? api::ElementType::kDouble
                          : size == 2 ? api::ElementType::kFloat16 : type;
    if (kind == 'i') type = size == 1 ? api::ElementType::kInt8 : size == 2 ? api::ElementType::kInt16
                          : size == 4 ? api::ElementType::kInt32 : size == 8 ? api::ElementType::kInt64 : type;
    if (kind == 'u') type = size == 1 ? api::ElementType::kUInt8 : size == 2 ? api::ElementType::kUInt16
                          : size == 4 ? api::ElementType::kUInt32 : size == 8 ? api::ElementType::kUInt64 : type;
    if (kind == 'b' && size == 1) type = api::ElementType::kBool;
  }
  if (type != api::ElementType::kUndefined) return type;
  throw ApiError{{api::ErrorCode::kBadInput,
                  "input '" + input + "': numpy dtype " + py::str(static_cast<const py::handle&>(dt)).cast<std::string>() + " has no ONNX element type here"}};
}

py::dtype numpy_dtype(api::ElementType type, const std::string& output) {
  auto it = numpy_names().find(type);
  if (it == numpy_names().end()) {
    throw ApiError{{api::ErrorCode::kUnsupported, "output '" + output + "': element type " +
                                                      api::element_type_name(type) + " has no numpy dtype"}};
  }
  return py::dtype(it->second);
}

// A declared shape the way ONNX Runtime shows it: ints, symbol strings, None.
py::list shape_list(const api::ValueInfo& v) {
  py::list out;
  for (const api::Dimension& d : v.shape) {
    if (d.value >= 0) {
      out.append(d.value);
    } else if (!d.symbol.empty()) {
      out.append(d.symbol);
    } else {
      out.append(py::none());
    }
  }
  return out;
}

py::list value_infos(const std::vector<api::ValueInfo>& infos) {
  py::list out;
  for (const api::ValueInfo& v : infos) {
    out.append(py::make_tuple(v.name, std::string("tensor(") + api::element_type_name(v.type) + ")",
                              v.has_shape ? py::object(shape_list(v)) : py::object(py::none())));
  }
  return out;
}

// The inputs of one run: views of the feeds' memory, and the arrays that keep
// it alive through the run.
struct Feeds {
  std::vector<py::array> held;
  std::vector<api::TensorView> views;
};

Feeds to_feeds(const py::dict& feeds) {
  Feeds out;
  for (const auto& [key, value] : feeds) {
    const std::string name = py::str(key);
    // In place when already C-contiguous; a contiguous copy otherwise.
    py::array arr = py::array::ensure(value, py::array::c_style);
    if (!arr) throw ApiError{{api::ErrorCode::kBadInput, "input '" + name + "': not convertible to a numpy array"}};
    api::TensorView v;
    v.name = name;
    v.type = element_type_of(arr.dtype(), name);
    v.shape.assign(arr.shape(), arr.shape() + arr.ndim());
    v.data = const_cast<void*>(arr.data());
    v.capacity_bytes = static_cast<size_t>(arr.nbytes());
    out.views.push_back(std::move(v));
    out.held.push_back(std::move(arr));
  }
  return out;
}

class PySession {
 public:
  PySession(const py::object& model, int threads, int opt_level, int64_t max_memory_bytes,
            int64_t max_loop_iterations) {
    api::SessionOptions options;
    options.threads = threads;
    options.opt_level = opt_level;
    options.max_memory_bytes = max_memory_bytes;
    options.max_loop_iterations = max_loop_iterations;
    if (py::isinstance<py::bytes>(model)) {
      std::string bytes = model.cast<std::string>();
      py::gil_scoped_release release;
      check(api::Session::load_from_bytes(bytes.data(), bytes.size(), options, session_));
    } else {
      std::string path = py::module_::import("os").attr("fspath")(model).cast<std::string>();
      py::gil_scoped_release release;
      check(api::Session::load(path, options, session_));
    }
  }

  py::list inputs() const { return value_infos(session_->info().inputs); }
  py::list outputs() const { return value_infos(session_->info().outputs); }
  std::string producer() const { return session_->info().producer; }

  py::list run(const std::vector<std::string>& names, const py::dict& feeds) const {
    const Feeds in = to_feeds(feeds);
    std::vector<api::OwnedTensor> outputs;
    api::Status st;
    {
      py::gil_scoped_release release;
      st = session_->run(in.views, names, outputs);
    }
    check(st);
    py::list result;
    for (api::OwnedTensor& t : outputs) {
      // The array's base owns a reference to the library's buffer.
      auto* keep = new std::shared_ptr<const void>(std::move(t.keep_alive));
      py::capsule base(keep, [](void* p) { delete static_cast<std::shared_ptr<const void>*>(p); });
      result.append(py::array(numpy_dtype(t.type, t.name), t.shape, t.data, base));
    }
    return result;
  }

 private:
  std::unique_ptr<api::Session> session_;
};

}  // namespace

PYBIND11_MODULE(_onnx_mini, m) {
  m.doc() = "onnx-mini's native module; use the onnx_mini package";
  m.attr("__version__") = api::version();

  // One exception class per error category (onnx-run's exit codes), all under OnnxMiniError.
  static py::exception<ApiError> base(m, "OnnxMiniError", PyExc_RuntimeError);
  static py::exception<ApiError> usage(m, "UsageError", base.ptr());
  static py::exception<ApiError> invalid_model(m, "InvalidModel", base.ptr());
  static py::exception<ApiError> unsupported(m, "Unsupported", base.ptr());
  static py::exception<ApiError> bad_input(m, "BadInput", base.ptr());
  static py::exception<ApiError> resource_limit(m, "ResourceLimit", base.ptr());
  static py::exception<ApiError> internal(m, "InternalError", base.ptr());
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ApiError& e) {
      const std::string& msg = e.status.message();
      switch (e.status.code()) {
        case api::ErrorCode::kUsage: usage(msg.c_str()); break;
        case api::ErrorCode::kInvalidModel: invalid_model(msg.c_str()); break;
        case api::ErrorCode::kUnsupported: unsupported(msg.c_str()); break;
        case api::ErrorCode::kBadInput: bad_input(msg.c_str()); break;
        case api::ErrorCode::kResourceLimit: resource_limit(msg.c_str()); break;
        default: internal(msg.c_str()); break;
      }
    }
  });

  // Where each feed's data would be read from: the tests check that C-contiguous
  // arrays of a supported dtype are read in place.
  m.def("_feed_addresses", [](const py::dict& feeds) {
    const Feeds in = to_feeds(feeds);
    py::list addresses;
    for (const api::TensorView& v : in.views) addresses.append(reinterpret_cast<uintptr_t>(v.data));
    return addresses;
  });

  py::class_<PySession>(m, "_Session")
      .def(py::init<const py::object&, int, int, int64_t, int64_t>(), py::arg("model"), py::arg("threads"),
           py::arg("opt_level"), py::arg("max_memory_bytes") = api::SessionOptions{}.max_memory_bytes,
           py::arg("max_loop_iterations") = api::SessionOptions{}.max_loop_iterations)
      .def("inputs", &PySession::inputs)
      .def("outputs", &PySession::outputs)
      .def("producer", &PySession::producer)
      .def("run", &PySession::run, py::arg("output_names"), py::arg("feeds"));
}
