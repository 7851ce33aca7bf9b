// The differential soundness test of the primitives: each program below
// runs on real threads with random delays and, exhaustively, under the
// scheduler. Real outcomes must be a subset of simulated ones, and the
// simulation must reach exactly the outcomes the model allows.
#include "tests/support/differential.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "sim/weft.h"

namespace weft::test {
namespace {

using namespace std::chrono_literals;

std::string b(bool v) { return v ? "1" : "0"; }

Program store_buffering() {
  return {"store buffering (seq_cst atomics)",
          [] {
            Atomic<int> x{0}, y{0};
            int r1 = 0, r2 = 0;
            auto a = spawn("a", [&] {
              x.store(1);
              jitter();
              r1 = y.load();
            });
            y.store(1);
            jitter();
            r2 = x.load();
            a.join();
            return "r1=" + std::to_string(r1) + " r2=" + std::to_string(r2);
          },
          {"r1=0 r2=1", "r1=1 r2=0", "r1=1 r2=1"}};
}

Program fetch_add_and_exchange() {
  return {"fetch_add against exchange",
          [] {
            Atomic<int> c{0};
            int a = 0, e = 0;
            auto t = spawn("adder", [&] { a = c.fetch_add(1); });
            jitter();
            e = c.exchange(10);
            t.join();
            return std::to_string(a) + " " + std::to_string(e) + " " +
                   std::to_string(c.load());
          },
          {"0 1 10", "10 0 11"}};
}

Program compare_exchange_race() {
  return {"two compare-exchanges race",
          [] {
            Atomic<int> v{0};
            bool ok_a = false, ok_b = false;
            auto t = spawn("a", [&] {
              int expected = 0;
              ok_a = v.compare_exchange_strong(expected, 1);
            });
            jitter();
            int expected = 0;
            ok_b = v.compare_exchange_strong(expected, 2);
            t.join();
            return b(ok_a) + b(ok_b) + " v=" + std::to_string(v.load());
          },
          {"10 v=1", "01 v=2"}};
}

// A racy reader sees the critical section's last store while the writer
// still holds the mutex: needs a switch point before unlock's release.
Program store_inside_critical_section() {
  return {
      "store seen while the mutex is still held",
      [] {
        Mutex m;
        Atomic<int> x{0};
        auto w = spawn("writer", [&] {
          m.lock();
          x.store(1);
          jitter();
          x.store(2);
          jitter();
          m.unlock();
        });
        jitter();
        const int r = x.load();
        const bool got = m.try_lock();
        if (got) m.unlock();
        w.join();
        return "x=" + std::to_string(r) + (got ? " free" : " held");
      },
      {"x=0 free", "x=0 held", "x=1 free", "x=1 held", "x=2 free", "x=2 held"}};
}

Program store_before_semaphore_release() {
  return {
      "store seen before the semaphore release",
      [] {
        Semaphore sem(0);
        Atomic<int> x{0};
        auto w = spawn("releaser", [&] {
          x.store(1);
          jitter();
          sem.release();
        });
        jitter();
        const int r = x.load();
        const bool got = sem.try_acquire();
        w.join();
        return "x=" + std::to_string(r) + " acquired=" + b(got);
      },
      {"x=0 acquired=0", "x=0 acquired=1", "x=1 acquired=0", "x=1 acquired=1"}};
}

Program store_before_latch_count_down() {
  return {"store seen before the latch count-down",
          [] {
            Latch latch(1);
            Atomic<int> x{0};
            auto w = spawn("arriver", [&] {
              x.store(1);
              jitter();
              latch.count_down();
            });
            jitter();
            const int r = x.load();
            jitter();
            const bool open = latch.try_wait();
            w.join();
            return "x=" + std::to_string(r) + " open=" + b(open);
          },
          {"x=0 open=0", "x=0 open=1", "x=1 open=0", "x=1 open=1"}};
}

// The waiter checks a flag under the mutex; the notifier sets it and
// notifies without the mutex, so the notify can fall between the check
// and the wait: a lost wake-up (seen as the timed wait expiring).
Program notify_without_the_mutex(bool notifier_locks) {
  return {notifier_locks ? "notify under the mutex"
                         : "notify without the mutex (lost wake-up)",
          [notifier_locks] {
            Mutex m;
            CondVar cv;
            Atomic<bool> flag{false};
            auto n = spawn("notifier", [&] {
              jitter();
              if (notifier_locks) {
                std::lock_guard lk(m);
                flag.store(true);
              } else {
                flag.store(true);
              }
              jitter();
              cv.notify_one();
            });
            bool lost = false;
            {
              std::unique_lock lk(m);
              while (!flag.load()) {
                jitter();
                // Only a lost notify lets the timed wait expire. Under
                // the mutex none is lost, so that wait is long enough
                // that no stall of a loaded machine ends it: at 2 s, a
                // real run stalled that long (ThreadSanitizer, two test
                // processes on two cores) would read as "lost".
                if (cv.wait_for(lk, notifier_locks ? 120s : 5ms) ==
                    std::cv_status::timeout) {
                  lost = true;
                  break;
                }
              }
            }
            n.join();
            return std::string(lost ? "lost" : "woken");
          },
          notifier_locks ? std::set<std::string>{"woken"}
                         : std::set<std::string>{"woken", "lost"},
          1000};
}

Program try_lock_against_lock() {
  return {"try_lock against a lock/unlock",
          [] {
            Mutex m;
            Atomic<int> x{0};
            auto t = spawn("locker", [&] {
              m.lock();
              x.store(1);
              jitter();
              m.unlock();
            });
            jitter();
            const bool got = m.try_lock();
            const int r = x.load();
            if (got) m.unlock();
            t.join();
            return "got=" + b(got) + " x=" + std::to_string(r);
          },
          {"got=0 x=0", "got=0 x=1", "got=1 x=0", "got=1 x=1"}};
}

Program semaphore_hand_off() {
  return {"semaphore hand-off",
          [] {
            Semaphore sem(0);
            Atomic<int> x{0};
            auto t = spawn("producer", [&] {
              x.store(1);
              jitter();
              sem.release();
            });
            sem.acquire();
            const int r = x.load();
            t.join();
            return "x=" + std::to_string(r);
          },
          {"x=1"}};
}

Program spawn_and_join() {
  return {"spawn and join",
          [] {
            Atomic<int> x{0};
            int r = 0;
            x.store(1);
            auto child = spawn("child", [&] {
              r = x.load();
              jitter();
              x.store(2);
            });
            jitter();
            const int before = x.load();
            x.store(3);
            child.join();
            return "child read " + std::to_string(r) + ", main read " +
                   std::to_string(before) + ", final " +
                   std::to_string(x.load());
          },
          {"child read 1, main read 1, final 2",
           "child read 1, main read 1, final 3",
           "child read 1, main read 2, final 3",
           "child read 3, main read 1, final 2"}};
}

Program timer_against_sleep() {
  return {"timer against a sleep of the same length",
          [] {
            Atomic<bool> fired{false};
            Semaphore done(0);
            call_after(1ms, [&] {
              fired.store(true);
              done.release();
            });
            sleep_for(1ms);
            const bool seen = fired.load();
            done.acquire();  // the callback has finished with our locals
            return "fired before the sleeper looked=" + b(seen);
          },
          {"fired before the sleeper looked=0",
           "fired before the sleeper looked=1"},
          300};
}

Program timer_cancel_race() {
  return {"cancel against the timer firing",
          [] {
            Atomic<bool> fired{false};
            Semaphore done(0);
            Timer t = call_after(1ms, [&] {
              fired.store(true);
              done.release();
            });
            sleep_for(1ms);
            const bool cancelled = t.cancel();
            if (!cancelled) done.acquire();
            return "cancelled=" + b(cancelled) + " fired=" + b(fired.load());
          },
          {"cancelled=0 fired=1", "cancelled=1 fired=0"},
          300};
}

Program memory_workers() {
  return {"which memory worker performs first",
          [] {
            MemoryWorker w1, w2;
            std::string log;
            w1.submit([&] { log += "1"; });
            w2.submit([&] { log += "2"; });
            std::vector<MemoryWorker*> all{&w1, &w2};
            while (sim::perform_next(all)) {
            }
            return log;
          },
          {"12", "21"},
          10};
}

std::vector<Program> programs() {
  return {store_buffering(),
          fetch_add_and_exchange(),
          compare_exchange_race(),
          store_inside_critical_section(),
          store_before_semaphore_release(),
          store_before_latch_count_down(),
          notify_without_the_mutex(false),
          notify_without_the_mutex(true),
          try_lock_against_lock(),
          semaphore_hand_off(),
          spawn_and_join(),
          timer_against_sleep(),
          timer_cancel_race(),
          memory_workers()};
}

class Differential : public ::testing::TestWithParam<Program> {};

TEST_P(Differential, EveryRealOutcomeIsReachableAndOnlyLegalOnesAre) {
  const Enumeration sim = expect_real_outcomes_reachable(GetParam());
  EXPECT_FALSE(sim.capped) << "the search was capped";
  EXPECT_FALSE(sim.bounded) << "the primitives' search is unbounded";
}

INSTANTIATE_TEST_SUITE_P(Primitives, Differential,
                         ::testing::ValuesIn(programs()),
                         [](const ::testing::TestParamInfo<Program>& param) {
                           return test_name(param.param);
                         });

}  // namespace
}  // namespace weft::test
