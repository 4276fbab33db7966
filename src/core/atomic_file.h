// Writing every file the tools produce (onnx-run --output-dir and
// --save-optimized, onnx-init -o): all or nothing, and only where asked.
//
// The bytes go to a fresh temporary in the target's folder, created with
// O_CREAT|O_EXCL|O_NOFOLLOW (so a symbolic link planted at its name is never
// followed), named `.onnx-mini-` + 12 hex digits + `.tmp`. Every write, the
// optional fsync and the close are checked; only then is the temporary renamed
// over the target, which never follows a symbolic link either. The target must
// be absent or a regular file: a symbolic link, directory, device or FIFO there
// is refused, not replaced and not written through. On any failure the temporary
// is removed and an existing target keeps its old contents; the error names the
// file and gives the OS's reason (strerror). A target that existed keeps its
// permission bits; a new one gets 0666 less the umask.
//
// Interruptions: after remove_temporaries_on_signals(), SIGINT, SIGTERM and
// SIGHUP remove every temporary still being written before the process ends,
// whichever thread the signal lands on (one creating a temporary at that moment
// finishes registering it first). SIGKILL (and a power cut) cannot be caught:
// they can leave a temporary, `.onnx-mini-*.tmp`, in the target's folder; the
// target itself is then either its old contents or the complete new file,
// never a mix.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace onnx_mini {

struct AtomicWriteOptions {
  // fsync the file before the rename and its folder after: for model files, so
  // a crash right after the tool reports success cannot lose the new contents.
  bool durable = false;
};

class AtomicFileWriter {
 public:
  // Creates the temporary beside `path` after checking what is at `path`.
  static Result<AtomicFileWriter> create(const std::string& path, AtomicWriteOptions options = {});
  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&&) = delete;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter();  // not committed: the temporary is removed

  Status write(std::string_view bytes);
  // The temporary's descriptor, for writers that stream (protobuf's
  // FileOutputStream); report what they found with failed().
  int fd() const { return fd_; }
  // The error for a failed write through fd() (errno value `error`).
  Status failed(int error) const;
  // fsync (when durable), close, rename over the target.
  Status commit();

  const std::string& path() const { return path_; }

 private:
  AtomicFileWriter(std::string path, std::string temp, int fd, int slot, AtomicWriteOptions options);
  void discard();

  std::string path_, temp_;
  int fd_ = -1;
  int slot_ = -1;  // in the registry of temporaries removed on a signal
  AtomicWriteOptions options_;
};

// The whole of `bytes` into `path`, as above.
Status write_file_atomically(const std::string& path, std::string_view bytes, AtomicWriteOptions options = {});

// Installs the handlers that remove the temporaries being written on SIGINT,
// SIGTERM and SIGHUP, then end the process by the same signal. A signal the
// process ignores (nohup's SIGHUP) stays ignored. Tools call it once at start;
// library users who handle these signals themselves leave it uncalled.
void remove_temporaries_on_signals();

// The error code for a failed write: kResourceLimit when the disk or a quota is
// full (ENOSPC, EDQUOT, EFBIG), else kUsage (the place the user asked for).
ErrorCode write_error_code(int error);

}  // namespace onnx_mini
