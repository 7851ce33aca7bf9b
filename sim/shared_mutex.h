// SharedMutex mirrors std::shared_mutex: one writer or many readers.
// Inside a simulation each lock, try, and unlock (shared or not) is a
// choice point, waiting is the WaitQueue's, and a blocked strand is named
// in deadlock reports. Readers are preferred, as glibc's rwlock (under
// std::shared_mutex) prefers them: a waiting writer does not hold back
// new readers. Outside a simulation it is std::shared_mutex.
#pragma once

#include <cstddef>
#include <shared_mutex>
#include <string>

#include "sim/internal/uninstrumented.h"
#include "sim/scheduler.h"
#include "sim/source_location.h"
#include "sim/sync.h"

namespace weft::sim {
WEFT_HEADER_CODE_BEGIN

class SharedMutex final : public Waitable {
 public:
  explicit SharedMutex(std::string name = {}) : name_(std::move(name)) {}
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;

  // Choice point (kLock) before the acquire; blocks while anyone holds it.
  void lock(SourceLocation where = SourceLocation::current());
  bool try_lock();  // choice point (kLock) before the attempt
  // Choice point (kUnlock) before the release, never unwinding.
  void unlock();
  // Choice point (kLock) before the acquire; blocks while a writer holds.
  void lock_shared(SourceLocation where = SourceLocation::current());
  bool try_lock_shared();  // choice point (kLock) before the attempt
  // Choice point (kUnlock) before the release, never unwinding.
  void unlock_shared();
  std::string describe() const override;

 private:
  void fail_misuse(Scheduler& s, const char* what);

  std::shared_mutex real_;
  StrandId writer_ = kNoStrand;
  std::size_t readers_ = 0;
  WaitQueue waiters_;
  Named name_;
};

WEFT_HEADER_CODE_END
}  // namespace weft::sim
