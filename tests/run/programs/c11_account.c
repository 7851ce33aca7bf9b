/* C11 <threads.h>: two depositors each read the balance and write it back
 * in two critical sections of one mtx_t (the lost update of SCTBench CS's
 * "account"); an auditor waits on a cnd_t until both have reported, and
 * every thread's result comes back through thrd_join. call_once and a
 * tss_t are used on the way. -DFIXED: one critical section. glibc's C11
 * functions call its pthread functions by internal names: weft run
 * interposes them itself, or these threads would run as real ones. */
#include <assert.h>
#include <stdio.h>
#include <threads.h>

static mtx_t lock;
static cnd_t reported;
static once_flag once = ONCE_FLAG_INIT;
static tss_t slot;
static int balance, reports, inits;

static void init(void) { ++inits; }

static int depositor(void* arg) {
  int amount = *(int*)arg;
  call_once(&once, init);
  tss_set(slot, arg);
  assert(tss_get(slot) == arg);
#ifdef FIXED
  mtx_lock(&lock);
  balance = balance + amount;
  mtx_unlock(&lock);
#else
  mtx_lock(&lock);
  int seen = balance;
  mtx_unlock(&lock);
  mtx_lock(&lock);
  balance = seen + amount;
  mtx_unlock(&lock);
#endif
  mtx_lock(&lock);
  ++reports;
  cnd_signal(&reported);
  mtx_unlock(&lock);
  return amount;
}

static int auditor(void* arg) {
  (void)arg;
  mtx_lock(&lock);
  while (reports < 2) cnd_wait(&reported, &lock);
  int seen = balance;
  mtx_unlock(&lock);
  assert(seen == 30 && "a deposit was lost");
  return seen;
}

int main(void) {
  int ten = 10, twenty = 20;
  mtx_init(&lock, mtx_plain);
  cnd_init(&reported);
  tss_create(&slot, NULL);
  thrd_t a, b, c;
  thrd_create(&c, auditor, NULL);
  thrd_create(&a, depositor, &ten);
  thrd_create(&b, depositor, &twenty);
  int ra = 0, rb = 0, rc = 0;
  thrd_join(a, &ra);
  thrd_join(b, &rb);
  thrd_join(c, &rc);
  assert(ra == 10 && rb == 20 && rc == 30 && inits == 1);
  printf("balance %d\n", balance);
  return 0;
}
