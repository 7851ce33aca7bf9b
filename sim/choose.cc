#include "sim/choose.h"

#include <random>
#include <stdexcept>

#include "sim/random.h"
#include "sim/scheduler.h"

namespace weft::sim {

std::uint32_t choose(std::uint32_t n) {
  if (n == 0)
    throw std::invalid_argument(
        "weft::choose(0): there is no value in [0, 0) to choose");
  if (Scheduler* s = Scheduler::current())
    return s->choose_value(ChoiceKind::kChoose, n);
  // Outside a simulation nothing replays, so this is real randomness.
  thread_local Rng rng{
      (static_cast<std::uint64_t>(std::random_device{}()) << 32) ^
      std::random_device{}()};
  return static_cast<std::uint32_t>(rng.below(n));
}

bool random_bool() { return choose(2) == 1; }

}  // namespace weft::sim
