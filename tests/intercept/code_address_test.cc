#include "sim/intercept/code_address.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <regex>
#include <string>

namespace {

using ::testing::HasSubstr;
using weft::intercept::internal::describe_code_address;

int g_calls = 0;

// Static, so only the file's .symtab names it (-rdynamic exports only
// functions with external linkage).
[[gnu::noinline]] int twice(int x) {
  ++g_calls;
  return x * 2 + g_calls;
}

TEST(CodeAddress, NamesTheFunctionAndTheAddressWithinItsFile) {
  EXPECT_EQ(twice(1), 3);
  const auto* inside = reinterpret_cast<const char*>(&twice) + 1;
  const std::string d = describe_code_address(inside);
  EXPECT_THAT(d, HasSubstr("twice(int)+0x1 in "));
  // The address is the file's, not the process's: under the file's size
  // whatever the load address (so every run prints the same), and what
  // `addr2line -e FILE ADDRESS` takes.
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(d, m, std::regex(R"( in (\S+)\+0x([0-9a-f]+)$)")))
      << d;
  EXPECT_EQ(m[1].str(), "intercept_test");  // the name it was started by
  EXPECT_LT(std::stoull(m[2].str(), nullptr, 16),
            std::filesystem::file_size("/proc/self/exe"));
}

TEST(CodeAddress, IsTheSameStringForTheSameAddress) {
  const auto* inside = reinterpret_cast<const char*>(&twice) + 2;
  EXPECT_EQ(describe_code_address(inside), describe_code_address(inside));
  EXPECT_THAT(describe_code_address(inside), HasSubstr("twice(int)+0x2 in "));
}

TEST(CodeAddress, AnAddressInNoLoadedFileIsDescribedAsNothing) {
  const auto heap = std::make_unique<int>(1);
  EXPECT_STREQ(describe_code_address(heap.get()), "");
  EXPECT_STREQ(describe_code_address(nullptr), "");
}

}  // namespace
