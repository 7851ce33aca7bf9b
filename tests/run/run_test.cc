// `weft run` on pthread C programs built with no weft header: each bug is
// found with a replayable trace, each fixed version passes, one seed gives
// one digest, the printed replay command reproduces the failure, and bad
// input (a static binary, a missing program, fork, exec, cancellation, a
// futex operation other than wait and wake) is a message and exit status 2.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <regex>
#include <string>

namespace {

using ::testing::HasSubstr;

struct Outcome {
  int status = -1;
  std::string output;  // stdout and stderr
};

Outcome sh(const std::string& command) {
  Outcome o;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return o;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) o.output.append(buf, n);
  const int st = pclose(p);
  o.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return o;
}

std::string trace_dir() { return ::testing::TempDir() + "weft-run-traces"; }

Outcome weft_run(const std::string& program, const std::string& env = "",
                 const std::string& options = "") {
  return sh("WEFT_TRACE_DIR=" + trace_dir() + " " + env +
            " " WEFT_COMMAND " run " + options + " -- " + program);
}

std::string match(const std::string& text, const char* pattern) {
  std::smatch m;
  const std::regex re(pattern);
  return std::regex_search(text, m, re) ? m[1].str() : "";
}

struct BadProgram {
  const char* name;
  const char* bad;
  const char* fixed;
  const char* expect;  // in the report
};

const BadProgram kPrograms[] = {
    {"lost_update", WEFT_RUN_lost_update, WEFT_RUN_lost_update_fixed,
     "Assertion `counter == 2' failed"},
    {"order_violation", WEFT_RUN_order_violation,
     WEFT_RUN_order_violation_fixed, "config used before it was set"},
    {"lock_order", WEFT_RUN_lock_order, WEFT_RUN_lock_order_fixed, "deadlock"},
    {"lost_wakeup", WEFT_RUN_lost_wakeup, WEFT_RUN_lost_wakeup_fixed,
     "deadlock"},
    {"two_stage", WEFT_RUN_two_stage, WEFT_RUN_two_stage_fixed,
     "second stage not done"},
    {"if_not_while", WEFT_RUN_if_not_while, WEFT_RUN_if_not_while_fixed,
     "took from an empty queue"},
    // main ends with pthread_exit: the run goes on until the worker ends,
    // and the worker's check comes after main has gone.
    {"main_exit", WEFT_RUN_main_exit, WEFT_RUN_main_exit_fixed,
     "Assertion `total == 2' failed"},
    // C++20: std::binary_semaphore released before the value is written.
    // The release wakes through the futex system call, whose wake is a
    // choice point only because weft run simulates the futex.
    {"publish_early", WEFT_RUN_publish_early, WEFT_RUN_publish_early_fixed,
     "value read before it was written"},
    // C11 <threads.h>, whose functions glibc makes of its pthread ones by
    // internal names: found only because weft run interposes them too.
    {"c11_account", WEFT_RUN_c11_account, WEFT_RUN_c11_account_fixed,
     "a deposit was lost"},
};

class WeftRun : public ::testing::TestWithParam<BadProgram> {};

TEST_P(WeftRun, FindsTheBugWithATraceThatReplaysIt) {
  const BadProgram& p = GetParam();
  const Outcome found = weft_run(p.bad, "WEFT_ITERATIONS=1000");
  ASSERT_EQ(found.status, 1) << found.output;
  EXPECT_THAT(found.output, HasSubstr(p.expect));
  const std::string trace = match(found.output, R"(\n  trace: (\S+\.weft))");
  const std::string digest = match(found.output, R"(digest (0x[0-9a-f]+))");
  ASSERT_FALSE(trace.empty()) << found.output;
  const Outcome again = weft_run(p.bad, "", "--replay " + trace);
  EXPECT_EQ(again.status, 1) << again.output;
  EXPECT_THAT(again.output, HasSubstr(p.expect));
  EXPECT_THAT(again.output, HasSubstr("digest " + digest));
}

TEST_P(WeftRun, FixedVersionPassesAThousandPortfolioSchedules) {
  const Outcome o = weft_run(GetParam().fixed, "WEFT_ITERATIONS=1000");
  EXPECT_EQ(o.status, 0) << o.output;
  EXPECT_THAT(o.output, HasSubstr("1000 schedules passed"));
}

