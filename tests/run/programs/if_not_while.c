/* Two consumers wait for items with `if` around the wait, not `while`:
 * woken (or woken spuriously) when the other consumer took the item, one
 * takes from an empty queue. -DFIXED: `while`. */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t nonempty = PTHREAD_COND_INITIALIZER;
static int items;

static void* consumer(void* arg) {
  (void)arg;
  pthread_mutex_lock(&m);
#ifdef FIXED
  while (items == 0) pthread_cond_wait(&nonempty, &m);
#else
  if (items == 0) pthread_cond_wait(&nonempty, &m);
#endif
  assert(items > 0 && "took from an empty queue");
  --items;
  pthread_mutex_unlock(&m);
  return NULL;
}

int main(void) {
  pthread_t c1, c2;
  pthread_create(&c1, NULL, consumer, NULL);
  pthread_create(&c2, NULL, consumer, NULL);
  for (int i = 0; i < 2; ++i) {
    pthread_mutex_lock(&m);
    ++items;
    pthread_cond_broadcast(&nonempty);
    pthread_mutex_unlock(&m);
  }
  pthread_join(c1, NULL);
  pthread_join(c2, NULL);
  printf("items left = %d\n", items);
  return 0;
}
