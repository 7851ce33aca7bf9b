// Must not compile: a Task is awaited as an rvalue, once.
#include "runtime/task.h"

weft::runtime::Task<int> answer() { co_return 1; }

weft::runtime::Task<int> twice() {
  auto t = answer();
  const int a = co_await t;  // error: awaiting an lvalue
  co_return a;
}

int main() { return 0; }
