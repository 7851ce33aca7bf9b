// Exhaustive search (dfs) checkpointed and resumed, and split into shards:
// a resumed search runs exactly the schedules an uninterrupted one runs
// after the checkpoint, shards' schedules are disjoint and add up to the
// unsharded search, and a checkpoint file that is not one of this search
// is refused with the file and the byte offset.
#include "sim/harness/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "sim/dfs_strategy.h"
#include "sim/harness/explore.h"
#include "sim/state_bytes.h"
#include "sim/weft.h"
#include "tests/support/sctbench_programs.h"

namespace weft::sim {
namespace {

using ::testing::HasSubstr;

std::function<void()> fixed(const std::string& name) {
  auto p = test::find_sct_program(name);
  EXPECT_TRUE(p.has_value()) << name;
  return p->fixed;
}

// The digests of the schedules `s` runs, at most `n`, or until it ends;
// with `counted_only`, only the schedules counts_last() says are its own.
std::vector<std::uint64_t> run(DfsStrategy& s, const std::function<void()>& b,
                               std::uint64_t n = UINT64_MAX,
                               bool counted_only = false) {
  Scheduler sched(RunLimits{});
  std::vector<std::uint64_t> out;
  for (std::uint64_t i = 0; i < n && !s.finished(); ++i) {
    const auto r = sched.run(s, i, b);
    if (!counted_only || s.counts_last()) out.push_back(digest(r.schedule));
  }
  return out;
}

TEST(DfsCheckpoint, AResumedSearchRunsExactlyTheSchedulesOfAnUninterruptedOne) {
  for (const char* name : {"reorder_3", "twostage_3", "deadlock01"}) {
    const auto body = fixed(name);
    DfsStrategy whole(2);
    const auto all = run(whole, body);
    for (std::uint64_t cut : {std::uint64_t{1}, std::uint64_t{17},
                              all.size() / 2, all.size() - 1}) {
      DfsStrategy first(2);
      auto digests = run(first, body, cut);
      Checkpoint c;
      c.strategy = first.name();
      c.config = first.environment();
      c.state = *first.save();
      const Checkpoint back = decode_checkpoint(encode_checkpoint(c));
      DfsStrategy resumed(2);
      resumed.restore(back.state, back.state_offset);
      const auto rest = run(resumed, body);
      digests.insert(digests.end(), rest.begin(), rest.end());
      EXPECT_EQ(digests, all) << name << ", interrupted after " << cut;
    }
  }
}

// Over several small programs, bounds and shard counts: the shards' own
// schedules, put together, are the unsharded search's, each once.
TEST(DfsShards, ShardSchedulesAreDisjointAndAddUpToTheUnshardedSearch) {
  for (const char* name :
       {"deadlock01", "bluetooth_driver", "lazy01", "work_steal_queue"}) {
    const auto body = fixed(name);
    for (int bound : {0, 1, 2}) {
      DfsStrategy whole(bound);
      auto all = run(whole, body);
      std::sort(all.begin(), all.end());
      for (std::uint64_t total : {2, 3, 5, 8, 13, 64}) {
        std::vector<std::uint64_t> together;
        for (std::uint64_t i = 0; i < total; ++i) {
          DfsStrategy shard(bound);
          shard.split(i, total);
          const auto mine = run(shard, body, UINT64_MAX, true);
          together.insert(together.end(), mine.begin(), mine.end());
        }
        std::sort(together.begin(), together.end());
        EXPECT_EQ(together, all)
            << name << ", bound " << bound << ", " << total << " shards";
      }
    }
  }
}

ExploreOptions dfs_options(const std::string& checkpoint) {
  ExploreOptions o;
  o.strategy = "dfs";
  o.preemption_bound = 2;
  o.use_environment = false;
  o.print = false;
  o.trace_dir = "";
  o.checkpoint_file = checkpoint;
  return o;
}

std::string temp_path(const std::string& leaf) {
  return ::testing::TempDir() + "weft-checkpoint-test-" + leaf;
}

TEST(DfsCheckpoint, ASearchRunInSlicesThroughTheFileCoversTheWholeBound) {
  const std::string path = temp_path("slices");
  std::remove(path.c_str());
  const auto body = fixed("reorder_3");
  ExploreOptions whole = dfs_options("");
  whole.iterations = 1'000'000;
  const auto expected = explore(whole, body);
  ASSERT_TRUE(expected.exhausted);
  std::uint64_t total = 0;
  int slices = 0;
  for (;;) {
    ExploreOptions o = dfs_options(path);
    o.iterations = 1'000;
    const auto r = explore(o, body);
    ASSERT_FALSE(r.failed()) << r.report;
    total += r.schedules;
    ++slices;
    if (r.exhausted) {
      EXPECT_THAT(r.summary,
                  HasSubstr("checkpoint " + path + ": " +
                            std::to_string(total) + " schedules in all"));
      break;
    }
    ASSERT_LT(slices, 100);
  }
  EXPECT_EQ(total, expected.schedules);
  EXPECT_EQ(slices, static_cast<int>((expected.schedules + 999) / 1'000));
  std::remove(path.c_str());
}

TEST(DfsShards, ExploreShardsAnExhaustiveSearchByItsTree) {
  const auto body = fixed("reorder_3");
  const auto whole = explore(dfs_options(""), body);
  std::uint64_t total = 0;
  for (std::uint64_t i = 0; i < 3; ++i) {
    set_shard(i, 3);
    ExploreOptions o = dfs_options("");
    o.iterations = 1'000'000;
    const auto r = explore(o, body);
    EXPECT_TRUE(r.exhausted) << "shard " << i;
    EXPECT_GT(r.schedules, 0u) << "shard " << i;
    total += r.schedules;
  }
  set_shard(0, 1);
  ExploreOptions o = dfs_options("");
  o.iterations = 1'000'000;
  EXPECT_EQ(total, explore(o, body).schedules);
}

// The lines docs/guide.md shows ("Sharding and resuming an exhaustive
// search").
TEST(DfsShards, TheGuidesShardAndCheckpointLinesAreThese) {
  const auto body = fixed("reorder_3");
  std::vector<std::string> lines;
  for (std::uint64_t i = 0; i < 3; ++i) {
    set_shard(i, 3);
    ExploreOptions o = dfs_options("");
    o.iterations = 1'000'000;
    lines.push_back(explore(o, body).summary);
  }
  set_shard(0, 1);
  const std::string path = "reorder.ckpt";
  std::remove(path.c_str());
  for (;;) {
    ExploreOptions o = dfs_options(path);
    o.iterations = 2'000;
    const auto r = explore(o, body);
    if (r.exhausted) {
      lines.push_back(r.summary);
      break;
    }
  }
  std::remove(path.c_str());
  for (const auto& l : lines) std::cout << l << "\n";
  const std::vector<std::string> expected = {
      "weft: 2118 schedules passed (dfs 2118; 2118 distinct; at most 2 "
      "preemptions): every schedule within 2 preemptions (shard 0 of 3: its "
      "share only)",
      "weft: 2049 schedules passed (dfs 2049; 2049 distinct; at most 2 "
      "preemptions): every schedule within 2 preemptions (shard 1 of 3: its "
      "share only)",
      "weft: 1345 schedules passed (dfs 1345; 1345 distinct; at most 2 "
      "preemptions): every schedule within 2 preemptions (shard 2 of 3: its "
      "share only)",
      "weft: 1512 schedules passed (dfs 1512; 1512 distinct; at most 2 "
      "preemptions): every schedule within 2 preemptions (checkpoint "
      "reorder.ckpt: 5512 schedules in all)"};
  EXPECT_EQ(lines, expected);
}

std::string error_for(const std::string& path, ExploreOptions o) {
  o.checkpoint_file = path;
  try {
    explore(o, [] {});
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

void write(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST(DfsCheckpoint, AForeignCorruptOrTruncatedFileIsRefusedWithItsOffset) {
  const std::string path = temp_path("bad");
  const auto body = fixed("deadlock01");
  std::remove(path.c_str());
  ExploreOptions o = dfs_options(path);
  o.iterations = 10;
  ASSERT_FALSE(explore(o, body).failed());
  std::string good;
  {
    std::ifstream in(path, std::ios::binary);
    good.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(good.size(), 40u);

  write(path, "#!/bin/sh\necho not a checkpoint\n");
  EXPECT_THAT(error_for(path, o),
              HasSubstr(path + ": byte 0: not a weft checkpoint"));
  write(path, good.substr(0, good.size() - 5));
  EXPECT_THAT(error_for(path, o), HasSubstr(path + ": byte "));
  std::string flipped = good;
  flipped[30] = static_cast<char>(flipped[30] ^ 0x40);
  write(path, flipped);
  EXPECT_THAT(error_for(path, o),
              HasSubstr(": byte " + std::to_string(good.size() - 8) +
                        ": checksum mismatch"));
  write(path, good);
  ExploreOptions other = o;
  other.preemption_bound = 1;
  EXPECT_THAT(error_for(path, other),
              HasSubstr(path + ": byte 12: a checkpoint of another search"));
  ExploreOptions sampling = o;
  sampling.strategy = "pct";
  EXPECT_THAT(error_for(path, sampling),
              HasSubstr("WEFT_CHECKPOINT applies to an exhaustive search"));
  std::remove(path.c_str());
}

TEST(DfsCheckpoint, AStateWithAnImpossibleFrameIsRefusedWithItsOffset) {
  DfsStrategy s(2);
  run(s, fixed("deadlock01"), 3);
  std::string state = *s.save();
  // The first frame starts after flags (1), schedules, shard index and
  // count (8 each) and the frame count (4); its `next` field is at +18.
  const std::size_t next_at = 1 + 8 + 8 + 8 + 4 + 18;
  state[next_at] = static_cast<char>(0xff);
  DfsStrategy back(2);
  try {
    back.restore(state, 100);
    ADD_FAILURE() << "restored an impossible frame";
  } catch (const StateError& e) {
    EXPECT_EQ(e.offset(), 100 + next_at) << e.what();
  }
}

}  // namespace
}  // namespace weft::sim
