// `weft trace` on a long file: progress on a terminal, nothing in a log.
// The command runs as a child, once under script(1) (a pseudo-terminal)
// and once with its output piped, as CI would capture it.
#include "replay/trace_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>

#include "traces/writer.h"

namespace weft::replay {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

// Output (stdout and stderr) of a shell command.
std::string run(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return out;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0)
    out.append(buf.data(), n);
  pclose(p);
  return out;
}

// A trace of incompressible event details, over the 8 MiB from which the
// command shows progress.
std::string long_trace() {
  const fs::path path = fs::temp_directory_path() /
                        ("weft-" + std::to_string(getpid()) + "-long.weft");
  traces::TraceHeader h;
  h.kind = traces::TraceKind::kEvents;
  traces::TraceWriter w(path.string(), h);
  std::uint64_t x = 0x9e3779b97f4a7c15ULL;
  char hex[40];
  for (int i = 0; i < 600'000; ++i) {
    traces::EventRecord e;
    e.step = static_cast<std::uint64_t>(i);
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    const std::uint64_t y = x * 0x2545f4914f6cdd1dULL;
    std::snprintf(hex, sizeof hex, "%016llx%016llx",
                  static_cast<unsigned long long>(x),
                  static_cast<unsigned long long>(y));
    e.detail = hex;
    w.append(e);
  }
  w.close();
  return path.string();
}

TEST(TraceCommand, ShowsProgressOnATerminalAndNothingInALog) {
  if (run("command -v script").empty()) GTEST_SKIP() << "no script(1)";
  const std::string trace = long_trace();
  ASSERT_GE(fs::file_size(trace), 8u << 20);
  const std::string verify =
      std::string(WEFT_BINARY) + " trace verify " + trace;

  const std::string piped = run(verify);
  EXPECT_THAT(piped, HasSubstr(": ok: "));
  EXPECT_THAT(piped, Not(HasSubstr("weft: reading"))) << piped;

  const std::string terminal = run("script -qec '" + verify + "' /dev/null");
  EXPECT_THAT(terminal, HasSubstr(": ok: "));
  EXPECT_THAT(terminal, HasSubstr("weft: reading " + trace + " ")) << terminal;
  fs::remove(trace);
}

TEST(TraceCommand, ShowAndStatPrintAllocatorLogRecords) {
  const fs::path path = fs::temp_directory_path() /
                        ("weft-" + std::to_string(getpid()) + "-alloc.weft");
  {
    traces::TraceHeader h;
    h.kind = traces::TraceKind::kAllocLog;
    traces::TraceWriter w(path.string(), h);
    traces::AllocRecord a;
    a.call = traces::AllocCall::kMalloc;
    a.thread = 2;
    a.seq = 41;
    a.size = 100;
    a.result = 0x1000;
    w.append(a);
    traces::SlotRecord l;
    l.call = traces::AllocCall::kFree;
    l.thread = 2;
    l.slot = 3;
    w.append(l);
  }
  std::ostringstream shown, stat;
  ASSERT_EQ(trace_show(path.string(), ShowOptions{}, shown), 0);
  EXPECT_THAT(shown.str(), HasSubstr("malloc         thread 2  size 100 "
                                     "align 0  ptr 0 -> 0x1000"));
  EXPECT_THAT(shown.str(), HasSubstr("free           thread 2  slot 3"));
  ASSERT_EQ(trace_stat(path.string(), stat), 0);
  EXPECT_THAT(stat.str(), HasSubstr("failures 0, allocator calls 2"));
  fs::remove(path);
}

// Every choice kind prints by its name (the newest ones too), a byte no
// kind has as kind-N, and event kinds by theirs.
TEST(TraceCommand, ShowAndStatNameEveryChoiceKind) {
  const fs::path path = fs::temp_directory_path() /
                        ("weft-" + std::to_string(getpid()) + "-kinds.weft");
  {
    traces::TraceHeader h;
    traces::TraceWriter w(path.string(), h);
    std::uint64_t step = 0;
    for (std::uint8_t kind :
         {std::uint8_t{14}, std::uint8_t{15}, std::uint8_t{200}}) {
      w.append(traces::ChoiceRecord{kind, false, 0, 2, 1, 1, true, ++step});
    }
    traces::EventRecord e;
    e.kind = traces::EventRecord::Kind::kWakeup;
    e.step = ++step;
    w.append(e);
  }
  std::ostringstream shown, stat;
  ASSERT_EQ(trace_show(path.string(), ShowOptions{}, shown), 0);
  EXPECT_THAT(shown.str(), HasSubstr("choice  release by"));
  EXPECT_THAT(shown.str(), HasSubstr("choice  acquire by"));
  EXPECT_THAT(shown.str(), HasSubstr("choice  kind-200 by"));
  EXPECT_THAT(shown.str(), HasSubstr("event   wake-up"));
  ASSERT_EQ(trace_stat(path.string(), stat), 0);
  EXPECT_THAT(stat.str(), HasSubstr("  release: 1\n"));
  EXPECT_THAT(stat.str(), HasSubstr("  acquire: 1\n"));
  EXPECT_THAT(stat.str(), HasSubstr("  kind-200: 1\n"));
  fs::remove(path);
}

}  // namespace
}  // namespace weft::replay
