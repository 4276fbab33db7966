#include "graph/tensor_proto.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <memory>

namespace onnx_mini {
namespace {

static_assert(std::endian::native == std::endian::little, "raw_data is little-endian; big-endian hosts need a swap");

Status err(const TensorSource& src, ErrorCode code, const std::string& msg) {
  return {code, src.what + ": " + msg};
}

// Copies `count` typed-field values into the tensor's storage, converting to T.
template <typename T, typename Field>
void copy_field(const Field& field, Tensor& t) {
  T* out = t.data<T>();
  for (int i = 0; i < field.size(); ++i) out[i] = static_cast<T>(field.Get(i));
}

// A path inside the model folder: relative, no "..", no empty components.
Status check_location(const std::string& loc, const TensorSource& src) {
  if (loc.empty()) return err(src, ErrorCode::kInvalidModel, "external data has no location");
  if (loc[0] == '/') return err(src, ErrorCode::kInvalidModel, "external data location '" + loc + "' is an absolute path; only paths inside the model's folder are allowed");
  if (loc.find('\0') != std::string::npos) return err(src, ErrorCode::kInvalidModel, "external data location contains NUL");
  size_t start = 0;
  while (start <= loc.size()) {
    size_t end = loc.find('/', start);
    if (end == std::string::npos) end = loc.size();
    std::string part = loc.substr(start, end - start);
    if (part == "..") {
      return err(src, ErrorCode::kInvalidModel, "external data location '" + loc + "' contains '..'; only paths inside the model's folder are allowed");
    }
    start = end + 1;
  }
  return Status::ok();
}

struct Mapping {
  void* addr = nullptr;
  size_t len = 0;
  ~Mapping() {
    if (addr && addr != MAP_FAILED) munmap(addr, len);
  }
};

Result<Tensor> load_external(const onnx::TensorProto& proto, DataType dtype, const Shape& shape, int64_t bytes,
                             const TensorSource& src) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : proto.external_data()) {
    const std::string& k = kv.key();
    const std::string& v = kv.value();
    auto parse = [&](int64_t& out) -> Status {
      try {
        size_t used = 0;
        long long x = std::stoll(v, &used);
        if (used != v.size() || x < 0) throw std::invalid_argument(v);
        out = x;
      } catch (...) {
        return err(src, ErrorCode::kInvalidModel, "external data " + k + " '" + v + "' is not a non-negative integer");
      }
      return Status::ok();
    };
    if (k == "location") location = v;
    else if (k == "offset") OM_RETURN_IF_ERROR(parse(offset));
    else if (k == "length") OM_RETURN_IF_ERROR(parse(length));
  }
  OM_RETURN_IF_ERROR(check_location(location, src));
  if (src.base_dir.empty()) {
    return err(src, ErrorCode::kInvalidModel, "external data ('" + location + "') is not allowed here: a tensor file or a model read from memory must hold its own bytes");
  }
  // Walk every component with O_NOFOLLOW from the model folder, so no symlink
  // (inside or outside the folder) is followed.
  int dir = open(src.base_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return err(src, ErrorCode::kInvalidModel, "cannot open model folder '" + src.base_dir + "'");
  std::string rest = location;
  int fd = -1;
  while (true) {
    size_t slash = rest.find('/');
    std::string part = rest.substr(0, slash);
    bool last = slash == std::string::npos;
    if (part.empty() || part == ".") {
      if (last) { close(dir); return err(src, ErrorCode::kInvalidModel, "external data location '" + location + "' names a folder"); }
      rest = rest.substr(slash + 1);
      continue;
    }
    int next = openat(dir, part.c_str(), (last ? O_RDONLY | O_NONBLOCK : O_RDONLY | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC);
    int open_errno = errno;
    close(dir);
    if (next < 0) {
      if (open_errno == ELOOP || open_errno == ENOTDIR) {
        return err(src, ErrorCode::kInvalidModel, "external data location '" + location + "' goes through a symbolic link; links are refused");
      }
      return err(src, ErrorCode::kInvalidModel, "external data file '" + location + "' cannot be opened: " + std::strerror(open_errno));
    }
    if (last) { fd = next; break; }
    dir = next;
    rest = rest.substr(slash + 1);
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return err(src, ErrorCode::kInvalidModel, "external data '" + location + "' is not a regular file");
  }
  if (st.st_nlink > 1) {
    close(fd);
    return err(src, ErrorCode::kInvalidModel, "external data '" + location + "' has hard links; refused (it may alias a file outside the model folder)");
  }
  if (length < 0) length = bytes;
  if (length != bytes) {
    close(fd);
    return err(src, ErrorCode::kInvalidModel, "external data length " + std::to_string(length) + " does not match " + std::to_string(bytes) + " bytes of " + dtype_name(dtype) + shape_to_string(shape));
  }
  auto end = checked_add(offset, length);
  if (!end || *end > st.st_size) {
    close(fd);
    return err(src, ErrorCode::kInvalidModel, "external data range offset " + std::to_string(offset) + " + length " + std::to_string(length) + " is past the end of '" + location + "' (" + std::to_string(st.st_size) + " bytes)");
  }
  if (bytes == 0) {
    close(fd);
    return Tensor::allocate(dtype, shape);
  }
  // Map the page-aligned range; the tensor points into the mapping (no copy).
  long page = sysconf(_SC_PAGESIZE);
  int64_t aligned = offset / page * page;
  auto map = std::make_shared<Mapping>();
  map->len = static_cast<size_t>(*end - aligned);
  map->addr = mmap(nullptr, map->len, PROT_READ, MAP_PRIVATE, fd, aligned);
  close(fd);
  if (map->addr == MAP_FAILED) return err(src, ErrorCode::kInvalidModel, "cannot map external data '" + location + "'");
  char* data = static_cast<char*>(map->addr) + (offset - aligned);
  if (reinterpret_cast<uintptr_t>(data) % dtype_size(dtype) != 0) {
    // Misaligned offset: copy once into aligned storage rather than read unaligned.
    Tensor t = Tensor::allocate(dtype, shape);
    std::memcpy(t.raw_data(), data, static_cast<size_t>(bytes));
    return t;
  }
  return Tensor::wrap(dtype, shape, data, map);
}

// raw_data that stayed in the mapped model file: a view of the mapping when its
// offset suits the dtype, else one pread into aligned memory (pread rather than
// memcpy so the file pages are not also mapped into this process: peak memory ~1x).
Result<Tensor> tensor_from_mapping(const MappedRawData& m, DataType dtype, const Shape& shape, int64_t bytes,
                                   const TensorSource& src) {
  if (m.length != bytes) {
    return err(src, ErrorCode::kInvalidModel, "raw_data has " + std::to_string(m.length) + " bytes but " + dtype_name(dtype) + shape_to_string(shape) + " needs " + std::to_string(bytes));
  }
  const char* data = m.file->data + m.offset;
  if (dtype != DataType::kBool && reinterpret_cast<uintptr_t>(data) % dtype_size(dtype) == 0) {
    // Aliasing shared_ptr: the tensor keeps the whole mapping alive. PROT_READ,
    // like external data: kernels never write to their inputs.
    void* p = const_cast<char*>(data);
    return Tensor::wrap(dtype, shape, p, std::shared_ptr<void>(m.file, p));
  }
  Tensor t = Tensor::allocate_for_overwrite(dtype, shape);
  char* out = static_cast<char*>(t.raw_data());
  size_t done = 0;
  while (m.file->fd >= 0 && done < static_cast<size_t>(bytes)) {
    ssize_t r = pread(m.file->fd, out + done, static_cast<size_t>(bytes) - done, static_cast<off_t>(m.offset + static_cast<int64_t>(done)));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    done += static_cast<size_t>(r);
  }
  if (done < static_cast<size_t>(bytes)) std::memcpy(out + done, data + done, static_cast<size_t>(bytes) - done);
  if (dtype == DataType::kBool) {
    // Any byte other than 0/1 is not a valid C++ bool: normalise on the way in.
    for (int64_t i = 0; i < bytes; ++i) out[i] = out[i] != 0;
  }
  return t;
}

}  // namespace

Result<Tensor> tensor_from_proto(onnx::TensorProto& proto, const TensorSource& src) {
  DataType dtype = dtype_from_onnx(proto.data_type());
  if (dtype == DataType::kUndefined) {
    return err(src, ErrorCode::kInvalidModel, "undefined or invalid data_type " + std::to_string(proto.data_type()));
  }
  if (!dtype_is_supported(dtype)) {
    return err(src, ErrorCode::kUnsupported, "dtype " + dtype_name(dtype) + " is not supported");
  }
  Shape shape(proto.dims().begin(), proto.dims().end());
  auto count = checked_num_elements(shape);
  if (!count.is_ok()) return err(src, ErrorCode::kInvalidModel, count.status().message());
  const int64_t n = count.value();
  const int64_t elem = static_cast<int64_t>(dtype_size(dtype));
  const int64_t bytes = n * elem;  // n <= 2^40, elem <= 16: no overflow

  if (proto.data_location() == onnx::TensorProto::EXTERNAL) return load_external(proto, dtype, shape, bytes, src);
  if (src.mapped) return tensor_from_mapping(*src.mapped, dtype, shape, bytes, src);

  if (proto.has_raw_data()) {
    if (static_cast<int64_t>(proto.raw_data().size()) != bytes) {
      return err(src, ErrorCode::kInvalidModel, "raw_data has " + std::to_string(proto.raw_data().size()) + " bytes but " + dtype_name(dtype) + shape_to_string(shape) + " needs " + std::to_string(bytes));
    }
    // Take the bytes out of the parsed message instead of copying them.
    auto owned = std::make_shared<std::string>();
    owned->swap(*proto.mutable_raw_data());
    if (dtype == DataType::kBool) {
      // Any byte other than 0/1 is not a valid C++ bool: normalise on the way in.
      Tensor t = Tensor::allocate(dtype, shape);
      for (int64_t i = 0; i < n; ++i) t.data<bool>()[i] = (*owned)[static_cast<size_t>(i)] != 0;
      return t;
    }
    if (reinterpret_cast<uintptr_t>(owned->data()) % static_cast<uintptr_t>(elem) != 0) {
      Tensor t = Tensor::allocate(dtype, shape);
      std::memcpy(t.raw_data(), owned->data(), static_cast<size_t>(bytes));
      return t;
    }
    return Tensor::wrap(dtype, shape, owned->data(), owned);
  }

  // Typed fields: the count must match before anything is sized from the dims.
  int64_t have = 0;
  switch (dtype) {
    case DataType::kFloat: have = proto.float_data_size(); break;
    case DataType::kDouble: have = proto.double_data_size(); break;
    case DataType::kInt64: have = proto.int64_data_size(); break;
    case DataType::kUInt32: case DataType::kUInt64: have = proto.uint64_data_size(); break;
    default: have = proto.int32_data_size(); break;  // int32, int16, int8, uint16, uint8, bool, float16, bfloat16
  }
  if (have != n) {
    return err(src, ErrorCode::kInvalidModel, "has " + std::to_string(have) + " values but " + dtype_name(dtype) + shape_to_string(shape) + " needs " + std::to_string(n));
  }
  Tensor t = Tensor::allocate(dtype, shape);
  switch (dtype) {
    case DataType::kFloat: copy_field<float>(proto.float_data(), t); break;
    case DataType::kDouble: copy_field<double>(proto.double_data(), t); break;
    case DataType::kInt64: copy_field<int64_t>(proto.int64_data(), t); break;
    case DataType::kUInt32: copy_field<uint32_t>(proto.uint64_data(), t); break;
    case DataType::kUInt64: copy_field<uint64_t>(proto.uint64_data(), t); break;
    case DataType::kInt32: copy_field<int32_t>(proto.int32_data(), t); break;
    case DataType::kInt16: copy_field<int16_t>(proto.int32_data(), t); break;
    case DataType::kInt8: copy_field<int8_t>(proto.int32_data(), t); break;
    case DataType::kUInt16: case DataType::kFloat16: case DataType::kBFloat16:
      copy_field<uint16_t>(proto.int32_data(), t); break;  // 16-bit floats travel as their bit patterns
    case DataType::kUInt8: copy_field<uint8_t>(proto.int32_data(), t); break;
    case DataType::kBool: {
      bool* out = t.data<bool>();
      for (int i = 0; i < proto.int32_data_size(); ++i) out[i] = proto.int32_data(i) != 0;
      break;
    }
    default: return err(src, ErrorCode::kUnsupported, "dtype " + dtype_name(dtype) + " is not supported");
  }
  return t;
}

void tensor_to_proto(const Tensor& t, const std::string& name, onnx::TensorProto& proto) {
  proto.Clear();
  proto.set_name(name);
  proto.set_data_type(static_cast<int32_t>(t.dtype()));
  for (int64_t d : t.shape()) proto.add_dims(d);
  proto.set_raw_data(std::string(static_cast<const char*>(t.raw_data()), t.byte_size()));
}

}  // namespace onnx_mini
