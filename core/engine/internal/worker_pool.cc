#include "core/engine/internal/worker_pool.h"

#include <utility>

#include "core/backend/gpu_runtime.h"
#include "core/engine/internal/spin.h"

namespace pmx {
namespace engine_internal {

void TaskQueue::Push(OpBlock* op, int priority, bool boosted) {
  bool wake;
  {
    MutexLock lock(&mutex_);
    heap_.push(Entry{boosted, priority, next_sequence_++, op});
    queued_.store(static_cast<int64_t>(heap_.size()), std::memory_order_release);
    wake = sleepers_ > 0;
  }
  if (wake) available_.Signal();
}

OpBlock* TaskQueue::Pop() {
  // An idle worker polls before it blocks, and Push signals only blocked workers (Note [Spinning before
  // sleeping] in spin.h): a thread issuing small operations one after another then wakes nobody through the kernel.
  SpinUntil([this] { return MaybeReady(); });
  MutexLock lock(&mutex_);
  while (heap_.empty() && !shutdown_) {
    ++sleepers_;
    available_.Wait(&mutex_);
    --sleepers_;
  }
  if (heap_.empty()) return nullptr;
  OpBlock* op = heap_.top().op;
  heap_.pop();
  queued_.store(static_cast<int64_t>(heap_.size()), std::memory_order_release);
  return op;
}

void TaskQueue::Shutdown() {
  {
    MutexLock lock(&mutex_);
    shutdown_ = true;
  }
  available_.SignalAll();
}

WorkerPool::WorkerPool(int threads, Device device, RunFunction run) : device_(device), run_(std::move(run)) {
  threads_.reserve(threads);
  try {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { WorkerLoop(); });
  } catch (...) {
    // std::thread failed (out of threads): stop the ones started, then report it as a pmx::Error.
    queue_.Shutdown();
    for (std::thread& thread : threads_) thread.join();
    Error error = CurrentExceptionAsError();
    Throw(error.kind(), "[engine] cannot start a worker thread for %s: %s", device_.ToString(), error.message());
  }
}

WorkerPool::~WorkerPool() {
  queue_.Shutdown();
  for (std::thread& thread : threads_) thread.join();
}

void WorkerPool::WorkerLoop() {
  RunContext context{device_, nullptr};
  std::optional<Error> startup_error;
  if (!device_.is_host()) {
    // Nothing CUDA happens before the first GPU operation: pools for a GPU are created on first use.
    try {
      gpu::CheckDevice(device_.id);
      gpu::SetDevice(device_.id);
      context.stream = gpu::CreateStream(device_.id);
    } catch (...) {
      startup_error = CurrentExceptionAsError();
    }
  }
  const Error* startup = startup_error ? &*startup_error : nullptr;
  while (OpBlock* op = queue_.Pop()) run_(op, context, startup);
  if (context.stream != nullptr) {
    try {
      gpu::DestroyStream(device_.id, context.stream);
    } catch (...) {
      // The engine is shutting down with no operation left to blame; a failing teardown has no one to
      // report to, and throwing from a thread would terminate the process.
    }
  }
}

}  // namespace engine_internal
}  // namespace pmx
