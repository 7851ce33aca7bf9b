// The LD_PRELOAD module of `weft run`: the interposer (sim/intercept) with
// the engine and explore() built in, and a wrapper around the program's
// main, reached through __libc_start_main. When `weft run` started the
// program (WEFT_RUN=1), the wrapper is the fork server: it explores the
// program's main as the first strand, each schedule in a fork of this
// process (ForkIsolation), prints explore's report and the failing
// schedule's output, and exits 0 (pass), 1 (a failure) or 2 (bad input).
#include <dlfcn.h>
#include <link.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "replay/run/fork_run.h"
#include "sim/check.h"
#include "sim/harness/explore.h"
#include "sim/intercept/intercept.h"

namespace {

using MainFn = int (*)(int, char**, char**);
MainFn g_main = nullptr;

// The path of the first loaded object whose name has `part` in it, or "".
std::string loaded_object(const char* part) {
  std::pair<const char*, std::string> look{part, {}};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto& l = *static_cast<std::pair<const char*, std::string>*>(data);
        if (info->dlpi_name == nullptr ||
            std::strstr(info->dlpi_name, l.first) == nullptr)
          return 0;
        l.second = info->dlpi_name;
        return 1;
      },
      &look);
  return look.second;
}

// Why weft run cannot take the program as it is loaded, or "". GCC's
// OpenMP runtime waits in system calls of its own (inline, not through
// libc's syscall()), which no interposer sees: every schedule would hang,
// and a hang is reported as the program's failure.
std::string unsupported_runtime() {
  const std::string gomp = loaded_object("libgomp.so");
  if (gomp.empty()) return "";
  return "the program loads " + gomp +
         " (GCC's OpenMP runtime), whose threads wait with system calls of "
         "their own that weft run cannot see: weft run does not support "
         "OpenMP";
}

// The stack a thread gets from glibc by default, the soft RLIMIT_STACK
// (8 MiB if unlimited), between weft's bounds: a program that recursed
// deep on a thread worked on real threads and overflowed a strand's 256
// KiB. Untouched pages of a strand's stack cost no memory.
std::size_t thread_stack_size() {
  constexpr rlim_t kLow = 256 * 1024, kHigh = rlim_t{1} << 30;
  rlimit r{};
  rlim_t size = 8 * 1024 * 1024;
  if (getrlimit(RLIMIT_STACK, &r) == 0 && r.rlim_cur != RLIM_INFINITY)
    size = r.rlim_cur;
  return static_cast<std::size_t>(std::clamp(size, kLow, kHigh));
}

int explore_main(int argc, char** argv, char** envp) {
  if (const std::string why = unsupported_runtime(); !why.empty()) {
    std::fprintf(stderr, "weft run: %s\n", why.c_str());
    std::fflush(nullptr);
    _exit(2);
  }
  using weft::sim::ExploreOptions;
  ExploreOptions o;
  const char* name = std::strrchr(argv[0], '/');
  o.name = name != nullptr ? name + 1 : argv[0];
  if (const char* c = std::getenv("WEFT_RUN_COMMAND")) o.command = c;
  int status = 2;
  try {
    // Each schedule is a fork already: no containment around them.
    unsetenv("WEFT_CONTAIN");
    o.contain = ExploreOptions::Contain::kOff;
    o.limits.stack_size = thread_stack_size();
    ExploreOptions probe = o;  // explore() applies WEFT_* itself
    weft::sim::apply_environment(probe);
    weft::run::ForkIsolation isolation(probe.limits.max_steps,
                                       probe.watchdog_s);
    weft::sim::Scheduler::set_isolation(&isolation);
    const weft::sim::ExploreResult r =
        weft::sim::explore(o, [argc, argv, envp] {
          weft::sim::Scheduler& s = *weft::sim::Scheduler::current();
          const int rc = weft::intercept::run_main_thread(
              s, [&] { return g_main(argc, argv, envp); });
          weft::run::ForkIsolation::finish_child(s, rc);
        });
    weft::sim::Scheduler::set_isolation(nullptr);
    if (r.failed()) {
      std::fprintf(stderr,
                   "--- output of %s in the failing schedule ---\n%s"
                   "--- end of output ---\n",
                   o.name.c_str(), isolation.failing_output().c_str());
      status = 1;
    } else {
      std::fprintf(stderr, "%s\n", r.summary.c_str());
      status = 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "weft run: %s\n", e.what());
  }
  std::fflush(nullptr);
  // The program's own exit handlers and destructors belong to schedules
  // that ran in the children.
  _exit(status);
}

}  // namespace

extern "C" int __libc_start_main(MainFn main, int argc, char** argv,
                                 void (*init)(), void (*fini)(),
                                 void (*rtld_fini)(), void* stack_end) {
  using Start =
      int (*)(MainFn, int, char**, void (*)(), void (*)(), void (*)(), void*);
  auto real = reinterpret_cast<Start>(dlsym(RTLD_NEXT, "__libc_start_main"));
  const char* active = std::getenv("WEFT_RUN");
  if (active == nullptr || std::strcmp(active, "1") != 0)
    return real(main, argc, argv, init, fini, rtld_fini, stack_end);
  g_main = main;
  return real(explore_main, argc, argv, init, fini, rtld_fini, stack_end);
}
