#include "replay/cli/demos.h"

#include "sim/weft.h"

namespace weft::replay {
namespace {

// Two strands increment a shared counter by load-then-store: an update is
// lost when one strand's store lands between the other's load and store.
void lost_update() {
  weft::Atomic<int> counter{0, "counter"};
  auto increment = [&] {
    const int seen = counter.load();
    counter.store(seen + 1);
  };
  auto a = weft::spawn("incrementer-a", increment);
  auto b = weft::spawn("incrementer-b", increment);
  a.join();
  b.join();
  WEFT_ASSERT_MSG(counter.load() == 2, "expected 2 increments, counted " +
                                           std::to_string(counter.load()));
}

// Two strands take two mutexes in opposite orders.
void abba_deadlock() {
  weft::Mutex accounts("accounts");
  weft::Mutex audit("audit");
  auto transfer = weft::spawn("transfer", [&] {
    std::lock_guard a(accounts);
    std::lock_guard b(audit);
  });
  auto report = weft::spawn("report", [&] {
    std::lock_guard b(audit);
    std::lock_guard a(accounts);
  });
  transfer.join();
  report.join();
}

}  // namespace

const std::vector<Demo>& demos() {
  static const std::vector<Demo> all = {
      {"lost-update",
       "two strands increment a counter by load-then-store; one update is "
       "lost",
       lost_update},
      {"abba-deadlock",
       "two strands lock two mutexes in opposite orders and deadlock",
       abba_deadlock},
  };
  return all;
}

const Demo* find_demo(const std::string& name) {
  for (const Demo& d : demos())
    if (d.name == name) return &d;
  return nullptr;
}

}  // namespace weft::replay
