/* Preloaded with glibc's libc_malloc_debug.so and MALLOC_TRACE set, turns
 * mtrace on at start-up, so any program's calls are traced without
 * changing it. */
#include <mcheck.h>

__attribute__((constructor)) static void start_mtrace(void) { mtrace(); }