INSTANTIATE_TEST_SUITE_P(Programs, WeftRun, ::testing::ValuesIn(kPrograms),
                         [](const ::testing::TestParamInfo<BadProgram>& i) {
                           return std::string(i.param.name);
                         });

// A deadlock report says where each thread waits in the program's own
// code: the function that called pthread_mutex_lock (static, so named by
// the executable's symbol table only) and the address in the file that
// addr2line takes.
TEST(WeftRunDeadlock, TheReportNamesTheFunctionEachThreadWaitsIn) {
  const Outcome o = weft_run(WEFT_RUN_lock_order, "WEFT_ITERATIONS=1000");
  ASSERT_EQ(o.status, 1) << o.output;
  EXPECT_THAT(o.output, ::testing::ContainsRegex(
                            R"(waits to lock pthread mutex#[0-9]+ held by )"
                            R"(strand '[^']+' at forward\+0x[0-9a-f]+ in )"
                            R"(run_lock_order\+0x[0-9a-f]+)"));
  EXPECT_THAT(o.output,
              ::testing::ContainsRegex(R"(at backward\+0x[0-9a-f]+ in )"));
  EXPECT_THAT(o.output, ::testing::Not(HasSubstr("unknown location")));
}

TEST(WeftRunDeterminism, OneSeedTwiceGivesTheSameDigest) {
  const std::string env = "WEFT_SEED=7 WEFT_ITERATIONS=1000";
  const Outcome a = weft_run(WEFT_RUN_two_stage, env);
  const Outcome b = weft_run(WEFT_RUN_two_stage, env);
  ASSERT_EQ(a.status, 1) << a.output;
  const std::string da = match(a.output, R"(digest (0x[0-9a-f]+))");
  EXPECT_FALSE(da.empty());
  EXPECT_EQ(da, match(b.output, R"(digest (0x[0-9a-f]+))"));
}

TEST(WeftRunDeterminism, ThePrintedReplayCommandReproducesTheFailure) {
  const Outcome found = weft_run(WEFT_RUN_lost_update, "WEFT_ITERATIONS=1000");
  ASSERT_EQ(found.status, 1) << found.output;
  const std::string command =
      match(found.output, R"(replay it with:\n  ([^\n]+))");
  ASSERT_FALSE(command.empty()) << found.output;
  const Outcome again = sh(command);
  EXPECT_EQ(again.status, 1) << again.output;
  EXPECT_THAT(again.output, HasSubstr("Assertion `counter == 2' failed"));
}

// Programs that are correct in every schedule, each passing its
// schedules under weft run, and what went wrong before weft simulated
// what they use:
//  - keys.c: threads' pthread_setspecific values are their own though all
//    strands share one OS thread; its assert fails in any schedule where
//    one thread reads the other's value (as with the real, per-OS-thread
//    values).
//  - joins.c: the GNU try, timed and clock joins in virtual time, each
//    result and the virtual clock at each return asserted; libc's read
//    through weft's thread handles (SIGSEGV in the first schedule).
//  - signal_thread.c: a signal-handling thread in sigwait waits as a strand
//    (no signal comes in a simulation) while the others work; the real
//    sigwait blocked the OS thread and every schedule hung.
struct PassingProgram {
  const char* name;
  const char* path;
  int schedules;
};

const PassingProgram kPassing[] = {
    {"keys", WEFT_RUN_keys, 1000},
    {"joins", WEFT_RUN_joins, 300},
    {"signal_thread", WEFT_RUN_signal_thread, 200},
};

class WeftRunPasses : public ::testing::TestWithParam<PassingProgram> {};

TEST_P(WeftRunPasses, EverySchedule) {
  const PassingProgram& p = GetParam();
  const std::string n = std::to_string(p.schedules);
  const Outcome o =
      weft_run(p.path, "WEFT_ITERATIONS=" + n + " WEFT_WATCHDOG=2");
  EXPECT_EQ(o.status, 0) << o.output;
  EXPECT_THAT(o.output, HasSubstr(n + " schedules passed"));
}

INSTANTIATE_TEST_SUITE_P(Programs, WeftRunPasses, ::testing::ValuesIn(kPassing),
                         [](const ::testing::TestParamInfo<PassingProgram>& i) {
                           return std::string(i.param.name);
                         });

