// Coroutine services: what the node says about itself (the timeline's
// messages, the waits in a deadlock report) and about errors nobody
// receives.
#include <cxxabi.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <typeinfo>

#include "runtime/internal/service_util.h"
#include "runtime/service.h"
#include "runtime/worker.h"
#include "runtime/world.h"

namespace weft::runtime {
namespace internal {

sim::Clock::duration cpu_now() { return World::current().cpu_now(); }

std::string seconds(sim::Clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%gs",
                std::chrono::duration<double>(d).count());
  return buf;
}

void report_lost_error(const std::string& what) {
  World::current().report_lost_error(what);
}

// ": <what()>" of a std::exception, " an exception of type T" otherwise.
std::string describe_thrown_for_report() {
  try {
    throw;
  } catch (const sim::StrandCancelled&) {
    throw;
  } catch (const sim::StrandAborted&) {
    throw;
  } catch (const std::exception& e) {
    return std::string(": ") + e.what();
  } catch (...) {
    const std::type_info* t = abi::__cxa_current_exception_type();
    return " an exception of type " +
           (t != nullptr ? demangle(t->name()) : std::string("unknown type"));
  }
}

}  // namespace internal

std::string Node::describe(ServiceHandle to, const Envelope& e) const {
  const std::string& name = services_[to - 1].options.name;
  switch (e.kind) {
    case Envelope::Kind::kRequest:
      return "request '" + e.type + "' (session " + std::to_string(e.session) +
             ") to '" + name + "'";
    case Envelope::Kind::kResponse:
      return (e.error.empty() ? "reply to session "
                              : "error reply to session ") +
             std::to_string(e.session) + " at '" + name + "'";
    case Envelope::Kind::kResume:
      return "wakeup of coroutine " + std::to_string(e.co) + " of '" + name +
             "'";
    case Envelope::Kind::kStart:
      return "fork of coroutine " + std::to_string(e.co) + " in '" + name + "'";
  }
  return "message";
}

namespace {

std::string describe_wait(
    const internal::Co& co,
    const std::function<std::string(ServiceHandle)>& name) {
  switch (co.waiting) {
    case internal::Co::Wait::kCall:
      return " waits for the reply to session " +
             std::to_string(co.waiting_session) + " from " +
             name(co.waiting_on);
    case internal::Co::Wait::kWait:
      return " waits for a wakeup";
    case internal::Co::Wait::kSleep:
      return " sleeps";
    default:
      return " is about to resume";
  }
}

}  // namespace

std::string Node::describe_waits() {
  // Read without the lock: only called for a deadlock report, when every
  // strand is blocked.
  std::string out;
  const std::function<std::string(ServiceHandle)> name = [&](ServiceHandle h) {
    return h == kHost ? std::string("the host")
                      : "service '" + services_[h - 1].options.name + "'";
  };
  for (std::size_t i = 0; i < services_.size(); ++i) {
    const Service& s = services_[i];
    const auto self = static_cast<ServiceHandle>(i + 1);
    for (const auto& [id, co] : s.cos) {
      if (co->waiting == internal::Co::Wait::kNone) continue;
      out += "; " + name(self) + " coroutine " + std::to_string(id) +
             (co->is_fork ? " (fork)"
                          : " (request '" + co->type + "', session " +
                                std::to_string(co->session) + " from " +
                                name(co->from) + ")") +
             describe_wait(*co, name);
    }
    for (const Envelope& e : s.deferred)
      out += "; " + name(self) + " holds request '" + e.type + "' (session " +
             std::to_string(e.session) + " from " + name(e.from) +
             ") until its running request finishes";
  }
  return out.empty() ? "no coroutine waits" : out.substr(2);
}

}  // namespace weft::runtime
