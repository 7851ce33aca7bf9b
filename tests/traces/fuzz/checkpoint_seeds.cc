// Writes seeds for checkpoint_fuzz into the directory argv[1]: checkpoints
// of a small exhaustive search after 1, 5 and 20 schedules, unsharded and
// as shard 1 of 3.
#include <cstdio>
#include <string>

#include "sim/dfs_strategy.h"
#include "sim/harness/checkpoint.h"
#include "sim/weft.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: checkpoint_seeds DIR\n");
    return 2;
  }
  const auto body = [] {
    weft::Atomic<int> x{0};
    auto a = weft::spawn("a", [&] {
      x.store(1);
      x.store(2);
    });
    auto b = weft::spawn("b", [&] { x.store(x.load() + 1); });
    a.join();
    b.join();
  };
  int n = 0;
  for (std::uint64_t total : {1, 3})
    for (std::uint64_t after : {1, 5, 20}) {
      weft::sim::DfsStrategy s(2);
      s.split(total - 1, total);
      weft::sim::Scheduler sched(weft::sim::RunLimits{});
      for (std::uint64_t i = 0; i < after && !s.finished(); ++i)
        sched.run(s, i, body);
      weft::sim::Checkpoint c;
      c.strategy = s.name();
      c.config = s.environment();
      c.shard_index = total - 1;
      c.shard_total = total;
      c.schedules = after;
      c.state = *s.save();
      weft::sim::write_checkpoint(
          std::string(argv[1]) + "/seed" + std::to_string(n++), c);
    }
  return 0;
}
