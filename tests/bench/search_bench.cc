// How fast each strategy finds a bug, counted in schedules rather than
// seconds: programs modelled on SCTBench's CS suite (reorder_N: N-1 setters
// and a checker; twostage_N: N-1 two-stage writers and a reader), each run
// through explore() for `trials` seeded trials of at most `cap` schedules.
// Prints, per program and strategy, the trials that found the bug and the
// mean schedules to the first bug, to set beside the SURW paper's figures
// (docs/performance.md). Not a Google Benchmark: the figure is a count.
//
//   search_bench [--trials 20] [--cap 10000] [--programs reorder_3,...]
//                [--strategies portfolio,pct,...]  (default: every
//                registered strategy)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "sim/harness/strategy_registry.h"
#include "sim/weft.h"
#include "tests/support/sctbench.h"
#include "tests/support/strategy_programs.h"

namespace {

using namespace weft;

std::map<std::string, std::function<void()>> programs() {
  std::map<std::string, std::function<void()>> all;
  for (int n : {3, 4, 5, 10, 20, 50, 100}) {
    all["reorder_" + std::to_string(n)] = [n] { test::reorder(n); };
    all["twostage_" + std::to_string(n)] = [n] { test::twostage(n); };
  }
  // The paper's twostage: one writer and one reader (PERIOD's defaults).
  all["twostage_2"] = [] { test::twostage(2); };
  all["chain3_25"] = [] { test::preemption_chain(25); };
  return all;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

// Every strategy of the registry, in its order.
std::vector<std::string> registered() {
  std::vector<std::string> out;
  for (const sim::StrategyEntry& e : sim::strategy_registry())
    out.emplace_back(e.name);
  return out;
}

struct Args {
  int trials = 20;
  std::uint64_t cap = 10'000;
  std::vector<std::string> programs = {
      "reorder_3",  "reorder_4",   "reorder_5",   "reorder_10",
      "reorder_20", "reorder_50",  "reorder_100", "twostage_2",
      "twostage_3", "twostage_20", "twostage_50", "twostage_100"};
  std::vector<std::string> strategies = registered();
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--trials")
      a.trials = std::atoi(value.c_str());
    else if (flag == "--cap")
      a.cap = std::strtoull(value.c_str(), nullptr, 10);
    else if (flag == "--programs")
      a.programs = split(value);
    else if (flag == "--strategies")
      a.strategies = split(value);
    else {
      std::fprintf(stderr, "search_bench: unknown option %s\n", flag.c_str());
      std::exit(2);
    }
  }
  if (a.trials < 1 || a.cap < 1) {
    std::fprintf(stderr, "search_bench: --trials and --cap must be >= 1\n");
    std::exit(2);
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  const auto all = programs();
  std::printf("%-14s %-10s %8s %14s   (%d trials, cap %llu)\n", "program",
              "strategy", "found", "mean to bug", args.trials,
              static_cast<unsigned long long>(args.cap));
  for (const std::string& name : args.programs) {
    const auto it = all.find(name);
    if (it == all.end()) {
      std::fprintf(stderr, "search_bench: no program %s\n", name.c_str());
      return 2;
    }
    for (const std::string& strategy : args.strategies) {
      int found = 0;
      std::uint64_t total = 0;
      for (int t = 0; t < args.trials; ++t) {
        const std::uint64_t n = test::schedules_to_first_bug(
            it->second, strategy, static_cast<std::uint64_t>(t), args.cap);
        if (n != 0) ++found, total += n;
      }
      char mean[32] = "-";
      if (found > 0)
        std::snprintf(mean, sizeof mean, "%.0f",
                      static_cast<double>(total) / found);
      std::printf("%-14s %-10s %5d/%-2d %14s\n", name.c_str(), strategy.c_str(),
                  found, args.trials, mean);
      std::fflush(stdout);
    }
  }
  return 0;
}
