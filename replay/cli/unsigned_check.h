// A CLI11 check for the weft command's unsigned options. CLI11 reads "-1"
// into an unsigned option as 2^64-1 and a number past 2^64 as the largest
// one, so a typo would run quietly with a huge count or another seed; this
// check takes decimal digits only, up to 2^64-1, and at least `min`.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace weft::replay {

inline CLI::Validator unsigned_check(std::uint64_t min = 0) {
  return CLI::Validator(
      [min](std::string& text) -> std::string {
        std::uint64_t n = 0;
        bool ok = !text.empty();
        for (const char c : text) {
          const auto digit = static_cast<std::uint64_t>(c - '0');
          ok = ok && c >= '0' && c <= '9' && n <= (UINT64_MAX - digit) / 10;
          if (!ok) break;
          n = n * 10 + digit;
        }
        if (ok && n >= min) return "";
        return "expected an integer from " + std::to_string(min) +
               " to 18446744073709551615, not '" + text + "'";
      },
      "UINT");
}

}  // namespace weft::replay
