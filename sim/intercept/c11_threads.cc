// C11's <threads.h>, interposed. glibc (2.34 and later) makes thrd_create,
// mtx_lock, cnd_wait and the rest call its pthread functions by internal
// names that no interposer sees: a C11 program under weft run started real
// threads behind the simulation and had no choice points. Here each is the
// pthread function it stands for, called by its public name, so on a
// strand it is the simulated one and elsewhere libc's; the types are
// glibc's pthread types under other names, and errors map as glibc's do.
// (thrd_equal is left to libc: it compares the handles, and <threads.h>
// defines it inline when optimising, so a definition here clashes.)
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <threads.h>
#include <time.h>

#include <cstdint>

namespace {

int thrd_result(int error) {
  switch (error) {
    case 0:
      return thrd_success;
    case EBUSY:
      return thrd_busy;
    case ETIMEDOUT:
      return thrd_timedout;
    case ENOMEM:
      return thrd_nomem;
    default:
      return thrd_error;
  }
}

pthread_mutex_t* mutex(mtx_t* m) {
  return reinterpret_cast<pthread_mutex_t*>(m);
}
pthread_cond_t* cond(cnd_t* c) { return reinterpret_cast<pthread_cond_t*>(c); }

// A C11 thread returns an int, a pthread a pointer: the start routine
// carries one in the other.
struct C11Start {
  thrd_start_t fn;
  void* arg;
};

void* c11_start(void* p) {
  const C11Start start = *static_cast<C11Start*>(p);
  delete static_cast<C11Start*>(p);
  return reinterpret_cast<void*>(
      static_cast<std::intptr_t>(start.fn(start.arg)));
}

}  // namespace

extern "C" {

int thrd_create(thrd_t* thr, thrd_start_t fn, void* arg) {
  auto* start = new C11Start{fn, arg};
  pthread_t t{};
  const int error = pthread_create(&t, nullptr, c11_start, start);
  if (error != 0) {
    delete start;
    return thrd_result(error);
  }
  *thr = t;
  return thrd_success;
}

int thrd_join(thrd_t thr, int* res) {
  void* result = nullptr;
  if (pthread_join(thr, &result) != 0) return thrd_error;
  if (res != nullptr)
    *res = static_cast<int>(reinterpret_cast<std::intptr_t>(result));
  return thrd_success;
}

int thrd_detach(thrd_t thr) {
  return pthread_detach(thr) == 0 ? thrd_success : thrd_error;
}

void thrd_exit(int res) {
  pthread_exit(reinterpret_cast<void*>(static_cast<std::intptr_t>(res)));
}

thrd_t thrd_current() { return pthread_self(); }

void thrd_yield() { sched_yield(); }

int thrd_sleep(const timespec* duration, timespec* remaining) {
  if (nanosleep(duration, remaining) == 0) return 0;
  return errno == EINTR ? -1 : -2;
}

int mtx_init(mtx_t* m, int type) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  switch (type) {
    case mtx_plain:
    case mtx_timed:
      break;
    case mtx_plain | mtx_recursive:
    case mtx_timed | mtx_recursive:
      pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
      break;
    default:
      pthread_mutexattr_destroy(&attr);
      return thrd_error;
  }
  const int error = pthread_mutex_init(mutex(m), &attr);
  pthread_mutexattr_destroy(&attr);
  return thrd_result(error);
}

int mtx_lock(mtx_t* m) { return thrd_result(pthread_mutex_lock(mutex(m))); }

int mtx_trylock(mtx_t* m) {
  return thrd_result(pthread_mutex_trylock(mutex(m)));
}

int mtx_timedlock(mtx_t* __restrict m, const timespec* __restrict abs) {
  return thrd_result(pthread_mutex_timedlock(mutex(m), abs));
}

int mtx_unlock(mtx_t* m) { return thrd_result(pthread_mutex_unlock(mutex(m))); }

void mtx_destroy(mtx_t* m) { pthread_mutex_destroy(mutex(m)); }

void call_once(once_flag* flag, void (*fn)()) {
  pthread_once(reinterpret_cast<pthread_once_t*>(flag), fn);
}

int cnd_init(cnd_t* c) {
  return thrd_result(pthread_cond_init(cond(c), nullptr));
}

int cnd_signal(cnd_t* c) { return thrd_result(pthread_cond_signal(cond(c))); }

int cnd_broadcast(cnd_t* c) {
  return thrd_result(pthread_cond_broadcast(cond(c)));
}

int cnd_wait(cnd_t* c, mtx_t* m) {
  return thrd_result(pthread_cond_wait(cond(c), mutex(m)));
}

int cnd_timedwait(cnd_t* __restrict c, mtx_t* __restrict m,
                  const timespec* __restrict abs) {
  return thrd_result(pthread_cond_timedwait(cond(c), mutex(m), abs));
}

void cnd_destroy(cnd_t* c) { pthread_cond_destroy(cond(c)); }

int tss_create(tss_t* key, tss_dtor_t destructor) {
  return thrd_result(
      pthread_key_create(reinterpret_cast<pthread_key_t*>(key), destructor));
}

void* tss_get(tss_t key) { return pthread_getspecific(key); }

int tss_set(tss_t key, void* value) {
  return thrd_result(pthread_setspecific(key, value));
}

void tss_delete(tss_t key) { pthread_key_delete(key); }

}  // extern "C"
