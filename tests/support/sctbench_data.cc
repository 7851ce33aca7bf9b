// SCTBench's data-structure programs (circular_buffer, bluetooth_driver,
// stack) and a CHESS-style work-stealing queue, bad and fixed, against
// weft's facade.
#include <array>
#include <memory>
#include <mutex>
#include <vector>

#include "sim/weft.h"
#include "tests/support/sctbench_programs.h"

namespace weft::test {

namespace {

// A log of at most kMax entries: insert at `next`, remove from `first`.
class CircularLog {
 public:
  static constexpr int kMax = 10;
  void insert(int value) {
    const int at = next_.load();
    if (at >= kMax) return;
    slots_[static_cast<std::size_t>(at)].store(value);
    next_.store((at + 1) % kMax);
  }
  int remove() {
    const int at = first_.load();
    if (next_.load() == 0 || at >= kMax) return -1;
    first_.store(at + 1);
    return slots_[static_cast<std::size_t>(at)].load();
  }

 private:
  std::array<Atomic<int>, kMax> slots_{};
  Atomic<int> first_{0}, next_{0};
};

}  // namespace

// A producer writes 0..6 into a log and a consumer checks it reads them in
// order. Bad (SCTBench's): each makes 7 attempts, acting only when a flag
// says it is its turn, so an attempt made out of turn is lost and the
// consumer's count runs ahead of the values. Fixed: each waits for its turn
// (two semaphores), so every attempt is a transfer.
void circular_buffer(Variant v) {
  constexpr int kValues = 7;
  Mutex m("log");
  CircularLog log;
  Atomic<bool> send{true}, receive{false};
  Semaphore may_send(1, "may send"), may_receive(0, "may receive");
  const bool fixed = v == Variant::kFixed;
  auto producer = spawn("producer", [&] {
    for (int i = 0; i < kValues; ++i) {
      if (fixed) may_send.acquire();
      std::lock_guard lk(m);
      if (!send.load()) continue;
      log.insert(i);
      send.store(false);
      receive.store(true);
      if (fixed) may_receive.release();
    }
  });
  auto consumer = spawn("consumer", [&] {
    for (int i = 0; i < kValues; ++i) {
      if (fixed) may_receive.acquire();
      std::lock_guard lk(m);
      if (!receive.load()) continue;
      WEFT_ASSERT(log.remove() == i);
      receive.store(false);
      send.store(true);
      if (fixed) may_send.release();
    }
  });
  producer.join();
  consumer.join();
}

namespace {

// The device of bluetooth_driver: requests in flight (the stopper holds
// one), and flags for "stopping" and "stopped".
struct Device {
  Mutex lock{"device"};
  Atomic<int> pending_io{1};
  Atomic<bool> stopping_flag{false}, stopping_event{false}, stopped{false};
  bool fixed = false;

  bool io_increment() {
    if (!fixed && stopping_flag.load()) return false;  // checked unlocked
    std::lock_guard lk(lock);
    if (fixed && stopping_flag.load()) return false;
    pending_io.store(pending_io.load() + 1);
    return true;
  }
  void io_decrement() {
    int left = 0;
    {
      std::lock_guard lk(lock);
      left = pending_io.load() - 1;
      pending_io.store(left);
    }
    if (left == 0) stopping_event.store(true);
  }
};

}  // namespace

// A driver's add (a request) against its stop. Bad (SCTBench's, after Qadeer
// and Wu): the adder checks the stopping flag before taking the lock, so
// the stopper can set it, drain the requests and stop between the check and
// the increment, and the request then runs on a stopped device. Fixed: the
// check and the increment are one step under the lock, and so is the set.
void bluetooth_driver(Variant v) {
  Device e;
  e.fixed = v == Variant::kFixed;
  auto stopper = spawn("stopper", [&] {
    {
      std::unique_lock lk(e.lock, std::defer_lock);
      if (e.fixed) lk.lock();
      e.stopping_flag.store(true);
    }
    e.io_decrement();
    if (e.stopping_event.load()) e.stopped.store(true);
  });
  if (e.io_increment()) WEFT_ASSERT(!e.stopped.load());  // the request
  e.io_decrement();
  stopper.join();
}

// A pusher pushes 10 values, each under a mutex, setting a flag; a popper
// makes 10 attempts. Bad (SCTBench's): it pops whenever the flag was ever
// set, so it can pop more than was pushed (an underflow). Fixed: it pops
// only when the stack is not empty.
void stack(Variant v) {
  constexpr int kSize = 10;
  Mutex m("stack");
  std::array<int, kSize> slots{};
  Atomic<int> top{0};
  Atomic<bool> flag{false};
  auto pusher = spawn("pusher", [&] {
    for (int i = 0; i < kSize; ++i) {
      std::lock_guard lk(m);
      const int t = top.load();
      WEFT_ASSERT(t < kSize);  // no overflow
      slots[static_cast<std::size_t>(t)] = i;
      top.store(t + 1);
      flag.store(true);
    }
  });
  auto popper = spawn("popper", [&] {
    for (int i = 0; i < kSize; ++i) {
      std::lock_guard lk(m);
      const bool go = v == Variant::kBad ? flag.load() : top.load() > 0;
      if (!go) continue;
      const int t = top.load();
      WEFT_ASSERT(t > 0);  // no underflow
      top.store(t - 1);
    }
  });
  pusher.join();
  popper.join();
}

namespace {

// CHESS's work-stealing queue in the THE protocol (Cilk-5), as SCTBench's
// chess/WorkStealQueue.h has it: the owner pushes and pops at the tail
// without the lock, thieves steal at the head under it, the lock settles
// the race for the last item, and a full queue grows under the lock. Its
// indices are read and written by atomic read-modify-writes, as there
// (readV: a compare-exchange, writeV: an exchange). Bad (SCTBench's BUG3):
// push's lock-free path also takes the slot a thief may still be stealing
// (t < head + mask + 1, not t < head + mask), so that item is overwritten.
class WorkStealQueue {
 public:
  WorkStealQueue(long size, bool fixed)
      : fixed_(fixed), mask_(size - 1), elems_(slots(size)) {}

