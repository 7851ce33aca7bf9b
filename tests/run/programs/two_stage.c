/* SCTBench's twostage: the writer updates two values in two critical
 * sections; a reader that takes them in two sections sees a half-done
 * update. -DFIXED: one critical section for both stages. */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t m1 = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t m2 = PTHREAD_MUTEX_INITIALIZER;
static int data1, data2;

static void* writer(void* arg) {
  (void)arg;
  pthread_mutex_lock(&m1);
  data1 = 1;
#ifndef FIXED
  pthread_mutex_unlock(&m1);
#endif
  pthread_mutex_lock(&m2);
  data2 = data1 + 1;
  pthread_mutex_unlock(&m2);
#ifdef FIXED
  pthread_mutex_unlock(&m1);
#endif
  return NULL;
}

static void* reader(void* arg) {
  (void)arg;
  pthread_mutex_lock(&m1);
  int t1 = data1;
  pthread_mutex_lock(&m2);
  int t2 = data2;
  pthread_mutex_unlock(&m2);
  pthread_mutex_unlock(&m1);
  assert((t1 == 0 || t2 == t1 + 1) && "second stage not done");
  return NULL;
}

int main(void) {
  pthread_t w, r;
  pthread_create(&w, NULL, writer, NULL);
  pthread_create(&r, NULL, reader, NULL);
  pthread_join(w, NULL);
  pthread_join(r, NULL);
  printf("data = %d %d\n", data1, data2);
  return 0;
}
