// A CLI11 check for the weft command's unsigned options. CLI11 reads "-1"
// into an unsigned option as 2^64-1 and a number past 2^64 as the largest
// one, so a typo would run quietly with a huge count or another seed; this
// check takes decimal digits only, up to 2^64-1, and at least `min`
// (parse_env_u64, weft's one number parser).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "sim/harness/explore.h"

namespace weft::replay {

inline CLI::Validator unsigned_check(std::uint64_t min = 0) {
  return CLI::Validator(
      [min](std::string& text) -> std::string {
        // Digits only: parse_env_u64 also takes 0x-hexadecimal.
        if (!text.empty() &&
            text.find_first_not_of("0123456789") == std::string::npos) {
          try {
            sim::parse_env_u64("", text.c_str(), min, UINT64_MAX, "");
            return "";
          } catch (const sim::ConfigError&) {
          }
        }
        return "expected an integer from " + std::to_string(min) +
               " to 18446744073709551615, not '" + text + "'";
      },
      "UINT");
}

}  // namespace weft::replay
