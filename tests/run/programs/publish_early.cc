// A value handed from a thread to main through C++20's std::binary_semaphore,
// with a latch for the start and a jthread: the bad version releases the
// semaphore before it writes the value. No weft header: the semaphore and
// the latch wait and wake through the futex system call, which weft run
// simulates.
#include <cassert>
#include <cstdio>
#include <latch>
#include <semaphore>
#include <thread>

int main() {
  std::binary_semaphore ready(0);
  std::latch started(2);
  int value = 0;
  std::jthread producer([&] {
    started.count_down();
#ifdef FIXED
    value = 42;
    ready.release();
#else
    ready.release();
    value = 42;
#endif
  });
  started.arrive_and_wait();
  ready.acquire();
  std::printf("value = %d\n", value);
  assert(value == 42 && "value read before it was written");
  return 0;
}
