// The atomic operations' hooks of the ThreadSanitizer ABI (the others are
// in hooks.cc): outside a simulation the thread-local check and the
// operation, inside one a choice point first (atomic_hook). Kept apart so
// that weft_instrument(... INLINE_HOOKS) can compile this file alone as
// ThinLTO bitcode and inline these fast paths into the program; the rest
// of the runtime stays ordinary objects.
#include "sim/instrument/atomic_hook.h"
#include "sim/scheduler.h"

namespace weft::sim::instrument {
// Scheduler::current_ as the hooks see it: the same thread-local, declared
// const here so that the compiler may load it once per function of the
// program instead of once per operation (inlined into a loop by
// INLINE_HOOKS, the check leaves the loop). That holds for the program's
// code: the pointer changes only inside Scheduler::run (weft's own code,
// compiled apart and never inlined here), a function of the program that
// calls run sees the same value before and after it, and a strand's code
// runs on its simulation's thread from start to end. A renamed member
// fails the link, not silently.
extern constinit thread_local weft::sim::Scheduler* const
    hooks_current_view __asm__("_ZN4weft3sim9Scheduler8current_E");
}  // namespace weft::sim::instrument

namespace {

using weft::sim::Access;
using weft::sim::Scheduler;

[[gnu::always_inline]] inline void point(const volatile void* a,
                                         Access access) {
  if (Scheduler* s = weft::sim::instrument::hooks_current_view) [[unlikely]]
    weft::sim::instrument::atomic_hook(s, a, access);
}

}  // namespace

// clang passes the orders of <atomic> (relaxed 0 ... seq_cst 5), the same
// numbers as the __ATOMIC_* constants the builtins take.
using morder = int;

extern "C" {

// A fence orders nothing more than sequential consistency already does:
// a choice point that touches no location (independent for DPOR).
void __tsan_atomic_thread_fence(morder mo) {
  point(nullptr, Access::kNone);
  __atomic_thread_fence(mo);
}
void __tsan_atomic_signal_fence(morder mo) { __atomic_signal_fence(mo); }

#define WEFT_ATOMIC_HOOKS(bits, T)                                            \
  T __tsan_atomic##bits##_load(const volatile T* a, morder mo) {              \
    point(a, Access::kRead);                                                  \
    return __atomic_load_n(a, mo);                                            \
  }                                                                           \
  void __tsan_atomic##bits##_store(volatile T* a, T v, morder mo) {           \
    point(a, Access::kWrite);                                                 \
    __atomic_store_n(a, v, mo);                                               \
  }                                                                           \
  T __tsan_atomic##bits##_exchange(volatile T* a, T v, morder mo) {           \
    point(a, Access::kWrite);                                                 \
    return __atomic_exchange_n(a, v, mo);                                     \
  }                                                                           \
  T __tsan_atomic##bits##_fetch_add(volatile T* a, T v, morder mo) {          \
    point(a, Access::kWrite);                                                 \
    return __atomic_fetch_add(a, v, mo);                                      \
  }                                                                           \
  T __tsan_atomic##bits##_fetch_sub(volatile T* a, T v, morder mo) {          \
    point(a, Access::kWrite);                                                 \
    return __atomic_fetch_sub(a, v, mo);                                      \
  }                                                                           \
  T __tsan_atomic##bits##_fetch_and(volatile T* a, T v, morder mo) {          \
    point(a, Access::kWrite);                                                 \
    return __atomic_fetch_and(a, v, mo);                                      \
  }                                                                           \
  T __tsan_atomic##bits##_fetch_or(volatile T* a, T v, morder mo) {           \
    point(a, Access::kWrite);                                                 \
    return __atomic_fetch_or(a, v, mo);                                       \
  }                                                                           \
  T __tsan_atomic##bits##_fetch_xor(volatile T* a, T v, morder mo) {          \
    point(a, Access::kWrite);                                                 \
    return __atomic_fetch_xor(a, v, mo);                                      \
  }                                                                           \
  T __tsan_atomic##bits##_fetch_nand(volatile T* a, T v, morder mo) {         \
    point(a, Access::kWrite);                                                 \
    return __atomic_fetch_nand(a, v, mo);                                     \
  }                                                                           \
  int __tsan_atomic##bits##_compare_exchange_strong(volatile T* a, T* c, T v, \
                                                    morder mo, morder fmo) {  \
    point(a, Access::kWrite);                                                 \
    return __atomic_compare_exchange_n(a, c, v, false, mo, fmo);              \
  }                                                                           \
  int __tsan_atomic##bits##_compare_exchange_weak(volatile T* a, T* c, T v,   \
                                                  morder mo, morder fmo) {    \
    point(a, Access::kWrite);                                                 \
    return __atomic_compare_exchange_n(a, c, v, false, mo, fmo);              \
  }                                                                           \
  T __tsan_atomic##bits##_compare_exchange_val(volatile T* a, T c, T v,       \
                                               morder mo, morder fmo) {       \
    point(a, Access::kWrite);                                                 \
    __atomic_compare_exchange_n(a, &c, v, false, mo, fmo);                    \
    return c;                                                                 \
  }

__extension__ typedef __int128 int128;  // NOLINT: the ABI's type
WEFT_ATOMIC_HOOKS(8, char)
WEFT_ATOMIC_HOOKS(16, short)
WEFT_ATOMIC_HOOKS(32, int)
WEFT_ATOMIC_HOOKS(64, long)
#if defined(__SIZEOF_INT128__)
WEFT_ATOMIC_HOOKS(128, int128)
#endif
#undef WEFT_ATOMIC_HOOKS

}  // extern "C"
