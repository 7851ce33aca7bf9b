/* pthread_tryjoin_np, pthread_timedjoin_np and pthread_clockjoin_np in
 * virtual time: a worker that sleeps two seconds is not there to join
 * after one (EBUSY, then ETIMEDOUT at the deadline), and is at five, with
 * its result. glibc's versions would read through weft's thread handles. */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int result = 42;

static void* worker(void* arg) {
  (void)arg;
  sleep(2);
  return &result;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  void* got = NULL;
  assert(pthread_tryjoin_np(t, &got) == EBUSY);
  struct timespec start, deadline, now;
  clock_gettime(CLOCK_REALTIME, &start);
  deadline = start;
  deadline.tv_sec += 1;
  assert(pthread_timedjoin_np(t, &got, &deadline) == ETIMEDOUT);
  clock_gettime(CLOCK_REALTIME, &now);
  assert(now.tv_sec == start.tv_sec + 1 && "timed out at its deadline");
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += 5;
  assert(pthread_clockjoin_np(t, &got, CLOCK_MONOTONIC, &deadline) == 0);
  assert(got == &result);
  clock_gettime(CLOCK_REALTIME, &now);
  assert(now.tv_sec == start.tv_sec + 2 && "joined when the worker ended");
  char name[32];
  assert(pthread_getname_np(pthread_self(), name, sizeof name) == 0);
  printf("joined %d\n", *(int*)got);
  return 0;
}
