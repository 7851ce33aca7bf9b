// The corrected bank of docs/guide.md: a transfer holds the bank's
// weft::Mutex while it moves the money, so no schedule can lose an update.
// The balances are plain ints now: the mutex orders every access to them,
// and its lock and unlock are the points where weft may switch strands.
//
// This program exits 0 only if every schedule passes, and then prints
//   no failure in N schedules (strategy portfolio)
#include <cstdio>
#include <mutex>
#include <string>

#include "sim/weft.h"

struct Bank {
  weft::Mutex mu{"bank"};
  int alice = 100;  // guarded by mu
  int bob = 100;    // guarded by mu
};

void transfer(Bank& bank, int& from, int& to, int amount) {
  std::lock_guard lock(bank.mu);
  from -= amount;
  to += amount;
}

void two_transfers() {
  Bank bank;
  auto a = weft::spawn("alice-pays-bob",
                       [&] { transfer(bank, bank.alice, bank.bob, 30); });
  auto b = weft::spawn("bob-pays-alice",
                       [&] { transfer(bank, bank.bob, bank.alice, 20); });
  a.join();
  b.join();
  std::lock_guard lock(bank.mu);
  const int total = bank.alice + bank.bob;
  WEFT_ASSERT_MSG(total == 200, "money was created or lost: the total is " +
                                    std::to_string(total));
}

int main() {
  weft::ExploreOptions options;  // portfolio strategy, 1000 schedules
  try {
    // Let WEFT_STRATEGY, WEFT_ITERATIONS, ... override the defaults here
    // too, so the line printed below names what actually ran.
    weft::sim::apply_environment(options);
  } catch (const weft::sim::ConfigError& e) {
    std::fprintf(stderr, "fixed_counter: %s\n", e.what());  // bad WEFT_*
    return 2;
  }
  const weft::ExploreResult result = weft::explore(options, two_transfers);
  if (result.failed()) return 1;  // explore() has printed the report
  std::printf("no failure in %llu schedules (strategy %s)\n",
              static_cast<unsigned long long>(result.schedules),
              options.strategy.c_str());
  return 0;
}
