#include "sim/surw_strategy.h"

#include <algorithm>
#include <stdexcept>

namespace weft::sim {

void SurwStrategy::begin(std::uint64_t seed) {
  rng_.reseed(seed);
  used_ = profile_;
  seen_.assign(used_.size(), 0);
  runnable_.clear();
  weights_.clear();
}

std::uint32_t SurwStrategy::remaining(StrandId id) const {
  const std::uint32_t expected = id < used_.size() ? used_[id] : 0;
  const std::uint32_t done = id < seen_.size() ? seen_[id] : 0;
  // A strand past its estimate (or new) still has at least this one.
  return expected > done ? expected - done : 1;
}

void SurwStrategy::runnable_changed(StrandId id, bool runnable) {
  runnable_.set(id, runnable);
  weights_.set(id, runnable ? remaining(id) : 0);
}

std::uint32_t SurwStrategy::choose(const ChoicePoint& point) {
  if (point.current != kNoStrand) {
    if (point.current >= seen_.size()) seen_.resize(point.current + 1, 0);
    ++seen_[point.current];
    if (runnable_.runnable(point.current))
      weights_.set(point.current, remaining(point.current));
  }
  if (point.is_value)
    return static_cast<std::uint32_t>(rng_.below(point.count));
  return pick(point);
}

// Draws r below the offered strands' total weight and takes the strand at
// which the running sum in id order passes r: from the weight tree when it
// holds exactly the offered strands, else by walking point.strands.
std::uint32_t SurwStrategy::pick(const ChoicePoint& point) {
  if (runnable_.matches(point)) {
    const StrandId left_out = runnable_.left_out(point);
    if (left_out != kNoStrand) weights_.set(left_out, 0);
    const auto found = weights_.find(rng_.below(weights_.total()));
    if (left_out != kNoStrand) weights_.set(left_out, remaining(left_out));
    // The offered strands are the ones of non-zero weight: the rank is the
    // index, checked against the point.
    if (found.rank < point.count && point.strands[found.rank] == found.id)
      return found.rank;
    return point.count - 1;  // unreachable while the tree follows the set
  }
  std::uint64_t total = 0;
  for (StrandId id : point.strands) total += remaining(id);
  std::uint64_t r = rng_.below(total);
  for (std::uint32_t i = 0; i < point.count; ++i) {
    const std::uint32_t w = remaining(point.strands[i]);
    if (r < w) return i;
    r -= w;
  }
  return point.count - 1;
}

void SurwStrategy::end(std::uint64_t) {
  if (profile_.size() < seen_.size()) profile_.resize(seen_.size(), 0);
  for (std::size_t i = 0; i < seen_.size(); ++i)
    profile_[i] = std::max(profile_[i], seen_[i]);
}

std::string SurwStrategy::environment() const {
  std::string env = "WEFT_STRATEGY=surw";
  if (!used_.empty()) env += " WEFT_SURW_PROFILE=" + encode(used_);
  return env;
}

std::string SurwStrategy::encode(const std::vector<std::uint32_t>& profile) {
  std::string out;
  for (std::size_t i = 0; i < profile.size();) {
    std::size_t j = i;
    while (j < profile.size() && profile[j] == profile[i]) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(profile[i]);
    if (j - i > 1) out += '*' + std::to_string(j - i);
    i = j;
  }
  return out;
}

namespace {

std::uint32_t number(const std::string& text, std::size_t& pos) {
  const std::size_t start = pos;
  std::uint64_t v = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    v = v * 10 + static_cast<std::uint64_t>(text[pos] - '0');
    if (v > 1'000'000'000) break;
    ++pos;
  }
  if (pos == start || v > 1'000'000'000)
    throw std::invalid_argument("expected a count at character " +
                                std::to_string(start + 1));
  return static_cast<std::uint32_t>(v);
}

}  // namespace

std::vector<std::uint32_t> SurwStrategy::decode(const std::string& text) {
  std::vector<std::uint32_t> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::uint32_t count = number(text, pos);
    std::uint32_t times = 1;
    if (pos < text.size() && text[pos] == '*') times = number(text, ++pos);
    if (out.size() + times > 1'000'000)
      throw std::invalid_argument("more than a million strands");
    out.insert(out.end(), times, count);
    if (pos < text.size() && text[pos++] != ',')
      throw std::invalid_argument("expected ',' at character " +
                                  std::to_string(pos));
  }
  return out;
}

}  // namespace weft::sim
