#include "sim/surw_strategy.h"

#include <algorithm>
#include <stdexcept>

namespace weft::sim {

bool SurwStrategy::interesting(ChoiceKind kind) {
  return kind == ChoiceKind::kAtomic;
}

void SurwStrategy::begin(std::uint64_t seed) {
  rng_.reseed(seed);
  used_ = profile_;
  strands_.clear();
  designated_ = kNoStrand;
  last_picked_ = kNoStrand;
  stay_ = 0;
}

SurwStrategy::StrandState& SurwStrategy::state(StrandId id) {
  if (id >= strands_.size()) strands_.resize(id + 1);
  return strands_[id];
}

std::uint32_t SurwStrategy::expected(StrandId id) const {
  return id < used_.size() ? used_[id] : 0;
}

bool SurwStrategy::is_interesting(StrandId id) const {
  const StrandState& s = strands_[id];
  return !s.fresh && interesting(s.pending);
}

// What the point tells: the running strand's next operation, and the
// strands not seen before (children of the running strand at a spawn).
void SurwStrategy::observe(const ChoicePoint& point) {
  if (point.current != kNoStrand) {
    StrandState& s = state(point.current);
    s.fresh = false;
    s.pending = point.kind;
    if (!s.known) {
      s.known = true;
      s.left = expected(point.current);
    }
  }
  for (StrandId id : point.strands) {
    if (state(id).known) continue;
    strands_[id].known = true;
    if (point.kind == ChoiceKind::kSpawn && point.current != kNoStrand)
      on_spawn(point.current, id);
    else
      strands_[id].left = expected(id);
  }
}

// The parent's count included the child's: it moves to the child, and so
// does the designation, with the probability of the child's share.
void SurwStrategy::on_spawn(StrandId parent, StrandId child) {
  const std::uint32_t share = expected(child);
  strands_[child].parent = parent;
  strands_[child].left = share;
  StrandState& p = strands_[parent];
  if (p.left == 0) return;
  if (designated_ == parent && share >= 1 + rng_.below(p.left))
    designated_ = child;
  p.left = p.left >= share ? p.left - share : 0;
}

// Random priorities for every step that is not an interesting event, drawn
// once per schedule (the paper draws again after each step; keeping them,
// as PCT does, lets a strand run a stretch of bookkeeping alone, which
// measured 3-5 times faster on twostage_N): the highest enabled priority
// among the strands not held back; -1 if all are.
std::int64_t SurwStrategy::highest_priority(const ChoicePoint& point) {
  std::int64_t best = -1;
  std::uint64_t best_priority = 0;
  for (std::uint32_t i = 0; i < point.count; ++i) {
    StrandState& s = strands_[point.strands[i]];
    if (s.waiting) continue;
    if (s.priority == 0) s.priority = rng_.next() | 1;
    if (s.priority > best_priority) {
      best_priority = s.priority;
      best = i;
    }
  }
  return best;
}

// The uniform part: a strand in proportion to its interesting events left.
std::uint32_t SurwStrategy::designate(const ChoicePoint& point) {
  std::uint64_t total = 0;
  for (StrandId id : point.strands)
    if (!strands_[id].waiting) total += strands_[id].left;
  std::uint64_t r = rng_.below(total);
  for (std::uint32_t i = 0; i < point.count; ++i) {
    const StrandState& s = strands_[point.strands[i]];
    if (s.waiting || s.left == 0) continue;
    if (r < s.left) return i;
    r -= s.left;
  }
  return 0;
}

void SurwStrategy::release_all() {
  for (StrandState& s : strands_) s.waiting = false;
}

std::uint32_t SurwStrategy::choose(const ChoicePoint& point) {
  if (point.is_value)
    return static_cast<std::uint32_t>(rng_.below(point.count));
  observe(point);
  for (;;) {
    const std::int64_t at = highest_priority(point);
    if (at < 0) {  // every enabled strand waits for one that cannot run
      release_all();
      designated_ = kNoStrand;
      continue;
    }
    const auto index = static_cast<std::uint32_t>(at);
    const StrandId id = point.strands[index];
    StrandState& s = strands_[id];
    if (is_interesting(id)) {
      if (s.left == 0) s.left = 1;
      if (designated_ == kNoStrand)
        designated_ = point.strands[designate(point)];
      if (designated_ != id) {
        s.waiting = true;
        continue;
      }
      if (s.left > 0) --s.left;
      ++s.made;
      designated_ = kNoStrand;
      release_all();
    }
    // Minimal fairness, as the paper's: a strand picked 1000 times in a
    // row (a spin loop) makes every priority drawn again.
    stay_ = id == last_picked_ ? stay_ + 1 : 0;
    last_picked_ = id;
    if (stay_ >= 1000) {
      for (StrandState& t : strands_) t.priority = 0;
      stay_ = 0;
    }
    return index;
  }
}

// The profile: each strand's interesting events plus its descendants'
// (a child's id is above its parent's), the most any schedule made.
void SurwStrategy::end(std::uint64_t) {
  std::vector<std::uint32_t> total(strands_.size(), 0);
  for (std::size_t id = strands_.size(); id-- > 0;) {
    total[id] += strands_[id].made;
    const StrandId parent = strands_[id].parent;
    if (parent != kNoStrand && parent < id) total[parent] += total[id];
  }
  if (profile_.size() < total.size()) profile_.resize(total.size(), 0);
  for (std::size_t id = 0; id < total.size(); ++id)
    profile_[id] = std::max(profile_[id], total[id]);
}

std::string SurwStrategy::environment() const {
  std::string env = "WEFT_STRATEGY=surw";
  if (!used_.empty()) env += " WEFT_SURW_PROFILE=" + encode(used_);
  return env;
}

std::string SurwStrategy::encode(const std::vector<std::uint32_t>& profile) {
  std::string out;
  for (std::size_t i = 0; i < profile.size();) {
    std::size_t j = i;
    while (j < profile.size() && profile[j] == profile[i]) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(profile[i]);
    if (j - i > 1) out += '*' + std::to_string(j - i);
    i = j;
  }
  return out;
}

namespace {

std::uint32_t number(const std::string& text, std::size_t& pos) {
  const std::size_t start = pos;
  std::uint64_t v = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    v = v * 10 + static_cast<std::uint64_t>(text[pos] - '0');
    if (v > 1'000'000'000) break;
    ++pos;
  }
  if (pos == start || v > 1'000'000'000)
    throw std::invalid_argument("expected a count at character " +
                                std::to_string(start + 1));
  return static_cast<std::uint32_t>(v);
}

}  // namespace

std::vector<std::uint32_t> SurwStrategy::decode(const std::string& text) {
  std::vector<std::uint32_t> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::uint32_t count = number(text, pos);
    std::uint32_t times = 1;
    if (pos < text.size() && text[pos] == '*') times = number(text, ++pos);
    if (out.size() + times > 1'000'000)
      throw std::invalid_argument("more than a million strands");
    out.insert(out.end(), times, count);
    if (pos < text.size() && text[pos++] != ',')
      throw std::invalid_argument("expected ',' at character " +
                                  std::to_string(pos));
  }
  return out;
}

}  // namespace weft::sim
