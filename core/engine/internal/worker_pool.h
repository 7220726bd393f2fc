// Worker threads of the ThreadedEngine: a priority queue of ready operations and the threads that drain
// it, each owning a stream when it serves a GPU. Private to core/engine.
#ifndef POLYMIX_CORE_ENGINE_INTERNAL_WORKER_POOL_H_
#define POLYMIX_CORE_ENGINE_INTERNAL_WORKER_POOL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <thread>
#include <vector>

#include "core/base/device.h"
#include "core/base/error.h"
#include "core/base/mutex.h"
#include "core/engine/engine.h"

namespace pmx {
namespace engine_internal {

struct OpBlock;

// Ready operations, highest priority first and first-in-first-out among equals; an idle worker spins briefly,
// then blocks (Note [Spinning before sleeping] in spin.h).
class TaskQueue {
 public:
  // Adds `op`; `boosted` (kCPUPrioritized work in a pool without priority workers) beats any `priority`.
  void Push(OpBlock* op, int priority, bool boosted = false);
  // Blocks until an operation is available and returns it; returns nullptr once shut down and empty.
  OpBlock* Pop();
  // Wakes every waiting worker; Pop returns nullptr when the queue is empty from now on.
  void Shutdown();

 private:
  // One queued operation with its ordering key.
  struct Entry {
    bool boosted;
    int priority;
    uint64_t sequence;
    OpBlock* op;
    // Heap order: boosted, then higher priority, then earlier push.
    bool operator<(const Entry& other) const {
      if (boosted != other.boosted) return !boosted;
      if (priority != other.priority) return priority < other.priority;
      return sequence > other.sequence;
    }
  };

  // Whether an operation may be waiting, read without the lock while spinning.
  bool MaybeReady() const { return queued_.load(std::memory_order_acquire) > 0; }

  Mutex mutex_;
  CondVar available_;
  std::priority_queue<Entry> heap_ ABSL_GUARDED_BY(mutex_);
  std::atomic<int64_t> queued_{0};                // heap_.size(), or shutdown's wake-up; read while spinning.
  int sleepers_ ABSL_GUARDED_BY(mutex_) = 0;     // Workers blocked in available_.Wait.
  uint64_t next_sequence_ ABSL_GUARDED_BY(mutex_) = 0;
  bool shutdown_ ABSL_GUARDED_BY(mutex_) = false;
};

// Runs one dequeued operation: `context` carries the worker's stream (GPU) and `startup_error` is set
// when the worker could not get its device or stream (then the operation must fail, not run).
using RunFunction = std::function<void(OpBlock* op, RunContext context, const Error* startup_error)>;

// A fixed set of threads serving one TaskQueue for one device. On a GPU each thread first selects the
// device and creates its own stream; see Note [GPU stream per worker] in threaded_engine.cc.
class WorkerPool {
 public:
  // Starts `threads` workers for `device` that hand each operation to `run`.
  WorkerPool(int threads, Device device, RunFunction run);
  // Shuts the queue down and joins the workers (the queue must already be drained).
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // The queue the workers serve.
  TaskQueue* queue() { return &queue_; }

 private:
  // One worker's life: device and stream setup, the run loop, stream teardown.
  void WorkerLoop();

  const Device device_;
  const RunFunction run_;
  TaskQueue queue_;
  std::vector<std::thread> threads_;
};

}  // namespace engine_internal
}  // namespace pmx

#endif  // POLYMIX_CORE_ENGINE_INTERNAL_WORKER_POOL_H_
