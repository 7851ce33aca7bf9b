#include "sim/byte_strategy.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "sim/harness/explore.h"
#include "sim/harness/fuzz.h"
#include "sim/weft.h"

namespace weft::sim {
namespace {

namespace fs = std::filesystem;

// Two strands that increment a counter by load-then-store (a lost update
// is possible) plus a spurious-wake-up-free value choice: every kind of
// choice a byte can decide.
void lost_update() {
  weft::Atomic<int> counter{0};
  auto inc = [&] {
    for (int i = 0; i < 2; ++i) counter.store(counter.load() + 1);
  };
  auto a = weft::spawn("a", inc);
  auto b = weft::spawn("b", inc);
  a.join();
  b.join();
  WEFT_ASSERT_MSG(counter.load() == 4, "an increment was lost");
}

RunResult run_bytes(const std::vector<std::uint8_t>& bytes) {
  ByteStrategy strategy(bytes);
  Scheduler sched{RunLimits{}};
  return sched.run(strategy, 0, lost_update);
}

// Shows a strategy's choice points and answers to a test.
class Spy final : public Strategy {
 public:
  explicit Spy(Strategy& inner) : inner_(inner) {}
  void begin(std::uint64_t seed) override { inner_.begin(seed); }
  std::uint32_t choose(const ChoicePoint& p) override {
    const std::uint32_t c = inner_.choose(p);
    seen.push_back({non_preempting(p), p.count, c});
    return c;
  }
  std::string name() const override { return inner_.name(); }
  std::string environment() const override { return inner_.environment(); }
  struct Seen {
    std::uint32_t base, count, chosen;
  };
  std::vector<Seen> seen;

 private:
  Strategy& inner_;
};

RC_GTEST_PROP(ByteStrategy, TheSameBytesGiveTheSameScheduleEveryRun,
              (std::vector<std::uint8_t> bytes)) {
  const RunResult first = run_bytes(bytes);
  const RunResult second = run_bytes(bytes);
  RC_ASSERT(digest(first.schedule) == digest(second.schedule));
  RC_ASSERT(first.failed() == second.failed());
  // The replica the determinism check uses makes it again too.
  ByteStrategy strategy(bytes);
  Scheduler sched{RunLimits{}};
  sched.run(strategy, 0, lost_update);
  const auto again = strategy.replica();
  RC_ASSERT(digest(sched.run(*again, 7, lost_update).schedule) ==
            digest(first.schedule));
}

RC_GTEST_PROP(ByteStrategy, EachByteSwitchesThatManyPlacesAfterTheRunningStrand,
              (std::vector<std::uint8_t> bytes)) {
  ByteStrategy strategy(bytes);
  Spy spy(strategy);
  Scheduler sched{RunLimits{}};
  sched.run(spy, 0, lost_update);
  for (std::size_t i = 0; i < spy.seen.size(); ++i) {
    const auto& s = spy.seen[i];
    const std::uint32_t want =
        i < bytes.size() ? (s.base + bytes[i] % s.count) % s.count : s.base;
    RC_ASSERT(s.chosen == want);
  }
  RC_ASSERT(strategy.consumed() == std::min(bytes.size(), spy.seen.size()));
}

TEST(ByteStrategy, ZeroBytesAndNoBytesBothKeepTheRunningStrand) {
  const RunResult none = run_bytes({});
  const RunResult zeros = run_bytes(std::vector<std::uint8_t>(64, 0));
  EXPECT_EQ(count_preemptions(none.schedule), 0u);
  EXPECT_EQ(digest(none.schedule), digest(zeros.schedule));
  EXPECT_FALSE(none.failed());
}

TEST(ByteStrategy, ManyAlternativesReadTwoBytesLittleEndian) {
  EXPECT_EQ(ByteStrategy::width(2), 1u);
  EXPECT_EQ(ByteStrategy::width(256), 1u);
  EXPECT_EQ(ByteStrategy::width(257), 2u);
  EXPECT_EQ(ByteStrategy::width(65536), 2u);
  EXPECT_EQ(ByteStrategy::width(65537), 4u);
  const std::vector<std::uint8_t> bytes = {0x2d, 0x01, 0x07};  // 301, then 7
  ByteStrategy s(bytes);
  s.begin(0);
  const ChoicePoint wide{ChoiceKind::kWork, true, 300, {}, 0, 1};
  EXPECT_EQ(s.choose(wide), 1u);  // 301 mod 300
  EXPECT_EQ(s.consumed(), 2u);
  EXPECT_EQ(s.choose(wide), 0u);  // one byte left: too short, the default
  EXPECT_EQ(s.consumed(), 3u);
}

// The first byte string, in a fixed order, whose schedule loses an update.
std::vector<std::uint8_t> failing_bytes() {
  Rng rng;
  rng.reseed(1);
  for (int tries = 0; tries < 10000; ++tries) {
    std::vector<std::uint8_t> bytes(16);
    for (auto& b : bytes) b = static_cast<std::uint8_t>(rng.below(256));
    if (run_bytes(bytes).failed()) return bytes;
  }
  return {};
}

class ByteStrategyFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("weft-bytes-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::vector<std::uint8_t>& bytes) {
    const std::string path = (dir_ / "crash-input").string();
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    return path;
  }
  ExploreOptions options() const {
    ExploreOptions o;
    o.use_environment = false;
    o.print = false;
    o.trace_dir = (dir_ / "traces").string();
    o.name = "lost_update";
    o.command = "test";
    return o;
  }
  fs::path dir_;
};

TEST_F(ByteStrategyFiles, AFuzzInputReplaysAsAScheduleTrace) {
  const std::vector<std::uint8_t> bytes = failing_bytes();
  ASSERT_FALSE(bytes.empty());
  ExploreOptions o = options();
  o.strategy = "bytes";
  o.fuzz_input = write(bytes);
  o.iterations = 1;
  const ExploreResult found = explore(o, lost_update);
  ASSERT_TRUE(found.failed());
  EXPECT_EQ(found.strategy, "bytes");
  EXPECT_EQ(found.digest, digest(run_bytes(bytes).schedule));
  EXPECT_NE(found.environment.find("WEFT_FUZZ_INPUT="), std::string::npos);
  ASSERT_TRUE(fs::exists(found.trace_path));

  ExploreOptions replay = options();
  replay.replay_file = found.trace_path;
  const ExploreResult again = explore(replay, lost_update);
  ASSERT_TRUE(again.failed());
  EXPECT_EQ(again.digest, found.digest);
  EXPECT_EQ(again.failure->message, found.failure->message);
}

TEST_F(ByteStrategyFiles, WeftFuzzInputSelectsOneScheduleByBytes) {
  const std::string path = write({1, 2, 3});
  setenv("WEFT_FUZZ_INPUT", path.c_str(), 1);
  ExploreOptions o;
  apply_environment(o);
  unsetenv("WEFT_FUZZ_INPUT");
  EXPECT_EQ(o.strategy, "bytes");
  EXPECT_EQ(o.iterations, 1u);
  EXPECT_EQ(o.fuzz_input, path);
}

TEST_F(ByteStrategyFiles, AMissingInputIsAnErrorNamingTheVariableAndFile) {
  ExploreOptions o = options();
  o.strategy = "bytes";
  o.fuzz_input = (dir_ / "no-such-crash").string();
  try {
    explore(o, lost_update);
    FAIL() << "no error for a missing WEFT_FUZZ_INPUT file";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("WEFT_FUZZ_INPUT"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("no-such-crash"), std::string::npos);
  }
  o.fuzz_input = dir_.string();  // a directory
  EXPECT_THROW(explore(o, lost_update), ConfigError);
  o.fuzz_input = "/dev/zero";  // endless: refused at the cap, not a hang
  try {
    explore(o, lost_update);
    FAIL() << "read /dev/zero to the end";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("byte offset"), std::string::npos);
  }
}

