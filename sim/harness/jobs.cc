#include "sim/harness/jobs.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include "sim/harness/checkpoint.h"
#include "sim/harness/explore_steps.h"
#include "sim/harness/pipe_io.h"

namespace weft::sim::internal {
namespace {

constexpr std::size_t kKeyCap = 1024;  // a longer key is kept as a prefix

// One job's published failure, in memory shared by the jobs.
struct Slot {
  std::atomic<std::uint32_t> failed{0};
  std::uint32_t length = 0;  // of the whole key
  std::uint32_t key[kKeyCap];
};

Slot* g_slots = nullptr;
std::uint64_t g_jobs = 0;
std::uint64_t g_job = 0;

// <0, 0, >0 as (a, ja) is before, equal to, after (b, jb) in the order of
// an unsharded run; `b_length` is b's whole length, of which b holds the
// first `kept`. Unknown (2) when the kept prefix cannot tell.
int compare(const std::vector<std::uint32_t>& a, std::uint64_t ja,
            const std::uint32_t* b, std::size_t b_length, std::size_t kept,
            std::uint64_t jb) {
  for (std::size_t i = 0; i < a.size() && i < kept; ++i)
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  if (a.size() >= kept && b_length > kept) return 2;
  if (a.size() != b_length) return a.size() < b_length ? -1 : 1;
  return ja < jb ? -1 : (ja > jb ? 1 : 0);
}

int compare(const ExploreResult& a, std::uint64_t ja, const ExploreResult& b,
            std::uint64_t jb) {
  const std::vector<std::uint32_t>& k = b.order_key;
  return compare(a.order_key, ja, k.data(), k.size(), k.size(), jb);
}

struct Job {
  pid_t pid = -1;
  int fd = -1;
};

// In the child: its share of the search, with the failure pipeline left
// to the parent. Returns what goes down the pipe.
std::string run_one(ExploreOptions o, Strategy& strategy,
                    const std::function<void()>& body, const ScheduleLoop& loop,
                    std::uint64_t shard, std::uint64_t shards) {
  try {
    set_shard(shard, shards);
    const bool splits = strategy.split(shard, shards);
    if (!o.checkpoint_file.empty()) {
      o.checkpoint_file += "." + std::to_string(g_job);
      resume_checkpoint(o, strategy, shard, shards);
    }
    o.jobs = 1;
    o.print = false;
    o.verbose = false;
    o.shrink = false;
    o.check_determinism = false;
    o.trace_dir.clear();
    ExploreResult r = contained(o) ? explore_contained(o, strategy, body, loop)
                                   : loop(o, strategy, body);
    if (r.failed() && r.order_key.empty())  // a contained crash
      r.order_key = splits ? strategy.order_key(r.schedule)
                           : iteration_key(r.seed - o.seed);
    return "R" + encode_result(r);
  } catch (const ConfigError& e) {
    return std::string("C") + e.what();
  } catch (const std::exception& e) {
    return std::string("E") + e.what();
  }
}

Job start_job(ExploreOptions& o, Strategy& strategy,
              const std::function<void()>& body, const ScheduleLoop& loop,
              std::uint64_t shard, std::uint64_t shards, std::uint64_t j) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error("weft: pipe failed for WEFT_JOBS");
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("weft: fork failed for WEFT_JOBS");
  if (pid == 0) {
    close(fds[0]);
    g_job = j;
    write_all(fds[1], run_one(o, strategy, body, loop, shard, shards));
    close(fds[1]);
    std::fflush(nullptr);
    _exit(0);
  }
  close(fds[1]);
  return Job{pid, fds[0]};
}

// Collects every job's result; throws the first job's error, if any.
std::vector<ExploreResult> collect(std::vector<Job>& jobs) {
  std::vector<std::string> replies;
  for (Job& job : jobs) {
    replies.push_back(read_all(job.fd));
    close(job.fd);
    int status = 0;
    while (waitpid(job.pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  std::vector<ExploreResult> out;
  for (std::size_t j = 0; j < replies.size(); ++j) {
    const std::string& r = replies[j];
    const std::string what = r.empty() ? "" : r.substr(1);
    if (!r.empty() && r[0] == 'C') throw ConfigError(what);
    if (r.empty() || r[0] != 'R')
      throw std::runtime_error(
          "weft: WEFT_JOBS: job " + std::to_string(j) +
          (r.empty() ? " died without a result (run with WEFT_CONTAIN=batch "
                       "to contain a crash)"
                     : " failed: " + what));
    out.push_back(decode_result(what));
  }
  return out;
}

// The counts of every job; exhausted only if every job's share was.
ExploreResult merge(const std::vector<ExploreResult>& results) {
  ExploreResult m;
  m.exhausted = true;
  m.jobs = results.size();
  for (const ExploreResult& r : results) {
    m.schedules += r.schedules;
    for (const auto& [name, n] : r.by_strategy) m.by_strategy[name] += n;
    m.distinct += r.distinct;
    m.max_preemptions = std::max(m.max_preemptions, r.max_preemptions);
    m.out_of_time = m.out_of_time || r.out_of_time;
    m.exhausted = m.exhausted && r.exhausted;
  }
  return m;
}

// Replays one schedule a job found under the name and environment of the
// strategy that made it, so the failure pipeline reports it as its own.
class FoundSchedule final : public ForwardingStrategy {
 public:
  explicit FoundSchedule(const ExploreResult& r)
      : ForwardingStrategy(&replay_),
        replay_(r.schedule),
        name_(r.strategy),
        environment_(r.environment) {}
  std::string name() const override { return name_; }
  std::string environment() const override { return environment_; }

 private:
  ReplayStrategy replay_;
  std::string name_;
  std::string environment_;
};

// The count in the report's first line is the jobs' total.
void count_in_report(std::string& report, std::uint64_t schedules,
                     std::uint64_t jobs) {
  const std::string was = " after 1 schedule (";
  const std::size_t at = report.find(was);
  if (at == std::string::npos) return;
  report.replace(at, was.size(),
                 " after " + std::to_string(schedules) + " schedule" +
                     (schedules == 1 ? "" : "s") + " in " +
                     std::to_string(jobs) + " jobs (");
}

ExploreResult report_winner(ExploreOptions o, const ExploreResult& winner,
                            const ExploreResult& merged,
                            const std::function<void()>& body,
                            const ScheduleLoop& loop) {
  const bool print = o.print && o.print_failure;
  o.iterations = 1;
  o.seed = winner.seed;
  o.checkpoint_file.clear();
  o.time_budget_s = 0;
  o.print_failure = false;
  FoundSchedule found(winner);
  ExploreResult r = contained(o) ? explore_contained(o, found, body, loop)
                                 : loop(o, found, body);
  if (!r.failed()) r = winner;  // the body did not fail again
  r.schedules = merged.schedules;
  r.by_strategy = merged.by_strategy;
  r.distinct = merged.distinct;
  r.max_preemptions = merged.max_preemptions;
  r.jobs = merged.jobs;
  r.order_key = winner.order_key;
  count_in_report(r.report, merged.schedules, merged.jobs);
  if (print) std::fputs(r.report.c_str(), stderr);
  return r;
}

}  // namespace

bool in_job() { return g_slots != nullptr; }

void job_found_failure(const std::vector<std::uint32_t>& key) {
  Slot& s = g_slots[g_job];
  s.length = static_cast<std::uint32_t>(key.size());
  std::copy_n(key.begin(), std::min(key.size(), kKeyCap), s.key);
  s.failed.store(1, std::memory_order_release);
}

bool job_should_stop(const std::vector<std::uint32_t>& key) {
  for (std::uint64_t j = 0; j < g_jobs; ++j) {
    const Slot& s = g_slots[j];
    if (j == g_job || s.failed.load(std::memory_order_acquire) == 0) continue;
    const int c = compare(key, g_job, s.key, s.length,
                          std::min<std::size_t>(s.length, kKeyCap), j);
    if (c == 1) return true;
  }
  return false;
}

std::vector<std::uint32_t> iteration_key(std::uint64_t i) {
  return {static_cast<std::uint32_t>(i >> 32), static_cast<std::uint32_t>(i)};
}

ExploreResult run_jobs(ExploreOptions& o, Strategy& strategy,
                       const std::function<void()>& body,
                       const ScheduleLoop& loop, std::uint64_t shard_index,
                       std::uint64_t shard_total) {
  const std::uint64_t n = o.jobs;
  const std::size_t bytes = sizeof(Slot) * n;
  void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED)
    throw std::runtime_error("weft: mmap failed for WEFT_JOBS");
  Slot* slots = static_cast<Slot*>(m);
  for (std::uint64_t j = 0; j < n; ++j) new (&slots[j]) Slot;
  g_slots = slots;
  g_jobs = n;
  std::vector<Job> jobs;
  std::vector<ExploreResult> results;
  try {
    for (std::uint64_t j = 0; j < n; ++j)
      jobs.push_back(start_job(o, strategy, body, loop, shard_index * n + j,
                               shard_total * n, j));
    g_slots = nullptr;
    results = collect(jobs);
  } catch (...) {
    g_slots = nullptr;
    munmap(m, bytes);
    throw;
  }
  munmap(m, bytes);
  ExploreResult merged = merge(results);
  const ExploreResult* winner = nullptr;
  std::uint64_t at = 0;
  for (std::uint64_t j = 0; j < n; ++j)
    if (results[j].failed() &&
        (winner == nullptr || compare(results[j], j, *winner, at) < 0)) {
      winner = &results[j];
      at = j;
    }
  if (winner != nullptr) return report_winner(o, *winner, merged, body, loop);
  merged.strategy = strategy.name();
  // A strategy's own note (dpor's pruning) is job 0's: notes do not add.
  if (merged.exhausted) merged.coverage = results.front().coverage;
  merged.summary = pass_summary(merged, o) + " in " + std::to_string(n) +
                   " jobs (WEFT_JOBS)";
  if (!o.checkpoint_file.empty())
    merged.summary += " (checkpoints " + o.checkpoint_file + ".0 to ." +
                      std::to_string(n - 1) + ")";
  if (o.print && (o.verbose || isatty(STDERR_FILENO)))
    std::fprintf(stderr, "%s\n", merged.summary.c_str());
  return merged;
}

}  // namespace weft::sim::internal
