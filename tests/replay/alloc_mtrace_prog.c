/* Calls mtrace() itself (as glibc's MALLOC_TRACE requires) and then every
 * kind of allocator call, including a failed realloc, so the importer's
 * test sees each line form glibc writes and the recorder's test each
 * function it wraps. */
#include <malloc.h>
#include <mcheck.h>
#include <stdint.h>
#include <stdlib.h>

int main(void) {
  mtrace();
  void* keep[64];
  for (int i = 0; i < 64; ++i) keep[i] = malloc((size_t)(16 + i * 8));
  void* c = calloc(10, 100);
  void* r = realloc(NULL, 50);
  r = realloc(r, 5000);
  void* m = memalign(64, 300);
  void* p = NULL;
  if (posix_memalign(&p, 256, 100) != 0) return 1;
  void* a = aligned_alloc(64, 128);
  void* v = valloc(100);
  void* failed = realloc(keep[0], SIZE_MAX / 2); /* fails: keep[0] stays */
  if (failed != NULL) return 1;
  free(c);
  free(r);
  free(m);
  free(p);
  free(a);
  free(v);
  for (int i = 0; i < 64; i += 2) free(keep[i]);
  muntrace();
  return 0;
}
