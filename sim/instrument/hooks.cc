// The ThreadSanitizer hook ABI that clang's -fsanitize=thread emits calls
// to, implemented by weft instead of TSan's runtime (the atomic operations'
// hooks are in atomic_hooks.cc). Outside a simulation
// every hook is one thread-local check and the plain operation. Inside
// one, atomic operations are choice points (kAtomic, with the address and
// whether they write, for DPOR) and plain accesses go to the race
// detector. Atomic hooks never unwind a torn-down strand (std::atomic's
// members are noexcept): such a strand runs on to its next weft primitive.
// Hooks reached from weft's own code (its calls into shared inline copies
// compiled instrumented, see internal_section.h) and from the runtime
// itself (t_busy) only do the plain operation.
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "sim/atomic.h"
#include "sim/instrument/atomic_hook.h"
#include "sim/instrument/instrument.h"
#include "sim/instrument/race_detector.h"
#include "sim/scheduler.h"

namespace weft::sim::instrument {
namespace {

Options g_options;
bool g_initialized = false;
// Set while the runtime works, so that the inline copies it calls, if the
// linker took instrumented ones, do not re-enter it. Never held across a
// choice point (all strands share the thread).
constinit thread_local bool t_busy = false;
struct Busy {
  Busy() { t_busy = true; }
  ~Busy() { t_busy = false; }
  Busy(const Busy&) = delete;
  Busy& operator=(const Busy&) = delete;
};

bool env_switch(const char* name, const char* on, const char* off,
                bool fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == 0) return fallback;
  if (std::strcmp(v, on) == 0 || std::strcmp(v, "1") == 0) return true;
  if (std::strcmp(v, off) == 0 || std::strcmp(v, "0") == 0) return false;
  std::fprintf(stderr, "weft: %s must be %s or %s, not '%s'\n", name, on, off,
               v);
  std::exit(2);
}

class Observer final : public SyncObserver {
 public:
  void on_run_begin() override {
    const Busy busy;
    RaceDetector::local().run_begin();
  }
  void on_spawn(StrandId parent, StrandId child, const void* stack_bottom,
                std::size_t stack_size) override {
    const Busy busy;
    RaceDetector::local().spawn(parent, child, stack_bottom, stack_size);
  }
  void on_operation(StrandId strand, const PendingOp& op) override {
    const Busy busy;
    RaceDetector::local().operation(strand, op);
  }
  void on_woken(StrandId strand, const PendingOp& op) override {
    const Busy busy;
    RaceDetector::local().woken(strand, op);
  }
  void on_body_begin(StrandId strand) override {
    const Busy busy;
    RaceDetector::local().body_begin(strand);
  }
  void on_body_end(StrandId strand) override {
    const Busy busy;
    RaceDetector::local().body_end(strand);
  }
};
Observer g_observer;

}  // namespace

Options options() { return g_options; }
void set_options(const Options& options) { g_options = options; }
bool initialized() { return g_initialized; }

namespace {

void initialize() {
  if (g_initialized) return;
  g_initialized = true;
  g_options.detect_races = env_switch("WEFT_RACES", "on", "off", true);
  g_options.plain_choice_points =
      env_switch("WEFT_PLAIN_ACCESSES", "shared", "off", false);
  Scheduler::set_sync_observer(&g_observer);
}

[[gnu::noinline]] void atomic_point(Scheduler* s, const volatile void* a,
                                    Access access) {
  s->choice_point(
      ChoiceKind::kAtomic,
      PendingOp{ChoiceKind::kAtomic, access, const_cast<const void*>(a)},
      /*may_unwind=*/false);
}

// The running strand, if it runs the program's instrumented code.
StrandId program_strand(Scheduler* s) {
  const StrandId me = s->current_strand();
  if (t_busy || me == kNoStrand || RaceDetector::local().internal(me))
    return kNoStrand;
  return me;
}

[[gnu::noinline]] void plain(Scheduler* s, const void* a, std::size_t size,
                             bool write, void* pc) {
  const StrandId me = program_strand(s);
  if (me == kNoStrand || s->tearing_down()) return;
  const auto addr = reinterpret_cast<std::uintptr_t>(a);
  const Options opts = g_options;
  if (opts.plain_choice_points) {
    bool point = false;
    {
      const Busy busy;
      point = RaceDetector::local().wants_choice_point(me, addr);
    }
    if (point)
      s->choice_point(
          ChoiceKind::kAtomic,
          PendingOp{ChoiceKind::kAtomic, write ? Access::kWrite : Access::kRead,
                    reinterpret_cast<const void*>(addr & ~7ul)},
          /*may_unwind=*/false);
  }
  if (!opts.detect_races) return;
  const Busy busy;
  RaceDetector::local().access(*s, addr, size, write,
                               reinterpret_cast<std::uintptr_t>(pc));
}

// The section weft's own code is in (internal_section.h).
extern "C" char __start_weft_internal[] __attribute__((weak));
extern "C" char __stop_weft_internal[] __attribute__((weak));

bool from_weft(std::uintptr_t pc) {
  return pc >= reinterpret_cast<std::uintptr_t>(__start_weft_internal) &&
         pc < reinterpret_cast<std::uintptr_t>(__stop_weft_internal);
}

[[gnu::noinline]] void func_entry(Scheduler* s, void* caller_pc) {
  const StrandId me = s->current_strand();
  if (t_busy || me == kNoStrand) return;
  const Busy busy;
  const auto pc = reinterpret_cast<std::uintptr_t>(caller_pc);
  RaceDetector::local().func_entry(me, pc, from_weft(pc));
}

[[gnu::noinline]] void func_exit(Scheduler* s) {
  const StrandId me = s->current_strand();
  if (t_busy || me == kNoStrand) return;
  const Busy busy;
  RaceDetector::local().func_exit(me);
}

// Memory given back inside a simulation loses its history, so the next
// block allocated there does not race with the last one's accesses.
void forget_block(void* p) {
  if (p != nullptr && Scheduler::current() != nullptr && !t_busy) [[unlikely]] {
    const Busy busy;
    RaceDetector::local().forget(reinterpret_cast<std::uintptr_t>(p),
                                 malloc_usable_size(p));
  }
}

}  // namespace

