// A reactor as in Twisted: one thread runs the event loop (run() until
// stop()), other threads hand it calls (call_from_thread), and blocking
// work goes to the reactor's thread pool (call_in_thread,
// defer_to_thread). Reactor-only methods (call_later, defer_to_thread, a
// Transport's write, ...) check that the reactor's own strand calls them:
// in a simulation a wrong caller fails the schedule, on real threads it
// throws ReactorThreadError naming the method. Built on sim/ primitives,
// so the same reactor is real (threads, steady clock) outside a simulation
// and, inside explore(), a set of strands whose every hand-off and timer
// is a choice of the scheduler.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "runtime/internal/strand_identity.h"
#include "runtime/net.h"
#include "runtime/worker.h"
#include "runtime/world.h"
#include "sim/clock.h"
#include "sim/sync.h"

namespace weft::runtime {

class ReactorThreadError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// A result that arrives later, on the reactor thread (Twisted's Deferred,
// without chaining): callbacks get the value, errbacks the exception.
// Callbacks added after the result arrived run at once. Use it on the
// reactor thread only; copies share one result.
template <class T>
class Deferred {
 public:
  Deferred() : state_(std::make_shared<State>()) {}

  Deferred& add_callback(std::function<void(const T&)> f) {
    if (state_->value)
      f(*state_->value);
    else if (!state_->error)
      state_->callbacks.push_back(std::move(f));
    return *this;
  }
  Deferred& add_errback(std::function<void(std::exception_ptr)> f) {
    if (state_->error)
      f(state_->error);
    else if (!state_->value)
      state_->errbacks.push_back(std::move(f));
    return *this;
  }
  void callback(T value) {
    if (fired()) throw std::logic_error("Deferred fired twice");
    state_->value = std::move(value);
    for (auto& f : std::exchange(state_->callbacks, {})) f(*state_->value);
    state_->errbacks.clear();
  }
  void errback(std::exception_ptr e) {
    if (fired()) throw std::logic_error("Deferred fired twice");
    state_->error = e;
    for (auto& f : std::exchange(state_->errbacks, {})) f(e);
    state_->callbacks.clear();
  }
  bool fired() const { return state_->value.has_value() || state_->error; }

 private:
  struct State {
    std::optional<T> value;
    std::exception_ptr error;
    std::vector<std::function<void(const T&)>> callbacks;
    std::vector<std::function<void(std::exception_ptr)>> errbacks;
  };
  std::shared_ptr<State> state_;
};

template <class T>
struct IsDeferred : std::false_type {};
template <class T>
struct IsDeferred<Deferred<T>> : std::true_type {
  using value_type = T;
};

// What a function returning R delivers: void becomes std::monostate.
template <class R>
using Result = std::conditional_t<std::is_void_v<R>, std::monostate, R>;

class Reactor;

// A pending call_later(). cancel() is reactor-only and says whether the
// call was still pending.
class DelayedCall {
 public:
  DelayedCall() = default;
  bool cancel();
  bool active() const;

 private:
  friend class Reactor;
  Reactor* reactor_ = nullptr;
  std::pair<sim::Clock::time_point, std::uint64_t> key_{};
};

class Reactor {
 public:
  struct Options {
    std::string name = "reactor";
    std::size_t thread_pool_size = 10;  // Twisted's default
  };
  Reactor() : Reactor(Options{}) {}
  explicit Reactor(Options options);
  // Stops the thread pool (letting queued work finish) and joins it.
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // Runs the loop on the calling strand, which becomes the reactor thread,
  // until stop(); then shuts the thread pool down, as Twisted does. Calls
  // handed over before run() (call_from_thread, blocking_call_from_thread)
  // wait in the queue and run once it starts.
  void run();
  // Ends run() after the call in progress. Thread-safe.
  void stop();

  // Runs `f` on the reactor thread, in order. Thread-safe.
  void call_from_thread(Work f);
  // Runs `f` on the reactor's thread pool. Thread-safe.
  void call_in_thread(Work f);
  // Runs `f` on the thread pool; its result (or exception) arrives on the
  // reactor thread through the returned Deferred. Reactor-only.
  template <class F>
  Deferred<Result<std::invoke_result_t<F&>>> defer_to_thread(F f);
  // From a thread that is not the reactor's: runs `f` on the reactor
  // thread and returns what it returned (waiting for it if it is a
  // Deferred) or rethrows what it threw. Before run() starts, no thread is
  // the reactor's: the call waits until run() runs it.
  template <class F>
  auto blocking_call_from_thread(F f);
  // Runs `f` on the reactor thread once `delay` has passed (virtual time
  // in a simulation). Reactor-only.
  DelayedCall call_later(sim::Clock::duration delay, Work f);

  // --- I/O (runtime/net.h) -------------------------------------------------
  // The world's network: the OS, or the run's SimNetwork.
  Network& network() { return World::current().network(); }
  // Watches socket `fd` of network() for reading and/or writing: `handler`
  // runs on the reactor thread with each readiness event (a hint: the read
  // or write may still say kAgain). A second call changes interest and
  // handler. Reactor-only.
  void watch(Fd fd, bool read, bool write, Trigger trigger,
             std::function<void(const IoEvent&)> handler);
  // Stops watching `fd` (before closing it). Reactor-only.
  void unwatch(Fd fd);

  void suggest_thread_pool_size(std::size_t n);
  // The pool behind call_in_thread (created on first use).
  Team& thread_pool();

