// Compare: the table's ratios are to the first allocator, the CSV has
// mimalloc-bench's benchres.csv columns, the HTML plot is self-contained
// with a live-bytes and an RSS line per allocator; and `weft alloc` runs
// record, convert, replay and compare end to end from the command line.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "replay/alloc/compare.h"
#include "traces/writer.h"

namespace weft::replay {
namespace {

ReplayResult result(const std::string& name, double seconds,
                    std::uint64_t peak) {
  ReplayResult r;
  r.allocator = name;
  r.mode = "fast";
  r.operations = 1000;
  r.seconds = seconds;
  r.peak_rss = peak;
  r.final_rss = peak / 2;
  r.peak_live = 1 << 20;
  r.latency[0] = Latency{500, 20, 40, 80, 160, 320};
  r.series = {Sample{0, 0, 0}, Sample{500, 1 << 19, peak / 2},
              Sample{1000, 1 << 20, peak}};
  r.user_seconds = 0.25;
  return r;
}

TEST(AllocCompare, TableGivesRatiosToTheFirstAllocator) {
  std::ostringstream out;
  print_comparison(
      {result("glibc", 1.0, 4 << 20), result("fast", 0.5, 2 << 20)}, out);
  const std::string t = out.str();
  EXPECT_NE(t.find("ratios are to glibc"), std::string::npos) << t;
  // Twice the operations per second, half the peak RSS.
  EXPECT_TRUE(
      std::regex_search(t, std::regex("fast +2000 +2\\.00x +2\\.00 +0\\.50x")))
      << t;
}

TEST(AllocCompare, CsvHasMimallocBenchColumns) {
  std::ostringstream out;
  write_benchres("app", {result("glibc", 1.5, 4 << 20)}, out);
  std::istringstream in(out.str());
  std::string header, row;
  std::getline(in, header);
  std::getline(in, row);
  EXPECT_EQ(header,
            "# benchmark allocator elapsed rss user sys page-faults "
            "page-reclaims");
  EXPECT_EQ(row, "app glibc 1.500 4096 0.25 0.00 0 0");
}

TEST(AllocCompare, PlotIsSelfContainedWithTwoLinesPerAllocator) {
  std::ostringstream out;
  write_plot("t <&>", {result("glibc", 1, 4 << 20), result("je", 1, 8 << 20)},
             out);
  const std::string html = out.str();
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
  EXPECT_NE(html.find("t &lt;&amp;&gt;"), std::string::npos);
  for (const std::string a : {"glibc", "je"}) {
    EXPECT_NE(html.find("class=\"rss\" data-allocator=\"" + a + "\""),
              std::string::npos);
    EXPECT_NE(html.find("class=\"live\" data-allocator=\"" + a + "\""),
              std::string::npos);
  }
}

int shell(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(AllocCommand, RecordConvertReplayAndCompareFromTheCommandLine) {
  const std::string dir =
      ::testing::TempDir() + "/alloc-cli-" + std::to_string(getpid());
  ASSERT_EQ(shell("mkdir -p " + dir), 0);
  const std::string weft = WEFT_BINARY;
  ASSERT_EQ(shell(weft + " alloc record -o " + dir + "/git.weft -- git " +
                  "--version > /dev/null 2>&1"),
            0);
  ASSERT_EQ(shell(weft + " alloc convert " + dir + "/git.weft -o " + dir +
                  "/git.slots.weft > " + dir + "/convert.txt"),
            0);
  EXPECT_NE(slurp(dir + "/convert.txt").find("peak live blocks"),
            std::string::npos);
  ASSERT_EQ(shell(weft + " alloc replay " + dir + "/git.slots.weft -a " +
                  "jemalloc > " + dir + "/replay.txt"),
            0);
  const std::string report = slurp(dir + "/replay.txt");
  for (const char* field :
       {"mode           fast", "ops/s", "peak RSS", "final RSS",
        "fragmentation", "p99", "none damaged"})
    EXPECT_NE(report.find(field), std::string::npos) << field << "\n" << report;
  ASSERT_EQ(shell(weft + " alloc compare " + dir + "/git.slots.weft glibc " +
                  "mimalloc --ordered --csv " + dir + "/c.csv --html " + dir +
                  "/c.html > " + dir + "/compare.txt"),
            0);
  EXPECT_NE(slurp(dir + "/compare.txt").find("mimalloc"), std::string::npos);
  EXPECT_NE(slurp(dir + "/c.csv").find("git.slots.weft mimalloc"),
            std::string::npos);
  EXPECT_NE(slurp(dir + "/c.html").find("<svg"), std::string::npos);
  // A calls log where a slots log is due: converted on the way, and said.
  EXPECT_EQ(shell(weft + " alloc replay " + dir + "/git.weft > /dev/null 2> " +
                  dir + "/err.txt"),
            0);
  EXPECT_NE(slurp(dir + "/err.txt").find("to slots on the way"),
            std::string::npos);
  // The plot needs the series only checked runs sample: refused, before
  // any replay, rather than an empty plot.
  EXPECT_EQ(
      shell(weft + " alloc compare " + dir + "/git.slots.weft glibc " +
            "--no-check --html " + dir + "/nc.html 2> " + dir + "/err2.txt"),
      2);
  EXPECT_NE(slurp(dir + "/err2.txt").find("drop --no-check or --html"),
            std::string::npos);
  EXPECT_NE(access((dir + "/nc.html").c_str(), F_OK), 0);
  // A misspelt allocator and an output that cannot be written are usage
  // errors, found before anything is replayed.
  EXPECT_EQ(shell(weft + " alloc replay " + dir + "/git.slots.weft -a " +
                  "jemaloc 2> " + dir + "/err3.txt"),
            2);
  EXPECT_NE(slurp(dir + "/err3.txt").find("unknown allocator 'jemaloc'"),
            std::string::npos);
  EXPECT_EQ(
      shell(weft + " alloc compare " + dir + "/git.slots.weft glibc " +
            "--csv " + dir + "/no/such/dir/c.csv 2> " + dir + "/err4.txt"),
      2);
  EXPECT_NE(slurp(dir + "/err4.txt").find("cannot write"), std::string::npos);
  // A path the recorder could not create: said before the program runs.
  EXPECT_EQ(shell(weft + " alloc record -o " + dir +
                  "/no/such/dir/x.weft -- git --version > " + dir +
                  "/out5.txt 2> " + dir + "/err5.txt"),
            2);
  EXPECT_NE(slurp(dir + "/err5.txt").find("cannot create"), std::string::npos);
  EXPECT_EQ(slurp(dir + "/out5.txt"), "");  // git never ran
  shell("rm -rf " + dir);
}

TEST(AllocCommand, ADamagedSlotsLogIsBadInputExitTwo) {
  // Well formed, but slot 0 is freed twice: the replayer finds it while
  // reading, and the command treats it as any other bad input.
  const std::string dir =
      ::testing::TempDir() + "/alloc-bad-" + std::to_string(getpid());
  ASSERT_EQ(shell("mkdir -p " + dir), 0);
  const std::string log = dir + "/double.slots.weft";
  traces::TraceHeader header;
  header.kind = traces::TraceKind::kAllocLog;
  header.metadata = {{"form", "slots"}};
  {
    traces::TraceWriter w(log, header);
    SlotRecord r;
    r.size = 16;
    w.append(r);
    r.call = AllocCall::kFree;
    w.append(r);
    w.append(r);
  }
  const std::string weft = WEFT_BINARY;
  for (const std::string args : {" alloc replay ", " alloc replay --no-check ",
                                 " alloc compare --no-check "}) {
    const std::string extra =
        args.find("compare") != std::string::npos ? " glibc jemalloc" : "";
    EXPECT_EQ(shell(weft + args + log + extra + " > /dev/null 2> " + dir +
                    "/err.txt"),
              2)
        << args;
    EXPECT_NE(slurp(dir + "/err.txt")
                  .find(log + ": operation 2: free of slot 0, which holds "
                              "no block at byte "),
              std::string::npos)
        << args << slurp(dir + "/err.txt");
  }
  shell("rm -rf " + dir);
}

TEST(AllocCommand, EverySubcommandHasHelp) {
  for (const char* sub : {"record", "import", "convert", "replay", "compare"})
    EXPECT_EQ(shell(std::string(WEFT_BINARY) + " alloc " + sub +
                    " --help > /dev/null"),
              0)
        << sub;
}

}  // namespace
}  // namespace weft::replay
