// Isolates, as pocketpy's ComputeThread or Dart's isolates: each Isolate
// owns its state (the functions loaded into it and their globals) and
// runs on a strand of its own; the host hands it calls whose arguments and
// results cross as serialised bytes (cereal), and polls for completion.
// One strand drives an isolate at a time, and only the isolate touches
// its state while a call runs: a second driver, or the host touching the
// state during a call, fails the schedule in a simulation and throws
// IsolateError on real threads. At most max_isolates() exist at once.
#pragma once

#include <cereal/archives/binary.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/vector.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include "runtime/internal/strand_identity.h"
#include "runtime/worker.h"
#include "sim/clock.h"
#include "sim/sync.h"
#include "sim/thread.h"

namespace weft::runtime {

class IsolateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A call whose arguments do not match the function's parameters (their
// number or types), as pocketpy's TypeError: the call's last_error().
class IsolateTypeError : public IsolateError {
 public:
  using IsolateError::IsolateError;
};

// Whether T can cross into or out of an isolate: cereal's binary archives
// can save and load it.
template <class T>
inline constexpr bool kSerializable = cereal::traits::is_output_serializable<
    T, cereal::BinaryOutputArchive>::value&&
    cereal::traits::is_input_serializable<T, cereal::BinaryInputArchive>::value;

namespace internal {

template <class T>
constexpr void require_serializable() {
  static_assert(
      kSerializable<std::decay_t<T>>,
      "weft::runtime::Isolate: this type is not serialisable, so it cannot "
      "cross into or out of an isolate. Give it a serialize(Archive&) member "
      "(or save/load), or include the cereal/types/ header of the standard "
      "type it uses (see docs/guide.md, Isolates).");
}

template <class... Ts>
std::string pack(const Ts&... values) {
  if constexpr (sizeof...(Ts) == 0) {
    return {};
  } else {
    std::ostringstream out(std::ios::binary);
    {
      cereal::BinaryOutputArchive archive(out);
      archive(values...);
    }
    return std::move(out).str();
  }
}

template <class T>
T unpack(const std::string& bytes) {
  std::istringstream in(bytes, std::ios::binary);
  cereal::BinaryInputArchive archive(in);
  T value{};
  archive(value);
  return value;
}

// The decayed types of a call's arguments, as typeid names: what a
// function takes (recorded by Module::def), or what a caller passed
// (sent with the call). Bytes cross only between equal signatures.
using Signature = std::vector<std::string>;
template <class... Args>
Signature signature_of() {
  return Signature{typeid(std::decay_t<Args>).name()...};
}

}  // namespace internal

// A function as an isolate holds it: bytes in, bytes out.
struct IsolateFunction {
  std::string result_type;     // demangled, for last_retval<T>() checks
  internal::Signature params;  // checked against each call's arguments
  std::function<std::string(const std::string&)> call;
};

// A named set of functions (and initial globals) the host registers and
// exec() loads into an isolate, which gets its own copy.
class Module {
 public:
  explicit Module(std::string name) : name_(std::move(name)) {}

  // Every argument type and the result type must be serialisable: a
  // compile-time error otherwise.
  template <class F>
  Module& def(const std::string& name, F f) {
    return define(name, std::function(std::move(f)));
  }
  template <class T>
  Module& global(const std::string& name, const T& value) {
    internal::require_serializable<T>();
    globals_[name] = internal::pack(value);
    return *this;
  }
  const std::string& name() const { return name_; }

 private:
  friend class Isolate;
  template <class R, class... Args>
  Module& define(const std::string& name, std::function<R(Args...)> f);

  std::string name_;
  std::map<std::string, IsolateFunction> functions_;
  std::map<std::string, std::string> globals_;
};

// What last_error() reports: the exception's type and message.
struct IsolateErrorInfo {
  std::string type;
  std::string message;
};

class Isolate {
 public:
  struct Options {
    std::string name;  // default "isolate-<id>"
    // In a simulation, a call reaches the isolate this much virtual time
    // after submit_call() (default: at once, so every interleaving of the
    // host and the call stays possible). A model of hand-off latency, for
    // programs that poll at the same instant a call ends and assume the
    // call started a moment after it was submitted (docs/guide.md).
    sim::Clock::duration simulated_dispatch{0};
  };

  Isolate() : Isolate(Options{}) {}
  // Throws IsolateError if max_isolates() already exist.
  explicit Isolate(Options options);
  // Lets a running call finish, then ends the isolate's strand.
  ~Isolate();
  Isolate(const Isolate&) = delete;
  Isolate& operator=(const Isolate&) = delete;

  static void set_max_isolates(std::size_t n);
  static std::size_t max_isolates();
  static std::size_t live_isolates();

  int id() const { return id_; }
  const std::string& name() const { return name_; }

  // --- the host's side: one driving strand at a time ----------------------
  // Loads `module` into the isolate: runs there like a call, and returns
  // when it is loaded (a failure is in last_error()).
  void exec(const Module& module);
  // Runs `function` in the isolate with copies of `args`. Only one call at
  // a time: submitting while one runs is an error. Arguments whose number
  // or types differ from the function's parameters make the call's
  // last_error() an IsolateTypeError ("add() takes (int, int), got
  // (double, double)"); the function does not run.
  template <class... Args>
  void submit_call(const std::string& function, const Args&... args);
  // True when no call is running (also before the first).
  bool is_done();
  // The last call's exception, if it threw. Only once it is done.
  std::optional<IsolateErrorInfo> last_error();
  // The last call's result, deserialised; empty if it threw. Only once it
  // is done: reading it while the call runs is an error.
  template <class T>
  std::optional<T> last_retval();
  // Blocks until the current call is done.
  void wait();
  // Messages the isolate posted, oldest first.
  std::string receive();
  std::optional<std::string> try_receive();

