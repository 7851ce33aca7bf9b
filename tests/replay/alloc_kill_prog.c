/* A multi-threaded program for the recorder's kill test: it runs until it
 * is killed, and says how far it got where a SIGKILL cannot take it back.
 * argv[1] is a file of 4096 bytes it maps shared: word 0 gets its pid once
 * every thread runs, and word 8 * (i + 1) the number of allocator calls
 * thread i has completed (stored after each call returns). Thread i makes,
 * for k = 0, 1, ...: p = malloc(first_size(i, k)); p = realloc(p,
 * second_size(i, k)); free(p), and no other allocator call, so its part of
 * the log is known from its count. argv[2] is the number of threads (4,
 * at most 8). With `--self N` it makes N malloc and free pairs in one
 * thread instead and then SIGKILLs itself. */
#include "alloc_kill_prog.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static _Atomic uint64_t* words;
static atomic_int running;

static void* work(void* arg) {
  const unsigned i = (unsigned)(uintptr_t)arg;
  _Atomic uint64_t* done = &words[8 * (i + 1)];
  atomic_fetch_add(&running, 1);
  for (uint64_t k = 0;; ++k) {
    /* volatile: a compiler may drop an allocation nothing reads. */
    void* volatile p = malloc(kill_prog_first_size(i, k));
    atomic_store_explicit(done, 3 * k + 1, memory_order_relaxed);
    p = realloc(p, kill_prog_second_size(i, k));
    atomic_store_explicit(done, 3 * k + 2, memory_order_relaxed);
    free(p);
    atomic_store_explicit(done, 3 * k + 3, memory_order_relaxed);
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  if (strcmp(argv[1], "--self") == 0 && argc == 3) {
    const long n = atol(argv[2]);
    for (long k = 0; k < n; ++k) {
      void* volatile p = malloc(kill_prog_first_size(0, (uint64_t)k));
      free(p);
    }
    kill(getpid(), SIGKILL);
  }
  const int fd = open(argv[1], O_RDWR);
  if (fd < 0) return 2;
  words = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (words == MAP_FAILED) return 2;
  int threads = argc > 2 ? atoi(argv[2]) : 4;
  if (threads < 1 || threads > 8) return 2;
  pthread_t t[8];
  for (int i = 0; i < threads; ++i)
    if (pthread_create(&t[i], NULL, work, (void*)(uintptr_t)i) != 0) return 2;
  while (atomic_load(&running) < threads) sched_yield();
  atomic_store(&words[0], (uint64_t)getpid());
  for (int i = 0; i < threads; ++i) pthread_join(t[i], NULL);
  return 0;
}
