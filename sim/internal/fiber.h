// Execution contexts for strands: Boost.Context fibers on pooled stacks with
// a guard page, and the sanitizer annotations every switch needs. Internal:
// only the Scheduler switches contexts, always through Context::switch_to.
#pragma once

#include <cxxabi.h>

#include <boost/context/fiber.hpp>
#include <boost/context/stack_context.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "sim/internal/uninstrumented.h"

namespace weft::sim::internal {
WEFT_HEADER_CODE_BEGIN

// Stacks are mmap'd once, with an inaccessible guard page below the usable
// range, and reused for later strands: a schedule spawns strands by the
// thousand, so the pool makes a spawn cost a pointer pop, not a syscall.
class StackPool {
 public:
  explicit StackPool(std::size_t stack_size);
  ~StackPool();
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;

  boost::context::stack_context allocate();
  void deallocate(boost::context::stack_context& sctx) noexcept;
  std::size_t stack_size() const { return stack_size_; }

 private:
  std::size_t stack_size_;  // usable bytes, page-rounded
  std::vector<boost::context::stack_context> free_;
  std::vector<void*> mappings_;
};

// The allocator handed to boost::context::fiber; copies share one pool.
struct PooledStackAllocator {
  StackPool* pool;
  boost::context::stack_context allocate() { return pool->allocate(); }
  void deallocate(boost::context::stack_context& sctx) noexcept {
    pool->deallocate(sctx);
  }
};

// One execution context: the thread's own stack (the explorer) or a strand's
// fiber. Holds the suspended continuation and the sanitizer bookkeeping.
// libstdc++'s per-thread exception state (__cxa_eh_globals): the chain
// of caught exceptions and the count of uncaught ones. It belongs to a
// stack, not to a thread: a strand switched out while unwinding must not
// make the next strand see an exception in flight (std::uncaught_exceptions
// decides whether a torn-down strand unwinds). Each context keeps its own.
struct ExceptionState {
  void* caught = nullptr;
  unsigned int uncaught = 0;
};

struct Context {
  boost::context::fiber fiber;
  ExceptionState exceptions;
  const void* stack_bottom = nullptr;  // lowest usable address
  std::size_t stack_size = 0;
  void* asan_fake_stack = nullptr;
  void* tsan_fiber = nullptr;
};

// Called on arrival in a context, before anything else runs there: tells
// the sanitizers the switch finished and stores the continuation of the
// context we came from into `from`.
// Prepares the sanitizers for a switch from `from` to `to`. `dying` is true
// when `from` will never be resumed (its strand finished).
// Without sanitizers both are inline and nearly empty: they sit on the
// hottest path of the scheduler.
#if defined(WEFT_ASAN) || defined(WEFT_TSAN)
void finish_switch(Context& arrived, Context* from,
                   boost::context::fiber&& from_fiber);
void start_switch(Context& from, Context& to, bool dying);
#else
WEFT_UNINSTRUMENTED inline void finish_switch(
    Context&, Context* from, boost::context::fiber&& from_fiber) {
  if (from != nullptr) from->fiber = std::move(from_fiber);
}
WEFT_UNINSTRUMENTED inline void start_switch(Context&, Context&, bool) {}
#endif

// Saves the running context's exception state into `from` and installs
// `to`'s: call right before switching from `from` to `to`.
WEFT_UNINSTRUMENTED inline void swap_exception_state(Context& from,
                                                     Context& to) {
  auto* globals = reinterpret_cast<ExceptionState*>(abi::__cxa_get_globals());
  from.exceptions = *globals;
  *globals = to.exceptions;
}

// Creates the sanitizer state of a new strand context.
void init_strand_context(Context& ctx, const boost::context::stack_context& s);
void destroy_strand_context(Context& ctx);
void init_thread_context(Context& ctx);

// Stack-overflow reporting: a SIGSEGV in a guard page is reported with the
// strand's name and step instead of a bare crash. Installed once per
// process (not under sanitizers, which report overflows themselves); the
// alternate signal stack is installed once per thread.
void install_overflow_handler();
// Whether `address` lies in the guard page of a pooled stack. Async-signal
// safe: the harness's crash handler calls it to tell an overflow from
// another fault.
bool in_guard_page(std::uintptr_t address);
// What the overflow handler reports: the running strand and its step.
inline thread_local const char* t_strand_name = nullptr;
inline thread_local const std::uint64_t* t_step = nullptr;
WEFT_UNINSTRUMENTED inline void set_running_strand(const char* name,
                                                   const std::uint64_t* step) {
  t_strand_name = name;
  t_step = step;
}

WEFT_HEADER_CODE_END
}  // namespace weft::sim::internal
