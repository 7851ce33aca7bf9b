#include "sim/byte_strategy.h"

namespace weft::sim {

std::size_t ByteStrategy::width(std::uint32_t count) {
  if (count <= 0x100) return 1;
  if (count <= 0x10000) return 2;
  return 4;
}

std::uint32_t ByteStrategy::choose(const ChoicePoint& point) {
  const std::uint32_t base = non_preempting(point);
  const std::size_t n = width(point.count);
  if (seeded_) {
    next_ += n;
    const std::uint64_t bits = rng_.next();
    const auto v = static_cast<std::uint32_t>(
        n == 4 ? bits & 0xffffffffu
               : bits & ((std::uint64_t{1} << (8 * n)) - 1));
    return static_cast<std::uint32_t>(
        (static_cast<std::uint64_t>(base) + v % point.count) % point.count);
  }
  if (bytes_.size() - next_ < n) {
    next_ = bytes_.size();  // the tail too short for this choice is spent
    return base;
  }
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < n; ++i)
    v |= static_cast<std::uint32_t>(bytes_[next_ + i]) << (8 * i);
  next_ += n;
  return static_cast<std::uint32_t>(
      (static_cast<std::uint64_t>(base) + v % point.count) % point.count);
}

}  // namespace weft::sim
