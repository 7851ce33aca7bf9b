#include "sim/dpor_strategy.h"

#include <algorithm>

namespace weft::sim {
namespace {

bool contains(const std::vector<StrandId>& v, StrandId id) {
  return std::find(v.begin(), v.end(), id) != v.end();
}

std::uint32_t at(const std::vector<std::uint32_t>& clock, StrandId id) {
  return id < clock.size() ? clock[id] : 0;
}

void join_into(std::vector<std::uint32_t>& c,
               const std::vector<std::uint32_t>& other) {
  if (c.size() < other.size()) c.resize(other.size(), 0);
  for (std::size_t i = 0; i < other.size(); ++i)
    c[i] = std::max(c[i], other[i]);
}

void set_at(std::vector<std::int64_t>& v, StrandId id, std::int64_t value) {
  if (v.size() <= id) v.resize(id + 1, -1);
  v[id] = value;
}

std::int64_t get_at(const std::vector<std::int64_t>& v, StrandId id) {
  return id < v.size() ? v[id] : -1;
}

[[noreturn]] void diverged(std::size_t depth, const ChoicePoint& point) {
  throw ReplayDivergence(
      "dpor: at choice point " + std::to_string(depth) + " the body offered " +
      std::to_string(point.count) + " " + std::string(to_string(point.kind)) +
      " alternatives unlike an earlier schedule with the same choices; the "
      "body depends on something outside weft's control");
}

}  // namespace

bool DporStrategy::split(std::uint64_t index, std::uint64_t total) {
  shard_total_ = total == 0 ? 1 : total;
  shard_index_ = index < shard_total_ ? index : 0;
  return true;
}

void DporStrategy::begin(std::uint64_t) {
  split_seen_ = false;
  idle_run_ = false;
  depth_ = 0;
  preemptions_ = 0;
  blocked_ = false;
  events_.clear();
  sleep_next_.clear();
  present_.clear();
  appeared_after_.clear();
  last_event_.clear();
}

std::uint32_t DporStrategy::choose(const ChoicePoint& point) {
  if (point.is_value) return choose_value(point);
  note_appearances(point);
  const std::size_t index = depth_;
  Node& n = strand_node(point);
  const StrandId picked = n.backtrack[n.next];
  if (!n.dead) record_event(picked, point.pending(picked), index);
  // record_event may grow nothing in path_, so `n` is still valid.
  next_sleep(path_[index], picked, point);
  if (path_[index].current_enabled && picked != path_[index].current)
    ++preemptions_;
  ++depth_;
  const auto it = std::find(point.strands.begin(), point.strands.end(), picked);
  return static_cast<std::uint32_t>(it - point.strands.begin());
}

std::uint32_t DporStrategy::choose_value(const ChoicePoint& point) {
  if (depth_ < path_.size()) {
    const Node& n = path_[depth_];
    if (!n.is_value || n.kind != point.kind || n.count != point.count)
      diverged(depth_, point);
    split_seen_ = split_seen_ || n.split;
    ++depth_;
    return n.value;
  }
  Node n;
  n.is_value = true;
  n.kind = point.kind;
  n.count = point.count;
  n.dead = blocked_;  // a redundant run explores no values either
  if (!split_found_ && !n.dead && n.count >= 2) make_split(n);
  path_.push_back(std::move(n));
  ++depth_;
  return path_.back().value;
}

// A strand present now but not at the previous point was created or woken
// by the operation that ran in between: its next operation happens after
// that one.
void DporStrategy::note_appearances(const ChoicePoint& point) {
  std::vector<StrandId> now(point.strands.begin(), point.strands.end());
  if (point.kind == ChoiceKind::kYield && point.current != kNoStrand &&
      !contains(now, point.current))
    now.insert(std::lower_bound(now.begin(), now.end(), point.current),
               point.current);
  const std::int64_t last = static_cast<std::int64_t>(events_.size()) - 1;
  for (StrandId q : now)
    if (!std::binary_search(present_.begin(), present_.end(), q))
      set_at(appeared_after_, q, last);
  present_ = std::move(now);
}

DporStrategy::Node& DporStrategy::strand_node(const ChoicePoint& point) {
  if (depth_ < path_.size()) {
    Node& n = path_[depth_];
    if (n.is_value || n.kind != point.kind ||
        !std::equal(n.enabled.begin(), n.enabled.end(), point.strands.begin(),
                    point.strands.end()))
      diverged(depth_, point);
    n.sleep = sleep_next_;
    n.preemptions = preemptions_;
    split_seen_ = split_seen_ || n.split;
    return n;
  }
  Node n;
  n.kind = point.kind;
  n.count = point.count;
  n.enabled.assign(point.strands.begin(), point.strands.end());
  n.current = point.current;
  n.current_enabled = contains(n.enabled, point.current);
  n.sleep = sleep_next_;
  n.preemptions = preemptions_;
  const StrandId first = blocked_ ? kNoStrand : first_choice(n);
  if (first == kNoStrand) {
    // Every strand the search may run here is asleep: whatever follows is
    // equivalent to a schedule already run. Finish the run, branch nowhere.
    if (!blocked_) ++sleep_blocked_;
    blocked_ = true;
    n.dead = true;
    n.backtrack = {n.current_enabled ? n.current : n.enabled[0]};
  } else {
    n.backtrack = {first};
    std::uint32_t may = 0;
    for (StrandId q : n.enabled) may += allowed(n, q) ? 1 : 0;
    n.contested = may >= 2;
    if (n.contested && !split_found_) {
      make_split(n);
    } else if (n.contested) {
      offered_ += may;
      ++taken_;
    }
  }
  path_.push_back(std::move(n));
  return path_.back();
}

// The running strand if it may go on, else the first allowed one awake.
StrandId DporStrategy::first_choice(Node& n) {
  if (n.current_enabled && !contains(n.sleep, n.current)) return n.current;
  for (StrandId q : n.enabled) {
    if (contains(n.sleep, q)) continue;
    if (allowed(n, q)) return q;
    bound_reached_ = true;
  }
  return kNoStrand;
}

bool DporStrategy::allowed(const Node& n, StrandId q) const {
  return bound_ == kUnbounded || !n.current_enabled || q == n.current ||
         n.preemptions < bound_;
}

bool DporStrategy::happens_before(std::size_t a, std::size_t b) const {
  return at(events_[b].clock, events_[a].strand) >= events_[a].local;
}

// Appends the event `picked` runs now, with its vector clock, and reverses
// each race it completes (Algorithm 1's loop over e ⋖ next(p)).
void DporStrategy::record_event(StrandId picked, const PendingOp& op,
                                std::size_t node) {
  const std::int64_t last = get_at(last_event_, picked);
  Event ev{picked, op, node, 1, {}};
  if (last >= 0) {
    ev.clock = events_[static_cast<std::size_t>(last)].clock;
    ev.local = events_[static_cast<std::size_t>(last)].local + 1;
  }
  const std::int64_t cause = get_at(appeared_after_, picked);
  if (cause >= 0)
    join_into(ev.clock, events_[static_cast<std::size_t>(cause)].clock);
  set_at(appeared_after_, picked, -1);
  std::vector<std::size_t> races;
  for (std::size_t e = events_.size(); e-- > 0;) {
    const Event& other = events_[e];
    if (other.strand == picked) continue;
    if (at(ev.clock, other.strand) >= other.local) continue;
    if (!dependent(other.strand, other.op, picked, op)) continue;
    races.push_back(e);
    join_into(ev.clock, other.clock);
  }
  if (ev.clock.size() <= picked) ev.clock.resize(picked + 1, 0);
  ev.clock[picked] = ev.local;
  events_.push_back(std::move(ev));
  const std::size_t j = events_.size() - 1;
  set_at(last_event_, picked, static_cast<std::int64_t>(j));
  for (std::size_t e : races) reverse_race(e, j);
}

// The strands that can start v = notdep(e).j: the first operation of each
// strand in v that nothing earlier in v happens before.
std::vector<StrandId> DporStrategy::initials(std::size_t e,
                                             std::size_t j) const {
  std::vector<std::size_t> v;
  for (std::size_t k = e + 1; k < j; ++k)
    if (!happens_before(e, k)) v.push_back(k);
  v.push_back(j);
  std::vector<StrandId> seen, out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const StrandId q = events_[v[i]].strand;
    if (contains(seen, q)) continue;
    seen.push_back(q);
    bool first = true;
    for (std::size_t h = 0; h < i && first; ++h)
      if (happens_before(v[h], v[i])) first = false;
    if (first) out.push_back(q);
  }
  return out;
}

