#include "replay/alloc/import.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "traces/files.h"
#include "traces/format.h"
#include "traces/writer.h"

namespace weft::replay {
namespace {

using traces::TraceError;

constexpr std::size_t kMaxLine = 1 << 20;

// Lines of a text file that may be zstd- or gzip-compressed. Offsets are
// of the decompressed text.
class TextSource {
 public:
  explicit TextSource(const std::string& path) : path_(path) {
    file_.reset(std::fopen(path.c_str(), "rb"));
    if (!file_)
      throw std::system_error(errno, std::generic_category(),
                              "cannot open allocator log " + path);
    unsigned char magic[4] = {};
    const std::size_t n = std::fread(magic, 1, 4, file_.get());
    std::rewind(file_.get());
    if (n == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f &&
        magic[3] == 0xfd) {
      zstd_ = ZSTD_createDStream();
      compressed_ = "zstd";
    } else if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
      gz_ = std::make_unique<z_stream>();
      std::memset(gz_.get(), 0, sizeof(z_stream));
      if (inflateInit2(gz_.get(), 16 + MAX_WBITS) != Z_OK)
        throw TraceError(path, 0, "cannot start gzip decompression");
      compressed_ = "gzip";
    }
  }
  ~TextSource() {
    if (zstd_ != nullptr) ZSTD_freeDStream(zstd_);
    if (gz_) inflateEnd(gz_.get());
  }
  TextSource(const TextSource&) = delete;
  TextSource& operator=(const TextSource&) = delete;

  // Reads the next line (without '\n') and where it starts. False at the
  // end. A last line without '\n' is a truncated file.
  bool next_line(std::string& line, std::uint64_t& offset) {
    for (;;) {
      const auto nl = text_.find('\n', pos_);
      if (nl != std::string::npos) {
        line.assign(text_, pos_, nl - pos_);
        offset = base_ + pos_;
        pos_ = nl + 1;
        return true;
      }
      if (text_.size() - pos_ > kMaxLine)
        throw error(base_ + pos_, "line longer than 1 MiB");
      text_.erase(0, pos_);
      base_ += pos_;
      pos_ = 0;
      if (!fill()) {
        if (text_.empty()) return false;
        throw error(base_, "truncated: the last line has no end");
      }
    }
  }

  TraceError error(std::uint64_t offset, const std::string& what) const {
    return TraceError(
        path_, offset,
        what + (compressed_.empty() ? ""
                                    : " (offset in the " + compressed_ +
                                          "-decompressed text)"));
  }
  const std::string& path() const { return path_; }

