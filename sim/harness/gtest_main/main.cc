// The main of every weft test binary: GoogleTest plus weft's handling of
// GoogleTest's sharding variables (see sim/harness/gtest.h).
#include <gtest/gtest.h>

#include "sim/harness/gtest.h"

int main(int argc, char** argv) {
  weft::testing::take_over_sharding();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
