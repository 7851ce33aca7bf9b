// PCT keeps the enabled set incrementally (Strategy::runnable_changed,
// PriorityList) and DFS computes its alternatives, so a choice costs O(log n)
// in the number of strands. These tests hold them to the schedules of the plain
// versions that scanned every enabled strand at every choice point (kept
// here, as they were, as the reference): the same seed must give the same
// schedule on any program, and so must a strategy that is never told of the
// runnable set (a wrapper that does not forward the call).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "sim/dfs_strategy.h"
#include "sim/priority_list.h"
#include "sim/scheduler.h"
#include "sim/strategy.h"
#include "sim/surw_strategy.h"
#include "sim/weft.h"
#include "tests/sim/reference_surw.h"
#include "tests/support/sctbench_programs.h"

namespace weft::sim {
namespace {

// PCT as it was: a vector of priorities scanned at every choice point.
class ReferencePct final : public Strategy {
 public:
  explicit ReferencePct(int depth) : depth_(depth) {}
  void begin(std::uint64_t seed) override {
    rng_.reseed(seed);
    order_.clear();
    change_points_.clear();
    choices_ = 0;
    for (int i = 1; i < depth_; ++i)
      change_points_.push_back(1 + rng_.below(steps_));
    std::sort(change_points_.begin(), change_points_.end());
  }
  std::uint32_t choose(const ChoicePoint& point) override {
    ++choices_;
    if (point.is_value)
      return static_cast<std::uint32_t>(rng_.below(point.count));
    for (StrandId id : point.strands) {
      if (std::find(order_.begin(), order_.end(), id) == order_.end()) {
        const auto pos = rng_.below(order_.size() + 1);
        order_.insert(order_.begin() + static_cast<std::ptrdiff_t>(pos), id);
      }
    }
    if (point.current != kNoStrand &&
        (point.kind == ChoiceKind::kYield ||
         std::binary_search(change_points_.begin(), change_points_.end(),
                            choices_))) {
      auto it = std::find(order_.begin(), order_.end(), point.current);
      if (it != order_.end()) order_.erase(it);
      order_.push_back(point.current);
    }
    for (StrandId id : order_) {
      auto it =
          std::lower_bound(point.strands.begin(), point.strands.end(), id);
      if (it != point.strands.end() && *it == id)
        return static_cast<std::uint32_t>(it - point.strands.begin());
    }
    return 0;
  }
  void end(std::uint64_t choices) override {
    steps_ = std::max(steps_, choices);
  }
  std::string name() const override { return "reference-pct"; }
  std::string environment() const override { return ""; }

 private:
  int depth_;
  std::uint64_t steps_ = 16;
  Rng rng_;
  std::vector<StrandId> order_;
  std::vector<std::uint64_t> change_points_;
  std::uint64_t choices_ = 0;
};

// DFS as it was: each frame listed its alternatives in the order tried.
class ReferenceDfs final : public Strategy {
 public:
  explicit ReferenceDfs(int bound) : bound_(bound) {}
  void begin(std::uint64_t) override {
    depth_ = 0;
    preemptions_ = 0;
  }
  std::uint32_t choose(const ChoicePoint& point) override {
    if (depth_ == path_.size()) path_.push_back(open(point));
    Frame& f = path_[depth_++];
    const std::uint32_t chosen = f.order[f.next];
    if (f.current >= 0 && static_cast<std::int64_t>(chosen) != f.current)
      ++preemptions_;
    return chosen;
  }
  void end(std::uint64_t) override {
    path_.resize(depth_);
    while (!path_.empty() && path_.back().next + 1 >= path_.back().order.size())
      path_.pop_back();
    if (path_.empty())
      done_ = true;
    else
      ++path_.back().next;
  }
  bool finished() const override { return done_; }
  std::string name() const override { return "reference-dfs"; }
  std::string environment() const override { return ""; }

