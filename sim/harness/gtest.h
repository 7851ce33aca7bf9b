// GoogleTest glue: a weft test is one line,
//   TEST(Bank, TransfersKeepTheTotal) { weft::testing::explore(body); }
// Any GoogleTest expectation or assertion failing inside a strand fails
// that schedule (with its step, strand and virtual time); the first failing
// schedule becomes one test failure carrying the report and the command
// that replays it, printed once (as the test's failure, not also by
// explore). The options come first, as in weft::explore. Header-only:
// weft_sim does not link GoogleTest.
#pragma once

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "sim/harness/explore.h"
#include "sim/scheduler.h"

namespace weft::testing {

namespace internal {

// Routes GoogleTest failures raised inside a strand to the schedule. Holds
// the array before the base so the base can be constructed from it.
struct ResultArrayHolder {
  ::testing::TestPartResultArray results;
};

class StrandFailureReporter
    : private ResultArrayHolder,
      public ::testing::ScopedFakeTestPartResultReporter {
 public:
  StrandFailureReporter()
      : ScopedFakeTestPartResultReporter(INTERCEPT_ONLY_CURRENT_THREAD,
                                         &results) {}
  void ReportTestPartResult(const ::testing::TestPartResult& r) override {
    if (r.type() == ::testing::TestPartResult::kSuccess) return;
    if (sim::Scheduler* s = sim::Scheduler::current()) {
      std::string where = r.file_name() ? r.file_name() : "";
      if (r.line_number() >= 0) where += ":" + std::to_string(r.line_number());
      s->fail(sim::FailureKind::kAssertion,
              "GoogleTest failure at " + where + ":\n  " + r.message());
      return;
    }
    outside_.push_back(r);
  }
  // Failures raised by the test outside any strand, replayed afterwards.
  std::vector<::testing::TestPartResult> outside_;
};

inline std::string current_test_command() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string cmd = sim::this_program("<test binary>");
  if (info != nullptr)
    cmd += std::string(" --gtest_filter=") + info->test_suite_name() + "." +
           info->name();
  return cmd;
}

inline sim::ExploreResult run(sim::ExploreOptions options,
                              const std::function<void()>& body,
                              bool expect_success) {
  if (options.command.empty()) options.command = current_test_command();
  if (options.name.empty()) {
    if (const auto* info =
            ::testing::UnitTest::GetInstance()->current_test_info())
      options.name = std::string(info->test_suite_name()) + "." + info->name();
  }
  // The test's failure carries the report: explore need not print it too.
  if (expect_success) options.print_failure = false;
  sim::ExploreResult result;
  std::vector<::testing::TestPartResult> outside;
  std::string config_error;
  {
    StrandFailureReporter reporter;
    try {
      result = sim::explore(options, body);
    } catch (const sim::ConfigError& e) {
      config_error = e.what();
    }
    outside = std::move(reporter.outside_);
  }
  for (const auto& r : outside)
    ::testing::internal::AssertHelper(r.type(), r.file_name(), r.line_number(),
                                      r.message()) = ::testing::Message();
  if (!config_error.empty()) {
    ADD_FAILURE() << "weft: " << config_error;
  } else if (expect_success && result.failed()) {
    ADD_FAILURE() << result.report;
  }
  return result;
}

}  // namespace internal

// Explores `body`; the test fails with the report if any schedule fails.
inline sim::ExploreResult explore(sim::ExploreOptions options,
                                  const std::function<void()>& body) {
  return internal::run(std::move(options), body, true);
}
inline sim::ExploreResult explore(const std::function<void()>& body) {
  return internal::run({}, body, true);
}
[[deprecated(
    "pass the options first, as weft::explore takes them")]] inline sim::
    ExploreResult
    explore(const std::function<void()>& body, sim::ExploreOptions options) {
  return internal::run(std::move(options), body, true);
}

// Explores `body` expecting it to fail: for tests that show weft finds a
// bug. Returns the result for the test to check; never fails the test by
// itself. The report is still printed so the log shows what was found.
inline sim::ExploreResult find_failure(sim::ExploreOptions options,
                                       const std::function<void()>& body) {
  return internal::run(std::move(options), body, false);
}
inline sim::ExploreResult find_failure(const std::function<void()>& body) {
  return internal::run({}, body, false);
}
[[deprecated(
    "pass the options first, as weft::explore takes them")]] inline sim::
    ExploreResult
    find_failure(const std::function<void()>& body,
                 sim::ExploreOptions options) {
  return internal::run(std::move(options), body, false);
}

// GoogleTest runs each test on one shard only; weft instead runs every test
// on every shard and splits each exploration's schedules among them, so a
// CI matrix of N machines explores N times faster. Call before
// InitGoogleTest (weft's test main does).
inline void take_over_sharding() {
  const char* total = std::getenv("GTEST_TOTAL_SHARDS");
  const char* index = std::getenv("GTEST_SHARD_INDEX");
  if (total == nullptr || index == nullptr) return;
  const std::uint64_t t = std::strtoull(total, nullptr, 10);
  const std::uint64_t i = std::strtoull(index, nullptr, 10);
  if (t == 0 || i >= t) return;
  sim::set_shard(i, t);
  // Tell the runner the binary understands sharding, as GoogleTest would.
  if (const char* status = std::getenv("GTEST_SHARD_STATUS_FILE")) {
    if (FILE* f = std::fopen(status, "w")) std::fclose(f);
  }
  unsetenv("GTEST_TOTAL_SHARDS");
  unsetenv("GTEST_SHARD_INDEX");
}

}  // namespace weft::testing
