// Virtual time, as docs/guide.md describes it: sleep_for and call_after
// never wait for real; the clock jumps to the next deadline when no strand
// can run, and callbacks due at the same instant fire in the order they
// were armed. Explores a small timeline and checks the order in every
// schedule; prints one schedule's timeline.
//
// This program exits 0 only if every schedule sees the documented order.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "sim/weft.h"

using namespace std::chrono_literals;

std::vector<std::string> g_log;  // reset by each schedule before use

void note(const std::string& what) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      weft::Clock::now().time_since_epoch());
  g_log.push_back(std::to_string(ms.count()) + "ms " + what);
}

void timeline() {
  g_log.clear();
  weft::Mutex mu("log");
  auto log = [&](const std::string& what) {
    std::lock_guard lock(mu);
    note(what);
  };
  // Two callbacks due at the same instant: first armed, first fired.
  weft::call_after(50ms, [&] { log("timer A"); });
  weft::call_after(50ms, [&] { log("timer B"); });
  weft::Timer never = weft::call_after(10ms, [&] { log("cancelled"); });
  never.cancel();
  auto sleeper = weft::spawn("sleeper", [&] {
    weft::sleep_for(1h);  // an hour of virtual time, no real waiting
    log("sleeper woke");
  });
  sleeper.join();
  const std::vector<std::string> expected = {"50ms timer A", "50ms timer B",
                                             "3600000ms sleeper woke"};
  std::lock_guard lock(mu);
  WEFT_ASSERT_MSG(g_log == expected, "timeline out of order");
}

int main() {
  weft::ExploreOptions options;
  options.iterations = 200;
  // The log is read after explore() returns, so the schedules run in this
  // process (crash containment would keep the log in its child).
  options.contain = weft::ExploreOptions::Contain::kOff;
  const weft::ExploreResult result = weft::explore(options, timeline);
  if (result.failed()) return 1;  // explore() has printed the report
  for (const std::string& line : g_log) std::printf("%s\n", line.c_str());
  std::printf("same order in %llu schedules\n",
              static_cast<unsigned long long>(result.schedules));
  return 0;
}
