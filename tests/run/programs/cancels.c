/* Bad input for weft run: an unsupported pthread feature (cancellation). */
#include <pthread.h>
#include <unistd.h>

static void* sleeper(void* arg) {
  (void)arg;
  sleep(10);
  return NULL;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, sleeper, NULL);
  pthread_cancel(t);
  pthread_join(t, NULL);
  return 0;
}
