#include "sim/check.h"

#include "sim/scheduler.h"

namespace weft::sim {

void assertion_failed(const char* expression, SourceLocation where,
                      const std::string& message) {
  std::string text = "WEFT_ASSERT(" + std::string(expression) + ") failed";
  if (!message.empty()) text += ": " + message;
  if (Scheduler* s = Scheduler::current()) {
    s->fail(FailureKind::kAssertion, text, where);
    throw StrandAborted{};
  }
  throw AssertionError(text + " at " + where.to_string());
}

}  // namespace weft::sim
