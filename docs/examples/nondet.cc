// docs/guide.md, "The determinism warning": a body that behaves
// differently every time it runs (a global counter decides how many steps
// a strand takes), so the failing seed run again gives another schedule
// and the report warns that it may not replay.
#include "sim/harness/explore.h"
#include "sim/weft.h"

int runs = 0;  // global state that survives from one schedule to the next

int main() {
  weft::ExploreOptions options;
  options.strategy = "random";
  options.iterations = 100;
  const auto result = weft::explore(options, [] {
    const int extra = ++runs;
    weft::Atomic<int> x{0};
    auto a = weft::spawn("a", [&] {
      for (int i = 0; i < extra % 3; ++i) x.fetch_add(1);
    });
    a.join();
    WEFT_ASSERT(runs % 5 != 0);
  });
  return result.failed() ? 0 : 1;
}
