// What the mutexes order, as a strategy can tell from the operations it
// sees: which mutexes each strand holds, and which atomic accesses no mutex
// orders, by Eraser's lockset rule within one run (an object's candidate
// set is the intersection of the mutexes held at each access made to it, so
// one access made holding none leaves it empty; an access is unordered when
// its strand holds no mutex or none of the candidates), and which accesses
// conflict with an earlier one that no common mutex orders (races()). Objects
// are compared by address for equality only, and nothing is kept across runs.
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
  // candidate set (and, a `write` or a read, what races() compares).
  // Returns whether it was an atomic access that raced (races() before it).
  bool made(StrandId id, ChoiceKind kind, const void* object,
            const void* object2 = nullptr, bool write = false);
  // Whether no strand holds `mutex` (an unknown one, null, is free).
  bool free(const void* mutex) const;
  // Whether an atomic access by `id` to `object` made now would be
  // unordered. An object not accessed yet in this run is
  // taken as guarded by the mutexes the strand holds.
  bool unordered(StrandId id, const void* object) const;
  // Whether an atomic access by `id` to `object`, a write or a read, made
  // now would race with an earlier one: a write with any access, a read
  // with a write, no mutex held at both (the mutexes held at every earlier
  // access, or every earlier write, stand for each one's; reads alone
  // never race). Nothing races while one strand alone has touched the
  // object, nor does a read of what only its own strand wrote. So a read under
  // one mutex between writes under another, or an unlocked read between locked
  // writes, races; a value written under one mutex and read by others under
  // that mutex, and by its writer under another, does not.
  bool races(StrandId id, const void* object, bool write) const;
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
  // Per atomic object this run: its candidate set (the mutexes held at
  // every access), who touched it and the mutexes held at every write.
  struct Object {
    std::vector<const void*> candidates;
    StrandId first = kNoStrand;
    bool several = false;  // strands other than `first` touched it
    bool written = false;
    StrandId writer = kNoStrand;  // the one strand that wrote it, if one
    std::vector<const void*> writes;
  };
  std::unordered_map<const void*, Object> objects_;
  bool accessed(StrandId id, const void* object, bool write);
  static bool races(const Object& o, StrandId id, bool write,
                    const std::vector<const void*>& held);
};

}  // namespace weft::sim