void DporStrategy::reverse_race(std::size_t e, std::size_t j) {
  const std::size_t m = events_[e].node;
  const Node& at_e = path_[m];
  const std::vector<StrandId> starts = initials(e, j);
  for (StrandId q : starts)
    if (contains(at_e.backtrack, q) || contains(at_e.sleep, q)) return;
  const StrandId p = events_[j].strand;
  StrandId pick = kNoStrand;
  if (contains(starts, p) && contains(at_e.enabled, p)) pick = p;
  for (std::size_t i = 0; pick == kNoStrand && i < starts.size(); ++i)
    if (contains(at_e.enabled, starts[i])) pick = starts[i];
  if (pick != kNoStrand) {
    add_backtrack(m, pick);
    return;
  }
  // None of them can run there (blocked then): every alternative.
  const std::vector<StrandId> all = at_e.enabled;
  for (StrandId q : all) add_backtrack(m, q);
}

// Adds `q` at node `m` if the bound allows. Under a bound, a `q` that
// preempts there is also added at the latest earlier node where running
// `q` costs no more preemptions than the path made (Coons et al.'s
// conservative point), so a reversal the bound cuts, or that would spend
// the budget early, is also tried from a cheaper place.
void DporStrategy::add_backtrack(std::size_t m, StrandId q) {
  const Node& at_m = path_[m];
  if (allowed(at_m, q)) {
    if (!contains(at_m.backtrack, q)) path_[m].backtrack.push_back(q);
  } else {
    bound_reached_ = true;
  }
  if (bound_ == kUnbounded || !at_m.current_enabled || q == at_m.current)
    return;
  for (std::size_t k = m; k-- > 0;) {
    Node& n = path_[k];
    if (n.is_value || n.dead || !contains(n.enabled, q)) continue;
    const StrandId was = n.backtrack[n.next];
    const bool cheap = !n.current_enabled || was != n.current || q == n.current;
    if (!cheap || !allowed(n, q)) continue;
    if (!contains(n.backtrack, q) && !contains(n.sleep, q))
      n.backtrack.push_back(q);
    return;
  }
}

