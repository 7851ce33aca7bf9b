// Task<T>: weft's C++20 coroutine for services. Lazily started; awaiting a
// Task runs it and resumes the awaiter when it finishes (symmetric
// transfer, so chains of awaits use no stack). A Task's result or
// exception reaches the awaiter. Owns its coroutine frame. As in cppcoro
// and libunifex, a Task is awaited once, as an rvalue (`co_await
// make_task()` or `co_await std::move(t)`): awaiting an lvalue does not
// compile, and awaiting an empty (moved-from) Task or taking a result
// twice throws std::logic_error instead of dereferencing nothing.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <stdexcept>
#include <utility>

namespace weft::runtime {

template <class T>
class Task;

namespace internal {

struct TaskPromiseBase {
  std::coroutine_handle<> continuation = std::noop_coroutine();
  std::exception_ptr error;

  std::suspend_always initial_suspend() noexcept { return {}; }
  struct Final {
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      return h.promise().continuation;
    }
    void await_resume() noexcept {}
  };
  Final final_suspend() noexcept { return {}; }
  void unhandled_exception() { error = std::current_exception(); }
};

template <class T>
struct TaskPromise : TaskPromiseBase {
  std::optional<T> value;
  bool taken = false;
  Task<T> get_return_object();
  void return_value(T v) { value = std::move(v); }
  T take() {
    if (taken) throw std::logic_error("a Task's result was taken twice");
    taken = true;
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }
};

template <>
struct TaskPromise<void> : TaskPromiseBase {
  bool taken = false;
  Task<void> get_return_object();
  void return_void() {}
  void take() {
    if (taken) throw std::logic_error("a Task's result was taken twice");
    taken = true;
    if (error) std::rethrow_exception(error);
  }
};

}  // namespace internal

template <class T = void>
class [[nodiscard]] Task {
 public:
  using promise_type = internal::TaskPromise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Task() = default;
  explicit Task(Handle h) : h_(h) {}
  Task(Task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Task& operator=(Task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  ~Task() {
    if (h_) h_.destroy();
  }

  // Awaiting runs the task; only an rvalue can be awaited (once).
  struct Awaiter {
    Handle h;
    bool await_ready() const noexcept { return h.done(); }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiter) {
      h.promise().continuation = awaiter;
      return h;
    }
    T await_resume() { return h.promise().take(); }
  };
  Awaiter operator co_await() && {
    if (!h_) throw std::logic_error("co_await of an empty Task (moved from?)");
    return Awaiter{h_};
  }
  Awaiter operator co_await() & = delete;  // await std::move(task)

  // For the framework that drives a top-level Task.
  Handle handle() const { return h_; }
  bool done() const { return !h_ || h_.done(); }
  T result() {
    if (!h_) throw std::logic_error("result() of an empty Task");
    return h_.promise().take();
  }

 private:
  Handle h_;
};

namespace internal {
template <class T>
Task<T> TaskPromise<T>::get_return_object() {
  return Task<T>(Task<T>::Handle::from_promise(*this));
}
inline Task<void> TaskPromise<void>::get_return_object() {
  return Task<void>(Task<void>::Handle::from_promise(*this));
}
}  // namespace internal

}  // namespace weft::runtime
