/* main starts a worker and ends with pthread_exit, leaving the worker to
 * finish: the process lives on until the worker ends. Both add to `total`
 * by load-then-store, so one addition can be lost, and the worker, the
 * last thread, checks the total after main has gone. -DFIXED: the
 * additions under a mutex. */
#include <assert.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static int total;
static volatile int main_gone;

static void add(void) {
#ifdef FIXED
  pthread_mutex_lock(&m);
#endif
  int seen = total;
  sched_yield();
  total = seen + 1;
#ifdef FIXED
  pthread_mutex_unlock(&m);
#endif
}

static void* worker(void* arg) {
  (void)arg;
  add();
  while (!main_gone) usleep(100);
  assert(total == 2);
  return NULL;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  add();
  main_gone = 1;
  pthread_exit(NULL);
}
