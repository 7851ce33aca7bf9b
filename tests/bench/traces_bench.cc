// Trace file benchmarks, each beside a baseline in the same binary:
//  - writing choice records through TraceWriter (the column layout, zstd
//    frames with checksums, one write per frame) vs writing the same
//    records' row-coded bytes with plain fwrite;
//  - reading them back through TraceReader's generator vs fread of the
//    plain bytes and a row-wise decode;
//  - bytes per choice of a random schedule of 2 and 8 strands, synthetic
//    and recorded, and the file's ratio to the entropy bound (the sum over
//    choices of log2 of the number of alternatives; target: at most 1.5).
// MB/s count the records' row-coded bytes, the same for every run, so
// figures compare across format versions; items/s are records/s.
// Run: build-release/tests/bench/traces_bench (see docs/performance.md).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "sim/harness/schedule_trace.h"
#include "sim/random.h"
#include "sim/weft.h"
#include "traces/reader.h"
#include "traces/writer.h"

namespace {

namespace fs = std::filesystem;
using weft::traces::ChoiceRecord;
using weft::traces::Record;

std::string temp_path(const char* name) {
  return (fs::temp_directory_path() /
          ("weft-bench-" + std::to_string(getpid()) + "-" + name))
      .string();
}

// A schedule-shaped stream: each step picks one of `strands` uniformly.
std::vector<Record> random_choices(std::size_t n, std::uint32_t strands) {
  weft::sim::Rng rng(7);
  std::vector<Record> out;
  out.reserve(n);
  std::uint32_t running = 0;
  for (std::size_t i = 0; i < n; ++i) {
    ChoiceRecord c;
    c.kind = 1;
    c.strand = running;
    c.count = strands;
    c.chosen = static_cast<std::uint32_t>(rng.below(strands));
    c.picked = c.chosen;
    c.preemption = c.picked != running;
    c.step = i + 1;
    running = c.picked;
    out.emplace_back(std::in_place_type<ChoiceRecord>, c);
  }
  return out;
}

constexpr std::size_t kRecords = 1 << 18;

std::size_t encoded_size(const std::vector<Record>& records) {
  std::string buf;
  for (const auto& r : records) weft::traces::encode(r, buf);
  return buf.size();
}

void BM_TraceWrite(benchmark::State& state) {
  const auto records =
      random_choices(kRecords, static_cast<std::uint32_t>(state.range(0)));
  const std::string path = temp_path("write.weft");
  for (auto _ : state) {
    weft::traces::TraceWriter w(path, weft::traces::TraceHeader{});
    for (const auto& r : records) w.append(r);
    w.close();
  }
  state.SetBytesProcessed(
      static_cast<std::int64_t>(state.iterations() * encoded_size(records)));
  state.SetItemsProcessed(
      static_cast<std::int64_t>(state.iterations() * kRecords));
  state.counters["file_bytes_per_choice"] =
      static_cast<double>(fs::file_size(path)) / kRecords;
  state.counters["entropy_ratio"] =
      static_cast<double>(fs::file_size(path)) * 8 /
      (kRecords * std::log2(static_cast<double>(state.range(0))));
  fs::remove(path);
}
BENCHMARK(BM_TraceWrite)->Arg(2)->Arg(8)->Unit(benchmark::kMillisecond);

// Baseline: the same encoded record bytes, uncompressed, with fwrite.
void BM_PlainWrite(benchmark::State& state) {
  const auto records =
      random_choices(kRecords, static_cast<std::uint32_t>(state.range(0)));
  std::string bytes;
  for (const auto& r : records) weft::traces::encode(r, bytes);
  const std::string path = temp_path("plain.bin");
  for (auto _ : state) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
  state.SetBytesProcessed(
      static_cast<std::int64_t>(state.iterations() * bytes.size()));
  state.SetItemsProcessed(
      static_cast<std::int64_t>(state.iterations() * kRecords));
  fs::remove(path);
}
BENCHMARK(BM_PlainWrite)->Arg(2)->Arg(8)->Unit(benchmark::kMillisecond);

void BM_TraceRead(benchmark::State& state) {
  const auto records =
      random_choices(kRecords, static_cast<std::uint32_t>(state.range(0)));
  const std::string path = temp_path("read.weft");
  {
    weft::traces::TraceWriter w(path, weft::traces::TraceHeader{});
    for (const auto& r : records) w.append(r);
  }
  std::uint64_t sum = 0;
  for (auto _ : state) {
    auto reader = weft::traces::TraceReader::open(path);
    for (const auto& r : reader.records())
      sum += std::get<ChoiceRecord>(r).chosen;
  }
  benchmark::DoNotOptimize(sum);
  state.SetBytesProcessed(
      static_cast<std::int64_t>(state.iterations() * encoded_size(records)));
  state.SetItemsProcessed(
      static_cast<std::int64_t>(state.iterations() * kRecords));
  fs::remove(path);
}
BENCHMARK(BM_TraceRead)->Arg(2)->Arg(8)->Unit(benchmark::kMillisecond);

// Baseline: fread the plain encoded bytes and decode them, no zstd, no
// checksums, no generator.
void BM_PlainRead(benchmark::State& state) {
  const auto records =
      random_choices(kRecords, static_cast<std::uint32_t>(state.range(0)));
  std::string bytes;
  for (const auto& r : records) weft::traces::encode(r, bytes);
  const std::string path = temp_path("plain-read.bin");
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
  std::string in(bytes.size(), '\0');
  std::uint64_t sum = 0;
  for (auto _ : state) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    const std::size_t n = std::fread(in.data(), 1, in.size(), f);
    std::fclose(f);
    weft::traces::ByteReader reader(in.data(), n);
    while (!reader.at_end())
      sum += std::get<ChoiceRecord>(*weft::traces::decode(reader)).chosen;
  }
  benchmark::DoNotOptimize(sum);
  state.SetBytesProcessed(
      static_cast<std::int64_t>(state.iterations() * bytes.size()));
  state.SetItemsProcessed(
      static_cast<std::int64_t>(state.iterations() * kRecords));
  fs::remove(path);
}
BENCHMARK(BM_PlainRead)->Arg(2)->Arg(8)->Unit(benchmark::kMillisecond);

