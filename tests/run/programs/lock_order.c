/* Two threads take two mutexes in opposite orders (a lock-order
 * deadlock). -DFIXED: both take them in the same order. */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;
static int transfers;

static void* forward(void* arg) {
  (void)arg;
  pthread_mutex_lock(&a);
  pthread_mutex_lock(&b);
  ++transfers;
  pthread_mutex_unlock(&b);
  pthread_mutex_unlock(&a);
  return NULL;
}

static void* backward(void* arg) {
  (void)arg;
#ifdef FIXED
  pthread_mutex_lock(&a);
  pthread_mutex_lock(&b);
#else
  pthread_mutex_lock(&b);
  pthread_mutex_lock(&a);
#endif
  ++transfers;
  pthread_mutex_unlock(&a);
  pthread_mutex_unlock(&b);
  return NULL;
}

int main(void) {
  pthread_t t1, t2;
  pthread_create(&t1, NULL, forward, NULL);
  pthread_create(&t2, NULL, backward, NULL);
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  printf("transfers = %d\n", transfers);
  return 0;
}
