// The std::atomic operations instrument_bench times outside a simulation,
// defined once per way of compiling them (plain, instrumented with calls
// to the hooks, instrumented with the hooks inlined): each file defines a
// global `g_word` and says WEFT_ATOMIC_OP_BENCHMARKS(Suffix). g_word is
// also read, so the optimizer (which runs before the instrumentation)
// keeps every operation on it.
#pragma once

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>

#define WEFT_ATOMIC_OP_BENCHMARKS(Suffix)                               \
  void BM_FetchAdd_##Suffix(benchmark::State& state) {                  \
    for (auto _ : state) benchmark::DoNotOptimize(g_word.fetch_add(1)); \
  }                                                                     \
  BENCHMARK(BM_FetchAdd_##Suffix);                                      \
  void BM_LoadAcquire_##Suffix(benchmark::State& state) {               \
    for (auto _ : state)                                                \
      benchmark::DoNotOptimize(g_word.load(std::memory_order_acquire)); \
  }                                                                     \
  BENCHMARK(BM_LoadAcquire_##Suffix);                                   \
  void BM_LoadRelaxed_##Suffix(benchmark::State& state) {               \
    for (auto _ : state)                                                \
      benchmark::DoNotOptimize(g_word.load(std::memory_order_relaxed)); \
  }                                                                     \
  BENCHMARK(BM_LoadRelaxed_##Suffix);                                   \
  void BM_StoreRelease_##Suffix(benchmark::State& state) {              \
    std::uint64_t i = 0;                                                \
    for (auto _ : state) g_word.store(++i, std::memory_order_release);  \
  }                                                                     \
  BENCHMARK(BM_StoreRelease_##Suffix);                                  \
  void BM_StoreSeqCst_##Suffix(benchmark::State& state) {               \
    std::uint64_t i = 0;                                                \
    for (auto _ : state) g_word.store(++i);                             \
  }                                                                     \
  BENCHMARK(BM_StoreSeqCst_##Suffix);                                   \
  void BM_CompareExchange_##Suffix(benchmark::State& state) {           \
    std::uint64_t expected = g_word.load();                             \
    for (auto _ : state)                                                \
      benchmark::DoNotOptimize(                                         \
          g_word.compare_exchange_strong(expected, expected + 1));      \
  }                                                                     \
  BENCHMARK(BM_CompareExchange_##Suffix)
