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
#include "traces/writer.h"

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

std::string text_of(const Timeline& t, std::uint32_t text) {
  return t.texts.at(text);
}

TEST(Timeline, EachOperationHasItsObjectValueAndSourceLineAndBlockingIsDrawn) {
  const Timeline t = timeline_of(failing_trace("ops"));
  // The atomic's load and store, with the values they read and wrote.
  std::set<std::string> seen;
  for (const Op& o : t.ops) {
    const std::string text = text_of(t, o.text);
    if (text == "load atomic" || text == "store atomic") {
      EXPECT_TRUE(o.has_value) << text;
      seen.insert(text);
    }
    if (text.starts_with("join strand")) {
      EXPECT_THAT(text_of(t, o.where), HasSubstr("timeline_test.cc:"));
      seen.insert("join");
    }
  }
  EXPECT_EQ(seen,
            (std::set<std::string>{"load atomic", "store atomic", "join"}));
  // Both workers slept 5 ms (blocked until the clock woke them), and main
  // waited to join them, each stretch saying on what and where.
  std::set<std::string> waits;
  for (const Blocked& b : t.blocked) {
    EXPECT_LE(b.from_step, b.to_step);
    const std::string text = text_of(t, b.text);
    waits.insert(text.substr(0, text.find(' ', 6)));
    EXPECT_THAT(text_of(t, b.where), HasSubstr("timeline_test.cc:")) << text;
  }
  EXPECT_TRUE(waits.count("sleep until")) << ::testing::PrintToString(waits);
  EXPECT_TRUE(waits.count("join the")) << ::testing::PrintToString(waits);
  // The failure is main's assertion: main is the first strand involved.
  ASSERT_TRUE(t.failed);
  ASSERT_FALSE(t.involved.empty());
  EXPECT_EQ(t.involved.front(), 0u);
}

// Describing what a strand blocked on, for the trace, hands out no
// "mutex#N" ids: the recorded run names unnamed objects as the run it
// records did, so the trace's failure message is the one printed.
TEST(Timeline, RecordingADeadlockDoesNotRenumberUnnamedMutexes) {
  const fs::path dir = fs::temp_directory_path() /
                       ("weft-" + std::to_string(getpid()) + "-unnamed");
  fs::remove_all(dir);
  sim::ExploreOptions o;
  o.iterations = 500;
  o.use_environment = false;
  o.print = false;
  o.shrink = false;
  o.name = "unnamed";
  o.trace_dir = dir.string();
  const auto r = sim::explore(o, [] {
    sim::Mutex a, b;
    auto t1 = sim::spawn("ab", [&] {
      std::lock_guard<sim::Mutex> x(a);
      std::lock_guard<sim::Mutex> y(b);
    });
    auto t2 = sim::spawn("ba", [&] {
      std::lock_guard<sim::Mutex> y(b);
      std::lock_guard<sim::Mutex> x(a);
    });
    t1.join();
    t2.join();
  });
  ASSERT_TRUE(r.failed());
  ASSERT_TRUE(r.failure.has_value());
  EXPECT_THAT(r.failure->message, HasSubstr("mutex#"));
  auto reader = traces::TraceReader::open(r.trace_path);
  std::string recorded;
  for (const traces::Record& rec : reader.records())
    if (const auto* f = std::get_if<traces::FailureRecord>(&rec))
      recorded = f->message;
  EXPECT_EQ(recorded, r.failure->message);
  fs::remove_all(dir);
}

