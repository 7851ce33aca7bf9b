// SCTBench's CS programs (account, wronglock, token_ring, carter01,
// deadlock01, lazy01), bad and fixed, against weft's facade.
#include <mutex>
#include <string>
#include <vector>

#include "sim/weft.h"
#include "tests/support/sctbench_programs.h"

namespace weft::test {

// A deposit and a withdrawal under one mutex, and a checker that, once both
// are done, checks the balance. Bad: it expects x - y - z (the deposit
// subtracted), so it fails whenever it runs after both. Fixed: x + y - z.
void account(Variant v) {
  constexpr int x = 1, y = 2, z = 4;
  Mutex m("account");
  Atomic<int> balance{x};
  Atomic<bool> deposit_done{false}, withdraw_done{false};
  auto check = spawn("check_result", [&] {
    std::lock_guard lk(m);
    if (deposit_done.load() && withdraw_done.load()) {
      const int want = v == Variant::kBad ? (x - y) - z : (x + y) - z;
      WEFT_ASSERT(balance.load() == want);
    }
  });
  auto deposit = spawn("deposit", [&] {
    std::lock_guard lk(m);
    balance.store(balance.load() + y);
    deposit_done.store(true);
  });
  auto withdraw = spawn("withdraw", [&] {
    std::lock_guard lk(m);
    balance.store(balance.load() - z);
    withdraw_done.store(true);
  });
  check.join();
  deposit.join();
  withdraw.join();
}

// One strand reads `data`, increments it and checks that nobody else
// changed it meanwhile, under data_lock (as SCTBench's funcA: x = data;
// data++; assert(data == x + 1)); `incrementers` others increment it. Bad: they
// lock the wrong mutex (this_lock). Fixed: they lock data_lock.
void wronglock(int incrementers, Variant v) {
  Mutex data_lock("data_lock"), this_lock("this_lock");
  Atomic<int> data{0};
  auto checker = spawn("funcA", [&] {
    std::lock_guard lk(data_lock);
    const int before = data.load();
    data.store(data.load() + 1);  // dataValue++: its own load and store
    WEFT_ASSERT(data.load() == before + 1);
  });
  Mutex& theirs = v == Variant::kBad ? this_lock : data_lock;
  std::vector<JoinHandle> others;
  for (int i = 0; i < incrementers; ++i)
    others.push_back(spawn("funcB", [&] {
      std::lock_guard lk(theirs);
      data.store(data.load() + 1);
    }));
  checker.join();
  for (auto& o : others) o.join();
}

// Three strands pass a value round a ring (x1 = (x3 + 1) % 4, x2 = x1,
// x3 = x2) and a fourth checks, once all three have run, that the ring
// agrees. Bad: the three run in any order, and only some orders agree.
// Fixed: a token (one semaphore per strand) makes them run in ring order.
void token_ring(Variant v) {
  Mutex m("ring");
  Atomic<int> x1{1}, x2{2}, x3{1};
  Atomic<bool> f1{false}, f2{false}, f3{false};
  Semaphore turn2(0, "turn 2"), turn3(0, "turn 3");
  const bool fixed = v == Variant::kFixed;
  auto t1 = spawn("t1", [&] {
    {
      std::lock_guard lk(m);
      x1.store((x3.load() + 1) % 4);
      f1.store(true);
    }
    if (fixed) turn2.release();
  });
  auto t2 = spawn("t2", [&] {
    if (fixed) turn2.acquire();
    {
      std::lock_guard lk(m);
      x2.store(x1.load());
      f2.store(true);
    }
    if (fixed) turn3.release();
  });
  auto t3 = spawn("t3", [&] {
    if (fixed) turn3.acquire();
    std::lock_guard lk(m);
    x3.store(x2.load());
    f3.store(true);
  });
  auto t4 = spawn("t4", [&] {
    std::lock_guard lk(m);
    if (f1.load() && f2.load() && f3.load())
      WEFT_ASSERT(x1.load() == x2.load() && x2.load() == x3.load());
  });
  t1.join();
  t2.join();
  t3.join();
  t4.join();
}

namespace {

// One class of carter01's strands: the first of its class (count 0 -> 1)
// takes the class lock `l`, the last (1 -> 0) releases it. Bad: it takes
// `l` while holding `m`, so it can block on `l` holding `m` while the
// holder of `l` waits for `m` to release it: a deadlock. Fixed: it decides
// under `m` and takes or releases `l` after letting `m` go.
void carter_class(Mutex& m, Mutex& l, Atomic<int>& count, Variant v) {
  if (v == Variant::kBad) {
    m.lock();
    count.store(count.load() + 1);
    if (count.load() == 1) l.lock();
    m.unlock();
    m.lock();
    count.store(count.load() - 1);
    if (count.load() == 0) l.unlock();
    m.unlock();
    return;
  }
  m.lock();
  count.store(count.load() + 1);
  const bool first = count.load() == 1;
  m.unlock();
  if (first) l.lock();
  m.lock();
  count.store(count.load() - 1);
  const bool last = count.load() == 0;
  m.unlock();
  if (last) l.unlock();
}

}  // namespace

// Carter's lock-per-class example: strands of class A and class B each take
// the shared lock `l` while one of their class is inside. As in SCTBench,
// two of the four strands do nothing.
void carter01(Variant v) {
  Mutex m("m"), l("l");
  Atomic<int> a{0}, b{0};
  auto a1 = spawn("a1", [&] { carter_class(m, l, a, v); });
  auto b1 = spawn("b1", [&] { carter_class(m, l, b, v); });
  auto a2 = spawn("a2", [] {});
  auto b2 = spawn("b2", [] {});
  a1.join();
  b1.join();
  a2.join();
  b2.join();
}

// Two strands take two mutexes. Bad: in opposite orders (a deadlock when
// each holds its first). Fixed: in the same order.
void deadlock01(Variant v) {
  Mutex a("a"), b("b");
  Atomic<int> counter{1};
  auto t1 = spawn("thread1", [&] {
    std::lock_guard la(a);
    std::lock_guard lb(b);
    counter.fetch_add(1);
  });
  Mutex& first = v == Variant::kBad ? b : a;
  Mutex& second = v == Variant::kBad ? a : b;
  auto t2 = spawn("thread2", [&] {
    std::lock_guard l1(first);
    std::lock_guard l2(second);
    counter.fetch_sub(1);
  });
  t1.join();
  t2.join();
}

// Two strands add 1 and 2 to `data` under a mutex; a third checks it. Bad:
// it asserts data < 3, false once both adders ran first. Fixed: it asserts
// what is true in every order (data is 0, 1, 2 or 3).
void lazy01(Variant v) {
  Mutex m("m");
  Atomic<int> data{0};
  // Spawned checker first, as SCTBench's main creates them (t3, t2, t1).
  auto t3 = spawn("thread3", [&] {
    std::lock_guard lk(m);
    const int seen = data.load();
    WEFT_ASSERT(v == Variant::kBad ? seen < 3 : seen >= 0 && seen <= 3);
  });
  auto t2 = spawn("thread2", [&] {
    std::lock_guard lk(m);
    data.store(data.load() + 2);
  });
  auto t1 = spawn("thread1", [&] {
    std::lock_guard lk(m);
    data.store(data.load() + 1);
  });
  t1.join();
  t2.join();
  t3.join();
}

}  // namespace weft::test
