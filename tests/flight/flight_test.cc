// Failures that happen now and then on real threads, recorded by the
// flight recorder until one happens, and replayed in the simulation: the
// recording reproduces the failure in every replay. The programs are
// flaky_pool.cc (a lost update between two jobs of a reactor's pool) and
// deadline.cc (a timeout that fires before a late answer, decided by the
// clock readings).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "tests/flight/run_program.h"

namespace weft::flight_test {
namespace {

using ::testing::HasSubstr;

const std::string kBin = WEFT_FLIGHT_BIN_DIR;
const std::string kSource = WEFT_SOURCE_DIR;

// The text with what varies from run to run made alike: recording paths,
// source paths and numbers.
std::string normalised(const std::string& text) {
  std::string s = std::regex_replace(
      text, std::regex(R"([^ ]*weft-flight-[0-9]+\.trace)"), "RECORDING");
  s = std::regex_replace(s, std::regex(R"([^ (]*tests/flight/)"),
                         "tests/flight/");
  return std::regex_replace(s, std::regex("[0-9]+"), "N");
}

// The replay output docs/guide.md shows ("Reproducing a production
// failure"), without its command line.
std::string guide_replay_output() {
  std::ifstream in(kSource + "/docs/guide.md");
  std::string line, out;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line == "<!-- flight-replay-output -->") inside = true;
    if (line == "<!-- /flight-replay-output -->") inside = false;
    if (inside && line.rfind("weft: ", 0) == 0) out += line + "\n";
  }
  return out;
}
const std::string kWeft = WEFT_CLI;

// Runs `program` recorded until a run fails (at most `max_runs` runs);
// returns its recording, or "" if none failed. Prints how many it took.
std::string record_until_failure(const std::string& program,
                                 const std::string& dir, int max_runs) {
  for (int run = 1; run <= max_runs; ++run) {
    const Ran r =
        run_program("WEFT_RECORD=" + dir + " " + kBin + "/" + program);
    if (r.status == 0) continue;
    std::printf("%s failed in run %d of at most %d:\n%s", program.c_str(), run,
                max_runs, r.output.c_str());
    const auto files = recordings(dir);
    return files.empty() ? "" : files.front();
  }
  return "";
}

void expect_replays_every_time(const std::string& program,
                               const std::string& trace, const std::string& dir,
                               const std::string& failure) {
  const std::string schedule = dir + "/replayed.weft";
  const Ran r =
      run_program("WEFT_REPLAY=" + trace +
                  " WEFT_REPLAY_TIMES=100 WEFT_REPLAY_SCHEDULE=" + schedule +
                  " " + kBin + "/" + program);
  std::printf("%s", r.output.c_str());
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.output, HasSubstr("the replay failed (assertion failed)"));
  EXPECT_THAT(r.output, HasSubstr(failure));
  EXPECT_THAT(r.output,
              HasSubstr("the same outcome and schedule in 100 of 100 runs"));
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("divergence")));
  if (program == "flight_flaky_pool") {
    // What the guide shows is what the replay prints.
    const std::string guide = guide_replay_output();
    ASSERT_NE(guide, "");
    EXPECT_EQ(normalised(r.output), normalised(guide));
  }
  // The replayed run is an ordinary schedule trace: it draws on the
  // timeline.
  const Ran e = run_program(kWeft + " trace export --format perfetto " +
                            schedule + " -o " + dir + "/replayed.json");
  EXPECT_EQ(e.status, 0) << e.output;
}

TEST(Flight, ALostUpdateInAReactorPoolRecordedOnRealThreadsReplaysEveryTime) {
  const std::string dir = fresh_dir("pool");
  const std::string trace =
      record_until_failure("flight_flaky_pool", dir, 3000);
  ASSERT_NE(trace, "") << "no run of 3000 failed";
  expect_replays_every_time("flight_flaky_pool", trace, dir,
                            "a job's completion was lost");
  std::filesystem::remove_all(dir);
}

TEST(Flight, ATimeoutDecidedByTheClockRecordedOnRealThreadsReplaysEveryTime) {
  const std::string dir = fresh_dir("deadline");
  const std::string trace = record_until_failure("flight_deadline", dir, 3000);
  ASSERT_NE(trace, "") << "no run of 3000 failed";
  expect_replays_every_time("flight_deadline", trace, dir,
                            "the request was answered 2 times");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace weft::flight_test