 private:
  struct Frame {
    std::int64_t current = -1;
    std::vector<std::uint32_t> order;
    std::size_t next = 0;
  };
  Frame open(const ChoicePoint& point) const {
    Frame f;
    if (point.is_value) {
      for (std::uint32_t v = 0; v < point.count; ++v) f.order.push_back(v);
      return f;
    }
    for (std::uint32_t i = 0; i < point.count; ++i)
      if (point.strands[i] == point.current) f.current = i;
    if (f.current >= 0)
      f.order.push_back(static_cast<std::uint32_t>(f.current));
    const bool may_preempt = preemptions_ < bound_ || f.current < 0;
    for (std::uint32_t i = 0; i < point.count; ++i)
      if (static_cast<std::int64_t>(i) != f.current && may_preempt)
        f.order.push_back(i);
    return f;
  }
  int bound_;
  std::vector<Frame> path_;
  std::size_t depth_ = 0;
  int preemptions_ = 0;
  bool done_ = false;
};

// Hands every call on except runnable_changed: the wrapped strategy must
// notice that it does not know the runnable set and scan the strands.
class Untold final : public Strategy {
 public:
  explicit Untold(Strategy& inner) : inner_(inner) {}
  void begin(std::uint64_t seed) override { inner_.begin(seed); }
  std::uint32_t choose(const ChoicePoint& p) override {
    return inner_.choose(p);
  }
  void end(std::uint64_t choices) override { inner_.end(choices); }
  bool sees_forced_points() const override {
    return inner_.sees_forced_points();
  }
  std::string name() const override { return inner_.name(); }
  std::string environment() const override { return ""; }

