/* A thread and main each recurse about 1.5 MiB deep, as real threads may
 * (glibc gives a thread the soft RLIMIT_STACK, 8 MiB by default): under
 * weft run each strand gets as much, not weft's 256 KiB default. */
#include <pthread.h>
#include <stdio.h>

/* Every byte of the frame written (volatile) and two read after the call,
 * so no optimiser folds the frames away: clang kept only the bytes a
 * version with two constant indices touched. */
__attribute__((noinline)) static int depth(int n) {
  volatile char frame[1024];
  for (unsigned i = 0; i < sizeof frame; ++i) frame[i] = (char)(n + i);
  const int below = n == 0 ? 0 : depth(n - 1);
  return below + frame[n % 1024] + frame[1023];
}

static void* worker(void* arg) {
  (void)arg;
  printf("thread %d\n", depth(1500));
  return NULL;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  pthread_join(t, NULL);
  printf("main %d\n", depth(1500));
  return 0;
}
