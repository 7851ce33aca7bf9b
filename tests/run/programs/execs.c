/* Bad input for weft run: a program that execs another. */
#include <unistd.h>

int main(void) {
  char* argv[] = {"true", NULL};
  execv("/bin/true", argv);
  return 1;
}
