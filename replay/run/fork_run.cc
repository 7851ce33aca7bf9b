#include "replay/run/fork_run.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <stdexcept>
#include <vector>

#include "sim/harness/contain.h"
#include "sim/harness/contain_shared.h"
#include "sim/harness/pipe_io.h"
#include "sim/intercept/intercept.h"

namespace weft::run {
namespace {

using sim::Choice;
using sim::ChoicePoint;
using sim::Failure;
using sim::FailureKind;
using sim::PendingOp;
using sim::StrandId;

// What the child leaves for the parent besides contain's crash record.
struct ResultRecord {
  std::atomic<int> state{0};  // 0: none, 1: a result, 2: unsupported call
  int kind = 0;               // FailureKind + 1, or 0: passed
  StrandId strand_id = sim::kNoStrand;
  std::uint64_t step = 0;
  std::uint64_t time_ns = 0;
  std::uint64_t steps = 0;
  std::uint64_t choices = 0;
  std::uint64_t stacks = 0;  // strand stacks the child mapped
  char strand[128] = {};
  char message[8192] = {};
};

constexpr std::size_t kLogBytes = std::size_t{256} << 20;  // reserved only
constexpr off_t kOutputKeep = off_t{1} << 20;  // bytes before a truncation
constexpr std::uint64_t kMaxReserved = 64;     // stacks mapped ahead

struct LogHeader {
  std::uint64_t used = 0;
  bool overflow = false;
};

void copy_text(char* to, std::size_t size, const std::string& from) {
  const std::size_t n = std::min(size - 1, from.size());
  std::memcpy(to, from.data(), n);
  to[n] = '\0';
}

// Appends the strategy calls of a run to the log: the parent plays them
// into its own strategy. A choice point's strands and pending operations
// are written only where they differ from the last choice point's (each
// is an array over every strand: written whole, a run of many threads
// wrote megabytes per schedule, the square of its threads).
//
// A choice: 32 bytes of header (byte 3: kSameStrands when the strands are
// the last ones), the strands unless the same, then the changed pending
// operations: their number, then each one's index and value.
constexpr char kSameStrands = 1;

bool same_op(const PendingOp& a, const PendingOp& b) {
  return a.kind == b.kind && a.access == b.access && a.object == b.object &&
         a.object2 == b.object2 && a.strand == b.strand && a.name == b.name;
}

class LoggingStrategy final : public sim::ForwardingStrategy {
 public:
  LoggingStrategy(sim::Strategy& inner, LogHeader* log)
      : ForwardingStrategy(&inner), log_(log) {}
  std::uint32_t choose(const ChoicePoint& p) override {
    const std::uint32_t answer = inner()->choose(p);
    const auto n = static_cast<std::uint32_t>(p.strands.size());
    const auto m = static_cast<std::uint32_t>(p.pending_ops.size());
    const bool same_strands =
        n == strands_.size() &&
        std::equal(p.strands.begin(), p.strands.end(), strands_.begin());
    char head[32];
    head[0] = 'c';
    head[1] = static_cast<char>(p.kind);
    head[2] = p.is_value ? 1 : 0;
    head[3] = same_strands ? kSameStrands : 0;
    std::memcpy(head + 4, &p.count, 4);
    std::memcpy(head + 8, &p.current, 4);
    std::memcpy(head + 12, &p.step, 8);
    std::memcpy(head + 20, &n, 4);
    std::memcpy(head + 24, &m, 4);
    std::memcpy(head + 28, &answer, 4);
    put(head, sizeof head);
    if (!same_strands) {
      put(p.strands.data(), n * sizeof(StrandId));
      strands_.assign(p.strands.begin(), p.strands.end());
    }
    put_changed_ops(p.pending_ops);
    return answer;
  }
  void runnable_changed(StrandId id, bool runnable) override {
    inner()->runnable_changed(id, runnable);
    char rec[8] = {'r', static_cast<char>(runnable ? 1 : 0)};
    std::memcpy(rec + 4, &id, 4);
    put(rec, sizeof rec);
  }

