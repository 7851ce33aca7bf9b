// What the mutexes order, as a strategy can tell from the operations it
// sees: which mutexes each strand holds, and which atomic accesses no mutex
// orders, by Eraser's lockset rule within one run (an object's candidate
// set is the intersection of the mutexes held at each access made to it, so
// one access made holding none leaves it empty; an access is unordered when
// its strand holds no mutex or none of the candidates). Objects are compared by
// address for equality only, and nothing is kept across runs.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "sim/choice.h"

namespace weft::sim {

class Locksets {
 public:
  void clear();
  // Strand `id` made an operation: a lock acquires `object`, an unlock
  // releases it, a condition-variable wait releases `object2` (its mutex,
  // taken again by a lock of its own), an atomic access refines `object`'s
  // candidate set.
  void made(StrandId id, ChoiceKind kind, const void* object,
            const void* object2 = nullptr);
  // Whether no strand holds `mutex` (an unknown one, null, is free).
  bool free(const void* mutex) const;
  // Whether an atomic access by `id` to `object` made now would be
  // unordered. An object not accessed yet in this run is
  // taken as guarded by the mutexes the strand holds.
  bool unordered(StrandId id, const void* object) const;
  // Whether made(id, kind, object, ...) would change `object`'s candidate
  // set, and so what unordered() says of other strands' accesses to it.
  bool changes(StrandId id, ChoiceKind kind, const void* object) const;
  // The mutex whose free() made(id, kind, object, object2) would change,
  // or null.
  const void* flips(StrandId id, ChoiceKind kind, const void* object,
                    const void* object2 = nullptr) const;

 private:
  const std::vector<const void*>& held(StrandId id) const;
  void acquire(StrandId id, const void* mutex);
  void release(StrandId id, const void* mutex);

  std::vector<std::vector<const void*>> held_;  // by strand id
  std::unordered_map<const void*, std::uint32_t> holders_;
  std::unordered_map<const void*, std::vector<const void*>> candidates_;
};

}  // namespace weft::sim
