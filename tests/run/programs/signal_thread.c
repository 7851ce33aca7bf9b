/* A server's way with signals: SIGINT and SIGTERM blocked in every thread
 * and taken by one thread in sigwait, while workers do the work and main
 * joins them and returns. No signal comes in a simulation, so the signal
 * thread waits for good, as a strand; the schedules pass (it hung every
 * one while sigwait blocked the OS thread the strands share). */
#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>

static sigset_t signals;
static int counter;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void* signal_thread(void* arg) {
  (void)arg;
  int sig = 0;
  sigwait(&signals, &sig);
  printf("signal %d\n", sig);
  return NULL;
}

static void* worker(void* arg) {
  (void)arg;
  pthread_mutex_lock(&lock);
  ++counter;
  pthread_mutex_unlock(&lock);
  return NULL;
}

int main(void) {
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, NULL);
  pthread_t s, a, b;
  pthread_create(&s, NULL, signal_thread, NULL);
  pthread_detach(s);
  pthread_create(&a, NULL, worker, NULL);
  pthread_create(&b, NULL, worker, NULL);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  assert(counter == 2);
  printf("served %d\n", counter);
  return 0;
}
