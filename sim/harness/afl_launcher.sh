#!/bin/sh
# Compiles or links one target with AFL++'s afl-clang-fast++ in a build
# whose compiler is clang++: set as the target's CXX_COMPILER_LAUNCHER and
# CXX_LINKER_LAUNCHER to "sh afl_launcher.sh /usr/bin/afl-clang-fast++".
# CMake appends the real compiler and its arguments; afl-clang-fast++
# wraps that same compiler (AFL_CXX) and replaces -fsanitize=fuzzer's
# libFuzzer with AFL++'s driver, so a WEFT_FUZZ_TARGET runs under afl-fuzz.
afl=$1
real=$2
shift 2
AFL_CXX=$real AFL_QUIET=1 exec "$afl" "$@"
