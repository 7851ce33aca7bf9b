// The SCTBench-style suite (tests/support/sctbench_programs.h) against every
// registered strategy: per program, the trials that found the bad variant's
// bug and the mean ± standard deviation of schedules to the first bug,
// beside the SURW paper's figures; then per program the count of schedules
// an exhaustive strategy runs on the fixed variant within the preemption
// bound. Prints Markdown tables (docs/performance.md shows them). Counts,
// not times: the figures do not depend on the machine. Strategies that end
// a search by themselves (dfs) are deterministic and run once per program.
//
//   sctbench_bench [--trials 20] [--cap 10000] [--bound 2]
//                  [--exhaustive-cap 200000] [--programs all|name,...]
//                  [--strategies all|name,...] [--decimals 0]
//
// --decimals: digits after the point in the means and deviations (the
// table rounds to whole schedules, as the paper does; 2 gives the exact
// means performance.md compares with the paper's raw data).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <string>
#include <vector>

#include "sim/harness/strategy_registry.h"
#include "tests/support/sctbench_programs.h"

namespace {

using namespace weft;
using test::SctProgram;

struct Args {
  int trials = 20;
  std::uint64_t cap = 10'000;
  int bound = 2;
  std::uint64_t exhaustive_cap = 200'000;
  std::vector<std::string> programs;
  std::vector<std::string> strategies;
  int decimals = 0;
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

constexpr const char* kUsage =
    "usage: sctbench_bench [--trials N] [--cap N] [--bound N] "
    "[--exhaustive-cap N] [--programs all|a,b] [--strategies all|a,b] "
    "[--decimals N]\n";

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "sctbench_bench: %s\n%s", why.c_str(), kUsage);
  std::exit(2);
}

std::uint64_t number(const std::string& flag, const std::string& value) {
  char* end = nullptr;
  const unsigned long long n = std::strtoull(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || value[0] == '-')
    usage(flag + " wants a number, not '" + value + "'");
  return n;
}

Args parse(int argc, char** argv) {
  Args a;
  std::string programs = "all", strategies = "all";
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (i + 1 >= argc) usage(flag + " wants a value");
    const std::string value = argv[i + 1];
    if (flag == "--trials")
      a.trials = static_cast<int>(number(flag, value));
    else if (flag == "--cap")
      a.cap = number(flag, value);
    else if (flag == "--bound")
      a.bound = static_cast<int>(number(flag, value));
    else if (flag == "--exhaustive-cap")
      a.exhaustive_cap = number(flag, value);
    else if (flag == "--programs")
      programs = value;
    else if (flag == "--strategies")
      strategies = value;
    else if (flag == "--decimals")
      a.decimals = static_cast<int>(number(flag, value));
    else
      usage("unknown option " + flag);
  }
  if (a.trials < 1 || a.cap < 1) usage("--trials and --cap must be >= 1");
  if (a.decimals > 6) usage("--decimals must be at most 6");
  if (programs == "all")
    for (const SctProgram& p : test::sct_programs())
      a.programs.push_back(p.name);
  else
    a.programs = split(programs);
  if (strategies == "all")
    for (const sim::StrategyEntry& e : sim::strategy_registry())
      a.strategies.emplace_back(e.name);
  else
    a.strategies = split(strategies);
  for (const std::string& s : a.strategies)
    if (sim::find_strategy(s) == nullptr)
      usage("no strategy '" + s + "' (there are: " + sim::strategy_names() +
            ")");
  return a;
}

