// Coroutine services, as in skynet: a Node hosts services and routes
// messages between them by handle; a service has one dispatch callback
// per message type; every request runs in a coroutine of its own, so a
// remote call reads like a blocking call. A service never runs on two
// threads at once. Worker strands (threads outside a simulation, fibers
// inside) take services with pending messages from one ready queue, so in
// explore() every delivery, resumption and timer is an interleaving the
// scheduler chooses. Sessions and coroutine ids are handed out in order.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/task.h"
#include "runtime/world.h"
#include "sim/clock.h"
#include "sim/sync.h"
#include "sim/thread.h"

namespace weft::runtime {

using ServiceHandle = std::uint32_t;
inline constexpr ServiceHandle kHost = 0;  // the code outside the node

// A call answered with an error (the handler threw), or timed out.
class CallError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Resuming, from user code, a coroutine the framework suspended.
class BlockedCoroutineError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

class Node;
class Request;

namespace internal {

enum class CoStatus : std::uint8_t {
  kSuspended,  // yielded to its user (or not started)
  kRunning,
  kNormal,  // resumed another user coroutine, waiting for it to yield
  kDead,
  kBlocked,  // suspended by the framework (a call, a sleep, a wait)
};

// A user coroutine the framework holds: its status, and where it is
// blocked for the error message. `plain`: resumed by resume() from plain
// code, which the framework cannot suspend.
struct UserFrame {
  CoStatus* status;
  std::string* blocked_in;
  bool plain = false;
};

// One coroutine of a service: a request, or a fork.
struct Co {
  std::uint64_t id = 0;
  ServiceHandle service = 0;
  std::uint64_t session = 0;  // the request's session (0: a send, a fork)
  ServiceHandle from = kHost;
  bool reply_expected = false;
  // A fork, not a request: a flag, so that no message type is reserved.
  bool is_fork = false;
  std::string type;  // of the request (of a fork: of the request forking)
  Request* request = nullptr;
  // The handler that made `task`: a coroutine lambda's captures live in
  // the lambda object, so it must outlive the coroutine.
  std::function<Task<std::string>(Request&)> handler;
  Task<std::string> task;
  std::coroutine_handle<> resume_point;
  enum class Wait : std::uint8_t { kNone, kCall, kSleep, kWait, kWoken };
  Wait waiting = Wait::kNone;
  // Of an outgoing call; of a sleep or wait, its token: a resumption
  // carrying an older token (a sleep's timer after a wakeup) is stale.
  std::uint64_t waiting_session = 0;
  ServiceHandle waiting_on = 0;
  std::uint64_t tokens = 0;
  bool woken = false;  // the last sleep or wait ended by a wakeup
  std::optional<std::pair<sim::Clock::time_point, std::uint64_t>> sleep_timer;
  std::optional<std::string> reply;
  std::string reply_error;
  // User coroutines this one is running, outermost first: the framework
  // marks them blocked while it holds this coroutine.
  std::vector<UserFrame> user_stack;
  sim::Clock::duration cpu{0};
};

// The coroutine whose segment this worker (this strand in a simulation,
// this thread outside one) is running, or null: the owner of any
// framework suspension made now, whichever Request object it goes
// through, as skynet's calls belong to the running coroutine.
Co* running_co();

// Marks, while it lives, that plain code is resuming a user coroutine
// (UserCoroutine::resume): a framework suspension inside is refused.
class PlainResume {
 public:
  PlainResume(CoStatus* status, std::string* blocked_in);
  ~PlainResume();
  PlainResume(const PlainResume&) = delete;
  PlainResume& operator=(const PlainResume&) = delete;

