#include "runtime/isolate.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <vector>

#include "runtime/worker.h"
#include "runtime/world.h"

namespace weft::runtime {
namespace {

// Live isolates by slot. Ids are the lowest free slot, so a simulation
// that creates the same isolates in the same order gets the same ids.
std::mutex g_registry_mu;
std::vector<Isolate*> g_slots(16, nullptr);

// Inside a catch block: what last_error() reports of the exception in
// flight. Anything may be thrown, not only std::exceptions.
IsolateErrorInfo current_error() {
  try {
    throw;
  } catch (const std::exception& e) {
    return IsolateErrorInfo{internal::demangle(typeid(e).name()), e.what()};
  } catch (...) {
    const std::type_info* t = abi::__cxa_current_exception_type();
    const std::string type = t != nullptr ? internal::demangle(t->name())
                                          : std::string("an unknown type");
    return IsolateErrorInfo{
        type, "a value of type " + type + " was thrown (not a std::exception)"};
  }
}

// A parameter type as a message shows it ("std::string", not its
// template).
std::string readable(const std::string& mangled) {
  std::string name = internal::demangle(mangled.c_str());
  const std::string long_string =
      "std::__cxx11::basic_string<char, std::char_traits<char>, "
      "std::allocator<char> >";
  for (auto at = name.find(long_string); at != std::string::npos;
       at = name.find(long_string))
    name.replace(at, long_string.size(), "std::string");
  return name;
}

std::string listed(const internal::Signature& types) {
  std::string out;
  for (const auto& t : types) out += (out.empty() ? "" : ", ") + readable(t);
  return "(" + out + ")";
}

// Throws IsolateTypeError unless a call with `got` fits `function`'s
// parameters `takes`.
void check_arguments(const std::string& function,
                     const internal::Signature& takes,
                     const internal::Signature& got) {
  if (takes == got) return;
  std::string what = "TypeError: " + function + "() takes ";
  if (takes.size() != got.size())
    what += std::to_string(takes.size()) + " argument" +
            (takes.size() == 1 ? "" : "s") + " " + listed(takes) + ", got " +
            std::to_string(got.size()) + " " + listed(got);
  else
    what += listed(takes) + ", got " + listed(got);
  throw IsolateTypeError(what);
}

}  // namespace

void Isolate::set_max_isolates(std::size_t n) {
  std::lock_guard lk(g_registry_mu);
  if (n < 1) n = 1;
  for (std::size_t i = n; i < g_slots.size(); ++i)
    if (g_slots[i] != nullptr)
      throw IsolateError("cannot lower the isolate limit to " +
                         std::to_string(n) + " while isolate " +
                         std::to_string(i + 1) + " exists");
  g_slots.resize(n, nullptr);
}

std::size_t Isolate::max_isolates() {
  std::lock_guard lk(g_registry_mu);
  return g_slots.size();
}

std::size_t Isolate::live_isolates() {
  std::lock_guard lk(g_registry_mu);
  std::size_t n = 0;
  for (Isolate* i : g_slots) n += i != nullptr;
  return n;
}

Isolate::Isolate(Options options) : options_(std::move(options)) {
  {
    std::lock_guard lk(g_registry_mu);
    for (std::size_t i = 0; i < g_slots.size(); ++i) {
      if (g_slots[i] == nullptr) {
        g_slots[i] = this;
        id_ = static_cast<int>(i + 1);
        break;
      }
    }
    if (id_ == 0)
      throw IsolateError(
          "cannot create another isolate: " + std::to_string(g_slots.size()) +
          " exist, the most allowed at once (raise it with "
          "Isolate::set_max_isolates)");
  }
  name_ =
      options_.name.empty() ? "isolate-" + std::to_string(id_) : options_.name;
  driver_ = internal::StrandIdentity::current();
  strand_ = sim::spawn(name_, [this] { loop(); });
}

Isolate::~Isolate() {
  // A deadlock found while this waits for a call is reported like any
  // other: the join is abandoned, never unwound out of the destructor.
  sim::NoUnwindScope no_unwind;
  {
    std::lock_guard lk(mu_);
    quit_ = true;
    changed_.notify_all();
  }
  if (!tearing_down() && strand_.joinable()) strand_.join();
  std::lock_guard lk(g_registry_mu);
  g_slots[static_cast<std::size_t>(id_ - 1)] = nullptr;
}

void Isolate::loop() {
  {
    std::lock_guard lk(guard_mu_);
    strand_id_ = internal::StrandIdentity::current();
  }
  std::unique_lock lk(mu_);
  for (;;) {
    changed_.wait(lk, [this] { return !jobs_.empty() || quit_; });
    if (jobs_.empty()) return;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    lk.unlock();
    World::current().model_delay(options_.simulated_dispatch);
    std::optional<IsolateErrorInfo> error;
    bool entered = false;
    try {
      // On real threads, finding the host inside the state makes this
      // call's error; in a simulation it fails the schedule.
      enter_state(job.what.c_str());
      entered = true;
      job.run();
    } catch (...) {
      // The scheduler's own unwinding is never the call's error.
      if (internal::is_strand_control()) throw;
      error = current_error();
    }
    if (entered) leave_state();
    lk.lock();
    error_ = std::move(error);
    if (error_) {
      retval_.clear();
      has_retval_ = false;
    }
    if (jobs_.empty()) busy_ = false;
    changed_.notify_all();
  }
}

void Isolate::run_call(const std::string& function,
                       const internal::Signature& args,
                       const std::string& bytes) {
  auto it = functions_.find(function);
  if (it == functions_.end()) {
    std::string loaded;
    for (const auto& [n, f] : functions_)
      loaded += (loaded.empty() ? "" : ", ") + n;
    throw IsolateError("no function '" + function + "' in " + name_ +
                       " (loaded: " + (loaded.empty() ? "none" : loaded) +
                       "); exec() the module that defines it first");
  }
  check_arguments(function, it->second.params, args);
  std::string out = it->second.call(bytes);
  std::lock_guard lk(mu_);
  retval_ = std::move(out);
  retval_type_ = it->second.result_type;
  has_retval_ = it->second.result_type != "void";
}

void Isolate::misuse(const std::string& what) {
  World::current().misuse<IsolateError>(what);
}

void Isolate::enter_state(const char* op) {
  const auto me = internal::StrandIdentity::current();
  std::string other, other_op;
  {
    std::lock_guard lk(guard_mu_);
    if (state_depth_ == 0 || state_owner_ == me) {
      state_owner_ = me;
      if (state_depth_++ == 0) state_owner_op_ = op;
      return;
    }
    other = state_owner_.describe();
    other_op = state_owner_op_;
  }
  misuse("two strands touched the state of " + name_ + " at once: " +
         me.describe() + " (" + op + ") while " + other + " (" + other_op +
         ") held it. An isolate's state belongs to the isolate while a call "
         "runs: wait() or check is_done() before touching it");
}

void Isolate::leave_state() {
  std::lock_guard lk(guard_mu_);
  if (--state_depth_ == 0) state_owner_ = {};
}

void Isolate::enter_driver(const char* op) {
  const auto me = internal::StrandIdentity::current();
  std::string other, other_op;
  {
    std::lock_guard lk(guard_mu_);
    if (driver_depth_ == 0 || driver_ == me) {
      driver_ = me;
      if (driver_depth_++ == 0) driver_op_ = op;
      return;
    }
    other = driver_.describe();
    other_op = driver_op_;
  }
  misuse(name_ + " is driven by one strand at a time: " + me.describe() +
         " called " + op + " while " + other + " was in " + other_op);
}

void Isolate::leave_driver() {
  std::lock_guard lk(guard_mu_);
  --driver_depth_;
}

void Isolate::submit(Job job) {
  Driving drive(this,
                job.what.starts_with("exec ") ? "exec()" : "submit_call()");
  std::lock_guard lk(mu_);
  if (busy_)
    misuse("submit_call('" + job.what + "') on " + name_ + " while '" +
           current_ +
           "' is still running: one call at a time; wait() or check "
           "is_done() first");
  busy_ = true;
  current_ = job.what;
  error_.reset();
  retval_.clear();
  has_retval_ = false;
  jobs_.push_back(std::move(job));
  changed_.notify_all();
}

void Isolate::exec(const Module& module) {
  submit(Job{"exec '" + module.name() + "'", [this, module] {
               for (const auto& [n, f] : module.functions_) functions_[n] = f;
               for (const auto& [n, v] : module.globals_) globals_[n] = v;
             }});
  wait();
}

bool Isolate::is_done() {
  Driving drive(this, "is_done()");
  std::lock_guard lk(mu_);
  return !busy_;
}

std::optional<IsolateErrorInfo> Isolate::last_error() {
  Driving drive(this, "last_error()");
  std::lock_guard lk(mu_);
  if (busy_)
    misuse("last_error() read while '" + current_ + "' is still running on " +
           name_ + ": check is_done() or wait() first");
  return error_;
}

std::optional<std::string> Isolate::call_retval(const std::string& type,
                                                const char* op) {
  Driving drive(this, op);
  std::lock_guard lk(mu_);
  if (busy_)
    misuse(std::string(op) + " read while '" + current_ +
           "' is still running on " + name_ +
           ": check is_done() or wait() first");
  if (!has_retval_) return std::nullopt;
  if (type != retval_type_)
    throw IsolateError(std::string(op) + " asked for " + type + " but '" +
                       current_ + "' returned " + retval_type_);
  return retval_;
}

void Isolate::wait() {
  Driving drive(this, "wait()");
  std::unique_lock lk(mu_);
  changed_.wait(lk, [this] { return !busy_; });
}

std::string Isolate::receive() {
  Driving drive(this, "receive()");
  std::unique_lock lk(mu_);
  changed_.wait(lk, [this] { return !messages_.empty(); });
  std::string m = std::move(messages_.front());
  messages_.pop_front();
  return m;
}

std::optional<std::string> Isolate::try_receive() {
  Driving drive(this, "try_receive()");
  std::lock_guard lk(mu_);
  if (messages_.empty()) return std::nullopt;
  std::string m = std::move(messages_.front());
  messages_.pop_front();
  return m;
}

void Isolate::post(std::string message) {
  std::lock_guard lk(mu_);
  messages_.push_back(std::move(message));
  changed_.notify_all();
}

std::optional<std::string> Isolate::global_bytes(const std::string& name) {
  enter_state("get_global()");
  std::optional<std::string> out;
  auto it = globals_.find(name);
  if (it != globals_.end()) out = it->second;
  // A choice point inside the guarded access: the scheduler may run the
  // isolate here, as a real thread could.
  sim::yield_now();
  leave_state();
  return out;
}

void Isolate::set_global_bytes(const std::string& name, std::string bytes) {
  enter_state("set_global()");
  sim::yield_now();
  globals_[name] = std::move(bytes);
  leave_state();
}

Isolate* current_isolate() {
  const auto me = internal::StrandIdentity::current();
  std::lock_guard lk(g_registry_mu);
  for (Isolate* i : g_slots) {
    if (i == nullptr) continue;
    std::lock_guard g(i->guard_mu_);
    if (i->strand_id_ == me) return i;
  }
  return nullptr;
}

}  // namespace weft::runtime
