// The asynchronous dependency engine: operations pushed with the variables they read and write run as
// soon as their dependencies allow, on per-device workers; reads run concurrently, writes are ordered.
#ifndef POLYMIX_CORE_ENGINE_ENGINE_H_
#define POLYMIX_CORE_ENGINE_ENGINE_H_

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/base/device.h"

namespace pmx {

// Opaque engine variable: a token for one piece of data (an NDArray chunk, an RNG state, ...).
class EngineVar;
// A handle to a variable; valid from NewVariable until DeleteVariable (pushing work on it after
// DeleteVariable is a ValueError while the deletion is pending, undefined once it has run). Variables
// not deleted are freed with their engine.
using VarHandle = EngineVar*;

// What a running operation gets: its device and, on a GPU, the stream of the worker running it.
struct RunContext {
  Device device;          // The device the operation was pushed for.
  void* stream = nullptr;  // The worker's CUDA stream (cudaStream_t) on a GPU; nullptr on the host.
};

// How an operation is scheduled.
enum class FnProperty {
  kNormal,          // Compute on its device's workers.
  kCopyToGPU,       // A host-to-GPU copy: runs on the GPU's copy workers.
  kCopyFromGPU,     // A GPU-to-host or GPU-to-GPU copy: runs on the source GPU's copy workers.
  kCPUPrioritized,  // Host work that jumps ahead of normal-priority work.
  kAsync,           // Runs (briefly: it must not block) on the thread that makes it ready, with no stream.
};

// Called exactly once by an asynchronous operation when it has finished (with nullptr) or failed (with
// the exception). Safe to call from any thread.
using CompletionCallback = std::function<void(std::exception_ptr error)>;

// The engine interface; Engine::Get() returns the ThreadedEngine or, with
// POLYMIX_ENGINE_TYPE=NaiveEngine, the NaiveEngine that runs everything on the caller's thread.
class Engine {
 public:
  // The process's engine (created on first use from the environment settings).
  static Engine* Get();

  // Creates a variable with no pending work.
  virtual VarHandle NewVariable() = 0;

  // Pushes `fn`, which runs synchronously on a worker of `device` once every earlier write to
  // `const_vars` and every earlier read or write of `mutable_vars` has finished. An exception thrown by
  // `fn` is stored on each of `mutable_vars` (prefixed with "[op_name] " unless it already names an op),
  // every later operation reading those variables, or writing them before the error has been reported,
  // is skipped and passes the error on to its own mutable variables, and the error is rethrown by
  // WaitForVar / WaitForAll (see Note [Engine errors] in internal/engine_var.h). Higher `priority` runs
  // first among ready operations. A variable may not appear in both lists or twice in one list; a null
  // or deleted variable, an empty `fn` or a bad device is a ValueError thrown here. On a GPU the worker
  // synchronizes its stream after `fn` returns, before the operation counts as finished.
  virtual void PushSync(std::function<void(RunContext)> fn, Device device,
                        std::vector<VarHandle> const_vars, std::vector<VarHandle> mutable_vars,
                        FnProperty property = FnProperty::kNormal, int priority = 0,
                        const char* op_name = "op") = 0;

  // Like PushSync, but `fn` starts work and reports its end through the callback it is given; the
  // operation finishes once the callback has been called and `fn` has returned. An exception thrown by
  // `fn` counts as the callback's error (later calls are then ignored).
  virtual void PushAsync(std::function<void(RunContext, CompletionCallback)> fn, Device device,
                         std::vector<VarHandle> const_vars, std::vector<VarHandle> mutable_vars,
                         FnProperty property = FnProperty::kNormal, int priority = 0,
                         const char* op_name = "op") = 0;

  // Runs `delete_fn` (freeing the data `var` guards; may be empty) after all work on `var` is done, even
  // if `var` carries an error, then deletes `var`. Errors stored on the variable are dropped with it; an
  // exception from `delete_fn` is reported by WaitForAll.
  virtual void DeleteVariable(std::function<void(RunContext)> delete_fn, Device device, VarHandle var) = 0;

  // Blocks until every pushed write to `var` has finished; rethrows (as pmx::Error) an error stored on
  // `var` and marks it reported. The error stays (WaitForVar rethrows it again) until a later write to
  // `var` succeeds. Never call from inside an operation (the ThreadedEngine throws RuntimeError).
  virtual void WaitForVar(VarHandle var) = 0;

  // Blocks until all pushed work has finished; rethrows the first error raised by any operation since
  // the previous WaitForAll, then forgets it (errors stay stored on variables, now reported).
  virtual void WaitForAll() = 0;

  // Operations pushed but not yet finished, WaitForVar's internal markers included (for tests and
  // statistics; only 0 after WaitForAll is guaranteed, a variable's last writer may still be finishing
  // when WaitForVar returns).
  virtual int64_t PendingOperations() const = 0;

  // Drains pushed work (discarding errors) and stops the workers; an async fn that never calls its
  // callback keeps this waiting.
  virtual ~Engine() = default;
};

// Creates a fresh engine of `type` ("ThreadedEngine" or "NaiveEngine") that is not the process's
// engine; for tests and benchmarks. `cpu_workers` <= 0 means the environment's setting.
std::unique_ptr<Engine> CreateEngine(const std::string& type, int cpu_workers = 0);

}  // namespace pmx

#endif  // POLYMIX_CORE_ENGINE_ENGINE_H_
