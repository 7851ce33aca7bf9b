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
  share(f);
  return f;
}

void DfsStrategy::share(Frame& f) const {
  if (depth_ == 0) {
    f.group = shard_total_;
    f.rank = shard_index_;
  } else if (const Frame& up = path_[depth_ - 1];
             up.group > 1 && up.next == 0) {
    f.group = up.group;  // still on the spine
    f.rank = up.rank;
    f.offset = up.offset + up.tries - 1;
  }
  if (f.group > 1)  // side alternative k goes to shard (offset + k - 1) % n
    f.first = static_cast<std::uint32_t>(
        1 + (f.rank + f.group - f.offset % f.group) % f.group);
}

std::size_t DfsStrategy::after(const Frame& f) {
  if (f.group <= 1) return f.next + 1;
  const std::uint64_t k = f.next == 0 ? f.first : f.next + f.group;
  return k < f.tries ? static_cast<std::size_t>(k) : f.tries;
}

bool DfsStrategy::split(std::uint64_t index, std::uint64_t total) {
  shard_total_ = total == 0 ? 1 : total;
  shard_index_ = index < shard_total_ ? index : 0;
  return true;
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
  // The spine's schedules are every shard's: the first counts them.
  if (depth_ == 0)
    counts_last_ = shard_index_ == 0;
  else if (const Frame& f = path_[depth_ - 1]; f.group > 1 && f.next == 0)
    counts_last_ = f.rank == 0;
  else
    counts_last_ = true;
  // Frames past this schedule's depth were never reached by it.
  path_.resize(depth_);
  while (!path_.empty() && after(path_.back()) >= path_.back().tries)
    path_.pop_back();
  if (path_.empty()) {
    done_ = true;
    return;
  }
  path_.back().next = after(path_.back());
}

std::vector<std::uint32_t> DfsStrategy::order_key(
    const Schedule& schedule) const {
  std::vector<std::uint32_t> key;
  if (delay_bound_ != kUnbounded) return key;
  key.reserve(schedule.size());
  for (const Choice& c : schedule) {
    // The running strand is among the alternatives (at index c, the
    // strands being in id order) exactly when picking another preempts
    // it, except at a yield, which offers the others only.
    const bool running_offered =
        !c.is_value && c.kind != ChoiceKind::kYield && c.preemption;
    std::uint32_t rank = c.chosen;
    if (!c.is_value && !c.preemption && c.picked == c.strand)
      rank = 0;
    else if (running_offered && c.picked < c.strand)
      rank = c.chosen + 1;
    key.push_back(rank);
  }
  return key;
}

// Flags, the schedules run, the shard, then each open frame.
std::optional<std::string> DfsStrategy::save() const {
  StateWriter w;
  w.u8(static_cast<std::uint8_t>((done_ ? 1 : 0) | (bound_reached_ ? 2 : 0)));
  w.u64(schedules_);
  w.u64(shard_index_);
  w.u64(shard_total_);
  w.u32(static_cast<std::uint32_t>(path_.size()));
  for (const Frame& f : path_) {
    w.u8(static_cast<std::uint8_t>(f.kind));
    w.u8(f.is_value ? 1 : 0);
    w.u32(f.count);
    w.u32(static_cast<std::uint32_t>(f.current + 1));
    w.u32(f.tries);
    w.u32(f.start);
    w.u32(static_cast<std::uint32_t>(f.next));
    w.u32(f.first);
    w.u64(f.offset);
    w.u64(f.group);
    w.u64(f.rank);
    w.u32(static_cast<std::uint32_t>(f.order.size()));
    for (std::uint32_t i : f.order) w.u32(i);
  }
  return w.str();
}

DfsStrategy::Frame DfsStrategy::read_frame(StateReader& r) {
  Frame f{};
  const std::size_t at = r.offset();
  const std::uint8_t kind = r.u8("choice kind");
  if (kind >= kChoiceKindCount)
    throw StateError(at, "choice kind " + std::to_string(kind) + " unknown");
  f.kind = static_cast<ChoiceKind>(kind);
  const std::size_t value_at = r.offset();
  const std::uint8_t is_value = r.u8("value flag");
  if (is_value > 1) throw StateError(value_at, "value flag is not 0 or 1");
  f.is_value = is_value == 1;
  f.count = r.u32_at_most(1u << 24, "alternatives");
  f.current = static_cast<std::int64_t>(r.u32_at_most(f.count, "current")) - 1;
  f.tries = r.u32_at_most(f.count, "tries");
  f.start = r.u32_at_most(f.count, "round-robin start");
  const std::size_t next_at = r.offset();
  f.next = r.u32_at_most(f.count, "next alternative");
  f.first = r.u32("first alternative");
  f.offset = r.u64("offset");
  f.group = r.u64("group");
  f.rank = r.u64("rank");
  const bool spine = f.group > 1;
  if (f.tries == 0 || f.next >= f.tries || f.group == 0 || f.rank >= f.group ||
      f.group > (std::uint64_t{1} << 32) ||
      (spine && (f.first == 0 || f.first > f.group ||
                 (f.next != 0 &&
                  (f.next < f.first || (f.next - f.first) % f.group != 0)))))
    throw StateError(next_at, "inconsistent frame");
  const std::uint32_t order = r.u32_at_most(f.tries, "delay-bound order");
  if (order != 0 && order != f.tries)
    throw StateError(r.offset() - 4, "delay-bound order of the wrong size");
  for (std::uint32_t k = 0; k < order; ++k)
    f.order.push_back(r.u32_at_most(f.count - 1, "delay-bound alternative"));
  return f;
}

void DfsStrategy::restore(std::string_view state, std::size_t base) {
  StateReader r(state, base);
  const std::size_t flags_at = r.offset();
  const std::uint8_t flags = r.u8("flags");
  if (flags > 3) throw StateError(flags_at, "unknown flags");
  const std::uint64_t schedules = r.u64("schedules");
  const std::size_t shard_at = r.offset();
  if (r.u64("shard index") != shard_index_ ||
      r.u64("shard count") != shard_total_)
    throw StateError(shard_at, "saved by another shard");
  const std::uint32_t frames = r.u32_at_most(1u << 24, "frames");
  std::vector<Frame> path;
  for (std::uint32_t i = 0; i < frames; ++i) path.push_back(read_frame(r));
  if (!r.at_end()) throw StateError(r.offset(), "bytes after the last frame");
  if (((flags & 1) != 0) != path.empty())
    throw StateError(flags_at,
                     "a finished search with frames left, or the "
                     "reverse");
  done_ = (flags & 1) != 0;
  bound_reached_ = (flags & 2) != 0;
  schedules_ = schedules;
  path_ = std::move(path);
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
