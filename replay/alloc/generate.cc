#include "replay/alloc/generate.h"

#include <cmath>
#include <queue>
#include <stdexcept>
#include <vector>

#include "replay/alloc/log.h"
#include "traces/writer.h"

namespace weft::replay {
namespace {

// xoshiro256**, seeded by splitmix64: the same stream on every machine.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (auto& w : s_) {
      seed += 0x9E3779B97F4A7C15ull;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      w = z ^ (z >> 31);
    }
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  double uniform() {  // [0, 1)
    return static_cast<double>(next() >> 11) * 0x1.0p-53;
  }
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) {  // [lo, hi]
    return lo + next() % (hi - lo + 1);
  }
  double exponential(double mean) { return -std::log1p(-uniform()) * mean; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
  }
  std::uint64_t s_[4];
};

struct Block {
  std::uint64_t due;  // the call index from which it may die
  std::uint64_t addr;
  std::uint64_t size;
  bool operator>(const Block& o) const { return due > o.due; }
};
using BlockHeap =
    std::priority_queue<Block, std::vector<Block>, std::greater<Block>>;

struct Clock {
  std::uint64_t time_ns;
  std::uint32_t thread;
  bool operator>(const Clock& o) const {
    return time_ns != o.time_ns ? time_ns > o.time_ns : thread > o.thread;
  }
};

std::uint64_t draw_size(Rng& rng) {
  const double u = rng.uniform();
  if (u < 0.60) return rng.between(8, 64);
  if (u < 0.85) return rng.between(65, 256);
  if (u < 0.959) return rng.between(257, 4096);
  if (u < 0.999) return rng.between(4097, 32768);
  return rng.between(32769, 1 << 20);
}

// In calls of the whole log; `lasting` is set for the medium and long ones.
std::uint64_t draw_lifetime(Rng& rng, bool& lasting) {
  const double u = rng.uniform();
  lasting = u >= 0.70;
  if (u < 0.70) return 1 + static_cast<std::uint64_t>(rng.exponential(16));
  if (u < 0.97) return 1 + static_cast<std::uint64_t>(rng.exponential(4000));
  return static_cast<std::uint64_t>(
      std::exp(std::log(1e5) + rng.uniform() * std::log(300.0)));
}

class Generator {
 public:
  Generator(const GenerateOptions& o, traces::TraceWriter& w)
      : options_(o), rng_(o.seed), writer_(w), owed_(o.threads) {
    for (std::uint32_t t = 0; t < o.threads; ++t) clocks_.push({0, t});
  }

  GenerateStats run() {
    while (stats_.calls < options_.calls) {
      Clock c = clocks_.top();
      clocks_.pop();
      step(c);
      c.time_ns += 1 + static_cast<std::uint64_t>(rng_.exponential(250));
      if (rng_.next() % 200'000 == 0)
        c.time_ns += rng_.between(1'000'000, 20'000'000);
      clocks_.push(c);
    }
    stats_.end_live_blocks = live_;
    return stats_;
  }

 private:
  // One call of thread `c.thread` at its clock: a block of its that is
  // due dies (freed, or grown by realloc), else a new one is allocated.
  void step(const Clock& c) {
    BlockHeap& owed = owed_[c.thread];
    AllocRecord r;
    r.thread = c.thread;
    r.timed = true;
    r.time_ns = c.time_ns;
    stats_.duration_ns = c.time_ns;
    if (!owed.empty() && owed.top().due <= stats_.calls) {
      Block b = owed.top();
      owed.pop();
      if (b.size < (1u << 20) && rng_.uniform() < 0.15) {
        r.call = AllocCall::kRealloc;
        r.ptr = b.addr;
        r.size = b.size + b.size / 2 + rng_.between(1, 64);
        r.result = b.addr = new_address();
        r.release_delta = 1;  // its first sequence number, before it
        ++seq_;
        r.seq = seq_++;
        b.size = r.size;
        adopt(b, c.thread);
        ++stats_.reallocs;
      } else {
        r.call = AllocCall::kFree;
        r.ptr = b.addr;
        r.seq = seq_++;
        --live_;
        ++stats_.frees;
      }
    } else {
      const double u = rng_.uniform();
      r.call = u < 0.95   ? AllocCall::kMalloc
               : u < 0.98 ? AllocCall::kCalloc
                          : AllocCall::kPosixMemalign;
      if (r.call == AllocCall::kPosixMemalign) r.align = 64;
      r.size = draw_size(rng_);
      r.result = new_address();
      r.seq = seq_++;
      adopt(Block{0, r.result, r.size}, c.thread);
      ++live_;
      stats_.peak_live_blocks = std::max(stats_.peak_live_blocks, live_);
      ++stats_.allocations;
    }
    writer_.append(r);
    ++stats_.calls;
  }

  // Gives `b` a lifetime and the thread that will free it.
  void adopt(Block b, std::uint32_t thread) {
    bool lasting = false;
    b.due = stats_.calls + draw_lifetime(rng_, lasting);
    std::uint32_t owner = thread;
    if (lasting && options_.threads > 1 && rng_.uniform() < 0.10) {
      owner = static_cast<std::uint32_t>(
          (thread + rng_.between(1, options_.threads - 1)) % options_.threads);
      ++stats_.handed_off;
    }
    owed_[owner].push(b);
  }

  std::uint64_t new_address() { return 0x10000 + 16 * next_block_++; }

  GenerateOptions options_;
  Rng rng_;
  traces::TraceWriter& writer_;
  std::vector<BlockHeap> owed_;  // per thread: the blocks it will free
  std::priority_queue<Clock, std::vector<Clock>, std::greater<Clock>> clocks_;
  std::uint64_t seq_ = 0;
  std::uint64_t next_block_ = 0;
  std::uint64_t live_ = 0;
  GenerateStats stats_;
};

}  // namespace

GenerateStats generate_log(const std::string& output,
                           const GenerateOptions& options) {
  if (options.threads == 0 || options.threads > kMaxThreads)
    throw std::invalid_argument("--threads " + std::to_string(options.threads) +
                                ": from 1 to " + std::to_string(kMaxThreads));
  traces::TraceHeader header;
  header.kind = traces::TraceKind::kAllocLog;
  header.metadata = {{"form", "calls"},
                     {"source", "weft alloc generate"},
                     {"seed", std::to_string(options.seed)},
                     {"threads", std::to_string(options.threads)}};
  traces::WriterOptions wo;
  wo.records_per_frame = 65536;
  traces::TraceWriter writer(output, header, wo);
  Generator g(options, writer);
  const GenerateStats stats = g.run();
  writer.close();
  return stats;
}

}  // namespace weft::replay
