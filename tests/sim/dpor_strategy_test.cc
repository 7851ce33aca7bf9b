#include "sim/dpor_strategy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "sim/dfs_strategy.h"
#include "sim/harness/explore.h"
#include "sim/state_bytes.h"
#include "sim/weft.h"
#include "tests/support/sctbench.h"
#include "tests/support/sctbench_programs.h"

namespace weft::sim {
namespace {

// --- small random programs -------------------------------------------------
// A few strands, each a few operations on two atomics and two mutexes. Each
// operation logs what it did right after doing it (in its own segment), so
// the log orders the operations as they ran.
struct Op {
  int kind = 0;  // 0 load, 1 store, 2 fetch_add, 3 fetch_add under a mutex
  int object = 0;
  int value = 0;
};
using Program = std::vector<std::vector<Op>>;

struct Outcome {
  // Per object: its accesses in order, a read as the writes before it, so
  // two runs that differ only in the order of independent operations have
  // equal traces (a Mazurkiewicz trace of the logged operations).
  std::string trace;
  std::string final_state;  // each load's value, then the final values
};

// Reads within one object between two writes commute: each run of reads
// is sorted so their order does not split a trace.
std::string canonical(
    std::map<std::string, std::vector<std::string>>& accesses) {
  std::string trace;
  for (auto& [obj, list] : accesses) {
    std::size_t i = 0;
    while (i < list.size()) {
      std::size_t j = i;
      while (j < list.size() && list[j][0] == 'r') ++j;
      std::sort(list.begin() + static_cast<std::ptrdiff_t>(i),
                list.begin() + static_cast<std::ptrdiff_t>(j));
      i = j == i ? i + 1 : j;
    }
    trace += obj + ":";
    for (const auto& e : list) trace += e + " ";
  }
  return trace;
}

Outcome run_program(const Program& p) {
  Atomic<int> a[2];
  Mutex m[2];
  std::map<std::string, std::vector<std::string>> per_object;
  std::map<std::string, int> writes;
  std::map<std::pair<std::size_t, std::size_t>, int> reads;
  auto access = [&](const std::string& obj, bool write, std::size_t s,
                    std::size_t i) {
    const std::string who = std::to_string(s) + "." + std::to_string(i);
    if (write) {
      per_object[obj].push_back("w" + who);
      ++writes[obj];
    } else {
      per_object[obj].push_back("r" + who + "@" + std::to_string(writes[obj]));
    }
  };
  {
    std::vector<JoinHandle> hs;
    for (std::size_t s = 0; s < p.size(); ++s)
      hs.push_back(spawn([&, s] {
        for (std::size_t i = 0; i < p[s].size(); ++i) {
          const Op& op = p[s][i];
          Atomic<int>& x = a[op.object];
          const std::string obj = "a" + std::to_string(op.object);
          if (op.kind == 0) {
            const int v = x.load();
            access(obj, false, s, i);
            reads[{s, i}] = v;
          } else if (op.kind == 1) {
            x.store(op.value);
            access(obj, true, s, i);
          } else if (op.kind == 2) {
            x.fetch_add(op.value);
            access(obj, true, s, i);
          } else {
            Mutex& mu = m[op.value % 2];
            const std::string mo = "m" + std::to_string(op.value % 2);
            std::lock_guard lk(mu);
            access(mo, true, s, i);
            x.fetch_add(1);
            access(obj, true, s, i);
          }
        }
      }));
    for (auto& h : hs) h.join();
  }
  Outcome o;
  o.trace = canonical(per_object);
  for (const auto& [at, v] : reads) o.final_state += std::to_string(v) + ",";
  o.final_state +=
      "|" + std::to_string(a[0].load()) + "," + std::to_string(a[1].load());
  return o;
}

struct Search {
  std::uint64_t runs = 0;
  std::set<std::uint64_t> digests;
  std::set<std::string> traces;
  std::set<std::string> finals;
  std::size_t max_preemptions = 0;
};

RunLimits quiet_limits() {
  RunLimits l;
  l.spurious_wakeups = false;
  return l;
}

template <class S>
Search search(S& strategy, const Program& p) {
  Scheduler sched(quiet_limits());
  Search out;
  while (!strategy.finished()) {
    Outcome o;
    const RunResult r = sched.run(strategy, 0, [&] { o = run_program(p); });
    EXPECT_FALSE(r.failed()) << r.failure->message;
    ++out.runs;
    out.digests.insert(digest(r.schedule));
    out.traces.insert(o.trace);
    out.finals.insert(o.final_state);
    out.max_preemptions =
        std::max(out.max_preemptions, count_preemptions(r.schedule));
  }
  return out;
}

// Brute force, independent of DfsStrategy: every prefix of choice indices
// is run with ScriptStrategy; each run's schedule spawns the prefixes that
// differ from it at one later choice. Returns the number of leaves with at
// most `bound` preemptions (all if bound < 0), or 0 past `cap` runs.
std::uint64_t brute_force(const Program& p, int bound, std::uint64_t cap) {
  Scheduler sched(quiet_limits());
  std::vector<std::vector<std::uint32_t>> todo{{}};
  std::uint64_t leaves = 0, runs = 0;
  while (!todo.empty()) {
    if (++runs > cap) return 0;
    std::vector<std::uint32_t> prefix = std::move(todo.back());
    todo.pop_back();
    ScriptStrategy script(prefix);
    const RunResult r = sched.run(script, 0, [&] { run_program(p); });
    if (bound < 0 ||
        count_preemptions(r.schedule) <= static_cast<std::size_t>(bound))
      ++leaves;
    for (std::size_t i = prefix.size(); i < r.schedule.size(); ++i) {
      std::vector<std::uint32_t> next;
      for (std::size_t k = 0; k < i; ++k) next.push_back(r.schedule[k].chosen);
      for (std::uint32_t alt = 0; alt < r.schedule[i].count; ++alt) {
        if (alt == r.schedule[i].chosen) continue;
        next.push_back(alt);
        todo.push_back(next);
        next.pop_back();
      }
    }
  }
  return leaves;
}

// Two or three strands, a budget of four operations in all (a locked add
// counts two, so two of them can contend); the brute force's cap drops the
// programs whose trees are still too big.
Program random_program() {
  Program p(*rc::gen::inRange<std::size_t>(2, 4));
  int budget = 4;
  for (auto& strand : p) {
    const int n = *rc::gen::inRange(1, 3);
    for (int i = 0; i < n && budget > 0; ++i) {
      Op op;
      op.kind = *rc::gen::inRange(0, 4);
      op.object = *rc::gen::inRange(0, 2);
      op.value = *rc::gen::inRange(1, 3);
      budget -= op.kind == 3 ? 2 : 1;
      strand.push_back(op);
    }
  }
  return p;
}

constexpr std::uint64_t kBruteForceCap = 2000;

RC_GTEST_PROP(DporStrategy, DfsCountMatchesBruteForceAndDporCoversEveryTrace,
              ()) {
  const Program p = random_program();
  const std::uint64_t all = brute_force(p, -1, kBruteForceCap);
  RC_PRE(all != 0u);
  DfsStrategy dfs;
  const Search d = search(dfs, p);
  RC_ASSERT(d.runs == all);
  RC_ASSERT(d.digests.size() == d.runs);
  DporStrategy dpor;
  const Search r = search(dpor, p);
  RC_ASSERT(r.runs <= d.runs);
  for (std::uint64_t x : r.digests) RC_ASSERT(d.digests.count(x) == 1u);
  RC_ASSERT(r.traces == d.traces);
  RC_ASSERT(r.finals == d.finals);
}

RC_GTEST_PROP(DporStrategy, WithinABoundDporCoversEveryTraceDfsReaches, ()) {
  const Program p = random_program();
  const int bound = *rc::gen::inRange(0, 3);
  const std::uint64_t within = brute_force(p, bound, kBruteForceCap);
  RC_PRE(within != 0u);
  DfsStrategy dfs(bound);
  const Search d = search(dfs, p);
  RC_ASSERT(d.runs == within);
  DporStrategy dpor(bound);
  const Search r = search(dpor, p);
  RC_ASSERT(r.max_preemptions <= static_cast<std::size_t>(bound));
  for (std::uint64_t x : r.digests) RC_ASSERT(d.digests.count(x) == 1u);
  for (const std::string& t : d.traces) RC_ASSERT(r.traces.count(t) == 1u);
  for (const std::string& f : d.finals) RC_ASSERT(r.finals.count(f) == 1u);
}

// --- shards and checkpoints -----------------------------------------------
// Records every step DPOR takes (forced ones too) with the operation it
// ran, and gives the run's Mazurkiewicz trace under DPOR's own dependence
// (sim/choice.h's dependent(), program order, and a strand's first step
// after the step that created or woke it) as its lexicographic normal
// form: the linearization that always runs the lowest strand id it may.
class TraceRecorder final : public ForwardingStrategy {
 public:
  explicit TraceRecorder(Strategy& inner) : ForwardingStrategy(&inner) {}
  void begin(std::uint64_t seed) override {
    events_.clear();
    present_.clear();
    inner()->begin(seed);
  }
  std::uint32_t choose(const ChoicePoint& point) override {
    const std::uint32_t i = inner()->choose(point);
    if (point.is_value) {
      events_.push_back({point.current, PendingOp{}, true, i, {}});
      return i;
    }
    std::set<StrandId> now(point.strands.begin(), point.strands.end());
    if (point.current != kNoStrand && point.kind == ChoiceKind::kYield)
      now.insert(point.current);
    Event e{point.strands[i], point.pending(point.strands[i]), false, 0, {}};
    for (StrandId q : now)
      if (!present_.count(q) && !events_.empty()) woken_[q] = events_.size();
    present_ = now;
    if (auto w = woken_.find(e.strand); w != woken_.end()) {
      e.after.push_back(w->second - 1);
      woken_.erase(w);
    }
    events_.push_back(e);
    return i;
  }
  std::string trace() const {
    const std::size_t n = events_.size();
    std::vector<std::vector<std::size_t>> preds(n);
    for (std::size_t j = 0; j < n; ++j) {
      preds[j] = events_[j].after;
      for (std::size_t k = 0; k < j; ++k) {
        const Event& a = events_[k];
        const Event& b = events_[j];
        if (a.strand == b.strand ||
            (!a.value && !b.value && dependent(a.strand, a.op, b.strand, b.op)))
          preds[j].push_back(k);
      }
    }
    std::vector<bool> done(n, false);
    std::string out;
    for (std::size_t emitted = 0; emitted < n; ++emitted) {
      std::size_t best = n;
      for (std::size_t j = 0; j < n; ++j) {
        if (done[j]) continue;
        bool ready = true;
        for (std::size_t k : preds[j]) ready = ready && done[k];
        if (ready && (best == n || events_[j].strand < events_[best].strand))
          best = j;
      }
      done[best] = true;
      const Event& e = events_[best];
      out += std::to_string(e.strand) +
             (e.value ? "=" + std::to_string(e.chosen) : "") + " ";
    }
    return out;
  }