// A strand's stack under weft run is what glibc gives a thread (the soft
// RLIMIT_STACK): tests/run/programs/deep_stack.c recurses about 1.5 MiB
// deep on a thread and in main, and overflowed weft's 256 KiB default.
// WEFT_STACK_SIZE still sets it.
TEST(WeftRunStacks, AThreadHasTheStackARealThreadHas) {
  const Outcome o = weft_run(WEFT_RUN_deep_stack, "WEFT_ITERATIONS=20");
  EXPECT_EQ(o.status, 0) << o.output;
  EXPECT_THAT(o.output, HasSubstr("20 schedules passed"));
  const Outcome small = weft_run(WEFT_RUN_deep_stack,
                                 "WEFT_ITERATIONS=20 WEFT_STACK_SIZE=262144");
  EXPECT_EQ(small.status, 1) << small.output;
  EXPECT_THAT(small.output, HasSubstr("overflowed its stack"));
}

// A thread blocked in a real read is a hang named by the watchdog (one
// second of real time here), not a run that never ends.
TEST(WeftRunWatchdog, NamesTheThreadBlockedInACallWeftDoesNotControl) {
  const Outcome o = weft_run(WEFT_RUN_blocks, "WEFT_WATCHDOG=1");
  EXPECT_EQ(o.status, 1) << o.output;
  EXPECT_THAT(o.output, HasSubstr("in thread 'thread-1'"));
  EXPECT_THAT(o.output, HasSubstr("WEFT_WATCHDOG"));
  EXPECT_THAT(o.output, HasSubstr("pthread_mutex_unlock"));
}

TEST(WeftRunBadInput, AMissingProgramIsStatusTwoWithItsName) {
  const Outcome o = weft_run("/nonexistent/program");
  EXPECT_EQ(o.status, 2);
  EXPECT_THAT(o.output,
              HasSubstr("/nonexistent/program: No such file or directory"));
}

#ifdef WEFT_RUN_static
TEST(WeftRunBadInput, AStaticBinaryIsRefusedWithStatusTwo) {
  const Outcome o = weft_run(WEFT_RUN_static);
  EXPECT_EQ(o.status, 2);
  EXPECT_THAT(o.output, HasSubstr("statically linked"));
}
#endif

TEST(WeftRunBadInput, AProgramThatForksIsStatusTwoNamingFork) {
  const Outcome o = weft_run(WEFT_RUN_forks);
  EXPECT_EQ(o.status, 2) << o.output;
  EXPECT_THAT(o.output, HasSubstr("called fork in thread 'thread-1'"));
}

TEST(WeftRunBadInput, AProgramThatExecsIsStatusTwoNamingExec) {
  const Outcome o = weft_run(WEFT_RUN_execs);
  EXPECT_EQ(o.status, 2) << o.output;
  EXPECT_THAT(o.output, HasSubstr("called execv in thread 'main'"));
}

TEST(WeftRunBadInput, CancellingAThreadIsStatusTwoNamingIt) {
  const Outcome o = weft_run(WEFT_RUN_cancels);
  EXPECT_EQ(o.status, 2) << o.output;
  EXPECT_THAT(o.output, HasSubstr("called pthread_cancel"));
}

TEST(WeftRunBadInput, AFutexOperationOtherThanWaitOrWakeIsStatusTwo) {
  const Outcome o = weft_run(WEFT_RUN_futex_pi);
  EXPECT_EQ(o.status, 2) << o.output;
  EXPECT_THAT(o.output,
              HasSubstr("called futex with an operation other than wait or "
                        "wake in thread 'thread-1', which weft run does not "
                        "support: weft simulates only the futex operations"));
}

#ifdef WEFT_RUN_openmp
// Refused before any schedule: libgomp's own futex calls would hang them
// all, and a hang is reported as the program's failure (status 1).
TEST(WeftRunBadInput, AnOpenMpProgramIsStatusTwoNamingLibgomp) {
  const Outcome o = weft_run(WEFT_RUN_openmp, "WEFT_WATCHDOG=2");
  EXPECT_EQ(o.status, 2) << o.output;
  EXPECT_THAT(o.output, ::testing::ContainsRegex(
                            "weft run: the program loads [^ ]*libgomp\\.so"));
  EXPECT_THAT(o.output, HasSubstr("weft run does not support OpenMP"));
}
#endif

TEST(WeftRunBadInput, NotAProgramIsStatusTwo) {
  const Outcome o = weft_run("/etc/hostname");
  EXPECT_EQ(o.status, 2);
}

}  // namespace
