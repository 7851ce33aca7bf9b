// Uses std::thread, std::mutex and std::condition_variable only: no weft
// header is reachable from this file (see tests/intercept/CMakeLists.txt).
#include "bank.h"

#include <condition_variable>
#include <mutex>
#include <thread>

namespace bank {
namespace {

struct Account {
  std::mutex m;
  std::condition_variable reported;
  int balance = 0;
  int tellers_done = 0;
};

void deposit(Account& a, bool fixed) {
  if (fixed) {
    std::lock_guard<std::mutex> g(a.m);
    a.balance += 1;
  } else {
    int seen;
    {
      std::lock_guard<std::mutex> g(a.m);
      seen = a.balance;
    }
    std::lock_guard<std::mutex> g(a.m);
    a.balance = seen + 1;  // lost if the other teller wrote in between
  }
  std::lock_guard<std::mutex> g(a.m);
  ++a.tellers_done;
  a.reported.notify_one();
}

}  // namespace

int run(bool fixed) {
  Account a;
  std::thread t1(deposit, std::ref(a), fixed);
  std::thread t2(deposit, std::ref(a), fixed);
  int balance;
  {
    std::unique_lock<std::mutex> lock(a.m);
    a.reported.wait(lock, [&a] { return a.tellers_done == 2; });
    balance = a.balance;
  }
  t1.join();
  t2.join();
  return balance;
}

}  // namespace bank
