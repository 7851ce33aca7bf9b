// The real functions behind the interposed ones, found once with
// dlsym(RTLD_NEXT) (the next definition after ours: libc's). Internal to
// sim/intercept.
#pragma once

#include <dlfcn.h>

namespace weft::intercept::internal {

// Returns the real `name`, resolving it on first use into `slot`.
template <class F>
inline F real_of(F& slot, const char* name) {
  F f = slot;
  if (f == nullptr) [[unlikely]] {
    f = reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
    slot = f;
  }
  return f;
}

}  // namespace weft::intercept::internal

// Declares the slot of one real function, in the file that interposes it.
#define WEFT_REAL_SLOT(name) decltype(&::name) real_##name = nullptr
// The real function, e.g. WEFT_REAL(pthread_mutex_lock)(m).
#define WEFT_REAL(name) \
  (::weft::intercept::internal::real_of(real_##name, #name))
