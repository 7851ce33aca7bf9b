// The contained child's side: the shared memory, the handlers that record
// how the child died (fatal signals, exit(), the watchdog) and the stream
// observer of a recording child. Everything a handler touches is plain
// memory reached through one pointer; nothing here allocates in a handler.
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

#include "sim/harness/contain.h"
#include "sim/harness/contain_shared.h"
#include "sim/internal/fiber.h"

namespace weft::sim::internal {
namespace {

Shared* g_shared = nullptr;  // set in a contained child only
std::uint64_t g_watchdog_ticks = 0;

constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS,  SIGABRT, SIGFPE,
                                 SIGILL,  SIGTRAP, SIGSYS};
constexpr long kTickNanos = 250'000'000;  // the watchdog looks 4 times a second

void copy_text(char* to, std::size_t size, const char* from) {
  std::size_t i = 0;
  for (; from != nullptr && from[i] != '\0' && i + 1 < size; ++i)
    to[i] = from[i];
  to[i] = '\0';
}

// Fills the crash record from the running scheduler. Async-signal safe:
// reads the scheduler's fields and copies its choices without allocating.
void record_crash(FailureKind kind, int sig, std::uintptr_t address) {
  CrashRecord& c = g_shared->crash;
  if (c.kind.load() != 0) return;  // the first death wins
  c.signal = sig;
  c.fault_address = address;
  c.step = t_step != nullptr ? *t_step : 0;
  copy_text(c.strand, sizeof c.strand, t_strand_name);
  c.choices = 0;
  c.total_choices = 0;
  if (const Scheduler* s = Scheduler::current()) {
    c.strand_id = s->current_strand();
    copy_text(c.activity, sizeof c.activity, s->activity(c.strand_id));
    c.time_ns = static_cast<std::uint64_t>(s->now().count());
    const Schedule& schedule = s->schedule_so_far();
    c.total_choices = schedule.size();
    const std::uint64_t n =
        std::min<std::uint64_t>(schedule.size(), g_shared->choice_capacity);
    if (n > 0)
      std::memcpy(static_cast<void*>(g_shared->choices()), schedule.data(),
                  n * sizeof(Choice));
    c.choices = n;
  }
  c.kind.store(static_cast<int>(kind) + 1);
}

void on_fatal_signal(int sig, siginfo_t* info, void*) {
  const auto address = reinterpret_cast<std::uintptr_t>(info->si_addr);
  const bool overflow =
      (sig == SIGSEGV || sig == SIGBUS) && in_guard_page(address);
  record_crash(overflow ? FailureKind::kStackOverflow : FailureKind::kCrash,
               sig, address);
  // The handler was reset to the default (SA_RESETHAND): die of the signal.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
  raise(sig);
}

// exit() from code under test: recorded, then the child leaves at once
// with the same status, skipping the rest of the exit handlers and static
// destructors (they belong to the parent's program and may wait for
// threads the child does not have).
void on_exit_hook(int status, void*) {
  if (g_shared == nullptr || Scheduler::current() == nullptr) return;
  record_crash(FailureKind::kExit, 0, 0);
  std::fflush(nullptr);
  _exit(status);
}

// Real time decides only whether to give up, never a choice: a tick with
// the same scheduler, run and step as the ticks before it for the whole
// watchdog period means nothing reached a choice point.
void on_watchdog_tick(int) {
  static const Scheduler* last_sched = nullptr;
  static std::uint64_t last_run = 0;
  static std::uint64_t last_step = 0;
  static std::uint64_t still = 0;
  g_shared->ticks.fetch_add(1);
  const Scheduler* s = Scheduler::current();
  if (s == nullptr) {
    still = 0;
    return;
  }
  const std::uint64_t run = s->run_id();
  const std::uint64_t step = s->step();
  if (s == last_sched && run == last_run && step == last_step) {
    if (++still >= g_watchdog_ticks) {
      record_crash(FailureKind::kHang, 0, 0);
      _exit(kChildHung);
    }
    return;
  }
  last_sched = s;
  last_run = run;
  last_step = step;
  still = 0;
}

void install_handlers() {
  install_overflow_handler();  // once, so it never replaces ours later
  static char* alt = nullptr;
  constexpr std::size_t kAltSize = 256 * 1024;
  if (alt == nullptr) alt = new char[kAltSize];
  stack_t ss{};
  ss.ss_sp = alt;
  ss.ss_size = kAltSize;
  sigaltstack(&ss, nullptr);
  struct sigaction sa {};
  sa.sa_sigaction = on_fatal_signal;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  for (int sig : kFatalSignals) sigaction(sig, &sa, nullptr);
  on_exit(on_exit_hook, nullptr);
}

void start_watchdog(std::uint64_t seconds) {
  g_watchdog_ticks = seconds * (1'000'000'000 / kTickNanos);
  struct sigaction sa {};
  sa.sa_handler = on_watchdog_tick;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, nullptr);
  // Delivered to this thread (the one running the schedules), which is
  // the one whose strand the handler reads.
  sigevent ev{};
  ev.sigev_notify = SIGEV_THREAD_ID;
  ev.sigev_signo = SIGALRM;
  ev._sigev_un._tid = gettid();
  timer_t timer;
  if (timer_create(CLOCK_MONOTONIC, &ev, &timer) != 0) return;
  itimerspec spec{};
  spec.it_interval.tv_nsec = kTickNanos;
  spec.it_value.tv_nsec = kTickNanos;
  timer_settime(timer, 0, &spec, nullptr);
}

}  // namespace

