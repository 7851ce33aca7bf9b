// The slow path of every atomic hook (sim/instrument/atomic_hooks.cc):
// called only inside a simulation, it makes the operation a choice point
// (kAtomic, with the address and the access, for DPOR) unless weft's own
// code or a weft::Atomic already made it. Internal to the hook runtime.
#pragma once

#include "sim/choice.h"

namespace weft::sim {
class Scheduler;
}

namespace weft::sim::instrument {

[[gnu::noinline]] void atomic_hook(Scheduler* s, const volatile void* a,
                                   Access access);

}  // namespace weft::sim::instrument