 private:
  // Appends decompressed bytes to text_; false at the end of input.
  bool fill() {
    char in[65536];
    if (compressed_.empty()) {
      const std::size_t n = std::fread(in, 1, sizeof in, file_.get());
      text_.append(in, n);
      return n > 0;
    }
    for (;;) {
      if (pending_in_.empty()) {
        const std::size_t n = std::fread(in, 1, sizeof in, file_.get());
        if (n == 0) {
          if (!stream_done_)
            throw TraceError(path_, raw_offset_,
                             "truncated " + compressed_ + " data");
          return false;
        }
        pending_in_.assign(in, n);
      }
      char out[1 << 17];
      std::size_t used = 0;
      std::size_t produced = 0;
      if (zstd_ != nullptr) {
        ZSTD_inBuffer ib{pending_in_.data(), pending_in_.size(), 0};
        ZSTD_outBuffer ob{out, sizeof out, 0};
        const std::size_t rc = ZSTD_decompressStream(zstd_, &ob, &ib);
        if (ZSTD_isError(rc))
          throw TraceError(
              path_, raw_offset_ + ib.pos,
              std::string("corrupt zstd data: ") + ZSTD_getErrorName(rc));
        stream_done_ = rc == 0;
        used = ib.pos;
        produced = ob.pos;
      } else {
        gz_->next_in = reinterpret_cast<Bytef*>(pending_in_.data());
        gz_->avail_in = static_cast<uInt>(pending_in_.size());
        gz_->next_out = reinterpret_cast<Bytef*>(out);
        gz_->avail_out = sizeof out;
        const int rc = inflate(gz_.get(), Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
          throw TraceError(
              path_, raw_offset_ + (pending_in_.size() - gz_->avail_in),
              std::string("corrupt gzip data: ") +
                  (gz_->msg != nullptr ? gz_->msg : "inflate failed"));
        used = pending_in_.size() - gz_->avail_in;
        produced = sizeof out - gz_->avail_out;
        if (rc == Z_STREAM_END) {
          stream_done_ = true;
          // Concatenated members: start the next one.
          inflateReset(gz_.get());
        } else {
          stream_done_ = false;
        }
        if (rc == Z_BUF_ERROR && used == 0 && produced == 0) {
          pending_in_.clear();  // needs more input
          raw_offset_ += used;
          continue;
        }
      }
      pending_in_.erase(0, used);
      raw_offset_ += used;
      if (produced > 0) {
        text_.append(out, produced);
        return true;
      }
    }
  }

  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::string path_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  std::string compressed_;
  ZSTD_DStream* zstd_ = nullptr;
  std::unique_ptr<z_stream> gz_;
  std::string pending_in_;
  std::uint64_t raw_offset_ = 0;
  bool stream_done_ = true;
  std::string text_;
  std::size_t pos_ = 0;
  std::uint64_t base_ = 0;  // offset of text_[0]
};

// Parses a hex number ("0x" optional) at s[i...]; advances i.
bool hex(const std::string& s, std::size_t& i, std::uint64_t& v) {
  if (s.compare(i, 2, "0x") == 0) i += 2;
  const std::size_t start = i;
  v = 0;
  while (i < s.size()) {
    const char c = s[i];
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      break;
    if (i - start >= 16) return false;  // more than 64 bits
    v = (v << 4) | static_cast<std::uint64_t>(d);
    ++i;
  }
  return i > start;
}

bool space(const std::string& s, std::size_t& i) {
  if (i >= s.size() || s[i] != ' ') return false;
  ++i;
  return true;
}

AllocRecord make(AllocCall call, std::uint64_t seq, std::uint64_t size,
                 std::uint64_t ptr, std::uint64_t result) {
  AllocRecord r;
  r.call = call;
  r.seq = seq;
  r.size = size;
  r.ptr = ptr;
  r.result = result;
  return r;
}

}  // namespace

traces::Generator<AllocRecord> import_mtrace(std::string path) {
  TextSource in(path);
  std::string line;
  std::uint64_t offset = 0;
  std::uint64_t seq = 0;
  std::uint64_t line_no = 0;
  std::optional<std::uint64_t> realloc_from;  // after "< old"
  std::uint64_t realloc_at = 0;
  while (in.next_line(line, offset)) {
    ++line_no;
    if (line.empty() || line[0] == '=') {
      if (line_no == 1 && line != "= Start")
        throw in.error(offset, "not an mtrace log (no '= Start')");
      continue;
    }
    if (line_no == 1) throw in.error(0, "not an mtrace log (no '= Start')");
    std::size_t i = 0;
    if (line[0] == '@') {
      // "@ caller [0x...] ": the caller may hold spaces; its address part
      // ends at the last "] " before the operation.
      const auto end = line.find("] ");
      if (end == std::string::npos)
        throw in.error(offset, "malformed mtrace caller");
      i = end + 2;
    }
    if (i >= line.size()) throw in.error(offset, "malformed mtrace line");
    const char op = line[i++];
    std::uint64_t addr = 0;
    std::uint64_t size = 0;
    if (!space(line, i) || !hex(line, i, addr))
      throw in.error(offset + i, "malformed mtrace line: expected an address");
    const bool has_size = op == '+' || op == '>' || op == '!';
    if (has_size && (!space(line, i) || !hex(line, i, size)))
      throw in.error(offset + i, "malformed mtrace line: expected a size");
    if (i != line.size())
      throw in.error(offset + i, "malformed mtrace line: trailing text");
    if (realloc_from && op != '>')
      throw in.error(offset, "mtrace realloc '<' without its '>' line");
    switch (op) {
      case '+':
        co_yield make(AllocCall::kMalloc, seq++, size, 0, addr);
        break;
      case '-':
        co_yield make(AllocCall::kFree, seq++, 0, addr, 0);
        break;
      case '<':
        realloc_from = addr;
        realloc_at = offset;
        break;
      case '>':
        if (!realloc_from)
          throw in.error(offset, "mtrace realloc '>' without its '<' line");
        co_yield make(AllocCall::kRealloc, seq++, size, *realloc_from, addr);
        realloc_from.reset();
        break;
      case '!':
        co_yield make(AllocCall::kRealloc, seq++, size, addr, 0);
        break;
      default:
        throw in.error(offset + i - 1,
                       std::string("unknown mtrace operation '") + op + "'");
    }
  }
  if (line_no == 0) throw in.error(0, "empty file: not an mtrace log");
  if (realloc_from)
    throw in.error(realloc_at, "truncated: realloc '<' without its '>' line");
}

traces::Generator<AllocRecord> import_heaptrack(std::string path) {
  TextSource in(path);
  std::string line;
  std::uint64_t offset = 0;
  std::uint64_t seq = 0;
  std::uint64_t line_no = 0;
  // Interpreted form: allocation infos (size) and, per info, the
  // synthetic addresses of its live blocks.
  std::vector<std::uint64_t> info_size;
  std::unordered_map<std::uint64_t, std::vector<std::uint64_t>> live_by_info;
  std::uint64_t next_addr = 0x1000;
  bool raw = false;
  bool interpreted = false;
  while (in.next_line(line, offset)) {
    ++line_no;
    if (line_no == 1 && line.compare(0, 2, "v ") != 0)
      throw in.error(0, "not a heaptrack data file (no 'v' version line)");
    if (line.size() < 2 || line[1] != ' ') {
      if (line.empty() || line[0] == '#') continue;
      throw in.error(offset, "malformed heaptrack line");
    }
    const char op = line[0];
    std::size_t i = 2;
    auto field = [&](std::uint64_t& v) {
      if (!hex(line, i, v))
        throw in.error(offset + i,
                       "malformed heaptrack line: expected a "
                       "hex number");
      if (i < line.size() && !space(line, i))
        throw in.error(offset + i, "malformed heaptrack line");
    };
    auto done = [&] {
      if (i != line.size())
        throw in.error(offset + i, "malformed heaptrack line: trailing text");
    };
    switch (op) {
      case 'a': {  // interpreted: allocation info
        std::uint64_t size = 0;
        std::uint64_t trace = 0;
        field(size);
        field(trace);
        done();
        info_size.push_back(size);
        interpreted = true;
        break;
      }
      case '+': {
        std::uint64_t a = 0;
        field(a);
        if (i == line.size()) {  // interpreted: "+ info"
          if (raw)
            throw in.error(offset,
                           "heaptrack raw and interpreted lines "
                           "mixed");
          if (a >= info_size.size())
            throw in.error(offset + 2, "heaptrack allocation names info " +
                                           std::to_string(a) +
                                           ", which is not defined");
          interpreted = true;
          const std::uint64_t addr = next_addr;
          next_addr += 16;
          live_by_info[a].push_back(addr);
          co_yield make(AllocCall::kMalloc, seq++, info_size[a], 0, addr);
        } else {  // raw: "+ size trace ptr"
          if (interpreted)
            throw in.error(offset, "heaptrack raw and interpreted lines mixed");
          raw = true;
          std::uint64_t trace = 0;
          std::uint64_t ptr = 0;
          field(trace);
          field(ptr);
          done();
          co_yield make(AllocCall::kMalloc, seq++, a, 0, ptr);
        }
        break;
      }
      case '-': {
        std::uint64_t a = 0;
        field(a);
        done();
        if (interpreted) {
          auto it = live_by_info.find(a);
          if (it == live_by_info.end() || it->second.empty()) {
            // A free heaptrack could not pair either: keep it, convert
            // counts it as unknown.
            co_yield make(AllocCall::kFree, seq++, 0, 0xdead0000 + a, 0);
            break;
          }
          const std::uint64_t addr = it->second.back();
          it->second.pop_back();
          if (it->second.empty()) live_by_info.erase(it);
          co_yield make(AllocCall::kFree, seq++, 0, addr, 0);
        } else {
          raw = true;
          co_yield make(AllocCall::kFree, seq++, 0, a, 0);
        }
        break;
      }
      default:
        // Modules, traces, instruction pointers, strings, timestamps,
        // RSS samples, ...: not allocator calls.
        break;
    }
  }
  if (line_no == 0) throw in.error(0, "empty file: not a heaptrack data file");
}

// Whether a compressed text file holds an mtrace log: by its first line
// once decompressed (heaptrack's files start "v "). Damage is left for the
// importer that reads the file to report.
bool compressed_mtrace(const std::string& path) {
  try {
    TextSource in(path);
    std::string first;
    std::uint64_t offset = 0;
    if (!in.next_line(first, offset)) return false;
    return first.starts_with("= Start") || first.starts_with("@ ");
  } catch (const std::exception&) {
    return false;
  }
}

ImportedLog open_calls(const std::string& path) {
  // A regular file only: a FIFO with no writer would block, and a pipe
  // would read as empty.
  const int fd = traces::open_input(path, "allocator log");
  char head[8] = {};
  const ssize_t got = ::read(fd, head, sizeof head);
  ::close(fd);
  const std::size_t n = got > 0 ? static_cast<std::size_t>(got) : 0;
  const auto starts = [&](const char* s) {
    const std::size_t len = std::strlen(s);
    return n >= len && std::memcmp(head, s, len) == 0;
  };
  ImportedLog log;
  if (n > 0 && std::memcmp(head, traces::kMagic,
                           std::min(n, sizeof traces::kMagic)) == 0) {
    auto reader = traces::TraceReader::open(path);
    require_form(path, reader.header(), "calls");
    log.format = LogFormat::kWeft;
    log.metadata = reader.header().metadata;
    log.calls.emplace(read_calls(path, log.tail.get()));
  } else if (starts("= Start") || starts("@ ") ||
             ((starts("\x28\xb5\x2f\xfd") || starts("\x1f\x8b")) &&
              compressed_mtrace(path))) {
    log.format = LogFormat::kMtrace;
    log.metadata = {{"imported", "mtrace"}};
    log.tail->closed = true;  // the importer says what it cannot read
    log.calls.emplace(import_mtrace(path));
  } else if (starts("v ") || starts("\x28\xb5\x2f\xfd") || starts("\x1f\x8b")) {
    // heaptrack writes zstd (or gzip in older versions) by default; a
    // compressed mtrace log was caught above, by its content.
    log.format = LogFormat::kHeaptrack;
    log.metadata = {{"imported", "heaptrack"}};
    log.tail->closed = true;
    log.calls.emplace(import_heaptrack(path));
  } else {
    throw TraceError(path, 0,
                     n == 0 ? "empty file: not an allocator log"
                            : "not an allocator log (neither a weft trace, "
                              "an mtrace log nor a heaptrack data file)");
  }
  return log;
}

std::uint64_t import_log(const std::string& input, const std::string& output,
                         std::vector<std::string>* losses) {
  traces::refuse_overwriting(input, output, "log");
  ImportedLog log = open_calls(input);
  traces::TraceHeader header;
  header.kind = traces::TraceKind::kAllocLog;
  header.metadata = {{"form", "calls"}, {"source", input}};
  for (const auto& kv : log.metadata)
    if (kv.first != "form") header.metadata.push_back(kv);
  traces::WriterOptions wo;
  wo.records_per_frame = 65536;
  traces::TraceWriter writer(output, header, wo);
  std::uint64_t n = 0;
  for (const auto& r : *log.calls) {
    writer.append(r);
    ++n;
  }
  writer.close();
  if (losses != nullptr) *losses = traces::describe_losses(input, *log.tail);
  return n;
}

}  // namespace weft::replay