SharedMapping::SharedMapping(std::uint64_t max_steps,
                             std::uint64_t stream_bytes) {
  const std::uint64_t choices =
      std::min<std::uint64_t>(max_steps + 16, std::uint64_t{1} << 22);
  size_ = sizeof(Shared) + choices * sizeof(Choice) + stream_bytes;
  void* m = mmap(nullptr, size_, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) throw std::bad_alloc();
  shared_ = new (m) Shared;
  shared_->choice_capacity = choices;
  shared_->stream_capacity = stream_bytes;
}

SharedMapping::~SharedMapping() {
  shared_->~Shared();
  munmap(shared_, size_);
}

bool contained(const ExploreOptions& o) {
  return o.contain == ExploreOptions::Contain::kBatch && g_shared == nullptr;
}

void become_contained_child(Shared* shared, std::uint64_t watchdog_s) {
  g_shared = shared;
  // A crash is reported, not dumped: no core file per contained crash.
  rlimit none{0, 0};
  setrlimit(RLIMIT_CORE, &none);
  install_handlers();
  if (watchdog_s > 0) start_watchdog(watchdog_s);
}

void publish_schedule(Shared* shared, std::uint64_t seed,
                      const Strategy& strategy) {
  shared->seed = seed;
  copy_text(shared->strategy, sizeof shared->strategy, strategy.name().c_str());
  const std::string env = strategy.environment();
  copy_text(shared->environment, sizeof shared->environment,
            env.size() < sizeof shared->environment ? env.c_str() : "");
  shared->started.fetch_add(1);
}

namespace {

// Appends each call to the shared stream; the parent replays them into a
// ScheduleRecorder after the child died. A record is visible to the parent
// only once whole (stream_used moves after the bytes are written).
class StreamObserver final : public RunObserver {
 public:
  explicit StreamObserver(Shared* shared) : shared_(shared) {}
  void on_spawn(StrandId id, StrandId parent, const std::string& name,
                std::uint64_t step, Nanos time) override {
    put({'s', 0, id, parent, step, ns(time), 0, 0}, nullptr, name);
  }
  void on_exit(StrandId id, std::uint64_t step, Nanos time) override {
    put({'x', 0, id, kNoStrand, step, ns(time), 0, 0}, nullptr, {});
  }
  void on_choice(const Choice& c, Nanos time) override {
    put({'c', 0, c.strand, 0, c.step, ns(time), 0, 0}, &c, {});
  }
  void on_wake(StrandId waker, StrandId woken, std::uint64_t step,
               Nanos time) override {
    put({'w', 0, waker, woken, step, ns(time), 0, 0}, nullptr, {});
  }
  void on_event(EventKind kind, StrandId from, std::uint64_t from_step,
                StrandId to, std::uint64_t step, Nanos time,
                const std::string& detail) override {
    put({'e', static_cast<std::uint8_t>(kind), from, to, step, ns(time),
         from_step, 0},
        nullptr, detail);
  }
  // An op: kind and flags (bit 0 value, 1 signed, 2 blocks) in `kind` and
  // `b`, the line in `time_ns`, then `what`, a NUL and the file.
  void on_op(StrandId strand, std::uint64_t step, const OpNote& n) override {
    std::string text = n.what;
    text += '\0';
    text += n.where.line != 0 ? n.where.file : "";
    put({'o', static_cast<std::uint8_t>(n.kind), strand,
         (n.has_value ? 1u : 0u) | (n.is_signed ? 2u : 0u) |
             (n.blocks ? 4u : 0u),
         step, n.where.line, n.value, 0},
        nullptr, text);
  }
  void on_failure(const Failure&) override {}