 private:
  struct Event {
    StrandId strand;
    PendingOp op;
    bool value;
    std::uint32_t chosen;
    std::vector<std::size_t> after;  // events it must follow besides
  };
  std::vector<Event> events_;
  std::set<StrandId> present_;
  std::map<StrandId, std::size_t> woken_;  // by strand: events before
};

// One shard's runs: the traces of those it counts and did not end asleep
// (complete runs), how many it counted, and every run_program trace (on
// the logged accesses) it reached.
struct ShardRuns {
  std::multiset<std::string> complete;
  std::set<std::string> outcomes;  // run_program's traces
  std::uint64_t counted = 0;
};

// total 0: unsharded.
ShardRuns shard_runs(int bound, const Program& p, std::uint64_t index,
                     std::uint64_t total) {
  DporStrategy dpor(bound);
  if (total > 0) dpor.split(index, total);
  TraceRecorder recorder(dpor);
  Scheduler sched(quiet_limits());
  ShardRuns out;
  while (!dpor.finished()) {
    Outcome o;
    sched.run(recorder, 0, [&] { o = run_program(p); });
    if (!dpor.counts_last()) continue;
    ++out.counted;
    out.outcomes.insert(o.trace);
    if (!dpor.last_run_redundant()) out.complete.insert(recorder.trace());
  }
  return out;
}

// Unbounded: the shards' complete runs are pairwise inequivalent (no trace
// twice, within a shard or across shards) and together they are every
// trace the unsharded search reaches.
RC_GTEST_PROP(DporShards, ShardsRunDisjointTracesThatCoverTheUnshardedOnes,
              ()) {
  const Program p = random_program();
  RC_PRE(brute_force(p, -1, kBruteForceCap) != 0u);
  const ShardRuns whole = shard_runs(DporStrategy::kUnbounded, p, 0, 0);
  const std::set<std::string> unsharded(whole.complete.begin(),
                                        whole.complete.end());
  const std::uint64_t total = *rc::gen::inRange<std::uint64_t>(2, 6);
  std::multiset<std::string> all;
  std::set<std::string> outcomes;
  std::uint64_t counted = 0;
  for (std::uint64_t i = 0; i < total; ++i) {
    const ShardRuns r = shard_runs(DporStrategy::kUnbounded, p, i, total);
    all.insert(r.complete.begin(), r.complete.end());
    outcomes.insert(r.outcomes.begin(), r.outcomes.end());
    counted += r.counted;
  }
  const std::set<std::string> distinct(all.begin(), all.end());
  RC_ASSERT(distinct.size() == all.size());
  RC_ASSERT(distinct == unsharded);
  RC_ASSERT(outcomes == whole.outcomes);
  RC_ASSERT(counted == whole.counted);
}

// Bounded or not, in 1 to 4 shards: the shards' counts add up to the
// count of one process searching the whole tree.
RC_GTEST_PROP(DporShards, ShardsCountsAddUpToTheUnshardedCount, ()) {
  const Program p = random_program();
  RC_PRE(brute_force(p, -1, kBruteForceCap) != 0u);
  const int bound = *rc::gen::element(DporStrategy::kUnbounded, 0, 1, 2);
  const std::uint64_t whole = shard_runs(bound, p, 0, 0).counted;
  const std::uint64_t total = *rc::gen::inRange<std::uint64_t>(1, 5);
  std::uint64_t counted = 0;
  for (std::uint64_t i = 0; i < total; ++i)
    counted += shard_runs(bound, p, i, total).counted;
  RC_ASSERT(counted == whole);
}

// Within a bound: the shards together reach every trace a bounded DFS
// reaches, as the unsharded search does.
RC_GTEST_PROP(DporShards, WithinABoundShardsCoverEveryTraceDfsReaches, ()) {
  const Program p = random_program();
  const int bound = *rc::gen::inRange(0, 3);
  RC_PRE(brute_force(p, bound, kBruteForceCap) != 0u);
  DfsStrategy dfs(bound);
  const Search d = search(dfs, p);
  const std::uint64_t total = *rc::gen::inRange<std::uint64_t>(2, 6);
  std::set<std::string> reached;
  for (std::uint64_t i = 0; i < total; ++i) {
    const ShardRuns r = shard_runs(bound, p, i, total);
    reached.insert(r.outcomes.begin(), r.outcomes.end());
  }
  for (const std::string& t : d.traces) RC_ASSERT(reached.count(t) == 1u);
}

// The digests of the schedules `s` runs: at most `n`, or to its end.
std::vector<std::uint64_t> digests(DporStrategy& s,
                                   const std::function<void()>& body,
                                   std::uint64_t n = UINT64_MAX) {
  Scheduler sched(RunLimits{});
  std::vector<std::uint64_t> out;
  for (std::uint64_t i = 0; i < n && !s.finished(); ++i)
    out.push_back(digest(sched.run(s, i, body).schedule));
  return out;
}

// Cut anywhere, saved, restored into a fresh strategy: the resumed search
// runs exactly the rest of the uninterrupted one's schedules, sharded or
// not, bounded or not.
RC_GTEST_PROP(DporCheckpoint,
              AResumedSearchRunsExactlyTheSchedulesOfAnUninterruptedOne, ()) {
  const Program p = random_program();
  RC_PRE(brute_force(p, -1, kBruteForceCap) != 0u);
  const int bound = *rc::gen::element(DporStrategy::kUnbounded, 0, 1, 2);
  const std::uint64_t total = *rc::gen::inRange<std::uint64_t>(1, 4);
  const std::uint64_t index = *rc::gen::inRange<std::uint64_t>(0, total);
  const auto body = [&] { run_program(p); };
  DporStrategy whole(bound);
  whole.split(index, total);
  const auto all = digests(whole, body);
  const std::uint64_t cut = *rc::gen::inRange<std::uint64_t>(0, all.size() + 1);
  DporStrategy first(bound);
  first.split(index, total);
  auto runs = digests(first, body, cut);
  DporStrategy resumed(bound);
  resumed.split(index, total);
  resumed.restore(*first.save(), 0);
  const auto rest = digests(resumed, body);
  runs.insert(runs.end(), rest.begin(), rest.end());
  RC_ASSERT(runs == all);
  RC_ASSERT(resumed.schedules() == whole.schedules());
}

TEST(DporCheckpoint, ACheckpointOfAnotherShardOrACorruptOneIsRefused) {
  DporStrategy dpor(2);
  dpor.split(1, 3);
  const std::function<void()> body = [] { test::reorder_fixed(3); };
  digests(dpor, body, 5);
  const std::string state = *dpor.save();
  DporStrategy other(2);
  other.split(0, 3);
  EXPECT_THROW(other.restore(state, 0), StateError);
  DporStrategy same(2);
  same.split(1, 3);
  for (std::size_t cut = 0; cut < state.size(); cut += 7)
    EXPECT_THROW(same.restore(state.substr(0, cut), 0), StateError) << cut;
}

std::uint32_t u32_at(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = v << 8 | static_cast<std::uint8_t>(s[at + static_cast<std::size_t>(i)]);
  return v;
}

// An unsharded walk saved before every search expanded its first contested
// node fully had that node unmarked: with the split flag (8) cleared there,
// the state is refused at that node's offset.
TEST(DporCheckpoint, AWalkWhoseFirstContestedNodeIsNotTheSplitIsRefused) {
  DporStrategy dpor(2);
  const std::function<void()> body = [] { test::reorder_fixed(3); };
  digests(dpor, body, 5);
  std::string state = *dpor.save();
  std::size_t at = 1 + 6 * 8 + 4;  // flags, counters, node count
  std::size_t split_at = 0;
  for (std::uint32_t i = 0, n = u32_at(state, at - 4); i < n; ++i) {
    if ((state[at + 1] & 8) != 0) split_at = at;
    const std::uint32_t enabled = u32_at(state, at + 14);
    const std::size_t bt = at + 18 + 4 * std::size_t{enabled};
    at = bt + 4 + 4 * std::size_t{u32_at(state, bt)} + 4;
  }
  ASSERT_EQ(at, state.size());
  ASSERT_NE(split_at, 0u) << "the unsharded walk has a split node";
  DporStrategy fresh(2);
  EXPECT_NO_THROW(fresh.restore(state, 0));
  state[split_at + 1] = static_cast<char>(state[split_at + 1] & ~8);
  DporStrategy older(2);
  try {
    older.restore(state, 0);
    ADD_FAILURE() << "restored a walk without its split node";
  } catch (const StateError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("not the split one"));
    EXPECT_EQ(e.offset(), split_at);
  }
}

// --- the SCTBench-style programs ------------------------------------------
// The fixed forms are the suite's (tests/support/sctbench_programs.h).
using test::reorder_fixed;
using test::twostage_fixed;

ExploreResult exhaustive(const char* strategy, int bound,
                         const std::function<void()>& body) {
  ExploreOptions o;
  o.strategy = strategy;
  o.preemption_bound = bound;
  o.iterations = 10'000'000;
  o.use_environment = false;
  o.print = false;
  o.trace_dir = "";
  o.shrink = false;
  return explore(o, body);
}

TEST(DporStrategy, ProvesTheFixedProgramsWithinTwoPreemptionsInFewerSchedules) {
  const std::pair<const char*, std::function<void()>> programs[] = {
      {"reorder_3 fixed", [] { reorder_fixed(3); }},
      {"twostage_3 fixed", [] { twostage_fixed(3); }},
  };
  for (const auto& [name, body] : programs) {
    const ExploreResult dfs = exhaustive("dfs", 2, body);
    const ExploreResult dpor = exhaustive("dpor", 2, body);
    std::cout << name << " at bound 2: dfs " << dfs.schedules << ", dpor "
              << dpor.schedules << "\n  " << dpor.summary << "\n";
    ASSERT_FALSE(dfs.failed()) << name;
    ASSERT_FALSE(dpor.failed()) << name;
    EXPECT_TRUE(dfs.exhausted && dpor.exhausted) << name;
    EXPECT_LT(dpor.schedules * 2, dfs.schedules) << name;
    EXPECT_LE(dpor.max_preemptions, 2u) << name;
  }
}

// The lines docs/guide.md shows under "Proving a fix within a bound".
TEST(DporStrategy, TheGuidesPassLinesAreThese) {
  // Printed too: the guide's block is checked against this output
  // (doc_output_dpor_pass_lines).
  const std::string dfs =
      exhaustive("dfs", 2, [] { reorder_fixed(3); }).summary;
  const std::string dpor =
      exhaustive("dpor", 2, [] { reorder_fixed(3); }).summary;
  std::cout << dfs << "\n" << dpor << "\n";
  EXPECT_EQ(dfs,
            "weft: 5512 schedules passed (dfs 5512; 5512 distinct; at most 2 "
            "preemptions): every schedule within 2 preemptions");
  EXPECT_EQ(dpor,
            "weft: 1777 schedules passed (dpor 1777; 1777 distinct; at most 2 "
            "preemptions): every schedule within 2 preemptions up to the order "
            "of independent operations (DPOR pruned 7% of the alternatives at "
            "contested choice points)");
}

// The table of the report: schedules dfs and dpor need to cover the fixed
// programs at preemption bound 2, and to find the unfixed ones' bugs.
// Opt-in (WEFT_DPOR_COUNTS=1): N = 4 takes half a minute.
TEST(DporStrategy, CountsBesideDfsOnTheSctbenchPrograms) {
  if (std::getenv("WEFT_DPOR_COUNTS") == nullptr)
    GTEST_SKIP() << "set WEFT_DPOR_COUNTS=1 to print the table";
  for (int n : {3, 4}) {
    const std::pair<std::string, std::function<void()>> programs[] = {
        {"reorder_" + std::to_string(n) + " fixed", [n] { reorder_fixed(n); }},
        {"twostage_" + std::to_string(n) + " fixed",
         [n] { twostage_fixed(n); }},
        {"reorder_" + std::to_string(n), [n] { test::reorder(n); }},
        {"twostage_" + std::to_string(n), [n] { test::twostage(n); }},
    };
    for (const auto& [name, body] : programs) {
      const ExploreResult dfs = exhaustive("dfs", 2, body);
      const ExploreResult dpor = exhaustive("dpor", 2, body);
      std::cout << name << ": dfs " << dfs.schedules
                << (dfs.failed() ? " (bug found)" : " (all passed)")
                << ", dpor " << dpor.schedules
                << (dpor.failed() ? " (bug found)" : " (all passed)") << "\n";
    }
  }
}

TEST(DporStrategy, FindsTheBugsOfTheUnfixedPrograms) {
  for (int bound : {DporStrategy::kUnbounded, 2}) {
    const ExploreResult r = exhaustive("dpor", bound, [] { test::reorder(3); });
    EXPECT_TRUE(r.failed()) << bound;
    const ExploreResult t =
        exhaustive("dpor", bound, [] { test::twostage(3); });
    EXPECT_TRUE(t.failed()) << bound;
    EXPECT_EQ(t.environment,
              bound < 0 ? "WEFT_STRATEGY=dpor"
                        : "WEFT_STRATEGY=dpor WEFT_PREEMPTION_BOUND=2");
  }
}

TEST(DporStrategy, APassSaysItIsExhaustiveAndHowMuchItPruned) {
  const ExploreResult r = exhaustive("dpor", 2, [] { reorder_fixed(3); });
  ASSERT_TRUE(r.exhausted);
  EXPECT_THAT(r.summary,
              ::testing::MatchesRegex(
                  "weft: [0-9]+ schedules passed \\(dpor [0-9]+; [0-9]+ "
                  "distinct; at most [0-2] preemptions\\): every schedule "
                  "within 2 preemptions up to the order of independent "
                  "operations \\(DPOR pruned [0-9]+% of the alternatives at "
                  "contested choice points\\)"));
}

TEST(DporStrategy, TheSameSearchMakesTheSameSchedules) {
  for (int bound : {DporStrategy::kUnbounded, 1}) {
    std::vector<std::uint64_t> first, second;
    for (auto* out : {&first, &second}) {
      DporStrategy dpor(bound);
      Scheduler sched(RunLimits{});
      // Store buffering with a locked add beside it.
      const Program p{{Op{1, 0, 1}, Op{0, 1, 0}},
                      {Op{1, 1, 1}, Op{0, 0, 0}},
                      {Op{3, 0, 1}}};
      while (!dpor.finished())
        out->push_back(
            digest(sched.run(dpor, 0, [&] { run_program(p); }).schedule));
    }
    EXPECT_EQ(first, second);
    EXPECT_GT(first.size(), 1u);
  }
}

}  // namespace
}  // namespace weft::sim
