// docs/guide.md, "Testing a reactor-based component", "A failing test":
// the page whose two parts arrive from the reactor's pool, appended in the
// order they arrive, and the GoogleTest test that finds it in a few
// schedules. The test is expected to fail: ctest checks the failure's
// report, and the guide shows it (tests/docs/outputs.cmake).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/reactor.h"
#include "sim/harness/gtest.h"
#include "sim/weft.h"

std::string assemble_page() {
  weft::runtime::Reactor r;
  std::vector<std::string> arrived;
  auto got = [&](const std::string& part) {
    arrived.push_back(part);
    if (arrived.size() == 2) r.stop();
  };
  r.call_from_thread([&] {
    r.defer_to_thread([] { return std::string("header"); }).add_callback(got);
    r.defer_to_thread([] { return std::string("body"); }).add_callback(got);
  });
  r.run();
  return arrived[0] + "|" + arrived[1];
}

TEST(Page, HeaderComesFirst) {
  weft::testing::explore([] { WEFT_ASSERT(assemble_page() == "header|body"); });
}