 private:
  Co* co_;
};

}  // namespace internal

// How a sleep ended: its time elapsed, or wakeup() interrupted it (as
// skynet's sleep returns "BREAK").
enum class SleepResult : std::uint8_t { kElapsed, kWokenUp };

// What a handler (and code it calls) uses to talk to the node. Valid for
// the life of the request's coroutine.
class Request {
 public:
  const std::string& type() const { return co_->type; }
  const std::string& payload() const { return payload_; }
  ServiceHandle self() const { return co_->service; }
  ServiceHandle source() const { return co_->from; }
  std::uint64_t session() const { return co_->session; }
  std::uint64_t coroutine() const { return co_->id; }
  Node& node() { return *node_; }
  // The request whose coroutine is running on this worker: inside a user
  // coroutine, the request that resumed it. std::logic_error outside.
  static Request& current();

  // co_await: sends a request and suspends until its reply (the value the
  // handler returned), its error (CallError) or the timeout (CallError).
  struct CallAwaiter;
  CallAwaiter call(ServiceHandle to, std::string type, std::string payload,
                   std::optional<sim::Clock::duration> timeout = {});
  // Fire and forget.
  void send(ServiceHandle to, std::string type, std::string payload);
  // Starts a new coroutine in this service (started by the framework
  // later, not now); returns its id.
  std::uint64_t fork(std::function<Task<void>(Request&)> body);
  // co_await: suspends this coroutine until wakeup(coroutine()).
  struct WaitAwaiter;
  WaitAwaiter wait();
  // Signals coroutine `co` of this service if it is waiting or sleeping
  // (the sleep is cut short); the framework resumes it later. A wakeup
  // before the wait is lost, as in skynet.
  void wakeup(std::uint64_t co);
  // co_await: suspends for `d` (virtual time in a simulation), or until
  // wakeup(coroutine()) if that comes first; says which.
  struct SleepAwaiter;
  SleepAwaiter sleep(sim::Clock::duration d);
  // Uses the CPU for `d`: really (spinning) on real threads; in a
  // simulation it takes `d` of virtual time on this worker, charged to
  // the request like real CPU time.
  void burn(sim::Clock::duration d);

 private:
  friend class Node;
  Request(Node* node, internal::Co* co, std::string payload)
      : node_(node), co_(co), payload_(std::move(payload)) {}
  Node* node_;
  internal::Co* co_;
  std::string payload_;

 public:
  internal::Co* co() { return co_; }
};

// A user-level coroutine (a generator, an iterator) that may also wait on
// the framework. The handler drives it with `co_await it.next(request)`:
// if its body calls, sleeps or waits, the framework suspends it and the
// handler together, and its status() is kBlocked until the framework
// resumes it. As in skynet, the suspension belongs to the request that
// resumed it, wherever it was made: another request can drive it later
// (its body should then reach the framework through Request::current()).
// resume() drives it from plain code, as a plain iterator: a blocked one
// cannot be resumed so, and a call, sleep or wait inside a plain resume()
// is refused (both BlockedCoroutineError).
template <class T>
class UserCoroutine {
 public:
  using Status = internal::CoStatus;
  struct promise_type {
    std::optional<T> value;
    std::exception_ptr error;
    Status status = Status::kSuspended;
    std::coroutine_handle<> consumer;  // the handler awaiting next()
    internal::Co* co = nullptr;        // holds our frame (null: a plain resume)
    std::string blocked_in;

