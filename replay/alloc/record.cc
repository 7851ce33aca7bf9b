#include "replay/alloc/record.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <new>
#include <system_error>
#include <unordered_set>

#include "replay/alloc/recorder/clock.h"
#include "replay/alloc/ring.h"
#include "traces/writer.h"

namespace weft::replay {
namespace {

// The ring, created here and inherited by the program (by descriptor).
struct SharedRing {
  int fd = -1;
  ring::Header* header = nullptr;

  SharedRing() {
    fd = memfd_create("weft-alloc-ring", MFD_CLOEXEC);
    if (fd < 0)
      throw std::system_error(errno, std::generic_category(), "memfd_create");
    if (ftruncate(fd, static_cast<off_t>(ring::kBytes)) != 0) {
      const int e = errno;
      ::close(fd);
      throw std::system_error(e, std::generic_category(), "ftruncate");
    }
    void* p = mmap(nullptr, ring::kBytes, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_POPULATE, fd, 0);
    if (p == MAP_FAILED) {
      const int e = errno;
      ::close(fd);
      throw std::system_error(e, std::generic_category(), "mmap");
    }
    header = new (p) ring::Header{};
    header->magic = ring::kMagic;
    header->entries = ring::kEntries;
    header->start_ticks = ticks();
  }
  ~SharedRing() {
    munmap(header, ring::kBytes);
    ::close(fd);
  }
  SharedRing(const SharedRing&) = delete;
  SharedRing& operator=(const SharedRing&) = delete;
};

// Reads the ring in position order into the log; the log restarts with
// each new program image (an exec), as the log is the last image's.
class Drainer {
 public:
  Drainer(ring::Header* h, std::string output, pid_t pid)
      : h_(h),
        entries_(ring::entries(h)),
        output_(std::move(output)),
        pid_(pid) {
    clock_.start(h->start_ticks);
  }

  // Reads every complete position in order, stopping at the first
  // incomplete one; with `dead` (the program is gone), reads every position
  // taken and counts the incomplete ones as lost.
  void drain(bool dead) {
    const std::uint64_t end =
        dead ? h_->next_seq.load(std::memory_order_acquire) : UINT64_MAX;
    if (h_->image.load(std::memory_order_acquire) != image_) start_image();
    clock_.calibrate();
    while (tail_ < end) {
      if (h_->image.load(std::memory_order_acquire) != image_) start_image();
      if (image_ == 0) break;
      ring::Entry& e = entries_[tail_ & (ring::kEntries - 1)];
      const std::uint64_t c = e.commit.load(std::memory_order_acquire);
      if ((c & ~ring::kFiller) != tail_ + 1) {
        if (!dead) break;
        ++result_.lost;
      } else if (h_->image.load(std::memory_order_relaxed) != image_) {
        continue;  // a later image's call: its log starts afresh
      } else if ((c & ring::kFiller) != 0) {
        reallocs_.insert(tail_);
      } else {
        const traces::AllocRecord r = unpack(e);
        if (r.release_delta != 0) reallocs_.erase(tail_ - r.release_delta);
        write(r);
      }
      if ((++tail_ & 4095) == 0)
        h_->consumed.store(tail_, std::memory_order_release);
    }
    h_->consumed.store(tail_, std::memory_order_release);
    // A realloc whose first number came but not its record was in flight
    // (if it had taken its second number too, the call counts twice).
    if (dead) {
      result_.lost += reallocs_.size();
      reallocs_.clear();
    }
  }

  RecordResult& result() { return result_; }

  void close() {
    if (writer_ == nullptr) return;
    try {
      writer_->close();
    } catch (const std::exception& e) {
      result_.error = e.what();
    }
    writer_.reset();
  }

 private:
  // The record of the complete entry at `tail_`, its time in nanoseconds
  // since the recording started (never before the thread's last).
  traces::AllocRecord unpack(const ring::Entry& e) {
    traces::AllocRecord r;
    r.call = e.call;
    r.thread = e.thread;
    r.seq = tail_ - base_;
    r.size = e.size;
    (r.call == traces::AllocCall::kRealloc ? r.release_delta : r.align) = e.aux;
    r.ptr = e.ptr;
    r.result = e.result;
    r.timed = true;
    if (r.thread >= last_ns_.size()) last_ns_.resize(r.thread + 1, 0);
    r.time_ns = last_ns_[r.thread] =
        std::max(last_ns_[r.thread], clock_.to_ns(e.ticks));
    return r;
  }

