#include "sim/shared_mutex.h"

namespace weft::sim {

void SharedMutex::fail_misuse(Scheduler& s, const char* what) {
  s.fail(FailureKind::kAssertion, "strand '" +
                                      s.strand_name(s.current_strand()) + "' " +
                                      what + " " + name_.label("shared mutex"));
}

void SharedMutex::lock(SourceLocation where) {
  Scheduler* s = Scheduler::current();
  if (s == nullptr) {
    real_.lock();
    return;
  }
  s->choice_point(ChoiceKind::kLock);
  if (writer_ == s->current_strand() && !s->tearing_down()) {
    fail_misuse(*s, "locked again, while holding it,");
    throw StrandAborted{};
  }
  if (!waiters_.block_until(
          *s, [this] { return writer_ == kNoStrand && readers_ == 0; },
          ChoiceKind::kLock, this, "lock", where))
    return;
  writer_ = s->current_strand();
  name_.note(*s, ChoiceKind::kLock, "lock", "shared mutex", where);
}

bool SharedMutex::try_lock() {
  Scheduler* s = Scheduler::current();
  if (s == nullptr) return real_.try_lock();
  s->choice_point(ChoiceKind::kLock);
  if (writer_ != kNoStrand || readers_ != 0) return false;
  writer_ = s->current_strand();
  return true;
}

void SharedMutex::unlock() {
  Scheduler* s = Scheduler::current();
  if (s == nullptr) {
    real_.unlock();
    return;
  }
  s->choice_point(ChoiceKind::kUnlock, /*may_unwind=*/false);
  if (writer_ != s->current_strand()) {
    if (!s->tearing_down()) fail_misuse(*s, "unlocked, without holding it,");
    return;
  }
  writer_ = kNoStrand;
  name_.note(*s, ChoiceKind::kUnlock, "unlock", "shared mutex");
  waiters_.wake_all(*s);
}

void SharedMutex::lock_shared(SourceLocation where) {
  Scheduler* s = Scheduler::current();
  if (s == nullptr) {
    real_.lock_shared();
    return;
  }
  s->choice_point(ChoiceKind::kLock);
  if (!waiters_.block_until(
          *s, [this] { return writer_ == kNoStrand; }, ChoiceKind::kLock, this,
          "lock_shared", where))
    return;
  ++readers_;
  name_.note(*s, ChoiceKind::kLock, "lock_shared", "shared mutex", where);
}

bool SharedMutex::try_lock_shared() {
  Scheduler* s = Scheduler::current();
  if (s == nullptr) return real_.try_lock_shared();
  s->choice_point(ChoiceKind::kLock);
  if (writer_ != kNoStrand) return false;
  ++readers_;
  return true;
}

void SharedMutex::unlock_shared() {
  Scheduler* s = Scheduler::current();
  if (s == nullptr) {
    real_.unlock_shared();
    return;
  }
  s->choice_point(ChoiceKind::kUnlock, /*may_unwind=*/false);
  if (readers_ == 0) {
    if (!s->tearing_down())
      fail_misuse(*s, "unlocked (shared), without holding it,");
    return;
  }
  name_.note(*s, ChoiceKind::kUnlock, "unlock_shared", "shared mutex");
  if (--readers_ == 0) waiters_.wake_all(*s);
}

std::string SharedMutex::describe() const {
  std::string d = name_.label("shared mutex");
  Scheduler* s = Scheduler::current();
  if (s != nullptr && writer_ != kNoStrand)
    d += " held by strand '" + s->strand_name(writer_) + "'";
  else if (readers_ != 0)
    d += " held by " + std::to_string(readers_) + " reader(s)";
  return d;
}

}  // namespace weft::sim
