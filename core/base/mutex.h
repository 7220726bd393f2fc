// Mutex, MutexLock and CondVar: std::mutex with Abseil's thread-safety annotations.
#ifndef POLYMIX_CORE_BASE_MUTEX_H_
#define POLYMIX_CORE_BASE_MUTEX_H_

#include <condition_variable>
#include <mutex>

#include "absl/base/thread_annotations.h"

namespace pmx {

// Note [Mutex]
// The engine and storage guard their state with ABSL_GUARDED_BY annotations (checked by clang's
// -Wthread-safety). The lock itself is std::mutex rather than absl::Mutex: Debian's Abseil is built
// without ThreadSanitizer hooks, so TSan cannot see absl::Mutex's happens-before edges and reports false
// races, while it understands pthread mutexes natively. This wrapper keeps the annotations and TSan.

// A mutual-exclusion lock, annotated as a capability.
class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // Blocks until the lock is held.
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mutex_.lock(); }
  // Releases the lock.
  void Unlock() ABSL_UNLOCK_FUNCTION() { mutex_.unlock(); }

 private:
  friend class CondVar;
  std::mutex mutex_;
};

// Holds a Mutex for its lifetime.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  // Locks `mutex` until this object is destroyed.
  explicit MutexLock(Mutex* mutex) ABSL_EXCLUSIVE_LOCK_FUNCTION(mutex) : mutex_(mutex) { mutex_->Lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mutex_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* mutex_;
};

// A condition variable used with a held Mutex.
class CondVar {
 public:
  // Atomically releases `mutex`, waits for a signal and re-acquires it; call in a predicate loop.
  void Wait(Mutex* mutex) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex) {
    std::unique_lock<std::mutex> lock(mutex->mutex_, std::adopt_lock);
    condition_.wait(lock);
    lock.release();
  }
  // Wakes one waiter.
  void Signal() { condition_.notify_one(); }
  // Wakes every waiter.
  void SignalAll() { condition_.notify_all(); }

 private:
  std::condition_variable condition_;
};

}  // namespace pmx

#endif  // POLYMIX_CORE_BASE_MUTEX_H_
