#include "tests/support/differential.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <iostream>
#include <random>
#include <thread>

#include "sim/dfs_strategy.h"
#include "sim/scheduler.h"

namespace weft::test {

void jitter() {
  if (sim::Scheduler::current() != nullptr) return;
  thread_local std::minstd_rand rng{std::random_device{}()};
  const auto r = static_cast<std::uint32_t>(rng());
  switch (r % 10) {
    case 0:
    case 1:
    case 2:
    case 3:
      return;
    case 4:
    case 5:
      std::this_thread::yield();
      return;
    case 9:
      std::this_thread::sleep_for(std::chrono::microseconds((r >> 8) % 40));
      return;
    default:
      for (std::uint32_t i = (r >> 8) % 3000; i > 0; --i)
        std::atomic_signal_fence(std::memory_order_seq_cst);
  }
}

std::map<std::string, int> real_outcomes(const Program& program) {
  std::map<std::string, int> seen;
  for (int i = 0; i < program.real_runs; ++i) ++seen[program.body()];
  return seen;
}

namespace {

// Runs the program once under `strategy` and adds what it observed (or
// how the run failed) to `e`.
void run_once(sim::Scheduler& sched, sim::Strategy& strategy,
              std::uint64_t seed, const Program& program, Enumeration& e) {
  std::string outcome;
  const sim::RunResult run =
      sched.run(strategy, seed, [&] { outcome = program.body(); });
  if (run.failed())
    outcome = "failure: " + std::string(to_string(run.failure->kind)) + ": " +
              run.failure->message;
  e.outcomes.insert(std::move(outcome));
}

}  // namespace

Enumeration simulated_outcomes(const Program& program, std::uint64_t cap) {
  Enumeration e;
  sim::RunLimits limits;
  limits.spurious_wakeups = program.spurious_wakeups;
  sim::Scheduler sched(limits);
  sim::DfsStrategy dfs(program.preemption_bound);
  while (!dfs.finished() && dfs.schedules() < cap)
    run_once(sched, dfs, 0, program, e);
  e.schedules = dfs.schedules();
  e.capped = !dfs.finished();
  e.bounded = dfs.bound_reached();
  if (!e.capped) return e;
  // A depth-first search that hit its cap has only varied the last
  // choices; random walks vary the early ones too.
  sim::RandomStrategy random;
  for (std::uint64_t seed = 0; seed < cap; ++seed)
    run_once(sched, random, seed, program, e);
  e.random_walks = cap;
  return e;
}

std::string describe(const Program& program,
                     const std::map<std::string, int>& real,
                     const Enumeration& sim) {
  std::string out = program.name + ": real threads (" +
                    std::to_string(program.real_runs) + " runs):";
  for (const auto& [outcome, n] : real)
    out += " [" + outcome + "] x" + std::to_string(n);
  std::string how = "exhaustive";
  if (sim.capped)
    how = "depth-first search capped, then " +
          std::to_string(sim.random_walks) + " random walks";
  else if (sim.bounded)
    how = "exhaustive within " + std::to_string(program.preemption_bound) +
          " preemptions";
  out += "; simulation (" + std::to_string(sim.schedules) + " schedules, " +
         how + "):";
  for (const auto& outcome : sim.outcomes) out += " [" + outcome + "]";
  return out;
}

Enumeration expect_real_outcomes_reachable(const Program& program) {
  const Enumeration sim = simulated_outcomes(program);
  const auto real = real_outcomes(program);
  std::cout << describe(program, real, sim) << "\n";
  for (const auto& [outcome, n] : real)
    EXPECT_TRUE(sim.outcomes.count(outcome))
        << "real threads reached [" << outcome << "] (" << n
        << " runs) but the simulation cannot";
  EXPECT_EQ(sim.outcomes, program.legal)
      << "the simulation's outcomes differ from the model's";
  return sim;
}

std::string test_name(const Program& program) {
  std::string n;
  for (char c : program.name)
    n += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return n;
}

}  // namespace weft::test
