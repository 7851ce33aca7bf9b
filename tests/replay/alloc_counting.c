/* An allocator that counts, for the replayer's tests: glibc's malloc, plus
 * a count of each kind of call whose size marks it as the log's (777000 to
 * 777999 bytes, or 512 MiB and more) and of the frees of the blocks those
 * calls returned. The replayer's own allocations do not use such sizes, so
 * the counts are exactly the calls the replay made for the log. At exit it
 * writes them to $WEFT_ALLOC_COUNTS, one "name count" line each; "live" is
 * how many marked blocks were never freed. */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

extern void* __libc_malloc(size_t);
extern void __libc_free(void*);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);
extern void* __libc_memalign(size_t, size_t);

enum {
  kMalloc,
  kFree,
  kCalloc,
  kRealloc,
  kPosixMemalign,
  kAlignedAlloc,
  kMemalign,
  kValloc,
  kKinds
};
static const char* const names[kKinds] = {
    "malloc",         "free",          "calloc",   "realloc",
    "posix_memalign", "aligned_alloc", "memalign", "valloc"};
static long counts[kKinds];

/* The marked blocks still live, by address. */
enum { kTable = 4096 };
static void* live[kTable];
static atomic_flag lock = ATOMIC_FLAG_INIT;

static int marked(size_t n) {
  return (n >= 777000 && n < 778000) || n >= ((size_t)512 << 20);
}
static void take(void) {
  while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire)) {
  }
}
static void give(void) {
  atomic_flag_clear_explicit(&lock, memory_order_release);
}

static void* note(int kind, void* p) {
  if (p == NULL) return p;
  take();
  ++counts[kind];
  for (int i = 0; i < kTable; ++i)
    if (live[i] == NULL) {
      live[i] = p;
      break;
    }
  give();
  return p;
}
/* Forgets a marked block; 1 if p was one. */
static int forget(void* p) {
  int found = 0;
  if (p == NULL) return 0;
  take();
  for (int i = 0; i < kTable; ++i)
    if (live[i] == p) {
      live[i] = NULL;
      found = 1;
      break;
    }
  give();
  return found;
}

void* malloc(size_t n) {
  void* p = __libc_malloc(n);
  return marked(n) ? note(kMalloc, p) : p;
}
void free(void* p) {
  if (forget(p)) {
    take();
    ++counts[kFree];
    give();
  }
  __libc_free(p);
}
void* calloc(size_t m, size_t n) {
  void* p = __libc_calloc(m, n);
  return marked(m * n) ? note(kCalloc, p) : p;
}
void* realloc(void* old, size_t n) {
  const int was = forget(old);
  void* p = __libc_realloc(old, n);
  if (p == NULL && n != 0 && was) {
    take(); /* failed: the old block is still live */
    for (int i = 0; i < kTable; ++i)
      if (live[i] == NULL) {
        live[i] = old;
        break;
      }
    give();
  }
  return marked(n) ? note(kRealloc, p) : p;
}
int posix_memalign(void** out, size_t align, size_t n) {
  void* p = __libc_memalign(align, n);
  if (p == NULL) return 12; /* ENOMEM */
  *out = marked(n) ? note(kPosixMemalign, p) : p;
  return 0;
}
void* aligned_alloc(size_t align, size_t n) {
  void* p = __libc_memalign(align, n);
  return marked(n) ? note(kAlignedAlloc, p) : p;
}
void* memalign(size_t align, size_t n) {
  void* p = __libc_memalign(align, n);
  return marked(n) ? note(kMemalign, p) : p;
}
void* valloc(size_t n) {
  void* p = __libc_memalign(4096, n);
  return marked(n) ? note(kValloc, p) : p;
}

__attribute__((destructor)) static void report(void) {
  const char* path = getenv("WEFT_ALLOC_COUNTS");
  if (path == NULL) return;
  FILE* f = fopen(path, "w");
  if (f == NULL) return;
  long still = 0;
  for (int i = 0; i < kTable; ++i) still += live[i] != NULL;
  for (int k = 0; k < kKinds; ++k) fprintf(f, "%s %ld\n", names[k], counts[k]);
  fprintf(f, "live %ld\n", still);
  fclose(f);
}
