// Built by tests/consumer/run.sh with nothing but `pkg-config --cflags
// --libs weft`: exits 0 when explore() finds the lost update.
#include <cstdio>

#include "sim/weft.h"

int main() {
  weft::ExploreOptions options;
  options.use_environment = false;
  options.print = false;
  options.trace_dir.clear();
  const weft::ExploreResult r = weft::explore(options, [] {
    weft::Atomic<int> n{0};
    auto a = weft::spawn([&] { n.store(n.load() + 1); });
    n.store(n.load() + 1);
    a.join();
    WEFT_ASSERT(n.load() == 2);
  });
  std::printf("pkg-config build: lost update %s after %llu schedules\n",
              r.failed() ? "found" : "NOT found",
              static_cast<unsigned long long>(r.schedules));
  return r.failed() ? 0 : 1;
}
