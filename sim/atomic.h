// Atomic<T> mirrors std::atomic<T>. Inside a simulation every load, store
// and read-modify-write is a choice point (kAtomic), so the interleavings
// between them are explored; the model is sequentially consistent (weaker
// orderings are accepted and explored as seq_cst). Outside a simulation it
// is std::atomic<T> plus one thread-local check per operation. Name it
// (Atomic<bool> ready{false, "ready"}) and reports name it too.
#pragma once

#include <atomic>
#include <string>
#include <type_traits>

#include "sim/scheduler.h"

namespace weft::sim {

template <class T>
class Atomic {
 public:
  Atomic() noexcept = default;
  constexpr Atomic(T v) noexcept : v_(v) {}  // NOLINT: mirrors std::atomic
  Atomic(T v, std::string name) : v_(v), name_(std::move(name)) {}
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
  // The name given at construction ("" if none), as reports print it.
  const std::string& name() const { return name_; }
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
  void point(Access access) const {
    if (Scheduler* s = Scheduler::current())
      s->choice_point(
          ChoiceKind::kAtomic,
          PendingOp{ChoiceKind::kAtomic, access, this, nullptr, kNoStrand,
                    name_.empty() ? nullptr : name_.c_str()});
  }
  std::atomic<T> v_{};
  std::string name_;
};

}  // namespace weft::sim
