/* The main thread reads a pointer the worker initialises, assuming the
 * worker ran first (an order violation). -DFIXED: it waits for it. */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t set = PTHREAD_COND_INITIALIZER;
static int* config;

static void* init_config(void* arg) {
  (void)arg;
  int* c = malloc(sizeof *c);
  *c = 42;
  pthread_mutex_lock(&m);
  config = c;
  pthread_cond_signal(&set);
  pthread_mutex_unlock(&m);
  return NULL;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, init_config, NULL);
  pthread_mutex_lock(&m);
#ifdef FIXED
  while (config == NULL) pthread_cond_wait(&set, &m);
#endif
  int* c = config;
  pthread_mutex_unlock(&m);
  assert(c != NULL && "config used before it was set");
  printf("config = %d\n", *c);
  pthread_join(t, NULL);
  free(config);
  return 0;
}
