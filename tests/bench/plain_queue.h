// PlainQueue: the plain way to hand work between std::threads (a mutex, a
// condition variable and a deque of std::function), the baseline the
// runtime benchmarks measure weft's components against.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace weft::bench {

class PlainQueue {
 public:
  void push(std::function<void()> f) {
    {
      std::lock_guard lk(mu_);
      q_.push_back(std::move(f));
    }
    cv_.notify_one();
  }
  std::function<void()> pop() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return !q_.empty(); });
    auto f = std::move(q_.front());
    q_.pop_front();
    return f;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> q_;
};

// The baseline round trip: `n` hand-offs from this thread to a fresh
// std::thread and back, each started by the previous one's return.
inline void plain_round_trips(int n) {
  PlainQueue to_worker, to_main;
  std::thread worker([&] {
    for (;;) {
      auto f = to_worker.pop();
      if (!f) return;
      f();
    }
  });
  for (int i = 0; i < n; ++i) {
    to_worker.push([&] { to_main.push([] {}); });
    to_main.pop()();
  }
  to_worker.push(nullptr);
  worker.join();
}

}  // namespace weft::bench
