#include "sim/surw_target.h"

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <string_view>

namespace weft::sim {

namespace {

// Ends a guarded target's encoding, or one of every racing candidate.
constexpr std::string_view kGuarded = "/guarded";
constexpr std::string_view kEvery = "/every";

constexpr std::uint64_t name_of(StrandId id, std::uint32_t ordinal) {
  return std::uint64_t{id} << 32 | ordinal;
}

}  // namespace

void SurwTarget::begin(Rng& rng, const Choice* fixed, bool every) {
  object_ = nullptr;
  objects_.clear();
  for (auto& mine : touches_) mine.clear();  // keeps their buckets
  last_.assign(last_.size(), Last{});
  locks_.clear();
  choice_ = fixed != nullptr ? *fixed : Choice{};
  if (fixed != nullptr) return;
  // The paper's filter: touched by half the strands, at least two, and
  // written by one.
  const std::size_t least = std::max<std::size_t>(2, strands_ / 2);
  if (every) choice_ = draw_every(least);
  if (choice_.empty()) choice_ = draw_one(rng, least);
}

namespace {

bool candidate(bool written, std::size_t strands, std::size_t least) {
  return written && strands >= least;
}

}  // namespace

// One candidate, in proportion to its accesses (the paper's draw).
SurwTarget::Choice SurwTarget::draw_one(Rng& rng, std::size_t least) const {
  std::uint64_t total = 0;
  for (const auto& [name, s] : seen_)
    if (candidate(s.written, s.counts.size(), least))
      for (const auto& [id, n] : s.counts) total += n;
  if (total == 0) return {};
  std::uint64_t r = rng.below(total);
  for (const auto& [name, s] : seen_) {
    if (!candidate(s.written, s.counts.size(), least)) continue;
    std::uint64_t weight = 0;
    for (const auto& [id, n] : s.counts) weight += n;
    if (r < weight) return counts_of({&s});
    r -= weight;
  }
  return {};
}

// Every candidate that raced, at once (an empty choice unless two did:
// one alone is no more than a draw that always takes it).
SurwTarget::Choice SurwTarget::draw_every(std::size_t least) const {
  std::vector<const Seen*> raced;
  for (const auto& [name, s] : seen_)
    if (candidate(s.written, s.counts.size(), least) && s.raced)
      raced.push_back(&s);
  if (raced.size() < 2) return {};
  Choice c = counts_of(raced);
  c.every = true;
  return c;
}

// Each strand's accesses to the objects and acquisitions, its
// descendants' included.
SurwTarget::Choice SurwTarget::counts_of(
    const std::vector<const Seen*>& seen) const {
  Choice c;
  c.guarded = true;
  for (const Seen* s : seen) c.guarded = c.guarded && !s->raced;
  std::size_t n = std::max(parent_.size(), most_locks_.size());
  for (const Seen* s : seen) {
    std::vector<std::uint64_t> names;
    std::set_union(c.names.begin(), c.names.end(), s->names.begin(),
                   s->names.end(), std::back_inserter(names));
    c.names = std::move(names);
    if (!c.guarded)
      for (const auto& [id, count] : s->counts)
        n = std::max<std::size_t>(n, id + 1);
  }
  c.counts.assign(n, 0);
  if (!c.guarded)
    for (const Seen* s : seen)
      for (const auto& [id, count] : s->counts) c.counts[id] += count;
  for (std::size_t id = 0; id < most_locks_.size(); ++id)
    c.counts[id] += most_locks_[id];
  add_descendants(c.counts, parent_);
  return c;
}

void SurwTarget::add_descendants(std::vector<std::uint32_t>& counts,
                                 const std::vector<StrandId>& parent) {
  for (std::size_t id = counts.size(); id-- > 0;) {
    const StrandId p = id < parent.size() ? parent[id] : kNoStrand;
    if (p != kNoStrand && p < id) counts[p] += counts[id];
  }
}

std::uint32_t SurwTarget::ordinal(StrandId id, const void* object) const {
  if (id >= touches_.size()) return 0;
  if (last_[id].object == object) return last_[id].pending.ordinal;
  const auto& mine = touches_[id];
  const auto it = mine.find(object);
  return it != mine.end() ? it->second.ordinal
                          : static_cast<std::uint32_t>(mine.size());
}

bool SurwTarget::resolve(StrandId id, const void* object) {
  if (!active() || object == nullptr) return false;
  if (choice_.every ? is_target(object) : object_ != nullptr) return false;
  if (!std::binary_search(choice_.names.begin(), choice_.names.end(),
                          name_of(id, ordinal(id, object))))
    return false;
  if (object_ == nullptr) object_ = object;
  if (choice_.every)
    objects_.insert(std::lower_bound(objects_.begin(), objects_.end(), object,
                                     std::less<>()),
                    object);
  return true;
}

void SurwTarget::locked(StrandId id) {
  if (id >= locks_.size()) locks_.resize(id + 1, 0);
  ++locks_[id];
}

void SurwTarget::touched(StrandId id, const void* object, bool write,
                         bool raced) {
  if (object == nullptr) return;
  if (id < last_.size() && last_[id].object == object) {
    ++last_[id].pending.count;
    last_[id].pending.raced = last_[id].pending.raced || raced;
    last_[id].pending.wrote = last_[id].pending.wrote || write;
    return;
  }
  if (id >= touches_.size()) {
    touches_.resize(id + 1);
    last_.resize(id + 1);
  }
  flush(id);
  auto& mine = touches_[id];
  const auto next = static_cast<std::uint32_t>(mine.size());
  const Touch& t =
      mine.try_emplace(object, Touch{next, 0, false, false}).first->second;
  last_[id] = Last{object, Touch{t.ordinal, 1, write, raced}};
}

// The strand's last object's touches, added to its entry.
void SurwTarget::flush(StrandId id) {
  Last& l = last_[id];
  if (l.object == nullptr || l.pending.count == 0) return;
  Touch& t = touches_[id].at(l.object);
  t.count += l.pending.count;
  t.wrote = t.wrote || l.pending.wrote;
  t.raced = t.raced || l.pending.raced;
  l.pending.count = 0;
  l.pending.wrote = false;
  l.pending.raced = false;
}

void SurwTarget::end(const std::vector<StrandId>& parent) {
  for (StrandId id = 0; id < last_.size(); ++id) flush(id);
  parent_ = parent;
  strands_ = std::max(strands_, parent.size());
  if (most_locks_.size() < locks_.size()) most_locks_.resize(locks_.size(), 0);
  for (std::size_t id = 0; id < locks_.size(); ++id)
    most_locks_[id] = std::max(most_locks_[id], locks_[id]);
  // By address within this schedule (equality only); what is kept is named.
  struct Object {
    std::vector<std::uint64_t> names;
    std::vector<std::pair<StrandId, std::uint32_t>> counts;
    bool written = false;
    bool raced = false;
  };
  std::unordered_map<const void*, Object> objects;
  // No choice depends on these maps' orders: the names are sorted, the
  // counts kept by strand, and a name belongs to one object a schedule.
  for (StrandId id = 0; id < touches_.size(); ++id)
    for (const auto& [object, t] : touches_[id]) {
      Object& o = objects[object];
      o.names.push_back(name_of(id, t.ordinal));
      o.counts.emplace_back(id, t.count);
      o.written = o.written || t.wrote;
      o.raced = o.raced || t.raced;
    }
  for (auto& [object, o] : objects) {
    std::sort(o.names.begin(), o.names.end());
    Seen& s = seen_[o.names.front()];
    std::vector<std::uint64_t> names;
    std::set_union(s.names.begin(), s.names.end(), o.names.begin(),
                   o.names.end(), std::back_inserter(names));
    s.names = std::move(names);
    for (const auto& [id, n] : o.counts)
      s.counts[id] = std::max(s.counts[id], n);
    s.written = s.written || o.written;
    s.raced = s.raced || o.raced;
  }
}

std::string SurwTarget::encode_counts(const std::vector<std::uint32_t>& c) {
  std::string out;
  for (std::size_t i = 0; i < c.size();) {
    std::size_t j = i;
    while (j < c.size() && c[j] == c[i]) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(c[i]);
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

void expect(const std::string& text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c)
    throw std::invalid_argument(std::string("expected '") + c +
                                "' at character " + std::to_string(pos + 1));
  ++pos;
}

}  // namespace

std::vector<std::uint32_t> SurwTarget::decode_counts(const std::string& text) {
  std::vector<std::uint32_t> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::uint32_t count = number(text, pos);
    std::uint32_t times = 1;
    if (pos < text.size() && text[pos] == '*') times = number(text, ++pos);
    if (out.size() + times > 1'000'000)
      throw std::invalid_argument("more than a million strands");
    out.insert(out.end(), times, count);
    if (pos < text.size()) expect(text, pos, ',');
  }
  return out;
}

