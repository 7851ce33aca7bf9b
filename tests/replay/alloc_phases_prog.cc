// A multi-threaded program in phases, for the timed replay's test and the
// guide: four threads each allocate a burst of 256 blocks of 64 KiB (16
// MiB a thread) and write them, free nine in ten, then the program sits
// idle for 1.5 s, three times over. An allocator that returns memory in
// the background (jemalloc with background_thread) gives most of each
// burst back to the system during the idle spells; a replay that leaves
// the spells out never gives it the time to.
#include <barrier>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

constexpr int kThreads = 4;
constexpr int kPhases = 3;
constexpr int kBurst = 256;
constexpr std::size_t kBlock = 64 << 10;

void work(std::barrier<>& sync) {
  std::vector<void*> kept;
  for (int phase = 0; phase < kPhases; ++phase) {
    std::vector<void*> burst;
    for (int i = 0; i < kBurst; ++i) {
      void* p = std::malloc(kBlock);
      if (p == nullptr) std::abort();
      std::memset(p, phase + 1, kBlock);
      burst.push_back(p);
    }
    // Keep the last tenth; the rest goes back to the allocator.
    for (int i = 0; i < kBurst; ++i)
      if (i < kBurst * 9 / 10)
        std::free(burst[static_cast<std::size_t>(i)]);
      else
        kept.push_back(burst[static_cast<std::size_t>(i)]);
    sync.arrive_and_wait();
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    sync.arrive_and_wait();
  }
  for (void* p : kept) std::free(p);
}

}  // namespace

int main() {
  std::barrier<> sync(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&sync] { work(sync); });
  for (auto& t : threads) t.join();
  return 0;
}
