// RapidCheck generators for trace records.
#pragma once

#include <rapidcheck.h>

#include "traces/record.h"

namespace rc {

template <>
struct Arbitrary<weft::traces::ChoiceRecord> {
  static Gen<weft::traces::ChoiceRecord> arbitrary() {
    return gen::build<weft::traces::ChoiceRecord>(
        gen::set(&weft::traces::ChoiceRecord::kind),
        gen::set(&weft::traces::ChoiceRecord::is_value),
        gen::set(&weft::traces::ChoiceRecord::strand),
        gen::set(&weft::traces::ChoiceRecord::count),
        gen::set(&weft::traces::ChoiceRecord::chosen),
        gen::set(&weft::traces::ChoiceRecord::picked),
        gen::set(&weft::traces::ChoiceRecord::preemption),
        gen::set(&weft::traces::ChoiceRecord::step));
  }
};

template <>
struct Arbitrary<weft::traces::StrandRecord> {
  static Gen<weft::traces::StrandRecord> arbitrary() {
    using S = weft::traces::StrandRecord;
    return gen::build<S>(
        gen::set(&S::event, gen::element(S::Event::kSpawn, S::Event::kExit)),
        gen::set(&S::strand), gen::set(&S::parent), gen::set(&S::step),
        gen::set(&S::time_ns), gen::set(&S::name));
  }
};

template <>
struct Arbitrary<weft::traces::EventRecord> {
  static Gen<weft::traces::EventRecord> arbitrary() {
    using E = weft::traces::EventRecord;
    return gen::build<E>(
        gen::set(&E::kind, gen::element(E::Kind::kWorkItem, E::Kind::kMessage,
                                        E::Kind::kTimer, E::Kind::kIoReady,
                                        E::Kind::kFault, E::Kind::kWakeup)),
        gen::set(&E::strand), gen::set(&E::peer), gen::set(&E::step),
        gen::set(&E::time_ns), gen::set(&E::value), gen::set(&E::detail));
  }
};

template <>
struct Arbitrary<weft::traces::FailureRecord> {
  static Gen<weft::traces::FailureRecord> arbitrary() {
    using F = weft::traces::FailureRecord;
    return gen::build<F>(gen::set(&F::kind), gen::set(&F::strand),
                         gen::set(&F::step), gen::set(&F::time_ns),
                         gen::set(&F::message));
  }
};

template <>
struct Arbitrary<weft::traces::TimeRecord> {
  static Gen<weft::traces::TimeRecord> arbitrary() {
    using T = weft::traces::TimeRecord;
    return gen::build<T>(gen::set(&T::step), gen::set(&T::time_ns));
  }
};

template <>
struct Arbitrary<weft::traces::OpRecord> {
  static Gen<weft::traces::OpRecord> arbitrary() {
    using O = weft::traces::OpRecord;
    return gen::build<O>(
        gen::set(&O::kind), gen::set(&O::has_value), gen::set(&O::is_signed),
        gen::set(&O::blocks), gen::set(&O::strand), gen::set(&O::step),
        gen::set(&O::value), gen::set(&O::what), gen::set(&O::where));
  }
};

template <>
struct Arbitrary<weft::traces::NetRecord> {
  static Gen<weft::traces::NetRecord> arbitrary() {
    using N = weft::traces::NetRecord;
    return gen::build<N>(
        gen::set(&N::event,
                 gen::map(gen::inRange<int>(0, N::kMaxEvent + 1),
                          [](int e) { return static_cast<N::Event>(e); })),
        gen::set(&N::strand), gen::set(&N::step), gen::set(&N::socket),
        gen::set(&N::peer), gen::set(&N::bytes), gen::set(&N::name),
        gen::set(&N::detail));
  }
};

// A record without a time (format 2.2 and older) codes no time_ns.
template <class R>
R without_absent_time(R r) {
  if (!r.timed) r.time_ns = 0;
  return r;
}

template <>
struct Arbitrary<weft::traces::AllocRecord> {
  static Gen<weft::traces::AllocRecord> arbitrary() {
    using A = weft::traces::AllocRecord;
    return gen::map(
        gen::build<A>(
            gen::set(&A::call,
                     gen::map(gen::inRange<int>(0, 8),
                              [](int c) {
                                return static_cast<weft::traces::AllocCall>(c);
                              })),
            gen::set(&A::thread), gen::set(&A::seq), gen::set(&A::size),
            gen::set(&A::align), gen::set(&A::ptr), gen::set(&A::result),
            gen::set(&A::release_delta), gen::set(&A::timed),
            gen::set(&A::time_ns)),
        without_absent_time<A>);
  }
};

template <>
struct Arbitrary<weft::traces::SlotRecord> {
  static Gen<weft::traces::SlotRecord> arbitrary() {
    using S = weft::traces::SlotRecord;
    return gen::map(
        gen::build<S>(
            gen::set(&S::call,
                     gen::map(gen::inRange<int>(0, 8),
                              [](int c) {
                                return static_cast<weft::traces::AllocCall>(c);
                              })),
            gen::set(&S::from_null), gen::set(&S::thread), gen::set(&S::slot),
            gen::set(&S::size), gen::set(&S::align), gen::set(&S::timed),
            gen::set(&S::time_ns)),
        without_absent_time<S>);
  }
};

template <>
struct Arbitrary<weft::traces::FlightRecord> {
  static Gen<weft::traces::FlightRecord> arbitrary() {
    using F = weft::traces::FlightRecord;
    return gen::build<F>(
        gen::set(&F::op,
                 gen::map(gen::inRange<int>(0, weft::traces::kMaxFlightOp + 1),
                          [](int op) {
                            return static_cast<weft::traces::FlightOp>(op);
                          })),
        gen::set(&F::thread), gen::set(&F::object), gen::set(&F::version),
        gen::set(&F::value));
  }
};

template <>
struct Arbitrary<weft::traces::Record> {
  static Gen<weft::traces::Record> arbitrary() {
    using R = weft::traces::Record;
    return gen::oneOf(
        gen::cast<R>(gen::arbitrary<weft::traces::ChoiceRecord>()),
        gen::cast<R>(gen::arbitrary<weft::traces::StrandRecord>()),
        gen::cast<R>(gen::arbitrary<weft::traces::EventRecord>()),
        gen::cast<R>(gen::arbitrary<weft::traces::FailureRecord>()),
        gen::cast<R>(gen::arbitrary<weft::traces::TimeRecord>()),
        gen::cast<R>(gen::arbitrary<weft::traces::AllocRecord>()),
        gen::cast<R>(gen::arbitrary<weft::traces::SlotRecord>()),
        gen::cast<R>(gen::arbitrary<weft::traces::OpRecord>()),
        gen::cast<R>(gen::arbitrary<weft::traces::FlightRecord>()),
        gen::cast<R>(gen::arbitrary<weft::traces::NetRecord>()));
  }
};

}  // namespace rc