TEST_F(ByteStrategyFiles, WithoutAnInputEachSeedDrawsItsOwnBytes) {
  ExploreOptions o = options();
  o.strategy = "bytes";
  o.iterations = 200;
  o.shrink = false;
  const ExploreResult found = explore(o, lost_update);
  ASSERT_TRUE(found.failed());  // random bytes lose an update sometimes
  EXPECT_EQ(found.environment, "WEFT_STRATEGY=bytes");
  // The seed alone gives that schedule again.
  o.seed = found.seed;
  o.iterations = 1;
  const ExploreResult again = explore(o, lost_update);
  ASSERT_TRUE(again.failed());
  EXPECT_EQ(again.digest, found.digest);
  EXPECT_TRUE(found.report.find("WARNING") == std::string::npos);
}

// The fuzz target's entry point: a passing input returns 0; a failing one
// writes its trace, reports and aborts, which the fuzzer counts as a crash.
TEST_F(ByteStrategyFiles, AFailingFuzzInputWritesItsTraceAndAborts) {
  const std::vector<std::uint8_t> bytes = failing_bytes();
  ASSERT_FALSE(bytes.empty());
  const std::string traces = (dir_ / "fuzz-traces").string();
  setenv("WEFT_TRACE_DIR", traces.c_str(), 1);
  EXPECT_DEATH(fuzzing::run_input(bytes.data(), bytes.size(), lost_update,
                                  "lost_update"),
               "assertion failed under the fuzzer's input \\(16 bytes");
  unsetenv("WEFT_TRACE_DIR");
  ASSERT_TRUE(fs::exists(traces));
  const auto trace = fs::directory_iterator(traces)->path();
  ExploreOptions replay = options();
  replay.replay_file = trace.string();
  const ExploreResult again = explore(replay, lost_update);
  ASSERT_TRUE(again.failed());
  EXPECT_EQ(again.digest, digest(run_bytes(bytes).schedule));
  const std::uint8_t zero = 0;
  EXPECT_EQ(fuzzing::run_input(&zero, 1, lost_update, "lost_update"), 0);
}

}  // namespace
}  // namespace weft::sim
