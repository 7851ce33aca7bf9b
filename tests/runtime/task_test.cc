#include "runtime/task.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <utility>

namespace weft::runtime {
namespace {

Task<int> answer() { co_return 42; }

Task<int> awaits(Task<int> inner) { co_return co_await std::move(inner); }

// Drives a top-level task to its end, as the service framework does.
template <class T>
T run(Task<T>& t) {
  t.handle().resume();
  EXPECT_TRUE(t.done());
  return t.result();
}

TEST(Task, AwaitingAnRvalueDeliversItsResult) {
  Task<int> t = awaits(answer());
  EXPECT_EQ(run(t), 42);
}

TEST(Task, AwaitingAnEmptyTaskIsALogicErrorNotANullDereference) {
  Task<int> t = awaits(Task<int>{});
  EXPECT_THROW(run(t), std::logic_error);
}

TEST(Task, TakingAResultTwiceIsALogicErrorNotADoubleMove) {
  Task<int> t = answer();
  EXPECT_EQ(run(t), 42);
  EXPECT_THROW(t.result(), std::logic_error);
  Task<int> empty;
  EXPECT_THROW(empty.result(), std::logic_error);
}

}  // namespace
}  // namespace weft::runtime
