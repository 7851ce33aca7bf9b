// The first example of docs/guide.md: a bank whose transfer reads a balance
// and writes it back later. Two transfers at once can lose an update, so
// money appears or vanishes. weft::explore runs the body under many
// schedules, finds one where that happens and prints the report with the
// command that replays it.
//
// This program exits 0 only if weft finds the bug, as the guide says it
// does; run the printed replay command and it finds it again at once.
#include <cstdio>
#include <string>

#include "sim/weft.h"

// Each balance is a weft::Atomic so that every read and write is a point
// where the scheduler may switch to another strand.
struct Bank {
  weft::Atomic<int> alice{100};
  weft::Atomic<int> bob{100};
};

// The bug: read, compute, write back, as two separate steps.
void transfer(weft::Atomic<int>& from, weft::Atomic<int>& to, int amount) {
  from.store(from.load() - amount);
  to.store(to.load() + amount);
}

void two_transfers() {
  Bank bank;
  auto a = weft::spawn("alice-pays-bob",
                       [&] { transfer(bank.alice, bank.bob, 30); });
  auto b = weft::spawn("bob-pays-alice",
                       [&] { transfer(bank.bob, bank.alice, 20); });
  a.join();
  b.join();
  const int total = bank.alice.load() + bank.bob.load();
  WEFT_ASSERT_MSG(total == 200, "money was created or lost: the total is " +
                                    std::to_string(total));
}

int main() {
  weft::ExploreOptions options;  // portfolio strategy, 1000 schedules
  weft::ExploreResult result;
  try {
    result = weft::explore(options, two_transfers);
  } catch (const weft::sim::ConfigError& e) {  // a bad WEFT_* variable
    std::fprintf(stderr, "first_test: %s\n", e.what());
    return 2;
  }
  // explore() has printed the report to stderr; check it says what the
  // guide says it says.
  if (!result.failed() ||
      result.failure->kind != weft::sim::FailureKind::kAssertion ||
      result.report.find("money was created or lost") == std::string::npos) {
    std::fprintf(stderr, "first_test: expected weft to find the lost update\n");
    return 1;
  }
  std::printf("first_test: weft found the lost update (schedule %llu)\n",
              static_cast<unsigned long long>(result.schedules));
  return 0;
}
