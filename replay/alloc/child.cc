// The replay child, both sides: replay_in_child() runs weft-alloc-replayer
// with the allocator preloaded and reads its result; replayer_main() is
// that program's main.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "replay/alloc/measure.h"
#include "replay/alloc/replay.h"
#include "traces/reader.h"
#include "traces/self_exe.h"

extern char** environ;

namespace weft::replay {
namespace {

const char* mode_name(const ReplayOptions& options) {
  return options.timed ? "timed" : options.ordered ? "ordered" : "fast";
}

ReplayResult failed_result(const std::string& allocator,
                           const ReplayOptions& options) {
  ReplayResult failed;
  failed.allocator = allocator;
  failed.mode = mode_name(options);
  failed.checked = options.check;
  return failed;
}

std::vector<std::string> child_arguments(const std::string& program,
                                         const std::string& log_path,
                                         const ReplayOptions& options) {
  std::vector<std::string> args = {program, "--samples",
                                   std::to_string(options.samples)};
  if (options.ordered) args.push_back("--ordered");
  if (options.timed) args.push_back("--timed");
  if (!options.check) args.push_back("--no-check");
  if (options.chunk != ReplayOptions{}.chunk) {
    args.push_back("--chunk");
    args.push_back(std::to_string(options.chunk));
  }
  args.push_back(log_path);
  return args;
}

// Ours, with LD_PRELOAD replaced by the allocator's library, if any.
std::vector<std::string> child_environment(const std::string& lib) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, "LD_PRELOAD=", 11) != 0) env.emplace_back(*e);
  if (!lib.empty()) env.push_back("LD_PRELOAD=" + lib);
  return env;
}

struct ChildRun {
  std::string out;  // what it printed
  int status = 0;
  struct rusage usage {};
  std::string error;  // why it could not be started
};

// Runs `program` and collects its standard output and how it ended.
ChildRun run_child(const std::string& program, std::vector<std::string> args,
                   std::vector<std::string> env) {
  ChildRun c;
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    c.error = std::string("pipe: ") + std::strerror(errno);
    return c;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    c.error = std::string("fork: ") + std::strerror(errno);
    return c;
  }
  if (pid == 0) {
    dup2(out[1], 1);
    execve(program.c_str(), argv.data(), envp.data());
    const char msg[] = "weft: cannot run weft-alloc-replayer\n";
    [[maybe_unused]] auto w = ::write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  ::close(out[1]);
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    c.out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  while (wait4(pid, &c.status, 0, &c.usage) < 0 && errno == EINTR) {
  }
  return c;
}

// The result the child printed, with its resource usage, or why there is
// none (`failed`, filled in).
ReplayResult child_result(const ChildRun& c, const std::string& program,
                          const std::string& allocator, ReplayResult failed) {
  const int status = c.status;
  const struct rusage& usage = c.usage;
  if (WIFSIGNALED(status)) {
    failed.failure = "the replayer died of signal " +
                     std::to_string(WTERMSIG(status)) + " (" +
                     strsignal(WTERMSIG(status)) + ") under " + allocator +
                     ": the allocator crashed or corrupted memory";
    return failed;
  }
  if (!WIFEXITED(status) ||
      (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 1)) {
    failed.failure = program + " exited with status " +
                     std::to_string(WEXITSTATUS(status)) + " under " +
                     allocator;
    return failed;
  }
  try {
    ReplayResult r = from_json(c.out);
    r.allocator = allocator;
    r.user_seconds = static_cast<double>(usage.ru_utime.tv_sec) +
                     static_cast<double>(usage.ru_utime.tv_usec) / 1e6;
    r.sys_seconds = static_cast<double>(usage.ru_stime.tv_sec) +
                    static_cast<double>(usage.ru_stime.tv_usec) / 1e6;
    r.page_faults = static_cast<std::uint64_t>(usage.ru_majflt);
    r.page_reclaims = static_cast<std::uint64_t>(usage.ru_minflt);
    r.process_peak_rss = static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
    return r;
  } catch (const std::exception& e) {
    failed.failure =
        std::string("unreadable result from the replayer: ") + e.what();
    return failed;
  }
}

// A slots log's operations, read_slots() a chunk at a time into memory
// the allocator under test never sees.
class FileSource : public OpSource {
 public:
  FileSource(const std::string& path, const ReplayOptions& options)
      : path_(path),
        chunk_(std::max<std::size_t>(options.chunk, 1)),
        timed_(options.timed),
        ops_(read_slots(path, &shape_)),
        it_(ops_.begin()) {}

  std::pair<const SlotRecord*, std::size_t> next() override {
    window_.clear();
    for (; it_ != ops_.end() && window_.size() < chunk_; ++it_) {
      const SlotRecord& op = *it_;
      if (timed_ && !op.timed)
        throw traces::TraceError(
            path_, shape_.offset,
            "operation " + std::to_string(read_) +
                " has no recorded time: --timed needs a log recorded with "
                "times (trace format 2.3: weft alloc record or generate)");
      if (op.slot >= widest_) {
        widest_ = op.slot + 1;
        widest_at_ = shape_.offset;
      }
      window_.push_back(op);
      ++read_;
    }
    return {window_.data(), window_.size()};
  }

  [[noreturn]] void too_large(std::uint64_t slots) override {
    throw traces::TraceError(
        path_, widest_at_,
        "slot " + std::to_string(slots - 1) + " needs a slot array of " +
            std::to_string(slots) + " entries (" +
            std::to_string(slots * (sizeof(void*) + 8) >> 20) +
            " MiB), which could not be reserved: the log is too large for "
            "this address space");
  }

