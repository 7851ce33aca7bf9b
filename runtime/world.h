// The seam between the real world and the simulated one (FoundationDB's
// INetwork with Net2 and Sim2, kept small): the few policies that differ by
// world -- who is running, the clock, blocking and burning time, reporting
// a misuse or a lost error, messages seen by the timeline, the network --
// are implemented once for real threads and once for the simulation.
// Components call World::current() and never ask which world they are in.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "runtime/internal/strand_identity.h"
#include "sim/clock.h"
#include "sim/scheduler.h"

namespace weft::runtime {

class Network;

// Who sent a message and when, so the timeline draws it as an arrow from
// the sender to whoever handles it. Empty on real threads.
struct MessageStamp {
  sim::StrandId sender = sim::kNoStrand;
  std::uint64_t sent_at = 0;
};

class World {
 public:
  virtual ~World() = default;

  // The world of the calling thread: the simulation when a scheduler runs
  // a schedule on it, the real world otherwise. One thread-local load.
  static World& current();

  // --- who is running ----------------------------------------------------
  virtual bool simulated() const = 0;
  virtual internal::StrandIdentity identity() const = 0;
  // A simulation run is being torn down (a failed schedule unwinds every
  // strand): destructors must not wait for strands. Never on real threads.
  virtual bool tearing_down() const = 0;

  // --- clock and blocking ------------------------------------------------
  virtual sim::Clock::time_point now() const = 0;
  // CPU time of the calling thread (real), or virtual time (simulated,
  // where CPU work is modelled by burn()).
  virtual sim::Clock::duration cpu_now() const = 0;
  // Spends `d` of CPU: spins on real threads, sleeps in virtual time.
  virtual void burn(sim::Clock::duration d) = 0;
  // A delay that exists only in the simulation's model of the world (an
  // isolate's dispatch cost): sleeps in virtual time, nothing for real.
  virtual void model_delay(sim::Clock::duration d) = 0;

  // --- reporting ---------------------------------------------------------
  // An error nobody receives (a reactor call or work item threw): fails the
  // schedule in a simulation (FailureKind::kException); printed to stderr
  // on real threads, where the caller goes on.
  virtual void report_lost_error(const std::string& what) = 0;
  // A misuse of a component (a reactor-only method called from another
  // thread): in a simulation fails the schedule (kAssertion) and unwinds
  // the strand; on real threads throws `Error(what)`.
  template <class Error>
  [[noreturn]] void misuse(const std::string& what) {
    fail_misuse(what);
    throw Error(what);
  }

  // --- the network -------------------------------------------------------
  // Real: the OS (runtime/net.h's real_network()). Simulated: the run's
  // SimNetwork (runtime/sim_network.h); throws std::logic_error if the
  // test body made none.
  virtual Network& network() = 0;

  // --- messages on the timeline --------------------------------------------
  virtual MessageStamp stamp() const = 0;
  // The running strand handles a message stamped `from`; `detail` is
  // built only when a recorder watches.
  virtual void note_message(const MessageStamp& from,
                            const std::function<std::string()>& detail) = 0;

 protected:
  // Simulated: records the failure and throws sim::StrandAborted.
  // Real: returns (misuse() then throws the component's error).
  virtual void fail_misuse(const std::string& what) = 0;
};

}  // namespace weft::runtime
