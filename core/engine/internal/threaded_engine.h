// ThreadedEngine: operations wait in per-variable queues and run on per-device worker pools as soon as
// their dependencies allow. Private to core/engine; use CreateEngine or Engine::Get.
#ifndef POLYMIX_CORE_ENGINE_INTERNAL_THREADED_ENGINE_H_
#define POLYMIX_CORE_ENGINE_INTERNAL_THREADED_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "core/base/mutex.h"
#include "core/engine/engine.h"
#include "core/engine/internal/engine_var.h"
#include "core/engine/internal/worker_pool.h"

namespace pmx {
namespace engine_internal {

// The asynchronous engine (MXNet's ThreadedEnginePerDevice).
class ThreadedEngine final : public Engine {
 public:
  // An engine with `cpu_workers` CPU workers (>= 1); priority and GPU worker counts come from Env().
  explicit ThreadedEngine(int cpu_workers);
  // Waits for all pushed work (errors are dropped), joins the workers and frees remaining variables.
  ~ThreadedEngine() override;

  // The Engine interface; see engine.h.
  VarHandle NewVariable() override;
  void PushSync(std::function<void(RunContext)> fn, Device device, std::vector<VarHandle> const_vars,
                std::vector<VarHandle> mutable_vars, FnProperty property, int priority,
                const char* op_name) override;
  void PushAsync(std::function<void(RunContext, CompletionCallback)> fn, Device device,
                 std::vector<VarHandle> const_vars, std::vector<VarHandle> mutable_vars, FnProperty property,
                 int priority, const char* op_name) override;
  void DeleteVariable(std::function<void(RunContext)> delete_fn, Device device, VarHandle var) override;
  void WaitForVar(VarHandle var) override;
  void WaitForAll() override;
  int64_t PendingOperations() const override;

  // Runs `op` on the calling worker (or inline for kAsync); public for the worker pools' RunFunction.
  void Execute(OpBlock* op, RunContext context, const Error* startup_error);
  // Records one of `op`'s completion signals (slot 0: sync fn, or async fn's callback; slot 1: async
  // fn's return, with the GPU stream synchronization); the last one finishes the operation.
  void Signal(OpBlock* op, int slot, std::optional<Error> error);

 private:
  // Validates, queues `op` on its variables and dispatches it if nothing holds it up.
  void Push(std::unique_ptr<OpBlock> op, const std::vector<VarHandle>& const_vars,
            const std::vector<VarHandle>& mutable_vars);
  // Chooses the queue for `op` (nullptr: run inline), creating GPU pools on first use.
  TaskQueue* QueueFor(Device device, FnProperty property);
  // Hands a ready operation to its queue, or runs it inline (Note [Inline operations]).
  void Dispatch(OpBlock* op);
  // The error that makes `op` skip (Note [Engine errors]), or nullptr.
  std::shared_ptr<ErrorRecord> InputError(const OpBlock& op) const;
  // Releases `op`'s variables, stores its outcome, dispatches what became ready and frees `op`.
  void Finish(OpBlock* op);
  // Creates the record for a new error and remembers it for WaitForAll.
  std::shared_ptr<ErrorRecord> NewErrorRecord(Error error);
  // Throws RuntimeError when called from inside an operation (waiting there would deadlock).
  void CheckNotInOperation(const char* what) const;

  const int priority_workers_;  // Env().cpu_priority_threads: 0 sends kCPUPrioritized work to cpu_pool_.
  const int gpu_workers_;       // Env().gpu_worker_threads: compute workers (one stream each) per GPU.
  const int gpu_copy_workers_;  // Env().gpu_copy_threads: copy workers (one stream each) per GPU.

  // Serializes the append phase of pushes so two threads cannot queue the same pair of variables in
  // opposite orders (which would deadlock both operations).
  Mutex push_mutex_;

  mutable Mutex mutex_;
  CondVar idle_;  // Signalled when pending_ drops to 0.
  int64_t pending_ ABSL_GUARDED_BY(mutex_) = 0;
  std::shared_ptr<ErrorRecord> first_error_ ABSL_GUARDED_BY(mutex_);  // Since the last WaitForAll.
  int64_t error_sequence_ ABSL_GUARDED_BY(mutex_) = 0;
  std::atomic<int64_t> reported_through_{0};  // Errors up to this sequence were covered by a WaitForAll.
  std::atomic<int64_t> report_clock_{0};      // Counts WaitForVar reports (Note [Engine errors]).

  Mutex vars_mutex_;
  absl::flat_hash_set<EngineVar*> vars_ ABSL_GUARDED_BY(vars_mutex_);  // Live variables, freed at exit.

  std::unique_ptr<WorkerPool> cpu_pool_;
  std::unique_ptr<WorkerPool> priority_pool_;
  Mutex gpu_mutex_;
  // GPU pools by device id, created on first use: compute pools and copy pools.
  absl::flat_hash_map<int, std::unique_ptr<WorkerPool>> gpu_pools_ ABSL_GUARDED_BY(gpu_mutex_);
  absl::flat_hash_map<int, std::unique_ptr<WorkerPool>> gpu_copy_pools_ ABSL_GUARDED_BY(gpu_mutex_);
};

}  // namespace engine_internal
}  // namespace pmx

#endif  // POLYMIX_CORE_ENGINE_INTERNAL_THREADED_ENGINE_H_
