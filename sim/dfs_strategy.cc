#include "sim/dfs_strategy.h"

#include <algorithm>

namespace weft::sim {

void DfsStrategy::begin(std::uint64_t) {
  depth_ = 0;
  preemptions_ = 0;
  delays_ = 0;
}

DfsStrategy::Frame DfsStrategy::open(const ChoicePoint& point) const {
  Frame f{point.kind, point.is_value, point.count, -1, point.count, 0, 0, {}};
  if (point.is_value) return f;
  const std::uint32_t current = non_preempting(point);
  if (point.strands[current] == point.current) f.current = current;
  // Round-robin runs the current strand, else the next id after it.
  const auto it = std::lower_bound(point.strands.begin(), point.strands.end(),
                                   point.current);
  f.start = it == point.strands.end()
                ? 0
                : static_cast<std::uint32_t>(it - point.strands.begin());
  const bool may_preempt =
      bound_ == kUnbounded || preemptions_ < bound_ || f.current < 0;
  if (!may_preempt) f.tries = 1;
  if (delay_bound_ != kUnbounded) {
    std::vector<std::uint32_t> within;  // alternative() reads f.order
    for (std::uint32_t k = 0; k < f.tries; ++k) {
      const std::uint32_t i = alternative(f, k);
      if (delays_ + static_cast<int>(delay_cost(f, i)) <= delay_bound_)
        within.push_back(i);
    }
    f.order = std::move(within);
    f.tries = static_cast<std::uint32_t>(f.order.size());
  }
  return f;
}

std::uint32_t DfsStrategy::alternative(const Frame& f, std::size_t k) {
  if (!f.order.empty()) return f.order[k];
  const auto i = static_cast<std::uint32_t>(k);
  if (f.current < 0) return i;
  const auto current = static_cast<std::uint32_t>(f.current);
  if (i == 0) return current;
  return i - 1 < current ? i - 1 : i;
}

std::uint32_t DfsStrategy::delay_cost(const Frame& f, std::uint32_t i) {
  if (f.is_value) return 0;
  return (i + f.count - f.start) % f.count;
}

std::uint32_t DfsStrategy::choose(const ChoicePoint& point) {
  if (depth_ == path_.size()) {
    Frame f = open(point);
    // Fewer alternatives than offered: the bound cut some off.
    if (f.tries < point.count) bound_reached_ = true;
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
  const std::uint32_t chosen = alternative(f, f.next);
  if (f.current >= 0 && static_cast<std::int64_t>(chosen) != f.current)
    ++preemptions_;
  delays_ += static_cast<int>(delay_cost(f, chosen));
  ++depth_;
  return chosen;
}

void DfsStrategy::end(std::uint64_t) {
  ++schedules_;
  // Frames past this schedule's depth were never reached by it.
  path_.resize(depth_);
  while (!path_.empty() && path_.back().next + 1 >= path_.back().tries)
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