 private:
  Strategy& inner_;
};

// A program from a list of small numbers: strands (spawned from main or
// from another strand) doing atomic stores, lock/unlock on two mutexes,
// yields (spin loops), sleeps, and condition-variable hand-offs, so strands
// block, wake, finish and yield in every order.
void program(const std::vector<std::uint8_t>& ops) {
  Mutex m[2];
  CondVar cv;
  Atomic<int> x{0};
  int flag = 0;
  auto work = [&](std::size_t from) {
    for (std::size_t i = from; i < ops.size() && i < from + 6; ++i) {
      switch (ops[i] % 6) {
        case 0:
          x.store(static_cast<int>(i));
          break;
        case 1: {
          std::lock_guard lock(m[ops[i] / 6 % 2]);
          x.store(1);
          break;
        }
        case 2:
          yield_now();
          break;
        case 3:
          sleep_for(std::chrono::milliseconds(ops[i] % 3));
          break;
        case 4: {
          std::lock_guard lock(m[0]);
          flag = 1;
          cv.notify_all();
          break;
        }
        default: {
          std::unique_lock lock(m[0]);
          if (flag == 0) cv.wait_for(lock, std::chrono::milliseconds(1));
        }
      }
    }
  };
  std::vector<JoinHandle> strands;
  for (std::size_t s = 0; s < ops.size(); s += 3) {
    if (ops[s] % 7 == 6 && !strands.empty()) {
      strands.push_back(spawn("nest", [&, s] {
        auto child = spawn("child", [&, s] { work(s + 1); });
        work(s);
        child.join();
      }));
    } else {
      strands.push_back(spawn("s", [&, s] { work(s); }));
    }
  }
  work(0);
  for (auto& h : strands) h.join();
}

// Whether `schedules` schedules of `ops` (seeds first_seed, first_seed + 1,
// ...) under each strategy made the same choices.
bool same_schedules(Strategy& a, Strategy& b,
                    const std::vector<std::uint8_t>& ops,
                    std::uint64_t first_seed, int schedules) {
  RunLimits limits;
  limits.spurious_wakeups = true;
  Scheduler sched_a(limits), sched_b(limits);
  for (int i = 0; i < schedules && !a.finished(); ++i) {
    const std::uint64_t seed = first_seed + static_cast<std::uint64_t>(i);
    const auto ra = sched_a.run(a, seed, [&] { program(ops); });
    const auto rb = sched_b.run(b, seed, [&] { program(ops); });
    if (ra.schedule != rb.schedule || ra.failed() != rb.failed()) return false;
  }
  return true;
}

RC_GTEST_PROP(IncrementalStrategies, PctMakesThePlainPctsSchedules,
              (std::vector<std::uint8_t> ops, std::uint64_t seed)) {
  const int depth = 1 + static_cast<int>(seed % 4);
  PctStrategy pct(depth);
  ReferencePct reference(depth);
  RC_ASSERT(same_schedules(pct, reference, ops, seed, 4));
}

RC_GTEST_PROP(IncrementalStrategies, PctUntoldOfTheRunnableSetScansAlike,
              (std::vector<std::uint8_t> ops, std::uint64_t seed)) {
  PctStrategy pct(3);
  Untold untold(pct);
  ReferencePct reference(3);
  RC_ASSERT(same_schedules(untold, reference, ops, seed, 3));
}

RC_GTEST_PROP(IncrementalStrategies, DfsWalksTheTreeInThePlainDfsOrder,
              (std::vector<std::uint8_t> ops)) {
  if (ops.size() > 7) ops.resize(7);
  const int bound = static_cast<int>(ops.size() % 3);
  DfsStrategy dfs(bound);
  ReferenceDfs reference(bound);
  RC_ASSERT(same_schedules(dfs, reference, ops, 0, 300));
  RC_ASSERT(dfs.finished() == reference.finished());
}

// SURW in O(log n) makes the schedules the scanning SURW made (its
// profile learned alike from schedule to schedule), told of the runnable
// set or not.
RC_GTEST_PROP(IncrementalStrategies, SurwMakesThePlainSurwsSchedules,
              (std::vector<std::uint8_t> ops, std::uint64_t seed)) {
  SurwStrategy surw;
  test::ReferenceSurw reference;
  RC_ASSERT(same_schedules(surw, reference, ops, seed, 6));
}

RC_GTEST_PROP(IncrementalStrategies, SurwUntoldOfTheRunnableSetScansAlike,
              (std::vector<std::uint8_t> ops, std::uint64_t seed)) {
  SurwStrategy surw;
  Untold untold(surw);
  test::ReferenceSurw reference;
  RC_ASSERT(same_schedules(untold, reference, ops, seed, 4));
}

// On the SCTBench-style programs, bad and fixed, up to 50 strands.
TEST(IncrementalStrategies, SurwMakesThePlainSurwsSchedulesOnTheSctbenchSuite) {
  for (const char* name :
       {"reorder_10", "reorder_50", "twostage_10", "twostage_50", "account",
        "deadlock01", "token_ring", "carter01", "circular_buffer",
        "bluetooth_driver", "work_steal_queue", "wronglock"}) {
    const auto p = weft::test::find_sct_program(name);
    ASSERT_TRUE(p.has_value()) << name;
    for (const auto* body : {&p->bad, &p->fixed}) {
      SurwStrategy surw;
      test::ReferenceSurw reference;
      Scheduler a(RunLimits{}), b(RunLimits{});
      for (std::uint64_t seed = 0; seed < 60; ++seed)
        ASSERT_EQ(a.run(surw, seed, *body).schedule,
                  b.run(reference, seed, *body).schedule)
            << name << ", seed " << seed;
    }
  }
}

TEST(IncrementalStrategies, SurwMatchesThePlainOneWithTwoHundredStrands) {
  std::vector<std::uint8_t> ops;
  for (int i = 0; i < 600; ++i)
    ops.push_back(static_cast<std::uint8_t>(i * 37 % 251));
  SurwStrategy surw;
  test::ReferenceSurw reference;
  EXPECT_TRUE(same_schedules(surw, reference, ops, 7, 4));
}

// Many strands, few operations each: the spawn-heavy shape of reorder_N.
TEST(IncrementalStrategies, PctMatchesThePlainOneWithTwoHundredStrands) {
  std::vector<std::uint8_t> ops;
  for (int i = 0; i < 600; ++i)
    ops.push_back(static_cast<std::uint8_t>(i * 37 % 251));
  PctStrategy pct(3);
  ReferencePct reference_pct(3);
  EXPECT_TRUE(same_schedules(pct, reference_pct, ops, 7, 3));
}

RC_GTEST_PROP(PriorityList, FollowsAVectorModel,
              (std::vector<std::uint32_t> script)) {
  PriorityList list;
  std::vector<StrandId> model;
  std::vector<bool> enabled(16, false);
  for (std::uint32_t op : script) {
    const StrandId id = op / 4 % 16;
    switch (op % 4) {
      case 0:
        if (!list.contains(id)) {
          const std::size_t pos = op / 64 % (model.size() + 1);
          list.insert(pos, id, enabled[id]);
          model.insert(model.begin() + static_cast<std::ptrdiff_t>(pos), id);
        }
        break;
      case 1:
        list.move_to_back(id, enabled[id]);
        std::erase(model, id);
        model.push_back(id);
        break;
      default:
        enabled[id] = op % 4 == 2;
        list.set_enabled(id, enabled[id]);
    }
    RC_ASSERT(list.size() == model.size());
    StrandId first = kNoStrand;
    for (StrandId m : model)
      if (enabled[m]) {
        first = m;
        break;
      }
    RC_ASSERT(list.first_enabled() == first);
    RC_ASSERT(list.first_where([&](StrandId s) { return enabled[s]; }) ==
              first);
  }
}

}  // namespace
}  // namespace weft::sim
