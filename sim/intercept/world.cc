#include "sim/intercept/world.h"

#include "sim/check.h"
#include "sim/intercept/code_address.h"

namespace weft::intercept {
namespace {

void fail_schedule(sim::Scheduler& s, const char* what, const char* why) {
  if (s.has_failed() || s.tearing_down()) return;
  s.fail(sim::FailureKind::kAssertion,
         std::string("strand '") + s.strand_name(s.current_strand()) +
             "' called " + what + ", which weft cannot simulate: " + why);
}

UnsupportedHandler g_unsupported = fail_schedule;
TeardownHook g_teardown = nullptr;

}  // namespace

void set_teardown_hook(TeardownHook hook) { g_teardown = hook; }
TeardownHook teardown_hook() { return g_teardown; }

void set_unsupported_handler(UnsupportedHandler handler) {
  g_unsupported = handler != nullptr ? handler : fail_schedule;
}

void unsupported(sim::Scheduler& s, const char* what, const char* why) {
  g_unsupported(s, what, why);
  errno = ENOSYS;
}

namespace internal {

World& World::of(Scheduler& s) {
  // One table per thread: a scheduler runs on the thread that called run().
  thread_local World w;
  if (w.sched_ != &s || w.run_ != s.run_id()) {
    w.sched_ = &s;
    w.run_ = s.run_id();
    w.objects_.clear();
    w.ids_ = 0;
    w.threads_.clear();
    w.thread_numbers_ = 0;
    w.keys_.clear();
    w.thread(0).is_thread = true;  // the main strand
  }
  return w;
}

std::string Object::describe() const {
  static constexpr const char* kNames[] = {
      "pthread mutex",    "pthread condvar", "pthread rwlock",
      "semaphore",        "pthread barrier", "pthread_once",
      "pthread spinlock", "futex",           "signals"};
  std::string d =
      std::string(kNames[static_cast<int>(kind)]) + "#" + std::to_string(id);
  const Scheduler* s = Scheduler::current();
  if (s == nullptr) return d;
  if (owner != sim::kNoStrand)
    d += " held by strand '" + s->strand_name(owner) + "'";
  if (!readers.empty())
    d += " read-held by " + std::to_string(readers.size()) + " strand(s)";
  if (kind == Kind::kSem) d += " (value " + std::to_string(count) + ")";
  if (kind == Kind::kBarrier)
    d += " (" + std::to_string(count) + " of " + std::to_string(limit) +
         " arrived)";
  return d;
}

bool is_monotonic(clockid_t clock) {
  return clock != CLOCK_REALTIME && clock != CLOCK_REALTIME_COARSE &&
         clock != CLOCK_TAI;
}

Nanos virtual_deadline(clockid_t clock, const timespec& abs) {
  const long long base =
      is_monotonic(clock) ? kMonotonicBaseSeconds : kRealtimeBaseSeconds;
  const long long ns =
      (static_cast<long long>(abs.tv_sec) - base) * 1'000'000'000LL +
      abs.tv_nsec;
  return Nanos{ns < 0 ? 0 : ns};
}

timespec to_timespec(clockid_t clock, Nanos virtual_time) {
  const long long base =
      is_monotonic(clock) ? kMonotonicBaseSeconds : kRealtimeBaseSeconds;
  const long long ns = virtual_time.count();
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(base + ns / 1'000'000'000LL);
  ts.tv_nsec = static_cast<long>(ns % 1'000'000'000LL);
  return ts;
}

void misuse(Scheduler& s, const std::string& what) {
  s.fail(sim::FailureKind::kAssertion,
         "strand '" + s.strand_name(s.current_strand()) + "' " + what +
             ", at " + caller(s).to_string());
  throw sim::StrandAborted{};
}

// Described only when a report shows it: reading a file's symbols at
// every blocked call would cost each of `weft run`'s forked schedules.
sim::SourceLocation caller(Scheduler& s) {
  return {"", 0, World::of(s).thread(s.current_strand()).caller};
}

namespace {
[[maybe_unused]] const bool g_describes_code = [] {
  sim::SourceLocation::describe_code = [](const void* code) {
    return std::string(describe_code_address(code));
  };
  return true;
}();
}  // namespace

}  // namespace internal
}  // namespace weft::intercept
