// ByteStrategy takes every choice from a byte string, so that a fuzzer
// (libFuzzer, AFL++) that mutates bytes drives the schedule and its
// coverage feedback steers the search (sim/harness/fuzz.h is the glue).
// Contract: a pure function of the bytes; the seed is ignored. A choice
// among `count` alternatives reads the fewest bytes that can name one (1
// up to 256 alternatives, 2 up to 65,536, else 4, little-endian), value v,
// and picks v mod count places after the non-preempting choice (a zero
// byte keeps the current strand running). When too few bytes are left,
// every remaining choice is the non-preempting one. Made without bytes
// (seeded()), it draws each schedule's bytes from its seed's generator
// instead: the byte mapping under random inputs, replayable by seed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "sim/strategy.h"

namespace weft::sim {

class ByteStrategy final : public Strategy {
 public:
  // `environment` is what environment() returns: the WEFT_* assignments
  // that give these bytes again ("WEFT_FUZZ_INPUT=crash-1234").
  explicit ByteStrategy(std::span<const std::uint8_t> bytes,
                        std::string environment = "WEFT_STRATEGY=bytes")
      : bytes_(bytes.begin(), bytes.end()),
        environment_(std::move(environment)) {}
  // Bytes drawn from each schedule's seed, as many as it asks for.
  static ByteStrategy seeded() {
    ByteStrategy s({});
    s.seeded_ = true;
    return s;
  }
  void begin(std::uint64_t seed) override {
    next_ = 0;
    rng_.reseed(seed);
  }
  std::uint32_t choose(const ChoicePoint& point) override;
  std::string name() const override { return "bytes"; }
  std::string environment() const override { return environment_; }
  std::unique_ptr<Strategy> replica() const override {
    auto copy = std::make_unique<ByteStrategy>(bytes_, environment_);
    copy->seeded_ = seeded_;
    return copy;
  }
  // Bytes the current (or last) schedule has read so far.
  std::size_t consumed() const { return next_; }

  // How many bytes a choice among `count` alternatives reads.
  static std::size_t width(std::uint32_t count);

 private:
  std::vector<std::uint8_t> bytes_;
  std::string environment_;
  std::size_t next_ = 0;
  bool seeded_ = false;
  Rng rng_;
};

}  // namespace weft::sim