std::string SurwTarget::encode(const Choice& choice) {
  std::string out = encode_counts(choice.counts) + '/';
  const auto& n = choice.names;
  for (std::size_t i = 0; i < n.size();) {
    std::size_t j = i + 1;
    while (j < n.size() && n[j] == n[j - 1] + (std::uint64_t{1} << 32)) ++j;
    if (i > 0) out += ',';
    out += std::to_string(n[i] >> 32);
    if (j - i > 1) out += '-' + std::to_string(n[j - 1] >> 32);
    out += '.' + std::to_string(n[i] & 0xffffffffu);
    i = j;
  }
  if (choice.guarded) out += kGuarded;
  if (choice.every) out += kEvery;
  return out;
}

SurwTarget::Choice SurwTarget::decode(const std::string& text) {
  const std::size_t semi = text.find('/');
  if (semi == std::string::npos)
    throw std::invalid_argument("expected '/' between counts and names");
  Choice c;
  c.counts = decode_counts(text.substr(0, semi));
  std::string names = text.substr(semi + 1);
  if (names.ends_with(kGuarded)) {
    c.guarded = true;
    names.resize(names.size() - kGuarded.size());
  } else if (names.ends_with(kEvery)) {
    c.every = true;
    names.resize(names.size() - kEvery.size());
  }
  std::size_t pos = 0;
  while (pos < names.size()) {
    const std::uint32_t first = number(names, pos);
    std::uint32_t last = first;
    if (pos < names.size() && names[pos] == '-') last = number(names, ++pos);
    expect(names, pos, '.');
    const std::uint32_t ordinal = number(names, pos);
    if (last < first || last - first > 1'000'000 ||
        c.names.size() + (last - first) > 1'000'000)
      throw std::invalid_argument(
          "a malformed run of strands before character " +
          std::to_string(pos + 1));
    for (std::uint32_t id = first; id <= last; ++id)
      c.names.push_back(name_of(id, ordinal));
    if (pos < names.size()) expect(names, pos, ',');
  }
  std::sort(c.names.begin(), c.names.end());
  if (c.names.empty()) throw std::invalid_argument("a target with no names");
  return c;
}

}  // namespace weft::sim
