#include "sim/harness/strategy_registry.h"

#include "sim/delay_bound_strategy.h"
#include "sim/dfs_strategy.h"
#include "sim/dpor_strategy.h"
#include "sim/harness/explore.h"
#include "sim/harness/fuzz.h"
#include "sim/mix_strategy.h"
#include "sim/pct_range_strategy.h"
#include "sim/pos_strategy.h"
#include "sim/surw_strategy.h"

namespace weft::sim {

void PortfolioStrategy::begin(std::uint64_t seed) {
  set_inner(seed % 4 == 3 ? static_cast<Strategy*>(&random_) : &pct_);
  inner()->begin(seed);
}

namespace {

constexpr StrategyEntry kStrategies[] = {
    {"portfolio",
     "surw for its first eight schedules, then for three in four (one in "
     "six of them targeting every racing atomic at once), pos for the "
     "fourth, or pctrange once a schedule has had over 64 strands (the "
     "default, chosen by measurement: docs/performance.md)",
     [](const ExploreOptions& o) -> std::unique_ptr<Strategy> {
       std::vector<MixStrategy::Part> parts;
       // One variable's orders at a time miss a bug that needs the orders
       // of several (three_preemptions: x, y and z, each in its window);
       // every racing atomic at once reaches it (docs/performance.md).
       parts.push_back(
           {std::make_unique<SurwStrategy>(o.surw_profile, o.surw_target, 6),
            3});
       // pos's choice costs O(n) in the strands (every strand racing with
       // the operation that ran draws again): past 64, pctrange stands in.
       parts.push_back(
           {std::make_unique<PosStrategy>(), 1,
            std::make_unique<PctRangeStrategy>(o.pct_max_depth, o.pct_steps),
            64});
       // The first eight schedules are all surw's: the shallow bugs it
       // finds in a few schedules come first (deadlock01 in 2 schedules on
       // average, not 3; docs/performance.md).
       return std::make_unique<MixStrategy>(std::move(parts), 8);
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
     "WEFT_PREEMPTION_BOUND preemptions and WEFT_DELAY_BOUND delays, then "
     "stops",
     [](const ExploreOptions& o) -> std::unique_ptr<Strategy> {
       return std::make_unique<DfsStrategy>(o.preemption_bound, o.delay_bound);
     }},
    {"surw",
     "selectively uniform random walk: strands picked in proportion "
     "to their accesses left to one target variable and acquisitions "
     "(WEFT_SURW_TARGET, or WEFT_SURW_PROFILE before a target is known)",
     [](const ExploreOptions& o) -> std::unique_ptr<Strategy> {
       return std::make_unique<SurwStrategy>(o.surw_profile, o.surw_target);
     }},
    {"dpor",
     "exhaustive search with partial-order reduction (source and sleep "
     "sets): one schedule per order of dependent operations, within "
     "WEFT_PREEMPTION_BOUND, then stops",
     [](const ExploreOptions& o) -> std::unique_ptr<Strategy> {
       if (o.delay_bound >= 0)
         throw ConfigError(
             "WEFT_DELAY_BOUND=" + std::to_string(o.delay_bound) +
             " applies to WEFT_STRATEGY=dfs and delaybound, not dpor "
             "(unset it, or use dfs)");
       return std::make_unique<DporStrategy>(o.preemption_bound);
     }},
    {"pos",
     "partial order sampling: random priorities per pending operation, "
     "redrawn for the operations racing with each one that runs",
     [](const ExploreOptions&) -> std::unique_ptr<Strategy> {
       return std::make_unique<PosStrategy>();
     }},
    {"pctrange",
     "PCT with a depth drawn per schedule from 1 to WEFT_PCT_MAX_DEPTH",
     [](const ExploreOptions& o) -> std::unique_ptr<Strategy> {
       return std::make_unique<PctRangeStrategy>(o.pct_max_depth, o.pct_steps);
     }},
    {"delaybound",
     "round robin with WEFT_DELAY_BOUND (default 2) delays placed at random",
     [](const ExploreOptions& o) -> std::unique_ptr<Strategy> {
       return std::make_unique<DelayBoundStrategy>(
           o.delay_bound < 0 ? 2 : o.delay_bound, o.pct_steps);
     }},
    {"pctwalk",
     "PCT for three schedules in four, a random walk for the fourth (the "
     "default before portfolio)",
     [](const ExploreOptions& o) -> std::unique_ptr<Strategy> {
       return std::make_unique<PortfolioStrategy>(o.pct_depth, o.pct_steps);
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
