// `weft run`'s isolation: every schedule runs in a fork of the program's
// process taken at the start of main (a fork server), so its globals are
// fresh each time. The child runs the schedule with its copy of the
// strategy and logs every call the scheduler made to it; the parent plays
// the log into its own strategy, so the search goes on as if the schedule
// had run here (DFS's tree, PCT's k), and gets the result back through
// shared memory, or the crash, exit or hang the child died of.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "sim/scheduler.h"
#include "sim/strategy.h"

namespace weft::run {

class ForkIsolation final : public sim::RunIsolation {
 public:
  // `watchdog_s`: a schedule with no choice point for that many real
  // seconds is a hang (0: none).
  ForkIsolation(std::uint64_t max_steps, std::uint64_t watchdog_s);
  ~ForkIsolation() override;
  ForkIsolation(const ForkIsolation&) = delete;
  ForkIsolation& operator=(const ForkIsolation&) = delete;

  sim::RunResult run(sim::Scheduler& sched, sim::Strategy& strategy,
                     std::uint64_t seed,
                     const std::function<void()>& body) override;

  // What the program printed (stdout and stderr) in the first schedule
  // that failed; "" until one did.
  const std::string& failing_output() const { return failing_output_; }
  // Set when the program called something weft cannot simulate: what.
  const std::string& unsupported() const { return unsupported_; }

  // Called by the child's body when the program's main returned `status`
  // (or it called exit): ends the child with the run's result.
  [[noreturn]] static void finish_child(sim::Scheduler& s, int status);

 private:
  struct Area;
  Area* area_;
  int output_fd_ = -1;
  std::uint64_t watchdog_s_;
  std::string failing_output_;
  bool kept_output_ = false;
  std::string unsupported_;
};

}  // namespace weft::run
