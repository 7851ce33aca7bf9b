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
  objects_.clear();
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

bool Locksets::made(StrandId id, ChoiceKind kind, const void* object,
                    const void* object2, bool write) {
  if (kind == ChoiceKind::kLock) acquire(id, object);
  if (kind == ChoiceKind::kUnlock) release(id, object);
  if (kind == ChoiceKind::kWait) release(id, object2);
  return kind == ChoiceKind::kAtomic && accessed(id, object, write);
}

// One lookup: whether it raced, then what it leaves.
bool Locksets::accessed(StrandId id, const void* object, bool write) {
  const std::vector<const void*>& h = held(id);
  const auto [it, fresh] = objects_.try_emplace(object);
  Object& o = it->second;
  const bool raced = !fresh && races(o, id, write, h);
  if (fresh) {
    o.first = id;
    o.candidates = h;
  }
  keep_common(o.candidates, h);
  if (write && !o.written) {
    o.writes = h;
    o.writer = id;
  }
  if (write) keep_common(o.writes, h);
  if (write && o.writer != id) o.writer = kNoStrand;
  o.written = o.written || write;
  o.several = o.several || id != o.first;
  return raced;
}

bool Locksets::races(const Object& o, StrandId id, bool write,
                     const std::vector<const void*>& h) {
  if (!o.several && o.first == id) return false;
  if (write) return !meets(o.candidates, h);
  return o.written && o.writer != id && !meets(o.writes, h);
}

bool Locksets::races(StrandId id, const void* object, bool write) const {
  const auto it = objects_.find(object);
  return it != objects_.end() && races(it->second, id, write, held(id));
}

bool Locksets::free(const void* mutex) const {
  return mutex == nullptr || holders_.find(mutex) == holders_.end();
}

bool Locksets::unordered(StrandId id, const void* object) const {
  const std::vector<const void*>& h = held(id);
  if (h.empty()) return true;
  const auto it = objects_.find(object);
  return it != objects_.end() && !meets(it->second.candidates, h);
}

bool Locksets::changes(StrandId id, ChoiceKind kind, const void* object) const {
  if (kind != ChoiceKind::kAtomic) return false;
  const auto it = objects_.find(object);
  if (it == objects_.end()) return true;  // its first access names its set
  const std::vector<const void*>& h = held(id);
  for (const void* m : it->second.candidates)
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
