#include "sim/flight.h"

#include <cstddef>
#include <cstring>

namespace weft::sim::flight {
namespace {

constexpr std::uint32_t kUnbound = 0xffffffffu;

// The calling thread's ring: the arena it belongs to (a thread left bound
// to an earlier arena rebinds), its slot (null: none), its events, where
// the next event goes (head % capacity, kept here so the hot path divides
// nothing), the ring's capacity, the head at which it refuses events (the
// capacity, or never when it wraps) and the thread's number. One
// thread-local block: the hot path finds them all from one address, and
// reads nothing of the arena's header but its address.
struct Ring {
  const Arena* arena = nullptr;
  Slot* slot = nullptr;
  Event* events = nullptr;
  std::uint64_t pos = 0;
  std::uint64_t capacity = 0;
  std::uint64_t full_at = 0;
  std::uint32_t thread = kUnbound;
};
// initial-exec: the engine's objects are compiled position-independent (for
// weft run's preloaded module), and the default model for that makes each
// access a call as far as the compiler knows, spilling the hot path's
// registers; the module is preloaded, never dlopen()ed late.
__attribute__((tls_model("initial-exec"))) constinit thread_local Ring t_ring;
// Object ids, process-wide (ObjectId).
std::atomic<std::uint64_t> g_next_object{0};

// Claims a slot for the calling thread: false when none is left.
[[gnu::noinline]] bool claim(Arena* a) {
  Ring& r = t_ring;
  r.arena = a;
  r.slot = nullptr;
  if (r.thread == kUnbound)
    r.thread = a->next_thread.fetch_add(1, std::memory_order_relaxed);
  const std::uint32_t i = a->slots_used.fetch_add(1, std::memory_order_relaxed);
  if (i >= a->slots) {
    a->lost_threads.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  r.slot = a->slot(i);
  r.events = a->events(i);
  r.pos = 0;
  r.capacity = a->capacity;
  r.full_at = a->wrap != 0 ? ~std::uint64_t{0} : a->capacity;
  r.slot->thread.store(r.thread, std::memory_order_release);
  return true;
}

// Appends one event to the calling thread's ring: the event, or null when
// nothing records, the thread has no ring or its ring is full.
[[gnu::always_inline]] inline Event* append(Op op, std::uint64_t object,
                                            std::uint64_t version,
                                            std::uint64_t value) {
  Arena* a = g_arena.load(std::memory_order_acquire);
  Ring& r = t_ring;
  // A null arena differs from any a thread claimed in; a thread that never
  // claimed has no slot.
  if (r.arena != a) [[unlikely]]
    if (a == nullptr || !claim(a)) return nullptr;
  Slot* s = r.slot;
  if (s == nullptr) [[unlikely]]
    return nullptr;  // no slot for this thread
  const std::uint64_t h = s->head.load(std::memory_order_relaxed);
  if (h >= r.full_at) [[unlikely]] {
    s->full.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  Event& e = r.events[r.pos];
  r.pos = r.pos + 1 == r.capacity ? 0 : r.pos + 1;
  e.object = object;
  e.version = version;
  e.value = value;
  // The thread, the operation and the padding (zeros) in one store.
  const std::uint64_t tail =
      r.thread | std::uint64_t{static_cast<std::uint8_t>(op)} << 32;
  static_assert(offsetof(Event, op) == offsetof(Event, thread) + 4 &&
                offsetof(Event, pad) == offsetof(Event, op) + 1 &&
                sizeof(Event) == offsetof(Event, thread) + 8);
  std::memcpy(reinterpret_cast<char*>(&e) + offsetof(Event, thread), &tail,
              sizeof tail);
  s->head.store(h + 1, std::memory_order_release);
  return &e;
}
}  // namespace

void attach(void* memory, std::uint32_t slots, std::uint64_t capacity,
            bool wrap) {
  auto* a = static_cast<Arena*>(memory);
  a->magic = kArenaMagic;
  a->slots = slots;
  a->capacity = capacity;
  a->wrap = wrap ? 1 : 0;
  a->slots_used.store(0);
  a->next_thread.store(1);
  a->lost_threads.store(0);
  a->next_object.store(0);
  for (std::uint32_t i = 0; i < slots; ++i) {
    a->slot(i)->head.store(0, std::memory_order_relaxed);
    a->slot(i)->thread.store(0, std::memory_order_relaxed);
    a->slot(i)->full.store(0, std::memory_order_relaxed);
  }
  t_ring.thread = 0;
  claim(a);
  g_generation.fetch_add(std::uint64_t{1} << 32, std::memory_order_relaxed);
  t_last_atomic = LastAtomic{};
  g_arena.store(a, std::memory_order_release);
}

void detach() { g_arena.store(nullptr, std::memory_order_release); }

std::uint32_t new_thread() {
  Arena* a = g_arena.load(std::memory_order_acquire);
  return a == nullptr ? kUnbound
                      : a->next_thread.fetch_add(1, std::memory_order_relaxed);
}

void bind_thread(std::uint32_t thread) {
  t_ring.thread = thread;
  t_ring.arena = nullptr;
  t_ring.slot = nullptr;
}

void record(Op op, std::uint64_t object, std::uint64_t version,
            std::uint64_t value) {
  t_last_atomic.key = kNoRun;
  append(op, object, version, value);
}

void record_atomic(Op op, const ObjectId& id, std::uint64_t version,
                   std::uint64_t left) {
  const std::uint64_t object = id.get();
  Event* e = append(op, object, version, 0);
  LastAtomic& l = t_last_atomic;
  if (e == nullptr || object == 0) {  // 0: no id (detached meanwhile)
    l.key = kNoRun;
    return;
  }
  l.id = object;
  l.key = left | g_generation.load(std::memory_order_relaxed);
  l.value = 0;
  l.step = op == Op::kAtomicWrite ? kFirstWrite : kReadEvent;
  l.event = e;
}

bool coalesce_first_write(LastAtomic& l, std::uint64_t key) {
  if (l.step != kFirstWrite) return false;
  const std::uint64_t trailing = l.value;  // a write event's first run
  l.value = kRunOneWrite | trailing << 20;
  l.step = kRunOneWrite - trailing;
  std::atomic_ref<std::uint64_t>(l.event->value)
      .store(l.value, std::memory_order_relaxed);
  l.key = key;
  return true;
}

std::uint64_t ObjectId::assign() const {
  std::uint64_t id = 0;
  Arena* a = g_arena.load(std::memory_order_acquire);
  if (a == nullptr) return 0;
  const std::uint64_t mine =
      g_next_object.fetch_add(1, std::memory_order_relaxed) + 1;
  if (id_.compare_exchange_strong(id, mine, std::memory_order_acq_rel))
    return mine;
  return id;  // another thread named it first
}

std::uint64_t ObjectTag::exclusive_write(Op op, std::uint64_t value) {
  const std::uint64_t w = word_.load(std::memory_order_relaxed);
  record(op, id(), w >> 1, value);
  word_.store(w + 2, std::memory_order_release);
  return w >> 1;
}

std::uint64_t ObjectTag::lock() const {
  std::uint64_t w = word_.load(std::memory_order_relaxed);
  for (;;) {
    if (w & 1) {
      w = word_.load(std::memory_order_relaxed);
      continue;
    }
    if (word_.compare_exchange_weak(w, w | 1, std::memory_order_acquire))
      return w;
  }
}

}  // namespace weft::sim::flight
