#include "graph/external_data.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <utility>

#include "core/printable.h"

namespace onnx_mini {
namespace {

Status refuse(const TensorSource& src, const std::string& msg) { return invalid_model(src.what + ": " + msg); }

// A file descriptor closed on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// A read-only mapping the tensors that view it keep alive.
struct Mapping {
  void* addr = nullptr;
  size_t len = 0;
  ~Mapping() {
    if (addr && addr != MAP_FAILED) munmap(addr, len);
  }
};

// What the external_data entries say: where the bytes are.
struct ExternalRef {
  std::string location;
  int64_t offset = 0;
  int64_t length = -1;  // -1: as many as the tensor needs
};

Result<int64_t> parse_non_negative(const std::string& key, const std::string& value, const TensorSource& src) {
  try {
    size_t used = 0;
    long long x = std::stoll(value, &used);
    if (used != value.size() || x < 0) throw std::invalid_argument(value);
    return static_cast<int64_t>(x);
  } catch (...) {
    return refuse(src, "external data " + printable(key) + " " + quote(value) + " is not a non-negative integer");
  }
}

Result<ExternalRef> parse_external_ref(const onnx::TensorProto& proto, const TensorSource& src) {
  ExternalRef ref;
  for (const auto& kv : proto.external_data()) {
    if (kv.key() == "location") {
      ref.location = kv.value();
    } else if (kv.key() == "offset") {
      OM_ASSIGN_OR_RETURN(ref.offset, parse_non_negative(kv.key(), kv.value(), src));
    } else if (kv.key() == "length") {
      OM_ASSIGN_OR_RETURN(ref.length, parse_non_negative(kv.key(), kv.value(), src));
    }
  }
  return ref;
}

// A path inside the model folder: relative, no "..", no NUL.
Status check_location(const std::string& loc, const TensorSource& src) {
  if (loc.empty()) return refuse(src, "external data has no location");
  if (loc[0] == '/') {
    return refuse(src, "external data location " + quote(loc) + " is an absolute path; only paths inside the model's folder are allowed");
  }
  if (loc.find('\0') != std::string::npos) return refuse(src, "external data location contains NUL");
  size_t start = 0;
  while (start <= loc.size()) {
    size_t end = loc.find('/', start);
    if (end == std::string::npos) end = loc.size();
    if (loc.compare(start, end - start, "..") == 0) {
      return refuse(src, "external data location " + quote(loc) + " contains '..'; only paths inside the model's folder are allowed");
    }
    start = end + 1;
  }
  return Status::ok();
}

// Opens `location` from the model folder one component at a time with
// O_NOFOLLOW, so no symbolic link (inside or outside the folder) is followed.
Result<Fd> open_inside_folder(const std::string& base_dir, const std::string& location, const TensorSource& src) {
  Fd dir(open(base_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return refuse(src, "cannot open model folder '" + base_dir + "'");
  std::string rest = location;
  while (true) {
    const size_t slash = rest.find('/');
    const std::string part = rest.substr(0, slash);
    const bool last = slash == std::string::npos;
    if (part.empty() || part == ".") {
      if (last) return refuse(src, "external data location " + quote(location) + " names a folder");
      rest = rest.substr(slash + 1);
      continue;
    }
    // O_NONBLOCK on the file: a FIFO must not wait for a writer.
    const int flags = (last ? O_RDONLY | O_NONBLOCK : O_RDONLY | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC;
    Fd next(openat(dir.get(), part.c_str(), flags));
    const int open_errno = errno;
    if (next.get() < 0) {
      if (open_errno == ELOOP || open_errno == ENOTDIR) {
        return refuse(src, "external data location " + quote(location) + " goes through a symbolic link; links are refused");
      }
      return refuse(src, "external data file " + quote(location) + " cannot be opened: " + std::strerror(open_errno));
    }
    if (last) return next;
    dir = std::move(next);
    rest = rest.substr(slash + 1);
  }
}

// The file's size, once it is known to be a regular file with one link (a hard
// link may alias a file outside the model folder).
Result<int64_t> external_file_size(const Fd& fd, const std::string& location, const TensorSource& src) {
  struct stat st;
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return refuse(src, "external data " + quote(location) + " is not a regular file");
  }
  if (st.st_nlink > 1) {
    return refuse(src, "external data " + quote(location) + " has hard links; refused (it may alias a file outside the model folder)");
  }
  return static_cast<int64_t>(st.st_size);
}

// The range's bytes as a tensor: a view into a mapping of the page-aligned range
// (no copy), or one copy into aligned storage when the offset does not suit the
// dtype, rather than unaligned reads.
Result<Tensor> map_range(const Fd& fd, const ExternalRef& ref, DataType dtype, const Shape& shape, const TensorSource& src) {
  const long page = sysconf(_SC_PAGESIZE);
  const int64_t aligned = ref.offset / page * page;
  auto map = std::make_shared<Mapping>();
  map->len = static_cast<size_t>(ref.offset + ref.length - aligned);
  map->addr = mmap(nullptr, map->len, PROT_READ, MAP_PRIVATE, fd.get(), aligned);
  if (map->addr == MAP_FAILED) return refuse(src, "cannot map external data " + quote(ref.location));
  char* data = static_cast<char*>(map->addr) + (ref.offset - aligned);
  if (reinterpret_cast<uintptr_t>(data) % dtype_size(dtype) != 0) {
    Tensor t = Tensor::allocate(dtype, shape);
    std::memcpy(t.raw_data(), data, static_cast<size_t>(ref.length));
    return t;
  }
  return Tensor::wrap(dtype, shape, data, map);
}

}  // namespace

Result<Tensor> load_external_data(const onnx::TensorProto& proto, DataType dtype, const Shape& shape, int64_t bytes,
                                  const TensorSource& src) {
  OM_ASSIGN_OR_RETURN(ExternalRef ref, parse_external_ref(proto, src));
  OM_RETURN_IF_ERROR(check_location(ref.location, src));
  if (src.base_dir.empty()) {
    return refuse(src, "external data (" + quote(ref.location) + ") is not allowed here: a tensor file or a model read from memory must hold its own bytes");
  }
  OM_ASSIGN_OR_RETURN(Fd fd, open_inside_folder(src.base_dir, ref.location, src));
  OM_ASSIGN_OR_RETURN(int64_t file_size, external_file_size(fd, ref.location, src));
  if (ref.length < 0) ref.length = bytes;
  if (ref.length != bytes) {
    return refuse(src, "external data length " + std::to_string(ref.length) + " does not match " + std::to_string(bytes) +
                           " bytes of " + dtype_name(dtype) + shape_to_string(shape));
  }
  auto end = checked_add(ref.offset, ref.length);
  if (!end || *end > file_size) {
    return refuse(src, "external data range offset " + std::to_string(ref.offset) + " + length " + std::to_string(ref.length) +
                           " is past the end of " + quote(ref.location) + " (" + std::to_string(file_size) + " bytes)");
  }
  if (bytes == 0) return Tensor::allocate(dtype, shape);
  return map_range(fd, ref, dtype, shape, src);
}

}  // namespace onnx_mini
