// Record, convert and replay round trips on real programs: python3, git,
// the C++ compiler proper, and a multi-threaded program with cross-thread
// frees; a program killed mid-run leaves a log that still reads.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "replay/alloc/convert.h"
#include "replay/alloc/log.h"
#include "replay/alloc/replay.h"
#include "replay/alloc/testing.h"
#include "traces/writer.h"

namespace weft::replay {
namespace {

std::string temp(const std::string& name) {
  return ::testing::TempDir() + "/alloc-" + std::to_string(getpid()) + "-" +
         name;
}

// Runs a shell command; its exit status.
int shell(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int record(const std::string& log, const std::string& program) {
  return shell(std::string(WEFT_BINARY) + " alloc record -o " + log + " -- " +
               program + " >/dev/null 2>&1");
}

std::uint64_t count_calls(const std::string& log) {
  std::uint64_t n = 0;
  for (const auto& r : read_calls(log)) {
    (void)r;
    ++n;
  }
  return n;
}

// Every call of the log carries a time, and no thread's goes back.
void expect_timed_in_order(const std::string& log) {
  std::vector<std::uint64_t> last;
  std::uint64_t n = 0;
  for (const auto& r : read_calls(log)) {
    ++n;
    ASSERT_TRUE(r.timed) << log << ": call " << r.seq;
    if (r.thread >= last.size()) last.resize(r.thread + 1, 0);
    ASSERT_GE(r.time_ns, last[r.thread])
        << log << ": thread " << r.thread << " at call " << r.seq;
    last[r.thread] = r.time_ns;
  }
  EXPECT_GT(n, 0u) << log;
}

struct RoundTrip {
  std::uint64_t calls = 0;
  ConvertStats stats;
  ReplayResult replay;
};

// Record `program`, convert, replay under glibc in `mode`.
RoundTrip round_trip(const std::string& name, const std::string& program,
                     bool ordered = false) {
  RoundTrip t;
  const std::string log = temp(name + ".weft");
  const std::string slots = temp(name + ".slots.weft");
  EXPECT_EQ(record(log, program), 0) << program;
  t.calls = count_calls(log);
  t.stats = convert(log, slots);
  ReplayOptions options;
  options.ordered = ordered;
  t.replay = replay_in_child(slots, "glibc", options);
  if (std::getenv("WEFT_KEEP") == nullptr) {
    std::remove(log.c_str());
    std::remove(slots.c_str());
  }
  return t;
}

void expect_clean(const RoundTrip& t) {
  EXPECT_EQ(t.stats.calls, t.calls);
  // The only anomaly a real program may show: a free of a block that a
  // library constructor allocated before the recorder's own constructor
  // started recording. A handful at most; nothing else.
  EXPECT_LE(t.stats.unknown_frees, 5u);
  EXPECT_EQ(t.stats.anomalies(), t.stats.unknown_frees);
  EXPECT_EQ(t.stats.operations + t.stats.failed + t.stats.unknown_frees,
            t.calls);
  EXPECT_TRUE(t.replay.failure.empty()) << t.replay.failure;
  EXPECT_EQ(t.replay.error_count, 0u);
  EXPECT_EQ(t.replay.operations, t.stats.operations);
  EXPECT_EQ(t.replay.slots, t.stats.peak_live);
}

TEST(AllocRecord, Python3RoundTripsThroughRecordConvertAndReplay) {
  const RoundTrip t =
      round_trip("python",
                 "python3 -c 'import json; print(len(json.dumps([{\"k\": "
                 "i, \"v\": str(i) * 3} for i in range(20000)])))'");
  EXPECT_GT(t.calls, 1000u);
  expect_clean(t);
  EXPECT_GT(t.replay.peak_live, 0u);
}

TEST(AllocRecord, GitVersionRoundTrips) {
  const RoundTrip t = round_trip("git", "git --version");
  EXPECT_GT(t.calls, 10u);
  expect_clean(t);
}

TEST(AllocRecord, TheCompilerProperRoundTripsACompile) {
  // g++ itself only forks cc1plus, which the recorder does not follow:
  // record cc1plus directly on a small translation unit.
  const std::string src = temp("tu.cc");
  std::ofstream(src) << "#include <map>\n#include <string>\n"
                        "int f() { std::map<std::string, int> m; "
                        "m[\"a\"] = 1; return m.size(); }\n";
  const RoundTrip t = round_trip(
      "cc1plus",
      "$(g++ -print-prog-name=cc1plus) -quiet -imultiarch x86_64-linux-gnu "
      "-D_GNU_SOURCE -O1 " +
          src + " -o /dev/null");
  std::remove(src.c_str());
  EXPECT_GT(t.calls, 10000u);
  expect_clean(t);
}

TEST(AllocRecord, AGxxCompileIsRecordedWithItsChildrenOnRequest) {
  // The driver forks cc1plus and as; --children gives each its own log.
  const std::string dir = temp("gxx");
  ASSERT_EQ(shell("mkdir -p " + dir), 0);
  std::ofstream(dir + "/tu.cc") << "#include <vector>\n"
                                   "int f() { std::vector<int> v(10); "
                                   "return v.size(); }\n";
  ASSERT_EQ(shell(std::string(WEFT_BINARY) + " alloc record --children -o " +
                  dir + "/gxx.weft -- g++ -c " + dir + "/tu.cc -o " + dir +
                  "/tu.o 2>/dev/null"),
            0);
  ASSERT_EQ(access((dir + "/tu.o").c_str(), R_OK), 0);
  // The driver's own log, and one per program it ran.
  EXPECT_GT(count_calls(dir + "/gxx.weft"), 100u);
  FILE* ls = popen(("ls " + dir + "/gxx.weft.*").c_str(), "r");
  ASSERT_NE(ls, nullptr);
  char line[4096];
  std::vector<std::string> children;
  while (std::fgets(line, sizeof line, ls) != nullptr) {
    std::string name(line);
    name.pop_back();
    children.push_back(name);
  }
  pclose(ls);
  EXPECT_GE(children.size(), 2u);  // cc1plus and as at least
  std::uint64_t most = 0;
  std::string biggest;
  for (const auto& c : children) {
    const std::uint64_t n = count_calls(c);
    if (n > most) {
      most = n;
      biggest = c;
    }
  }
  EXPECT_GT(most, 10000u);         // cc1plus
  expect_timed_in_order(biggest);  // written from inside, not by the ring
  const ConvertStats stats = convert(biggest, biggest + ".slots");
  EXPECT_EQ(stats.anomalies(), stats.unknown_frees);
  EXPECT_LE(stats.unknown_frees, 5u);
  const ReplayResult r = replay_in_child(biggest + ".slots", "glibc", {});
  EXPECT_TRUE(r.ok()) << r.failure;
  shell("rm -rf " + dir);
}

TEST(AllocRecord, ThreadedProgramKeepsCrossThreadFreesInOrder) {
  const RoundTrip t =
      round_trip("threads", WEFT_ALLOC_THREADS_PROG, /*ordered=*/true);
  // 4 x 20000 allocations (and the mallocs reallocated), their frees.
  EXPECT_GE(t.calls, 4u * 20000 * 2);
  expect_clean(t);
  // Nothing before the recorder started is freed in this program, and
  // the recorder's own set-up is not in the log: no anomaly at all.
  EXPECT_EQ(t.stats.anomalies(), 0u);
  // Four worker threads and main, replayed one thread each.
  EXPECT_EQ(t.replay.mode, "ordered");
  EXPECT_GE(t.replay.threads, 5u);
}

TEST(AllocRecord, EveryCallIsTimedAndAThreadsSleepShowsAsAGapInItsTimes) {
  // Three threads allocate side by side; each makes a marker block of its
  // own size, sleeps 300 ms, and makes a second marker. Python allocates
  // a zero-filled bytes object of n bytes with calloc(1, n + 33).
  const std::string log = temp("timed.weft");
  const auto started = std::chrono::steady_clock::now();
  ASSERT_EQ(record(log,
                   "python3 -c 'import threading, time\n"
                   "def work(k):\n"
                   "    keep = [bytes(600 + i % 1000) for i in range(20000)]\n"
                   "    a = bytes(200000 + k)\n"
                   "    time.sleep(0.3)\n"
                   "    b = bytes(300000 + k)\n"
                   "    keep = [bytes(600 + i % 1000) for i in range(20000)]\n"
                   "ts = [threading.Thread(target=work, args=(k,)) "
                   "for k in range(3)]\n"
                   "[t.start() for t in ts]\n"
                   "[t.join() for t in ts]'"),
            0);
  // Nanoseconds, not raw clock ticks: no gap outlasts the whole recording.
  const auto whole = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::steady_clock::now() - started)
                         .count();
  expect_timed_in_order(log);
  // Each worker's markers: thread and time of `a` and `b`, by k.
  struct Marker {
    std::uint32_t thread = 0;
    std::uint64_t time_ns = 0;
    bool seen = false;
  };
  Marker before[3], after[3];
  for (const auto& r : read_calls(log)) {
    if (r.call != AllocCall::kCalloc) continue;
    for (std::uint64_t k = 0; k < 3; ++k) {
      if (r.size == 200000 + k + 33) before[k] = {r.thread, r.time_ns, true};
      if (r.size == 300000 + k + 33) after[k] = {r.thread, r.time_ns, true};
    }
  }
  std::remove(log.c_str());
  for (int k = 0; k < 3; ++k) {
    ASSERT_TRUE(before[k].seen && after[k].seen) << "worker " << k;
    EXPECT_EQ(before[k].thread, after[k].thread) << "worker " << k;
    EXPECT_GE(after[k].time_ns - before[k].time_ns, 300000000u)
        << "worker " << k;
    EXPECT_LT(after[k].time_ns, static_cast<std::uint64_t>(whole))
        << "worker " << k;
  }
  EXPECT_NE(before[0].thread, before[1].thread);
}

TEST(AllocRecord, AnIdleThreadsRecordsLandWithinConvertsReorderWindow) {
  // 4 x 150000 iterations: over a million records after the main thread's
  // few, which it holds in its buffer while it waits in join. Unless
  // another thread lands them, they reach the file at exit, after convert's
  // reorder window has given up on them: sequence gaps, late records
  // written out of order, and the window's memory.
  const std::string log = temp("idle.weft");
  ASSERT_EQ(record(log, std::string(WEFT_ALLOC_THREADS_PROG) + " 150000"), 0);
  const std::string slots = log + ".slots";
  const ConvertStats stats = convert(log, slots);
  std::remove(log.c_str());
  std::remove(slots.c_str());
  EXPECT_GT(stats.calls, 1u << 20);
  EXPECT_EQ(stats.sequence_gaps, 0u);
  EXPECT_EQ(stats.late, 0u);
  EXPECT_EQ(stats.anomalies(), 0u);
  EXPECT_LT(stats.max_window, 1u << 20);
}

TEST(AllocRecord, AKilledProgramLeavesALogThatStillReads) {
  const std::string log = temp("killed.weft");
  const int rc =
      record(log,
             "python3 -c 'import os; x = [bytes(1000 + i % 500) for i in "
             "range(100000)]; os.kill(os.getpid(), 9)'");
  EXPECT_EQ(rc, 128 + 9);
  // Whole frames landed before the kill (python allocates blocks over 512
  // bytes with malloc); the tail in thread buffers is lost, which convert
  // reports rather than refusing.
  const std::uint64_t calls = count_calls(log);
  EXPECT_GE(calls, 16384u);
  const ConvertStats stats = convert(log, log + ".slots");
  EXPECT_EQ(stats.calls, calls);
  std::remove(log.c_str());
  std::remove((log + ".slots").c_str());
}

TEST(AllocRecord, AForkedChildWritesNothingToTheLog) {
  // The child allocates (over a frame's worth) and exits through exit(),
  // which runs the recorder's destructor in the child too: it must not
  // write its copy of the parent's records into the shared log.
  const std::string log = temp("fork.weft");
  ASSERT_EQ(record(log,
                   "python3 -c 'import os, sys\n"
                   "x = [bytes(1000 + i % 500) for i in range(30000)]\n"
                   "pid = os.fork()\n"
                   "if pid == 0:\n"
                   "    y = [bytes(2000) for i in range(30000)]\n"
                   "    sys.exit(0)\n"
                   "os.waitpid(pid, 0)\n"
                   "z = [bytes(1500) for i in range(1000)]'"),
            0);
  const std::uint64_t calls = count_calls(log);  // throws if damaged
  const ConvertStats stats = convert(log, log + ".slots");
  EXPECT_EQ(stats.calls, calls);
  EXPECT_EQ(stats.sequence_gaps, 0u);
  EXPECT_EQ(stats.late, 0u);
  EXPECT_EQ(stats.double_frees, 0u);
  EXPECT_LE(stats.unknown_frees, 5u);
  std::remove(log.c_str());
  std::remove((log + ".slots").c_str());
}

TEST(AllocRecord, RecordsEveryWrappedFunctionAndFailedCalls) {
  const std::string log = temp("calls.weft");
  ASSERT_EQ(record(log, WEFT_MTRACE_PROG), 0);
  int seen[kAllocCallCount] = {};
  bool failed_realloc = false;
  for (const auto& r : read_calls(log)) {
    ++seen[static_cast<int>(r.call)];
    if (r.call == AllocCall::kRealloc && r.result == 0 && r.size > (1ull << 60))
      failed_realloc = true;
    if (r.call == AllocCall::kMemalign) {
      EXPECT_EQ(r.align, 64u);
    } else if (r.call == AllocCall::kPosixMemalign) {
      EXPECT_EQ(r.align, 256u);
    } else if (r.call == AllocCall::kAlignedAlloc) {
      EXPECT_EQ(r.align, 64u);
    } else if (r.call == AllocCall::kValloc) {
      EXPECT_EQ(r.align, 4096u);
    } else if (r.call == AllocCall::kCalloc && r.size == 1000) {
      EXPECT_NE(r.result, 0u);
    }
  }
  for (int c = 0; c < kAllocCallCount; ++c)
    EXPECT_GE(seen[c], 1) << call_name(static_cast<AllocCall>(c));
  EXPECT_GE(seen[static_cast<int>(AllocCall::kMalloc)], 64);
  EXPECT_TRUE(failed_realloc);
  std::remove(log.c_str());
}

// A calls log of `times` (thread, time) pairs, one malloc each.
void write_timed_log(
    const std::string& path,
    const std::vector<std::pair<std::uint32_t, std::uint64_t>>& times) {
  traces::TraceHeader h;
  h.kind = traces::TraceKind::kAllocLog;
  h.metadata = {{"form", "calls"}};
  traces::TraceWriter w(path, h);
  std::uint64_t seq = 0;
  for (const auto& [thread, t] : times) {
    AllocRecord r;
    r.seq = seq;
    r.thread = thread;
    r.size = 16;
    r.result = 0x1000 + 0x10 * seq++;
    r.timed = true;
    r.time_ns = t;
    w.append(r);
  }
  w.close();
}

// `weft alloc convert` of `log`: its exit status and standard error.
std::pair<int, std::string> convert_cli(const std::string& log,
                                        const std::string& out) {
  const std::string err = log + ".err";
  const int rc = shell(std::string(WEFT_BINARY) + " alloc convert " + log +
                       " -o " + out + " >/dev/null 2>" + err);
  std::ifstream in(err);
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  std::remove(err.c_str());
  return {rc, text};
}

TEST(AllocRecord, ConvertRefusesALogWhoseThreadTimeGoesBack) {
  const std::string log = temp("backwards.weft");
  const std::string out = temp("backwards.slots");
  write_timed_log(log, {{0, 100}, {1, 50}, {0, 200}, {1, 60}, {0, 150}});
  const auto [rc, err] = convert_cli(log, out);
  EXPECT_EQ(rc, 2) << err;
  // The file, the record (in file order), the thread and both times.
  EXPECT_NE(err.find(log), std::string::npos) << err;
  EXPECT_NE(err.find("record 4"), std::string::npos) << err;
  EXPECT_NE(err.find("thread 0"), std::string::npos) << err;
  EXPECT_NE(err.find("150 ns is before the thread's previous time 200 ns"),
            std::string::npos)
      << err;
  EXPECT_NE(access(out.c_str(), F_OK), 0) << "a refused convert left output";
  std::remove(log.c_str());
}

TEST(AllocRecord, ConvertRefusesATimePastTwoToThe62Nanoseconds) {
  const std::string log = temp("overflow.weft");
  const std::string out = temp("overflow.slots");
  write_timed_log(log, {{0, 100}, {3, (std::uint64_t{1} << 62) + 1}});
  const auto [rc, err] = convert_cli(log, out);
  EXPECT_EQ(rc, 2) << err;
  EXPECT_NE(err.find(log), std::string::npos) << err;
  EXPECT_NE(err.find("record 1"), std::string::npos) << err;
  EXPECT_NE(err.find("thread 3"), std::string::npos) << err;
  EXPECT_NE(err.find("4611686018427387905 ns is past the largest"),
            std::string::npos)
      << err;
  EXPECT_NE(access(out.c_str(), F_OK), 0) << "a refused convert left output";
  std::remove(log.c_str());
}

TEST(AllocRecord, ThePreloadedRecorderLeavesTheProgramsOutputAlone) {
  const std::string out = temp("out.txt");
  const std::string log = temp("echo.weft");
  ASSERT_EQ(shell(std::string(WEFT_BINARY) + " alloc record -o " + log +
                  " -- python3 -c 'print(6 * 7)' > " + out + " 2>/dev/null"),
            0);
  std::ifstream in(out);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "42");
  std::remove(out.c_str());
  std::remove(log.c_str());
}

TEST(AllocRecord, ExitStatusOfTheProgramIsPassedOn) {
  EXPECT_EQ(record(temp("exit.weft"), "python3 -c 'import sys; sys.exit(3)'"),
            3);
  std::remove(temp("exit.weft").c_str());
}

}  // namespace
}  // namespace weft::replay
