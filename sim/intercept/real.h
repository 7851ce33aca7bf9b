// The real functions behind the interposed ones, found once with
// dlsym(RTLD_NEXT) (the next definition after ours: libc's). Internal to
// sim/intercept.
#pragma once

#include <dlfcn.h>

namespace weft::intercept::internal {

// The function our interposer stands in front of: under AddressSanitizer,
// its interceptor of `name` if it has one (its runtime is linked into the
// program, where our definitions replace its weak ones, so RTLD_NEXT
// would skip it and ASan would not see the threads we start); else libc's.
void* next_definition(const char* name);

// Returns the real `name`, resolving it on first use into `slot`.
template <class F>
inline F real_of(F& slot, const char* name) {
  F f = slot;
  if (f == nullptr) [[unlikely]] {
    f = reinterpret_cast<F>(next_definition(name));
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
