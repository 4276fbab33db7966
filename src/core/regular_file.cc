#include "core/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace onnx_mini {

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

FileDescriptor::~FileDescriptor() {
  if (fd_ >= 0) ::close(fd_);
}

int FileDescriptor::release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

namespace {

const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "a special file";
}

}  // namespace

Result<OpenRegularFile> open_regular_file(const std::string& path, int64_t max_bytes) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) return usage_error(path + ": cannot open: " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return usage_error(path + ": cannot stat: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return usage_error(path + ": is " + file_kind(st.st_mode) + ", not a regular file");
  if (st.st_size > max_bytes) {
    return resource_limit(path + ": file is " + std::to_string(st.st_size) + " bytes, above the limit of " +
                          std::to_string(max_bytes));
  }
  return OpenRegularFile{std::move(fd), static_cast<int64_t>(st.st_size)};
}

Result<std::string> read_regular_file(const std::string& path, int64_t max_bytes) {
  OM_ASSIGN_OR_RETURN(OpenRegularFile file, open_regular_file(path, max_bytes));
  std::string bytes(static_cast<size_t>(file.size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t r = ::read(file.fd.get(), bytes.data() + done, bytes.size() - done);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return usage_error(path + ": cannot read: " + std::strerror(errno));
    if (r == 0) break;  // the file shrank while being read
    done += static_cast<size_t>(r);
  }
  bytes.resize(done);
  return bytes;
}

}  // namespace onnx_mini
