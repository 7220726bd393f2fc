// NaiveEngine: runs every operation at once on the calling thread (POLYMIX_ENGINE_TYPE=NaiveEngine), with
// the ThreadedEngine's error semantics; for debugging. Private to core/engine; use CreateEngine.
#ifndef POLYMIX_CORE_ENGINE_INTERNAL_NAIVE_ENGINE_H_
#define POLYMIX_CORE_ENGINE_INTERNAL_NAIVE_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "core/backend/gpu_runtime.h"
#include "core/base/mutex.h"
#include "core/engine/engine.h"
#include "core/engine/internal/engine_var.h"

namespace pmx {
namespace engine_internal {

// The synchronous engine (MXNet's NaiveEngine). Pushes from several threads run concurrently, unordered.
class NaiveEngine final : public Engine {
 public:
  // An engine with nothing pending.
  NaiveEngine() = default;
  // Frees remaining variables and destroys the streams it created.
  ~NaiveEngine() override;

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

 private:
  // Validates, then runs `sync_fn` or `async_fn` now and stores the outcome on `mutable_vars`.
  void Run(const std::string& op_name, const std::function<void(RunContext)>* sync_fn,
           const std::function<void(RunContext, CompletionCallback)>* async_fn, Device device,
           const std::vector<VarHandle>& const_vars, const std::vector<VarHandle>& mutable_vars);
  // Calls the function with a context for `device` (creating the GPU's stream on first use) and returns
  // the error it raised, if any.
  std::optional<Error> Call(const std::string& op_name, const std::function<void(RunContext)>* sync_fn,
                            const std::function<void(RunContext, CompletionCallback)>* async_fn, Device device);
  // The stream of GPU `device`, created on first use.
  gpu::Stream StreamFor(int device);
  // Creates the record for a new error and remembers it for WaitForAll.
  std::shared_ptr<ErrorRecord> NewErrorRecord(Error error);

  mutable Mutex mutex_;
  std::shared_ptr<ErrorRecord> first_error_ ABSL_GUARDED_BY(mutex_);  // Since the last WaitForAll.
  int64_t error_sequence_ ABSL_GUARDED_BY(mutex_) = 0;
  std::atomic<int64_t> reported_through_{0};  // Errors up to this sequence were covered by a WaitForAll.
  std::atomic<int64_t> report_clock_{0};      // Counts WaitForVar reports (Note [Engine errors]).
  std::atomic<int64_t> running_{0};           // Operations running now (on callers' threads).
  absl::flat_hash_set<EngineVar*> vars_ ABSL_GUARDED_BY(mutex_);         // Live variables.
  absl::flat_hash_map<int, gpu::Stream> streams_ ABSL_GUARDED_BY(mutex_);  // One stream per GPU used.
};

}  // namespace engine_internal
}  // namespace pmx

#endif  // POLYMIX_CORE_ENGINE_INTERNAL_NAIVE_ENGINE_H_
