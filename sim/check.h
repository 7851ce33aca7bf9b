// WEFT_ASSERT: an assertion that, inside a simulation, fails the schedule
// with its location (step, strand, virtual time) and stops the strand;
// outside one it throws weft::sim::AssertionError.
#pragma once

#include <stdexcept>
#include <string>

#include "sim/source_location.h"

namespace weft::sim {

class AssertionError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

[[noreturn]] void assertion_failed(const char* expression, SourceLocation where,
                                   const std::string& message = {});

}  // namespace weft::sim

#define WEFT_ASSERT(cond)                  \
  ((cond) ? static_cast<void>(0)           \
          : ::weft::sim::assertion_failed( \
                #cond, ::weft::sim::SourceLocation::current()))

#define WEFT_ASSERT_MSG(cond, message)     \
  ((cond) ? static_cast<void>(0)           \
          : ::weft::sim::assertion_failed( \
                #cond, ::weft::sim::SourceLocation::current(), (message)))
