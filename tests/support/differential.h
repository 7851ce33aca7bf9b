// The differential soundness test: a small program runs many times on real
// threads with random delays between its operations, so that rare
// interleavings happen, and its outcomes are enumerated in simulation by
// exhaustive search. Every outcome real threads reach must be reachable in
// simulation; a program also lists every outcome its memory model allows,
// and the simulation must reach exactly those.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <set>
#include <string>

namespace weft::test {

// Between two operations of a program. On real threads: a random delay
// (none, a yield, a spin or a sleep of a few microseconds). In a
// simulation: nothing at all, and in particular not a choice point, since
// the test must not give the simulation switch points the program lacks.
void jitter();

struct Program {
  std::string name;
  // Runs the program once (spawning its strands, joining them) and
  // returns what it observed, e.g. "r1=0 r2=1".
  std::function<std::string()> body;
  // Every outcome the model allows (sequential consistency, spurious
  // wake-ups, either order of equal deadlines).
  std::set<std::string> legal;
  // Real runs to make (fewer for programs that sleep).
  int real_runs = 2000;
  // The simulation's search: every schedule with at most this many
  // preemptions (-1: every schedule). Components have too many choice
  // points for an unbounded search; most of their bugs need two.
  int preemption_bound = -1;
  // Spurious wake-ups multiply the tree without changing the outcomes of
  // programs that re-check in a loop, as components do.
  bool spurious_wakeups = true;
};

// GoogleTest prints a parameter by its name.
inline void PrintTo(const Program& program, std::ostream* out) {
  *out << program.name;
}

// Outcome -> how many real runs observed it.
std::map<std::string, int> real_outcomes(const Program& program);

struct Enumeration {
  std::set<std::string> outcomes;
  std::uint64_t schedules = 0;
  bool capped = false;   // stopped at the cap before the tree was done
  bool bounded = false;  // the preemption bound cut branches off
  std::uint64_t random_walks = 0;  // run after a capped search
};
// Every schedule of the program (depth-first, within its preemption
// bound) up to `cap` schedules; if that does not finish the tree, `cap`
// random walks more. A run that fails gives the outcome "failure:
// <kind>".
Enumeration simulated_outcomes(const Program& program,
                               std::uint64_t cap = 50000);

// The differential claim, as GoogleTest expectations: every real outcome
// is among the simulated ones, and the simulated ones are exactly
// `program.legal`. Prints the outcome sets to the test log. Returns the
// enumeration so a caller can add claims about the search.
Enumeration expect_real_outcomes_reachable(const Program& program);

// A GoogleTest parameter name made of the program's name.
std::string test_name(const Program& program);

// One line per outcome set, for the test log.
std::string describe(const Program& program,
                     const std::map<std::string, int>& real,
                     const Enumeration& sim);

}  // namespace weft::test
