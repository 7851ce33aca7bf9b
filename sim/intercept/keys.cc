// Thread-specific data, interposed: strands share one OS thread, so the
// real pthread_getspecific would give every strand the same value. On a
// strand each value is the strand's own: a new thread's values start null,
// the main strand starts with its OS thread's values, keys created on a
// strand are simulated (numbered from kFirstKey in the run), and a thread's
// destructors run when its strand ends. None of these is a choice point.
#include <pthread.h>

#include <array>
#include <atomic>
#include <cerrno>

#include "sim/intercept/real.h"
#include "sim/intercept/world.h"

namespace weft::intercept::internal {
namespace {

using Destructor = void (*)(void*);

// Destructors of real keys (created outside a simulation), so a strand
// that set a value for one calls it when it ends as a thread would.
std::array<std::atomic<Destructor>, kMaxKeys> g_real_destructors{};

bool simulated(pthread_key_t key) {
  return key >= kFirstKey && key - kFirstKey < kMaxKeys;
}

// The key's destructor, or null; `live` false if it was deleted.
Destructor destructor_of(World& w, pthread_key_t key, bool& live) {
  live = true;
  if (simulated(key)) {
    const std::size_t i = key - kFirstKey;
    live = i < w.keys().size() && w.keys()[i].live;
    return live ? w.keys()[i].destructor : nullptr;
  }
  return key < kMaxKeys ? g_real_destructors[key].load() : nullptr;
}

// One round of destructor calls; true if any was called.
bool destructor_round(Scheduler& s) {
  World& w = World::of(s);
  bool called = false;
  const StrandId me = s.current_strand();
  for (std::size_t i = 0; i < w.thread(me).specific.size(); ++i) {
    auto& [key, value] = w.thread(me).specific[i];
    bool live = false;
    const Destructor d = destructor_of(w, key, live);
    if (value == nullptr || d == nullptr || !live) continue;
    void* v = value;
    value = nullptr;  // as POSIX: null before the call
    d(v);             // may set values again, or spawn and switch strands
    called = true;
  }
  return called;
}

}  // namespace

void run_key_destructors(Scheduler& s) {
  for (int round = 0; round < PTHREAD_DESTRUCTOR_ITERATIONS; ++round)
    if (!destructor_round(s)) return;
}

}  // namespace weft::intercept::internal

using namespace weft::intercept;
using namespace weft::intercept::internal;

namespace {
WEFT_REAL_SLOT(pthread_key_create);
WEFT_REAL_SLOT(pthread_key_delete);
WEFT_REAL_SLOT(pthread_getspecific);
WEFT_REAL_SLOT(pthread_setspecific);

// The strand's value slot for `key`, or null if it has none yet.
void** slot_of(Thread& t, pthread_key_t key) {
  for (auto& [k, v] : t.specific)
    if (k == key) return &v;
  return nullptr;
}

}  // namespace

extern "C" {

int pthread_key_create(pthread_key_t* key, void (*destructor)(void*)) noexcept {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]] {
    const int rc = WEFT_REAL(pthread_key_create)(key, destructor);
    if (rc == 0 && *key < kMaxKeys) g_real_destructors[*key].store(destructor);
    return rc;
  }
  std::vector<Key>& keys = World::of(*s).keys();
  if (keys.size() >= kMaxKeys) return EAGAIN;
  keys.push_back(Key{destructor, true});
  *key = kFirstKey + static_cast<pthread_key_t>(keys.size() - 1);
  return 0;
}

int pthread_key_delete(pthread_key_t key) noexcept {
  Scheduler* s = strand_scheduler();
  if (s != nullptr && key >= kFirstKey) {
    std::vector<Key>& keys = World::of(*s).keys();
    const std::size_t i = key - kFirstKey;
    if (i >= keys.size() || !keys[i].live) return EINVAL;
    keys[i].live = false;
    return 0;
  }
  if (key >= kFirstKey) return EINVAL;  // a simulated key, after its run
  const int rc = WEFT_REAL(pthread_key_delete)(key);
  if (rc == 0 && key < kMaxKeys) g_real_destructors[key].store(nullptr);
  return rc;
}

void* pthread_getspecific(pthread_key_t key) noexcept {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]]
    return key >= kFirstKey ? nullptr : WEFT_REAL(pthread_getspecific)(key);
  World& w = World::of(*s);
  const StrandId me = s->current_strand();
  if (void** v = slot_of(w.thread(me), key)) return *v;
  // Not set on this strand: the main strand sees its OS thread's value.
  if (me == 0 && key < kFirstKey) return WEFT_REAL(pthread_getspecific)(key);
  return nullptr;
}

int pthread_setspecific(pthread_key_t key, const void* value) noexcept {
  Scheduler* s = strand_scheduler();
  if (s == nullptr) [[likely]] {
    if (key >= kFirstKey) return EINVAL;
    return WEFT_REAL(pthread_setspecific)(key, value);
  }
  World& w = World::of(*s);
  bool live = false;
  destructor_of(w, key, live);
  if (!live || (key >= kFirstKey && !simulated(key))) return EINVAL;
  Thread& t = w.thread(s->current_strand());
  if (void** v = slot_of(t, key))
    *v = const_cast<void*>(value);
  else
    t.specific.emplace_back(key, const_cast<void*>(value));
  return 0;
}

}  // extern "C"
