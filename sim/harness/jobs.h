// WEFT_JOBS: one exploration split across local processes. Each job is a
// forked child that runs a disjoint share of the search through the same
// sharding as GoogleTest's variables (job j of N inside this process's
// shard i of T is shard i*N + j of T*N), inside its own crash containment,
// and sends its result back through a pipe. The parent adds the counts up
// and, of the jobs' failures, reports the one an unsharded run meets first
// (smallest Strategy::order_key, then lowest job), rerunning its schedule
// through the ordinary failure pipeline so its report, trace files and
// replay command are those of a single-process run. Jobs publish their
// failures' keys in shared memory, and a job stops as soon as its next
// schedules can only come after a failure already found. Internal to
// explore.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "sim/harness/contain.h"
#include "sim/harness/explore.h"
#include "sim/strategy.h"

namespace weft::sim {
inline constexpr std::uint64_t kMaxJobs = 256;
}

namespace weft::sim::internal {

// Inside a job: true. The schedule loop then keys each schedule, publishes
// a failure's key and asks whether to stop.
bool in_job();
// Publishes this job's first failure, at `key`.
void job_found_failure(const std::vector<std::uint32_t>& key);
// Whether a schedule at `key` (and so every later one of this job) comes
// after a failure another job has published: the job can stop.
bool job_should_stop(const std::vector<std::uint32_t>& key);
// The key of iteration i of a sampling strategy (it runs in seed order).
std::vector<std::uint32_t> iteration_key(std::uint64_t i);

// Runs the exploration in o.jobs processes and merges their results.
// `shard_index` of `shard_total` is this process's own shard.
ExploreResult run_jobs(ExploreOptions& o, Strategy& strategy,
                       const std::function<void()>& body,
                       const ScheduleLoop& loop, std::uint64_t shard_index,
                       std::uint64_t shard_total);

}  // namespace weft::sim::internal
