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
// A handle to a variable; valid from NewVariable until the deletion pushed by DeleteVariable has run.
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
  kAsync,           // Runs on the pushing thread's dispatcher and completes later through the callback.
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
  // every later operation reading or writing those variables is skipped and passes the error on to its
  // own mutable variables, and the error is rethrown by WaitForVar / WaitForAll. Higher `priority` runs
  // first among ready operations. A variable may not appear in both lists or twice in one list.
  virtual void PushSync(std::function<void(RunContext)> fn, Device device,
                        std::vector<VarHandle> const_vars, std::vector<VarHandle> mutable_vars,
                        FnProperty property = FnProperty::kNormal, int priority = 0,
                        const char* op_name = "op") = 0;

  // Like PushSync, but `fn` starts work and reports its end through the callback it is given.
  virtual void PushAsync(std::function<void(RunContext, CompletionCallback)> fn, Device device,
                         std::vector<VarHandle> const_vars, std::vector<VarHandle> mutable_vars,
                         FnProperty property = FnProperty::kNormal, int priority = 0,
                         const char* op_name = "op") = 0;

  // Runs `delete_fn` (freeing the data `var` guards) after all work on `var` is done, then deletes `var`.
  // Errors stored on the variable are dropped with it.
  virtual void DeleteVariable(std::function<void(RunContext)> delete_fn, Device device, VarHandle var) = 0;

  // Blocks until every pushed write to `var` has finished; rethrows (as pmx::Error) an error stored on
  // `var`. A later successful write to `var` clears the error.
  virtual void WaitForVar(VarHandle var) = 0;

  // Blocks until all pushed work has finished; rethrows the first error raised by any operation since
  // the previous WaitForAll, then forgets it.
  virtual void WaitForAll() = 0;

  // Operations pushed but not yet finished (for tests and statistics).
  virtual int64_t PendingOperations() const = 0;

  virtual ~Engine() = default;
};

// Creates a fresh engine of `type` ("ThreadedEngine" or "NaiveEngine") that is not the process's
// engine; for tests and benchmarks. `cpu_workers` <= 0 means the environment's setting.
std::unique_ptr<Engine> CreateEngine(const std::string& type, int cpu_workers = 0);

}  // namespace pmx

#endif  // POLYMIX_CORE_ENGINE_ENGINE_H_