 private:
  static std::uint64_t ns(Nanos t) {
    return static_cast<std::uint64_t>(t.count());
  }
  void put(StreamHead h, const Choice* c, std::string_view text) {
    h.text_len = static_cast<std::uint32_t>(text.size());
    const std::uint64_t at = shared_->stream_used.load();
    const std::uint64_t size =
        sizeof h + (c != nullptr ? sizeof *c : 0) + text.size();
    if (shared_->stream_full.load() || at + size > shared_->stream_capacity) {
      shared_->stream_full.store(true);
      return;
    }
    char* p = shared_->stream() + at;
    std::memcpy(p, &h, sizeof h);
    if (c != nullptr) std::memcpy(p + sizeof h, c, sizeof *c);
    if (!text.empty())
      std::memcpy(p + size - text.size(), text.data(), text.size());
    shared_->stream_used.store(at + size);
  }
  Shared* shared_;
};

}  // namespace

std::unique_ptr<RunObserver> make_stream_observer(Shared* shared) {
  return std::make_unique<StreamObserver>(shared);
}

namespace {

// An op as the child streamed it (see StreamObserver::on_op). The file
// name lives for the call: observers copy what they keep.
void replay_op(const StreamHead& h, const std::string& text, RunObserver& to) {
  const std::size_t nul = text.find('\0');
  OpNote n;
  n.kind = static_cast<ChoiceKind>(h.kind);
  n.has_value = (h.b & 1) != 0;
  n.is_signed = (h.b & 2) != 0;
  n.blocks = (h.b & 4) != 0;
  n.value = h.value;
  n.what = text.substr(0, nul);
  const std::string file =
      nul == std::string::npos ? std::string() : text.substr(nul + 1);
  if (h.time_ns != 0)
    n.where = SourceLocation{file.c_str(), static_cast<unsigned>(h.time_ns)};
  to.on_op(h.a, h.step, n);
}

}  // namespace

void replay_stream(Shared* shared, RunObserver& to) {
  const char* p = shared->stream();
  const char* end = p + shared->stream_used.load();
  while (p + sizeof(StreamHead) <= end) {
    StreamHead h;
    std::memcpy(&h, p, sizeof h);
    p += sizeof h;
    Choice c{};
    if (h.type == 'c') {
      std::memcpy(&c, p, sizeof c);
      p += sizeof c;
    }
    const std::string text(p, h.text_len);
    p += h.text_len;
    const Nanos t{static_cast<std::int64_t>(h.time_ns)};
    switch (h.type) {
      case 's':
        to.on_spawn(h.a, h.b, text, h.step, t);
        break;
      case 'x':
        to.on_exit(h.a, h.step, t);
        break;
      case 'c':
        to.on_choice(c, t);
        break;
      case 'w':
        to.on_wake(h.a, h.b, h.step, t);
        break;
      case 'o':
        replay_op(h, text, to);
        break;
      default:
        to.on_event(static_cast<EventKind>(h.kind), h.a, h.value, h.b, h.step,
                    t, text);
    }
  }
}

}  // namespace weft::sim::internal
