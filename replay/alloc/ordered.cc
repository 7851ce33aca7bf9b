// The ordered and timed replays: one thread per recorded thread, each
// running its own operations in their recorded order, a block handed from
// one thread to another waiting for its hand-off (its slot's turn). The
// threads live for the whole replay (an allocator's thread caches are
// part of what is measured) and meet between chunks while the next one is
// decoded. Timed, each thread also waits before each call until the
// replay has run as long as the recording had at that call. A sampler
// thread takes the series (live bytes, RSS, latency) at a spacing in time
// that doubles as the series thins itself.
#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "replay/alloc/engine.h"

namespace weft::replay::internal {

void plan_order(Run& run) {
  if (run.turn.size() < run.n) {
    run.turn.resize(run.n);
    run.order.resize(run.n);
  }
  run.starts.assign(run.threads + std::size_t{1}, 0);
  for (std::size_t i = 0; i < run.n; ++i) {
    run.turn[i] = run.uses[run.ops[i].slot]++;
    ++run.starts[run.ops[i].thread + 1];
  }
  for (std::uint32_t t = 0; t < run.threads; ++t)
    run.starts[t + 1] += run.starts[t];
  std::vector<std::size_t> at(run.starts.begin(), run.starts.end() - 1);
  for (std::size_t i = 0; i < run.n; ++i)
    run.order[at[run.ops[i].thread]++] = static_cast<std::uint32_t>(i);
}

namespace {

// Waits, yielding and then sleeping, while `busy()`.
template <class F>
void wait_while(F busy) {
  for (int spin = 0; busy(); ++spin) {
    if (spin > 100'000)
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    else if (spin > 64)
      std::this_thread::yield();
  }
}

// Until the replay clock reaches `at` (ns): asleep while it is far.
void wait_until(const ReplayClock& clock, std::uint64_t at) {
  for (;;) {
    const std::uint64_t now = clock.ns();
    if (now >= at) return;
    const std::uint64_t left = at - now;
    if (left > 200'000)
      std::this_thread::sleep_for(std::chrono::nanoseconds(left - 100'000));
    else
      std::this_thread::yield();
  }
}

class Crew {
 public:
  explicit Crew(Run& run) : run_(run) {}

  // Every chunk from the current one on.
  void run_all() {
    std::unique_lock paused(run_.series_mu);
    std::thread sampler;
    if (run_.options.check) sampler = std::thread([this] { sample_loop(); });
    do {
      if (!run_.options.check) prepare_unchecked(run_);
      if (generation_ > 0) plan_order(run_);
      while (workers_.size() < run_.threads) {
        const auto t = static_cast<std::uint32_t>(workers_.size());
        // From the next generation on: the current one is done.
        workers_.emplace_back([this, t, g = generation_] { work(t, g); });
      }
      run_.resume();
      paused.unlock();
      run_chunk();
      paused.lock();
      run_.pause();
    } while (run_.next_chunk());
    {
      std::lock_guard g(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    stop_cv_.notify_all();
    for (auto& w : workers_) w.join();
    paused.unlock();
    if (sampler.joinable()) sampler.join();
  }

 private:
  void run_chunk() {
    std::unique_lock g(mu_);
    done_ = 0;
    ++generation_;
    cv_.notify_all();
    done_cv_.wait(g, [&] { return done_ == workers_.size(); });
  }

  void work(std::uint32_t t, std::uint64_t seen) {
    for (;;) {
      {
        std::unique_lock g(mu_);
        cv_.wait(g, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
      }
      replay_thread(t);
      std::lock_guard g(mu_);
      ++done_;
      done_cv_.notify_one();
    }
  }

  void replay_thread(std::uint32_t t) {
    const State s = run_.state();
    Histograms& h = run_.hist[t];
    const bool timed = run_.options.timed;
    for (std::size_t k = run_.starts[t]; k < run_.starts[t + 1]; ++k) {
      const std::uint32_t i = run_.order[k];
      const SlotRecord& op = run_.ops[i];
      if (timed)
        wait_until(run_.clock,
                   op.time_ns > run_.time0 ? op.time_ns - run_.time0 : 0);
      // Wait for the slot's previous operation, whichever thread has
      // it: the hand-off of a block between threads.
      auto& st = run_.slot_turn[op.slot];
      const std::uint32_t mine = run_.turn[i];
      wait_while([&] { return st.load(std::memory_order_acquire) != mine; });
      if (run_.options.check) {
        const std::int64_t d = run_checked(s, op, run_.first + i, h);
        const std::int64_t now =
            run_.shared_live.fetch_add(d, std::memory_order_relaxed) + d;
        std::int64_t peak = run_.shared_peak.load(std::memory_order_relaxed);
        while (now > peak &&
               !run_.shared_peak.compare_exchange_weak(peak, now)) {
        }
      } else {
        run_full(s.ptr, op);
      }
      st.store(mine + 1, std::memory_order_release);
      bump(h.done);
    }
  }

  // Points at 1 ms, then 2, 4... as the series thins itself; none while
  // paused (the main thread holds series_mu then).
  void sample_loop() {
    auto period = std::chrono::microseconds(1000);
    for (;;) {
      {
        std::unique_lock g(mu_);
        if (stop_cv_.wait_for(g, period, [&] { return stop_; })) return;
      }
      std::lock_guard g(run_.series_mu);
      if (stop_requested()) return;
      std::uint64_t done = 0;
      for (std::uint32_t t = 0; t < run_.threads; ++t)
        done += run_.hist[t].done.load(std::memory_order_relaxed);
      const auto live = static_cast<std::uint64_t>(
          std::max<std::int64_t>(0, run_.shared_live.load()));
      if (run_.sample(done, live)) period *= 2;
    }
  }

  bool stop_requested() {
    std::lock_guard g(mu_);
    return stop_;
  }

  Run& run_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_, stop_cv_;
  std::uint64_t generation_ = 0;
  std::size_t done_ = 0;
  bool stop_ = false;
};

}  // namespace

void run_ordered(Run& run) {
  Crew crew(run);
  crew.run_all();
}

}  // namespace weft::replay::internal
