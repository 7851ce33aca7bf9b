// The allocator recorder: an LD_PRELOAD library that wraps malloc, free,
// calloc, realloc, posix_memalign, aligned_alloc, memalign and valloc and
// records every call (size, alignment, pointer in, result, dense thread
// number, global sequence number) as an AllocRecord.
// `weft alloc record` sets it up; it records the process it starts (after
// an exec, the new program, which starts the log afresh), and its
// children's programs only if asked (WEFT_ALLOC_CHILDREN=1), each in a log
// of its own: WEFT_ALLOC_PID names the process whose log is WEFT_ALLOC_OUT.
// That process commits each call, before it returns, to the shared ring
// named by WEFT_ALLOC_RING (replay/alloc/ring.h), which `weft alloc record`
// drains into the log, so a SIGKILL loses no completed call. Children's
// logs (and a root without a ring) are written from in here, through
// per-thread buffers and crash-safe zstd frames: a kill loses what is
// still buffered.
//
// Re-entrance: the recorder itself allocates (its buffers, the writer, the
// zstd context); a thread-local flag sends those calls straight to the
// real functions. dlsym may allocate while the real functions are being
// resolved; those calls are served from a static bootstrap arena.
// Ordering: a free takes its sequence number before the block is released
// and an allocation after it obtained one, so a block handed to another
// thread after its free always has a later number (the counter's
// modification order agrees with happens-before).
#include <dlfcn.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

#include "replay/alloc/recorder/clock.h"
#include "replay/alloc/ring.h"
#include "traces/alloc_records.h"
#include "traces/writer.h"

