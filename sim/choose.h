// weft::choose(n) and weft::random_bool(): a nondeterministic choice a test
// makes on purpose (as Coyote's RandomBoolean and RandomInteger). Inside a
// simulation each is a value choice of the scheduler (ChoiceKind::kChoose):
// the strategy picks it, the schedule and its trace record it, a replay
// makes it again, and shrinking moves it towards 0. Outside a simulation it
// is real randomness (a per-thread generator seeded from std::random_device).
#pragma once

#include <cstdint>

namespace weft::sim {

// A value in [0, n). Throws std::invalid_argument if n is 0. n == 1 is
// forced (0, not recorded).
std::uint32_t choose(std::uint32_t n);

// choose(2) == 1: false is the value shrinking prefers.
bool random_bool();

}  // namespace weft::sim
