#include "sim/harness/schedule_trace.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "sim/harness/explore.h"
#include "sim/weft.h"
#include "traces/reader.h"

namespace weft::sim {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::string temp_dir(const std::string& name) {
  const fs::path p = fs::temp_directory_path() /
                     ("weft-" + std::to_string(getpid()) + "-" + name);
  fs::remove_all(p);
  return p.string();
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void lost_update_body() {
  Atomic<int> counter{0};
  auto inc = [&] {
    const int seen = counter.load();
    counter.store(seen + 1);
  };
  auto a = spawn("writer", inc);
  auto b = spawn("reader", inc);
  a.join();
  b.join();
  WEFT_ASSERT_MSG(counter.load() == 2, "lost update");
}

ExploreOptions quiet(const std::string& dir) {
  ExploreOptions o;
  o.iterations = 200;
  o.use_environment = false;
  o.print = false;
  o.name = "Trace.LostUpdate";
  o.trace_dir = dir;
  return o;
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { unsetenv(name_); }

 private:
  const char* name_;
};

TEST(ScheduleTrace,
     TheFailingScheduleAndItsShrunkFormAreWrittenBesideEachOther) {
  const std::string dir = temp_dir("traces");
  const auto r = explore(quiet(dir), lost_update_body);
  ASSERT_TRUE(r.failed());
  ASSERT_TRUE(r.shrunk);
  EXPECT_EQ(fs::path(r.trace_path).parent_path(), fs::absolute(dir));
  EXPECT_EQ(fs::path(r.shrunk_trace_path).parent_path(), fs::absolute(dir));
  EXPECT_THAT(r.trace_path, HasSubstr("Trace.LostUpdate-seed"));
  EXPECT_THAT(r.shrunk_trace_path, HasSubstr(".shrunk.weft"));
  // The file holds exactly the failing schedule, and says where it came
  // from.
  const ScheduleTrace t = read_schedule(r.trace_path);
  EXPECT_EQ(t.schedule, r.schedule);
  EXPECT_TRUE(t.complete);
  EXPECT_EQ(t.header.get("seed"), std::to_string(r.seed));
  EXPECT_EQ(t.header.get("test"), "Trace.LostUpdate");
  EXPECT_EQ(t.header.get("failure"), "assertion failed");
  EXPECT_NE(t.header.get("build_id"), "");
  // The report names both files with their sizes, and the command.
  EXPECT_THAT(r.report, HasSubstr("trace: " + r.trace_path + " ("));
  EXPECT_THAT(r.report, HasSubstr("shrunk trace: " + r.shrunk_trace_path));
  EXPECT_THAT(r.report, HasSubstr(" B)"));
  // quiet() ignores the environment: the command says what to set.
  EXPECT_THAT(r.trace_replay_command,
              HasSubstr("ExploreOptions::replay_file = \"" +
                        r.shrunk_trace_path + "\""));
  fs::remove_all(dir);
}

TEST(ScheduleTrace, WeftReplayReproducesTheFailureFromEitherFile) {
  const std::string dir = temp_dir("replay");
  const auto found = explore(quiet(dir), lost_update_body);
  ASSERT_TRUE(found.failed());
  for (const std::string& file : {found.trace_path, found.shrunk_trace_path}) {
    ScopedEnv replay("WEFT_REPLAY", file);
    ExploreOptions o = quiet(dir + "-again");
    o.use_environment = true;  // as the printed command runs it
    const auto again = explore(o, lost_update_body);
    ASSERT_TRUE(again.failed()) << file;
    EXPECT_EQ(again.failure->kind, FailureKind::kAssertion);
    EXPECT_EQ(again.schedules, 1u);
    EXPECT_THAT(again.report, HasSubstr("replayed from " + file));
    if (file == found.trace_path) {
      EXPECT_EQ(again.digest, found.digest);
    }
    // Replaying writes no new traces.
    EXPECT_FALSE(fs::exists(dir + "-again"));
  }
  fs::remove_all(dir);
}

TEST(ScheduleTrace, ReplayingAgainstChangedCodeNamesTheFirstDivergence) {
  const std::string dir = temp_dir("diverge");
  const auto found = explore(quiet(dir), lost_update_body);
  ASSERT_TRUE(found.failed());
  ScopedEnv replay("WEFT_REPLAY", found.trace_path);
  ExploreOptions o = quiet(dir);
  o.use_environment = true;
  // The "fixed" program takes a lock where the recording had none.
  const auto r = explore(o, [] {
    Mutex m("counter");
    int counter = 0;
    auto inc = [&] {
      m.lock();
      ++counter;
      m.unlock();
    };
    auto a = spawn("writer", inc);
    auto b = spawn("reader", inc);
    a.join();
    b.join();
  });
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.failure->kind, FailureKind::kReplayDivergence);
  EXPECT_THAT(r.failure->message, HasSubstr("expected a "));
  EXPECT_THAT(r.failure->message, HasSubstr(" at step "));
  EXPECT_THAT(r.failure->message, HasSubstr("the program offered a "));
  fs::remove_all(dir);
}

TEST(ScheduleTrace, ABadReplayFileIsAnErrorNamingTheFileAndOffset) {
  const std::string dir = temp_dir("bad");
  fs::create_directories(dir);
  const std::string path = dir + "/foreign.weft";
  std::ofstream(path) << "#!/bin/sh\necho not a trace\n";
  ScopedEnv replay("WEFT_REPLAY", path);
  ExploreOptions o = quiet(dir);
  o.use_environment = true;
  try {
    explore(o, lost_update_body);
    FAIL() << "a foreign replay file was accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("WEFT_REPLAY"));
    EXPECT_THAT(e.what(), HasSubstr(path));
    EXPECT_THAT(e.what(), HasSubstr("at byte 0"));
  }
  fs::remove_all(dir);
}

TEST(ScheduleTrace, ATraceHoldsEveryStrandEveryChoiceAndTheFailure) {
  const std::string dir = temp_dir("contents");
  fs::create_directories(dir);
  const std::string path = dir + "/run.weft";
  Scheduler sched(RunLimits{});
  RandomStrategy random;
  RunResult run;
  std::uint64_t seed = 0;
  // The first failing seed, recorded.
  for (;; ++seed) {
    ScheduleRecorder recorder(path, traces::TraceHeader{});
    sched.set_observer(&recorder);
    run = sched.run(random, seed, lost_update_body);
    sched.set_observer(nullptr);
    recorder.close();
    EXPECT_EQ(recorder.choices(), run.schedule.size());
    if (run.failed()) break;
    ASSERT_LT(seed, 200u) << "random walk never lost the update";
  }
  auto reader = traces::TraceReader::open(path);
  std::size_t spawns = 0, exits = 0, choices = 0, forced = 0, wakes = 0,
              failures = 0;
  for (const auto& rec : reader.records()) {
    if (const auto* s = std::get_if<traces::StrandRecord>(&rec)) {
      if (s->event == traces::StrandRecord::Event::kSpawn) {
        ASSERT_LT(s->strand, run.strand_names.size());
        EXPECT_EQ(s->name, run.strand_names[s->strand]);
        ++spawns;
      } else {
        ++exits;
      }
    } else if (const auto* c = std::get_if<traces::ChoiceRecord>(&rec)) {
      ++(c->count >= 2 ? choices : forced);
    } else if (std::holds_alternative<traces::EventRecord>(rec)) {
      ++wakes;
    } else if (const auto* f = std::get_if<traces::FailureRecord>(&rec)) {
      EXPECT_THAT(f->message, HasSubstr("lost update"));
      ++failures;
    }
  }
  EXPECT_EQ(spawns, run.strand_names.size());
  EXPECT_EQ(exits, 3u);  // writer, reader, and main ended by the assert
  EXPECT_EQ(choices, run.schedule.size());
  EXPECT_GT(forced, 0u);
  EXPECT_EQ(failures, 1u);
  fs::remove_all(dir);
}

TEST(ScheduleTrace, WakeUpsAndVirtualTimeAreRecorded) {
  const std::string dir = temp_dir("wakes");
  fs::create_directories(dir);
  const std::string path = dir + "/run.weft";
  Scheduler sched(RunLimits{});
  RandomStrategy random;
  {
    ScheduleRecorder recorder(path, traces::TraceHeader{});
    sched.set_observer(&recorder);
    sched.run(random, 1, [] {
      auto sleeper =
          spawn("sleeper", [] { sleep_for(std::chrono::seconds(2)); });
      sleeper.join();
    });
    sched.set_observer(nullptr);
  }
  auto reader = traces::TraceReader::open(path);
  bool clock_woke_sleeper = false, sleeper_woke_main = false;
  std::uint64_t last_time = 0;
  for (const auto& rec : reader.records()) {
    if (const auto* t = std::get_if<traces::TimeRecord>(&rec))
      last_time = t->time_ns;
    if (const auto* e = std::get_if<traces::EventRecord>(&rec)) {
      if (e->kind == traces::EventRecord::Kind::kTimer && e->peer == 1)
        clock_woke_sleeper = e->time_ns == 2'000'000'000;
      if (e->kind == traces::EventRecord::Kind::kWakeup && e->strand == 1 &&
          e->peer == 0)
        sleeper_woke_main = true;
    }
  }
  EXPECT_TRUE(clock_woke_sleeper);
  EXPECT_TRUE(sleeper_woke_main);
  EXPECT_EQ(last_time, 2'000'000'000u);
  fs::remove_all(dir);
}

TEST(ScheduleTrace, RecordingTheSameSeedTwiceGivesTheSameBytes) {
  const std::string a = temp_dir("same-a");
  const std::string b = temp_dir("same-b");
  const auto ra = explore(quiet(a), lost_update_body);
  const auto rb = explore(quiet(b), lost_update_body);
  ASSERT_TRUE(ra.failed());
  ASSERT_TRUE(rb.failed());
  EXPECT_EQ(file_bytes(ra.trace_path), file_bytes(rb.trace_path));
  EXPECT_EQ(file_bytes(ra.shrunk_trace_path), file_bytes(rb.shrunk_trace_path));
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST(ScheduleTrace, EveryChoiceKindRoundTripsThroughItsRecordUnderItsName) {
  for (int k = 0; k < kChoiceKindCount; ++k) {
    const Choice c{static_cast<ChoiceKind>(k), false, 1, 3, 2, 4, true, 9};
    const traces::ChoiceRecord r = to_record(c);
    EXPECT_EQ(r.kind, k);
    EXPECT_EQ(from_record(r), c);
    EXPECT_EQ(choice_kind_name(r.kind), to_string(c.kind));
  }
  traces::ChoiceRecord bad;
  bad.kind = kChoiceKindCount;
  EXPECT_EQ(from_record(bad), std::nullopt);
  EXPECT_EQ(choice_kind_name(bad.kind),
            "kind-" + std::to_string(kChoiceKindCount));
}

}  // namespace
}  // namespace weft::sim
