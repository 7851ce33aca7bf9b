// Coroutine services: what a handler does through its Request (calls,
// sends, forks, waits, sleeps), and which coroutine a framework
// suspension belongs to.
#include <map>
#include <tuple>

#include "runtime/internal/service_util.h"
#include "runtime/service.h"
#include "runtime/world.h"

namespace weft::runtime {
namespace internal {
namespace {

// Per strand: inside a simulation its strands share this thread; outside
// one each thread has its own map, with one key (its identity).
using StrandKey =
    std::tuple<const sim::Scheduler*, std::uint64_t, sim::StrandId>;
thread_local std::map<StrandKey, Co*> running_on_strand;

StrandKey strand_key() {
  const StrandIdentity id = World::current().identity();
  return {id.sched, id.run, id.strand};
}

void set_running_co(Co* co) {
  if (co == nullptr)
    running_on_strand.erase(strand_key());
  else
    running_on_strand[strand_key()] = co;
}

Task<std::string> run_fork(std::function<Task<void>(Request&)> body,
                           Request& r) {
  co_await body(r);
  co_return std::string();
}

}  // namespace

Co* running_co() {
  const auto it = running_on_strand.find(strand_key());
  return it == running_on_strand.end() ? nullptr : it->second;
}

RunningCo::RunningCo(Co* co) : previous_(running_co()) { set_running_co(co); }
RunningCo::~RunningCo() { set_running_co(previous_); }

PlainResume::PlainResume(CoStatus* status, std::string* blocked_in)
    : co_(running_co()) {
  if (co_ != nullptr) co_->user_stack.push_back({status, blocked_in, true});
}

PlainResume::~PlainResume() {
  if (co_ != nullptr) co_->user_stack.pop_back();
}

Co* suspending_co(const std::string& what) {
  Co* co = running_co();
  if (co == nullptr)
    throw BlockedCoroutineError(
        what +
        " outside any request's coroutine: only a request (or a user "
        "coroutine it drives with co_await next(request)) can wait on "
        "the framework");
  for (const UserFrame& f : co->user_stack)
    if (f.plain)
      throw BlockedCoroutineError(
          what +
          " inside a user coroutine driven by resume(): plain code "
          "cannot be suspended by the framework, so the reply would be "
          "lost; drive the coroutine with co_await next(request)");
  return co;
}

void block_user_coroutines(Co* co, const std::string& in) {
  for (auto& f : co->user_stack) {
    *f.status = CoStatus::kBlocked;
    *f.blocked_in = in;
  }
}

}  // namespace internal

Request& Request::current() {
  internal::Co* co = internal::running_co();
  if (co == nullptr || co->request == nullptr)
    throw std::logic_error(
        "Request::current() outside any request's coroutine");
  return *co->request;
}

Request::CallAwaiter Request::call(
    ServiceHandle to, std::string type, std::string payload,
    std::optional<sim::Clock::duration> timeout) {
  return CallAwaiter{*this, to, std::move(type), std::move(payload), timeout};
}

void Request::CallAwaiter::await_suspend(std::coroutine_handle<> h) {
  owner = internal::suspending_co("call '" + type + "'");
  Node& n = *r.node_;
  n.service(to);  // a bad handle throws here, before anything changes
  std::uint64_t session;
  {
    std::lock_guard lk(n.mu_);
    session = ++n.next_session_;
  }
  owner->resume_point = h;
  owner->waiting = internal::Co::Wait::kCall;
  owner->waiting_session = session;
  owner->waiting_on = to;
  owner->reply.reset();
  owner->reply_error.clear();
  internal::block_user_coroutines(
      owner, "waiting for the reply to session " + std::to_string(session));
  Node::Envelope e;
  e.kind = Node::Envelope::Kind::kRequest;
  e.from = owner->service;
  e.session = session;
  e.reply_expected = true;
  e.type = type;
  e.payload = std::move(payload);
  n.enqueue(to, std::move(e));
  if (timeout) {
    Node::Envelope t;
    t.kind = Node::Envelope::Kind::kResponse;
    t.session = session;
    t.error = "call '" + type + "' (session " + std::to_string(session) +
              ") timed out after " + internal::seconds(*timeout);
    n.add_timer(*timeout, owner->service, std::move(t));
  }
}

std::string Request::CallAwaiter::await_resume() {
  if (!owner->reply_error.empty()) throw CallError(owner->reply_error);
  return std::move(*owner->reply);
}

void Request::send(ServiceHandle to, std::string type, std::string payload) {
  Node::Envelope e;
  e.kind = Node::Envelope::Kind::kRequest;
  e.from = co_->service;
  e.type = std::move(type);
  e.payload = std::move(payload);
  node_->enqueue(to, std::move(e));
}

std::uint64_t Request::fork(std::function<Task<void>(Request&)> body) {
  internal::Co* co = node_->new_co(co_->service);
  co->is_fork = true;
  co->type = co_->type;
  auto req = std::unique_ptr<Request>(new Request(node_, co, ""));
  Request& r = *req;
  co->request = &r;
  node_->service(co_->service).requests[co->id] = std::move(req);
  co->task = internal::run_fork(std::move(body), r);
  Node::Envelope e;
  e.kind = Node::Envelope::Kind::kStart;
  e.co = co->id;
  node_->enqueue(co_->service, std::move(e));
  return co->id;
}

Request::WaitAwaiter Request::wait() { return WaitAwaiter{*this}; }

void Request::WaitAwaiter::await_suspend(std::coroutine_handle<> h) {
  owner = internal::suspending_co("wait");
  owner->resume_point = h;
  owner->waiting = internal::Co::Wait::kWait;
  owner->waiting_session = ++owner->tokens;
  owner->woken = false;
  internal::block_user_coroutines(owner, "waiting for a wakeup");
}

void Request::wakeup(std::uint64_t id) {
  auto& cos = node_->service(co_->service).cos;
  auto it = cos.find(id);
  if (it == cos.end()) return;
  internal::Co& co = *it->second;
  if (co.waiting != internal::Co::Wait::kWait &&
      co.waiting != internal::Co::Wait::kSleep)
    return;  // not waiting: the signal is lost
  co.waiting = internal::Co::Wait::kWoken;
  co.woken = true;
  Node::Envelope e;
  e.kind = Node::Envelope::Kind::kResume;
  e.co = id;
  e.session = co.waiting_session;
  std::lock_guard lk(node_->mu_);
  if (co.sleep_timer) node_->timers_.erase(*std::exchange(co.sleep_timer, {}));
  node_->enqueue_locked(co_->service, std::move(e));
}

Request::SleepAwaiter Request::sleep(sim::Clock::duration d) {
  return SleepAwaiter{*this, d};
}

void Request::SleepAwaiter::await_suspend(std::coroutine_handle<> h) {
  owner = internal::suspending_co("sleep");
  owner->resume_point = h;
  owner->waiting = internal::Co::Wait::kSleep;
  owner->waiting_session = ++owner->tokens;
  owner->woken = false;
  internal::block_user_coroutines(owner, "sleeping");
  Node::Envelope e;
  e.kind = Node::Envelope::Kind::kResume;
  e.co = owner->id;
  e.session = owner->waiting_session;
  owner->sleep_timer = r.node_->add_timer(d, owner->service, std::move(e));
}

SleepResult Request::SleepAwaiter::await_resume() const noexcept {
  return owner->woken ? SleepResult::kWokenUp : SleepResult::kElapsed;
}

void Request::burn(sim::Clock::duration d) { World::current().burn(d); }

}  // namespace weft::runtime
