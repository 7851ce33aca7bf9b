// Importers: logs made by glibc's mtrace and by Debian's heaptrack (real
// tools, run here) convert and replay cleanly; bad input of every format
// is an error naming the file and a byte offset.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "replay/alloc/convert.h"
#include "replay/alloc/import.h"
#include "replay/alloc/replay.h"
#include "tests/support/scratch_dir.h"
#include "traces/format.h"
#include "traces/writer.h"

namespace weft::replay {
namespace {

std::string temp(const std::string& name) {
  return test::scratch_file("import-" + name);
}

int shell(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// The real python3 program, not a wrapper script (pyenv shims are shell
// scripts, which heaptrack would profile instead).
std::string python() {
  FILE* p = popen("python3 -c 'import sys; print(sys.executable)'", "r");
  char buf[1024] = {};
  if (p == nullptr || std::fgets(buf, sizeof buf, p) == nullptr) return "";
  pclose(p);
  std::string s(buf);
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

ReplayResult convert_and_replay(const std::string& log, ConvertStats& stats) {
  const std::string slots = log + ".slots";
  stats = convert(log, slots);
  ReplayResult r = replay_in_child(slots, "glibc", {});
  std::remove(slots.c_str());
  return r;
}

TEST(AllocImport, ReadsEveryLineFormOfARealMtraceLog) {
  const std::string log = temp("mtrace.txt");
  ASSERT_EQ(shell("MALLOC_TRACE=" + log +
                  " LD_PRELOAD=libc_malloc_debug.so.0 " WEFT_MTRACE_PROG),
            0);
  std::uint64_t mallocs = 0, frees = 0, reallocs = 0, failed = 0;
  for (const auto& r : import_mtrace(log)) {
    if (r.call == AllocCall::kMalloc) ++mallocs;
    if (r.call == AllocCall::kFree) ++frees;
    if (r.call == AllocCall::kRealloc) {
      ++reallocs;
      if (r.result == 0) ++failed;
    }
  }
  // 64 + calloc + realloc(NULL) + memalign + posix_memalign +
  // aligned_alloc + valloc ('+' lines).
  EXPECT_EQ(mallocs, 70u);
  EXPECT_EQ(reallocs, 2u);  // "< >" and the failed "!"
  EXPECT_EQ(failed, 1u);
  EXPECT_EQ(frees, 6u + 32);
  ConvertStats stats;
  const ReplayResult r = convert_and_replay(log, stats);
  EXPECT_EQ(stats.anomalies(), 0u);
  EXPECT_EQ(stats.failed, 1u);
  EXPECT_TRUE(r.ok()) << r.failure;
  EXPECT_EQ(r.operations, 70u + 38 + 1);
  // The same through the command line.
  EXPECT_EQ(shell(std::string(WEFT_BINARY) + " alloc import " + log + " -o " +
                  log + ".weft > /dev/null"),
            0);
  std::uint64_t imported = 0;
  for (const auto& c : read_calls(log + ".weft")) {
    (void)c;
    ++imported;
  }
  EXPECT_EQ(imported, 70u + 38 + 2);
  std::remove((log + ".weft").c_str());
  std::remove(log.c_str());
}

TEST(AllocImport, MtraceOfPython3RoundTripsThroughConvertAndReplay) {
  const std::string log = temp("python-mtrace.txt");
  ASSERT_EQ(shell("MALLOC_TRACE=" + log +
                  " LD_PRELOAD='libc_malloc_debug.so.0 " WEFT_MTRACE_ON
                  "' python3 -c 'print(sum(len(str(i) * 40) for i in "
                  "range(5000)))' >/dev/null"),
            0);
  ConvertStats stats;
  const ReplayResult r = convert_and_replay(log, stats);
  EXPECT_GT(stats.calls, 1000u);
  // mtrace's lines are written after each call under its own lock, and
  // python3 is single-threaded here: nothing out of order. Frees of
  // blocks allocated before the constructor turned mtrace on are unknown.
  EXPECT_EQ(stats.reused_before_free, 0u);
  EXPECT_EQ(stats.double_frees, 0u);
  EXPECT_LE(stats.unknown_frees, 50u);
  EXPECT_TRUE(r.ok()) << r.failure;
  EXPECT_EQ(r.operations, stats.operations);
  std::remove(log.c_str());
}

class Heaptrack : public ::testing::Test {
 protected:
  void SetUp() override {
    if (shell("command -v heaptrack >/dev/null") != 0)
      GTEST_SKIP() << "heaptrack is not installed (.ci/setup installs it)";
  }
};

TEST_F(Heaptrack, InterpretedDataFileOfPython3RoundTrips) {
  const std::string out = temp("heaptrack");
  ASSERT_EQ(shell("heaptrack -o " + out + " " + python() +
                  " -c 'x = [bytes(1000 + i) for i in range(3000)]' "
                  ">/dev/null 2>&1"),
            0);
  const std::string file = out + ".zst";  // heaptrack compresses with zstd
  ASSERT_EQ(access(file.c_str(), R_OK), 0) << file;
  ConvertStats stats;
  const ReplayResult r = convert_and_replay(file, stats);
  EXPECT_GT(stats.calls, 3000u);
  EXPECT_EQ(stats.anomalies(), 0u);
  EXPECT_TRUE(r.ok()) << r.failure;
  // 3000 blocks of 1000 to 3999 bytes stay live.
  EXPECT_GT(r.peak_live, 3000u * 1000);
  std::remove(file.c_str());
}

TEST_F(Heaptrack, RawDataFileKeepsRealAddresses) {
  const std::string out = temp("heaptrack-raw");
  ASSERT_EQ(shell("heaptrack -r -o " + out + " " + python() +
                  " -c 'x = [bytes(1000 + i) for i in range(3000)]' "
                  ">/dev/null 2>&1"),
            0);
  const std::string file = out + ".raw.zst";
  ASSERT_EQ(access(file.c_str(), R_OK), 0) << file;
  std::uint64_t with_address = 0;
  for (const auto& r : import_heaptrack(file))
    if (r.call == AllocCall::kMalloc && r.result > 0x10000) ++with_address;
  EXPECT_GT(with_address, 3000u);
  ConvertStats stats;
  const ReplayResult r = convert_and_replay(file, stats);
  // The raw file keeps frees of blocks allocated before heaptrack's
  // preload started (its interpreter drops those): a few unknown frees.
  EXPECT_LE(stats.unknown_frees, 5u);
  EXPECT_EQ(stats.anomalies(), stats.unknown_frees);
  EXPECT_TRUE(r.ok()) << r.failure;
  std::remove(file.c_str());
}

// --- bad input
// ------------------------------------------------------------------

// Runs convert on `bytes`; the error message, or "" if none.
std::string convert_error(const std::string& name, const std::string& bytes) {
  const std::string path = temp(name);
  write_file(path, bytes);
  std::string message;
  try {
    convert(path, path + ".slots");
  } catch (const traces::TraceError& e) {
    message = e.what();
  }
  std::remove(path.c_str());
  std::remove((path + ".slots").c_str());
  return message;
}

// The message names the file and a byte offset, and the offset is `at`.
void expect_located(const std::string& message, const std::string& name,
                    std::uint64_t at) {
  EXPECT_NE(message.find(name), std::string::npos) << message;
  EXPECT_NE(message.find(" at byte " + std::to_string(at)), std::string::npos)
      << message;
}

const char kMtrace[] =
    "= Start\n"
    "@ ./a.out:[0x1234] + 0x5000 0x10\n"
    "+ 0x6000 0x20\n"
    "@ ./a.out:(main+0x10)[0x1240] < 0x5000\n"
    "@ ./a.out:(main+0x10)[0x1240] > 0x7000 0x30\n"
    "- 0x7000\n"
    "- 0x6000\n"
    "= End\n";

TEST(AllocImportBadInput, AWellFormedMtraceLogConverts) {
  EXPECT_EQ(convert_error("good.mtrace", kMtrace), "");
}

TEST(AllocImport, AZstdCompressedMtraceLogIsKnownByItsContent) {
  const std::string text(kMtrace);
  std::string packed(ZSTD_compressBound(text.size()), '\0');
  packed.resize(
      ZSTD_compress(packed.data(), packed.size(), text.data(), text.size(), 3));
  const std::string path = temp("mtrace.txt.zst");
  write_file(path, packed);
  ImportedLog log = open_calls(path);
  EXPECT_EQ(log.format, LogFormat::kMtrace);
  // convert reads it as import does, through open_calls.
  EXPECT_EQ(convert_error("packed.mtrace.zst", packed), "");
  std::uint64_t calls = 0;
  for (const auto& r : *log.calls) {
    (void)r;
    ++calls;
  }
  EXPECT_EQ(calls, 5u);  // two mallocs, a realloc, two frees
  std::remove(path.c_str());
}

TEST(AllocImportBadInput, TruncatedMtraceLogNamesFileAndOffset) {
  const std::string text(kMtrace);
  const std::string cut = text.substr(0, text.find("- 0x6000") + 5);
  expect_located(convert_error("cut.mtrace", cut), "cut.mtrace",
                 text.find("- 0x6000"));
}

TEST(AllocImportBadInput, CorruptMtraceLineNamesFileAndOffset) {
  std::string text(kMtrace);
  const std::size_t at = text.find("+ 0x6000 0x20");
  text.replace(at, 13, "+ 0x6000 zz");
  const std::string message = convert_error("bad.mtrace", text);
  expect_located(message, "bad.mtrace", at + 9);
  EXPECT_NE(message.find("expected a size"), std::string::npos);
}

TEST(AllocImportBadInput, ForeignFileIsRefusedAtByteZero) {
  const std::string message = convert_error("foreign.bin",
                                            "\x7f"
                                            "ELF\x02\x01\x01 not a log");
  expect_located(message, "foreign.bin", 0);
  EXPECT_NE(message.find("not an allocator log"), std::string::npos);
  expect_located(convert_error("empty.log", ""), "empty.log", 0);
}

TEST(AllocImportBadInput, WeftLogOfAnotherKindIsRefused) {
  const std::string path = temp("schedule.weft");
  traces::TraceHeader header;  // a schedule trace
  traces::TraceWriter(path, header).close();
  const std::string message = convert_error("schedule.weft", read_file(path));
  EXPECT_NE(message.find("not an allocator log"), std::string::npos) << message;
  std::remove(path.c_str());
}

TEST(AllocImportBadInput, TruncatedAndCorruptWeftLogsNameFileAndOffset) {
  const std::string path = temp("calls.weft");
  traces::TraceHeader header;
  header.kind = traces::TraceKind::kAllocLog;
  header.metadata = {{"form", "calls"}};
  {
    traces::WriterOptions options;
    options.records_per_frame = 100;
    traces::TraceWriter w(path, header, options);
    for (std::uint64_t i = 0; i < 1000; ++i) {
      AllocRecord r;
      r.seq = 2 * i;
      r.size = i;
      r.result = 0x1000 + 16 * i;
      w.append(r);
      r.call = AllocCall::kFree;
      r.seq = 2 * i + 1;
      r.ptr = r.result;
      r.result = 0;
      w.append(r);
    }
  }
  const std::string bytes = read_file(path);
  std::remove(path.c_str());
  // Header cut short.
  expect_located(convert_error("head.weft", bytes.substr(0, 10)), "head.weft",
                 10);
  // A byte flipped in the middle: that frame's checksum fails, and the
  // calls of the other frames convert (format 2.0: a read with losses,
  // where format 1 stopped there with an error).
  std::string corrupt = bytes;
  corrupt[bytes.size() / 2] =
      static_cast<char>(corrupt[bytes.size() / 2] ^ 0x55);
  const std::string flip_path = temp("flip.weft");
  write_file(flip_path, corrupt);
  const ConvertStats flipped = convert(flip_path, flip_path + ".slots");
  ASSERT_FALSE(flipped.losses.empty());
  const std::string message = flipped.losses.front();
  EXPECT_NE(message.find("flip.weft"), std::string::npos) << message;
  EXPECT_TRUE(std::regex_search(message, std::regex(" at byte [0-9]+")))
      << message;
  EXPECT_EQ(flipped.calls, 1900u);  // 2000 less the damaged frame's 100
  std::remove(flip_path.c_str());
  std::remove((flip_path + ".slots").c_str());
  // Cut inside its last frame, as a recorder killed mid-write leaves it:
  // the calls before the cut convert, and the stats say where the cut is;
  // --strict refuses it, naming the file and the offset.
  const std::string cut_path = temp("cut.weft");
  // (40 bytes: past the end marker, into the last frame).
  write_file(cut_path, bytes.substr(0, bytes.size() - 40));
  const ConvertStats cut = convert(cut_path, cut_path + ".slots");
  EXPECT_GT(cut.lost_bytes, 0u);
  EXPECT_GT(cut.lost_at, 0u);
  EXPECT_EQ(cut.lost_at + cut.lost_bytes, bytes.size() - 40);
  EXPECT_GT(cut.calls, 0u);
  EXPECT_LT(cut.calls, 2000u);
  std::ostringstream report;
  print_stats(cut, report);
  EXPECT_NE(report.str().find("cut short          at byte " +
                              std::to_string(cut.lost_at)),
            std::string::npos)
      << report.str();
  ConvertOptions strict;
  strict.strict = true;
  std::string refused;
  try {
    convert(cut_path, cut_path + ".slots", strict);
  } catch (const ConvertError& e) {
    refused = e.what();
  }
  EXPECT_NE(refused.find(cut_path + ": cut short at byte " +
                         std::to_string(cut.lost_at)),
            std::string::npos)
      << refused;
  // A whole file reports nothing lost.
  write_file(cut_path, bytes);
  EXPECT_EQ(convert(cut_path, cut_path + ".slots").lost_bytes, 0u);
  std::remove(cut_path.c_str());
  std::remove((cut_path + ".slots").c_str());
}

TEST(AllocImportBadInput, ConvertRefusesToWriteOverItsInput) {
  const std::string path = temp("self.weft");
  traces::TraceHeader header;
  header.kind = traces::TraceKind::kAllocLog;
  header.metadata = {{"form", "calls"}};
  {
    traces::TraceWriter w(path, header);
    AllocRecord r;
    r.size = 8;
    r.result = 0x1000;
    w.append(r);
  }
  const std::string before = read_file(path);
  EXPECT_THROW(convert(path, path), std::invalid_argument);
  EXPECT_THROW(import_log(path, path), std::invalid_argument);
  EXPECT_EQ(read_file(path), before);
  std::remove(path.c_str());
}

TEST(AllocImportBadInput, TruncatedHeaptrackFileNamesFileAndOffset) {
  const std::string text =
      "v 10400 3\nX ./a.out\na 10 1\na 20 2\n+ 0\n+ 1\n- 0\n- 1\n";
  EXPECT_EQ(convert_error("good.heaptrack", text), "");
  expect_located(
      convert_error("cut.heaptrack", text.substr(0, text.size() - 2)),
      "cut.heaptrack", text.size() - 4);
  const std::string bad = "v 10400 3\na 10 1\n+ 7\n";
  expect_located(convert_error("undef.heaptrack", bad), "undef.heaptrack",
                 bad.find("+ 7") + 2);
}

TEST(AllocImportBadInput, CorruptCompressedHeaptrackFileIsAnError) {
  const std::string path = temp("h.txt");
  write_file(path, "v 10400 3\na 10 1\n+ 0\n- 0\n");
  ASSERT_EQ(shell("zstd -q -f " + path + " -o " + path + ".zst"), 0);
  const std::string z = read_file(path + ".zst");
  std::remove(path.c_str());
  std::remove((path + ".zst").c_str());
  EXPECT_EQ(convert_error("ok.zst", z), "");
  const std::string cut = convert_error("cut.zst", z.substr(0, z.size() - 6));
  EXPECT_NE(cut.find("cut.zst"), std::string::npos) << cut;
  EXPECT_NE(cut.find("at byte"), std::string::npos) << cut;
}

}  // namespace
}  // namespace weft::replay
