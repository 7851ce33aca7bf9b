// Which strand is running: a fiber of one run of one scheduler inside a
// simulation, an OS thread outside. Used only to compare (is this the
// reactor's strand?), never to order or choose anything.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <thread>

#include "sim/scheduler.h"

namespace weft::runtime::internal {

struct StrandIdentity {
  const sim::Scheduler* sched = nullptr;
  std::uint64_t run = 0;
  sim::StrandId strand = sim::kNoStrand;
  std::thread::id thread;

  // The caller, as World::current() sees it (runtime/world.cc).
  static StrandIdentity current();
  bool operator==(const StrandIdentity&) const = default;

  // "strand 'pool-1'" or "thread 140234..."
  std::string describe() const {
    if (sched != nullptr)
      return "strand '" +
             (strand == sim::kNoStrand ? std::string("main")
                                       : sched->strand_name(strand)) +
             "'";
    std::ostringstream out;
    out << "thread " << thread;
    return out.str();
  }
};

}  // namespace weft::runtime::internal
