// Bounds the trace reader puts on what a file can make it do (a corrupt
// length cannot exhaust memory or time), and the fuzzing switch that lets
// a fuzzer past the CRCs into the decoders behind them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace weft::traces {

inline constexpr std::size_t kMaxHeader = 1 << 20;
inline constexpr std::size_t kMaxFrame = 64 << 20;
inline constexpr std::size_t kMaxContent = 256 << 20;
inline constexpr std::uint64_t kMaxMetadata = 4096;
// A frame info or end marker: magic, size, at most 3 + 1 varints, CRCs.
inline constexpr std::size_t kMaxMarker = 8 + 4 * 10 + 8;
// ZSTD_FRAMEHEADERSIZE_MAX, which zstd.h only exposes to static linkers.
inline constexpr std::size_t kFrameHeaderMax = 18;

// True in fuzzing builds (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, as
// zstd and others do): CRC mismatches are ignored so that mutated input
// reaches the frame and record decoders.
constexpr bool checksums_off() {
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  return true;
#else
  return false;
#endif
}

}  // namespace weft::traces
