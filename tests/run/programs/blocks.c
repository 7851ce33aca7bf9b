/* A thread blocked in a call weft does not control: a read of a pipe no
 * one writes. weft run's watchdog reports it with the thread's name. */
#include <pthread.h>
#include <unistd.h>

static int fds[2];

static void* reader(void* arg) {
  char c;
  (void)arg;
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&m); /* the last call weft sees */
  pthread_mutex_unlock(&m);
  return read(fds[0], &c, 1) == 1 ? NULL : arg;
}

int main(void) {
  pthread_t t;
  if (pipe(fds) != 0) return 3;
  pthread_create(&t, NULL, reader, NULL);
  pthread_join(t, NULL);
  return 0;
}
