// Function symbols come from the file's .symtab (a program's own static
// functions are only there; executables export none without -rdynamic),
// else its .dynsym; every offset and size is checked against the file, so
// a stripped or odd file yields "file+offset" and never a fault.
#include "sim/intercept/code_address.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace weft::intercept::internal {
namespace {

struct Function {
  std::uint64_t start = 0;
  std::uint64_t size = 0;
  std::string name;
};

// A file's functions, sorted by start address.
using Functions = std::vector<Function>;

// `bytes` of `size` holds an object of type T at `offset`.
template <class T>
const T* at(const char* bytes, std::size_t size, std::uint64_t offset,
            std::uint64_t count = 1) {
  if (offset > size || count > (size - offset) / sizeof(T)) return nullptr;
  return reinterpret_cast<const T*>(bytes + offset);
}

// The functions of one symbol table section, if it is one.
void add_functions(const char* bytes, std::size_t size,
                   const Elf64_Shdr* sections, std::uint16_t count,
                   const Elf64_Shdr& table, Functions& out) {
  if (table.sh_entsize != sizeof(Elf64_Sym) || table.sh_link >= count) return;
  const Elf64_Shdr& names = sections[table.sh_link];
  const auto* symbols = at<Elf64_Sym>(bytes, size, table.sh_offset,
                                      table.sh_size / sizeof(Elf64_Sym));
  const char* strings = at<char>(bytes, size, names.sh_offset, names.sh_size);
  if (symbols == nullptr || strings == nullptr) return;
  for (std::uint64_t i = 0; i < table.sh_size / sizeof(Elf64_Sym); ++i) {
    const Elf64_Sym& s = symbols[i];
    const int type = ELF64_ST_TYPE(s.st_info);
    if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s.st_size == 0 ||
        s.st_shndx == SHN_UNDEF || s.st_name >= names.sh_size)
      continue;
    const char* name = strings + s.st_name;
    out.push_back(
        {s.st_value, s.st_size,
         std::string(name, strnlen(name, names.sh_size - s.st_name))});
  }
}

Functions read_functions(const char* bytes, std::size_t size) {
  Functions out;
  const auto* header = at<Elf64_Ehdr>(bytes, size, 0);
  if (header == nullptr || std::memcmp(header->e_ident, ELFMAG, SELFMAG) != 0 ||
      header->e_ident[EI_CLASS] != ELFCLASS64 ||
      header->e_shentsize != sizeof(Elf64_Shdr))
    return out;
  const auto* sections =
      at<Elf64_Shdr>(bytes, size, header->e_shoff, header->e_shnum);
  if (sections == nullptr) return out;
  for (const std::uint32_t wanted : {SHT_SYMTAB, SHT_DYNSYM}) {
    for (std::uint16_t i = 0; i < header->e_shnum; ++i)
      if (sections[i].sh_type == wanted)
        add_functions(bytes, size, sections, header->e_shnum, sections[i], out);
    if (!out.empty()) break;
  }
  std::sort(out.begin(), out.end(), [](const Function& a, const Function& b) {
    return a.start < b.start;
  });
  return out;
}

Functions load_functions(const char* path) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  struct stat st {};
  Functions out;
  if (fstat(fd, &st) == 0 && st.st_size > 0) {
    const auto size = static_cast<std::size_t>(st.st_size);
    void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map != MAP_FAILED) {
      out = read_functions(static_cast<const char*>(map), size);
      munmap(map, size);
    }
  }
  close(fd);
  return out;
}

std::string demangled(const std::string& name) {
  int status = 0;
  char* d = abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status);
  if (d == nullptr) return name;
  std::string out(d);
  std::free(d);
  return out;
}

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string describe(const void* pc) {
  Dl_info info{};
  link_map* map = nullptr;
  if (dladdr1(pc, &info, reinterpret_cast<void**>(&map), RTLD_DL_LINKMAP) ==
          0 ||
      map == nullptr)
    return {};
  // The main program's link_map has no name: its file is /proc/self/exe,
  // shown by the name it was started with.
  const bool main_program = map->l_name == nullptr || map->l_name[0] == '\0';
  const std::string path = main_program ? "/proc/self/exe" : map->l_name;
  const char* shown = info.dli_fname != nullptr ? info.dli_fname : "";
  if (const char* slash = std::strrchr(shown, '/')) shown = slash + 1;
  const std::uint64_t address =
      reinterpret_cast<std::uintptr_t>(pc) - map->l_addr;

  static std::unordered_map<std::string, Functions> files;
  auto it = files.find(path);
  if (it == files.end())
    it = files.emplace(path, load_functions(path.c_str())).first;
  const Functions& f = it->second;
  auto next = std::upper_bound(
      f.begin(), f.end(), address,
      [](std::uint64_t a, const Function& fn) { return a < fn.start; });
  std::string where = std::string(shown) + "+" + hex(address);
  if (next == f.begin()) return where;
  const Function& fn = *std::prev(next);
  if (address - fn.start >= fn.size) return where;
  return demangled(fn.name) + "+" + hex(address - fn.start) + " in " + where;
}

}  // namespace

const char* describe_code_address(const void* pc) {
  if (pc == nullptr) return "";
  // Strands of one scheduler share a thread, but schedulers may run on
  // several: one lock around the cache (a spin lock, since a pthread
  // mutex here would be the interposed one).
  static std::atomic_flag busy = ATOMIC_FLAG_INIT;
  static std::unordered_map<const void*, std::string> described;
  while (busy.test_and_set(std::memory_order_acquire)) {
  }
  auto it = described.find(pc);
  if (it == described.end()) it = described.emplace(pc, describe(pc)).first;
  const char* out = it->second.c_str();
  busy.clear(std::memory_order_release);
  return out;
}

}  // namespace weft::intercept::internal
