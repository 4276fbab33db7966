// Reading files named on a command line or inside a model: models, tensor
// files, external data. The file must be a regular file no larger than a limit;
// directories, FIFOs, sockets and devices (/dev/zero would be read without end,
// a FIFO would block forever waiting for a writer) are refused without blocking.
// onnx-run and onnx-init both read their models through here.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace onnx_mini {

// An open file descriptor, closed when destroyed.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.release()) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor();
  int get() const { return fd_; }
  int release();

 private:
  int fd_ = -1;
};

struct OpenRegularFile {
  FileDescriptor fd;
  int64_t size = 0;
};

// Opens `path` read-only (O_NONBLOCK, so opening a FIFO does not wait) and checks
// it is a regular file of at most max_bytes. Errors name the file: kUsage when it
// cannot be opened or is not a regular file, kResourceLimit when it is too large.
Result<OpenRegularFile> open_regular_file(const std::string& path, int64_t max_bytes);

// The whole file, through open_regular_file's checks; reads at most the size
// fstat reported, so a file that grows while it is read is still bounded.
Result<std::string> read_regular_file(const std::string& path, int64_t max_bytes);

}  // namespace onnx_mini