// The next node's sleep set: strands asleep here or explored here before
// `picked`, whose operation commutes with the one `picked` runs.
void DporStrategy::next_sleep(const Node& n, StrandId picked,
                              const ChoicePoint& point) {
  sleep_next_.clear();
  // Under a bound sleep sets are off: a strand asleep here was explored
  // first only within the bound, which may not cover what it would do
  // later here (Musuvathi and Qadeer, 2007).
  if (n.dead || bound_ != kUnbounded) return;
  const PendingOp& op = point.pending(picked);
  auto consider = [&](StrandId r) {
    if (r == picked || contains(sleep_next_, r)) return;
    if (!dependent(r, point.pending(r), picked, op)) sleep_next_.push_back(r);
  };
  for (StrandId r : n.sleep) consider(r);
  for (std::size_t i = 0; i < n.next; ++i) consider(n.backtrack[i]);
}

// The first node with two or more alternatives, sharded or not: every
// alternative the bound allows, in the order one process tries them (the
// first choice, then the others by id), of which this shard takes every
// shard_total_-th from its index. A shard with none runs the first,
// uncounted, and stops.
void DporStrategy::make_split(Node& n) {
  split_found_ = true;
  split_seen_ = true;
  n.split = true;
  std::size_t alternatives = n.count;
  if (!n.is_value) {
    const StrandId first = n.backtrack[0];
    for (StrandId q : n.enabled)
      if (q != first && allowed(n, q)) n.backtrack.push_back(q);
    alternatives = n.backtrack.size();
  }
  if (shard_index_ >= alternatives) {
    idle_run_ = true;
    return;
  }
  if (n.is_value)
    n.value = static_cast<std::uint32_t>(shard_index_);
  else
    n.next = static_cast<std::size_t>(shard_index_);
  offered_ += (alternatives - shard_index_ + shard_total_ - 1) / shard_total_;
  ++taken_;
}

