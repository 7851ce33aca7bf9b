// The CRC-32 (zlib's, ISO-HDLC polynomial) that guards a format 2 trace's
// header, frame infos, record frames and end marker, and the little-endian
// 32-bit fields that hold it. A CRC-32 catches every change of up to 32
// consecutive bits, so every single-bit change of a header is refused.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace weft::traces {

inline std::uint32_t crc32_of(const char* data, std::size_t size,
                              std::uint32_t crc = 0) {
  // zlib takes lengths in uInt: feed it in pieces.
  while (size > 0) {
    const std::size_t n = size > (1u << 30) ? (1u << 30) : size;
    crc = static_cast<std::uint32_t>(::crc32(
        crc, reinterpret_cast<const Bytef*>(data), static_cast<uInt>(n)));
    data += n;
    size -= n;
  }
  return crc;
}

inline void put_le32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

inline std::uint32_t get_le32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// A frame info's or end marker's CRC: over the header's CRC (binding it to
// its file) and the payload bytes before the CRC.
inline std::uint32_t marker_crc(std::uint32_t header_crc, const char* payload,
                                std::size_t size) {
  std::string seed;
  put_le32(seed, header_crc);
  return crc32_of(payload, size, crc32_of(seed.data(), seed.size()));
}

}  // namespace weft::traces