// A real recorded schedule: N strands each do 2000 atomic increments
// (each a choice among all runnable strands) under the random walk; the
// recorder writes every pick, spawn, exit and wake-up.
void BM_RecordRandomSchedule(benchmark::State& state) {
  const int strands = static_cast<int>(state.range(0));
  const std::string path = temp_path("schedule.weft");
  weft::sim::RunLimits limits;
  limits.max_steps = 1 << 24;
  weft::sim::Scheduler sched(limits);
  weft::sim::RandomStrategy random;
  std::uint64_t choices = 0;
  double bits = 0;
  for (auto _ : state) {
    weft::sim::ScheduleRecorder recorder(path, weft::traces::TraceHeader{});
    sched.set_observer(&recorder);
    const auto run = sched.run(random, 1, [strands] {
      weft::sim::Atomic<int> counter{0};
      std::vector<weft::sim::JoinHandle> hs;
      for (int s = 0; s < strands; ++s)
        hs.push_back(weft::spawn([&counter] {
          for (int i = 0; i < 2000; ++i) counter.fetch_add(1);
        }));
      for (auto& h : hs) h.join();
    });
    sched.set_observer(nullptr);
    recorder.close();
    choices = run.schedule.size();
    bits = 0;
    for (const auto& c : run.schedule)
      bits += std::log2(static_cast<double>(c.count));
  }
  const double bytes = static_cast<double>(fs::file_size(path));
  state.counters["choices"] = static_cast<double>(choices);
  state.counters["file_bytes_per_choice"] =
      bytes / static_cast<double>(choices);
  state.counters["entropy_bits_per_choice"] =
      bits / static_cast<double>(choices);
  state.counters["entropy_ratio"] = bytes * 8 / bits;
  fs::remove(path);
}
BENCHMARK(BM_RecordRandomSchedule)
    ->Arg(2)
    ->Arg(8)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