  // Whether the caller is the thread that runs (or ran) run(); false for
  // every thread before run() starts.
  bool is_reactor_thread() const;
  // Fails loudly unless the reactor thread calls: `method` names the
  // caller in the message. Before run() starts, the thread that built the
  // reactor may also call reactor-only methods, to set it up (call_later
  // before run(), as Twisted programs do).
  void assert_reactor_thread(const char* method) const;
  const std::string& name() const { return options_.name; }

 private:
  friend class DelayedCall;
  using TimerKey = std::pair<sim::Clock::time_point, std::uint64_t>;

  // Who runs the loop (empty before run()), and who built the reactor.
  struct Owner {
    std::optional<internal::StrandIdentity> runner;
    internal::StrandIdentity builder;
  };
  Owner owner() const;

  Options options_;
  // Written by run(), read by any thread. A plain mutex: it never blocks
  // for long, so it needs no choice point.
  mutable std::mutex owner_mu_;
  Owner owner_;
  sim::Mutex mu_;
  sim::CondVar wake_;
  // A call handed over by call_from_thread, with who handed it over and
  // when (in a simulation), so a recorded trace draws it as a message
  // arrow to the reactor.
  struct Call {
    Work work;
    MessageStamp from;
  };
  std::vector<Call> calls_;
  std::size_t next_call_ = 0;
  std::map<TimerKey, Work> timers_;
  // I/O: made on the first watch(); the loop then waits in the poller.
  std::unique_ptr<Poller> poller_;
  std::map<Fd, std::function<void(const IoEvent&)>> io_handlers_;
  void wait_for_work(std::unique_lock<sim::Mutex>& lk);
  void wake_locked();
  std::uint64_t timer_seq_ = 0;
  bool stopping_ = false;
  std::unique_ptr<Team> pool_;
};

// A connection's write side, as a reactor-based protocol sees it: write()
// is reactor-only, so a write from a pool thread is caught.
class Transport {
 public:
  Transport(Reactor& reactor, std::string name)
      : reactor_(reactor), name_(std::move(name)) {}
  void write(const std::string& data);
  const std::string& written() const { return written_; }

 private:
  Reactor& reactor_;
  std::string name_;
  std::string written_;
};

// --- templates ---------------------------------------------------------------

template <class F>
Deferred<Result<std::invoke_result_t<F&>>> Reactor::defer_to_thread(F f) {
  using R = std::invoke_result_t<F&>;
  using V = Result<R>;
  assert_reactor_thread("Reactor::defer_to_thread");
  Deferred<V> d;
  call_in_thread([this, d, f = std::move(f)]() mutable {
    try {
      if constexpr (std::is_void_v<R>) {
        f();
        call_from_thread([d]() mutable { d.callback(V{}); });
      } else {
        V v = f();
        call_from_thread(
            [d, v = std::move(v)]() mutable { d.callback(std::move(v)); });
      }
    } catch (...) {
      // A simulation unwinding or stopping the strand: not the work's error.
      if (internal::is_strand_control()) throw;
      // Anything thrown, not only std::exceptions, is the errback's.
      call_from_thread(
          [d, e = std::current_exception()]() mutable { d.errback(e); });
    }
  });
  return d;
}

template <class F>
auto Reactor::blocking_call_from_thread(F f) {
  using R = std::invoke_result_t<F&>;
  using V = Result<std::conditional_t<IsDeferred<R>::value,
                                      typename IsDeferred<R>::value_type, R>>;
  if (is_reactor_thread())
    throw ReactorThreadError(
        "Reactor::blocking_call_from_thread called on the reactor thread '" +
        options_.name + "': it would wait for itself");
  sim::Mutex m("blocking call");
  sim::CondVar done_cv("blocking call result");
  bool done = false;
  std::optional<V> value;
  std::exception_ptr error;
  auto finish = [&](std::optional<V> v, std::exception_ptr e) {
    std::lock_guard lk(m);
    value = std::move(v);
    error = std::move(e);
    done = true;
    // Notify under the lock: the waiter owns the condition variable and
    // may return (destroying it) as soon as it can see `done`.
    done_cv.notify_one();
  };
  call_from_thread([&, f = std::move(f)]() mutable {
    std::exception_ptr thrown;
    try {
      if constexpr (IsDeferred<R>::value) {
        R d = f();
        d.add_callback([&](const V& v) { finish(v, nullptr); });
        d.add_errback(
            [&](std::exception_ptr e) { finish(std::nullopt, std::move(e)); });
      } else if constexpr (std::is_void_v<R>) {
        f();
        finish(V{}, nullptr);
      } else {
        finish(f(), nullptr);
      }
    } catch (...) {
      if (internal::is_strand_control()) throw;
      thrown = std::current_exception();
    }
    // Anything thrown, not only std::exceptions, is rethrown to the caller:
    // handed over after the handler ends, and moved, so that once the caller
    // can see it this thread holds no reference to it and the caller's
    // thread frees it. (Freed here while the caller reads it, it is a race
    // to ThreadSanitizer, which cannot see libstdc++'s atomic count.)
    if (thrown) finish(std::nullopt, std::move(thrown));
  });
  std::unique_lock lk(m);
  done_cv.wait(lk, [&] { return done; });
  if (error) std::rethrow_exception(error);
  if constexpr (std::is_void_v<R>)
    return;
  else
    return std::move(*value);
}

}  // namespace weft::runtime
