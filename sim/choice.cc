#include "sim/choice.h"

namespace weft::sim {

std::string_view to_string(ChoiceKind kind) {
  switch (kind) {
    case ChoiceKind::kSpawn:
      return "spawn";
    case ChoiceKind::kYield:
      return "yield";
    case ChoiceKind::kLock:
      return "lock";
    case ChoiceKind::kUnlock:
      return "unlock";
    case ChoiceKind::kWait:
      return "wait";
    case ChoiceKind::kNotify:
      return "notify";
    case ChoiceKind::kTimer:
      return "timer";
    case ChoiceKind::kMessage:
      return "message";
    case ChoiceKind::kFault:
      return "fault";
    case ChoiceKind::kAtomic:
      return "atomic";
    case ChoiceKind::kJoin:
      return "join";
    case ChoiceKind::kExit:
      return "exit";
    case ChoiceKind::kSleep:
      return "sleep";
    case ChoiceKind::kWork:
      return "work";
    case ChoiceKind::kRelease:
      return "release";
    case ChoiceKind::kAcquire:
      return "acquire";
  }
  return "unknown";
}

namespace {
constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;

void mix(std::uint64_t& h, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    h ^= (v >> (8 * i)) & 0xff;
    h *= kFnvPrime;
  }
}
}  // namespace

std::uint64_t digest(std::span<const Choice> schedule) {
  std::uint64_t h = kFnvOffset;
  for (const Choice& c : schedule) {
    mix(h, static_cast<std::uint64_t>(c.kind), 1);
    mix(h, c.is_value ? 1 : 0, 1);
    mix(h, c.strand, 4);
    mix(h, c.count, 4);
    mix(h, c.chosen, 4);
    mix(h, c.picked, 4);
    mix(h, c.preemption ? 1 : 0, 1);
    mix(h, c.step, 8);
  }
  return h;
}

std::size_t count_preemptions(std::span<const Choice> schedule) {
  std::size_t n = 0;
  for (const Choice& c : schedule) n += c.preemption ? 1 : 0;
  return n;
}

}  // namespace weft::sim