  // --- state: the isolate's globals ---------------------------------------
  // From the isolate's own functions at any time; from the host only while
  // no call runs (touching it during a call is detected).
  template <class T>
  void set_global(const std::string& name, const T& value);
  template <class T>
  std::optional<T> get_global(const std::string& name);

  // From inside the isolate: a message for the host's receive().
  void post(std::string message);

 private:
  struct Job {
    std::string what;  // "exec 'worldgen'", "gen_world"
    std::function<void()> run;
  };
  void submit(Job job);
  void loop();
  // Runs a submitted call in the isolate: finds `function`, checks the
  // caller's signature against it, and keeps the result.
  void run_call(const std::string& function, const internal::Signature& args,
                const std::string& bytes);
  // Guards on the state and on driving: re-entrant for their owner.
  void enter_state(const char* op);
  void leave_state();
  void enter_driver(const char* op);
  void leave_driver();
  // One host call's hold on the driver guard.
  struct Driving {
    Isolate* self;
    Driving(Isolate* s, const char* op) : self(s) { s->enter_driver(op); }
    ~Driving() { self->leave_driver(); }
    Driving(const Driving&) = delete;
    Driving& operator=(const Driving&) = delete;
  };
  [[noreturn]] void misuse(const std::string& what);
  std::optional<std::string> call_retval(const std::string& type,
                                         const char* op);
  std::optional<std::string> global_bytes(const std::string& name);
  void set_global_bytes(const std::string& name, std::string bytes);

  friend Isolate* current_isolate();

  Options options_;
  int id_ = 0;
  std::string name_;
  sim::Mutex mu_;
  sim::CondVar changed_;
  std::deque<Job> jobs_;
  bool busy_ = false;  // a job queued or running
  std::string current_;
  bool quit_ = false;
  std::optional<IsolateErrorInfo> error_;
  std::string retval_;
  std::string retval_type_;
  bool has_retval_ = false;
  std::deque<std::string> messages_;
  internal::StrandIdentity strand_id_;

  // Guard bookkeeping is under a plain mutex: it never blocks, so it needs
  // no choice point.
  std::mutex guard_mu_;
  internal::StrandIdentity state_owner_;
  std::string state_owner_op_;
  int state_depth_ = 0;
  internal::StrandIdentity driver_;
  std::string driver_op_;
  int driver_depth_ = 0;

  // The isolate's own state, touched only by the strand holding the state
  // guard.
  std::map<std::string, IsolateFunction> functions_;
  std::map<std::string, std::string> globals_;

  sim::JoinHandle strand_;
};

// The isolate whose strand is running, or null on the host.
Isolate* current_isolate();

// --- templates ---------------------------------------------------------------

template <class R, class... Args>
Module& Module::define(const std::string& name, std::function<R(Args...)> f) {
  (internal::require_serializable<Args>(), ...);
  if constexpr (!std::is_void_v<R>) internal::require_serializable<R>();
  IsolateFunction fn;
  fn.params = internal::signature_of<Args...>();
  fn.result_type = std::is_void_v<R> ? std::string("void")
                                     : internal::demangle(typeid(R).name());
  fn.call = [f = std::move(f)](const std::string& bytes) -> std::string {
    std::tuple<std::decay_t<Args>...> args;
    if constexpr (sizeof...(Args) > 0) {
      std::istringstream in(bytes, std::ios::binary);
      cereal::BinaryInputArchive archive(in);
      std::apply([&](auto&... a) { archive(a...); }, args);
    }
    if constexpr (std::is_void_v<R>) {
      std::apply(f, args);
      return {};
    } else {
      return internal::pack(std::apply(f, args));
    }
  };
  functions_[name] = std::move(fn);
  return *this;
}

template <class... Args>
void Isolate::submit_call(const std::string& function, const Args&... args) {
  (internal::require_serializable<Args>(), ...);
  std::string bytes = internal::pack(args...);
  submit(Job{
      function,
      [this, function, signature = internal::signature_of<Args...>(),
       bytes = std::move(bytes)] { run_call(function, signature, bytes); }});
}

template <class T>
std::optional<T> Isolate::last_retval() {
  internal::require_serializable<T>();
  const std::optional<std::string> bytes =
      call_retval(internal::demangle(typeid(T).name()), "last_retval()");
  if (!bytes) return std::nullopt;
  return internal::unpack<T>(*bytes);
}

template <class T>
void Isolate::set_global(const std::string& name, const T& value) {
  internal::require_serializable<T>();
  set_global_bytes(name, internal::pack(value));
}

template <class T>
std::optional<T> Isolate::get_global(const std::string& name) {
  internal::require_serializable<T>();
  const std::optional<std::string> bytes = global_bytes(name);
  if (!bytes) return std::nullopt;
  return internal::unpack<T>(*bytes);
}

}  // namespace weft::runtime
