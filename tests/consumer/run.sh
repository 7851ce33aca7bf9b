#!/usr/bin/env bash
# Builds and tests the consumer project (tests/consumer) against weft one
# way: `prefix` installs BUILD into a temporary prefix and uses
# find_package (and builds one program with pkg-config; an unknown
# component and an incompatible version are refused, with a message); `deb` makes the .deb with cpack, installs it with dpkg,
# builds against /usr and removes the package again; `subdir` adds the
# source tree as a subdirectory. Usage: run.sh prefix|deb|subdir BUILD
set -euo pipefail
route=${1:-}
build=${2:-}
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "$route" ] || [ -z "$build" ]; then
  echo "usage: $0 prefix|deb|subdir WEFT_BUILD_DIR" >&2
  exit 2
fi
build=$(cd "$build" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
configure=(cmake -S "$src/tests/consumer" -B "$work/consumer" -G Ninja
           -DCMAKE_BUILD_TYPE=RelWithDebInfo)
# refused ARGS PATTERN: find_package(weft CONFIG REQUIRED ARGS) against the
# prefix fails configuring, with a message matching PATTERN.
refused() {
  local dir="$work/refused-$RANDOM" out
  mkdir -p "$dir"
  printf 'cmake_minimum_required(VERSION 3.20)\nproject(r CXX)\nfind_package(weft %s CONFIG REQUIRED)\n' \
    "$1" >"$dir/CMakeLists.txt"
  if out=$(cmake -S "$dir" -B "$dir/b" -DCMAKE_PREFIX_PATH="$work/prefix" 2>&1); then
    echo "FAIL: find_package(weft $1) configured"; exit 1
  fi
  grep -q -- "$2" <<<"$out" || { echo "FAIL: find_package(weft $1) said:"; echo "$out"; exit 1; }
  echo "find_package(weft $1 CONFIG REQUIRED) refused: $(grep -m1 -o -- "$2" <<<"$out")"
}
case "$route" in
  prefix)
    cmake --install "$build" --prefix "$work/prefix" >/dev/null
    "${configure[@]}" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
    refused "COMPONENTS bogus" "weft has no component 'bogus'"
    refused "99 COMPONENTS sim" 'requested version "99"'
    flags=$(PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --cflags --libs weft)
    # shellcheck disable=SC2086
    c++ -o "$work/pkgconfig_main" "$src/tests/consumer/pkgconfig_main.cc" $flags
    "$work/pkgconfig_main" ;;
  deb)
    (cd "$work" && cpack --config "$build/CPackConfig.cmake" -B "$work/deb" >/dev/null)
    deb=$(ls "$work"/deb/weft_*.deb)
    dpkg -i "$deb" >/dev/null
    trap 'dpkg -r weft >/dev/null; rm -rf "$work"' EXIT
    "${configure[@]}" >/dev/null ;;
  subdir)
    # Several sources to a unit (WEFT_UNITY_BUILD): this route is about
    # CMake's integration, and compiles weft's libraries again; built one
    # file at a time they took 86 s of CI's 98 s for the three routes
    # (32 s so). .ci/test's -O0 build is the one that compiles every file
    # alone, as the README's first command does.
    "${configure[@]}" -DWEFT_SOURCE_DIR="$src" -DWEFT_UNITY_BUILD=ON \
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O0 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O0 -DNDEBUG" >/dev/null ;;
  *)
    echo "$0: unknown route '$route' (prefix, deb or subdir)" >&2
    exit 2 ;;
esac
cmake --build "$work/consumer" -j"$(nproc)" >/dev/null
ctest --test-dir "$work/consumer" --output-on-failure
echo "consumer project: built and passed by the $route route"