 private:
  std::string path_;
  std::size_t chunk_;
  bool timed_;
  SlotLogShape shape_;
  traces::Generator<SlotRecord> ops_;
  traces::Generator<SlotRecord>::iterator it_;
  internal::Mapped<SlotRecord> window_;
  std::uint64_t read_ = 0;
  std::uint64_t widest_ = 0;
  std::uint64_t widest_at_ = 0;
};

}  // namespace

std::unique_ptr<OpSource> file_source(const std::string& path,
                                      const ReplayOptions& options) {
  return std::make_unique<FileSource>(path, options);
}

namespace {

// `path` if it is a readable ELF shared object. The dynamic loader skips
// an LD_PRELOAD entry it cannot load with only a warning, and the replay
// would then measure glibc under the library's name.
std::string shared_library(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw std::system_error(errno, std::generic_category(),
                            "cannot read allocator library " + path);
  unsigned char head[18] = {};
  const ssize_t got = ::read(fd, head, sizeof head);
  ::close(fd);
  constexpr unsigned char kMagic[4] = {0x7f, 'E', 'L', 'F'};
  const bool shared = got == static_cast<ssize_t>(sizeof head) &&
                      std::memcmp(head, kMagic, 4) == 0 &&
                      head[5] == 1 /* little-endian */ && head[16] == 3 &&
                      head[17] == 0 /* ET_DYN */;
  if (!shared)
    throw std::runtime_error(
        "allocator library " + path +
        " is not an ELF shared object (the dynamic loader would skip it and "
        "the replay would measure glibc)");
  return path;
}

}  // namespace

std::string allocator_library(const std::string& allocator) {
  if (allocator == "glibc" || allocator.empty()) return "";
  const char* dir = "/usr/lib/x86_64-linux-gnu/";
  std::vector<std::string> candidates;
  if (allocator == "jemalloc")
    candidates = {"libjemalloc.so.2"};
  else if (allocator == "mimalloc")
    candidates = {"libmimalloc.so.2"};
  else if (allocator == "tcmalloc")
    candidates = {"libtcmalloc_minimal.so.4", "libtcmalloc.so.4"};
  else if (allocator.find('/') != std::string::npos ||
           allocator.find(".so") != std::string::npos)
    return shared_library(allocator);
  else
    throw std::runtime_error("unknown allocator '" + allocator +
                             "': glibc, jemalloc, mimalloc, tcmalloc, or a "
                             "path to a .so (with a '/')");
  for (const auto& c : candidates)
    if (access((dir + c).c_str(), R_OK) == 0) return dir + c;
  throw std::runtime_error("allocator " + allocator + " is not installed (" +
                           dir + candidates[0] + "); .ci/setup installs it");
}

std::string replayer_program() {
  if (const char* env = std::getenv("WEFT_ALLOC_REPLAYER"))
    if (*env != '\0') return env;
  const std::string dir = traces::self_executable_dir();
  for (const char* place : {"", "../libexec/weft/"}) {
    const std::string path = dir + place + "weft-alloc-replayer";
    if (!dir.empty() && access(path.c_str(), X_OK) == 0) return path;
  }
#ifdef WEFT_ALLOC_REPLAYER_PATH
  return WEFT_ALLOC_REPLAYER_PATH;
#else
  return "weft-alloc-replayer";
#endif
}

ReplayResult replay_in_child(const std::string& log_path,
                             const std::string& allocator,
                             const ReplayOptions& options) {
  ReplayResult failed = failed_result(allocator, options);
  std::string lib;
  try {
    lib = allocator_library(allocator);
  } catch (const std::exception& e) {
    failed.failure = e.what();
    return failed;
  }
  if (!lib.empty() && access(lib.c_str(), R_OK) != 0) {
    failed.failure = "cannot read allocator library " + lib;
    return failed;
  }
  const std::string program =
      options.replayer.empty() ? replayer_program() : options.replayer;
  const ChildRun c =
      run_child(program, child_arguments(program, log_path, options),
                child_environment(lib));
  if (!c.error.empty()) {
    failed.failure = c.error;
    return failed;
  }
  return child_result(c, program, allocator, std::move(failed));
}

int replayer_main(int argc, char** argv) {
  ReplayOptions options;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--ordered")
      options.ordered = true;
    else if (a == "--timed")
      options.timed = true;
    else if (a == "--no-check")
      options.check = false;
    else if (a == "--samples" && i + 1 < argc)
      options.samples = static_cast<std::uint32_t>(std::stoul(argv[++i]));
    else if (a == "--chunk" && i + 1 < argc)
      options.chunk = static_cast<std::size_t>(std::stoull(argv[++i]));
    else
      path = a;
  }
  if (path.empty()) {
    std::cerr << "usage: weft-alloc-replayer [--ordered] [--timed] "
                 "[--no-check] "
                 "[--samples N] [--chunk OPS] slots-log\n"
                 "(run by `weft alloc replay`; prints its result as JSON)\n";
    return 2;
  }
  ReplayResult r;
  try {
    // Streamed a chunk at a time into mapped memory: the allocator under
    // test (already preloaded) holds only the reader's frame buffers.
    const auto source = file_source(path, options);
    r = replay_stream(*source, options);
  } catch (const traces::TraceError& e) {
    r.failure = e.what();
    r.bad_input = true;
    r.mode = mode_name(options);
    r.checked = options.check;
  } catch (const std::exception& e) {
    r.failure = e.what();
    r.mode = mode_name(options);
    r.checked = options.check;
  }
  std::cout << to_json(r) << std::endl;
  return r.ok() ? 0 : 1;
}

}  // namespace weft::replay
