#include "core/atomic_file.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>

namespace onnx_mini {
namespace {

// The temporaries being written, for the signal handler. A fixed table of
// lock-free atomics and plain char arrays: all a handler may touch. A slot is
// armed only once its file exists, so the handler never removes a file this
// process did not create.
//
// The creating thread blocks the cleanup signals from before it creates the
// temporary until its slot is armed. A signal sent to the process meanwhile goes
// to another thread (OpenBLAS's workers, a session's pool), whose handler would
// find the new file unregistered and end the process with it left behind. So
// the creator first marks its slot kCreating, and a handler that finds such a
// slot leaves everything to the creator: it returns, and the creator, once its
// slot is armed, raises the signal at itself (still blocked there: it is taken
// as the block ends, by a handler that then finds the slot armed). The handler
// records the signal before it looks at the slots and the creator marks its
// slot before it looks for a signal (both sequentially consistent), so either
// the handler sees kCreating or the creator sees the signal and creates nothing.
constexpr int kSlots = 64;
enum SlotState : int { kFree = 0, kCreating = 1, kArmed = 2 };
struct TempSlot {
  std::atomic<int> state{kFree};
  char path[PATH_MAX];
};
TempSlot g_slots[kSlots];
std::atomic<int> g_pending_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler reads the slots' state");

// A free slot marked kCreating; -1 when the table is full (the write goes on,
// unprotected from signals, rather than fail).
int reserve_slot() {
  for (int i = 0; i < kSlots; ++i) {
    int expected = kFree;
    if (g_slots[i].state.compare_exchange_strong(expected, kCreating)) return i;
  }
  return -1;
}

// The reserved slot, now holding the created file `path`; a path too long to
// hold frees it (-1: unprotected, as above).
int arm_slot(int slot, const std::string& path) {
  if (slot < 0) return -1;
  if (path.size() >= PATH_MAX) {
    g_slots[slot].state.store(kFree);
    return -1;
  }
  std::memcpy(g_slots[slot].path, path.c_str(), path.size() + 1);
  g_slots[slot].state.store(kArmed);
  return slot;
}

void free_slot(int slot) {
  if (slot >= 0) g_slots[slot].state.store(kFree);
}

extern "C" void remove_temporaries_and_reraise(int sig) {
  const int saved_errno = errno;
  g_pending_signal.store(sig);
  for (const TempSlot& s : g_slots) {
    if (s.state.load() == kCreating) {
      errno = saved_errno;
      return;  // its creator raises `sig` again once the slot is armed
    }
  }
  for (TempSlot& s : g_slots) {
    if (s.state.load() == kArmed) ::unlink(s.path);
  }
  // The default action, then the signal again: blocked while this handler runs,
  // it ends the process as soon as the handler returns.
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  ::sigaction(sig, &default_action, nullptr);
  errno = saved_errno;
  ::raise(sig);
}

constexpr int kCleanupSignals[] = {SIGINT, SIGTERM, SIGHUP};

// Blocks the cleanup signals in this thread between creating a temporary and
// arming its slot, so a signal cannot end the process in between.
class BlockCleanupSignals {
 public:
  BlockCleanupSignals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : kCleanupSignals) sigaddset(&set, sig);
    pthread_sigmask(SIG_BLOCK, &set, &old_);
  }
  ~BlockCleanupSignals() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }

 private:
  sigset_t old_;
};

std::string folder_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// 12 hex digits that differ between processes, threads and calls (not secret:
// O_EXCL, not the name, is what makes the temporary ours).
std::string temp_suffix() {
  static std::atomic<uint64_t> counter{0};
  uint64_t z = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
               (static_cast<uint64_t>(::getpid()) << 40) ^ (counter.fetch_add(1) * 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%012llx", static_cast<unsigned long long>(z & 0xffffffffffffULL));
  return buf;
}

const char* file_kind(mode_t mode) {
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "a special file";
}

Status cannot_write(const std::string& path, int error, const std::string& what = "") {
  return Status(write_error_code(error), "cannot write '" + path + "': " + what + std::strerror(error));
}

// What is at the target now: nothing, or a regular file (its permission bits
// into `mode`, when given). Anything else is refused: writing through a symbolic link
// would put the data elsewhere; replacing a device node (/dev/full) breaks the
// machine.
Status check_target(const std::string& path, std::optional<mode_t>* mode) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::ok();
    return cannot_write(path, errno);
  }
  if (!S_ISREG(st.st_mode)) {
    return usage_error("cannot write '" + path + "': it is " + file_kind(st.st_mode) +
                       ", not a regular file; refusing to replace it or write through it");
  }
  if (mode) *mode = st.st_mode & 0777;
  return Status::ok();
}

// Creates the temporary: a fresh name, never an existing file or link.
Result<int> create_temporary(const std::string& folder, std::string& temp) {
  const std::string prefix = (folder == "/" ? "" : folder) + "/.onnx-mini-";
  for (int attempt = 0; attempt < 100; ++attempt) {
    temp = prefix + temp_suffix() + ".tmp";
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd >= 0) return fd;
    if (errno != EEXIST) return Status(write_error_code(errno), std::strerror(errno));
  }
  return usage_error("100 temporary names in a row were taken");
}

}  // namespace

