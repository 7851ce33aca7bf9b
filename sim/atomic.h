// Atomic<T> mirrors std::atomic<T>. Inside a simulation every load, store
// and read-modify-write is a choice point (kAtomic), so the interleavings
// between them are explored; the model is sequentially consistent (weaker
// orderings are accepted and explored as seq_cst). Outside a simulation it
// is std::atomic<T> plus one thread-local check per operation (and one
// global load, which a flight recorder turns on: sim/flight.h; an integer
// of up to 32 bits is kept in a 64-bit word with its recording version,
// sim/atomic_cell.h). Name it
// (Atomic<bool> ready{false, "ready"}) and reports name it too; the named
// calls (load, store, fetch_add...) record their caller's source line for
// the trace, the operators (++, =, conversion) cannot take one.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <type_traits>

#include "sim/atomic_cell.h"
#include "sim/flight.h"
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
  Atomic(T v, std::string name) : v_(v), name_(std::move(name)) {}
  Atomic(const Atomic&) = delete;
  Atomic& operator=(const Atomic&) = delete;

  T load(std::memory_order o = std::memory_order_seq_cst,
         SourceLocation where = SourceLocation::current()) const {
    Scheduler* s = point(Access::kRead);
    if (s == nullptr) {
      if (flight::on()) [[unlikely]]
        return v_.recorded_load(o);
      return v_.load(o);
    }
    const T r = v_.load(o);
    note(s, "load", r, Access::kRead, where);
    return r;
  }
  void store(T v, std::memory_order o = std::memory_order_seq_cst,
             SourceLocation where = SourceLocation::current()) {
    Scheduler* s = point(Access::kWrite);
    if (s == nullptr) {
      if (flight::on()) [[unlikely]]
        v_.recorded_store(v, o);
      else
        v_.store(v, o);
      return;
    }
    v_.store(v, o);
    note(s, "store", v, Access::kWrite, where);
  }
  T exchange(T v, std::memory_order o = std::memory_order_seq_cst,
             SourceLocation where = SourceLocation::current()) {
    Scheduler* s = point(Access::kWrite);
    if (s == nullptr) {
      if (flight::on()) [[unlikely]]
        return v_.recorded_exchange(v, o);
      return v_.exchange(v, o);
    }
    const T r = v_.exchange(v, o);
    note(s, "exchange (read)", r, Access::kWrite, where);
    return r;
  }
  bool compare_exchange_strong(
      T& expected, T desired, std::memory_order o = std::memory_order_seq_cst,
      SourceLocation where = SourceLocation::current()) {
    Scheduler* s = point(Access::kWrite);
    if (s == nullptr) {
      if (flight::on()) [[unlikely]]
        return v_.recorded_compare_exchange(expected, desired, o, false);
      return v_.compare_exchange(expected, desired, o, false);
    }
    const bool ok = v_.compare_exchange(expected, desired, o, false);
    note(s,
         ok ? "compare_exchange (swapped, read)"
            : "compare_exchange (failed, read)",
         expected, Access::kWrite, where);
    return ok;
  }
  bool compare_exchange_weak(T& expected, T desired,
                             std::memory_order o = std::memory_order_seq_cst,
                             SourceLocation where = SourceLocation::current()) {
    Scheduler* s = point(Access::kWrite);
    if (s == nullptr) {
      if (flight::on()) [[unlikely]]
        return v_.recorded_compare_exchange(expected, desired, o, true);
      return v_.compare_exchange(expected, desired, o, true);
    }
    const bool ok = v_.compare_exchange(expected, desired, o, true);
    note(s,
         ok ? "compare_exchange (swapped, read)"
            : "compare_exchange (failed, read)",
         expected, Access::kWrite, where);
    return ok;
  }
  // The name given at construction ("" if none), as reports print it.
  const std::string& name() const { return name_; }
  operator T() const {  // NOLINT: mirrors std::atomic
    return load(std::memory_order_seq_cst, {});
  }
  T operator=(T v) {
    store(v, std::memory_order_seq_cst, {});
    return v;
  }

  T fetch_add(T d, std::memory_order o = std::memory_order_seq_cst,
              SourceLocation where =
                  SourceLocation::current()) requires std::is_integral_v<T> {
    Scheduler* s = point(Access::kWrite);
    if (s == nullptr) {
      if (flight::on()) [[unlikely]]
        return v_.recorded_fetch_add(d, o);
      return v_.fetch_add(d, o);
    }
    const T r = v_.fetch_add(d, o);
    note(s, "fetch_add (read)", r, Access::kWrite, where);
    return r;
  }
  T fetch_sub(T d, std::memory_order o = std::memory_order_seq_cst,
              SourceLocation where =
                  SourceLocation::current()) requires std::is_integral_v<T> {
    Scheduler* s = point(Access::kWrite);
    if (s == nullptr) {
      if (flight::on()) [[unlikely]]
        return v_.recorded_fetch_sub(d, o);
      return v_.fetch_sub(d, o);
    }
    const T r = v_.fetch_sub(d, o);
    note(s, "fetch_sub (read)", r, Access::kWrite, where);
    return r;
  }
  T fetch_and(T d, std::memory_order o = std::memory_order_seq_cst,
              SourceLocation where =
                  SourceLocation::current()) requires std::is_integral_v<T> {
    Scheduler* s = point(Access::kWrite);
    if (s == nullptr) {
      if (flight::on()) [[unlikely]]
        return v_.recorded_fetch_and(d, o);
      return v_.fetch_and(d, o);
    }
    const T r = v_.fetch_and(d, o);
    note(s, "fetch_and (read)", r, Access::kWrite, where);
    return r;
  }
  T fetch_or(T d, std::memory_order o = std::memory_order_seq_cst,
             SourceLocation where =
                 SourceLocation::current()) requires std::is_integral_v<T> {
    Scheduler* s = point(Access::kWrite);
    if (s == nullptr) {
      if (flight::on()) [[unlikely]]
        return v_.recorded_fetch_or(d, o);
      return v_.fetch_or(d, o);
    }
    const T r = v_.fetch_or(d, o);
    note(s, "fetch_or (read)", r, Access::kWrite, where);
    return r;
  }
  T fetch_xor(T d, std::memory_order o = std::memory_order_seq_cst,
              SourceLocation where =
                  SourceLocation::current()) requires std::is_integral_v<T> {
    Scheduler* s = point(Access::kWrite);
    if (s == nullptr) {
      if (flight::on()) [[unlikely]]
        return v_.recorded_fetch_xor(d, o);
      return v_.fetch_xor(d, o);
    }
    const T r = v_.fetch_xor(d, o);
    note(s, "fetch_xor (read)", r, Access::kWrite, where);
    return r;
  }
  T operator++() requires std::is_integral_v<T> {
    return fetch_add(1, std::memory_order_seq_cst, {}) + 1;
  }
  T operator++(int) requires std::is_integral_v<T> {
    return fetch_add(1, std::memory_order_seq_cst, {});
  }
  T operator--() requires std::is_integral_v<T> {
    return fetch_sub(1, std::memory_order_seq_cst, {}) - 1;
  }
  T operator--(int) requires std::is_integral_v<T> {
    return fetch_sub(1, std::memory_order_seq_cst, {});
  }

 private:
  // The pending operation names this atomic: two loads commute, any
  // other pair on it does not.
  WEFT_UNINSTRUMENTED Scheduler* point(Access access) const {
    Scheduler* s = Scheduler::current();
    if (s != nullptr) {
      s->choice_point(
          ChoiceKind::kAtomic,
          PendingOp{ChoiceKind::kAtomic, access, this, nullptr, kNoStrand,
                    name_.empty() ? nullptr : name_.c_str()});
#if defined(WEFT_INSTRUMENTED_TU)
      internal::t_pointed_atomic = {v_.address(), s->step()};
#endif
    }
    return s;
  }
  // Tells a flight replay (sim/flight.h) that the operation completed, and
  // an observer, if one watches, the value read or written. Only
  // integers, bools and enums carry theirs (a pointer's value would make
  // the trace differ from run to run).
  WEFT_UNINSTRUMENTED void note(Scheduler* s, const char* verb, const T& v,
                                Access access, SourceLocation where) const {
    if (s == nullptr) return;
    if (flight::ReplayHooks* h = s->replay_hooks())
      h->on_op(access == Access::kRead ? flight::Op::kAtomicRead
                                       : flight::Op::kAtomicWrite,
               this, 0);
    s->note_op([&] {
      OpNote n;
      n.kind = ChoiceKind::kAtomic;
      n.what = std::string(verb) + " atomic";
      if (!name_.empty()) n.what += " '" + name_ + "'";
      n.where = where;
      if constexpr (std::is_integral_v<T> || std::is_enum_v<T>) {
        n.has_value = true;
        using Number = typename std::conditional_t<std::is_enum_v<T>,
                                                   std::underlying_type<T>,
                                                   std::type_identity<T>>::type;
        if constexpr (std::is_signed_v<Number>) {
          n.is_signed = true;
          n.value = static_cast<std::uint64_t>(static_cast<std::int64_t>(v));
        } else {
          n.value = static_cast<std::uint64_t>(v);
        }
      }
      return n;
    });
  }
  // The value; on real threads, with a flight recorder attached, the
  // recorded_ operations log each with the atomic's version (sim/flight.h).
  internal::AtomicCell<T> v_{};
  std::string name_;
};

WEFT_HEADER_CODE_END
}  // namespace weft::sim
