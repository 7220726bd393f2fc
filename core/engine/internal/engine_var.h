// EngineVar: one variable's queue of pending reads and writes and the error stored on it, plus the
// helpers both engines share (stored errors, input validation). Private to core/engine.
#ifndef POLYMIX_CORE_ENGINE_INTERNAL_ENGINE_VAR_H_
#define POLYMIX_CORE_ENGINE_INTERNAL_ENGINE_VAR_H_

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "core/base/device.h"
#include "core/base/error.h"
#include "core/base/mutex.h"
#include "core/engine/engine.h"

namespace pmx {
namespace engine_internal {

struct OpBlock;  // A pushed operation of the ThreadedEngine (threaded_engine.cc).

// One operation's place in one variable's queue; lives inside its OpBlock, so queuing allocates nothing.
struct VarAccess {
  EngineVar* var = nullptr;   // The variable accessed.
  OpBlock* op = nullptr;      // The operation waiting for or holding the access.
  VarAccess* next = nullptr;  // The next waiting access on `var` (guarded by var's mutex).
  bool is_write = false;      // Whether the operation writes `var` (lists it in mutable_vars).
};

// Operations whose access was granted while completing another; each gets one dependency decrement.
using ReadyList = absl::InlinedVector<OpBlock*, 8>;

// Note [Engine errors]
// An exception escaping an operation becomes an ErrorRecord: a pmx::Error whose message starts with
// "[op_name] " (unless the exception's message already names an op by starting with '['), plus the
// engine's sequence number for it. The record is stored on every variable the operation writes.
// An operation is skipped, and passes the record on to its own mutable variables, when
//   - a variable it reads (const_vars) carries an error: its input is garbage; or
//   - a variable it writes (mutable_vars) carries an error nobody has reported yet: a write may be a
//     read-modify-write (`a += b`), so running it would silently bury the error.
// An error is *reported* once WaitForVar has rethrown it (from any variable carrying it) or once a
// WaitForAll has returned or thrown after it was raised. What counts is whether it was reported before
// the operation was *pushed* (not before it happens to run), so the outcome follows program order and
// not timing: each operation captures the report state when pushed. After that, a write runs again
// and, if it succeeds, clears the error (that is how a user recovers: `a[:] = 0` after catching the
// error); reads keep being skipped until then, and WaitForVar keeps rethrowing, so nothing stored is
// lost. Internal operations (WaitForVar's marker, DeleteVariable's deleter) are never skipped.
// MXNet 1.x differs in one point: its WaitForVar clears the error on rethrow, so a second wait on the
// same garbage array succeeds; we keep it until overwritten.

// The engine's report state as an operation saw it when pushed (Note [Engine errors]).
struct ReportState {
  int64_t reported_through = 0;  // Errors with sequence <= this were covered by a WaitForAll.
  int64_t report_clock = 0;      // WaitForVar reports stamped <= this had happened.
};

// An error raised by one operation and shared by every variable it reached.
struct ErrorRecord {
  // Wraps `error` as the engine's error number `sequence`.
  ErrorRecord(Error error, int64_t sequence) : error(std::move(error)), sequence(sequence) {}

  const Error error;       // Kind and message ("[op_name] ...").
  const int64_t sequence;  // 1 for the engine's first error, 2 for the next, ...
  // The engine's report clock when WaitForVar first rethrew it; INT64_MAX while never.
  std::atomic<int64_t> reported_at{INT64_MAX};

  // Records that WaitForVar rethrew it at report clock `stamp`.
  void MarkReported(int64_t stamp) {
    int64_t current = reported_at.load(std::memory_order_relaxed);
    while (stamp < current && !reported_at.compare_exchange_weak(current, stamp)) {
    }
  }
  // Whether the user had seen this error when an operation was pushed (Note [Engine errors]), given the
  // engine's state then: the highest error sequence a WaitForAll had covered, and the report clock.
  bool Reported(const ReportState& state) const {
    return sequence <= state.reported_through || reported_at.load(std::memory_order_acquire) <= state.report_clock;
  }
};

// The error of the exception in flight, named after `op_name` (Note [Engine errors]); call in a catch.
Error CurrentErrorNamed(const std::string& op_name);

// `error` re-attributed to `op_name` with `context`: "[op_name] <context><original message>".
Error ErrorNamed(const Error& error, const std::string& op_name, const std::string& context);

// The name used in messages for a caller's `op_name` (which may be null).
std::string OpName(const char* op_name);

// Throws ValueError (naming `op_name`) unless `device` has a known type and a non-negative id.
void ValidateDevice(const std::string& op_name, Device device);

// Throws ValueError naming `op_name` when a variable is null, belongs to another engine than `owner`, has
// a deletion pushed, or appears twice (in one list or in both).
void ValidateVariables(const void* owner, const std::string& op_name, const std::vector<VarHandle>& const_vars,
                       const std::vector<VarHandle>& mutable_vars);

}  // namespace engine_internal

// One variable. Its FIFO of waiting accesses follows MXNet's ThreadedVar: reads run together, a write
// waits for every earlier access and blocks every later one. The NaiveEngine uses only the stored error.
class EngineVar {
 public:
  // A variable of the engine `owner` with no pending work.
  explicit EngineVar(const void* owner) : owner_(owner) {}
  EngineVar(const EngineVar&) = delete;
  EngineVar& operator=(const EngineVar&) = delete;

  // The engine that created this variable.
  const void* owner() const { return owner_; }

  // Queues a read; returns true when it may start at once (no write running or waiting).
  bool AppendRead(engine_internal::VarAccess* access);
  // Queues a write; returns true when it may start at once (nothing running or waiting).
  bool AppendWrite(engine_internal::VarAccess* access);
  // Ends a running read; a write it was holding up is granted and added to `ready`.
  void CompleteRead(engine_internal::ReadyList* ready);
  // Ends the running write, stores `error` (nullptr clears it) and grants the next reads or write.
  void CompleteWrite(std::shared_ptr<engine_internal::ErrorRecord> error, engine_internal::ReadyList* ready);
  // Whether no write is running or waiting (WaitForVar has nothing to wait for).
  bool NoPendingWrites();

  // The stored error, or nullptr.
  std::shared_ptr<engine_internal::ErrorRecord> error();
  // Stores `error` (nullptr clears it); for engines that do not go through CompleteWrite.
  void set_error(std::shared_ptr<engine_internal::ErrorRecord> error);
  // Whether DeleteVariable has been called for this variable.
  bool deletion_pushed();
  // Records that DeleteVariable has been called.
  void mark_deletion_pushed();

 private:
  const void* const owner_;
  Mutex mutex_;
  // Waiting accesses in push order; when no write runs, the head (if any) is a write.
  engine_internal::VarAccess* head_ ABSL_GUARDED_BY(mutex_) = nullptr;
  engine_internal::VarAccess* tail_ ABSL_GUARDED_BY(mutex_) = nullptr;
  int running_reads_ ABSL_GUARDED_BY(mutex_) = 0;
  bool write_running_ ABSL_GUARDED_BY(mutex_) = false;
  std::shared_ptr<engine_internal::ErrorRecord> error_ ABSL_GUARDED_BY(mutex_);
  bool deletion_pushed_ ABSL_GUARDED_BY(mutex_) = false;

  // Appends `access` to the waiting FIFO.
  void Enqueue(engine_internal::VarAccess* access) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Removes and returns the head of the waiting FIFO.
  engine_internal::VarAccess* Dequeue() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
};

}  // namespace pmx

#endif  // POLYMIX_CORE_ENGINE_INTERNAL_ENGINE_VAR_H_
