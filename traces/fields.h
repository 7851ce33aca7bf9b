// The field coding every record kind uses: varints bounded to the field's
// type, enums bounded to their largest value, and length-prefixed strings
// bounded so that a corrupt length cannot ask for gigabytes. Each get
// says whether it succeeded; none trusts its input.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "traces/varint.h"

namespace weft::traces::fields {

// Strings inside one record are at most this long.
inline constexpr std::uint64_t kMaxString = 1 << 20;

inline void put_string(std::string& out, const std::string& s) {
  put_varint(out, s.size());
  out += s;
}

template <class T>
bool get(ByteReader& in, T& field) {
  const auto v = in.varint();
  if (!v || *v > std::numeric_limits<T>::max()) return false;
  field = static_cast<T>(*v);
  return true;
}

inline bool get_string(ByteReader& in, std::string& field) {
  const auto n = in.varint();
  if (!n || *n > kMaxString) return false;
  auto s = in.bytes(static_cast<std::size_t>(*n));
  if (!s) return false;
  field = std::move(*s);
  return true;
}

template <class E>
bool get_enum(ByteReader& in, E& field, std::uint8_t max) {
  std::uint8_t v = 0;
  if (!get(in, v) || v > max) return false;
  field = static_cast<E>(v);
  return true;
}

}  // namespace weft::traces::fields
