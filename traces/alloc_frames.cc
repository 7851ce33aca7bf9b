#include "traces/alloc_frames.h"

#include <algorithm>
#include <limits>

#include "traces/fields.h"

namespace weft::traces {
namespace {

// The head byte: bits 0-2 the call, then which fields follow.
constexpr unsigned kCallBits = 0x07;
constexpr unsigned kTimeStep = 0x08;  // a time step follows
constexpr unsigned kThread = 0x10;    // the thread follows (it changed)
constexpr unsigned kSeq = 0x20;       // a sequence step follows (not +1)
constexpr unsigned kAux = 0x40;       // release_delta (realloc) or align
constexpr unsigned kExplicit = 0x80;  // size, align, ptr, result and
                                      // release_delta follow as they are

std::uint64_t step(std::uint64_t to, std::uint64_t from) {
  return zigzag(static_cast<std::int64_t>(to - from));
}
std::uint64_t unstep(std::uint64_t from, std::uint64_t v) {
  return from + static_cast<std::uint64_t>(unzigzag(v));
}

// An address: 0 for none, else its step from the last address plus one.
// The one step that would not fit (2^63 away) makes the record explicit.
bool fits_address(std::uint64_t a, std::uint64_t last) {
  return a == 0 || step(a, last) != std::numeric_limits<std::uint64_t>::max();
}

// Whether `r` has its call's usual shape: a free only a block, an
// allocation no block in, the field that is not its aux 0, and addresses
// that code as steps.
bool usual(const AllocRecord& r, std::uint64_t last_address) {
  const bool realloc = r.call == AllocCall::kRealloc;
  if ((realloc ? r.align : r.release_delta) != 0) return false;
  if (r.call == AllocCall::kFree) {
    if (r.size != 0 || r.result != 0) return false;
  } else if (!realloc && r.ptr != 0) {
    return false;
  }
  const std::uint64_t after_ptr = r.ptr != 0 ? r.ptr : last_address;
  return fits_address(r.ptr, last_address) && fits_address(r.result, after_ptr);
}

// A record's head and varints, coded straight into the frame's buffer
// (appending each record's few bytes to a string was the recording
// process's largest cost after zstd).
struct FrameRow {
  char* bytes;
  std::size_t size = 1;
  void put(std::uint64_t v) {
    while (v >= 0x80) {
      bytes[size++] = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    bytes[size++] = static_cast<char>(v);
  }
  void put_address(std::uint64_t a, std::uint64_t& last) {
    if (a == 0) {
      put(0);
      return;
    }
    put(step(a, last) + 1);
    last = a;
  }
};

using fields::get;

bool get_address(ByteReader& in, std::uint64_t& field, std::uint64_t& last) {
  const auto v = in.varint();
  if (!v) return false;
  field = *v == 0 ? 0 : unstep(last, *v - 1);
  if (field != 0) last = field;
  return true;
}

}  // namespace

void AllocFrameEncoder::add(const AllocRecord& r) {
  if (body_.size() < used_ + kMaxRecord)
    body_.resize(std::max(2 * body_.size(), used_ + kMaxRecord));
  FrameRow row{body_.data() + used_};
  unsigned head = static_cast<std::uint8_t>(r.call) & kCallBits;
  if (r.thread != last_.thread) {
    head |= kThread;
    row.put(r.thread);
  }
  if (r.seq != last_.seq + 1) {
    head |= kSeq;
    row.put(step(r.seq, last_.seq + 1));
  }
  last_.thread = r.thread;
  last_.seq = r.seq;
  if (usual(r, last_.address)) {
    const std::uint64_t aux =
        r.call == AllocCall::kRealloc ? r.release_delta : r.align;
    if (r.call != AllocCall::kFree) row.put(r.size);
    if (r.call == AllocCall::kFree || r.call == AllocCall::kRealloc)
      row.put_address(r.ptr, last_.address);
    if (r.call != AllocCall::kFree) row.put_address(r.result, last_.address);
    if (aux != 0) {
      head |= kAux;
      row.put(aux);
    }
  } else {
    head |= kExplicit;
    row.put(r.size);
    row.put(r.align);
    row.put(r.ptr);
    row.put(r.result);
    row.put(r.release_delta);
    if (r.ptr != 0) last_.address = r.ptr;
    if (r.result != 0) last_.address = r.result;
  }
  if (r.timed) {
    head |= kTimeStep;
    row.put(step(r.time_ns, last_.time_ns));
    last_.time_ns = r.time_ns;
  }
  row.bytes[0] = static_cast<char>(head);
  used_ += row.size;
  ++records_;
}

void AllocFrameEncoder::finish(std::string& out) {
  put_varint(out, records_);
  out.push_back(static_cast<char>(kAllocMarker));
  out.append(body_.data(), used_);
  used_ = 0;  // body_ keeps its length for the next frame
  records_ = 0;
  last_ = AllocPrediction{};
}

void AllocFrameDecoder::start(const char* data, std::size_t size,
                              std::uint64_t records) {
  in_ = ByteReader(data, size);
  records_ = records;
  decoded_ = 0;
  last_ = AllocPrediction{};
  error_ = "";
}

bool AllocFrameDecoder::next(AllocRecord& r) {
  if (decoded_ >= records_) return fail("more records asked for than held");
  ++decoded_;
  const auto b = in_.byte();
  if (!b) return fail("alloc records cut short");
  const unsigned head = *b;
  r = AllocRecord{};
  r.call = static_cast<AllocCall>(head & kCallBits);  // all 8 are calls
  r.thread = last_.thread;
  if ((head & kThread) != 0 &&
      (!get(in_, r.thread) || r.thread == last_.thread))
    return fail("bad thread in an alloc record");
  r.seq = last_.seq + 1;
  if ((head & kSeq) != 0) {
    const auto v = in_.varint();
    if (!v || *v == 0) return fail("bad sequence step in an alloc record");
    r.seq = unstep(r.seq, *v);
  }
  last_.thread = r.thread;
  last_.seq = r.seq;
  if ((head & kExplicit) != 0) {
    if ((head & kAux) != 0 || !get(in_, r.size) || !get(in_, r.align) ||
        !get(in_, r.ptr) || !get(in_, r.result) || !get(in_, r.release_delta))
      return fail("bad explicit alloc record");
    if (r.ptr != 0) last_.address = r.ptr;
    if (r.result != 0) last_.address = r.result;
  } else {
    const bool frees = r.call == AllocCall::kFree;
    const bool reallocs = r.call == AllocCall::kRealloc;
    if ((!frees && !get(in_, r.size)) ||
        ((frees || reallocs) && !get_address(in_, r.ptr, last_.address)) ||
        (!frees && !get_address(in_, r.result, last_.address)))
      return fail("bad fields in an alloc record");
    if ((head & kAux) != 0) {
      std::uint64_t aux = 0;
      if (!get(in_, aux) || aux == 0) return fail("bad aux in an alloc record");
      (reallocs ? r.release_delta : r.align) = aux;
    }
  }
  if ((head & kTimeStep) != 0) {
    const auto v = in_.varint();
    if (!v) return fail("bad time step in an alloc record");
    r.timed = true;
    r.time_ns = last_.time_ns = unstep(last_.time_ns, *v);
  }
  return true;
}

bool AllocFrameDecoder::finish() {
  if (decoded_ != records_) return fail("fewer records decoded than held");
  if (!in_.at_end()) return fail("trailing bytes after the alloc records");
  return true;
}

}  // namespace weft::traces
