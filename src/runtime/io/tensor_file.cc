#include "runtime/io/tensor_file.h"

#include <cstring>

#include "core/atomic_file.h"
#include "core/printable.h"
#include "core/regular_file.h"
#include "graph/onnx_loader.h"
#include "graph/tensor_proto.h"
#include "runtime/io/npy_header.h"

namespace onnx_mini {
namespace {

constexpr int64_t kMaxInputFileBytes = int64_t{8} << 30;

// NumPy descr strings for the dtypes we read and write (little-endian host).
struct NpyType {
  const char* descr;
  DataType dtype;
};
constexpr NpyType kNpyTypes[] = {
    {"<f4", DataType::kFloat}, {"<f8", DataType::kDouble}, {"<i8", DataType::kInt64}, {"<i4", DataType::kInt32},
    {"<i2", DataType::kInt16}, {"|i1", DataType::kInt8},   {"|u1", DataType::kUInt8}, {"<u2", DataType::kUInt16},
    {"<u4", DataType::kUInt32}, {"<u8", DataType::kUInt64}, {"|b1", DataType::kBool}, {"<f2", DataType::kFloat16},
};

Status malformed_npy(const std::string& what, const std::string& why) { return bad_input(what + ": malformed .npy: " + why); }

// The header dict's text and where the data starts after it.
struct NpyHeader {
  std::string text;
  size_t data_start = 0;
};

// Magic, version, then the header length: 2 bytes in version 1, 4 in 2 and 3.
Result<NpyHeader> read_npy_header(const std::string& bytes, const std::string& what) {
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0) return malformed_npy(what, "missing the \\x93NUMPY magic");
  const uint8_t major = static_cast<uint8_t>(bytes[6]);
  size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = static_cast<uint8_t>(bytes[8]) | (static_cast<size_t>(static_cast<uint8_t>(bytes[9])) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return malformed_npy(what, "truncated header");
    for (int i = 0; i < 4; ++i) header_len |= static_cast<size_t>(static_cast<uint8_t>(bytes[8 + i])) << (8 * i);
    header_start = 12;
  } else {
    return malformed_npy(what, "unknown version " + std::to_string(major));
  }
  if (header_len > bytes.size() - header_start) return malformed_npy(what, "header length past the end of the file");
  return NpyHeader{bytes.substr(header_start, header_len), header_start + header_len};
}

Result<DataType> npy_dtype(const std::string& descr, const std::string& what) {
  for (const NpyType& t : kNpyTypes) {
    if (descr == t.descr) return t.dtype;
  }
  if (descr == "<b1" || descr == "b1") return DataType::kBool;
  return malformed_npy(what, "unsupported dtype " + quote(descr));
}

}  // namespace

Result<Tensor> parse_npy(const std::string& bytes, const std::string& what) {
  OM_ASSIGN_OR_RETURN(NpyHeader header, read_npy_header(bytes, what));
  OM_ASSIGN_OR_RETURN(NpyHeaderFields fields, parse_npy_header(header.text, what));
  OM_ASSIGN_OR_RETURN(DataType dtype, npy_dtype(fields.descr, what));
  if (fields.fortran_order) {
    return malformed_npy(what, "fortran_order arrays are not supported (save with np.ascontiguousarray)");
  }
  const Shape& shape = fields.shape;
  auto n = checked_num_elements(shape);
  if (!n.is_ok()) return malformed_npy(what, n.status().message());
  const size_t have = bytes.size() - header.data_start;
  const size_t need = static_cast<size_t>(n.value()) * dtype_size(dtype);
  if (have != need) {
    return malformed_npy(what, "data has " + std::to_string(have) + " bytes, shape " + shape_to_string(shape) + " of " +
                                   dtype_name(dtype) + " needs " + std::to_string(need));
  }
  Tensor t = Tensor::allocate(dtype, shape);
  if (dtype == DataType::kBool) {
    for (size_t i = 0; i < need; ++i) t.data<bool>()[i] = bytes[header.data_start + i] != 0;
  } else if (need) {
    std::memcpy(t.raw_data(), bytes.data() + header.data_start, need);
  }
  return t;
}

Result<TensorFile> parse_tensor_pb(std::string bytes, const std::string& what) {
  onnx::TensorProto proto;
  if (bytes.empty() || !proto.ParseFromString(bytes)) return bad_input(what + ": not a valid TensorProto .pb file");
  auto t = tensor_from_proto(proto, TensorSource{"", what});
  if (!t.is_ok()) return bad_input(t.status().message());
  return TensorFile{proto.name(), std::move(t).value()};
}

Result<TensorFile> read_tensor_file(const std::string& path) {
  auto bytes = read_regular_file(path, kMaxInputFileBytes);
  if (!bytes.is_ok()) return bad_input(bytes.status().message());
  bool npy = path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0;
  if (npy) {
    OM_ASSIGN_OR_RETURN(Tensor t, parse_npy(bytes.value(), path));
    return TensorFile{"", std::move(t)};
  }
  return parse_tensor_pb(std::move(bytes).value(), path);
}

Status write_npy(const std::string& path, const Tensor& t) {
  const char* descr = nullptr;
  for (const NpyType& nt : kNpyTypes) {
    if (nt.dtype == t.dtype()) descr = nt.descr;
  }
  if (!descr) return unsupported("cannot write " + dtype_name(t.dtype()) + " as .npy");
  std::string shape = "(";
  for (int64_t d : t.shape()) shape += std::to_string(d) + ",";
  if (t.rank() > 1) shape.pop_back();
  shape += ")";
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad so the data starts on a 64-byte boundary, newline-terminated (NumPy's format).
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(1);
  out += static_cast<char>(0);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  OM_ASSIGN_OR_RETURN(AtomicFileWriter file, AtomicFileWriter::create(path));
  OM_RETURN_IF_ERROR(file.write(out));
  OM_RETURN_IF_ERROR(file.write(std::string_view(static_cast<const char*>(t.raw_data()), t.byte_size())));
  return file.commit();
}

Status write_tensor_pb(const std::string& path, const std::string& name, const Tensor& t) {
  onnx::TensorProto proto;
  tensor_to_proto(t, name, proto);
  return write_file_atomically(path, proto.SerializeAsString());
}

}  // namespace onnx_mini
