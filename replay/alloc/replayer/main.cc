// weft-alloc-replayer: the child `weft alloc replay` runs, one per
// allocator, with the allocator preloaded. Built without sanitizers so any
// allocator can be preloaded into it, in every build.
#include "replay/alloc/replay.h"

int main(int argc, char** argv) {
  return weft::replay::replayer_main(argc, argv);
}
