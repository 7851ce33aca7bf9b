// What a replay does with operations whose outcome the simulation would
// not reach by itself, driven by recordings written here by hand: a
// try_lock or try_acquire that failed on real threads fails in the replay
// (the object is free in the simulation), and a call_after timer fires at
// the recorded point, before the operations the recording orders after
// its callback (the simulation alone would fire it only once every strand
// blocks); reads coalesced into an Atomic operation (its value) are done
// right after it and before the next write, and writes counted in it in
// their place; a strand past the end of its
// recording does not write an object a recorded operation still waits on
// while another strand can go, but does when only it can; and an
// Atomic-heavy run, and two threads taking turns through an Atomic,
// recorded on real threads replay with every operation checked; a thread
// that spun through yields on a value while the other's write waited for
// its reads keeps the turn in the replay (whatever the spin counts).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "sim/atomic.h"
#include "sim/check.h"
#include "sim/clock.h"
#include "sim/harness/flight/recording.h"
#include "sim/harness/flight/replayer.h"
#include "sim/scheduler.h"
#include "sim/strategy.h"
#include "sim/sync.h"
#include "sim/thread.h"

namespace weft::sim::flight {
namespace {

using traces::FlightOp;
using traces::FlightRecord;

Recording recording_of(const std::vector<FlightRecord>& ops) {
  Recording r;
  r.path = "by-hand.trace";
  r.clock_base = UINT64_MAX;
  for (const FlightRecord& f : ops) {
    r.threads[f.thread].ops.push_back(f);
    r.operations += 1 + traces::flight_run_operations(f);
    if (f.op == FlightOp::kClock || f.op == FlightOp::kTimerArm)
      r.clock_base = std::min(r.clock_base, f.value);
  }
  if (r.clock_base == UINT64_MAX) r.clock_base = 0;
  return r;
}

// Runs `body` once under a replay of `rec`; the replay's own account.
struct Replayed {
  RunResult result;
  std::uint64_t checked = 0;
};
// The step limit grows with the recording: a thread that spun on real
// threads (a read and a yield per turn of its loop) spins as long here.
Replayed replay(const Recording& rec, const std::function<void()>& body) {
  FlightReplay strategy(rec);
  RunLimits limits;
  limits.max_steps = std::max(limits.max_steps, 4 * rec.operations);
  Scheduler sched{limits};
  sched.set_replay_hooks(&strategy);
  Replayed out;
  out.result = sched.run(strategy, 1, body);
  out.checked = strategy.replayed();
  return out;
}

TEST(FlightReplay, ATryLockThatFailedOnRealThreadsFailsInTheReplay) {
  const Recording rec = recording_of({{FlightOp::kTryFail, 0, 1, 0, 0}});
  bool got = true;
  const Replayed r = replay(rec, [&] {
    Mutex m;  // free: only the recording makes the attempt fail
    got = m.try_lock();
    if (got) m.unlock();
  });
  EXPECT_FALSE(r.result.failed()) << r.result.failure->message;
  EXPECT_FALSE(got);
  EXPECT_EQ(r.checked, 1u);
}

TEST(FlightReplay, ATryAcquireThatFailedOnRealThreadsFailsInTheReplay) {
  const Recording rec = recording_of({{FlightOp::kTryFail, 0, 1, 0, 0}});
  bool got = true;
  const Replayed r = replay(rec, [&] {
    Semaphore s(1);
    got = s.try_acquire();
  });
  EXPECT_FALSE(r.result.failed()) << r.result.failure->message;
  EXPECT_FALSE(got);
  EXPECT_EQ(r.checked, 1u);
}

TEST(FlightReplay, ATryLockRecordedAsTakenThatFailsIsADivergence) {
  // Recorded: thread 0 locked the mutex, then took it again with try_lock
  // (another program); the replayed program still holds it, so its
  // try_lock fails where the recording has a lock.
  const Recording rec = recording_of(
      {{FlightOp::kLock, 0, 1, 0, 0}, {FlightOp::kLock, 0, 1, 1, 0}});
  const Replayed r = replay(rec, [&] {
    Mutex m;
    m.lock();
    if (m.try_lock()) m.unlock();
    m.unlock();
  });
  ASSERT_TRUE(r.result.failed());
  EXPECT_EQ(r.result.failure->kind, FailureKind::kReplayDivergence);
  EXPECT_NE(r.result.failure->message.find(
                "it did a failed try_lock or try_acquire where the recording "
                "has the lock of object #1 at version 1"),
            std::string::npos)
      << r.result.failure->message;
  EXPECT_EQ(r.checked, 1u);
}

// Recorded: main armed a timer and read a flag at version 1, which the
// timer's callback (on the timer thread, 1) wrote.
std::vector<FlightRecord> timer_then_read() {
  return {{FlightOp::kTimerArm, 0, 1, 0, 5'000'000},
          {FlightOp::kAtomicRead, 0, 2, 1, 0},
          {FlightOp::kTimerFire, 1, 1, 1, 0},
          {FlightOp::kAtomicWrite, 1, 2, 0, 0}};
}

TEST(FlightReplay, ATimerFiresWhereTheRecordingFiredIt) {
  const Recording rec = recording_of(timer_then_read());
  int seen = -1;
  Clock::time_point fired_at{}, read_at{};
  const Replayed r = replay(rec, [&] {
    Atomic<int> flag{0};
    // The simulation's own delay is replaced by the recorded deadline.
    call_after(std::chrono::hours(1), [&] {
      fired_at = Clock::time_point(
          std::chrono::nanoseconds(Scheduler::current()->now()));
      flag.store(1);
    });
    seen = flag.load();  // a strand that never blocks: the timer must fire
    read_at = Clock::time_point(
        std::chrono::nanoseconds(Scheduler::current()->now()));
  });
  EXPECT_FALSE(r.result.failed()) << r.result.failure->message;
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(r.checked, 4u);
  // The recorded deadline is the first time reading: virtual time 0.
  EXPECT_EQ(fired_at.time_since_epoch().count(), 0);
  EXPECT_LE(fired_at, read_at);
}

TEST(FlightReplay, ACancelThatCameTooLateOnRealThreadsComesTooLateInTheReplay) {
  // Recorded: the timer fired (timer thread), then main's cancel found
  // it gone (value: arm version 0, not cancelled).
  const Recording rec = recording_of({{FlightOp::kTimerArm, 0, 1, 0, 1000},
                                      {FlightOp::kTimerCancel, 0, 1, 2, 0},
                                      {FlightOp::kTimerFire, 1, 1, 1, 0}});
  bool cancelled = true;
  int fired = 0;
  const Replayed r = replay(rec, [&] {
    Timer t = call_after(std::chrono::hours(1), [&] { ++fired; });
    cancelled = t.cancel();
  });
  EXPECT_FALSE(r.result.failed()) << r.result.failure->message;
  EXPECT_FALSE(cancelled);
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(r.checked, 3u);
}

TEST(FlightReplay,
     ReadsCoalescedIntoAnAtomicWriteAreReplayedBeforeTheNextWrite) {
  // Recorded: main stored (version 0) and read the value back twice
  // before thread 1's store (version 1): the two reads are counted in the
  // store's value instead of logged.
  const Recording rec = recording_of({{FlightOp::kSpawn, 0, 0, 0, 1},
                                      {FlightOp::kAtomicWrite, 0, 1, 0, 2},
                                      {FlightOp::kJoin, 0, 0, 0, 1},
                                      {FlightOp::kAtomicWrite, 1, 1, 1, 0}});
  int first = 0, second = 0, last = 0;
  const Replayed r = replay(rec, [&] {
    Atomic<int> x{0};
    JoinHandle t = spawn([&] { x.store(2); });
    x.store(1);
    first = x.load();
    second = x.load();
    t.join();
    last = x.load();  // after the recording: the tail's
  });
  EXPECT_FALSE(r.result.failed()) << r.result.failure->message;
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 1);
  EXPECT_EQ(last, 2);
  EXPECT_EQ(r.checked, 6u);
}

TEST(FlightReplay, WritesCountedInAnAtomicWriteAreReplayedInTheirPlace) {
  // Recorded: main added to x three times, reading it back after each,
  // with no other write between: one event (the first write, version 0)
  // counts the two later writes, the read before each and the last read.
  // Thread 1 read x at version 2, between main's second and third write.
  const std::uint64_t run =
      encode_run({.trailing = 1, .reads = 1, .writes = 2});
  const Recording rec = recording_of({{FlightOp::kSpawn, 0, 0, 0, 1},
                                      {FlightOp::kAtomicWrite, 0, 1, 0, run},
                                      {FlightOp::kJoin, 0, 0, 0, 1},
                                      {FlightOp::kAtomicRead, 1, 1, 2, 0}});
  EXPECT_EQ(rec.operations, 9u);
  int seen = -1;
  std::vector<int> back;
  const Replayed r = replay(rec, [&] {
    Atomic<int> x{0};
    JoinHandle t = spawn([&] { seen = x.load(); });
    for (int i = 0; i < 3; ++i) {
      x.fetch_add(1);
      back.push_back(x.load());
    }
    t.join();
  });
  EXPECT_FALSE(r.result.failed()) << r.result.failure->message;
  EXPECT_EQ(seen, 2);
  EXPECT_EQ(back, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(r.checked, 9u);
}

TEST(FlightReplay, AThreadThatNoLongerDoesTheCountedWritesDiverges) {
  // The same recording, but main now reads twice after its first write.
  const std::uint64_t run =
      encode_run({.trailing = 1, .reads = 1, .writes = 2});
  const Recording rec = recording_of({{FlightOp::kSpawn, 0, 0, 0, 1},
                                      {FlightOp::kAtomicWrite, 0, 1, 0, run},
                                      {FlightOp::kJoin, 0, 0, 0, 1},
                                      {FlightOp::kAtomicRead, 1, 1, 2, 0}});
  const Replayed r = replay(rec, [&] {
    Atomic<int> x{0};
    JoinHandle t = spawn([&] { (void)x.load(); });
    x.fetch_add(1);
    (void)x.load();
    (void)x.load();
    x.fetch_add(1);
    t.join();
  });
  ASSERT_TRUE(r.result.failed());
  EXPECT_EQ(r.result.failure->kind, FailureKind::kReplayDivergence);
  EXPECT_NE(r.result.failure->message.find(
                "did an atomic read where the recording has the atomic write "
                "of object #1 at version 1"),
            std::string::npos)
      << r.result.failure->message;
}

// A killed recording ends at a different point in each thread. Recorded:
// main locked b (version 0) and started threads 1 and 2; thread 1 locked
// a (0); thread 2 locked a (1), then b (1). Main's and thread 1's later
// operations were lost to the kill. In the replay thread 2 waits for a,
// which thread 1, past its recording, still holds; main, past its
// recording too, is about to lock b. Only thread 1's unlock keeps b at the
// version thread 2's recorded lock needs: run main first and b is a
// version ahead when thread 2 gets there.
TEST(FlightReplay,
     AStrandPastItsRecordingDoesNotTakeAnObjectARecordedOneStillNeeds) {
  const Recording rec = recording_of({{FlightOp::kLock, 0, 2, 0, 0},
                                      {FlightOp::kSpawn, 0, 0, 0, 1},
                                      {FlightOp::kSpawn, 0, 0, 0, 2},
                                      {FlightOp::kLock, 1, 1, 0, 0},
                                      {FlightOp::kLock, 2, 1, 1, 0},
                                      {FlightOp::kLock, 2, 2, 1, 0}});
  const Replayed r = replay(rec, [] {
    Mutex a, b;
    b.lock();
    b.unlock();
    JoinHandle t1 = spawn([&] {
      a.lock();
      a.unlock();
    });
    JoinHandle t2 = spawn([&] {
      a.lock();
      a.unlock();
      b.lock();
      b.unlock();
    });
    b.lock();  // past main's recording
    b.unlock();
    t1.join();
    t2.join();
  });
  EXPECT_FALSE(r.result.failed()) << r.result.failure->message;
  EXPECT_EQ(r.checked, rec.operations);
}

// Recorded: main locked b (version 0) and started thread 1, whose lock of
// b is at version 2: main's second lock (version 1) was lost to the kill.
// Only main, past its recording, can bring b to version 2, so it runs
// although b still has a recorded operation to come.
TEST(FlightReplay, ARecordedLockWaitingForAWriteTheRecordingLostStillReplays) {
  const Recording rec = recording_of({{FlightOp::kLock, 0, 1, 0, 0},
                                      {FlightOp::kSpawn, 0, 0, 0, 1},
                                      {FlightOp::kLock, 1, 1, 2, 0}});
  const Replayed r = replay(rec, [] {
    Mutex b;
    b.lock();
    b.unlock();
    JoinHandle t1 = spawn([&] {
      b.lock();
      b.unlock();
    });
    b.lock();  // lost from the recording
    b.unlock();
    t1.join();
  });
  EXPECT_FALSE(r.result.failed()) << r.result.failure->message;
  EXPECT_EQ(r.checked, rec.operations);
}

// A hand-off through an Atomic: thread 1 stores 1 and spins (reading,
// yielding) until thread 2, which spun until it saw the 1, stores 2.
void hand_off() {
  Atomic<int> turn{0};
  JoinHandle a = spawn([&turn] {
    turn.store(1);
    while (turn.load() != 2) yield_now();
  });
  JoinHandle b = spawn([&turn] {
    while (turn.load() != 1) yield_now();
    turn.store(2);
  });
  a.join();
  b.join();
}

// Its recording when thread 2 read `early` times before the 1 and thread 1
// read `spins` times after it (counted in its write, or each logged), the
// 2 waiting for all of them: on real threads a yield may let nothing else
// run, so a thread can spin any number of times while another's next
// operation waits for it.
Recording hand_off_recording(std::uint64_t early, std::uint64_t spins,
                             bool counted) {
  std::vector<FlightRecord> ops = {{FlightOp::kSpawn, 0, 0, 0, 1},
                                   {FlightOp::kSpawn, 0, 0, 0, 2},
                                   {FlightOp::kJoin, 0, 0, 0, 1},
                                   {FlightOp::kJoin, 0, 0, 0, 2}};
  ops.push_back({FlightOp::kAtomicWrite, 1, 1, 0,
                 counted ? encode_run({.trailing = spins}) : 0});
  for (std::uint64_t i = 0; !counted && i < spins; ++i)
    ops.push_back({FlightOp::kAtomicRead, 1, 1, 1, 0});
  ops.push_back({FlightOp::kAtomicRead, 1, 1, 2, 0});
  for (std::uint64_t i = 0; i < early; ++i)
    ops.push_back({FlightOp::kAtomicRead, 2, 1, 0, 0});
  ops.push_back({FlightOp::kAtomicRead, 2, 1, 1, 0});
  ops.push_back({FlightOp::kAtomicWrite, 2, 1, 1, 0});
  return recording_of(ops);
}

RC_GTEST_PROP(FlightReplay, AThreadSpinningThroughYieldsKeepsItsTurnInTheReplay,
              ()) {
  const auto early = *rc::gen::inRange<std::uint64_t>(0, 8);
  const auto spins = *rc::gen::inRange<std::uint64_t>(0, 64);
  const bool counted = *rc::gen::arbitrary<bool>();
  const Recording rec = hand_off_recording(early, spins, counted);
  const Replayed r = replay(rec, hand_off);
  RC_ASSERT_FALSE(r.result.failed());
  RC_ASSERT(r.checked == rec.operations);
}

TEST(FlightReplay,
     AThreadThatSpunHundredsOfTimesBeforeTheOthersWriteReplaysSpinForSpin) {
  // The recording that failed on an idle two-core machine: thread 1 spun
  // 235 times at version 1 (counted in its store) before thread 2's store.
  const Recording rec = hand_off_recording(0, 235, true);
  EXPECT_EQ(rec.operations, 4u + 1 + 235 + 1 + 2);
  const Replayed r = replay(rec, hand_off);
  EXPECT_FALSE(r.result.failed()) << r.result.failure->message;
  EXPECT_EQ(r.checked, rec.operations);
}

TEST(FlightReplay, AWrappedReplayStillKeepsTheSpinningStrandsTurn) {
  // The harness wraps strategies (ForwardingStrategy): the wrapper must
  // pass on that the replay keeps a yielding strand among the choices.
  const Recording rec = hand_off_recording(0, 20, true);
  FlightReplay replay_strategy(rec);
  ForwardingStrategy wrapped(&replay_strategy);
  Scheduler sched{RunLimits{}};
  sched.set_replay_hooks(&replay_strategy);
  const RunResult r = sched.run(wrapped, 1, hand_off);
  EXPECT_FALSE(r.failed()) << r.failure->message;
  EXPECT_EQ(replay_strategy.replayed(), rec.operations);
}

// Two threads, each adding to a shared Atomic and reading it back: most
// reads follow the thread's own write with no other write between.
void atomic_heavy() {
  Atomic<int> counter{0};
  std::vector<JoinHandle> threads;
  for (int t = 0; t < 2; ++t)
    threads.push_back(spawn([&counter] {
      for (int i = 0; i < 2000; ++i) {
        counter.fetch_add(1);
        WEFT_ASSERT(counter.load() > 0);
      }
    }));
  for (JoinHandle& t : threads) t.join();
  WEFT_ASSERT(counter.load() == 4000);
}

// Runs `body` on real threads with the recorder attached, writes the
// recording to `name` in the test's temporary directory and reads it back;
// `events` gets the count of events written.
Recording record_on_threads(void (*body)(), const char* name,
                            std::uint64_t* events = nullptr) {
  constexpr std::uint32_t kSlots = 8;
  constexpr std::uint64_t kCapacity = 1 << 16;
  std::vector<char> memory(Arena::bytes_for(kSlots, kCapacity));
  attach(memory.data(), kSlots, kCapacity, false);
  body();
  detach();
  const std::string path = ::testing::TempDir() + "/" + name;
  const std::uint64_t written = write_recording(
      *reinterpret_cast<Arena*>(memory.data()), path, "on demand", "test");
  if (events != nullptr) *events = written;
  Recording rec = read_recording(path);
  std::filesystem::remove(path);
  return rec;
}

TEST(FlightReplay, AnAtomicHeavyRunRecordedOnRealThreadsReplaysEveryOperation) {
  std::uint64_t events = 0;
  const Recording rec =
      record_on_threads(atomic_heavy, "atomic-heavy.trace", &events);
  // 4,000 operations per thread and main's spawns, joins and last read:
  // the reads that saw the thread's own write came in its value.
  EXPECT_EQ(rec.operations, 8'005u);
  EXPECT_LT(events, rec.operations);
  std::printf("%llu events for %llu operations\n",
              static_cast<unsigned long long>(events),
              static_cast<unsigned long long>(rec.operations));
  const Replayed r = replay(rec, atomic_heavy);
  EXPECT_FALSE(r.result.failed()) << r.result.failure->message;
  EXPECT_EQ(r.checked, rec.operations);
}

// Two threads taking turns through an Atomic: each waits (reading `turn`)
// until the other's store hands it over, so their writes interleave and
// each reads versions the other wrote.
void ping_pong() {
  Atomic<int> turn{0};
  Atomic<int> count{0};
  std::vector<JoinHandle> threads;
  for (int me = 0; me < 2; ++me)
    threads.push_back(spawn([&turn, &count, me] {
      for (int i = 0; i < 200; ++i) {
        while (turn.load() != me) yield_now();
        count.fetch_add(1);
        turn.store(1 - me);
      }
    }));
  for (JoinHandle& t : threads) t.join();
  WEFT_ASSERT(count.load() == 400);
}

TEST(FlightReplay, ThreadsTakingTurnsOnRealThreadsReplayEveryOperation) {
  const Recording rec = record_on_threads(ping_pong, "ping-pong.trace");
  // At least the 400 adds, 400 stores and 400 reads that saw the turn.
  EXPECT_GE(rec.operations, 1'200u);
  const Replayed r = replay(rec, ping_pong);
  EXPECT_FALSE(r.result.failed()) << r.result.failure->message;
  EXPECT_EQ(r.checked, rec.operations);
}

}  // namespace
}  // namespace weft::sim::flight