namespace {

using weft::traces::AllocCall;
using weft::traces::AllocRecord;

using MallocFn = void* (*)(std::size_t);
using FreeFn = void (*)(void*);
using CallocFn = void* (*)(std::size_t, std::size_t);
using ReallocFn = void* (*)(void*, std::size_t);
using PosixMemalignFn = int (*)(void**, std::size_t, std::size_t);
using AlignedFn = void* (*)(std::size_t, std::size_t);

struct Real {
  MallocFn malloc = nullptr;
  FreeFn free = nullptr;
  CallocFn calloc = nullptr;
  ReallocFn realloc = nullptr;
  PosixMemalignFn posix_memalign = nullptr;
  AlignedFn aligned_alloc = nullptr;
  AlignedFn memalign = nullptr;
  MallocFn valloc = nullptr;
};
Real real;

// 0: not resolved, 1: being resolved, 2: ready.
std::atomic<int> resolve_state{0};

// Allocations made while dlsym runs. Never freed; small.
alignas(64) char bootstrap[1 << 16];
std::atomic<std::size_t> bootstrap_used{0};

bool in_bootstrap(const void* p) {
  const auto* c = static_cast<const char*>(p);
  return c >= bootstrap && c < bootstrap + sizeof bootstrap;
}

void* bootstrap_alloc(std::size_t n, std::size_t align) {
  if (align < 16) align = 16;
  for (;;) {
    std::size_t used = bootstrap_used.load();
    const std::size_t start = (used + align - 1) & ~(align - 1);
    if (start + n > sizeof bootstrap) return nullptr;
    if (bootstrap_used.compare_exchange_weak(used, start + n))
      return bootstrap + start;
  }
}

__attribute__((tls_model("initial-exec"))) thread_local bool in_hook = false;
__attribute__((tls_model("initial-exec"))) thread_local bool resolving = false;

template <class F>
F lookup(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

void resolve() {
  int expected = 0;
  if (resolve_state.compare_exchange_strong(expected, 1)) {
    resolving = true;
    Real r;
    r.malloc = lookup<MallocFn>("malloc");
    r.free = lookup<FreeFn>("free");
    r.calloc = lookup<CallocFn>("calloc");
    r.realloc = lookup<ReallocFn>("realloc");
    r.posix_memalign = lookup<PosixMemalignFn>("posix_memalign");
    r.aligned_alloc = lookup<AlignedFn>("aligned_alloc");
    r.memalign = lookup<AlignedFn>("memalign");
    r.valloc = lookup<MallocFn>("valloc");
    real = r;
    resolving = false;
    resolve_state.store(2);
    return;
  }
  while (resolve_state.load() != 2) sched_yield();
}

// True if the call must be served from the bootstrap arena.
bool need_bootstrap() {
  if (resolve_state.load(std::memory_order_acquire) == 2) return false;
  if (resolving) return true;
  resolve();
  return false;
}

// --- recording ---------------------------------------------------------

constexpr std::size_t kBufferRecords = 1024;
constexpr std::size_t kMaxBuffers = 4096;

struct ThreadBuffer {
  std::atomic_flag busy = ATOMIC_FLAG_INIT;
  std::uint32_t thread = 0;
  std::size_t count = 0;
  std::uint64_t last_ns = 0;  // the thread's latest time written
  ThreadBuffer* next_free = nullptr;
  AllocRecord records[kBufferRecords];
};

std::atomic<bool> recording{false};
std::atomic<std::uint64_t> next_seq{0};
std::mutex writer_mu;  // guards writer, buffers, free_buffers, next_thread
weft::traces::TraceWriter* writer = nullptr;
weft::replay::TickClock tick_clock;  // started with the writer
ThreadBuffer* buffers[kMaxBuffers];
std::size_t buffer_count = 0;
ThreadBuffer* free_buffers = nullptr;
std::uint32_t next_thread = 0;
pthread_key_t exit_key;

__attribute__((
    tls_model("initial-exec"))) thread_local ThreadBuffer* my_buffer = nullptr;

void lock(ThreadBuffer* b) {
  while (b->busy.test_and_set(std::memory_order_acquire)) sched_yield();
}
void unlock(ThreadBuffer* b) { b->busy.clear(std::memory_order_release); }

// With writer_mu held and the buffer locked.
void drain_locked(ThreadBuffer* b) {
  if (writer != nullptr) {
    try {
      tick_clock.calibrate();
      for (std::size_t i = 0; i < b->count; ++i) {
        AllocRecord& r = b->records[i];
        r.time_ns = b->last_ns =
            std::max(b->last_ns, tick_clock.to_ns(r.time_ns));
        writer->append(r);
      }
    } catch (...) {
      // A full disk must not take the program down: stop recording.
      recording.store(false);
    }
  }
  b->count = 0;
}

// A buffer whose oldest record is this many sequence numbers behind is
// landed by the next thread that fills its own: a thread gone idle (a main
// thread waiting in join) must not hold records back until it exits, past
// what convert's reorder window can wait for.
constexpr std::uint64_t kStaleRecords = 1 << 14;

void drain(ThreadBuffer* b) {
  std::lock_guard g(writer_mu);
  drain_locked(b);
  const std::uint64_t now = next_seq.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < buffer_count; ++i) {
    ThreadBuffer* o = buffers[i];
    // Never wait for a buffer: its owner may be waiting for writer_mu.
    if (o == b || o->busy.test_and_set(std::memory_order_acquire)) continue;
    if (o->count > 0 && o->records[0].seq + kStaleRecords < now)
      drain_locked(o);
    unlock(o);
  }
}

// Called with in_hook set. nullptr if no buffer can be had.
ThreadBuffer* attach_buffer() {
  std::lock_guard g(writer_mu);
  ThreadBuffer* b = free_buffers;
  if (b != nullptr) {
    free_buffers = b->next_free;
  } else {
    if (buffer_count == kMaxBuffers) return nullptr;
    void* mem = real.malloc(sizeof(ThreadBuffer));
    if (mem == nullptr) return nullptr;
    b = new (mem) ThreadBuffer;
    buffers[buffer_count++] = b;
  }
  b->thread = next_thread++;
  b->count = 0;
  b->last_ns = 0;
  my_buffer = b;
  pthread_setspecific(exit_key, b);
  return b;
}

// A thread ends: land its records and hand its buffer to the next thread.
void on_thread_exit(void* p) {
  auto* b = static_cast<ThreadBuffer*>(p);
  const bool was = in_hook;
  in_hook = true;
  lock(b);
  {
    std::lock_guard g(writer_mu);
    drain_locked(b);
    b->next_free = free_buffers;
    free_buffers = b;
  }
  unlock(b);
  if (my_buffer == b) my_buffer = nullptr;
  in_hook = was;
}

// --- the shared ring (the root process under `weft alloc record`) -------

namespace ring = weft::replay::ring;
ring::Header* shared = nullptr;  // set once, before recording starts
ring::Entry* shared_entries = nullptr;
std::atomic<std::uint32_t> next_ring_thread{0};
__attribute__((tls_model(
    "initial-exec"))) thread_local std::uint32_t ring_thread = UINT32_MAX;
// The last `consumed` this thread read: most calls need not look again.
__attribute__((
    tls_model("initial-exec"))) thread_local std::uint64_t seen_consumed = 0;

// The entry of position `seq`, once the parent has read the entry a whole
// ring before it (a full ring blocks: nothing is dropped). The parent
// reads every millisecond: a thread that finds the ring full yields a few
// times, then sleeps rather than spin its core away from the parent.
ring::Entry& ring_entry(std::uint64_t seq) {
  if (seq >= seen_consumed + ring::kEntries) {
    for (int tries = 0;
         (seen_consumed = shared->consumed.load(std::memory_order_acquire)) +
             ring::kEntries <=
         seq;
         ++tries) {
      if (tries < 8) {
        sched_yield();
      } else {
        const timespec pause{0, 100000};
        nanosleep(&pause, nullptr);
      }
    }
  }
  return shared_entries[seq & (ring::kEntries - 1)];
}

void ring_record(AllocCall call, std::uint64_t seq, std::uint64_t size,
                 std::uint64_t align, const void* ptr, const void* result,
                 std::uint64_t release_delta) {
  if (ring_thread == UINT32_MAX)
    ring_thread = next_ring_thread.fetch_add(1, std::memory_order_relaxed);
  const std::uint64_t now = weft::replay::ticks();
  ring::Entry& e = ring_entry(seq);
  e.ticks = now;
  e.size = size;
  e.ptr = reinterpret_cast<std::uintptr_t>(ptr);
  e.result = reinterpret_cast<std::uintptr_t>(result);
  e.aux = call == AllocCall::kRealloc ? release_delta : align;
  e.thread = ring_thread;
  e.call = call;
  e.commit.store(seq + 1, std::memory_order_release);
}

// A realloc's first sequence number holds no call: say so at once, so the
// parent need not wait for it while the realloc copies.
void ring_filler(std::uint64_t seq) {
  if (shared != nullptr)
    ring_entry(seq).commit.store((seq + 1) | ring::kFiller,
                                 std::memory_order_release);
}

std::string read_cmdline();

// Maps the ring named by WEFT_ALLOC_RING and starts this image's part of
// it; false (and a message) if it cannot.
bool attach_ring(const char* fd_text) {
  char* end = nullptr;
  const long fd = std::strtol(fd_text, &end, 10);
  struct stat st {};
  void* p = MAP_FAILED;
  if (end != fd_text && *end == '\0' && fd >= 0 &&
      fstat(static_cast<int>(fd), &st) == 0 &&
      static_cast<std::size_t>(st.st_size) >= ring::kBytes)
    p = mmap(nullptr, ring::kBytes, PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_POPULATE, static_cast<int>(fd), 0);
  auto* h = static_cast<ring::Header*>(p);
  if (p == MAP_FAILED || h->magic != ring::kMagic ||
      h->entries != ring::kEntries) {
    if (p != MAP_FAILED) munmap(p, ring::kBytes);
    const char msg[] =
        "weft alloc: cannot record: WEFT_ALLOC_RING is not the ring of this "
        "weft alloc record\n";
    [[maybe_unused]] auto n = write(2, msg, sizeof msg - 1);
    return false;
  }
  {
    const std::string cmd = read_cmdline();
    const std::size_t n = std::min(cmd.size(), sizeof h->program - 1);
    std::memcpy(h->program, cmd.data(), n);
    h->program[n] = '\0';
  }
  h->image_start.store(h->next_seq.load(std::memory_order_relaxed),
                       std::memory_order_relaxed);
  h->image.fetch_add(1, std::memory_order_release);
  shared = h;
  shared_entries = ring::entries(h);
  return true;
}

// Called with in_hook set.
void record(AllocCall call, std::uint64_t seq, std::uint64_t size,
            std::uint64_t align, const void* ptr, const void* result,
            std::uint64_t release_delta = 0) {
  if (shared != nullptr)
    return ring_record(call, seq, size, align, ptr, result, release_delta);
  ThreadBuffer* b = my_buffer;
  if (b == nullptr && (b = attach_buffer()) == nullptr) return;
  lock(b);
  AllocRecord& r = b->records[b->count++];
  r.call = call;
  r.thread = b->thread;
  r.seq = seq;
  r.size = size;
  r.align = align;
  r.ptr = reinterpret_cast<std::uintptr_t>(ptr);
  r.result = reinterpret_cast<std::uintptr_t>(result);
  r.release_delta = release_delta;
  r.timed = true;
  r.time_ns = weft::replay::ticks();  // nanoseconds once drained
  if (b->count == kBufferRecords) drain(b);
  unlock(b);
}

std::uint64_t take_seq() {
  return (shared != nullptr ? shared->next_seq : next_seq)
      .fetch_add(1, std::memory_order_relaxed);
}

// Reserves a sequence number if this call is to be recorded.
bool begin(std::uint64_t& seq) {
  if (in_hook || !recording.load(std::memory_order_relaxed)) return false;
  in_hook = true;
  seq = take_seq();
  return true;
}
bool begin() {
  if (in_hook || !recording.load(std::memory_order_relaxed)) return false;
  in_hook = true;
  return true;
}

std::string read_cmdline() {
  std::string out;
  if (FILE* f = std::fopen("/proc/self/cmdline", "rb")) {
    char buf[4096];
    const std::size_t n = std::fread(buf, 1, sizeof buf, f);
    std::fclose(f);
    for (std::size_t i = 0; i < n; ++i) out.push_back(buf[i] ? buf[i] : ' ');
    while (!out.empty() && out.back() == ' ') out.pop_back();
  }
  return out;
}

// A forked child shares the log's file descriptor and a copy of the
// parent's unwritten records: it must write nothing, ever.
bool forked_child = false;
void stop_in_child() {
  recording.store(false);
  forked_child = true;
}

// Opens this process's own log (a child's, or a root without a ring) and
// the per-thread buffers' exit hook; false (and a message) if it cannot.
bool start_writer(bool root, const char* out) {
  pthread_key_create(&exit_key, on_thread_exit);
  // Everything allocated here is freed inside this function, while in_hook
  // still keeps it out of the log (the path's free used to be the first
  // record of every log: an unknown free for convert --strict).
  const std::string path =
      root ? std::string(out)
           : std::string(out) + "." + std::to_string(getpid());
  try {
    weft::traces::TraceHeader header;
    header.kind = weft::traces::TraceKind::kAllocLog;
    header.metadata = {{"form", "calls"},
                       {"program", read_cmdline()},
                       {"pid", std::to_string(getpid())},
                       {"recorder", "weft LD_PRELOAD"}};
    weft::traces::WriterOptions options;
    options.records_per_frame = 16384;
    tick_clock.start();
    writer = new weft::traces::TraceWriter(path, header, options);
    return true;
  } catch (const std::exception& e) {
    // Cannot write the log: run the program unrecorded, and say why.
    const std::string msg =
        std::string("weft alloc: cannot record: ") + e.what() + "\n";
    [[maybe_unused]] auto n = write(2, msg.data(), msg.size());
  } catch (...) {
    const char msg[] = "weft alloc: cannot record\n";
    [[maybe_unused]] auto n = write(2, msg, sizeof msg - 1);
  }
  return false;
}

__attribute__((constructor)) void start_recording() {
  if (need_bootstrap()) return;
  const char* out = std::getenv("WEFT_ALLOC_OUT");
  if (out == nullptr || *out == '\0') return;
  // Only the process `weft alloc record` started, through any execs (a
  // shell wrapper that execs the real program leaves the log of the
  // real one): its forked children inherit the preload but not the pid.
  const char* pid = std::getenv("WEFT_ALLOC_PID");
  const bool root = pid != nullptr && std::strtol(pid, nullptr, 10) == getpid();
  // With WEFT_ALLOC_CHILDREN=1 every program a descendant execs gets a log
  // of its own, named after its pid.
  const char* children = std::getenv("WEFT_ALLOC_CHILDREN");
  if (!root && (children == nullptr || std::strcmp(children, "1") != 0)) return;
  in_hook = true;
  pthread_atfork(nullptr, nullptr, stop_in_child);
  const char* ring_fd = std::getenv(ring::kEnv);
  recording.store(root && ring_fd != nullptr && *ring_fd != '\0'
                      ? attach_ring(ring_fd)
                      : start_writer(root, out));
  in_hook = false;
}
// The ring needs no flush: its calls are recorded to the end, the calls of
// later destructors included.
__attribute__((destructor)) void stop_recording() {
  if (writer == nullptr || forked_child) return;
  in_hook = true;
  recording.store(false);
  // Another thread may still be inside record(): lock its buffer first,
  // then the writer, the order record() takes them in.
  std::size_t n;
  {
    std::lock_guard g(writer_mu);
    n = buffer_count;
  }
  for (std::size_t i = 0; i < n; ++i) {
    lock(buffers[i]);
    drain(buffers[i]);
    unlock(buffers[i]);
  }
  std::lock_guard g(writer_mu);
  try {
    writer->close();
  } catch (...) {
  }
  // The writer is left allocated: late frees in other destructors must
  // not see it half-destroyed.
  writer = nullptr;
  in_hook = false;
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) void* malloc(std::size_t n) {
  if (need_bootstrap()) return bootstrap_alloc(n, 16);
  if (!begin()) return real.malloc(n);
  void* r = real.malloc(n);
  record(AllocCall::kMalloc, take_seq(), n, 0, nullptr, r);
  in_hook = false;
  return r;
}

__attribute__((visibility("default"))) void free(void* p) {
  if (p == nullptr || in_bootstrap(p)) return;
  if (need_bootstrap()) return;
  std::uint64_t seq = 0;
  if (!begin(seq)) return real.free(p);
  record(AllocCall::kFree, seq, 0, 0, p, nullptr);
  real.free(p);
  in_hook = false;
}

__attribute__((visibility("default"))) void* calloc(std::size_t m,
                                                    std::size_t n) {
  if (need_bootstrap()) {
    // The arena is static and never reused, so it is still zero.
    std::size_t total = 0;
    if (__builtin_mul_overflow(m, n, &total)) return nullptr;
    return bootstrap_alloc(total, 16);
  }
  if (!begin()) return real.calloc(m, n);
  void* r = real.calloc(m, n);
  std::size_t total = 0;
  if (__builtin_mul_overflow(m, n, &total)) total = SIZE_MAX;
  record(AllocCall::kCalloc, take_seq(), total, 0, nullptr, r);
  in_hook = false;
  return r;
}

__attribute__((visibility("default"))) void* realloc(void* p, std::size_t n) {
  if (need_bootstrap() || in_bootstrap(p)) {
    void* r = need_bootstrap() ? bootstrap_alloc(n, 16) : malloc(n);
    if (r != nullptr && p != nullptr) {
      const std::size_t room = static_cast<std::size_t>(
          bootstrap + sizeof bootstrap - static_cast<char*>(p));
      std::memcpy(r, p, n < room ? n : room);
    }
    return r;
  }
  // Two sequence numbers: the old block may go to another thread as soon
  // as the call starts, the new one is ours only once it returns.
  std::uint64_t before = 0;
  if (p == nullptr ? !begin() : !begin(before)) return real.realloc(p, n);
  if (p != nullptr) ring_filler(before);
  void* r = real.realloc(p, n);
  const std::uint64_t after = take_seq();
  record(AllocCall::kRealloc, after, n, 0, p, r,
         p != nullptr ? after - before : 0);
  in_hook = false;
  return r;
}

__attribute__((visibility("default"))) int posix_memalign(void** out,
                                                          std::size_t align,
                                                          std::size_t n) {
  if (need_bootstrap()) {
    *out = bootstrap_alloc(n, align);
    return *out != nullptr ? 0 : ENOMEM;
  }
  if (!begin()) return real.posix_memalign(out, align, n);
  const int rc = real.posix_memalign(out, align, n);
  record(AllocCall::kPosixMemalign, take_seq(), n, align, nullptr,
         rc == 0 ? *out : nullptr);
  in_hook = false;
  return rc;
}

__attribute__((visibility("default"))) void* aligned_alloc(std::size_t align,
                                                           std::size_t n) {
  if (need_bootstrap()) return bootstrap_alloc(n, align);
  if (!begin()) return real.aligned_alloc(align, n);
  void* r = real.aligned_alloc(align, n);
  record(AllocCall::kAlignedAlloc, take_seq(), n, align, nullptr, r);
  in_hook = false;
  return r;
}

__attribute__((visibility("default"))) void* memalign(std::size_t align,
                                                      std::size_t n) {
  if (need_bootstrap()) return bootstrap_alloc(n, align);
  if (!begin()) return real.memalign(align, n);
  void* r = real.memalign(align, n);
  record(AllocCall::kMemalign, take_seq(), n, align, nullptr, r);
  in_hook = false;
  return r;
}

__attribute__((visibility("default"))) void* valloc(std::size_t n) {
  if (need_bootstrap()) return bootstrap_alloc(n, 4096);
  if (!begin()) return real.valloc(n);
  void* r = real.valloc(n);
  record(AllocCall::kValloc, take_seq(), n, 4096, nullptr, r);
  in_hook = false;
  return r;
}

}  // extern "C"
