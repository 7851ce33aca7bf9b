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
    case ChoiceKind::kChoose:
      return "choose";
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

namespace {
bool shares_object(const PendingOp& x, const PendingOp& y) {
  if (x.object == nullptr || y.object == nullptr) return false;
  return x.object == y.object || x.object == y.object2 ||
         (x.object2 != nullptr &&
          (x.object2 == y.object || x.object2 == y.object2));
}
}  // namespace

bool dependent(StrandId a, const PendingOp& x, StrandId b, const PendingOp& y) {
  if (a == b) return true;
  if (x.kind == ChoiceKind::kJoin && x.strand == b) return true;
  if (y.kind == ChoiceKind::kJoin && y.strand == a) return true;
  if (x.access == Access::kNone || y.access == Access::kNone) return false;
  if (x.access == Access::kAll || y.access == Access::kAll) return true;
  if (x.access == Access::kRead && y.access == Access::kRead) return false;
  return shares_object(x, y);
}

std::size_t count_preemptions(std::span<const Choice> schedule) {
  std::size_t n = 0;
  for (const Choice& c : schedule)
    n += c.preemption && c.kind != ChoiceKind::kYield ? 1 : 0;
  return n;
}

}  // namespace weft::sim