  bool steal(int*& result) {
    std::lock_guard lk(lock_);
    const long h = read(head_);
    write(head_, h + 1);
    if (h < read(tail_)) {
      result = elems_[static_cast<std::size_t>(h & mask_)].load();
      return true;
    }
    write(head_, h);  // restore the head
    return false;
  }
  bool pop(int*& result) {
    const long t = read(tail_) - 1;
    write(tail_, t);
    if (read(head_) <= t) {
      result = elems_[static_cast<std::size_t>(t & mask_)].load();
      return true;
    }
    write(tail_, t + 1);  // restore the tail
    return sync_pop(result);
  }
  void push(int* elem) {
    const long t = read(tail_);
    const long room = fixed_ ? mask_ : mask_ + 1;
    if (t < read(head_) + room && t < kMaxSize) {
      elems_[static_cast<std::size_t>(t & mask_)].store(elem);
      write(tail_, t + 1);  // once the entry is written
      return;
    }
    sync_push(elem);
  }

 private:
  static constexpr long kMaxSize = 1024 * 1024;
  static constexpr long kInitialSize = 1024;

  static std::unique_ptr<Atomic<int*>[]> slots(long size) {
    return std::make_unique<Atomic<int*>[]>(static_cast<std::size_t>(size));
  } static long read(Atomic<long>& v) {
    long expected = 0;
    v.compare_exchange_strong(expected, 0);
    return expected;
  }
  static void write(Atomic<long>& v, long w) { v.exchange(w); }

  bool sync_pop(int*& result) {
    std::lock_guard lk(lock_);
    const long t = read(tail_) - 1;
    write(tail_, t);
    bool found = false;
    if (read(head_) <= t) {
      result = elems_[static_cast<std::size_t>(t & mask_)].load();
      found = true;
    } else {
      write(tail_, t + 1);
    }
    if (read(head_) > t) {  // empty: start again at 0
      write(head_, 0);
      write(tail_, 0);
      found = false;
    }
    return found;
  }
  void sync_push(int* elem) {
    std::lock_guard lk(lock_);
    long h = read(head_);
    const long count = read(tail_) - h;
    h &= mask_;
    write(head_, h);
    write(tail_, h + count);
    if (count >= mask_) {
      const long size = mask_ == 0 ? kInitialSize : 2 * (mask_ + 1);
      WEFT_ASSERT(size < kMaxSize);
      auto grown = slots(size);
      for (long i = 0; i < count; ++i)
        grown[static_cast<std::size_t>(i)].store(
            elems_[static_cast<std::size_t>((h + i) & mask_)].load());
      elems_ = std::move(grown);
      mask_ = size - 1;
      write(head_, 0);
      write(tail_, count);
    }
    WEFT_ASSERT(count < mask_);
    const long t = read(tail_);
    elems_[static_cast<std::size_t>(t & mask_)].store(elem);
    write(tail_, t + 1);
  }

  bool fixed_;
  Mutex lock_{"steal lock"};
  Atomic<long> head_{0}, tail_{0};
  long mask_;  // changed under the lock, by the owner only
  std::unique_ptr<Atomic<int*>[]> elems_;
};

}  // namespace

// CHESS's WorkStealQueue test (SCTBench's chess/WorkStealQueue.cpp): a
// queue of initial size 2; the owner pushes 4 items two at a time, popping
// one after each pair and the rest at the end, while a thief makes 2 steal
// attempts; every item must be taken exactly once.
void work_steal_queue(Variant v) {
  constexpr int kItems = 4, kAttempts = 2;
  WorkStealQueue q(2, v == Variant::kFixed);
  std::array<int, kItems> taken{};  // times each item was taken
  auto thief = spawn("stealer", [&] {
    int* item = nullptr;
    for (int i = 0; i < kAttempts; ++i)
      if (q.steal(item)) ++*item;
  });
  int* item = nullptr;
  for (int i = 0; i < kItems / 2; ++i) {
    q.push(&taken[static_cast<std::size_t>(2 * i)]);
    q.push(&taken[static_cast<std::size_t>(2 * i + 1)]);
    if (q.pop(item)) ++*item;
  }
  for (int i = 0; i < kItems / 2; ++i)
    if (q.pop(item)) ++*item;
  thief.join();
  for (int count : taken) WEFT_ASSERT(count == 1);
}

}  // namespace weft::test