ErrorCode write_error_code(int error) {
  return error == ENOSPC || error == EDQUOT || error == EFBIG ? ErrorCode::kResourceLimit : ErrorCode::kUsage;
}

Result<AtomicFileWriter> AtomicFileWriter::create(const std::string& path, AtomicWriteOptions options) {
  if (path.empty() || path.back() == '/') return usage_error("cannot write '" + path + "': the path names no file");
  std::optional<mode_t> existing_mode;
  OM_RETURN_IF_ERROR(check_target(path, &existing_mode));
  const std::string folder = folder_of(path);
  std::string temp;
  int fd = -1, slot = -1;
  {
    BlockCleanupSignals blocked;
    slot = reserve_slot();
    // A handler already ran: create nothing, and take the signal as the block ends.
    if (const int sig = g_pending_signal.load()) {
      free_slot(slot);
      ::raise(sig);
      return usage_error("cannot write '" + path + "': interrupted by signal " + std::to_string(sig));
    }
    auto created = create_temporary(folder, temp);
    if (!created.is_ok()) {
      free_slot(slot);
      if (const int sig = g_pending_signal.load()) ::raise(sig);
      return created.status().with_context("cannot write '" + path + "': cannot create a file in '" + folder + "': ");
    }
    fd = created.value();
    slot = arm_slot(slot, temp);
    // A handler that ran meanwhile left the signal to us.
    if (const int sig = g_pending_signal.load()) ::raise(sig);
  }
  AtomicFileWriter writer(path, temp, fd, slot, options);
  if (existing_mode && ::fchmod(fd, *existing_mode) != 0) return writer.failed(errno);
  return writer;
}

AtomicFileWriter::AtomicFileWriter(std::string path, std::string temp, int fd, int slot, AtomicWriteOptions options)
    : path_(std::move(path)), temp_(std::move(temp)), fd_(fd), slot_(slot), options_(options) {}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& other) noexcept
    : path_(std::move(other.path_)),
      temp_(std::move(other.temp_)),
      fd_(other.fd_),
      slot_(other.slot_),
      options_(other.options_) {
  other.fd_ = -1;
  other.slot_ = -1;
  other.temp_.clear();
}

AtomicFileWriter::~AtomicFileWriter() { discard(); }

void AtomicFileWriter::discard() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temp_.empty()) ::unlink(temp_.c_str());
  temp_.clear();
  free_slot(slot_);
  slot_ = -1;
}

Status AtomicFileWriter::failed(int error) const { return cannot_write(path_, error); }

Status AtomicFileWriter::write(std::string_view bytes) {
  if (fd_ < 0) return internal_error("write to '" + path_ + "' after it was committed or failed");
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failed(errno);
    if (n == 0) return failed(EIO);  // a regular file never takes nothing without an error
    done += static_cast<size_t>(n);
  }
  return Status::ok();
}

Status AtomicFileWriter::commit() {
  if (fd_ < 0) return internal_error("commit of '" + path_ + "' after it was committed or failed");
  Status status;
  if (options_.durable && ::fsync(fd_) != 0) status = cannot_write(path_, errno, "fsync: ");
  // close can report a delayed write error (NFS, a full disk): it is checked too.
  const int closed = ::close(fd_);
  fd_ = -1;
  if (status.is_ok() && closed != 0) status = cannot_write(path_, errno, "close: ");
  // Checked again: something may have appeared at the target while we wrote.
  if (status.is_ok()) status = check_target(path_, nullptr);
  if (status.is_ok() && std::rename(temp_.c_str(), path_.c_str()) != 0) status = cannot_write(path_, errno, "rename: ");
  if (!status.is_ok()) {
    discard();
    return status;
  }
  temp_.clear();
  free_slot(slot_);
  slot_ = -1;
  if (options_.durable) {
    // The rename itself reaches the disk with the folder. Best effort: the new
    // file is complete and in place, and some filesystems refuse to fsync a folder.
    const int dir = ::open(folder_of(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
  }
  return Status::ok();
}

Status write_file_atomically(const std::string& path, std::string_view bytes, AtomicWriteOptions options) {
  OM_ASSIGN_OR_RETURN(AtomicFileWriter writer, AtomicFileWriter::create(path, options));
  OM_RETURN_IF_ERROR(writer.write(bytes));
  return writer.commit();
}

void remove_temporaries_on_signals() {
  for (int sig : kCleanupSignals) {
    struct sigaction current;
    if (::sigaction(sig, nullptr, &current) != 0 || current.sa_handler == SIG_IGN) continue;
    struct sigaction action {};
    action.sa_handler = remove_temporaries_and_reraise;
    sigemptyset(&action.sa_mask);
    // Not SA_RESETHAND: a handler that leaves the signal to a creating thread
    // must still be there when that thread raises it. SA_RESTART: the thread
    // whose handler returned goes on with what it was waiting for.
    action.sa_flags = SA_RESTART;
    ::sigaction(sig, &action, nullptr);
  }
}

}  // namespace onnx_mini
