#include "sim/instrument/race_detector.h"

#include <algorithm>

#include "sim/instrument/symbolize.h"

namespace weft::sim::instrument {

void VectorClock::set(StrandId i, std::uint32_t v) {
  if (i >= c_.size()) c_.resize(i + 1, 0);
  c_[i] = v;
}

void VectorClock::join(const VectorClock& other) {
  if (other.c_.size() > c_.size()) c_.resize(other.c_.size(), 0);
  for (std::size_t i = 0; i < other.c_.size(); ++i)
    c_[i] = std::max(c_[i], other.c_[i]);
}

RaceDetector& RaceDetector::local() {
  thread_local RaceDetector detector;
  return detector;
}

RaceDetector::Strand& RaceDetector::strand(StrandId id) {
  if (id >= strands_.size()) strands_.resize(id + 1);
  return strands_[id];
}

void RaceDetector::run_begin() {
  strands_.clear();
  sync_.clear();
  shadow_.clear();
  stacks_used_.clear();
  reported_ = false;
  // The call-stack tree is keyed by code addresses, which do not change
  // within a process: it is kept across runs unless it grows too large.
  if (frames_.size() > (1u << 20)) {
    frames_.clear();
    children_.clear();
  }
  if (frames_.empty()) frames_.push_back(Frame{0, 0});  // the root
}

void RaceDetector::spawn(StrandId parent, StrandId child,
                         const void* stack_bottom, std::size_t stack_size) {
  Strand& c = strand(child);
  c = Strand{};
  if (parent != kNoStrand && parent < strands_.size()) {
    Strand& p = strands_[parent];
    c.clock = p.clock;
    p.clock.set(parent, p.clock.get(parent) + 1);
  }
  c.clock.set(child, 1);
  c.stack_lo = reinterpret_cast<std::uintptr_t>(stack_bottom);
  c.stack_hi = c.stack_lo + stack_size;
  // A stack an earlier strand of this run used: its history is not the
  // new strand's.
  if (std::find(stacks_used_.begin(), stacks_used_.end(), c.stack_lo) !=
      stacks_used_.end()) {
    std::erase_if(shadow_, [&](const auto& kv) {
      return kv.first >= c.stack_lo && kv.first < c.stack_hi;
    });
  } else {
    stacks_used_.push_back(c.stack_lo);
  }
}

void RaceDetector::acquire_object(StrandId s, const void* object) {
  if (object == nullptr) return;
  auto it = sync_.find(object);
  if (it != sync_.end()) strand(s).clock.join(it->second);
}

void RaceDetector::release_object(StrandId s, const void* object) {
  if (object == nullptr) return;
  Strand& st = strand(s);
  sync_[object].join(st.clock);
  st.clock.set(s, st.clock.get(s) + 1);
}

void RaceDetector::join_strand(StrandId s, StrandId joined) {
  if (joined < strands_.size() && joined != s)
    strand(s).clock.join(strands_[joined].clock);
}

void RaceDetector::acquire(StrandId s, const void* object) {
  acquire_object(s, object);
}

void RaceDetector::release(StrandId s, const void* object) {
  release_object(s, object);
}

// What each operation does to the clocks (docs/architecture.md, "The race
// detector"): the acquiring half of an operation joins the object's clock,
// the releasing half publishes the strand's.
bool RaceDetector::acquiring_half(StrandId s, const PendingOp& op) {
  switch (op.kind) {
    case ChoiceKind::kLock:
    case ChoiceKind::kAcquire:
      acquire_object(s, op.object);
      return true;
    case ChoiceKind::kWait:  // a latch's wait (a condition variable's has
                             // its mutex in object2)
      if (op.object2 != nullptr || op.access != Access::kRead) return false;
      acquire_object(s, op.object);
      return true;
    case ChoiceKind::kJoin:
      join_strand(s, op.strand);
      return true;
    default:
      return false;
  }
}

void RaceDetector::operation(StrandId s, const PendingOp& op) {
  if (acquiring_half(s, op)) return;
  switch (op.kind) {
    case ChoiceKind::kUnlock:
    case ChoiceKind::kRelease:
      release_object(s, op.object);
      break;
    case ChoiceKind::kWait:
      if (op.object2 != nullptr)  // a condition variable releases its mutex
        release_object(s, op.object2);
      break;
    case ChoiceKind::kAtomic:
      if (op.access == Access::kRead || op.access == Access::kWrite)
        acquire_object(s, op.object);
      if (op.access == Access::kWrite) release_object(s, op.object);
      break;
    default:
      break;
  }
}

// A strand woken in a lock, an acquire, a latch wait or a join performs
// its acquiring half now, against what was released while it waited.
void RaceDetector::woken(StrandId s, const PendingOp& op) {
  acquiring_half(s, op);
}

void RaceDetector::body_begin(StrandId s) {
  Strand& st = strand(s);
  st.in_body = true;
  st.depth = 0;
  st.internal = 0;
  st.stack = 0;
}

void RaceDetector::body_end(StrandId s) {
  Strand& st = strand(s);
  st.in_body = false;
  st.depth = 0;
  st.internal = 0;
  st.stack = 0;
}

void RaceDetector::func_entry(StrandId s, std::uintptr_t caller_pc,
                              bool from_weft) {
  if (frames_.empty()) frames_.push_back(Frame{0, 0});
  Strand& st = strand(s);
  if (st.internal != 0 || (from_weft && !(st.depth == 0 && st.in_body))) {
    ++st.internal;
    return;
  }
  ++st.depth;
  const std::uint64_t key =
      (static_cast<std::uint64_t>(st.stack) * 0x9E3779B97F4A7C15ull) ^
      caller_pc;
  std::vector<std::uint32_t>& bucket = children_[key];
  for (std::uint32_t n : bucket) {
    if (frames_[n].parent == st.stack && frames_[n].pc == caller_pc) {
      st.stack = n;
      return;
    }
  }
  frames_.push_back(Frame{st.stack, caller_pc});
  st.stack = static_cast<std::uint32_t>(frames_.size() - 1);
  bucket.push_back(st.stack);
}

void RaceDetector::func_exit(StrandId s) {
  Strand& st = strand(s);
  if (st.internal != 0) {
    --st.internal;
    return;
  }
  if (st.depth != 0) --st.depth;
  if (st.stack != 0 && st.stack < frames_.size())
    st.stack = frames_[st.stack].parent;
}

bool RaceDetector::wants_choice_point(StrandId me, std::uintptr_t addr) {
  Cell& c = shadow_[addr & ~std::uintptr_t{7}];
  if (c.first == kNoStrand) c.first = me;
  if (c.first != me) c.shared = true;
  return c.shared && !reported_;
}

void RaceDetector::access(Scheduler& s, std::uintptr_t addr, std::size_t size,
                          bool write, std::uintptr_t pc) {
  const StrandId me = s.current_strand();
  if (me == kNoStrand || reported_ || s.tearing_down() || size == 0) return;
  const std::uintptr_t first = addr & ~std::uintptr_t{7};
  Strand& st = strand(me);
  Record now{
      me,       st.clock.get(me),
      st.stack, 0,
      write,    static_cast<std::uint16_t>(std::min<std::size_t>(size, 0xffff)),
      pc,       s.step(),
      s.now()};
  const std::uintptr_t end = addr + size;
  for (std::uintptr_t w = first; w < end; w += 8) {
    const std::uintptr_t lo = std::max(w, addr), hi = std::min(w + 8, end);
    now.mask = static_cast<std::uint8_t>(((1u << (hi - lo)) - 1) << (lo - w));
    if (!check_word(s, w, now.mask, now, addr)) return;
  }
}

bool RaceDetector::check_word(Scheduler& s, std::uintptr_t word,
                              std::uint8_t mask, const Record& now,
                              std::uintptr_t addr) {
  Cell& cell = shadow_[word];
  if (cell.first == kNoStrand) cell.first = now.strand;
  if (cell.first != now.strand) cell.shared = true;
  const VectorClock& clock = strand(now.strand).clock;
  for (const Record& r : cell.records) {
    if (r.strand == now.strand || (r.mask & mask) == 0) continue;
    if (!now.write && !r.write) continue;
    if (r.epoch <= clock.get(r.strand)) continue;  // ordered before us
    report(s, now, r, addr);
    return false;
  }
  record(cell, now);
  return true;
}

// Keeps the records a later access could still race with: a write
// replaces every record it covers and follows; a read replaces its own
// strand's earlier reads it covers.
void RaceDetector::record(Cell& cell, const Record& now) {
  const VectorClock& clock = strand(now.strand).clock;
  std::erase_if(cell.records, [&](const Record& r) {
    if ((r.mask & ~now.mask) != 0) return false;
    if (now.write) return r.epoch <= clock.get(r.strand);
    return r.strand == now.strand && !r.write;
  });
  cell.records.push_back(now);
}

void RaceDetector::forget(std::uintptr_t addr, std::size_t size) {
  if (shadow_.empty()) return;
  for (std::uintptr_t w = addr & ~std::uintptr_t{7}; w < addr + size; w += 8)
    shadow_.erase(w);
}

std::vector<std::uintptr_t> RaceDetector::stack_of(const Record& r) const {
  std::vector<std::uintptr_t> pcs{r.pc};
  for (std::uint32_t n = r.stack; n != 0 && n < frames_.size();
       n = frames_[n].parent)
    pcs.push_back(frames_[n].pc);
  return pcs;
}

std::string RaceDetector::describe_location(std::uintptr_t addr,
                                            const Scheduler& s) const {
  for (StrandId id = 0; id < strands_.size(); ++id) {
    const Strand& st = strands_[id];
    if (addr >= st.stack_lo && addr < st.stack_hi)
      return "a variable on the stack of strand '" + s.strand_name(id) + "'";
  }
  const std::string global = symbolize_data(addr);
  if (!global.empty()) return "global '" + global + "'";
  return "heap memory";
}

namespace {

// The frames of one access, innermost first, without the standard
// library's own (std::function's invoker, <thread>'s trampolines).
std::string frames_text(const std::vector<std::vector<std::string>>& frames) {
  constexpr int kMaxFrames = 8;
  std::string out;
  int n = 0;
  for (const auto& pc_frames : frames) {
    for (const std::string& f : pc_frames) {
      if (f.find(" /usr/include/") != std::string::npos ||
          f.find("/include/c++/") != std::string::npos)
        continue;
      if (n == kMaxFrames) return out + "      ...\n";
      out += "      #" + std::to_string(n++) + " " + f + "\n";
    }
  }
  return out;
}

}  // namespace

void RaceDetector::report(Scheduler& s, const Record& now, const Record& before,
                          std::uintptr_t addr) {
  reported_ = true;
  const std::vector<std::uintptr_t> a = stack_of(now), b = stack_of(before);
  std::vector<std::uintptr_t> all = a;
  all.insert(all.end(), b.begin(), b.end());
  const auto frames = symbolize_code(all);
  const std::vector<std::vector<std::string>> fa(frames.begin(),
                                                 frames.begin() + a.size());
  const std::vector<std::vector<std::string>> fb(frames.begin() + a.size(),
                                                 frames.end());
  auto access = [&](const char* prefix, const Record& r) {
    return std::string("  ") + prefix + (r.write ? "write" : "read") + " of " +
           std::to_string(r.size) + " bytes by strand '" +
           s.strand_name(r.strand) + "' at step " + std::to_string(r.step) +
           ", virtual time " + format_time(r.time) + ":\n";
  };
  std::string msg = "data race on " + describe_location(addr, s) + "\n";
  msg += access("", now) + frames_text(fa);
  msg += access("previous ", before) + frames_text(fb);
  msg +=
      "  Nothing orders the two accesses: no weft Mutex, CondVar, Semaphore, "
      "Latch, spawn/join or atomic operation (taken as sequentially "
      "consistent) between them. Guard the location with a mutex or make it "
      "std::atomic.";
  s.fail(FailureKind::kDataRace, std::move(msg));
}

}  // namespace weft::sim::instrument
