// A lost update that weft finds: the test passes when explore() reports
// the failure, so it fails if the installed weft stopped finding it.
#include <gtest/gtest.h>

#include "sim/harness/gtest.h"
#include "sim/weft.h"

namespace {

void lost_update() {
  weft::Atomic<int> balance{0};
  auto deposit = [&] { balance.store(balance.load() + 10); };
  auto a = weft::spawn("alice", deposit);
  auto b = weft::spawn("bob", deposit);
  a.join();
  b.join();
  WEFT_ASSERT(balance.load() == 20);
}

TEST(Consumer, ExploreFindsTheLostUpdate) {
  weft::ExploreOptions options;
  options.use_environment = false;
  options.print = false;
  options.trace_dir.clear();
  options.iterations = 2000;
  const weft::ExploreResult r = weft::explore(options, lost_update);
  ASSERT_TRUE(r.failed());
  EXPECT_NE(r.failure->message.find("balance.load() == 20"), std::string::npos);
}

}  // namespace
