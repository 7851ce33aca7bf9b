// A small multi-threaded program for the recorder's tests: four threads
// allocate blocks of assorted sizes (malloc, calloc, realloc, aligned) and
// pass half of them to the next thread through a locked queue, which frees
// them: cross-thread frees, with addresses reused across threads. The main
// thread only starts and joins them: its few records stay in its buffer
// while the workers make the rest. An argument sets the iterations per
// thread (20000).
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace {

std::mutex mu;
std::deque<void*> queues[4];

int iterations = 20000;

void work(int id) {
  unsigned x = 12345u + static_cast<unsigned>(id);
  std::vector<void*> mine;
  for (int i = 0; i < iterations; ++i) {
    x = x * 1103515245u + 12345u;
    const std::size_t n = 16 + (x >> 8) % 2000;
    void* p = nullptr;
    switch (i % 4) {
      case 0:
        p = std::malloc(n);
        break;
      case 1:
        p = std::calloc(1, n);
        break;
      case 2:
        p = std::realloc(std::malloc(8), n);
        break;
      default:
        p = std::aligned_alloc(64, (n + 63) / 64 * 64);
    }
    std::memset(p, id, n < 64 ? n : 64);
    if (i % 2 == 0) {
      std::lock_guard g(mu);
      queues[(id + 1) % 4].push_back(p);
    } else {
      mine.push_back(p);
    }
    if (mine.size() > 100) {
      std::free(mine.front());
      mine.erase(mine.begin());
    }
    std::deque<void*> theirs;
    {
      std::lock_guard g(mu);
      theirs.swap(queues[id]);
    }
    for (void* q : theirs) std::free(q);
  }
  for (void* p : mine) std::free(p);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) iterations = std::atoi(argv[1]);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back(work, i);
  for (auto& t : threads) t.join();
  for (auto& q : queues)
    for (void* p : q) std::free(p);
  return 0;
}
