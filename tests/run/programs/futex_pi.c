/* Bad input for weft run: a thread that takes a priority-inheritance
   futex lock, a futex operation weft does not simulate. */
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

static int word;

static void* locker(void* arg) {
  (void)arg;
  syscall(SYS_futex, &word, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0);
  return NULL;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, locker, NULL);
  pthread_join(t, NULL);
  return 0;
}
