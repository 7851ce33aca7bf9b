// The supervising parent's side of crash containment: fork the child that
// runs the schedules, take its result through a pipe, or, if it died,
// build the failure from what it left in shared memory, rerun the dying
// schedule in a recording child to write its trace, and report it.
#include "sim/harness/contain.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "sim/harness/contain_shared.h"
#include "sim/harness/explore_steps.h"
#include "sim/harness/pipe_io.h"
#include "sim/harness/schedule_trace.h"

namespace weft::sim::internal {
namespace {

// Forwards to the exploration's strategy and publishes each schedule as
// it begins (begin() is where a portfolio picks its strategy and PCT its
// change points, so name() and environment() describe this schedule).
class PublishingStrategy final : public ForwardingStrategy {
 public:
  PublishingStrategy(Strategy& inner, Shared* shared)
      : ForwardingStrategy(&inner), shared_(shared) {}
  void begin(std::uint64_t seed) override {
    inner()->begin(seed);
    publish_schedule(shared_, seed, *inner());
  }

 private:
  Shared* shared_;
};

int wait_for(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// Forks a child that runs `in_child` and never returns to the caller's
// code; stdio is flushed first so no buffered output is written twice.
template <class F>
pid_t fork_child(F&& in_child) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("weft: fork failed for containment");
  if (pid == 0) {
    in_child();
    std::fflush(nullptr);
    _exit(kChildResultSent);
  }
  return pid;
}

std::string describe(FailureKind kind, const ExploreResult& r,
                     const ExploreOptions& o, const std::string& strand,
                     const std::string& activity) {
  std::string in = strand.empty() ? "" : " in strand '" + strand + "'";
  if (kind == FailureKind::kHang && !strand.empty())
    in += activity.empty() ? " (it made no interposed call before it stopped)"
                           : " (its last call weft saw was " + activity +
                                 "; what it does now is outside weft)";
  switch (kind) {
    case FailureKind::kStackOverflow:
      return (strand.empty() ? std::string("a strand")
                             : "strand '" + strand + "'") +
             " overflowed its stack (a fault in its guard page). Raise "
             "ExploreOptions::limits.stack_size or WEFT_STACK_SIZE (bytes), "
             "or look for unbounded recursion.";
    case FailureKind::kHang:
      return "no choice point for " + std::to_string(o.watchdog_s) +
             " s of real time (WEFT_WATCHDOG)" + in +
             ": a loop that spins without a weft primitive, or a wait on "
             "something outside weft (a real lock, a read, a real sleep). Put "
             "weft::yield_now() in the loop, or raise WEFT_WATCHDOG if one "
             "step is simply slow.";
    case FailureKind::kExit:
      return (r.exit_status >= 0 ? "the process exited with status " +
                                       std::to_string(r.exit_status)
                                 : std::string("the process exited")) +
             " before the schedule finished: code under test called exit() "
             "(or _exit, quick_exit). The exploration ran in a child "
             "process, which contained it.";
    default:
      return "the process died of signal " + std::to_string(r.signal) + " (" +
             signal_name(r.signal) +
             "). The exploration ran in a child process, which contained "
             "it; to see where, run the replay command under a debugger "
             "with WEFT_CONTAIN=off.";
  }
}

// Reruns the dying schedule in a recording child (it dies again) and
// writes the trace from the stream of what its observer saw.
std::string record_crash_trace(const ExploreOptions& o, ExploreResult& r,
                               bool complete,
                               const std::function<void()>& body) {
  try {
    const std::string path = trace_base(o, r.seed) + ".weft";
    SharedMapping rec(o.limits.max_steps, std::uint64_t{256} << 20);
    Shared* sh = rec.get();
    const pid_t pid = fork_child([&] {
      become_contained_child(sh, o.watchdog_s);
      Scheduler sched(o.limits);
      ReplayStrategy strategy(r.schedule, !complete);
      auto observer = make_stream_observer(sh);
      sched.set_observer(observer.get());
      try {
        sched.run(strategy, r.seed, body);
      } catch (...) {
      }
    });
    wait_for(pid);
    ScheduleRecorder recorder(path, trace_header(o, r));
    replay_stream(sh, recorder);
    recorder.on_failure(*r.failure);
    recorder.close();
    r.trace_path = path;
    r.trace_replay_command = trace_replay_command(o, path);
    std::string lines = trace_line("trace", path, r.schedule, r.steps);
    const int again = sh->crash.kind.load();
    if (again != static_cast<int>(r.failure->kind) + 1)
      lines +=
          "  WARNING: rerunning this schedule to record it did not fail the "
          "same way; the body depends on something outside weft's control\n";
    if (sh->stream_full.load())
      lines += "  (the trace holds the first 256 MiB of the run)\n";
    return lines;
  } catch (const std::exception& e) {
    return "  (could not write the trace file: " + std::string(e.what()) +
           ")\n";
  }
}

// The failure of a child that died before sending its result.
ExploreResult crash_result(ExploreOptions& o, Shared* sh, int status,
                           bool replaying, const std::function<void()>& body) {
  ExploreResult r;
  const CrashRecord& c = sh->crash;
  const int recorded = c.kind.load();
  FailureKind kind = FailureKind::kCrash;
  if (recorded != 0)
    kind = static_cast<FailureKind>(recorded - 1);
  else if (WIFEXITED(status))
    kind = FailureKind::kExit;
  r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : c.signal;
  r.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.schedules = sh->started.load();
  r.seed = sh->seed;
  r.strategy = sh->strategy;
  r.environment = sh->environment;
  r.schedule.assign(sh->choices(), sh->choices() + c.choices);
  r.digest = digest(r.schedule);
  r.steps = c.step;
  Failure f{kind,     describe(kind, r, o, c.strand, c.activity),
            c.strand, c.strand_id,
            c.step,   Nanos{static_cast<std::int64_t>(c.time_ns)}};
  r.failure = f;
  std::string notes;
  if (recorded == 0)
    notes += "  (the child left no record of its choices: replay it by seed)\n";
  else if (c.total_choices > c.choices)
    notes += "  (only the first " + std::to_string(c.choices) + " of " +
             std::to_string(c.total_choices) + " choices were kept)\n";
  if (!replaying && !o.trace_dir.empty() && recorded != 0)
    notes += record_crash_trace(o, r, c.total_choices == c.choices, body);
  r.replay_command = replay_command(o, r, replaying);
  r.report = report(r, o, replaying, "", notes);
  if (o.print && o.print_failure) std::fputs(r.report.c_str(), stderr);
  return r;
}

}  // namespace

ExploreResult explore_contained(ExploreOptions& o, Strategy& strategy,
                                const std::function<void()>& body,
                                const ScheduleLoop& loop) {
  SharedMapping mapping(o.limits.max_steps, 0);
  Shared* sh = mapping.get();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error("weft: pipe failed for containment");
  const pid_t pid = fork_child([&] {
    close(fds[0]);
    become_contained_child(sh, o.watchdog_s);
    std::string bytes;
    try {
      PublishingStrategy publishing(strategy, sh);
      bytes = "R" + encode_result(loop(o, publishing, body));
    } catch (const std::exception& e) {
      bytes = std::string("E") + e.what();
    } catch (...) {
      bytes = "Ean exception that is not a std::exception left explore()";
    }
    write_all(fds[1], bytes);
    close(fds[1]);
  });
  close(fds[1]);
  const std::string bytes = read_all(fds[0]);
  close(fds[0]);
  const int status = wait_for(pid);
  if (WIFEXITED(status) && WEXITSTATUS(status) == kChildResultSent &&
      !bytes.empty() && sh->crash.kind.load() == 0) {
    if (bytes[0] == 'E') throw std::runtime_error(bytes.substr(1));
    return decode_result(bytes.substr(1));
  }
  return crash_result(o, sh, status, o.replay.has_value(), body);
}

}  // namespace weft::sim::internal
