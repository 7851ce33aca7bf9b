/* Deliberately broken allocators for the replayer's tests, one per
 * BROKEN_* definition. Each is glibc's malloc except for one kind of
 * request, which it gets wrong in one way; the bad blocks come from a
 * static arena and their frees are ignored, so glibc's heap stays intact
 * and the replayer lives to report. Requests that trigger the defect:
 * malloc(1000) (overlap, reuse), an alignment of 64 or more (misaligned),
 * calloc (non-zero). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

extern void* __libc_malloc(size_t);
extern void __libc_free(void*);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);
extern void* __libc_memalign(size_t, size_t);

static _Alignas(4096) unsigned char arena[1 << 22];
static __attribute__((unused)) size_t handed;

static int in_arena(const void* p) {
  return (const unsigned char*)p >= arena &&
         (const unsigned char*)p < arena + sizeof arena;
}

static __attribute__((unused)) void* from_arena(size_t offset, size_t n) {
  if (offset + n > sizeof arena) return NULL;
  return arena + offset;
}

void* malloc(size_t n) {
#if defined(BROKEN_OVERLAP)
  /* Blocks of 1000 bytes every 960: each overlaps the next by 40. */
  if (n == 1000) return from_arena(handed++ * 960, n);
#elif defined(BROKEN_REUSE)
  /* Every block is handed out twice while the first is still live. */
  if (n == 1000) return from_arena(handed++ / 2 * 1024, n);
#endif
  return __libc_malloc(n);
}

void free(void* p) {
  if (in_arena(p)) return;
  __libc_free(p);
}

void* calloc(size_t m, size_t n) {
#if defined(BROKEN_CALLOC)
  size_t total;
  if (__builtin_mul_overflow(m, n, &total)) return NULL;
  void* p = __libc_malloc(total);
  /* Recycled memory, not cleared. */
  if (p != NULL && total >= 64) memset(p, 0xab, total);
  return p;
#else
  return __libc_calloc(m, n);
#endif
}

void* realloc(void* p, size_t n) {
  if (in_arena(p)) {
    void* q = __libc_malloc(n);
    if (q != NULL) memcpy(q, p, n < 1000 ? n : 1000);
    return q;
  }
  return __libc_realloc(p, n);
}

static void* aligned(size_t align, size_t n) {
#if defined(BROKEN_MISALIGNED)
  /* 16 bytes past an alignment boundary: aligned to 16, not to align. */
  if (align >= 64) {
    size_t stride = (n + align + 4095) & ~(size_t)4095;
    return from_arena(handed++ * stride + 16, n);
  }
#endif
  return __libc_memalign(align, n);
}

void* memalign(size_t align, size_t n) { return aligned(align, n); }
void* aligned_alloc(size_t align, size_t n) { return aligned(align, n); }
int posix_memalign(void** out, size_t align, size_t n) {
  void* p = aligned(align, n);
  if (p == NULL) return 12; /* ENOMEM */
  *out = p;
  return 0;
}
void* valloc(size_t n) { return aligned(4096, n); }
