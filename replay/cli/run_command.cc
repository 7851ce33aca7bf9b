#include "replay/cli/run_command.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "traces/self_exe.h"

extern char** environ;

namespace weft::replay {
namespace {

std::string quote(const std::string& s) {
  if (!s.empty() &&
      s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
                          "KLMNOPQRSTUVWXYZ0123456789_-./=:,+@") ==
          std::string::npos)
    return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// The program as execvp would find it, or "" (with a message) if not.
std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t end = std::min(dirs.find(':', start), dirs.size());
    const std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return name;
}

// "" if `path` is a dynamically linked ELF executable, else why not.
std::string check_program(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return path + ": " + std::strerror(errno);
  if (!S_ISREG(st.st_mode) || access(path.c_str(), X_OK) != 0)
    return path + ": not an executable file";
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return path + ": " + std::strerror(errno);
  Elf64_Ehdr eh{};
  bool elf = read(fd, &eh, sizeof eh) == sizeof eh &&
             std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
             eh.e_ident[EI_CLASS] == ELFCLASS64;
  bool interp = false;
  for (int i = 0; elf && i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    const off_t at = static_cast<off_t>(eh.e_phoff + i * sizeof ph);
    if (pread(fd, &ph, sizeof ph, at) != sizeof ph) {
      close(fd);
      return path + ": program header " + std::to_string(i) + " at byte " +
             std::to_string(at) + " is cut short";
    }
    interp = interp || ph.p_type == PT_INTERP;
  }
  close(fd);
  if (!elf)
    return path +
           ": not a 64-bit ELF program at byte 0 (a script? weft run needs "
           "the program itself)";
  if (!interp)
    return path +
           ": statically linked (no program interpreter): weft run preloads "
           "its interposer into the program's dynamic linking, so it needs "
           "a dynamically linked program; link it without -static";
  return "";
}

std::string preload_library() {
  if (const char* env = std::getenv("WEFT_RUN_PRELOAD"))
    if (*env != '\0') return env;
  const std::string dir = traces::self_executable_dir();
  for (const char* place : {"", "../libexec/weft/"}) {
    const std::string here = dir + place + "libweft_run_preload.so";
    if (!dir.empty() && access(here.c_str(), R_OK) == 0) return here;
  }
#ifdef WEFT_RUN_PRELOAD_PATH
  return WEFT_RUN_PRELOAD_PATH;
#else
  return "libweft_run_preload.so";
#endif
}

}  // namespace

std::shared_ptr<RunCommand> add_run_command(CLI::App& app) {
  auto c = std::make_shared<RunCommand>();
  c->run = app.add_subcommand(
      "run",
      "Explore an existing dynamically linked program (C or C++, pthreads "
      "or std::thread) under weft's scheduler: weft run [--replay FILE] -- "
      "./program args. WEFT_* variables as for explore().");
  c->run->add_option("--replay", c->replay,
                     "Replay this schedule trace (as WEFT_REPLAY)");
  c->run->add_option("program", c->argv, "The program and its arguments")
      ->required();
  return c;
}

int run_run_command(const RunCommand& c) {
  const std::string program = find_program(c.argv[0]);
  if (const std::string why = check_program(program); !why.empty()) {
    std::fprintf(stderr, "weft run: %s\n", why.c_str());
    return 2;
  }
  std::string command = quote(traces::self_executable()) + " run --";
  for (const std::string& a : c.argv) command += " " + quote(a);
  std::string preload = preload_library();
  if (const char* old = std::getenv("LD_PRELOAD"); old && *old != '\0')
    preload += std::string(":") + old;
  setenv("LD_PRELOAD", preload.c_str(), 1);
  setenv("WEFT_RUN", "1", 1);
  setenv("WEFT_RUN_COMMAND", command.c_str(), 1);
  if (!c.replay.empty()) setenv("WEFT_REPLAY", c.replay.c_str(), 1);
  std::vector<char*> args;
  for (const std::string& a : c.argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    execv(program.c_str(), args.data());
    std::fprintf(stderr, "weft run: %s: %s\n", program.c_str(),
                 std::strerror(errno));
    _exit(2);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) <= 2) return WEXITSTATUS(status);
  std::fprintf(stderr,
               "weft run: %s ended (%s %d) without weft's report: did it "
               "load %s? (a setuid program, or one that clears LD_PRELOAD, "
               "does not)\n",
               program.c_str(), WIFEXITED(status) ? "status" : "signal",
               WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
               preload_library().c_str());
  return 2;
}

}  // namespace weft::replay
