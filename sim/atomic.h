// Atomic<T> mirrors std::atomic<T>. Inside a simulation every load, store
// and read-modify-write is a choice point (kAtomic), so the interleavings
// between them are explored; the model is sequentially consistent (weaker
// orderings are accepted and explored as seq_cst). Outside a simulation it
// is std::atomic<T> plus one thread-local check per operation.
#pragma once

#include <atomic>
#include <cstdint>
#include <type_traits>

#include "sim/internal/uninstrumented.h"
#include "sim/scheduler.h"

namespace weft::sim {
WEFT_HEADER_CODE_BEGIN
namespace internal {
// In a unit instrumented for weft's hook runtime (sim/instrument/), the
// std::atomic inside an Atomic calls the atomic hook too; the Atomic's own
// choice point marks its address and step here so that the hook does not
// make a second one.
struct PointedAtomic {
  const void* object = nullptr;
  std::uint64_t step = 0;
};
inline constinit thread_local PointedAtomic t_pointed_atomic;
}  // namespace internal

template <class T>
class Atomic {
 public:
  Atomic() noexcept = default;
  constexpr Atomic(T v) noexcept : v_(v) {}  // NOLINT: mirrors std::atomic
  Atomic(const Atomic&) = delete;
  Atomic& operator=(const Atomic&) = delete;

  T load(std::memory_order o = std::memory_order_seq_cst) const {
    point(Access::kRead);
    return v_.load(o);
  }
  void store(T v, std::memory_order o = std::memory_order_seq_cst) {
    point(Access::kWrite);
    v_.store(v, o);
  }
  T exchange(T v, std::memory_order o = std::memory_order_seq_cst) {
    point(Access::kWrite);
    return v_.exchange(v, o);
  }
  bool compare_exchange_strong(
      T& expected, T desired, std::memory_order o = std::memory_order_seq_cst) {
    point(Access::kWrite);
    return v_.compare_exchange_strong(expected, desired, o);
  }
  bool compare_exchange_weak(T& expected, T desired,
                             std::memory_order o = std::memory_order_seq_cst) {
    point(Access::kWrite);
    return v_.compare_exchange_weak(expected, desired, o);
  }
  operator T() const { return load(); }  // NOLINT: mirrors std::atomic
  T operator=(T v) {
    store(v);
    return v;
  }

  T fetch_add(T d, std::memory_order o = std::memory_order_seq_cst) requires
      std::is_integral_v<T> {
    point(Access::kWrite);
    return v_.fetch_add(d, o);
  }
  T fetch_sub(T d, std::memory_order o = std::memory_order_seq_cst) requires
      std::is_integral_v<T> {
    point(Access::kWrite);
    return v_.fetch_sub(d, o);
  }
  T fetch_and(T d, std::memory_order o = std::memory_order_seq_cst) requires
      std::is_integral_v<T> {
    point(Access::kWrite);
    return v_.fetch_and(d, o);
  }
  T fetch_or(T d, std::memory_order o = std::memory_order_seq_cst) requires
      std::is_integral_v<T> {
    point(Access::kWrite);
    return v_.fetch_or(d, o);
  }
  T fetch_xor(T d, std::memory_order o = std::memory_order_seq_cst) requires
      std::is_integral_v<T> {
    point(Access::kWrite);
    return v_.fetch_xor(d, o);
  }
  T operator++() requires std::is_integral_v<T> { return fetch_add(1) + 1; }
  T operator++(int) requires std::is_integral_v<T> { return fetch_add(1); }
  T operator--() requires std::is_integral_v<T> { return fetch_sub(1) - 1; }
  T operator--(int) requires std::is_integral_v<T> { return fetch_sub(1); }

 private:
  // The pending operation names this atomic: two loads commute, any
  // other pair on it does not.
  WEFT_UNINSTRUMENTED void point(Access access) const {
    if (Scheduler* s = Scheduler::current()) {
      s->choice_point(ChoiceKind::kAtomic,
                      PendingOp{ChoiceKind::kAtomic, access, this});
#if defined(WEFT_INSTRUMENTED_TU)
      internal::t_pointed_atomic = {&v_, s->step()};
#endif
    }
  }
  std::atomic<T> v_{};
};

WEFT_HEADER_CODE_END
}  // namespace weft::sim
