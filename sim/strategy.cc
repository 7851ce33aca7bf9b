#include "sim/strategy.h"

#include <algorithm>

namespace weft::sim {
std::uint32_t non_preempting(const ChoicePoint& point) {
  if (point.is_value) return 0;
  for (std::uint32_t i = 0; i < point.strands.size(); ++i)
    if (point.strands[i] == point.current) return i;
  return 0;
}

std::uint32_t RandomStrategy::choose(const ChoicePoint& point) {
  return static_cast<std::uint32_t>(rng_.below(point.count));
}

PctStrategy::PctStrategy(int depth, std::uint64_t fixed_steps)
    : depth_(depth < 1 ? 1 : depth),
      fixed_(fixed_steps != 0),
      steps_(fixed_steps != 0 ? fixed_steps : 16),
      steps_this_run_(steps_) {}

void PctStrategy::begin(std::uint64_t seed) {
  rng_.reseed(seed);
  order_.clear();
  change_points_.clear();
  choices_ = 0;
  steps_this_run_ = steps_;
  for (int i = 1; i < depth_; ++i)
    change_points_.push_back(1 + rng_.below(steps_this_run_));
  std::sort(change_points_.begin(), change_points_.end());
}

void PctStrategy::lower(StrandId id) {
  auto it = std::find(order_.begin(), order_.end(), id);
  if (it != order_.end()) order_.erase(it);
  order_.push_back(id);
}

std::uint32_t PctStrategy::choose(const ChoicePoint& point) {
  ++choices_;
  if (point.is_value)
    return static_cast<std::uint32_t>(rng_.below(point.count));
  // Strands not seen before enter at a random priority, in id order.
  for (StrandId id : point.strands) {
    if (std::find(order_.begin(), order_.end(), id) == order_.end()) {
      const auto pos = rng_.below(order_.size() + 1);
      order_.insert(order_.begin() + static_cast<std::ptrdiff_t>(pos), id);
    }
  }
  // A strand that yields is spinning on something another strand must do:
  // it goes to the bottom so spin loops cannot starve the others.
  if (point.kind == ChoiceKind::kYield && point.current != kNoStrand) {
    lower(point.current);
  } else if (point.current != kNoStrand &&
             std::binary_search(change_points_.begin(), change_points_.end(),
                                choices_)) {
    lower(point.current);
  }
  for (StrandId id : order_) {
    auto it = std::lower_bound(point.strands.begin(), point.strands.end(), id);
    if (it != point.strands.end() && *it == id)
      return static_cast<std::uint32_t>(it - point.strands.begin());
  }
  return 0;
}

void PctStrategy::end(std::uint64_t choices) {
  if (!fixed_) steps_ = std::max(steps_, choices);
}

std::string PctStrategy::environment() const {
  return "WEFT_STRATEGY=pct WEFT_PCT_DEPTH=" + std::to_string(depth_) +
         " WEFT_PCT_STEPS=" + std::to_string(steps_this_run_);
}

ReplayStrategy::ReplayStrategy(Schedule schedule, bool lenient_tail)
    : schedule_(std::move(schedule)), lenient_(lenient_tail) {}

std::string ReplayStrategy::describe(ChoiceKind kind, bool is_value,
                                     StrandId strand,
                                     std::uint32_t count) const {
  std::string who = namer_ != nullptr ? namer_(strand, namer_ctx_)
                                      : "#" + std::to_string(strand);
  std::string s = is_value ? "a " + std::string(to_string(kind)) + " value"
                           : "a " + std::string(to_string(kind));
  return s + " by strand '" + who + "' with " + std::to_string(count) +
         " alternatives";
}

std::uint32_t ReplayStrategy::choose(const ChoicePoint& point) {
  if (next_ >= schedule_.size()) {
    if (lenient_) return non_preempting(point);
    throw ReplayDivergence(
        "the recording ended after " + std::to_string(schedule_.size()) +
        " choices, but at step " + std::to_string(point.step) +
        " the program offered " +
        describe(point.kind, point.is_value, point.current, point.count));
  }
  const Choice& c = schedule_[next_++];
  if (c.kind != point.kind || c.is_value != point.is_value ||
      c.strand != point.current || c.count != point.count ||
      c.chosen >= point.count) {
    throw ReplayDivergence(
        "expected " + describe(c.kind, c.is_value, c.strand, c.count) +
        " at step " + std::to_string(c.step) + " (choice " +
        std::to_string(next_) + "), the program offered " +
        describe(point.kind, point.is_value, point.current, point.count) +
        " at step " + std::to_string(point.step));
  }
  if (!point.is_value && point.strands[c.chosen] != c.picked) {
    throw ReplayDivergence(
        "at step " + std::to_string(point.step) +
        " the recording picked strand '" +
        (namer_ ? namer_(c.picked, namer_ctx_) : std::to_string(c.picked)) +
        "', which the program did not offer among the enabled strands");
  }
  return c.chosen;
}

std::uint32_t ScriptStrategy::choose(const ChoicePoint& point) {
  if (next_ >= script_.size()) return non_preempting(point);
  return script_[next_++] % point.count;
}

}  // namespace weft::sim
