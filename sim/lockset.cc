#include "sim/lockset.h"

#include <algorithm>

namespace weft::sim {

namespace {

const std::vector<const void*> kNone;

bool has(const std::vector<const void*>& v, const void* x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// `into` becomes its intersection with `h`.
void keep_common(std::vector<const void*>& into,
                 const std::vector<const void*>& h) {
  into.erase(std::remove_if(into.begin(), into.end(),
                            [&](const void* m) { return !has(h, m); }),
             into.end());
}

bool meets(const std::vector<const void*>& a,
           const std::vector<const void*>& b) {
  for (const void* x : a)
    if (has(b, x)) return true;
  return false;
}

}  // namespace

void Locksets::clear() {
  held_.clear();
  holders_.clear();
  candidates_.clear();
  sharing_.clear();
}

const std::vector<const void*>& Locksets::held(StrandId id) const {
  return id < held_.size() ? held_[id] : kNone;
}

void Locksets::acquire(StrandId id, const void* mutex) {
  if (mutex == nullptr) return;
  if (id >= held_.size()) held_.resize(id + 1);
  held_[id].push_back(mutex);
  ++holders_[mutex];
}

void Locksets::release(StrandId id, const void* mutex) {
  if (mutex == nullptr || id >= held_.size()) return;
  std::vector<const void*>& h = held_[id];
  const auto it = std::find(h.begin(), h.end(), mutex);
  if (it == h.end()) return;
  h.erase(it);
  if (const auto c = holders_.find(mutex);
      c != holders_.end() && --c->second == 0)
    holders_.erase(c);
}

void Locksets::made(StrandId id, ChoiceKind kind, const void* object,
                    const void* object2, bool write) {
  if (kind == ChoiceKind::kLock) return acquire(id, object);
  if (kind == ChoiceKind::kUnlock) return release(id, object);
  if (kind == ChoiceKind::kWait) return release(id, object2);
  if (kind != ChoiceKind::kAtomic) return;
  share(id, object, write);
  const std::vector<const void*>& h = held(id);
  const auto [it, fresh] = candidates_.try_emplace(object, h);
  if (!fresh) keep_common(it->second, h);
}

void Locksets::share(StrandId id, const void* object, bool write) {
  const std::vector<const void*>& h = held(id);
  const auto [it, fresh] = sharing_.try_emplace(object);
  Sharing& s = it->second;
  if (fresh) {
    s.first = id;
    s.every = h;
  }
  keep_common(s.every, h);
  if (write && !s.written) {
    s.writes = h;
    s.writer = id;
  }
  if (write) keep_common(s.writes, h);
  if (write && s.writer != id) s.writer = kNoStrand;
  s.written = s.written || write;
  s.several = s.several || id != s.first;
}

bool Locksets::races(StrandId id, const void* object, bool write) const {
  const auto it = sharing_.find(object);
  if (it == sharing_.end()) return false;
  const Sharing& s = it->second;
  if (!s.several && s.first == id) return false;
  const std::vector<const void*>& h = held(id);
  if (write) return !meets(s.every, h);
  return s.written && s.writer != id && !meets(s.writes, h);
}

bool Locksets::free(const void* mutex) const {
  return mutex == nullptr || holders_.find(mutex) == holders_.end();
}

bool Locksets::unordered(StrandId id, const void* object) const {
  const std::vector<const void*>& h = held(id);
  if (h.empty()) return true;
  const auto it = candidates_.find(object);
  return it != candidates_.end() && !meets(it->second, h);
}

bool Locksets::changes(StrandId id, ChoiceKind kind, const void* object) const {
  if (kind != ChoiceKind::kAtomic) return false;
  const auto it = candidates_.find(object);
  if (it == candidates_.end()) return true;  // its first access names its set
  const std::vector<const void*>& h = held(id);
  for (const void* m : it->second)
    if (!has(h, m)) return true;
  return false;
}

const void* Locksets::flips(StrandId id, ChoiceKind kind, const void* object,
                            const void* object2) const {
  if (kind == ChoiceKind::kLock) return free(object) ? object : nullptr;
  const void* m = kind == ChoiceKind::kUnlock ? object
                  : kind == ChoiceKind::kWait ? object2
                                              : nullptr;
  if (m == nullptr || !has(held(id), m)) return nullptr;
  return holders_.at(m) == 1 ? m : nullptr;
}

}  // namespace weft::sim