    UserCoroutine get_return_object() {
      return UserCoroutine(
          std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct Transfer {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(
          std::coroutine_handle<promise_type> h) noexcept {
        auto& p = h.promise();
        if (p.co != nullptr && !p.co->user_stack.empty())
          p.co->user_stack.pop_back();
        auto next = p.consumer ? p.consumer : std::noop_coroutine();
        p.consumer = nullptr;
        return next;
      }
      void await_resume() noexcept {}
    };
    Transfer yield_value(T v) {
      value = std::move(v);
      status = Status::kSuspended;
      return {};
    }
    Transfer final_suspend() noexcept {
      status = Status::kDead;
      return {};
    }
    void return_void() { value.reset(); }
    void unhandled_exception() { error = std::current_exception(); }
  };
  using Handle = std::coroutine_handle<promise_type>;

  explicit UserCoroutine(Handle h) : h_(h) {}
  UserCoroutine(UserCoroutine&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  UserCoroutine& operator=(UserCoroutine&&) = delete;
  ~UserCoroutine() {
    if (h_) h_.destroy();
  }

  Status status() const { return h_.promise().status; }

  // From plain code: runs to the next co_yield; nullopt once finished.
  std::optional<T> resume() {
    auto& p = h_.promise();
    if (p.status == Status::kBlocked)
      throw BlockedCoroutineError(
          "cannot resume this coroutine: the framework suspended it (" +
          p.blocked_in +
          ") and resumes it itself when that completes; its status is "
          "'blocked'");
    if (p.status == Status::kRunning || p.status == Status::kNormal)
      throw BlockedCoroutineError("cannot resume a running coroutine");
    if (p.status == Status::kDead) return std::nullopt;
    p.status = Status::kRunning;
    p.value.reset();
    p.co = nullptr;
    {
      internal::PlainResume plain(&p.status, &p.blocked_in);
      h_.resume();
    }
    if (p.error) std::rethrow_exception(p.error);
    return std::move(p.value);
  }

  // From a handler: co_await it.next(request).
  struct NextAwaiter {
    Handle h;
    Request& r;
    bool await_ready() const { return h.promise().status == Status::kDead; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> consumer) {
      auto& p = h.promise();
      if (p.status == Status::kBlocked || p.status == Status::kRunning ||
          p.status == Status::kNormal)
        throw BlockedCoroutineError(
            "cannot resume a coroutine that is blocked or running");
      p.consumer = consumer;
      internal::Co* running = internal::running_co();
      p.co = running != nullptr ? running : r.co();
      p.status = Status::kRunning;
      p.value.reset();
      p.co->user_stack.push_back({&p.status, &p.blocked_in});
      return h;
    }
    std::optional<T> await_resume() {
      auto& p = h.promise();
      if (p.error) std::rethrow_exception(p.error);
      return std::move(p.value);
    }
  };
  NextAwaiter next(Request& r) { return NextAwaiter{h_, r}; }

 private:
  Handle h_;
};

// What a service's handler for one message type is: it gets the request
// and returns the reply (what `call` returns to the caller).
using Handler = std::function<Task<std::string>(Request&)>;

struct ServiceOptions {
  std::string name;
  // Run one request at a time: a request arriving while another is
  // suspended waits until it finishes (a design that deadlocks on call
  // cycles; kept to show it).
  bool serialise_requests = false;
};

// CPU time per request, summed (Node::stats()).
struct ServiceStats {
  std::string name;
  std::uint64_t requests = 0;
  sim::Clock::duration cpu{0};
  std::map<std::string, sim::Clock::duration> cpu_by_type;
};

class Node {
 public:
  struct Options {
    std::string name = "node";
    std::size_t threads = 2;
  };
  Node() : Node(Options{}) {}
  explicit Node(Options options);
  // Stops the workers (pending messages are dropped) and joins them.
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  ServiceHandle add_service(ServiceOptions options);
  // Sets the dispatch callback of `service` for messages of `type`.
  void on(ServiceHandle service, const std::string& type, Handler handler);

  // From the host (outside any service): a call that blocks this strand
  // until the reply, and a send.
  std::string call(ServiceHandle to, std::string type, std::string payload);
  void send(ServiceHandle to, std::string type, std::string payload);

  std::vector<ServiceStats> stats();
  const std::string& name() const { return options_.name; }

 private:
  friend class Request;
  struct Envelope {
    enum class Kind : std::uint8_t { kRequest, kResponse, kResume, kStart };
    Kind kind = Kind::kRequest;
    ServiceHandle from = kHost;
    std::uint64_t session = 0;
    bool reply_expected = false;
    std::string type;
    std::string payload;
    std::string error;  // of a response
    std::uint64_t co = 0;
    // Who sent it and when, for the timeline of a recorded simulation
    // (a message arrow); a timer's resumption is not a message.
    MessageStamp sent;
    bool from_timer = false;
  };
  struct Service {
    ServiceOptions options;
    std::map<std::string, Handler> handlers;
    std::deque<Envelope> mailbox;
    std::deque<Envelope> deferred;  // serialised requests waiting
    bool in_ready = false;
    bool running = false;
    std::size_t active_requests = 0;
    std::map<std::uint64_t, std::unique_ptr<internal::Co>> cos;
    std::map<std::uint64_t, std::unique_ptr<Request>> requests;
    ServiceStats stats;
  };
  // Services by handle - 1, in segments of 16, 32, 64, ... entries that
  // never move once made: a worker looks a service up without the node's
  // lock while a handler on another worker adds one under it.
  class ServiceTable {
   public:
    ServiceTable() = default;
    ServiceTable(const ServiceTable&) = delete;
    ServiceTable& operator=(const ServiceTable&) = delete;
    std::size_t size() const { return size_.load(std::memory_order_acquire); }
    Service& operator[](std::size_t i) const;
    // Under the node's lock (one adder at a time).
    void push_back(std::unique_ptr<Service> s);

   private:
    static constexpr std::size_t kFirst = 16;
    static constexpr int kSegments = 28;  // room for every 32-bit handle
    struct Place {
      int segment;
      std::size_t offset;
    };
    static Place place(std::size_t i);
    std::array<std::unique_ptr<std::unique_ptr<Service>[]>, kSegments>
        segments_;
    std::atomic<std::size_t> size_{0};
  };
  struct TimerEntry {
    ServiceHandle service = 0;
    Envelope envelope;
  };
  struct HostCall {
    bool done = false;
    std::string reply;
    std::string error;
  };

  void worker();
  // Under mu_.
  void enqueue_locked(ServiceHandle to, Envelope e);
  void enqueue(ServiceHandle to, Envelope e);
  void process(ServiceHandle h, Envelope e);
  void process_request(ServiceHandle h, Envelope e);
  void process_response(ServiceHandle h, Envelope e);
  void process_resume(ServiceHandle h, const Envelope& e);
  // Under mu_: a request for a type with no handler. A call gets an error
  // reply; a send is reported (skynet logs "Unknown request").
  void reject_unknown(Service& s, const Envelope& e);
  void run_segment(ServiceHandle h, internal::Co* co,
                   std::coroutine_handle<> point);
  void finish(ServiceHandle h, internal::Co* co);
  internal::Co* new_co(ServiceHandle h);
  using TimerKey = std::pair<sim::Clock::time_point, std::uint64_t>;
  TimerKey add_timer(sim::Clock::duration d, ServiceHandle h, Envelope e);
  std::string describe_waits();
  // One message, for the timeline.
  std::string describe(ServiceHandle to, const Envelope& e) const;
  Service& service(ServiceHandle h);

  Options options_;
  sim::Mutex mu_;
  sim::CondVar ready_cv_;
  sim::CondVar host_cv_;
  ServiceTable services_;
  std::deque<ServiceHandle> ready_;
  std::map<TimerKey, TimerEntry> timers_;
  std::uint64_t timer_seq_ = 0;
  std::uint64_t next_session_ = 0;
  std::uint64_t next_co_ = 0;
  std::map<std::uint64_t, HostCall*> host_calls_;
  bool stopping_ = false;
  std::vector<sim::JoinHandle> workers_;
};

// --- awaiters ----------------------------------------------------------------

struct Request::CallAwaiter {
  Request& r;
  ServiceHandle to;
  std::string type;
  std::string payload;
  std::optional<sim::Clock::duration> timeout;
  internal::Co* owner = nullptr;  // the running request, which suspends
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h);
  std::string await_resume();
};

struct Request::WaitAwaiter {
  Request& r;
  internal::Co* owner = nullptr;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h);
  void await_resume() const noexcept {}
};

struct Request::SleepAwaiter {
  Request& r;
  sim::Clock::duration d;
  internal::Co* owner = nullptr;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h);
  SleepResult await_resume() const noexcept;
};

}  // namespace weft::runtime
