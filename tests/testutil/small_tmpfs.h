// A small tmpfs mounted for a test, so full-disk errors can be provoked for
// real (ENOSPC from write, fsync or close). Mounting needs root: elsewhere the
// test skips with that reason. Unmounted when destroyed.
#pragma once

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

namespace onnx_mini::testing {

class SmallTmpfs {
 public:
  // Mounts `size` (mount's syntax: "64k") at `dir`; why() says what failed.
  SmallTmpfs(const std::string& dir, const std::string& size, bool read_only = false) : dir_(dir) {
    if (::geteuid() != 0) {
      why_ = "mounting a small tmpfs needs root; the full-disk cases run as root only";
      return;
    }
    if (::mount("tmpfs", dir.c_str(), "tmpfs", read_only ? MS_RDONLY : 0, ("size=" + size).c_str()) != 0) {
      why_ = std::string("cannot mount a tmpfs here: ") + std::strerror(errno);
      return;
    }
    mounted_ = true;
  }
  ~SmallTmpfs() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  SmallTmpfs(const SmallTmpfs&) = delete;
  SmallTmpfs& operator=(const SmallTmpfs&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& why() const { return why_; }

  // Fills the file system: a file grows until the disk is full.
  void fill() const {
    std::ofstream f(dir_ + "/filler", std::ios::binary);
    const std::string block(4096, 'f');
    for (int i = 0; i < 1 << 16 && f; ++i) f.write(block.data(), static_cast<std::streamsize>(block.size()));
  }

 private:
  std::string dir_, why_;
  bool mounted_ = false;
};

}  // namespace onnx_mini::testing