 private:
  void put_changed_ops(std::span<const PendingOp> ops) {
    changed_.clear();
    for (std::uint32_t i = 0; i < ops.size(); ++i)
      if (i >= pending_.size() || !same_op(ops[i], pending_[i]))
        changed_.push_back(i);
    const auto k = static_cast<std::uint32_t>(changed_.size());
    put(&k, sizeof k);
    for (const std::uint32_t i : changed_) {
      put(&i, sizeof i);
      put(&ops[i], sizeof(PendingOp));
    }
    pending_.assign(ops.begin(), ops.end());
  }
  void put(const void* data, std::size_t size) {
    if (size == 0 || log_->overflow) return;
    if (log_->used + size > kLogBytes - sizeof(LogHeader)) {
      log_->overflow = true;
      return;
    }
    std::memcpy(reinterpret_cast<char*>(log_ + 1) + log_->used, data, size);
    log_->used += size;
  }
  LogHeader* log_;
  std::vector<StrandId> strands_;   // the last choice point's
  std::vector<PendingOp> pending_;  // the last choice point's
  std::vector<std::uint32_t> changed_;
};

// Plays the child's log into the parent's strategy; false if it could not
// (the log overflowed, or the strategy answered differently).
bool replay_log(const LogHeader* log, sim::Strategy& strategy) {
  const char* p = reinterpret_cast<const char*>(log + 1);
  const char* end = p + log->used;
  // A log that overflowed ends inside a record: stop before it.
  auto fits = [&p, end](std::size_t bytes) {
    return static_cast<std::size_t>(end - p) >= bytes;
  };
  std::vector<StrandId> strands;
  std::vector<PendingOp> pending;
  bool same = !log->overflow;
  while (fits(8)) {
    if (*p == 'r') {
      StrandId id;
      std::memcpy(&id, p + 4, 4);
      strategy.runnable_changed(id, p[1] != 0);
      p += 8;
      continue;
    }
    if (!fits(32)) break;
    std::uint32_t count, n, m, answer;
    StrandId current;
    std::uint64_t step;
    std::memcpy(&count, p + 4, 4);
    std::memcpy(&current, p + 8, 4);
    std::memcpy(&step, p + 12, 8);
    std::memcpy(&n, p + 20, 4);
    std::memcpy(&m, p + 24, 4);
    std::memcpy(&answer, p + 28, 4);
    const auto kind = static_cast<sim::ChoiceKind>(p[1]);
    const bool is_value = p[2] != 0;
    const bool same_strands = (p[3] & kSameStrands) != 0;
    p += 32;
    if (!same_strands) {
      if (!fits(std::size_t{n} * sizeof(StrandId))) break;
      strands.resize(n);
      if (n > 0) std::memcpy(strands.data(), p, n * sizeof(StrandId));
      p += n * sizeof(StrandId);
    }
    pending.resize(m);
    std::uint32_t k;
    if (!fits(4)) break;
    std::memcpy(&k, p, 4);
    p += 4;
    if (!fits(std::size_t{k} * (4 + sizeof(PendingOp)))) break;
    for (std::uint32_t c = 0; c < k; ++c) {
      std::uint32_t i;
      std::memcpy(&i, p, 4);
      if (i < m)
        std::memcpy(static_cast<void*>(&pending[i]), p + 4, sizeof(PendingOp));
      p += 4 + sizeof(PendingOp);
    }
    const ChoicePoint point{kind,    is_value, count,  strands,
                            current, step,     pending};
    try {
      if (strategy.choose(point) != answer) same = false;
    } catch (const std::exception&) {
      // A replay's divergence: the child reported it already.
    }
  }
  return same;
}

// The child's state, reached from the hooks (a process-wide pointer: the
// child runs one schedule and ends).
struct Child {
  const sim::Scheduler* sched = nullptr;
  sim::internal::Shared* shared = nullptr;
  ResultRecord* result = nullptr;
};
Child g_child;

[[noreturn]] void end_child(const sim::Schedule& schedule,
                            const std::optional<Failure>& failure,
                            std::uint64_t steps) {
  ResultRecord& r = *g_child.result;
  if (failure) {
    r.kind = static_cast<int>(failure->kind) + 1;
    r.strand_id = failure->strand_id;
    r.step = failure->step;
    r.time_ns = static_cast<std::uint64_t>(failure->time.count());
    copy_text(r.strand, sizeof r.strand, failure->strand);
    copy_text(r.message, sizeof r.message, failure->message);
  }
  r.steps = steps;
  r.stacks = g_child.sched->stacks_mapped();
  const std::uint64_t n =
      std::min<std::uint64_t>(schedule.size(), g_child.shared->choice_capacity);
  if (n > 0)
    std::memcpy(static_cast<void*>(g_child.shared->choices()), schedule.data(),
                n * sizeof(Choice));
  r.choices = n;
  if (r.state.load() == 0) r.state.store(1);
  std::fflush(nullptr);
  _exit(sim::internal::kChildResultSent);
}

void on_teardown(sim::Scheduler& s) {
  end_child(s.schedule_so_far(), s.failure(), s.step());
}

void on_unsupported(sim::Scheduler& s, const char* what, const char* why) {
  ResultRecord& r = *g_child.result;
  copy_text(r.message, sizeof r.message,
            std::string("the program called ") + what + " in thread '" +
                s.strand_name(s.current_strand()) +
                "', which weft run does not support: " + why);
  r.state.store(2);
  end_child(s.schedule_so_far(), s.failure(), s.step());
}

// exit() from the program: the end of the run, as a return from main.
void on_exit_hook(int status, void*) {
  if (g_child.result == nullptr) return;
  if (sim::Scheduler* s = sim::Scheduler::current())
    ForkIsolation::finish_child(*s, status);
}

// What the schedule wrote from byte `from` of the output file on.
std::string read_output(int fd, off_t from) {
  if (lseek(fd, from, SEEK_SET) < 0) return {};
  return sim::internal::read_all(fd);
}

}  // namespace

struct ForkIsolation::Area {
  sim::internal::SharedMapping shared;
  ResultRecord* result = nullptr;
  LogHeader* log = nullptr;
  Area(std::uint64_t max_steps) : shared(max_steps, std::uint64_t{64} << 20) {
    void* r = mmap(nullptr, sizeof(ResultRecord), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    void* l = mmap(nullptr, kLogBytes, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED || l == MAP_FAILED) throw std::bad_alloc();
    result = new (r) ResultRecord;
    log = new (l) LogHeader;
  }
  ~Area() {
    munmap(result, sizeof(ResultRecord));
    munmap(log, kLogBytes);
  }
  void reset() {
    sim::internal::Shared* sh = shared.get();
    sh->crash.kind.store(0);
    sh->stream_used.store(0);
    sh->stream_full.store(false);
    result->~ResultRecord();
    new (result) ResultRecord;
    log->used = 0;
    log->overflow = false;
  }
};

ForkIsolation::ForkIsolation(std::uint64_t max_steps, std::uint64_t watchdog_s)
    : area_(new Area(max_steps)), watchdog_s_(watchdog_s) {
  output_fd_ = memfd_create("weft-run-output", MFD_CLOEXEC);
  if (output_fd_ < 0) throw std::runtime_error("weft run: memfd_create failed");
  sim::internal::prepare_contained_children();
}

ForkIsolation::~ForkIsolation() {
  close(output_fd_);
  delete area_;
}

void ForkIsolation::finish_child(sim::Scheduler& s, int status) {
  std::optional<Failure> failure = s.failure();
  if (!failure && status != 0)
    failure =
        Failure{FailureKind::kExit,
                "the program exited with status " + std::to_string(status),
                s.strand_name(s.current_strand()),
                s.current_strand(),
                s.step(),
                s.now()};
  end_child(s.schedule_so_far(), failure, s.step());
}

namespace {

// The failure of a child that died before it could say how the run ended.
Failure crash_failure(const sim::internal::CrashRecord& c, int status,
                      std::uint64_t watchdog_s) {
  FailureKind kind = FailureKind::kCrash;
  if (c.kind.load() != 0) kind = static_cast<FailureKind>(c.kind.load() - 1);
  const std::string strand = c.strand;
  const std::string in = strand.empty() ? "" : " in thread '" + strand + "'";
  std::string message;
  const int sig = WIFSIGNALED(status) ? WTERMSIG(status) : c.signal;
  if (kind == FailureKind::kHang) {
    message =
        "no choice point for " + std::to_string(watchdog_s) +
        " s of real time (WEFT_WATCHDOG)" + in +
        (c.activity[0] != '\0'
             ? std::string(" (its last call weft saw was ") + c.activity + ")"
             : std::string()) +
        ": it spins without a pthread call, or waits on something "
        "weft does not control (a read, a pipe, a lock of its own).";
  } else if (kind == FailureKind::kStackOverflow) {
    message = "a thread" + in + " overflowed its stack (WEFT_STACK_SIZE)";
  } else {
    message = "the program died of signal " + std::to_string(sig) + " (" +
              sim::internal::signal_name(sig) + ")" + in;
  }
  return Failure{kind,   message,
                 strand, c.strand_id,
                 c.step, sim::Nanos{static_cast<std::int64_t>(c.time_ns)}};
}

}  // namespace

sim::RunResult ForkIsolation::run(sim::Scheduler& sched,
                                  sim::Strategy& strategy, std::uint64_t seed,
                                  const std::function<void()>& body) {
  area_->reset();
  sim::internal::Shared* sh = area_->shared.get();
  // The children write on from where the last one stopped (they share the
  // file offset); the buffer is emptied only once it has grown large.
  off_t output_at = lseek(output_fd_, 0, SEEK_CUR);
  if (output_at < 0 || output_at > kOutputKeep) {
    if (ftruncate(output_fd_, 0) != 0 || lseek(output_fd_, 0, SEEK_SET) < 0)
      throw std::runtime_error("weft run: cannot reset the output buffer");
    output_at = 0;
  }
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("weft run: fork failed");
  if (pid == 0) {
    dup2(output_fd_, STDOUT_FILENO);
    dup2(output_fd_, STDERR_FILENO);
    // Line-buffered, as on a terminal: a schedule that aborts keeps the
    // lines it printed.
    // (A buffer of ours: libc's own would cost a stat and an allocation.)
    static char out_buffer[BUFSIZ];
    setvbuf(stdout, out_buffer, _IOLBF, sizeof out_buffer);
    g_child.sched = &sched;
    g_child.shared = sh;
    g_child.result = area_->result;
    sim::internal::become_contained_child(sh, watchdog_s_);
    on_exit(on_exit_hook, nullptr);  // runs before containment's hook
    intercept::set_teardown_hook(on_teardown);
    intercept::set_unsupported_handler(on_unsupported);
    LoggingStrategy logging(strategy, area_->log);
    std::unique_ptr<sim::RunObserver> stream;
    if (sched.observer() != nullptr) {
      stream = sim::internal::make_stream_observer(sh);
      sched.set_observer(stream.get());
    }
    const sim::RunResult r = sched.run_here(logging, seed, body);
    end_child(r.schedule, r.failure, r.steps);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  strategy.begin(seed);
  replay_log(area_->log, strategy);

  sim::RunResult out;
  const ResultRecord& rec = *area_->result;
  if (rec.state.load() != 0) {
    if (rec.kind != 0)
      out.failure = Failure{static_cast<FailureKind>(rec.kind - 1),
                            rec.message,
                            rec.strand,
                            rec.strand_id,
                            rec.step,
                            sim::Nanos{static_cast<std::int64_t>(rec.time_ns)}};
    out.steps = rec.steps;
    out.schedule.assign(sh->choices(), sh->choices() + rec.choices);
    // The next children take their stacks from the parent's pool.
    if (rec.stacks > sched.stacks_mapped())
      sched.reserve_stacks(std::min<std::uint64_t>(rec.stacks, kMaxReserved));
    // Not a failure of a schedule but input weft run cannot take: the
    // exploration ends here, without a report.
    if (rec.state.load() == 2) throw UnsupportedProgram(rec.message);
  } else {
    const sim::internal::CrashRecord& c = sh->crash;
    out.failure = crash_failure(c, status, watchdog_s_);
    out.steps = c.step;
    out.schedule.assign(sh->choices(), sh->choices() + c.choices);
  }
  strategy.end(out.schedule.size());
  if (sim::RunObserver* observer = sched.observer()) {
    sim::internal::replay_stream(sh, *observer);
    if (out.failure) observer->on_failure(*out.failure);
  }
  if (out.failure && !kept_output_) {
    failing_output_ = read_output(output_fd_, output_at);
    kept_output_ = true;
  }
  return out;
}

}  // namespace weft::run
