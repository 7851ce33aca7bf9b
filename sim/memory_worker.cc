#include "sim/memory_worker.h"

#include <cstdint>
#include <vector>

#include "sim/scheduler.h"

namespace weft::sim {

void MemoryWorker::submit(std::function<void()> work) {
  if (quit_) throw AlreadyQuit();
  queue_.push_back(std::move(work));
}

void MemoryWorker::quit() {
  if (quit_) throw AlreadyQuit();
  quit_ = true;
}

bool MemoryWorker::perform() {
  if (queue_.empty()) return false;
  auto work = std::move(queue_.front());
  queue_.pop_front();
  work();
  return true;
}

bool perform_next(std::span<MemoryWorker* const> workers) {
  std::vector<MemoryWorker*> ready;
  for (MemoryWorker* w : workers)
    if (w->pending() > 0) ready.push_back(w);
  if (ready.empty()) return false;
  std::uint32_t pick = 0;
  if (Scheduler* s = Scheduler::current())
    pick = s->choose_value(ChoiceKind::kWork,
                           static_cast<std::uint32_t>(ready.size()));
  return ready[pick]->perform();
}

}  // namespace weft::sim
