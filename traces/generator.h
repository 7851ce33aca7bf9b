// Generator<T>: a synchronous C++20 generator (g++ 12 has no
// std::generator). The body co_yields values; a range-for pulls them one at
// a time, so a reader built on it keeps memory flat however long its input.
// co_await inside a generator does not compile: a synchronous iterator must
// not hide suspensions (and so interleavings) from the scheduler.
#pragma once

#include <coroutine>
#include <exception>
#include <iterator>
#include <memory>
#include <optional>
#include <utility>

namespace weft::traces {

template <class T>
class Generator {
 public:
  struct promise_type {
    std::optional<T> value;
    std::exception_ptr error;

    Generator get_return_object() {
      return Generator(
          std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    template <class U = T>
    std::suspend_always yield_value(U&& v) {
      value.emplace(std::forward<U>(v));
      return {};
    }
    void return_void() {}
    void unhandled_exception() { error = std::current_exception(); }
    // Deleted: a generator is a synchronous iterator.
    template <class U>
    std::suspend_never await_transform(U&&) = delete;
  };

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;

    iterator() = default;
    explicit iterator(std::coroutine_handle<promise_type> h) : h_(h) {}
    T& operator*() const { return *h_.promise().value; }
    T* operator->() const { return &*h_.promise().value; }
    iterator& operator++() {
      advance(h_);
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const { return !h_ || h_.done(); }

   private:
    std::coroutine_handle<promise_type> h_;
  };

  Generator(Generator&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Generator& operator=(Generator&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  Generator(const Generator&) = delete;
  ~Generator() {
    if (h_) h_.destroy();
  }

  iterator begin() {
    advance(h_);
    return iterator(h_);
  }
  std::default_sentinel_t end() { return {}; }

 private:
  explicit Generator(std::coroutine_handle<promise_type> h) : h_(h) {}

  // Resumes the body to its next co_yield; rethrows what it threw.
  static void advance(std::coroutine_handle<promise_type> h) {
    if (!h || h.done()) return;
    h.promise().value.reset();
    h.resume();
    if (h.promise().error) std::rethrow_exception(h.promise().error);
  }

  std::coroutine_handle<promise_type> h_;
};

}  // namespace weft::traces