TEST(Timeline, AFormat20TraceWithoutOpsStillShowsWokenStrandsAsBlocked) {
  // An old trace: two strands, the second woken by the first.
  const std::string path = (fs::temp_directory_path() /
                            ("weft-" + std::to_string(getpid()) + "-old.weft"))
                               .string();
  {
    traces::TraceWriter w(path, traces::TraceHeader{});
    w.append(traces::StrandRecord{traces::StrandRecord::Event::kSpawn, 0,
                                  0xffffffffu, 0, 0, "main"});
    w.append(traces::StrandRecord{traces::StrandRecord::Event::kSpawn, 1, 0, 0,
                                  0, "waiter"});
    w.append(traces::ChoiceRecord{2, false, 0, 2, 1, 1, true, 1});
    w.append(traces::ChoiceRecord{4, false, 1, 2, 0, 0, false, 2});
    w.append(traces::EventRecord{traces::EventRecord::Kind::kWakeup, 0, 1, 5, 0,
                                 0, ""});
    w.append(traces::ChoiceRecord{5, false, 0, 2, 1, 1, false, 6});
    w.close();
  }
  const Timeline t = timeline_of(path);
  ASSERT_EQ(t.blocked.size(), 1u);
  EXPECT_EQ(t.blocked[0].strand, 1u);
  EXPECT_EQ(t.blocked[0].from_step, 2u);  // its run ended
  EXPECT_EQ(t.blocked[0].to_step, 6u);    // it ran again
  EXPECT_THAT(text_of(t, t.blocked[0].text), HasSubstr("does not say"));
  std::remove(path.c_str());
}

TEST(Timeline, ALongRunsPageHoldsTheWindowAroundTheFailureAndBucketsForAll) {
  Timeline t;
  t.lanes = {{0, "main", false}, {1, "worker", false}};
  for (std::uint64_t s = 0; s < 200000; s += 2)
    t.slices.push_back(
        Slice{static_cast<std::uint32_t>(s / 2 % 2), 0, 0, s, s + 2, "yield"});
  t.end_step = 200000;
  t.failed = true;
  t.failure_step = 150000;
  const HtmlWindow w = default_window(t);
  EXPECT_EQ(w.last, 151000u);  // a twentieth of the window after it
  EXPECT_EQ(w.first, 131000u);
  const std::string html = to_html(t, w);
  EXPECT_LT(html.size(), 1u << 20);
  const std::string begin =
      "<script id=\"weft-data\" type=\"application/json\">";
  const std::size_t at = html.find(begin) + begin.size();
  const auto d =
      nlohmann::json::parse(html.substr(at, html.find("</script>", at) - at));
  EXPECT_EQ(d["window"], nlohmann::json::array({131000, 151000}));
  // The slices that meet the window, and not one more.
  EXPECT_EQ(d["slices"]["first"].size(), 10001u);
  // Every step of the run is in one bucket of the overview, per strand.
  std::uint64_t ran = 0;
  for (const auto& lane : d["overview"]["run"])
    for (const auto& n : lane) ran += n.get<std::uint64_t>();
  EXPECT_EQ(ran, 200000u);
  // A short run is carried whole.
  t.end_step = 1000;
  EXPECT_EQ(default_window(t).first, 0u);
  EXPECT_EQ(default_window(t).last, 1000u);
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
  std::size_t slices = 0, blocked = 0, ops = 0;
  std::map<std::uint64_t, int> flow_ends;
  for (const auto& e : doc["traceEvents"]) {
    const std::string ph = e["ph"];
    if (ph == "M" && e["name"] == "thread_name")
      named_tracks.insert(e["tid"].get<int>());
    if (ph == "X") {
      ++(e.value("cat", "") == "blocked" ? blocked : slices);
      EXPECT_GE(e["dur"].get<double>(), 0.0);
    }
    if (ph == "i" && e.value("cat", "") == "op") ++ops;
    if (ph == "s") ++flow_ends[e["id"].get<std::uint64_t>()];
    if (ph == "f") flow_ends[e["id"].get<std::uint64_t>()] += 10;
  }
  EXPECT_EQ(named_tracks.size(), t.lanes.size());
  EXPECT_EQ(slices, t.slices.size());
  // Blocked stretches are slices of their own, operations instants.
  EXPECT_EQ(blocked, t.blocked.size());
  EXPECT_EQ(ops, t.ops.size());
  EXPECT_GT(ops, 0u);
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