std::string with_commas(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// "found/trials, mean ± sd" over the trials that found the bug.
std::string sampled(const SctProgram& p, const std::string& strategy,
                    const Args& args) {
  std::vector<double> counts;
  for (int t = 0; t < args.trials; ++t) {
    test::SearchOptions o;
    o.strategy = strategy;
    o.seed = static_cast<std::uint64_t>(t) * 1'000'003;
    o.cap = args.cap;
    const auto r = test::search(p.bad, o);
    if (r.failure) counts.push_back(static_cast<double>(r.schedules));
  }
  std::string cell =
      std::to_string(counts.size()) + "/" + std::to_string(args.trials);
  if (counts.empty()) return cell;
  double mean = 0, var = 0;
  for (double c : counts) mean += c;
  mean /= static_cast<double>(counts.size());
  for (double c : counts) var += (c - mean) * (c - mean);
  const double sd = std::sqrt(var / static_cast<double>(counts.size()));
  char buf[64];
  std::snprintf(buf, sizeof buf, ", %.*f ± %.*f", args.decimals, mean,
                args.decimals, sd);
  return cell + buf;
}

// One deterministic search: "once, N" or "once, -" (not within the cap).
std::string once(const SctProgram& p, const std::string& strategy,
                 const Args& args) {
  test::SearchOptions o;
  o.strategy = strategy;
  o.cap = args.cap;
  o.preemption_bound = args.bound;
  const auto r = test::search(p.bad, o);
  return r.failure ? "once, " + std::to_string(r.schedules) : "once, -";
}

// The schedules `strategy` runs on the fixed variant within the bound:
// "18,432", or ">200,000" when the cap came first, or "FAILED".
std::string exhaustive(const SctProgram& p, const std::string& strategy,
                       const Args& args) {
  test::SearchOptions o;
  o.strategy = strategy;
  o.cap = args.exhaustive_cap;
  o.preemption_bound = args.bound;
  const auto r = test::search(p.fixed, o);
  if (r.failure) return "FAILED: " + std::string(to_string(r.failure->kind));
  return (r.finished ? "" : ">") + with_commas(r.schedules);
}

// A cell, or the error a strategy raised making it (one that needs a
// configuration the benchmark does not give, say).
template <class Cell>
std::string guarded(Cell cell) {
  try {
    return cell();
  } catch (const std::exception& e) {
    return std::string("error: ") + e.what();
  }
}

void print_found(const std::vector<SctProgram>& programs,
                 const std::vector<bool>& exhaustive_strategy,
                 const Args& args) {
  std::printf(
      "Bad variants: bugs found / %d trials, mean ± sd schedules to "
      "the first bug (cap %s; exhaustive strategies once, bound %d)"
      "\n\n| program |",
      args.trials, with_commas(args.cap).c_str(), args.bound);
  for (const std::string& s : args.strategies) std::printf(" %s |", s.c_str());
  std::printf(" paper SURW | paper PCT-3 | paper POS | paper RW |\n|---|");
  for (std::size_t i = 0; i < args.strategies.size() + 4; ++i)
    std::printf("---|");
  std::printf("\n");
  for (const SctProgram& p : programs) {
    std::printf("| %s |", p.name.c_str());
    std::fflush(stdout);
    for (std::size_t i = 0; i < args.strategies.size(); ++i) {
      const std::string& s = args.strategies[i];
      const std::string cell = guarded([&] {
        return exhaustive_strategy[i] ? once(p, s, args) : sampled(p, s, args);
      });
      std::printf(" %s |", cell.c_str());
      std::fflush(stdout);
    }
    std::printf(" %s | %s | %s | %s |\n", p.paper.surw, p.paper.pct3,
                p.paper.pos, p.paper.rw);
  }
}

void print_exhaustive(const std::vector<SctProgram>& programs,
                      const std::vector<bool>& exhaustive_strategy,
                      const Args& args) {
  std::printf(
      "\nFixed variants: schedules of exhaustive search within %d "
      "preemptions (>: the cap of %s came first)\n\n| program |",
      args.bound, with_commas(args.exhaustive_cap).c_str());
  for (std::size_t i = 0; i < args.strategies.size(); ++i)
    if (exhaustive_strategy[i])
      std::printf(" %s |", args.strategies[i].c_str());
  std::printf("\n|---|");
  for (std::size_t i = 0; i < args.strategies.size(); ++i)
    if (exhaustive_strategy[i]) std::printf("---|");
  std::printf("\n");
  for (const SctProgram& p : programs) {
    std::printf("| %s |", p.name.c_str());
    for (std::size_t i = 0; i < args.strategies.size(); ++i)
      if (exhaustive_strategy[i]) {
        const std::string cell =
            guarded([&] { return exhaustive(p, args.strategies[i], args); });
        std::printf(" %s |", cell.c_str());
        std::fflush(stdout);
      }
    std::printf("\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  std::vector<SctProgram> programs;
  for (const std::string& name : args.programs) {
    auto p = test::find_sct_program(name);
    if (!p) usage("no program '" + name + "'");
    programs.push_back(*p);
  }
  std::vector<bool> exhaustive_strategy;
  for (const std::string& s : args.strategies)
    exhaustive_strategy.push_back(guarded([&] {
                                    return test::is_exhaustive(s) ? "yes"
                                                                  : "no";
                                  }) == "yes");
  print_found(programs, exhaustive_strategy, args);
  print_exhaustive(programs, exhaustive_strategy, args);
  return 0;
}
