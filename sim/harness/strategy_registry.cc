#include "sim/harness/strategy_registry.h"

#include "sim/dfs_strategy.h"
#include "sim/harness/explore.h"
#include "sim/harness/fuzz.h"
#include "sim/surw_strategy.h"

namespace weft::sim {

void PortfolioStrategy::begin(std::uint64_t seed) {
  active_ = seed % 4 == 3 ? static_cast<Strategy*>(&random_) : &pct_;
  active_->begin(seed);
}

namespace {

constexpr StrategyEntry kStrategies[] = {
    {"portfolio",
     "PCT for three schedules in four, a random walk for the "
     "fourth (the default)",
     [](const ExploreOptions& o) -> std::unique_ptr<Strategy> {
       return std::make_unique<PortfolioStrategy>(o.pct_depth, o.pct_steps);
     }},
    {"pct", "probabilistic concurrency testing, depth WEFT_PCT_DEPTH",
     [](const ExploreOptions& o) -> std::unique_ptr<Strategy> {
       return std::make_unique<PctStrategy>(o.pct_depth, o.pct_steps);
     }},
    {"random", "uniform random walk",
     [](const ExploreOptions&) -> std::unique_ptr<Strategy> {
       return std::make_unique<RandomStrategy>();
     }},
    {"dfs",
     "bounded exhaustive search: every schedule with at most "
     "WEFT_PREEMPTION_BOUND preemptions, then stops",
     [](const ExploreOptions& o) -> std::unique_ptr<Strategy> {
       return std::make_unique<DfsStrategy>(o.preemption_bound);
     }},
    {"surw",
     "selectively uniform random walk: strands picked in proportion "
     "to their operations left (profile in WEFT_SURW_PROFILE)",
     [](const ExploreOptions& o) -> std::unique_ptr<Strategy> {
       return std::make_unique<SurwStrategy>(o.surw_profile);
     }},
    {"bytes",
     "one schedule chosen by the bytes of the file WEFT_FUZZ_INPUT (a "
     "fuzzer's input), or, without it, bytes drawn from each seed",
     make_byte_strategy},
};

}  // namespace

std::span<const StrategyEntry> strategy_registry() { return kStrategies; }

const StrategyEntry* find_strategy(std::string_view name) {
  for (const StrategyEntry& e : kStrategies)
    if (e.name == name) return &e;
  return nullptr;
}

std::string strategy_names() {
  std::string out;
  for (const StrategyEntry& e : kStrategies) {
    if (!out.empty()) out += ", ";
    out += e.name;
  }
  return out;
}

}  // namespace weft::sim