// Moves `b` to its next alternative; false if it has none left.
bool DporStrategy::advance(Node& b) {
  if (b.dead) return false;
  if (b.is_value) {
    const std::uint64_t step = b.split ? shard_total_ : 1;
    if (b.value + step >= b.count) return false;
    b.value += static_cast<std::uint32_t>(step);
    return true;
  }
  if (b.split) {  // every alternative, none asleep: the shard's next
    if (b.next + shard_total_ >= b.backtrack.size()) return false;
    b.next += static_cast<std::size_t>(shard_total_);
    ++taken_;
    return true;
  }
  while (++b.next < b.backtrack.size())
    if (!contains(b.sleep, b.backtrack[b.next])) {
      taken_ += b.contested ? 1 : 0;
      return true;
    }
  return false;
}

void DporStrategy::end(std::uint64_t) {
  ++schedules_;
  // Without a split node the tree is this one run: the first shard's.
  counts_last_ = !idle_run_ && (split_seen_ || shard_index_ == 0);
  if (idle_run_) {
    path_.clear();
    done_ = true;
    return;
  }
  if (path_.size() > depth_) path_.resize(depth_);
  while (!path_.empty()) {
    if (advance(path_.back())) return;
    path_.pop_back();
  }
  done_ = true;
}

// Flags, the counters, the shard, then each node of the walk. What a run
// recomputes as it passes a node (sleep sets, preemptions) is not kept.
std::optional<std::string> DporStrategy::save() const {
  StateWriter w;
  w.u8(static_cast<std::uint8_t>((done_ ? 1 : 0) | (bound_reached_ ? 2 : 0) |
                                 (split_found_ ? 4 : 0)));
  for (std::uint64_t v : {schedules_, sleep_blocked_, offered_, taken_,
                          shard_index_, shard_total_})
    w.u64(v);
  w.u32(static_cast<std::uint32_t>(path_.size()));
  for (const Node& n : path_) {
    w.u8(static_cast<std::uint8_t>(n.kind));
    w.u8(static_cast<std::uint8_t>((n.is_value ? 1 : 0) | (n.dead ? 2 : 0) |
                                   (n.contested ? 4 : 0) | (n.split ? 8 : 0) |
                                   (n.current_enabled ? 16 : 0)));
    w.u32(n.count);
    w.u32(n.value);
    w.u32(n.current);
    w.u32(static_cast<std::uint32_t>(n.enabled.size()));
    for (StrandId q : n.enabled) w.u32(q);
    w.u32(static_cast<std::uint32_t>(n.backtrack.size()));
    for (StrandId q : n.backtrack) w.u32(q);
    w.u32(static_cast<std::uint32_t>(n.next));
  }
  return w.str();
}

