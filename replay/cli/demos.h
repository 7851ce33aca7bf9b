// Built-in examples for `weft demo`: small programs with a real concurrency
// bug each, so a fresh checkout can show weft finding one and replaying it.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace weft::replay {

struct Demo {
  std::string name;
  std::string summary;
  std::function<void()> body;  // fails under some schedules
};

const std::vector<Demo>& demos();
const Demo* find_demo(const std::string& name);

}  // namespace weft::replay
