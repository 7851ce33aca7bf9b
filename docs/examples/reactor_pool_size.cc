// Twisted's threading guide, "Managing the reactor thread pool":
//
//   reactor.suggestThreadPoolSize(30)
//
// The pool grows to the suggested size and no further: 40 blocking jobs
// on a pool of 30 leave 10 waiting in the backlog until threads free up.
#include <cstdio>

#include "runtime/reactor.h"
#include "sim/harness/explore.h"
#include "sim/weft.h"

struct Seen {
  std::size_t threads = 0;
  std::size_t backlog = 0;
  int done = 0;
};

Seen forty_jobs_on_thirty_threads() {
  weft::runtime::Reactor reactor;
  reactor.suggest_thread_pool_size(30);
  weft::sim::Latch started(30, "30 jobs started");
  weft::sim::Latch release(1, "release");
  weft::sim::Atomic<int> done{0};
  for (int i = 0; i < 40; ++i)
    reactor.call_in_thread([&] {
      started.count_down();
      release.wait();
      if (done.fetch_add(1) == 39)
        reactor.call_from_thread([&] { reactor.stop(); });
    });
  Seen seen;
  auto observer = weft::spawn("observer", [&] {
    started.wait();  // 30 jobs hold 30 threads
    const auto s = reactor.thread_pool().statistics();
    seen.threads = s.busy + s.idle;
    seen.backlog = s.backlog;
    release.count_down();
  });
  reactor.run();
  observer.join();
  seen.done = done.load();
  return seen;
}

int main() {
  const Seen real = forty_jobs_on_thirty_threads();
  std::printf("real threads: pool of %zu threads, %zu jobs waiting, %d done\n",
              real.threads, real.backlog, real.done);
  weft::sim::ExploreOptions options;
  options.iterations = 100;
  const auto result = weft::sim::explore(options, [] {
    const Seen s = forty_jobs_on_thirty_threads();
    WEFT_ASSERT(s.threads == 30 && s.backlog == 10 && s.done == 40);
  });
  std::printf("simulated: %llu schedules, always 30 threads and 10 waiting\n",
              static_cast<unsigned long long>(result.schedules));
  return real.threads == 30 && real.backlog == 10 && real.done == 40 &&
                 !result.failed()
             ? 0
             : 1;
}