DporStrategy::Node DporStrategy::read_node(StateReader& r) {
  Node n;
  const std::size_t at = r.offset();
  const std::uint8_t kind = r.u8("choice kind");
  if (kind >= kChoiceKindCount)
    throw StateError(at, "choice kind " + std::to_string(kind) + " unknown");
  n.kind = static_cast<ChoiceKind>(kind);
  const std::size_t flags_at = r.offset();
  const std::uint8_t flags = r.u8("node flags");
  if (flags > 31) throw StateError(flags_at, "unknown node flags");
  n.is_value = (flags & 1) != 0;
  n.dead = (flags & 2) != 0;
  n.contested = (flags & 4) != 0;
  n.split = (flags & 8) != 0;
  n.current_enabled = (flags & 16) != 0;
  n.count = r.u32_at_most(1u << 24, "alternatives");
  const std::size_t value_at = r.offset();
  n.value = r.u32("value");
  if (n.is_value && n.value >= n.count)
    throw StateError(value_at, "value past the alternatives");
  n.current = r.u32("running strand");
  const std::uint32_t enabled = r.u32_at_most(n.count, "enabled strands");
  for (std::uint32_t i = 0; i < enabled; ++i)
    n.enabled.push_back(r.u32("strand"));
  const std::uint32_t backtrack =
      r.u32_at_most(n.is_value ? 0 : enabled, "backtrack strands");
  for (std::uint32_t i = 0; i < backtrack; ++i) {
    const std::size_t q_at = r.offset();
    n.backtrack.push_back(r.u32("backtrack strand"));
    if (!contains(n.enabled, n.backtrack.back()))
      throw StateError(q_at, "a backtrack strand that is not enabled");
  }
  const std::size_t next_at = r.offset();
  n.next = r.u32("next alternative");
  if (!n.is_value && (enabled != n.count || n.next >= backtrack))
    throw StateError(next_at, "inconsistent node");
  return n;
}

void DporStrategy::restore(std::string_view state, std::size_t base) {
  StateReader r(state, base);
  const std::size_t flags_at = r.offset();
  const std::uint8_t flags = r.u8("flags");
  if (flags > 7) throw StateError(flags_at, "unknown flags");
  std::uint64_t counters[4];
  for (std::uint64_t& c : counters) c = r.u64("counter");
  const std::size_t shard_at = r.offset();
  if (r.u64("shard index") != shard_index_ ||
      r.u64("shard count") != shard_total_)
    throw StateError(shard_at, "saved by another shard");
  const std::uint32_t nodes = r.u32_at_most(1u << 24, "nodes");
  std::vector<Node> path;
  bool before_split = true;
  for (std::uint32_t i = 0; i < nodes; ++i) {
    const std::size_t node_at = r.offset();
    path.push_back(read_node(r));
    // Every search expands its first contested choice point fully: a walk
    // whose first one is not marked so was saved by an older weft.
    const Node& n = path.back();
    const bool two = n.is_value ? !n.dead && n.count >= 2 : n.contested;
    if (before_split && two && !n.split)
      throw StateError(node_at,
                       "the first contested choice point is not "
                       "the split one (an older weft's walk)");
    before_split = before_split && !two;
  }
  if (!r.at_end()) throw StateError(r.offset(), "bytes after the last node");
  if ((flags & 1) != 0 && !path.empty())
    throw StateError(flags_at, "a finished search with nodes left");
  done_ = (flags & 1) != 0;
  bound_reached_ = (flags & 2) != 0;
  split_found_ = (flags & 4) != 0;
  schedules_ = counters[0];
  sleep_blocked_ = counters[1];
  offered_ = counters[2];
  taken_ = counters[3];
  path_ = std::move(path);
}

std::string DporStrategy::environment() const {
  return bound_ == kUnbounded ? "WEFT_STRATEGY=dpor"
                              : "WEFT_STRATEGY=dpor WEFT_PREEMPTION_BOUND=" +
                                    std::to_string(bound_);
}

std::string DporStrategy::coverage_note() const {
  const std::uint64_t pruned =
      offered_ == 0 ? 0 : 100 * (offered_ - taken_) / offered_;
  std::string s = bound_ == kUnbounded
                      ? "every schedule up to the order of independent "
                        "operations"
                      : "every schedule within " + std::to_string(bound_) +
                            " preemptions up to the order of independent "
                            "operations";
  s += " (DPOR pruned " + std::to_string(pruned) +
       "% of the alternatives at contested choice points";
  if (sleep_blocked_ != 0)
    s += ", " + std::to_string(sleep_blocked_) + " redundant runs";
  return s + ")";
}

}  // namespace weft::sim
