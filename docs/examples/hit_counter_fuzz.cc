// docs/guide.md, "Running the fuzzer": hit_counter.h's test body as a
// libFuzzer target (clang -fsanitize=fuzzer) and, built with
// afl-clang-fast++, an AFL++ one. The whole file is the one line below.
#include "docs/examples/hit_counter.h"
#include "sim/harness/fuzz.h"

WEFT_FUZZ_TARGET(count_hits)
