// `weft alloc record` under kills: a recorded multi-threaded program
// SIGKILLed at random moments leaves every call it completed in the log,
// or the loss reported with its count; the program dies with its recorder
// and gets the signals sent to it; an exec starts the log afresh.
// WEFT_ALLOC_KILLS sets the number of kills (25 by default; 1000 for the
// full run, docs/guide.md).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "replay/alloc/log.h"
#include "tests/replay/alloc_kill_prog.h"
#include "tests/support/scratch_dir.h"

namespace weft::replay {
namespace {

constexpr unsigned kThreads = 4;

std::string temp(const std::string& name) {
  return test::scratch_file("alloc-kill-" + name);
}

void pause_us(long us) {
  const timespec t{us / 1000000, (us % 1000000) * 1000};
  nanosleep(&t, nullptr);
}

// A run of `weft alloc record` on alloc_kill_prog, its stderr in a file and
// the program's progress words mapped here.
struct Recording {
  std::string log = temp("log.weft");
  std::string progress = temp("progress");
  std::string err = temp("stderr");
  pid_t weft = -1;
  volatile std::uint64_t* words = nullptr;

  Recording() {
    { std::ofstream(progress) << std::string(4096, '\0'); }
    const int fd = open(progress.c_str(), O_RDWR);
    void* p = mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    words = p == MAP_FAILED ? nullptr : static_cast<std::uint64_t*>(p);
    weft = fork();
    if (weft == 0) {
      const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(e, 2);
      const std::string threads = std::to_string(kThreads);
      execl(WEFT_BINARY, WEFT_BINARY, "alloc", "record", "-o", log.c_str(),
            "--", WEFT_ALLOC_KILL_PROG, progress.c_str(), threads.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~Recording() {
    if (words != nullptr) munmap(const_cast<std::uint64_t*>(words), 4096);
    for (const auto& f : {log, progress, err}) std::remove(f.c_str());
  }

  // The program's pid once all its threads run; 0 if weft ended first.
  pid_t program() const {
    for (int i = 0; i < 60000; ++i) {  // a bound against a hang, not a timing
      if (words[0] != 0) return static_cast<pid_t>(words[0]);
      int status = 0;
      if (waitpid(weft, &status, WNOHANG) == weft) return 0;
      pause_us(1000);
    }
    return 0;
  }
  // weft's exit status as a shell gives it.
  int wait() const {
    int status = 0;
    while (waitpid(weft, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  }
  std::string stderr_text() const {
    std::ifstream in(err);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
};

// What weft reported: calls written and calls lost.
struct Reported {
  std::uint64_t calls = 0;
  std::uint64_t lost = 0;
  bool found = false;
};
Reported parse_report(const std::string& text) {
  Reported r;
  std::istringstream in(text);
  std::string line;
  const std::string prefix = "weft alloc record: ";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    const std::string rest = line.substr(prefix.size());
    const std::uint64_t n = std::strtoull(rest.c_str(), nullptr, 10);
    if (rest.find(" allocator calls in ") != std::string::npos) {
      r.calls = n;
      r.found = true;
    } else if (rest.find(" lost: ") != std::string::npos) {
      r.lost = n;
    }
  }
  return r;
}

// A worker's part of the log checked against the calls it makes.
struct Worker {
  unsigned id = 0;
  std::uint64_t calls = 0;  // calls matched, in order
  std::uint64_t block = 0;  // the block its last call returned
  std::string broken;
};

void check_call(Worker& w, const AllocRecord& r) {
  const std::uint64_t k = w.calls / 3;
  bool ok = false;
  switch (w.calls % 3) {
    case 0:
      ok = r.call == AllocCall::kMalloc &&
           r.size == kill_prog_first_size(w.id, k);
      break;
    case 1:
      ok = r.call == AllocCall::kRealloc && r.ptr == w.block &&
           r.size == kill_prog_second_size(w.id, k);
      break;
    default:
      ok = r.call == AllocCall::kFree && r.ptr == w.block;
  }
  if (!ok && w.broken.empty())
    w.broken = "thread " + std::to_string(w.id) + ": call " +
               std::to_string(w.calls) + " is " + call_name(r.call) + " of " +
               std::to_string(r.size);
  w.block = r.result;
  ++w.calls;
}

// What a log holds: each worker's calls, checked, and the sequence
// numbers neither a call nor a realloc's first number accounts for.
struct LogCheck {
  std::vector<Worker> workers = std::vector<Worker>(kThreads);
  std::uint64_t records = 0;
  std::uint64_t gaps = 0;
};

LogCheck check_log(const std::string& path) {
  LogCheck c;
  std::vector<int> worker_of;  // log thread -> worker, -1 main, -2 unseen
  std::vector<std::uint64_t> seqs;
  for (const AllocRecord& r : read_calls(path)) {
    ++c.records;
    seqs.push_back(r.seq);
    if (r.release_delta != 0) seqs.push_back(r.seq - r.release_delta);
    if (r.thread >= worker_of.size()) worker_of.resize(r.thread + 1, -2);
    int& w = worker_of[r.thread];
    if (w == -2) {  // a worker's first call names it
      const bool first = r.call == AllocCall::kMalloc && r.size >= 3000 &&
                         r.size < 3000 + 100 * kThreads;
      w = first ? static_cast<int>((r.size - 3000) / 100) : -1;
      if (w >= 0) c.workers[static_cast<unsigned>(w)].id = unsigned(w);
    }
    if (w >= 0) check_call(c.workers[static_cast<unsigned>(w)], r);
  }
  std::sort(seqs.begin(), seqs.end());
  if (!seqs.empty()) c.gaps = seqs.back() + 1 - seqs.size();
  return c;
}

struct KillOutcome {
  std::uint64_t completed = 0;  // calls the program said it completed
  std::uint64_t shortfall = 0;  // completed calls missing from the log
  std::uint64_t lost = 0;       // as weft reported
};

// Records the program, SIGKILLs it `delay_us` after its threads run, and
// checks the log against its progress words.
KillOutcome kill_once(long delay_us, int signal_to_program = SIGKILL) {
  KillOutcome out;
  Recording rec;
  const pid_t prog = rec.program();
  EXPECT_NE(prog, 0) << rec.stderr_text();
  if (prog == 0) return out;
  pause_us(delay_us);
  kill(prog, signal_to_program);
  EXPECT_EQ(rec.wait(), 128 + signal_to_program);
  const Reported rep = parse_report(rec.stderr_text());
  EXPECT_TRUE(rep.found) << rec.stderr_text();
  const LogCheck log = check_log(rec.log);
  EXPECT_EQ(log.records, rep.calls);
  out.lost = rep.lost;
  EXPECT_LE(log.gaps, rep.lost);
  for (unsigned i = 0; i < kThreads; ++i) {
    const Worker& w = log.workers[i];
    EXPECT_TRUE(w.broken.empty()) << w.broken;
    const std::uint64_t done = rec.words[8 * (i + 1)];
    out.completed += done;
    // The call after the last progress store may have returned too.
    EXPECT_LE(w.calls, done + 1) << "thread " << i;
    if (w.calls < done) out.shortfall += done - w.calls;
  }
  EXPECT_LE(out.shortfall, out.lost)
      << "completed calls missing from the log and not reported lost";
  return out;
}

TEST(AllocKill, EveryCompletedCallOfAKilledProgramIsLoggedOrReportedLost) {
  const char* env = std::getenv("WEFT_ALLOC_KILLS");
  char* end = nullptr;
  const long kills = env != nullptr ? std::strtol(env, &end, 10) : 25;
  ASSERT_TRUE(env == nullptr || (end != env && *end == '\0' && kills > 0))
      << "WEFT_ALLOC_KILLS=" << env << " is not a positive number of kills";
  std::mt19937_64 rng(15);
  std::uint64_t completed = 0, shortfall = 0, lost = 0, runs_with_loss = 0;
  for (int i = 0; i < kills && !HasFailure(); ++i) {
    // Up to 60 ms after the threads start: a few hundred thousand calls.
    const long delay =
        static_cast<long>(std::uniform_int_distribution<int>(0, 60000)(rng));
    const KillOutcome k = kill_once(delay);
    completed += k.completed;
    shortfall += k.shortfall;
    lost += k.lost;
    runs_with_loss += k.lost != 0;
  }
  std::printf(
      "%ld kills: %llu calls completed, %llu of them missing from the logs; "
      "%llu calls reported lost, in %llu runs\n",
      kills, static_cast<unsigned long long>(completed),
      static_cast<unsigned long long>(shortfall),
      static_cast<unsigned long long>(lost),
      static_cast<unsigned long long>(runs_with_loss));
  EXPECT_GT(completed, 0u);
}

TEST(AllocKill, ATermSentToTheRecorderReachesTheProgram) {
  Recording rec;
  const pid_t prog = rec.program();
  ASSERT_NE(prog, 0) << rec.stderr_text();
  pause_us(20000);
  kill(rec.weft, SIGTERM);
  // weft passes it on, waits for the program and reads the ring out.
  EXPECT_EQ(rec.wait(), 128 + SIGTERM);
  const Reported rep = parse_report(rec.stderr_text());
  EXPECT_TRUE(rep.found) << rec.stderr_text();
  const LogCheck log = check_log(rec.log);
  EXPECT_EQ(log.records, rep.calls);
  for (unsigned i = 0; i < kThreads; ++i) {
    EXPECT_TRUE(log.workers[i].broken.empty()) << log.workers[i].broken;
    EXPECT_GE(log.workers[i].calls + rep.lost, rec.words[8 * (i + 1)]);
  }
}

TEST(AllocKill, AProgramThatKillsItselfLosesNoCallAsTheGuideShows) {
  // docs/guide.md shows this output: 50,000 malloc and free pairs, then
  // kill -9 of itself.
  const std::string dir = temp("self");
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  const std::string cmd = "cd " + dir + " && " + WEFT_BINARY +
                          " alloc record -o self.weft -- " +
                          WEFT_ALLOC_KILL_PROG + " --self 50000 2>err";
  const int status = std::system(cmd.c_str());
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGKILL);
  std::ifstream in(dir + "/err");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(),
            "weft alloc record: 100000 allocator calls in self.weft (program "
            "exit status 137)\n");
  std::uint64_t n = 0;
  for (const AllocRecord& r : read_calls(dir + "/self.weft"))
    EXPECT_EQ(r.seq, n++);
  EXPECT_EQ(n, 100000u);
  EXPECT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
}

TEST(AllocKill, KillingTheRecorderKillsTheProgram) {
  // The program, orphaned, becomes this process's child: its status shows.
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  Recording rec;
  const pid_t prog = rec.program();
  ASSERT_NE(prog, 0) << rec.stderr_text();
  kill(rec.weft, SIGKILL);
  EXPECT_EQ(rec.wait(), 128 + SIGKILL);
  int status = 0;
  pid_t w = 0;
  for (int i = 0; i < 60000 && w == 0; ++i) {  // a bound against a hang
    w = waitpid(prog, &status, WNOHANG);
    if (w == 0) pause_us(1000);
  }
  prctl(PR_SET_CHILD_SUBREAPER, 0);
  ASSERT_EQ(w, prog) << "the recorded program outlived weft alloc record";
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

TEST(AllocKill, AnExecStartsTheLogAfreshWithTheNewProgram) {
  // sh allocates, then execs the program: the log is the program's alone.
  const std::string log = temp("exec.weft");
  const std::string cmd = std::string(WEFT_BINARY) + " alloc record -o " + log +
                          " -- sh -c 'x=$(echo a); exec " +
                          WEFT_ALLOC_THREADS_PROG + " 2000' 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto reader = traces::TraceReader::open(log);
  EXPECT_NE(reader.header().get("program").find("alloc_threads_prog"),
            std::string::npos)
      << reader.header().get("program");
  std::uint64_t n = 0, first_seq = UINT64_MAX;
  std::set<std::uint64_t> seqs;
  for (const AllocRecord& r : read_calls(log)) {
    first_seq = std::min(first_seq, r.seq);
    seqs.insert(r.seq);
    if (r.release_delta != 0) seqs.insert(r.seq - r.release_delta);
    ++n;
  }
  // 4 threads x 2000 allocations and their frees, numbered from 0.
  EXPECT_GE(n, 4u * 2000 * 2);
  EXPECT_EQ(first_seq, 0u);
  EXPECT_EQ(*seqs.rbegin() + 1, seqs.size());
  std::remove(log.c_str());
}

}  // namespace
}  // namespace weft::replay