// A weft::Atomic compiled into an instrumented unit made its choice point
// already (sim/atomic.h): its inner std::atomic operation makes none.
void atomic_hook(Scheduler* s, const volatile void* a, Access access) {
  if (program_strand(s) == kNoStrand || s->tearing_down()) return;
  internal::PointedAtomic& p = internal::t_pointed_atomic;
  if (p.object == const_cast<const void*>(a) && p.step == s->step()) {
    p.object = nullptr;
    return;
  }
  atomic_point(s, a, access);
}

}  // namespace weft::sim::instrument

using weft::sim::Access;
using weft::sim::Scheduler;

#define WEFT_PC __builtin_return_address(0)
#define WEFT_PLAIN(a, n, w)                               \
  do {                                                    \
    if (Scheduler* s = Scheduler::current()) [[unlikely]] \
      weft::sim::instrument::plain(s, a, n, w, WEFT_PC);  \
  } while (0)

extern "C" {

void __tsan_init() { weft::sim::instrument::initialize(); }

void __tsan_func_entry(void* caller_pc) {
  if (Scheduler* s = Scheduler::current()) [[unlikely]]
    weft::sim::instrument::func_entry(s, caller_pc);
}
void __tsan_func_exit() {
  if (Scheduler* s = Scheduler::current()) [[unlikely]]
    weft::sim::instrument::func_exit(s);
}

#define WEFT_PLAIN_HOOKS(n)                                                    \
  void __tsan_read##n(void* a) { WEFT_PLAIN(a, n, false); }                    \
  void __tsan_write##n(void* a) { WEFT_PLAIN(a, n, true); }                    \
  void __tsan_unaligned_read##n(void* a) { WEFT_PLAIN(a, n, false); }          \
  void __tsan_unaligned_write##n(void* a) { WEFT_PLAIN(a, n, true); }          \
  void __tsan_volatile_read##n(void* a) { WEFT_PLAIN(a, n, false); }           \
  void __tsan_volatile_write##n(void* a) { WEFT_PLAIN(a, n, true); }           \
  void __tsan_unaligned_volatile_read##n(void* a) { WEFT_PLAIN(a, n, false); } \
  void __tsan_unaligned_volatile_write##n(void* a) { WEFT_PLAIN(a, n, true); }
WEFT_PLAIN_HOOKS(1)
WEFT_PLAIN_HOOKS(2)
WEFT_PLAIN_HOOKS(4)
WEFT_PLAIN_HOOKS(8)
WEFT_PLAIN_HOOKS(16)
#undef WEFT_PLAIN_HOOKS

void __tsan_read_range(void* a, unsigned long size) {  // NOLINT: the ABI's
  WEFT_PLAIN(a, size, false);
}
void __tsan_write_range(void* a, unsigned long size) {  // NOLINT
  WEFT_PLAIN(a, size, true);
}
// A virtual call reads the object's vtable pointer; a constructor or
// destructor writes it. Neither is a race weft reports.
void __tsan_vptr_read(void**) {}
void __tsan_vptr_update(void**, void*) {}

// Manual annotations, as TSan's: an acquire joins what a release on the
// same address published.
void __tsan_acquire(void* a) {
  using weft::sim::instrument::program_strand;
  if (Scheduler* s = Scheduler::current())
    if (const auto me = program_strand(s); me != weft::sim::kNoStrand)
      weft::sim::instrument::RaceDetector::local().acquire(me, a);
}
void __tsan_release(void* a) {
  using weft::sim::instrument::program_strand;
  if (Scheduler* s = Scheduler::current())
    if (const auto me = program_strand(s); me != weft::sim::kNoStrand)
      weft::sim::instrument::RaceDetector::local().release(me, a);
}

}  // extern "C"

// The replaceable deallocation functions: operator new stays the standard
// library's (malloc), and each delete forgets the block's history first.
void operator delete(void* p) noexcept {
  weft::sim::instrument::forget_block(p);
  std::free(p);
}
void operator delete[](void* p) noexcept {
  weft::sim::instrument::forget_block(p);
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  weft::sim::instrument::forget_block(p);
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  weft::sim::instrument::forget_block(p);
  std::free(p);
}
