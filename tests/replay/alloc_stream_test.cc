// Replay at scale: the replayer streams the log a chunk at a time (results
// do not depend on the chunk size, memory does not grow with the log),
// `--timed` never makes a call before its recorded time, the series stays
// bounded, `weft alloc generate` writes deterministic realistic logs that
// convert and replay, and bad logs (times going back or overflowing, more
// live bytes than an address space, a slot array that cannot be reserved,
// --timed on a log without times) are refused with the file and offset.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "replay/alloc/compare.h"
#include "replay/alloc/convert.h"
#include "replay/alloc/generate.h"
#include "replay/alloc/log.h"
#include "replay/alloc/replay.h"
#include "tests/support/scratch_dir.h"
#include "traces/writer.h"

namespace weft::replay {
namespace {

std::string temp(const std::string& name) {
  return test::scratch_file("stream-" + name);
}

SlotRecord op(AllocCall call, std::uint32_t slot, std::uint64_t size,
              std::uint32_t thread = 0, std::uint64_t time_ns = 0,
              bool timed = false) {
  SlotRecord r;
  r.call = call;
  r.slot = slot;
  r.size = size;
  r.thread = thread;
  r.timed = timed;
  r.time_ns = time_ns;
  return r;
}

std::string write_slots(const std::string& name,
                        const std::vector<SlotRecord>& ops) {
  const std::string path = temp(name);
  traces::TraceHeader header;
  header.kind = traces::TraceKind::kAllocLog;
  header.metadata = {{"form", "slots"}};
  traces::TraceWriter w(path, header);
  for (const auto& o : ops) w.append(o);
  w.close();
  return path;
}

int shell(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Random well-formed operations: slots reused from a free list, as
// convert assigns them.
std::vector<SlotRecord> random_ops(std::size_t n, std::uint32_t threads) {
  std::vector<SlotRecord> ops;
  std::vector<std::uint32_t> live, free_slots;
  std::uint32_t next = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto t = *rc::gen::inRange<std::uint32_t>(0, threads);
    if (!live.empty() && *rc::gen::inRange(0, 3) == 0) {
      const auto k = *rc::gen::inRange<std::size_t>(0, live.size());
      std::swap(live[k], live.back());
      if (*rc::gen::inRange(0, 4) == 0) {
        ops.push_back(op(AllocCall::kRealloc, live.back(),
                         *rc::gen::inRange<std::uint64_t>(1, 3000), t));
        continue;
      }
      ops.push_back(op(AllocCall::kFree, live.back(), 0, t));
      free_slots.push_back(live.back());
      live.pop_back();
      continue;
    }
    std::uint32_t s = next;
    if (!free_slots.empty()) {
      s = free_slots.back();
      free_slots.pop_back();
    } else {
      ++next;
    }
    live.push_back(s);
    ops.push_back(op(*rc::gen::element(AllocCall::kMalloc, AllocCall::kCalloc),
                     s, *rc::gen::inRange<std::uint64_t>(0, 5000), t));
  }
  return ops;
}

RC_GTEST_PROP(AllocStream, ResultsDoNotDependOnTheChunkSize, ()) {
  const auto ops = random_ops(*rc::gen::inRange<std::size_t>(1, 400), 3);
  const bool ordered = *rc::gen::arbitrary<bool>();
  ReplayOptions whole, chunked;
  whole.ordered = chunked.ordered = ordered;
  chunked.chunk = *rc::gen::inRange<std::size_t>(1, 50);
  for (const bool check : {true, false}) {
    whole.check = chunked.check = check;
    const ReplayResult a = replay_ops(ops.data(), ops.size(), 0, 0, whole);
    const ReplayResult b = replay_ops(ops.data(), ops.size(), 0, 0, chunked);
    RC_ASSERT(a.ok());
    RC_ASSERT(b.ok());
    RC_ASSERT(a.operations == ops.size());
    RC_ASSERT(b.operations == ops.size());
    RC_ASSERT(a.slots == b.slots);
    RC_ASSERT(a.threads == b.threads);
    if (!ordered) {  // ordered threads interleave differently each run
      RC_ASSERT(a.peak_live == b.peak_live);
      RC_ASSERT(a.final_live == b.final_live);
    }
  }
}

// Between chunks the unchecked replay reads back the live blocks: only
// blocks live at that point. A 4 MiB block (glibc maps it, and unmaps it
// at its free) freed in one chunk and its slot allocated again in the
// next must not be read through its stale pointer (this crashed).
TEST(AllocStream, UncheckedChunkBoundariesReadOnlyLiveBlocks) {
  const std::vector<SlotRecord> ops = {
      op(AllocCall::kMalloc, 0, 4 << 20), op(AllocCall::kFree, 0, 0),
      op(AllocCall::kMalloc, 0, 4 << 20), op(AllocCall::kFree, 0, 0)};
  ReplayOptions o;
  o.check = false;
  for (const std::size_t chunk : {1, 2, 3}) {
    o.chunk = chunk;
    const ReplayResult r = replay_ops(ops.data(), ops.size(), 0, 0, o);
    EXPECT_TRUE(r.ok()) << r.failure;
    EXPECT_EQ(r.operations, ops.size());
  }
}

RC_GTEST_PROP(AllocStream, SeriesStaysBetweenNAndTwiceNPointsInOrder, ()) {
  const auto ops = random_ops(*rc::gen::inRange<std::size_t>(1, 3000), 1);
  ReplayOptions o;
  o.samples = *rc::gen::inRange<std::uint32_t>(2, 40);
  o.chunk = *rc::gen::inRange<std::size_t>(1, 500);
  const ReplayResult r = replay_ops(ops.data(), ops.size(), 0, 0, o);
  RC_ASSERT(!r.series.empty());
  RC_ASSERT(r.series.size() <= 2 * std::size_t{o.samples} + 1);
  if (ops.size() >= 2 * o.samples) RC_ASSERT(r.series.size() >= o.samples);
  RC_ASSERT(r.series.back().op == ops.size());
  for (std::size_t i = 1; i < r.series.size(); ++i) {
    RC_ASSERT(r.series[i - 1].op < r.series[i].op);
    RC_ASSERT(r.series[i - 1].time_ns <= r.series[i].time_ns);
  }
}

// Two threads, each with a spell of 200 ms without calls: at every point
// of the series, no more calls were made than the log had made by that
// time (however fast or slow the machine is).
TEST(AllocTimed, NoCallIsMadeBeforeItsRecordedTime) {
  std::vector<SlotRecord> ops;
  std::uint32_t slot = 0;
  std::uint64_t t = 0;
  for (int phase = 0; phase < 3; ++phase) {
    for (int i = 0; i < 200; ++i, t += 1000)
      ops.push_back(op(AllocCall::kMalloc, slot++, 64, i % 2, t, true));
    for (int i = 0; i < 200; ++i, t += 1000)
      ops.push_back(
          op(AllocCall::kFree, --slot, 0, (i + 1) % 2, t, /*timed=*/true));
    t += 200'000'000;
  }
  const std::string path = write_slots("timed.slots.weft", ops);
  ReplayOptions o;
  o.timed = true;
  o.samples = 50;
  const ReplayResult r = replay_in_child(path, "glibc", o);
  ASSERT_TRUE(r.ok()) << r.failure;
  EXPECT_EQ(r.mode, "timed");
  EXPECT_EQ(r.threads, 2u);
  std::size_t in_gaps = 0;
  for (const Sample& s : r.series) {
    std::uint64_t due = 0;
    while (due < ops.size() && ops[due].time_ns <= s.time_ns) ++due;
    EXPECT_LE(s.op, due) << "at " << s.time_ns << " ns";
    in_gaps += s.op == 400 || s.op == 800;
  }
  EXPECT_GT(in_gaps, 0u) << "no point fell in an idle spell";
}

// The same across chunk boundaries (the threads meet while the next
// chunk is decoded, and the clock is paused meanwhile), in process.
TEST(AllocTimed, ChunkBoundariesKeepTheRecordedTimes) {
  std::vector<SlotRecord> ops;
  std::uint32_t slot = 0;
  std::uint64_t t = 0;
  for (int phase = 0; phase < 4; ++phase) {
    for (int i = 0; i < 150; ++i, t += 2000)
      ops.push_back(op(AllocCall::kMalloc, slot++, 32, i % 3, t, true));
    for (int i = 0; i < 150; ++i, t += 2000)
      ops.push_back(op(AllocCall::kFree, --slot, 0, (i + 1) % 3, t, true));
    t += 30'000'000;
  }
  ReplayOptions o;
  o.timed = true;
  o.chunk = 70;
  const ReplayResult r = replay_ops(ops.data(), ops.size(), 0, 0, o);
  ASSERT_TRUE(r.ok()) << r.failure;
  EXPECT_EQ(r.operations, ops.size());
  EXPECT_EQ(r.threads, 3u);
  EXPECT_LE(r.peak_live, 150u * 32u);  // less if a thread ran late
  for (const Sample& s : r.series) {
    std::uint64_t due = 0;
    while (due < ops.size() && ops[due].time_ns <= s.time_ns) ++due;
    EXPECT_LE(s.op, due) << "at " << s.time_ns << " ns";
  }
}

TEST(AllocTimed, ALogWithoutTimesIsRefusedWithItsOffset) {
  const std::string path =
      write_slots("untimed.slots.weft", {op(AllocCall::kMalloc, 0, 8)});
  const std::string out = temp("untimed.txt");
  EXPECT_EQ(shell(std::string(WEFT_BINARY) + " alloc replay --timed " + path +
                  " > " + out + " 2>&1"),
            2);
  const std::string text = slurp(out);
  EXPECT_NE(text.find("has no recorded time"), std::string::npos) << text;
  EXPECT_NE(text.find(" at byte "), std::string::npos) << text;
  EXPECT_EQ(shell(std::string(WEFT_BINARY) + " alloc compare --timed " + path +
                  " glibc > /dev/null 2>&1"),
            2);
}

// Each bad log, under replay and compare: exit 2, the message and offset.
void expect_refused(const std::vector<SlotRecord>& ops, const std::string& what,
                    const std::string& name) {
  const std::string path = write_slots(name + ".slots.weft", ops);
  for (const std::string verb : {"replay", "compare"}) {
    const std::string out = temp(name + "-" + verb + ".txt");
    EXPECT_EQ(shell(std::string(WEFT_BINARY) + " alloc " + verb + " " + path +
                    (verb == "compare" ? " glibc jemalloc" : "") + " > " + out +
                    " 2>&1"),
              2)
        << verb;
    const std::string text = slurp(out);
    EXPECT_NE(text.find(what), std::string::npos) << verb << ": " << text;
    EXPECT_NE(text.find(path + ": "), std::string::npos) << text;
    EXPECT_NE(text.find(" at byte "), std::string::npos) << text;
  }
}

TEST(AllocBadInput, TimeGoingBackWithinAThreadIsRefused) {
  expect_refused({op(AllocCall::kMalloc, 0, 8, 0, 500, true),
                  op(AllocCall::kMalloc, 1, 8, 1, 100, true),
                  op(AllocCall::kFree, 0, 0, 0, 400, true)},
                 "thread 0's time goes back from 500 ns to 400 ns", "back");
}

TEST(AllocBadInput, TimeOverflowingIsRefused) {
  expect_refused({op(AllocCall::kMalloc, 0, 8, 0, 1, true),
                  op(AllocCall::kFree, 0, 0, 0, kMaxTimeNs + 1, true)},
                 "overflows", "overflow");
}

TEST(AllocBadInput, MoreLiveBytesThanAnAddressSpaceIsRefused) {
  std::vector<SlotRecord> ops;
  for (std::uint32_t s = 0; s < 3; ++s)
    ops.push_back(op(AllocCall::kMalloc, s, std::uint64_t{1} << 46));
  expect_refused(ops, "more than a process's address space", "live");
}

// A slot array larger than the machine's memory: the source's error, not
// a crash or a machine thrashing through a memset. Checked and unchecked
// (which grows the array as it packs each chunk).
TEST(AllocBadInput, ASlotArrayThatCannotBeReservedIsRefused) {
  const std::vector<SlotRecord> ops = {op(AllocCall::kMalloc, 0, 8),
                                       op(AllocCall::kMalloc, 0xFFFFFFF0u, 8)};
  for (const bool check : {true, false}) {
    ReplayOptions o;
    o.check = check;
    try {
      replay_ops(ops.data(), ops.size(), 0, 0, o);
      ADD_FAILURE() << "replayed a log needing 64 GiB of slot array, check "
                    << check;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("could not be reserved"),
                std::string::npos)
          << e.what();
    }
  }
}

// A long log of short-lived blocks: the replayer child's whole peak RSS
// stays far below what the operations would take in memory.
TEST(AllocStream, ReplayerMemoryDoesNotGrowWithTheLog) {
  constexpr std::uint32_t kOps = 6 << 20;
  std::vector<SlotRecord> ops;
  const std::string path = temp("long.slots.weft");
  {
    traces::TraceHeader header;
    header.kind = traces::TraceKind::kAllocLog;
    header.metadata = {{"form", "slots"}};
    traces::WriterOptions wo;
    wo.records_per_frame = 65536;
    traces::TraceWriter w(path, header, wo);
    for (std::uint32_t i = 0; i < kOps / 2; ++i) {
      w.append(op(AllocCall::kMalloc, i % 64, 16 + i % 32));
      w.append(op(AllocCall::kFree, i % 64, 0));
    }
    w.close();
  }
  ReplayOptions o;
  o.check = false;
  const ReplayResult r = replay_in_child(path, "glibc", o);
  ASSERT_TRUE(r.ok()) << r.failure;
  EXPECT_EQ(r.operations, kOps);
  ASSERT_GT(r.process_peak_rss, 0u);
  // In memory, 6M operations take 6M * sizeof(SlotRecord) = 240 MiB+.
  EXPECT_LT(r.process_peak_rss, kOps * sizeof(SlotRecord) / 2)
      << r.process_peak_rss;
}

TEST(AllocGenerate, SameSeedSameLogOtherSeedOtherLog) {
  GenerateOptions g;
  g.calls = 20000;
  g.threads = 3;
  generate_log(temp("g1.weft"), g);
  generate_log(temp("g2.weft"), g);
  g.seed = 2;
  generate_log(temp("g3.weft"), g);
  EXPECT_EQ(slurp(temp("g1.weft")), slurp(temp("g2.weft")));
  EXPECT_NE(slurp(temp("g1.weft")), slurp(temp("g3.weft")));
}

TEST(AllocGenerate, SizesLifetimesThreadsAndTimesAreRealistic) {
  GenerateOptions g;
  g.calls = 200000;
  g.threads = 4;
  const GenerateStats stats = generate_log(temp("real.weft"), g);
  EXPECT_EQ(stats.calls, g.calls);
  EXPECT_GT(stats.handed_off, 0u);
  EXPECT_GT(stats.reallocs, 0u);
  std::uint64_t small = 0, large = 0, allocations = 0;
  std::vector<std::uint64_t> last(g.threads, 0);
  for (const AllocRecord& r : read_calls(temp("real.weft"))) {
    ASSERT_TRUE(r.timed);
    ASSERT_GE(r.time_ns, last[r.thread]);
    last[r.thread] = r.time_ns;
    if (r.call == AllocCall::kFree || r.call == AllocCall::kRealloc) continue;
    ++allocations;
    small += r.size <= 256;
    large += r.size > 32768;
  }
  EXPECT_GT(small, allocations * 8 / 10);  // many small
  EXPECT_GT(large, 0u);                    // a few large
  EXPECT_LT(large, allocations / 100);
  // Convert finds nothing to repair, and the blocks alive at the end are
  // the long-lived tail: far fewer than were allocated.
  const ConvertStats c = convert(temp("real.weft"), temp("real.slots.weft"));
  EXPECT_EQ(c.anomalies(), 0u);
  EXPECT_EQ(c.operations, g.calls);
  EXPECT_LT(stats.end_live_blocks, stats.allocations / 10);
}

TEST(AllocGenerate, GenerateConvertReplayFromTheCommandLine) {
  const std::string w = WEFT_BINARY, calls = temp("cli.calls.weft"),
                    slots = temp("cli.slots.weft"), out = temp("cli.txt");
  ASSERT_EQ(shell(w + " alloc generate --calls 50000 --threads 3 --seed 7 -o " +
                  calls + " > " + out),
            0);
  EXPECT_NE(slurp(out).find("generated 50000 allocator calls"),
            std::string::npos);
  ASSERT_EQ(
      shell(w + " alloc convert " + calls + " -o " + slots + " > /dev/null"),
      0);
  ASSERT_EQ(shell(w + " alloc replay --timed " + slots + " > " + out), 0);
  EXPECT_NE(slurp(out).find("mode           timed: 3 threads"),
            std::string::npos)
      << slurp(out);
  EXPECT_NE(slurp(out).find("over time"), std::string::npos);
  EXPECT_EQ(
      shell(w + " alloc generate --calls 0 -o " + calls + " > /dev/null 2>&1"),
      2);
  EXPECT_EQ(shell(w + " alloc generate --calls 10 > /dev/null 2>&1"), 2);
}

TEST(AllocComparePage, TimedSeriesArePlottedOverTimeWithLatency) {
  std::vector<ReplayResult> results(2);
  results[0].allocator = "glibc";
  results[1].allocator = "jemalloc";
  for (auto& r : results) {
    r.mode = "timed";
    for (std::uint64_t i = 0; i < 5; ++i)
      r.series.push_back(Sample{i * 10, 1000 * i, 4096 * (i + 1),
                                i * 250'000'000, 20.0 + i, 200.0 + i});
  }
  std::ostringstream out;
  write_plot("t", results, out);
  const std::string html = out.str();
  EXPECT_NE(html.find("id=\"memory-time\""), std::string::npos);
  EXPECT_NE(html.find("id=\"latency-time\""), std::string::npos);
  for (const std::string a : {"glibc", "jemalloc"})
    for (const std::string cls :
         {"rss-time", "live-time", "p99-time", "p50-time"})
      EXPECT_NE(html.find("class=\"" + cls + "\" data-allocator=\"" + a + "\""),
                std::string::npos)
          << cls << " " << a;
  EXPECT_NE(html.find(">1 s<"), std::string::npos);  // a time axis tick
}

// The program in phases (alloc_phases_prog.cc) recorded, then replayed
// under jemalloc with background purging, timed and untimed. Timed, each
// idle spell is replayed as an idle spell and jemalloc's background
// thread returns the freed burst: the lowest RSS seen while the replay
// sits at the spell's operation is far below the untimed replay's RSS at
// that same operation, where the next burst follows at once and reuses
// the dirty pages. Compared at operation indices, not times.
TEST(AllocTimed, BackgroundPurgingShowsOnlyWhenTheIdleSpellsAreReplayed) {
  try {
    allocator_library("jemalloc");
  } catch (const std::exception& e) {
    GTEST_SKIP() << e.what();
  }
  const std::string calls = temp("phases.calls.weft"),
                    slots = temp("phases.slots.weft");
  ASSERT_EQ(shell(std::string(WEFT_BINARY) + " alloc record -o " + calls +
                  " -- " + WEFT_ALLOC_PHASES_PROG + " 2> /dev/null"),
            0);
  convert(calls, slots);
  // The operations after which every thread sleeps: a gap of over a
  // second in the log's time.
  const SlotLog log = read_slot_log(slots);
  ASSERT_TRUE(log.ops.at(0).timed);
  std::vector<std::uint64_t> spells;
  for (std::size_t i = 1; i < log.ops.size(); ++i)
    if (log.ops[i].time_ns > log.ops[i - 1].time_ns + 1'000'000'000)
      spells.push_back(i);
  ASSERT_EQ(spells.size(), 3u);

  ::setenv("MALLOC_CONF",
           "background_thread:true,dirty_decay_ms:100,muzzy_decay_ms:0", 1);
  ReplayOptions timed, untimed;
  timed.timed = true;
  const ReplayResult t = replay_in_child(slots, "jemalloc", timed);
  const ReplayResult u = replay_in_child(slots, "jemalloc", untimed);
  ::unsetenv("MALLOC_CONF");
  ASSERT_TRUE(t.ok()) << t.failure;
  ASSERT_TRUE(u.ok()) << u.failure;
  for (const std::uint64_t k : spells) {
    std::uint64_t idle_min = ~std::uint64_t{0};
    for (const Sample& s : t.series)
      if (s.op == k) idle_min = std::min(idle_min, s.rss_bytes);
    ASSERT_NE(idle_min, ~std::uint64_t{0}) << "no point in the spell at " << k;
    const Sample* near = &u.series[0];
    for (const Sample& s : u.series)
      if ((s.op > k ? s.op - k : k - s.op) <
          (near->op > k ? near->op - k : k - near->op))
        near = &s;
    EXPECT_LT(2 * idle_min, near->rss_bytes)
        << "operation " << k << ": timed " << idle_min << " bytes, untimed "
        << near->rss_bytes << " at operation " << near->op;
  }
}

}  // namespace
}  // namespace weft::replay
