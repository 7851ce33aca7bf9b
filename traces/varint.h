// LEB128 varints (7 bits a byte, low first) and zigzag for signed values.
// Decoding never reads past the end it is given and refuses overlong or
// truncated input, so hostile bytes cannot make it misbehave.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace weft::traces {

inline void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

inline std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^
         static_cast<std::uint64_t>(v >> 63);
}
inline std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

// Reads bytes [pos, end) of a buffer; every read says whether it succeeded.
class ByteReader {
 public:
  ByteReader() = default;
  ByteReader(const char* data, std::size_t size) : data_(data), size_(size) {}

  std::optional<std::uint64_t> varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= size_) return std::nullopt;
      const auto byte = static_cast<std::uint8_t>(data_[pos_++]);
      if (shift == 63 && byte > 1) return std::nullopt;  // overflows
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return v;
    }
    return std::nullopt;  // more than 10 bytes
  }
  std::optional<std::uint8_t> byte() {
    if (pos_ >= size_) return std::nullopt;
    return static_cast<std::uint8_t>(data_[pos_++]);
  }
  std::optional<std::string> bytes(std::size_t n) {
    if (n > size_ - pos_) return std::nullopt;
    std::string s(data_ + pos_, n);
    pos_ += n;
    return s;
  }
  std::size_t pos() const { return pos_; }
  bool at_end() const { return pos_ == size_; }

 private:
  const char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t pos_ = 0;
};

}  // namespace weft::traces
