/* Bad input for weft run: a thread that forks. */
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

static void* child(void* arg) {
  (void)arg;
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, NULL, 0);
  return NULL;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, child, NULL);
  pthread_join(t, NULL);
  return 0;
}
