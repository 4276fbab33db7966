#include "graph/tensor_proto.h"

#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <memory>

#include "graph/external_data.h"

namespace onnx_mini {
namespace {

static_assert(std::endian::native == std::endian::little, "raw_data is little-endian; big-endian hosts need a swap");

Status err(const TensorSource& src, ErrorCode code, const std::string& msg) {
  return {code, src.what + ": " + msg};
}

// Any byte other than 0/1 is not a valid C++ bool: normalised on the way in.
void normalize_bools(char* bytes, int64_t n) {
  for (int64_t i = 0; i < n; ++i) bytes[i] = bytes[i] != 0;
}

// Copies `count` typed-field values into the tensor's storage, converting to T.
template <typename T, typename Field>
void copy_field(const Field& field, Tensor& t) {
  T* out = t.data<T>();
  for (int i = 0; i < field.size(); ++i) out[i] = static_cast<T>(field.Get(i));
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
  if (dtype == DataType::kBool) normalize_bools(out, bytes);
  return t;
}

// raw_data in the parsed message: taken out of it instead of copied.
Result<Tensor> tensor_from_raw_data(onnx::TensorProto& proto, DataType dtype, const Shape& shape, int64_t bytes,
                                    const TensorSource& src) {
  if (static_cast<int64_t>(proto.raw_data().size()) != bytes) {
    return err(src, ErrorCode::kInvalidModel, "raw_data has " + std::to_string(proto.raw_data().size()) + " bytes but " + dtype_name(dtype) + shape_to_string(shape) + " needs " + std::to_string(bytes));
  }
  auto owned = std::make_shared<std::string>();
  owned->swap(*proto.mutable_raw_data());
  if (dtype == DataType::kBool || reinterpret_cast<uintptr_t>(owned->data()) % dtype_size(dtype) != 0) {
    Tensor t = Tensor::allocate(dtype, shape);
    std::memcpy(t.raw_data(), owned->data(), static_cast<size_t>(bytes));
    if (dtype == DataType::kBool) normalize_bools(static_cast<char*>(t.raw_data()), bytes);
    return t;
  }
  return Tensor::wrap(dtype, shape, owned->data(), owned);
}

// How many values the typed field for dtype holds.
int64_t typed_field_count(const onnx::TensorProto& proto, DataType dtype) {
  switch (dtype) {
    case DataType::kFloat: return proto.float_data_size();
    case DataType::kDouble: return proto.double_data_size();
    case DataType::kInt64: return proto.int64_data_size();
    case DataType::kUInt32: case DataType::kUInt64: return proto.uint64_data_size();
    default: return proto.int32_data_size();  // int32, int16, int8, uint16, uint8, bool, float16, bfloat16
  }
}

// The typed fields (float_data, int32_data, ...): the count must match before
// anything is sized from the dims.
Result<Tensor> tensor_from_typed_fields(const onnx::TensorProto& proto, DataType dtype, const Shape& shape, int64_t n,
                                        const TensorSource& src) {
  const int64_t have = typed_field_count(proto, dtype);
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

}  // namespace

Result<Tensor> tensor_from_proto(onnx::TensorProto& proto, const TensorSource& src) {
  DataType dtype = dtype_from_onnx(proto.data_type());
  if (dtype == DataType::kUndefined) {
    return err(src, ErrorCode::kInvalidModel, "undefined or invalid data_type " + std::to_string(proto.data_type()));
  }
  if (!dtype_is_supported(dtype)) {
    return err(src, ErrorCode::kUnsupported, unsupported_dtype_message(dtype));
  }
  Shape shape(proto.dims().begin(), proto.dims().end());
  auto count = checked_num_elements(shape);
  if (!count.is_ok()) return err(src, ErrorCode::kInvalidModel, count.status().message());
  const int64_t n = count.value();
  const int64_t elem = static_cast<int64_t>(dtype_size(dtype));
  const int64_t bytes = n * elem;  // n <= 2^40, elem <= 16: no overflow

  if (proto.data_location() == onnx::TensorProto::EXTERNAL) return load_external_data(proto, dtype, shape, bytes, src);
  if (src.mapped) return tensor_from_mapping(*src.mapped, dtype, shape, bytes, src);
  if (proto.has_raw_data()) return tensor_from_raw_data(proto, dtype, shape, bytes, src);
  return tensor_from_typed_fields(proto, dtype, shape, n, src);
}

void tensor_to_proto(const Tensor& t, const std::string& name, onnx::TensorProto& proto) {
  proto.Clear();
  proto.set_name(name);
  proto.set_data_type(static_cast<int32_t>(t.dtype()));
  for (int64_t d : t.shape()) proto.add_dims(d);
  proto.set_raw_data(std::string(static_cast<const char*>(t.raw_data()), t.byte_size()));
}

}  // namespace onnx_mini
