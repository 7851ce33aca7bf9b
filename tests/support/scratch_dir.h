// A directory of its own for one test process's files: made on first use
// under the test temp directory, named for the process, and removed with
// everything in it when that process exits (not when a forked child does,
// since a child's exit must not take the files its parent still reads).
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace weft::test {

class ScratchDir {
 public:
  // The process's directory; the first call makes it.
  static const std::filesystem::path& path() {
    static const ScratchDir dir;
    return dir.path_;
  }

  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

 private:
  ScratchDir()
      : owner_(getpid()),
        path_(std::filesystem::temp_directory_path() /
              ("weft-test-" + std::to_string(owner_))) {
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    if (getpid() != owner_) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  pid_t owner_;
  std::filesystem::path path_;
};

// A file name inside the process's scratch directory.
inline std::string scratch_file(std::string_view leaf) {
  return (ScratchDir::path() / leaf).string();
}

}  // namespace weft::test
