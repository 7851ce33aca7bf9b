// Source lines for race reports: return addresses become "function
// file:line:column" frames and data addresses global names, through
// llvm-symbolizer (WEFT_SYMBOLIZER, else the one found at configure time,
// else llvm-symbolizer on PATH), run once per report for the addresses not
// seen before. Without a symbolizer, frames fall back to dladdr's symbol
// names. Results are cached for the life of the process.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace weft::sim::instrument {

// The frames of each code address (a return address, so the call is
// looked up one byte before it), innermost inlined frame first.
std::vector<std::vector<std::string>> symbolize_code(
    std::span<const std::uintptr_t> pcs);
// The name of the global variable holding `addr`, or "" if none is known.
std::string symbolize_data(std::uintptr_t addr);

}  // namespace weft::sim::instrument
