// explore()'s result across the pipe from a contained child: a flat
// little-endian encoding of every field, read back field by field. Both
// ends are the same build, so the layout needs no version.
#include <signal.h>

#include <cstring>
#include <stdexcept>

#include "sim/harness/contain.h"

namespace weft::sim::internal {
namespace {

class Writer {
 public:
  void u64(std::uint64_t v) { out_.append(reinterpret_cast<char*>(&v), 8); }
  void str(const std::string& s) {
    u64(s.size());
    out_ += s;
  }
  void schedule(const Schedule& s) {
    u64(s.size());
    if (!s.empty())
      out_.append(reinterpret_cast<const char*>(s.data()),
                  s.size() * sizeof(Choice));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(const std::string& in) : in_(in) {}
  std::uint64_t u64() {
    std::uint64_t v;
    need(8);
    std::memcpy(&v, in_.data() + at_, 8);
    at_ += 8;
    return v;
  }
  std::string str() {
    const std::uint64_t n = u64();
    need(n);
    std::string s = in_.substr(at_, n);
    at_ += n;
    return s;
  }
  Schedule schedule() {
    const std::uint64_t n = u64();
    need(n * sizeof(Choice));
    Schedule s(n);
    if (n > 0)
      std::memcpy(static_cast<void*>(s.data()), in_.data() + at_,
                  n * sizeof(Choice));
    at_ += n * sizeof(Choice);
    return s;
  }

 private:
  void need(std::uint64_t n) const {
    if (n > in_.size() - at_)
      throw std::runtime_error(
          "weft: the contained child's result was cut short");
  }
  const std::string& in_;
  std::size_t at_ = 0;
};

void put_failure(Writer& w, const Failure& f) {
  w.u64(static_cast<std::uint64_t>(f.kind));
  w.str(f.message);
  w.str(f.strand);
  w.u64(f.strand_id);
  w.u64(f.step);
  w.u64(static_cast<std::uint64_t>(f.time.count()));
}

Failure get_failure(Reader& r) {
  Failure f;
  f.kind = static_cast<FailureKind>(r.u64());
  f.message = r.str();
  f.strand = r.str();
  f.strand_id = static_cast<StrandId>(r.u64());
  f.step = r.u64();
  f.time = Nanos{static_cast<std::int64_t>(r.u64())};
  return f;
}

}  // namespace

std::string encode_result(const ExploreResult& r) {
  Writer w;
  w.u64(r.schedules);
  w.u64(r.exhausted);
  w.u64(r.out_of_time);
  w.u64(r.by_strategy.size());
  for (const auto& [name, n] : r.by_strategy) {
    w.str(name);
    w.u64(n);
  }
  w.u64(r.distinct);
  w.u64(r.max_preemptions);
  w.str(r.summary);
  w.u64(r.failure.has_value());
  if (r.failure) put_failure(w, *r.failure);
  w.u64(r.seed);
  w.str(r.strategy);
  w.str(r.environment);
  w.schedule(r.schedule);
  w.u64(r.shrunk.has_value());
  if (r.shrunk) w.schedule(*r.shrunk);
  w.u64(r.digest);
  w.u64(r.steps);
  for (const std::string* s : {&r.report, &r.replay_command, &r.trace_path,
                               &r.shrunk_trace_path, &r.trace_replay_command})
    w.str(*s);
  w.str(r.coverage);
  w.u64(r.order_key.size());
  for (std::uint32_t k : r.order_key) w.u64(k);
  return w.take();
}

ExploreResult decode_result(const std::string& bytes) {
  Reader in(bytes);
  ExploreResult r;
  r.schedules = in.u64();
  r.exhausted = in.u64() != 0;
  r.out_of_time = in.u64() != 0;
  for (std::uint64_t n = in.u64(); n > 0; --n) {
    std::string name = in.str();
    r.by_strategy[name] = in.u64();
  }
  r.distinct = in.u64();
  r.max_preemptions = static_cast<std::size_t>(in.u64());
  r.summary = in.str();
  if (in.u64() != 0) r.failure = get_failure(in);
  r.seed = in.u64();
  r.strategy = in.str();
  r.environment = in.str();
  r.schedule = in.schedule();
  if (in.u64() != 0) r.shrunk = in.schedule();
  r.digest = in.u64();
  r.steps = in.u64();
  for (std::string* s : {&r.report, &r.replay_command, &r.trace_path,
                         &r.shrunk_trace_path, &r.trace_replay_command})
    *s = in.str();
  r.coverage = in.str();
  for (std::uint64_t n = in.u64(); n > 0; --n)
    r.order_key.push_back(static_cast<std::uint32_t>(in.u64()));
  return r;
}

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  const char* what = sigdescr_np(sig);
  std::string out = abbrev != nullptr ? std::string("SIG") + abbrev
                                      : "signal " + std::to_string(sig);
  if (what != nullptr) out += ": " + std::string(what);
  return out;
}

}  // namespace weft::sim::internal
