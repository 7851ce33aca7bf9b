// A strategy's saved state as bytes (an exhaustive search's checkpoint):
// fixed-width little-endian integers written by StateWriter and read back
// by StateReader, which refuses anything short or out of range with a
// StateError naming the byte offset where the bad value starts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace weft::sim {

class StateError : public std::runtime_error {
 public:
  StateError(std::size_t offset, const std::string& what)
      : std::runtime_error(what), offset_(offset) {}
  std::size_t offset() const { return offset_; }

 private:
  std::size_t offset_;
};

class StateWriter {
 public:
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v) { put(v, 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  void bytes(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  const std::string& str() const { return out_; }

 private:
  void put(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  std::string out_;
};

class StateReader {
 public:
  // `base`: the offset of `in` within the file, for messages.
  explicit StateReader(std::string_view in, std::size_t base = 0)
      : in_(in), base_(base) {}
  std::size_t offset() const { return base_ + pos_; }
  bool at_end() const { return pos_ == in_.size(); }
  std::uint8_t u8(const char* what) {
    return static_cast<std::uint8_t>(get(1, what));
  }
  std::uint32_t u32(const char* what) {
    return static_cast<std::uint32_t>(get(4, what));
  }
  std::uint64_t u64(const char* what) { return get(8, what); }
  // A u32 that must be at most `max`.
  std::uint32_t u32_at_most(std::uint32_t max, const char* what) {
    const std::size_t at = offset();
    const std::uint32_t v = u32(what);
    if (v > max)
      throw StateError(at, std::string(what) + " is " + std::to_string(v) +
                               ", more than " + std::to_string(max));
    return v;
  }
  std::string_view bytes(const char* what) {
    const std::uint32_t n = u32(what);
    if (n > in_.size() - pos_)
      throw StateError(offset(), std::string(what) + ": " + std::to_string(n) +
                                     " bytes announced, " +
                                     std::to_string(in_.size() - pos_) +
                                     " left (truncated)");
    const std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  std::uint64_t get(std::size_t n, const char* what) {
    if (in_.size() - pos_ < n)
      throw StateError(offset(), std::string("truncated: expected ") + what +
                                     " (" + std::to_string(n) + " bytes), " +
                                     std::to_string(in_.size() - pos_) +
                                     " left");
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i)
      v |= std::uint64_t{static_cast<std::uint8_t>(in_[pos_ + i])} << (8 * i);
    pos_ += n;
    return v;
  }
  std::string_view in_;
  std::size_t base_;
  std::size_t pos_ = 0;
};

}  // namespace weft::sim
