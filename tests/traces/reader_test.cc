// The streaming reader's memory: reading a trace keeps one frame in
// memory, so the peak resident set while reading does not grow with the
// length of the file.
#include "traces/reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "traces/writer.h"

namespace weft::traces {
namespace {

namespace fs = std::filesystem;

// Peak resident set in KiB since the last reset_peak().
long peak_kib() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmHWM:") {
      long kib = 0;
      status >> kib;
      return kib;
    }
    std::getline(status, key);
  }
  return -1;
}

// Linux: writing 5 to clear_refs resets VmHWM to the current RSS.
bool reset_peak() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return static_cast<bool>(clear);
}

std::string write_trace(const std::string& name, std::uint64_t records) {
  const fs::path path = fs::temp_directory_path() /
                        ("weft-" + std::to_string(getpid()) + "-" + name);
  TraceHeader h;
  h.kind = TraceKind::kEvents;
  TraceWriter w(path.string(), h);
  for (std::uint64_t i = 0; i < records; ++i) {
    EventRecord e;
    e.kind = EventRecord::Kind::kMessage;
    e.strand = static_cast<std::uint32_t>(i % 7);
    e.peer = static_cast<std::uint32_t>(i % 5);
    e.step = i;
    e.value = i * 3;
    e.detail = "message " + std::to_string(i);
    w.append(e);
  }
  w.close();
  return path.string();
}

// How much the peak resident set grows while reading `path` to its end.
long peak_growth_reading(const std::string& path, std::uint64_t& records) {
  if (!reset_peak()) return -1;
  const long before = peak_kib();
  auto reader = TraceReader::open(path);
  records = 0;
  for (const Record& r : reader.records()) {
    (void)r;
    ++records;
  }
  return peak_kib() - before;
}

TEST(TraceReader, MemoryStaysFlatHoweverLongTheFile) {
#if defined(WEFT_ASAN) || defined(WEFT_TSAN)
  GTEST_SKIP() << "sanitizers keep freed memory quarantined: the resident "
                  "set says nothing about the reader's own use";
#endif
  const std::string small = write_trace("flat-small", 200'000);
  const std::string large = write_trace("flat-large", 2'000'000);
  const auto small_bytes = fs::file_size(small);
  const auto large_bytes = fs::file_size(large);
  ASSERT_GT(large_bytes, 8 * small_bytes);

  std::uint64_t small_records = 0, large_records = 0;
  const long small_growth = peak_growth_reading(small, small_records);
  const long large_growth = peak_growth_reading(large, large_records);
  fs::remove(small);
  fs::remove(large);
  if (small_growth < 0) GTEST_SKIP() << "cannot reset the peak RSS here";
  EXPECT_EQ(small_records, 200'000u);
  EXPECT_EQ(large_records, 2'000'000u);
  std::printf(
      "peak RSS grew %ld KiB reading %llu KiB, %ld KiB reading %llu KiB\n",
      small_growth, static_cast<unsigned long long>(small_bytes / 1024),
      large_growth, static_cast<unsigned long long>(large_bytes / 1024));
  // Ten times the file, not ten times the memory: the growth is one
  // frame's worth (and the allocator's slack), the same for both.
  EXPECT_LT(large_growth, small_growth + 1024);
  EXPECT_LT(large_growth, 8 * 1024);
}

}  // namespace
}  // namespace weft::traces
