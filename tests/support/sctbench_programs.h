// The benchmark suite of issue 14: programs modelled on SCTBench and the
// SURW paper's scaled-up ones, written anew against weft's facade, each in a
// bad variant (its bug fails a WEFT_ASSERT or deadlocks) and a fixed one
// (no schedule fails). sct_programs() is the one table that the tests
// (tests/sim/sctbench_test.cc) and the benchmark (sctbench_bench) iterate.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/scheduler.h"

namespace weft::test {

enum class Variant { kBad, kFixed };

// SCTBench's CS suite (sctbench_cs.cc). Shared variables are weft Atomics,
// so every access to them is a choice point, as the paper instruments every
// shared-memory access.
void account(Variant v);
void wronglock(int incrementers, Variant v);  // wronglock: 7, wronglock_3: 3
void token_ring(Variant v);
void carter01(Variant v);
void deadlock01(Variant v);
void lazy01(Variant v);

// Data structures (sctbench_data.cc).
void circular_buffer(Variant v);
void bluetooth_driver(Variant v);
void stack(Variant v);
void work_steal_queue(Variant v);

// The scaled programs' fixed variants (the bad ones are reorder() and
// twostage() of tests/support/sctbench.h), and the program whose bug needs
// three preemptions among three strands of 28 steps (sctbench_scaled.cc).
// reorder_fixed(n) and twostage_fixed(n): n-1 setters (writers) and one
// checker (reader); the two-count forms as the paper's programs split them.
void reorder_fixed(int n);
void twostage_fixed(int n);
void reorder_fixed(int setters, int checkers);
void twostage_fixed(int writers, int readers);
void three_preemptions(Variant v);

// The SURW paper's figures for one program (mean ± standard deviation of
// schedules to the first bug over 20 trials capped at 10,000; '*': some
// trials failed; '-': none found it), from
// ../shared/reference/surw-published.md. Empty: the paper has no figure.
struct Published {
  const char* surw = "";
  const char* pct3 = "";
  const char* pos = "";
  const char* rw = "";
};

struct SctProgram {
  std::string name;  // "account", "reorder_20", ...
  std::function<void()> bad;
  std::function<void()> fixed;
  sim::FailureKind bug = sim::FailureKind::kAssertion;  // the bad one's
  std::string paper_key;  // "CS/account"; empty: not in the paper
  Published paper;
  int scale = 0;  // N of reorder_N and twostage_N; 0 for the others
};

// Every program of the suite, in the order the benchmark prints them.
const std::vector<SctProgram>& sct_programs();
// The program named `name`: one of the table, or reorder_N / twostage_N for
// any N in 2..1000 (N-1 setters or writers, one checker or reader), or
// reorder_N_cC / twostage_N_cC (C of the N threads checkers or readers, 1 <=
// C < N), without published figures unless the table has them.
std::optional<SctProgram> find_sct_program(std::string_view name);

// Searching them (sctbench_search.cc), with no shrinking, no determinism
// re-run, no trace files and no WEFT_* variables: only the counts.
struct SearchOptions {
  std::string strategy;
  std::uint64_t seed = 0;
  std::uint64_t cap = 10'000;  // schedules at most
  int preemption_bound = -1;   // for exhaustive strategies; -1: none
  int pct_depth = 3;
};
struct SearchOutcome {
  std::uint64_t schedules = 0;  // schedules run (to the bug, if found)
  bool finished = false;        // the strategy ended the search itself
  std::optional<sim::Failure> failure;
};
SearchOutcome search(const std::function<void()>& body,
                     const SearchOptions& options);
// Whether strategy `name` ends a search by itself (an exhaustive one, such
// as dfs): it does on a body with a single schedule, a sampler does not.
bool is_exhaustive(const std::string& name);

}  // namespace weft::test
