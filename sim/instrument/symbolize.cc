#include "sim/instrument/symbolize.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <sstream>

#include "traces/self_exe.h"

namespace weft::sim::instrument {
namespace {

struct Module {
  std::string path;
  std::uintptr_t bias = 0;
};

// The loaded object holding `addr` and its load bias (what is subtracted
// to get the address the object's own symbols use).
bool find_module(std::uintptr_t addr, Module& out) {
  struct Search {
    std::uintptr_t addr;
    Module* out;
    bool found;
  } search{addr, &out, false};
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) {
        auto* s = static_cast<Search*>(data);
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD) continue;
          const std::uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
          if (s->addr < lo || s->addr >= lo + ph.p_memsz) continue;
          s->out->path = info->dlpi_name != nullptr && info->dlpi_name[0] != 0
                             ? info->dlpi_name
                             : traces::self_executable();
          s->out->bias = info->dlpi_addr;
          s->found = true;
          return 1;
        }
        return 0;
      },
      &search);
  return search.found;
}

std::string symbolizer() {
  if (const char* env = std::getenv("WEFT_SYMBOLIZER")) return env;
#ifdef WEFT_LLVM_SYMBOLIZER
  if (access(WEFT_LLVM_SYMBOLIZER, X_OK) == 0) return WEFT_LLVM_SYMBOLIZER;
#endif
  return "llvm-symbolizer";
}

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs the symbolizer on `inputs` (one per line) for `module`; its output
// is one block per input, blocks separated by an empty line.
std::vector<std::vector<std::string>> run_symbolizer(
    const std::string& module, const std::vector<std::string>& inputs) {
  std::string cmd =
      quoted(symbolizer()) + " --inlines --demangle --obj=" + quoted(module);
  for (const std::string& in : inputs) cmd += " " + quoted(in);
  cmd += " 2>/dev/null";
  std::vector<std::vector<std::string>> blocks;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return blocks;
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;)
    out.append(buf, n);
  pclose(p);
  std::istringstream lines(out);
  std::vector<std::string> block;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) {
      if (!block.empty()) blocks.push_back(std::move(block));
      block.clear();
    } else {
      block.push_back(line);
    }
  }
  if (!block.empty()) blocks.push_back(std::move(block));
  return blocks;
}

std::string hex(std::uintptr_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%zx", static_cast<std::size_t>(v));
  return buf;
}

// Without a symbolizer: the nearest exported symbol, if any, else the
// object and the offset in it (the same in every run, unlike the address).
std::vector<std::string> dladdr_frame(std::uintptr_t pc) {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(pc), &info) == 0)
    return {"?? (" + hex(pc) + ")"};
  if (info.dli_sname == nullptr) {
    std::string object = info.dli_fname != nullptr ? info.dli_fname : "";
    object = object.substr(object.rfind('/') + 1);
    return {"?? (" + object + "+" +
            hex(pc - reinterpret_cast<std::uintptr_t>(info.dli_fbase)) + ")"};
  }
  int status = 0;
  char* d = abi::__cxa_demangle(info.dli_sname, nullptr, nullptr, &status);
  std::string name = status == 0 && d != nullptr ? d : info.dli_sname;
  std::free(d);
  return {name + " (" + hex(pc) + ")"};
}

// llvm-symbolizer prints each frame as two lines: function, file:line:col.
std::vector<std::string> frames_of(const std::vector<std::string>& block) {
  std::vector<std::string> frames;
  for (std::size_t i = 0; i + 1 < block.size(); i += 2)
    frames.push_back(block[i] + " " + block[i + 1]);
  return frames;
}

std::mutex g_mu;
std::map<std::uintptr_t, std::vector<std::string>> g_code;
std::map<std::uintptr_t, std::string> g_data;

}  // namespace

std::vector<std::vector<std::string>> symbolize_code(
    std::span<const std::uintptr_t> pcs) {
  const std::lock_guard lock(g_mu);
  std::map<std::string, std::vector<std::uintptr_t>> by_module;
  std::map<std::uintptr_t, Module> modules;
  for (std::uintptr_t pc : pcs) {
    if (g_code.count(pc) != 0) continue;
    Module m;
    if (!find_module(pc, m)) {
      g_code[pc] = {"?? (" + hex(pc) + ")"};
      continue;
    }
    by_module[m.path].push_back(pc);
    modules[pc] = m;
  }
  for (const auto& [path, list] : by_module) {
    std::vector<std::string> inputs;
    for (std::uintptr_t pc : list)
      inputs.push_back(hex(pc - 1 - modules[pc].bias));
    const auto blocks = run_symbolizer(path, inputs);
    for (std::size_t i = 0; i < list.size(); ++i) {
      std::vector<std::string> frames;
      if (blocks.size() == list.size()) frames = frames_of(blocks[i]);
      if (frames.empty() || frames[0].rfind("??", 0) == 0)
        frames = dladdr_frame(list[i]);
      g_code[list[i]] = frames;
    }
  }
  std::vector<std::vector<std::string>> out;
  for (std::uintptr_t pc : pcs) out.push_back(g_code[pc]);
  return out;
}

std::string symbolize_data(std::uintptr_t addr) {
  const std::lock_guard lock(g_mu);
  if (auto it = g_data.find(addr); it != g_data.end()) return it->second;
  std::string name;
  Module m;
  if (find_module(addr, m)) {
    const auto blocks = run_symbolizer(m.path, {"DATA " + hex(addr - m.bias)});
    if (!blocks.empty() && !blocks[0].empty() && blocks[0][0] != "??")
      name = blocks[0][0];
  }
  g_data[addr] = name;
  return name;
}

}  // namespace weft::sim::instrument
