/* The producer sets the flag and signals without holding the mutex, so
 * the signal can fall between the consumer's check and its wait (a lost
 * wake-up: the consumer sleeps forever). -DFIXED: under the mutex. */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cv = PTHREAD_COND_INITIALIZER;
static volatile int ready;

static void* producer(void* arg) {
  (void)arg;
#ifdef FIXED
  pthread_mutex_lock(&m);
  ready = 1;
  pthread_cond_signal(&ready_cv);
  pthread_mutex_unlock(&m);
#else
  ready = 1;
  pthread_cond_signal(&ready_cv);
#endif
  return NULL;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, producer, NULL);
  pthread_mutex_lock(&m);
  int seen = ready;
  pthread_mutex_unlock(&m);
  if (!seen) {
    pthread_mutex_lock(&m);
#ifdef FIXED
    while (!ready) pthread_cond_wait(&ready_cv, &m);
#else
    pthread_cond_wait(&ready_cv, &m); /* re-checks nothing */
#endif
    pthread_mutex_unlock(&m);
  }
  pthread_join(t, NULL);
  printf("consumed\n");
  return 0;
}
