// Runs the suite's programs through explore() for the tests and the
// benchmark: the count of schedules, whether the search ended by itself,
// and the failure.
#include "sim/weft.h"
#include "tests/support/sctbench_programs.h"

namespace weft::test {

SearchOutcome search(const std::function<void()>& body,
                     const SearchOptions& options) {
  ExploreOptions o;
  o.strategy = options.strategy;
  o.seed = options.seed;
  o.iterations = options.cap;
  o.preemption_bound = options.preemption_bound;
  o.pct_depth = options.pct_depth;
  o.use_environment = false;
  o.print = false;
  o.trace_dir = "";
  o.shrink = false;
  o.check_determinism = false;
  const ExploreResult r = explore(o, body);
  return SearchOutcome{r.schedules, r.exhausted, r.failure};
}

bool is_exhaustive(const std::string& name) {
  SearchOptions o;
  o.strategy = name;
  o.cap = 8;
  return search([] {}, o).finished;
}

}  // namespace weft::test
