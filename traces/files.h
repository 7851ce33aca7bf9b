// Files as weft's tools open and write them. open_input() opens a file to
// read without ever blocking (a FIFO with no writer) and refuses what is
// not a regular file with a message naming it. AtomicFile is the one way
// an output appears: written under a temporary name in the same directory,
// fsync'ed and renamed over the target on commit(), so a reader never sees
// half an output and a failed command leaves no output and never replaces
// a good earlier one. An output that exists and is not a regular file
// (/dev/null, a FIFO, a terminal) is written in place.
#pragma once

#include <string>
#include <string_view>

namespace weft::traces {

// A read-only descriptor of the regular file `path` (O_CLOEXEC). Throws
// std::system_error naming `what` and `path` if it cannot be opened, and
// TraceError ("<path>: not a regular file (a FIFO or pipe): ... at byte 0")
// for a FIFO, pipe, socket, device or directory.
int open_input(const std::string& path, const char* what);

class AtomicFile {
 public:
  // Creates the temporary file beside `path`. Throws std::system_error
  // (naming `path`) if the directory cannot take it.
  explicit AtomicFile(std::string path);
  // Without commit(), the temporary file is removed: no output.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // Writes all of `bytes` (retrying short writes). Throws std::system_error.
  void write(std::string_view bytes);
  // fsync, close and rename onto path(). Throws std::system_error (the
  // temporary file is then removed).
  void commit();
  // Closes and removes the temporary file (no-op after commit()).
  void discard();

 private:
  std::string path_;
  std::string temp_;  // empty when writing in place
  int fd_ = -1;
};

// `bytes` as the whole content of `path`, atomically (AtomicFile).
void write_file_atomically(const std::string& path, std::string_view bytes);

// Throws std::invalid_argument ("the output OUT is the WHAT being read:
// writing it would destroy it") if `output` names the same file as `input`
// (the same device and inode, whatever the paths). A command checks
// each output against each input before it writes anything.
void refuse_overwriting(const std::string& input, const std::string& output,
                        std::string_view what = "file");

}  // namespace weft::traces
