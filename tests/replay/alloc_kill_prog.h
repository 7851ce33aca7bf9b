/* The sizes alloc_kill_prog.c's thread `i` asks for in its `k`th round,
 * shared with the test that checks its log (alloc_kill_test.cc). */
#pragma once

#include <stdint.h>

static inline uint64_t kill_prog_first_size(unsigned i, uint64_t k) {
  return 3000u + 100u * i + k % 50u;
}
static inline uint64_t kill_prog_second_size(unsigned i, uint64_t k) {
  return 5000u + 100u * i + k % 70u;
}
