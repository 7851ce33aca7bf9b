#include "sim/strategy.h"

#include <algorithm>

namespace weft::sim {
std::uint32_t non_preempting(const ChoicePoint& point) {
  if (point.is_value) return 0;
  const std::uint32_t i = RunnableView::index_of(point, point.current);
  return i < point.count ? i : 0;
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
  runnable_.clear();
  unseen_.clear();
  stale_ = true;
  change_points_.clear();
  choices_ = 0;
  steps_this_run_ = steps_;
  for (int i = 1; i < depth_; ++i)
    change_points_.push_back(1 + rng_.below(steps_this_run_));
  std::sort(change_points_.begin(), change_points_.end());
}

namespace {

void erase_sorted(std::vector<StrandId>& v, StrandId id) {
  auto it = std::lower_bound(v.begin(), v.end(), id);
  if (it != v.end() && *it == id) v.erase(it);
}

}  // namespace

void PctStrategy::runnable_changed(StrandId id, bool runnable) {
  stale_ = true;
  runnable_.set(id, runnable);
  if (order_.contains(id)) {
    order_.set_enabled(id, runnable);
  } else if (runnable) {
    // Ids come in creation order, so this is nearly always an append.
    unseen_.insert(std::lower_bound(unseen_.begin(), unseen_.end(), id), id);
  } else {
    erase_sorted(unseen_, id);
  }
}

// A strand seen for the first time enters at a random priority.
void PctStrategy::enter(StrandId id, bool enabled) {
  stale_ = true;
  order_.insert(rng_.below(order_.size() + 1), id, enabled);
}

void PctStrategy::lower(StrandId id) {
  stale_ = true;
  order_.move_to_back(id, runnable_.runnable(id));
  erase_sorted(unseen_, id);
}

std::uint32_t PctStrategy::pick_highest(const ChoicePoint& point, bool fast) {
  if (fast) {
    if (!stale_ && best_index_ < point.count &&
        point.strands[best_index_] == best_)
      return best_index_;
    // The strand a yield leaves out was just lowered below every other
    // runnable one, so the first enabled strand is an offered one.
    best_ = order_.first_enabled();
    best_index_ = RunnableView::index_of(point, best_);
    stale_ = false;
    if (best_index_ < point.count) return best_index_;
  }
  // The plain path: the first strand in priority order that is offered.
  const StrandId id = order_.first_where([&](StrandId s) {
    return RunnableView::index_of(point, s) < point.count;
  });
  return id == kNoStrand ? 0 : RunnableView::index_of(point, id);
}

std::uint32_t PctStrategy::choose(const ChoicePoint& point) {
  ++choices_;
  if (point.is_value)
    return static_cast<std::uint32_t>(rng_.below(point.count));
  // Strands not seen before enter at a random priority, in id order. When
  // the runnable set is known, they are the unseen runnable strands offered.
  const bool fast = runnable_.matches(point);
  if (fast) {
    const StrandId left_out = runnable_.left_out(point);
    bool kept = false;
    for (StrandId id : unseen_) {
      if (id == left_out)
        kept = true;
      else
        enter(id, true);
    }
    unseen_.clear();
    if (kept) unseen_.push_back(left_out);
  } else {
    for (StrandId id : point.strands) {
      if (order_.contains(id)) continue;
      enter(id, runnable_.runnable(id));
      erase_sorted(unseen_, id);
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
  return pick_highest(point, fast);
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
