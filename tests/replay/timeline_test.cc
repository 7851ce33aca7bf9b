#include "replay/timeline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "replay/trace_command.h"
#include "runtime/service.h"
#include "sim/harness/explore.h"
#include "sim/harness/schedule_trace.h"
#include "sim/weft.h"

namespace weft::replay {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

// A failing schedule with three strands, wake-ups and a virtual sleep,
// written by explore() as it writes any failing test's trace.
std::string failing_trace(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() /
                       ("weft-" + std::to_string(getpid()) + "-" + name);
  fs::remove_all(dir);
  sim::ExploreOptions o;
  o.iterations = 500;
  o.use_environment = false;
  o.print = false;
  o.shrink = false;
  o.name = name;
  o.trace_dir = dir.string();
  const auto r = sim::explore(o, [] {
    sim::Atomic<int> counter{0};
    auto inc = [&] {
      sim::sleep_for(std::chrono::milliseconds(5));
      const int seen = counter.load();
      counter.store(seen + 1);
    };
    auto a = sim::spawn("writer", inc);
    auto b = sim::spawn("reader", inc);
    a.join();
    b.join();
    WEFT_ASSERT_MSG(counter.load() == 2, "lost update");
  });
  EXPECT_TRUE(r.failed());
  return r.trace_path;
}

Timeline timeline_of(const std::string& path) {
  auto reader = traces::TraceReader::open(path);
  return build_timeline(reader);
}

TEST(Timeline, OneLanePerStrandSlicesInOrderAndTheFailureMarked) {
  const Timeline t = timeline_of(failing_trace("lanes"));
  ASSERT_EQ(t.lanes.size(), 3u);  // main, writer, reader
  EXPECT_EQ(t.lanes[0].name, "main");
  EXPECT_EQ(t.lanes[1].name, "writer");
  EXPECT_EQ(t.lanes[2].name, "reader");
  ASSERT_FALSE(t.slices.empty());
  // One strand runs at a time: slices follow each other without overlap.
  for (std::size_t i = 1; i < t.slices.size(); ++i)
    EXPECT_LE(t.slices[i - 1].end_us, t.slices[i].start_us + 1e-9) << i;
  std::set<std::uint32_t> ran;
  for (const Slice& s : t.slices) ran.insert(s.strand);
  EXPECT_TRUE(ran.count(1) && ran.count(2));
  // The 5 ms sleep moved virtual time: the timeline spans it.
  EXPECT_GT(t.end_us, 5000.0);
  ASSERT_FALSE(t.flows.empty());
  for (const Flow& f : t.flows) EXPECT_GE(f.to_us, f.from_us);
  const auto failure =
      std::find_if(t.markers.begin(), t.markers.end(),
                   [](const Marker& m) { return m.kind == "failure"; });
  ASSERT_NE(failure, t.markers.end());
  EXPECT_THAT(failure->text, HasSubstr("lost update"));
}

// A service call, recorded: the request is a message from the host to the
// node's worker that delivers it, and the echo's reply wakes the host.
TEST(Timeline, ServiceMessagesAreArrowsFromTheSenderToTheDeliveringWorker) {
  const fs::path dir =
      fs::temp_directory_path() / ("weft-" + std::to_string(getpid()) + "-msg");
  fs::remove_all(dir);
  sim::ExploreOptions o;
  o.iterations = 1;
  o.use_environment = false;
  o.print = false;
  o.shrink = false;
  o.name = "messages";
  o.trace_dir = dir.string();
  const auto r = sim::explore(o, [] {
    runtime::Node node;
    const auto echo = node.add_service({.name = "echo"});
    node.on(echo, "echo",
            [](runtime::Request& q) -> runtime::Task<std::string> {
              co_return q.payload();
            });
    const std::string got = node.call(echo, "echo", "x");
    WEFT_ASSERT_MSG(got != "x", "fails on purpose, to be recorded");
  });
  ASSERT_TRUE(r.failed());
  const Timeline t = timeline_of(r.trace_path);
  std::vector<Flow> messages;
  for (const Flow& f : t.flows)
    if (f.kind == "message") messages.push_back(f);
  ASSERT_EQ(messages.size(), 1u) << "one request, from the host";
  EXPECT_EQ(t.lanes[messages[0].from].name, "main");
  EXPECT_THAT(t.lanes[messages[0].to].name, HasSubstr("node-worker-"));
  EXPECT_LE(messages[0].from_us, messages[0].to_us);
  // The trace names the message.
  std::ostringstream shown;
  ShowOptions show_options;
  trace_show(r.trace_path, show_options, shown);
  EXPECT_THAT(shown.str(), HasSubstr("request 'echo' (session 1) to 'echo'"));
}

TEST(Timeline, PerfettoExportHasATrackPerStrandSlicesAndPairedFlows) {
  const Timeline t = timeline_of(failing_trace("perfetto"));
  const auto doc = nlohmann::json::parse(to_perfetto_json(t));
  std::set<int> named_tracks;
  std::size_t slices = 0;
  std::map<std::uint64_t, int> flow_ends;
  for (const auto& e : doc["traceEvents"]) {
    const std::string ph = e["ph"];
    if (ph == "M" && e["name"] == "thread_name")
      named_tracks.insert(e["tid"].get<int>());
    if (ph == "X") {
      ++slices;
      EXPECT_GE(e["dur"].get<double>(), 0.0);
    }
    if (ph == "s") ++flow_ends[e["id"].get<std::uint64_t>()];
    if (ph == "f") flow_ends[e["id"].get<std::uint64_t>()] += 10;
  }
  EXPECT_EQ(named_tracks.size(), t.lanes.size());
  EXPECT_EQ(slices, t.slices.size());
  EXPECT_EQ(flow_ends.size(), t.flows.size());
  for (const auto& [id, ends] : flow_ends) EXPECT_EQ(ends, 11) << id;
  EXPECT_EQ(doc["otherData"]["test"], "perfetto");
}

TEST(Timeline, HtmlExportIsOnePageWithItsDataAndNoNetworkAccess) {
  const Timeline t = timeline_of(failing_trace("html"));
  const std::string html = to_html(t);
  EXPECT_THAT(html, HasSubstr("<!doctype html>"));
  EXPECT_THAT(html, HasSubstr("\"name\":\"writer\""));
  EXPECT_THAT(html, ::testing::Not(HasSubstr("{{WEFT_DATA}}")));
  // Nothing that loads: no sources, links, stylesheets or requests (the
  // only URL is SVG's namespace name, which is never fetched).
  for (const char* loads : {"src=", "href=", "<link", "@import", "url(http",
                            "fetch(", "XMLHttpRequest", "https://"})
    EXPECT_THAT(html, ::testing::Not(HasSubstr(loads))) << loads;
}

TEST(Timeline, AScriptEndInTheDataCannotCloseThePagesScript) {
  Timeline t;
  t.header.metadata = {{"test", "</script><script>alert(1)</script>"}};
  const std::string html = to_html(t);
  EXPECT_THAT(html, ::testing::Not(HasSubstr("</script><script>alert")));
}

TEST(TraceCommand, StatReportsChoicesAndTheEntropyBound) {
  const std::string path = failing_trace("stat");
  std::ostringstream out;
  ASSERT_EQ(trace_stat(path, out), 0);
  const auto s = sim::read_schedule(path);
  double bits = 0;
  for (const auto& c : s.schedule) bits += std::log2(c.count);
  char expected[64];
  std::snprintf(expected, sizeof expected, "entropy bound: %.1f bits", bits);
  EXPECT_THAT(out.str(), HasSubstr(expected));
  EXPECT_THAT(out.str(),
              HasSubstr("choices: " + std::to_string(s.schedule.size())));
  EXPECT_THAT(out.str(), HasSubstr("strands: 3"));
  EXPECT_THAT(out.str(), HasSubstr("ratio to the bound: "));
}

TEST(TraceCommand, VerifyPassesAWholeFileAndFailsACutOne) {
  const std::string path = failing_trace("verify");
  std::ostringstream ok;
  EXPECT_EQ(trace_verify(path, ok), 0);
  EXPECT_THAT(ok.str(), HasSubstr("ok: 1 frames"));
  fs::resize_file(path, fs::file_size(path) - 3);
  std::ostringstream cut;
  // Read with losses: exit 3 (format 2.0; it was 1).
  EXPECT_EQ(trace_verify(path, cut), traces::kExitLosses);
  EXPECT_THAT(cut.str(), HasSubstr("DAMAGED"));
  EXPECT_THAT(cut.str(), HasSubstr("cut short at byte"));
}

TEST(TraceCommand, AForeignFileIsStatus2WithTheOffset) {
  const fs::path path = fs::temp_directory_path() /
                        ("weft-" + std::to_string(getpid()) + "-foreign");
  std::ofstream(path) << "hello";
  std::ostringstream out;
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(trace_show(path.string(), {}, out), 2);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr(path.string()));
  EXPECT_THAT(err, HasSubstr("at byte 0"));
  fs::remove(path);
}

TEST(TraceCommand, ShowNamesStrandsAndEndsWithTheFailure) {
  const std::string path = failing_trace("show");
  std::ostringstream out;
  ASSERT_EQ(trace_show(path, {}, out), 0);
  EXPECT_THAT(out.str(), HasSubstr("spawn   'writer' #1 by 'main'"));
  EXPECT_THAT(out.str(), HasSubstr("FAILURE in 'main': "));
  std::ostringstream limited;
  ShowOptions two;
  two.limit = 2;
  ASSERT_EQ(trace_show(path, two, limited), 0);
  std::size_t lines = 0;
  std::istringstream in(limited.str());
  for (std::string line; std::getline(in, line);)
    if (!line.starts_with("#")) ++lines;
  EXPECT_EQ(lines, 2u);
}

}  // namespace
}  // namespace weft::replay
