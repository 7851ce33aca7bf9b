#include "runtime/reactor.h"

#include <cstdio>
#include <typeinfo>

#include "runtime/world.h"

namespace weft::runtime {
namespace {

// A reactor call that throws (anything, not only std::exceptions) is a bug
// of the call: in a simulation it fails the schedule; on real threads it is
// reported and the loop goes on, as Twisted logs it.
void run_call(const Work& f, const std::string& reactor) {
  try {
    f();
  } catch (...) {
    if (internal::is_strand_control()) throw;
    const std::string what = "a call on reactor '" + reactor + "' threw " +
                             internal::describe_current_exception();
    World::current().report_lost_error(what);
  }
}

}  // namespace

Reactor::Reactor(Options options)
    : options_(std::move(options)),
      owner_{.runner = std::nullopt,
             .builder = internal::StrandIdentity::current()},
      mu_(options_.name + " lock"),
      wake_(options_.name + " event queue") {}

Reactor::~Reactor() {
  // Declared first, so it outlives `pool`: a deadlock found while ~Team
  // waits for the pool is reported, never thrown out of this destructor.
  sim::NoUnwindScope no_unwind;
  std::unique_ptr<Team> pool;
  {
    std::lock_guard lk(mu_);
    pool = std::move(pool_);
  }
  // ~Team quits and joins (and skips the wait while a failed simulation
  // run is torn down).
}

void Reactor::run() {
  {
    std::lock_guard owner_lock(owner_mu_);
    owner_.runner = internal::StrandIdentity::current();
  }
  std::unique_lock lk(mu_);
  while (!stopping_) {
    if (next_call_ < calls_.size()) {
      Call call = std::move(calls_[next_call_++]);
      if (next_call_ == calls_.size()) {
        calls_.clear();
        next_call_ = 0;
      }
      lk.unlock();
      World::current().note_message(
          call.from, [&] { return "call_from_thread to " + options_.name; });
      run_call(call.work, options_.name);
      lk.lock();
      continue;
    }
    if (!timers_.empty() && timers_.begin()->first.first <= sim::Clock::now()) {
      auto node = timers_.extract(timers_.begin());
      lk.unlock();
      run_call(node.mapped(), options_.name);
      lk.lock();
      continue;
    }
    wait_for_work(lk);
  }
  stopping_ = false;
  std::unique_ptr<Team> pool = std::move(pool_);
  lk.unlock();
  if (pool) {
    pool->quit();
    pool->join();
  }
}

// Waits for a call, the next timer or (when sockets are watched) I/O,
// whose handlers run here, without the lock.
void Reactor::wait_for_work(std::unique_lock<sim::Mutex>& lk) {
  std::optional<sim::Clock::time_point> deadline;
  if (!timers_.empty()) deadline = timers_.begin()->first.first;
  if (io_handlers_.empty()) {
    if (deadline)
      wake_.wait_until(lk, *deadline);
    else
      wake_.wait(lk);
    return;
  }
  Poller* poller = poller_.get();
  lk.unlock();
  const std::vector<IoEvent> events = poller->wait(deadline);
  lk.lock();
  for (const IoEvent& e : events) {
    auto it = io_handlers_.find(e.fd);
    if (it == io_handlers_.end()) continue;  // unwatched meanwhile
    auto handler = it->second;
    lk.unlock();
    run_call([&] { handler(e); }, options_.name);
    lk.lock();
  }
}

void Reactor::wake_locked() {
  wake_.notify_all();
  if (poller_) poller_->wake();
}

void Reactor::watch(Fd fd, bool read, bool write, Trigger trigger,
                    std::function<void(const IoEvent&)> handler) {
  assert_reactor_thread("Reactor::watch");
  std::lock_guard lk(mu_);
  if (!poller_) poller_ = network().make_poller();
  poller_->watch(fd, read, write, trigger);
  io_handlers_[fd] = std::move(handler);
}

void Reactor::unwatch(Fd fd) {
  assert_reactor_thread("Reactor::unwatch");
  std::lock_guard lk(mu_);
  if (io_handlers_.erase(fd) > 0) poller_->unwatch(fd);
}

void Reactor::stop() {
  std::lock_guard lk(mu_);
  stopping_ = true;
  wake_locked();
}

void Reactor::call_from_thread(Work f) {
  std::lock_guard lk(mu_);
  Call call{.work = std::move(f), .from = World::current().stamp()};
  calls_.push_back(std::move(call));
  wake_locked();
}

Team& Reactor::thread_pool() {
  std::lock_guard lk(mu_);
  if (!pool_) {
    Team::Options o;
    o.max_workers = options_.thread_pool_size;
    o.name = options_.name + "-pool";
    pool_ = std::make_unique<Team>(std::move(o));
  }
  return *pool_;
}

void Reactor::call_in_thread(Work f) { thread_pool().submit(std::move(f)); }

DelayedCall Reactor::call_later(sim::Clock::duration delay, Work f) {
  assert_reactor_thread("Reactor::call_later");
  DelayedCall call;
  call.reactor_ = this;
  std::lock_guard lk(mu_);
  call.key_ = {sim::Clock::now() + delay, ++timer_seq_};
  timers_.emplace(call.key_, std::move(f));
  wake_locked();
  return call;
}

bool DelayedCall::cancel() {
  if (reactor_ == nullptr) return false;
  reactor_->assert_reactor_thread("DelayedCall::cancel");
  std::lock_guard lk(reactor_->mu_);
  return reactor_->timers_.erase(key_) > 0;
}

bool DelayedCall::active() const {
  if (reactor_ == nullptr) return false;
  std::lock_guard lk(reactor_->mu_);
  return reactor_->timers_.count(key_) > 0;
}

void Reactor::suggest_thread_pool_size(std::size_t n) {
  std::lock_guard lk(mu_);
  options_.thread_pool_size = n == 0 ? 1 : n;
  if (pool_) pool_->set_max_workers(options_.thread_pool_size);
}

Reactor::Owner Reactor::owner() const {
  std::lock_guard lk(owner_mu_);
  return owner_;
}

bool Reactor::is_reactor_thread() const {
  return owner().runner == internal::StrandIdentity::current();
}

void Reactor::assert_reactor_thread(const char* method) const {
  const auto me = internal::StrandIdentity::current();
  const Owner o = owner();
  // Before run(), the builder sets the reactor up.
  if (me == o.runner.value_or(o.builder)) return;
  const std::string who =
      o.runner ? o.runner->describe() + " runs reactor '" + options_.name + "'"
               : "reactor '" + options_.name +
                     "' is not running yet: until run() starts, only " +
                     o.builder.describe() + ", which built it, may call it";
  const std::string what = std::string(method) +
                           " must be called on the reactor thread (" + who +
                           "), but " + me.describe() +
                           " called it. Hand the call to the reactor with "
                           "call_from_thread.";
  World::current().misuse<ReactorThreadError>(what);
}

void Transport::write(const std::string& data) {
  reactor_.assert_reactor_thread("Transport::write");
  written_ += data;
}

}  // namespace weft::runtime
