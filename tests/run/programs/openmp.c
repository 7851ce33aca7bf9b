/* An OpenMP loop. GCC's runtime (libgomp) waits in system calls of its own,
 * which weft run cannot see: it refuses the program (status 2) instead of
 * reporting every schedule as hung. */
#include <omp.h>
#include <stdio.h>

int main(void) {
  int sum = 0;
#pragma omp parallel for reduction(+ : sum) num_threads(2)
  for (int i = 0; i < 100; ++i) sum += i;
  printf("%d on up to %d threads\n", sum, omp_get_max_threads());
  return 0;
}
