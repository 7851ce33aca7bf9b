/* Thread-specific data: each thread keeps its own value of one key (made
 * with pthread_once) across a yield and a lock, and its destructor runs
 * when the thread ends. Under weft run all threads are strands of one OS
 * thread: this passes only if weft keeps the values per strand. */
#include <assert.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t key;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int destroyed = 0;
static int ids[2] = {1, 2};

static void destroy(void* value) {
  (void)value;
  pthread_mutex_lock(&lock);
  ++destroyed;
  pthread_mutex_unlock(&lock);
}

static void make_key(void) { pthread_key_create(&key, destroy); }

static void* worker(void* arg) {
  pthread_once(&once, make_key);
  pthread_setspecific(key, arg);
  sched_yield();
  pthread_mutex_lock(&lock);
  pthread_mutex_unlock(&lock);
  assert(pthread_getspecific(key) == arg && "another thread's value");
  return NULL;
}

int main(void) {
  pthread_t a, b;
  pthread_create(&a, NULL, worker, &ids[0]);
  pthread_create(&b, NULL, worker, &ids[1]);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  assert(destroyed == 2 && "a destructor did not run");
  printf("both threads kept their own values\n");
  return 0;
}
