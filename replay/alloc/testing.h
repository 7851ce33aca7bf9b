// A GoogleTest helper for allocator authors: replay an allocator log
// against an allocator (in a child process, every block checked) and fail
// on any corrupted, overlapping or misaligned block, non-zero calloc
// memory, a crash, and optionally on a peak RSS above a baseline
// allocator's by more than a given ratio.
//
//   weft::replay::testing::ReplayExpectations expect;
//   expect.baseline = "glibc";
//   expect.max_rss_ratio = 1.5;
//   EXPECT_TRUE(weft::replay::testing::replays_cleanly(
//       "app.slots.weft", "/path/to/libmyalloc.so", expect));
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "replay/alloc/replay.h"

namespace weft::replay::testing {

struct ReplayExpectations {
  // One thread per recorded thread instead of one thread in global order.
  bool ordered = false;
  // One thread per recorded thread, each keeping its recorded gaps
  // between calls (a log with times; see ReplayOptions::timed).
  bool timed = false;
  // If set, also replay under this allocator and fail if the peak RSS is
  // more than max_rss_ratio times its peak.
  std::string baseline;
  double max_rss_ratio = 0;
};

// `slots_log` is what `weft alloc convert` writes; `allocator` is glibc,
// jemalloc, mimalloc, tcmalloc or a path to a malloc-replacing .so.
inline ::testing::AssertionResult replays_cleanly(
    const std::string& slots_log, const std::string& allocator,
    const ReplayExpectations& expect = {}) {
  ReplayOptions options;
  options.ordered = expect.ordered;
  options.timed = expect.timed;
#ifdef WEFT_ALLOC_REPLAYER_INSTALLED  // set by find_package(weft)
  options.replayer = WEFT_ALLOC_REPLAYER_INSTALLED;
#endif
  const ReplayResult r = replay_in_child(slots_log, allocator, options);
  if (!r.failure.empty())
    return ::testing::AssertionFailure()
           << "replaying " << slots_log << " under " << allocator
           << " failed: " << r.failure;
  if (r.error_count != 0) {
    auto failure = ::testing::AssertionFailure();
    failure << allocator << " damaged " << r.error_count
            << " block(s) replaying " << slots_log << ":";
    for (const auto& e : r.errors) failure << "\n  " << e;
    return failure;
  }
  if (!expect.baseline.empty() && expect.max_rss_ratio > 0) {
    const ReplayResult b = replay_in_child(slots_log, expect.baseline, options);
    if (!b.failure.empty())
      return ::testing::AssertionFailure()
             << "the baseline " << expect.baseline << " failed: " << b.failure;
    const double limit = static_cast<double>(b.peak_rss) * expect.max_rss_ratio;
    if (static_cast<double>(r.peak_rss) > limit) {
      char msg[256];
      std::snprintf(
          msg, sizeof msg,
          "peak RSS %.2f MiB is %.2fx %s's %.2f MiB (at most %.2fx "
          "allowed)",
          static_cast<double>(r.peak_rss) / 1048576.0,
          static_cast<double>(r.peak_rss) /
              static_cast<double>(std::max<std::uint64_t>(b.peak_rss, 1)),
          expect.baseline.c_str(), static_cast<double>(b.peak_rss) / 1048576.0,
          expect.max_rss_ratio);
      return ::testing::AssertionFailure() << allocator << ": " << msg;
    }
  }
  return ::testing::AssertionSuccess()
         << allocator << " replayed " << r.operations << " operations cleanly";
}

}  // namespace weft::replay::testing
