// Atomic<T> mirrors std::atomic<T>. Inside a simulation every load, store
// and read-modify-write is a choice point (kAtomic), so the interleavings
// between them are explored; the model is sequentially consistent (weaker
// orderings are accepted and explored as seq_cst). Outside a simulation it
// is std::atomic<T> plus one thread-local check per operation (and one
// global load, which a flight recorder turns on: sim/flight.h).
#pragma once

#include <atomic>
#include <type_traits>

#include "sim/flight.h"
#include "sim/scheduler.h"

namespace weft::sim {

template <class T>
class Atomic {
 public:
  Atomic() noexcept = default;
  constexpr Atomic(T v) noexcept : v_(v) {}  // NOLINT: mirrors std::atomic
  Atomic(const Atomic&) = delete;
  Atomic& operator=(const Atomic&) = delete;

  T load(std::memory_order o = std::memory_order_seq_cst) const {
    return read([&] { return v_.load(o); });
  }
  void store(T v, std::memory_order o = std::memory_order_seq_cst) {
    write([&] {
      v_.store(v, o);
      return 0;
    });
  }
  T exchange(T v, std::memory_order o = std::memory_order_seq_cst) {
    return write([&] { return v_.exchange(v, o); });
  }
  bool compare_exchange_strong(
      T& expected, T desired, std::memory_order o = std::memory_order_seq_cst) {
    return write(
        [&] { return v_.compare_exchange_strong(expected, desired, o); });
  }
  bool compare_exchange_weak(T& expected, T desired,
                             std::memory_order o = std::memory_order_seq_cst) {
    return write(
        [&] { return v_.compare_exchange_weak(expected, desired, o); });
  }
  operator T() const { return load(); }  // NOLINT: mirrors std::atomic
  T operator=(T v) {
    store(v);
    return v;
  }

  T fetch_add(T d, std::memory_order o = std::memory_order_seq_cst) requires
      std::is_integral_v<T> {
    return write([&] { return v_.fetch_add(d, o); });
  }
  T fetch_sub(T d, std::memory_order o = std::memory_order_seq_cst) requires
      std::is_integral_v<T> {
    return write([&] { return v_.fetch_sub(d, o); });
  }
  T fetch_and(T d, std::memory_order o = std::memory_order_seq_cst) requires
      std::is_integral_v<T> {
    return write([&] { return v_.fetch_and(d, o); });
  }
  T fetch_or(T d, std::memory_order o = std::memory_order_seq_cst) requires
      std::is_integral_v<T> {
    return write([&] { return v_.fetch_or(d, o); });
  }
  T fetch_xor(T d, std::memory_order o = std::memory_order_seq_cst) requires
      std::is_integral_v<T> {
    return write([&] { return v_.fetch_xor(d, o); });
  }
  T operator++() requires std::is_integral_v<T> { return fetch_add(1) + 1; }
  T operator++(int) requires std::is_integral_v<T> { return fetch_add(1); }
  T operator--() requires std::is_integral_v<T> { return fetch_sub(1) - 1; }
  T operator--(int) requires std::is_integral_v<T> { return fetch_sub(1); }

 private:
  // The pending operation names this atomic: two loads commute, any
  // other pair on it does not. On real threads under a flight recorder
  // the operation is logged with the atomic's version (sim/flight.h).
  template <class F>
  auto read(F&& f) const {
    if (Scheduler* s = Scheduler::current()) {
      s->choice_point(ChoiceKind::kAtomic,
                      PendingOp{ChoiceKind::kAtomic, Access::kRead, this});
      replayed(*s, flight::Op::kAtomicRead);
    } else if (flight::on()) [[unlikely]] {
      return tag_.read(flight::Op::kAtomicRead, f);
    }
    return f();
  }
  template <class F>
  auto write(F&& f) {
    if (Scheduler* s = Scheduler::current()) {
      s->choice_point(ChoiceKind::kAtomic,
                      PendingOp{ChoiceKind::kAtomic, Access::kWrite, this});
      replayed(*s, flight::Op::kAtomicWrite);
    } else if (flight::on()) [[unlikely]] {
      return tag_.write(flight::Op::kAtomicWrite, f);
    }
    return f();
  }
  void replayed(Scheduler& s, flight::Op op) const {
    if (flight::ReplayHooks* h = s.replay_hooks()) h->on_op(op, this, 0);
  }
  flight::ObjectTag tag_;
  std::atomic<T> v_{};
};

}  // namespace weft::sim
