/* A thread and main each recurse about 1.5 MiB deep, as real threads may
 * (glibc gives a thread the soft RLIMIT_STACK, 8 MiB by default): under
 * weft run each strand gets as much, not weft's 256 KiB default. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static int depth(int n) {
  char frame[1024];
  memset(frame, n, sizeof frame);
  return n == 0 ? frame[3] : depth(n - 1) + frame[5];
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
