// Two std::threads bump a plain int (thread_counter.h). Only the standard
// library: weft sees the threads through its interposed pthreads and the
// accesses through the instrumentation.
#include "tests/instrument/thread_counter.h"

#include <mutex>
#include <thread>

namespace thread_counter {
namespace {

int hits = 0;
std::mutex hits_mu;

void add_hit() {
  hits = hits + 1;  // the racy line: nothing orders the two threads' writes
}
constexpr int kAddHitLine = __LINE__ - 2;

void add_hit_locked() {
  const std::lock_guard<std::mutex> lock(hits_mu);
  hits = hits + 1;
}

int two_threads(void (*add)()) {
  hits = 0;
  std::thread a(add);
  std::thread b(add);
  a.join();
  b.join();
  return hits;
}

}  // namespace

const int kRacyLine = kAddHitLine;

int count_hits_racy() { return two_threads(add_hit); }
int count_hits_locked() { return two_threads(add_hit_locked); }

}  // namespace thread_counter