  // A program image started recording: its log replaces the earlier
  // image's, from the sequence number it started at.
  void start_image() {
    std::uint64_t image = 0;
    std::string program;
    do {
      image = h_->image.load(std::memory_order_acquire);
      base_ = h_->image_start.load(std::memory_order_relaxed);
      program.assign(h_->program, strnlen(h_->program, sizeof h_->program));
    } while (h_->image.load(std::memory_order_acquire) != image);
    image_ = image;
    tail_ = std::max(tail_, base_);
    result_.logged = true;
    result_.calls = result_.lost = result_.unwritten = 0;
    result_.error.clear();
    reallocs_.clear();
    last_ns_.clear();  // the new image numbers its threads afresh
    writer_.reset();
    try {
      traces::TraceHeader header;
      header.kind = traces::TraceKind::kAllocLog;
      header.metadata = {{"form", "calls"},
                         {"program", program},
                         {"pid", std::to_string(pid_)},
                         {"recorder", "weft LD_PRELOAD"}};
      traces::WriterOptions options;
      options.records_per_frame = 16384;
      // The alloc layout, stored: this process must cost the machine
      // little beside the program, and compressing was most of its work
      // even at zstd's level 1 (docs/performance.md, "Recording at
      // production scale"); the layout's steps make a call about 6 bytes
      // without it.
      options.alloc_layout = true;
      options.store = true;
      writer_ = std::make_unique<traces::TraceWriter>(output_, header, options);
    } catch (const std::exception& e) {
      result_.error = e.what();
    }
  }

  void write(const traces::AllocRecord& r) {
    if (writer_ != nullptr) {
      try {
        writer_->append(r);
        ++result_.calls;
        return;
      } catch (const std::exception& e) {
        // A full disk: keep reading, so the program never waits, and count.
        result_.error = e.what();
        writer_.reset();  // its destructor's close fails quietly
      }
    }
    ++result_.unwritten;
  }

  ring::Header* h_;
  ring::Entry* entries_;
  std::string output_;
  pid_t pid_;
  std::uint64_t image_ = 0;  // the image being logged (0: none yet)
  std::uint64_t base_ = 0;   // its first sequence number
  std::uint64_t tail_ = 0;   // the next position to read
  std::unique_ptr<traces::TraceWriter> writer_;
  TickClock clock_;
  std::vector<std::uint64_t> last_ns_;  // by thread: its latest time
  // Reallocs started (their first number read) whose record has not come.
  std::unordered_set<std::uint64_t> reallocs_;
  RecordResult result_;
};

volatile sig_atomic_t program_pid = 0;

// Passes on signals sent to `weft alloc record` by kill(2) and the like.
// Those a terminal sends (si_code SI_KERNEL) reach the program directly,
// as it is in the same process group.
void forward(int sig, siginfo_t* info, void*) {
  if (info->si_code <= 0 && program_pid > 0) kill(program_pid, sig);
}

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// In the forked child: die with the recorder, take the ring, run.
[[noreturn]] void run_program(const std::vector<std::string>& argv,
                              pid_t recorder, int ring_fd) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The recorder may have died before prctl: then nobody drains the ring.
  if (getppid() != recorder) _exit(127);
  const int fd = dup(ring_fd);  // without FD_CLOEXEC
  setenv(ring::kEnv, std::to_string(fd).c_str(), 1);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  std::fprintf(stderr, "weft alloc record: cannot run %s: %s\n", args[0],
               std::strerror(errno));
  _exit(127);
}

}  // namespace

RecordResult record_program(const std::string& output,
                            const std::vector<std::string>& argv, bool children,
                            const std::string& library) {
  SharedRing shared;
  const char* old = std::getenv("LD_PRELOAD");
  const std::string preload =
      library + (old != nullptr && *old != '\0' ? ":" + std::string(old) : "");
  const pid_t recorder = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    setenv("WEFT_ALLOC_PID", std::to_string(getpid()).c_str(), 1);
    setenv("LD_PRELOAD", preload.c_str(), 1);
    setenv("WEFT_ALLOC_OUT", output.c_str(), 1);
    if (children) setenv("WEFT_ALLOC_CHILDREN", "1", 1);
    run_program(argv, recorder, shared.fd);
  }
  program_pid = pid;
  struct sigaction act {};
  act.sa_sigaction = forward;
  act.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&act.sa_mask);
  struct sigaction saved[std::size(kForwarded)];
  for (std::size_t i = 0; i < std::size(kForwarded); ++i)
    sigaction(kForwarded[i], &act, &saved[i]);

  Drainer drainer(shared.header, output, pid);
  int status = 0;
  for (;;) {
    const pid_t w = waitpid(pid, &status, WNOHANG);
    const bool dead = w == pid || (w < 0 && errno != EINTR);
    drainer.drain(dead);
    if (dead) break;
    const timespec pause{0, 1000000};  // 1 ms: a ring holds far more
    nanosleep(&pause, nullptr);
  }
  drainer.close();
  for (std::size_t i = 0; i < std::size(kForwarded); ++i)
    sigaction(kForwarded[i], &saved[i], nullptr);
  program_pid = 0;

  RecordResult result = drainer.result();
  result.status =
      WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  return result;
}

}  // namespace weft::replay
