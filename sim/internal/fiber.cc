#include "sim/internal/fiber.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

#if defined(WEFT_ASAN)
#include <sanitizer/asan_interface.h>
#endif
#if defined(WEFT_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

#if defined(WEFT_TSAN)
#define WEFT_NO_TSAN __attribute__((no_sanitize("thread")))
#else
#define WEFT_NO_TSAN
#endif

namespace weft::sim::internal {
namespace {

std::size_t page_size() {
  static const std::size_t size =
      static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

// Guard pages known to the signal handler. A fixed array with atomics keeps
// the handler async-signal-safe.
constexpr int kMaxGuards = 1 << 14;
std::atomic<std::uintptr_t> g_guard_lo[kMaxGuards];
std::atomic<int> g_guard_count{0};

void register_guard(void* lo) {
  const auto addr = reinterpret_cast<std::uintptr_t>(lo);
  int n = g_guard_count.load();
  for (int i = 0; i < n; ++i) {
    std::uintptr_t expected = 0;
    if (g_guard_lo[i].compare_exchange_strong(expected, addr)) return;
  }
  n = g_guard_count.fetch_add(1);
  if (n < kMaxGuards) g_guard_lo[n].store(addr);
}

void unregister_guard(void* lo) {
  const auto addr = reinterpret_cast<std::uintptr_t>(lo);
  const int n = g_guard_count.load();
  for (int i = 0; i < n && i < kMaxGuards; ++i) {
    std::uintptr_t expected = addr;
    if (g_guard_lo[i].compare_exchange_strong(expected, 0)) return;
  }
}

void write_str(const char* s) {
  const ssize_t ignored = write(STDERR_FILENO, s, std::strlen(s));
  (void)ignored;
}

void write_num(unsigned long long v) {
  char buf[24];
  int i = sizeof buf;
  buf[--i] = '\0';
  do {
    buf[--i] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && i > 0);
  write_str(buf + i);
}

[[maybe_unused]] void on_segv(int sig, siginfo_t* info, void*) {
  const auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
  if (in_guard_page(addr)) {
    write_str("weft: strand '");
    write_str(t_strand_name ? t_strand_name : "?");
    write_str("' overflowed its stack at step ");
    write_num(t_step ? *t_step : 0);
    write_str(
        ".\nweft: raise ExploreOptions::stack_size or set "
        "WEFT_STACK_SIZE (bytes), or look for unbounded recursion.\n");
    _exit(134);
  }
  // Not ours: let the default action produce the usual crash.
  signal(sig, SIG_DFL);
}

}  // namespace

bool in_guard_page(std::uintptr_t addr) {
  const std::size_t page = page_size();
  const int n = g_guard_count.load();
  for (int i = 0; i < n && i < kMaxGuards; ++i) {
    const std::uintptr_t lo = g_guard_lo[i].load();
    if (lo != 0 && addr >= lo && addr < lo + page) return true;
  }
  return false;
}

StackPool::StackPool(std::size_t stack_size) {
  const std::size_t page = page_size();
  stack_size_ = (stack_size + page - 1) / page * page;
}

StackPool::~StackPool() {
  for (void* m : mappings_) {
    unregister_guard(m);
    munmap(m, stack_size_ + page_size());
  }
}

void StackPool::reserve(std::size_t n) {
  while (mappings_.size() < n) free_.push_back(map_new());
}

boost::context::stack_context StackPool::allocate() {
  if (!free_.empty()) {
    auto s = free_.back();
    free_.pop_back();
    return s;
  }
  return map_new();
}

boost::context::stack_context StackPool::map_new() {
  const std::size_t page = page_size();
  void* m = mmap(nullptr, stack_size_ + page, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) throw std::bad_alloc();
  if (mprotect(m, page, PROT_NONE) != 0) {
    munmap(m, stack_size_ + page);
    throw std::bad_alloc();
  }
  mappings_.push_back(m);
  register_guard(m);
  boost::context::stack_context s;
  s.size = stack_size_;
  s.sp = static_cast<char*>(m) + page + stack_size_;
  return s;
}

void StackPool::deallocate(boost::context::stack_context& sctx) noexcept {
  free_.push_back(sctx);
}

void init_strand_context(Context& ctx, const boost::context::stack_context& s) {
  ctx.stack_bottom = static_cast<char*>(s.sp) - s.size;
  ctx.stack_size = s.size;
  ctx.asan_fake_stack = nullptr;
#if defined(WEFT_TSAN)
  ctx.tsan_fiber = __tsan_create_fiber(0);
#endif
}

void destroy_strand_context(Context& ctx) {
#if defined(WEFT_TSAN)
  if (ctx.tsan_fiber != nullptr) __tsan_destroy_fiber(ctx.tsan_fiber);
#endif
  ctx.tsan_fiber = nullptr;
}

void init_thread_context(Context& ctx) {
#if defined(WEFT_TSAN)
  ctx.tsan_fiber = __tsan_get_current_fiber();
#else
  (void)ctx;
#endif
}

// ThreadSanitizer keeps a shadow call stack per fiber and pushes/pops it on
// every instrumented call and return. The two switch helpers are therefore
// not instrumented, and a dying strand does not switch fibers itself: its
// last returns pop its own shadow stack (balancing the entry pushed when it
// was first resumed), and the context it lands in switches on arrival.
#if defined(WEFT_ASAN) || defined(WEFT_TSAN)
WEFT_NO_TSAN void start_switch(Context& from, Context& to, bool dying) {
#if defined(WEFT_ASAN)
  __sanitizer_start_switch_fiber(dying ? nullptr : &from.asan_fake_stack,
                                 to.stack_bottom, to.stack_size);
#else
  (void)from;
  (void)dying;
#endif
#if defined(WEFT_TSAN)
  if (!dying) __tsan_switch_to_fiber(to.tsan_fiber, 0);
#else
  (void)to;
#endif
}

WEFT_NO_TSAN void finish_switch(Context& arrived, Context* from,
                                boost::context::fiber&& from_fiber) {
#if defined(WEFT_TSAN)
  if (__tsan_get_current_fiber() != arrived.tsan_fiber)
    __tsan_switch_to_fiber(arrived.tsan_fiber, 0);
#endif
#if defined(WEFT_ASAN)
  const void* bottom = nullptr;
  std::size_t size = 0;
  __sanitizer_finish_switch_fiber(arrived.asan_fake_stack, &bottom, &size);
  // The thread's own stack bounds are learned from the first switch away
  // from it; strand bounds are known from their stack pool.
  if (from != nullptr && from->stack_size == 0) {
    from->stack_bottom = bottom;
    from->stack_size = size;
  }
#else
  (void)arrived;
#endif
  if (from != nullptr) from->fiber = std::move(from_fiber);
}

#endif  // sanitizers

void install_overflow_handler() {
#if !defined(WEFT_ASAN) && !defined(WEFT_TSAN)
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, nullptr);
    sigaction(SIGBUS, &sa, nullptr);
  });
  thread_local bool alt_stack_installed = false;
  if (!alt_stack_installed) {
    alt_stack_installed = true;
    static thread_local std::vector<char> alt(1 << 16);
    stack_t ss;
    std::memset(&ss, 0, sizeof ss);
    ss.ss_sp = alt.data();
    ss.ss_size = alt.size();
    sigaltstack(&ss, nullptr);
  }
#endif
}

}  // namespace weft::sim::internal
