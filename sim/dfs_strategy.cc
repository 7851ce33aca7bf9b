#include "sim/dfs_strategy.h"

namespace weft::sim {
namespace {

// Delays of picking alternative `i`: its distance in round-robin order from
// the strand a round-robin scheduler runs (the current one if enabled,
// else the first with a larger id, wrapping).
std::uint32_t delay_cost(const ChoicePoint& point, std::uint32_t i) {
  if (point.is_value) return 0;
  std::uint32_t start = 0;
  while (start < point.count && point.strands[start] < point.current) ++start;
  if (start == point.count) start = 0;
  return (i + point.count - start) % point.count;
}

}  // namespace

void DfsStrategy::begin(std::uint64_t) {
  depth_ = 0;
  preemptions_ = 0;
  delays_ = 0;
}

DfsStrategy::Frame DfsStrategy::open(const ChoicePoint& point) const {
  Frame f{point.kind, point.is_value, point.count, -1, {}, {}, 0};
  if (point.is_value) {
    for (std::uint32_t v = 0; v < point.count; ++v) f.order.push_back(v);
    f.delay.assign(point.count, 0);
    return f;
  }
  for (std::uint32_t i = 0; i < point.count; ++i)
    if (point.strands[i] == point.current) f.current = i;
  const bool may_preempt =
      bound_ == kUnbounded || preemptions_ < bound_ || f.current < 0;
  auto add = [&](std::uint32_t i) {
    const std::uint32_t d = delay_cost(point, i);
    if (delay_bound_ != kUnbounded &&
        delays_ + static_cast<int>(d) > delay_bound_)
      return;
    f.order.push_back(i);
    f.delay.push_back(d);
  };
  if (f.current >= 0) add(static_cast<std::uint32_t>(f.current));
  for (std::uint32_t i = 0; i < point.count; ++i)
    if (static_cast<std::int64_t>(i) != f.current && may_preempt) add(i);
  return f;
}

std::uint32_t DfsStrategy::choose(const ChoicePoint& point) {
  if (depth_ == path_.size()) {
    Frame f = open(point);
    // Fewer alternatives than offered: the bound cut some off.
    if (f.order.size() < point.count) bound_reached_ = true;
    path_.push_back(std::move(f));
  }
  const Frame& f = path_[depth_];
  if (f.kind != point.kind || f.is_value != point.is_value ||
      f.count != point.count)
    throw ReplayDivergence(
        "exhaustive search: at choice " + std::to_string(depth_) +
        " the body offered " + std::to_string(point.count) + " " +
        std::string(to_string(point.kind)) +
        " alternatives where an earlier "
        "schedule with the same choices offered " +
        std::to_string(f.count) + " " + std::string(to_string(f.kind)) +
        "; the body depends on something outside weft's control");
  const std::uint32_t chosen = f.order[f.next];
  if (f.current >= 0 && static_cast<std::int64_t>(chosen) != f.current)
    ++preemptions_;
  delays_ += static_cast<int>(f.delay[f.next]);
  ++depth_;
  return chosen;
}

void DfsStrategy::end(std::uint64_t) {
  ++schedules_;
  // Frames past this schedule's depth were never reached by it.
  path_.resize(depth_);
  while (!path_.empty() && path_.back().next + 1 >= path_.back().order.size())
    path_.pop_back();
  if (path_.empty()) {
    done_ = true;
    return;
  }
  ++path_.back().next;
}

std::string DfsStrategy::environment() const {
  std::string env = "WEFT_STRATEGY=dfs";
  if (bound_ != kUnbounded)
    env += " WEFT_PREEMPTION_BOUND=" + std::to_string(bound_);
  if (delay_bound_ != kUnbounded)
    env += " WEFT_DELAY_BOUND=" + std::to_string(delay_bound_);
  return env;
}

std::string DfsStrategy::coverage_note() const {
  if (delay_bound_ == kUnbounded) return {};  // the summary's default words
  std::string s = "every schedule within ";
  if (bound_ != kUnbounded) s += std::to_string(bound_) + " preemptions and ";
  return s + std::to_string(delay_bound_) + " delays";
}

}  // namespace weft::sim
