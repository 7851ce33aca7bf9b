// The strategies explore() can run, by the name WEFT_STRATEGY gives. A new
// strategy is one file (its class) plus one entry in strategy_registry.cc;
// explore(), the environment parser and the error messages read this
// table, so nothing else names strategies.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "sim/strategy.h"

namespace weft::sim {

struct ExploreOptions;

struct StrategyEntry {
  std::string_view name;
  std::string_view summary;  // one line, for --help and error messages
  std::unique_ptr<Strategy> (*make)(const ExploreOptions& options);
};

std::span<const StrategyEntry> strategy_registry();
// The entry named `name`, or null.
const StrategyEntry* find_strategy(std::string_view name);
// "portfolio, pct, random, dfs": what WEFT_STRATEGY accepts.
std::string strategy_names();

// PCT d=depth for three schedules in four and a random walk for the
// fourth (by seed): the default until measurement chose surw and pctrange
// (docs/performance.md); WEFT_STRATEGY=pctwalk.
class PortfolioStrategy final : public ForwardingStrategy {
 public:
  PortfolioStrategy(int pct_depth, std::uint64_t pct_steps)
      : ForwardingStrategy(&pct_), pct_(pct_depth, pct_steps) {}
  void begin(std::uint64_t seed) override;

 private:
  PctStrategy pct_;
  RandomStrategy random_;
};

}  // namespace weft::sim
