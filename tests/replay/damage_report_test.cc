// What the readers say about damage, in words (the messages
// docs/trace-format.md shows), and atomic outputs: a convert that fails
// leaves no output and an earlier one as it was; one that reads with
// losses writes what it read and says what it lost.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "replay/alloc/convert.h"
#include "replay/alloc/log.h"
#include "replay/trace_command.h"
#include "sim/harness/schedule_trace.h"
#include "tests/replay/mangle_files.h"

namespace weft::replay {
namespace {

using namespace mangle;  // NOLINT: the test files' helpers
using traces::Record;
using traces::TraceKind;

// The files in `dir` whose name starts with `prefix`.
std::vector<std::string> files_like(const std::string& prefix) {
  std::vector<std::string> out;
  const fs::path p(prefix);
  for (const auto& e : fs::directory_iterator(p.parent_path()))
    if (e.path().filename().string().starts_with(p.filename().string()))
      out.push_back(e.path().string());
  return out;
}

// A calls log whose second frame holds an event record: convert fails
// on it after writing the first frame's operations.
std::string calls_log_failing_midway() {
  const std::string path = temp("midway.weft");
  traces::TraceHeader h;
  h.kind = TraceKind::kAllocLog;
  h.metadata = {{"form", "calls"}};
  traces::WriterOptions o;
  o.records_per_frame = kPerFrame;
  traces::TraceWriter w(path, h, o);
  auto records = records_of("calls");
  records[kPerFrame + 1] = traces::TimeRecord{};
  for (const Record& r : records) w.append(r);
  w.close();
  return path;
}

TEST(AtomicOutput, AFailedConvertLeavesNoOutputAndNoTemporaryFile) {
  const std::string input = calls_log_failing_midway();
  const std::string output = temp("midway-none.slots");
  std::remove(output.c_str());
  EXPECT_THROW(convert(input, output), traces::TraceError);
  EXPECT_FALSE(fs::exists(output));
  EXPECT_THAT(files_like(output), ::testing::IsEmpty());
  std::remove(input.c_str());
}

TEST(AtomicOutput, AFailedConvertLeavesAnEarlierGoodOutputAsItWas) {
  const std::string good = temp("good-calls.weft");
  spill(good, write_kind("calls"));
  const std::string output = temp("kept.slots");
  convert(good, output);
  const std::string before = slurp(output);
  ASSERT_FALSE(before.empty());
  const std::string input = calls_log_failing_midway();
  EXPECT_THROW(convert(input, output), traces::TraceError);
  // --strict refusing a loss: after the whole input was converted.
  const std::string cut = temp("cut-calls.weft");
  spill(cut, slurp(good).substr(0, slurp(good).size() - 3));
  ConvertOptions strict;
  strict.strict = true;
  EXPECT_THROW(convert(cut, output, strict), ConvertError);
  EXPECT_EQ(slurp(output), before);
  EXPECT_EQ(files_like(output), std::vector<std::string>{output});
  for (const auto& p : {good, output, input, cut}) std::remove(p.c_str());
}

TEST(AtomicOutput, AConvertWithLossesWritesWhatItReadAndSaysWhatItLost) {
  const std::string original = write_kind("calls");
  const std::string input = temp("lossy-calls.weft");
  spill(input, original);
  const Layout l = layout_of(input, original);
  std::string m = original;
  m[l.frames[1] + 30] = static_cast<char>(m[l.frames[1] + 30] ^ 1);
  spill(input, m);
  const std::string output = temp("lossy.slots");
  const ConvertStats stats = convert(input, output);
  EXPECT_EQ(stats.calls, kRecords - kPerFrame);
  ASSERT_FALSE(stats.losses.empty());
  EXPECT_THAT(stats.losses.front(),
              ::testing::StartsWith(input + ": frame 1 of 4 damaged"));
  EXPECT_TRUE(fs::exists(output));
  for (const auto& p : {input, output}) std::remove(p.c_str());
}

TEST(BuildIdentity, ATraceFromAnotherBuildIsNamedInAWarning) {
  traces::TraceHeader h;
  sim::add_build_metadata(h);
  EXPECT_EQ(sim::build_mismatch(h), "");
  h.metadata = {{"weft_version", "0.0.1"}, {"build_id", "0123abcd"}};
  const std::string w = sim::build_mismatch(h);
  EXPECT_THAT(w, ::testing::HasSubstr("recorded by build 0123abcd"));
  EXPECT_THAT(w, ::testing::HasSubstr("replay divergence"));
}

// The messages docs/trace-format.md shows, one damage each, word for word
// up to the numbers.
TEST(Damage, EachKindOfDamageReadsAsDocumented) {
  const std::string original = write_kind("events");
  const std::string path = temp("documented.weft");
  spill(path, original);
  const Layout l = layout_of(path, original);
  const auto& f = l.frames;
  auto losses = [&](const std::string& bytes) {
    spill(path, bytes);
    const Outcome o = read(path);
    std::string all;
    for (const auto& line : traces::describe_losses(path, o.summary))
      all += line + "\n";
    return all;
  };
  auto frame = [&](int k) { return original.substr(f[k], f[k + 1] - f[k]); };
  const std::string head = original.substr(0, l.header);
  const std::string end = original.substr(f[4]);
  using ::testing::ContainsRegex;
  using ::testing::HasSubstr;
  // Frames 1 and 2 swapped.
  EXPECT_THAT(losses(head + frame(0) + frame(2) + frame(1) + frame(3) + end),
              AllOf(HasSubstr(path + ": frame 1 of 4 missing at byte " +
                              std::to_string(f[1]) + "\n"),
                    ContainsRegex(": frame 1 of 4 out of order \\(after frame "
                                  "2\\) at byte [0-9]+: 5 records lost")));
  // A frame info damaged.
  std::string m = original;
  m[f[1] + 9] = static_cast<char>(m[f[1] + 9] ^ 1);
  EXPECT_THAT(losses(m), ContainsRegex(": frame 1 of 4 damaged \\([0-9]+ "
                                       "bytes unreadable, no frame info\\) "
                                       "at byte " +
                                       std::to_string(f[1])));
  // Bytes between two frames, after the end marker, in the end marker.
  EXPECT_THAT(losses(head + frame(0) + "xyz" + original.substr(f[1])),
              HasSubstr(path + ": 3 unreadable bytes (no frame lost) at byte " +
                        std::to_string(f[1])));
  EXPECT_THAT(losses(original + "xyz"),
              HasSubstr(path + ": 3 bytes after the end marker at byte " +
                        std::to_string(original.size())));
  m = original;
  m.back() = static_cast<char>(m.back() ^ 1);
  EXPECT_THAT(losses(m),
              AllOf(HasSubstr(path + ": " + std::to_string(end.size()) +
                              " unreadable bytes to the end of the file (no "
                              "frame info found) at byte " +
                              std::to_string(f[4])),
                    HasSubstr(": no end marker at byte ")));
  // Cut inside the last frame.
  EXPECT_THAT(losses(original.substr(0, f[3] + 20)),
              HasSubstr(path + ": cut short at byte " + std::to_string(f[3]) +
                        ": the last 20 bytes are an unfinished frame (was "
                        "its writer killed?)"));
  // The header: its CRC, and versions this reader does not know.
  auto refusal = [&](std::size_t at, char value) {
    std::string h = original;
    h[at] = value;
    spill(path, h);
    return read(path).message;
  };
  EXPECT_EQ(refusal(10, 0),  // the kind byte: events to schedule
            path +
                ": header checksum mismatch: the header (kind, metadata) "
                "is damaged at byte " +
                std::to_string(l.header - 4));
  EXPECT_EQ(refusal(9, 5), path +
                               ": format version 2.5 is newer than this weft "
                               "reads (2.4); use a newer weft at byte 8");
  std::string v12 = original;
  v12[8] = 1;
  v12[9] = 2;
  spill(path, v12);
  EXPECT_EQ(
      read(path).message,
      path +
          ": format version 1.2 is not one this weft reads (1.0, "
          "1.1, 2.0, 2.1, 2.2, 2.3, 2.4): the header is damaged or was not "
          "written by "
          "weft at byte 8");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace weft::replay
