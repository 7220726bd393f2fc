#include "core/engine/internal/threaded_engine.h"

#include <deque>
#include <exception>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "core/backend/gpu_runtime.h"
#include "core/base/env.h"
#include "core/engine/internal/spin.h"

namespace pmx {
namespace engine_internal {

// Note [GPU stream per worker]
// Every GPU worker thread (compute and copy alike) owns one non-blocking stream, created on the worker's
// own thread after SetDevice, the first time work is pushed for that GPU: a CPU-only process never
// touches CUDA, and in a build without CUDA the failure to create the stream is stored on the operations
// sent to that GPU and rethrown at the next WaitForVar / WaitForAll instead of crashing. Separate copy
// workers let host<->device transfers overlap compute, as MXNet's per-device engine does.
//
// After a GPU operation's fn returns, its worker synchronizes the stream and only then completes the
// operation. The engine's dependency tracking is host-side: releasing the variables while kernels are
// still queued would let a dependent operation on another worker's stream (or on the host) read memory
// the kernels have not written yet, or a deleter free memory still in use; a stream error would also
// surface on the wrong operation. The cost is a host round trip per operation and no overlap between
// consecutive operations of one worker. Event-based completion would lift that: record a cudaEvent after
// fn, complete the operation when the event fires (polled by a completion thread or
// cudaLaunchHostFunc), and let dependents on other GPU streams cudaStreamWaitEvent instead of waiting on
// the host, so one worker keeps many operations in flight. That needs events in gpu_runtime.h and a
// per-variable "last write event", and is left for when GPU kernels exist to measure it against.

// Note [Inline operations]
// kAsync operations, and WaitForVar's internal marker, run on whichever thread makes them ready: the
// pushing thread, a worker finishing a dependency, or the thread calling an async completion callback.
// Running them directly could recurse without bound (a chain of inline operations whose callbacks fire
// at once would nest Finish -> Dispatch -> Execute on one stack), so each thread keeps a small queue:
// the outermost inline run drains it, nested ones only append. No engine lock is held while an
// operation's fn runs, so fns may push further work.

// The kind of a pushed operation.
enum class OpKind {
  kUser,    // PushSync / PushAsync.
  kDelete,  // DeleteVariable's deleter: never skipped; frees its variable when done.
  kWait,    // WaitForVar's marker: never skipped; wakes the waiting thread.
};

// A pushed operation: its function, where it runs, its variable accesses and its completion state.
struct OpBlock {
  std::function<void(RunContext)> sync_fn;                         // Set for PushSync (and internal ops).
  std::function<void(RunContext, CompletionCallback)> async_fn;   // Set for PushAsync.
  Device device;                              // Where it runs.
  FnProperty property = FnProperty::kNormal;  // How it is scheduled.
  int priority = 0;                           // Higher first among ready operations of one queue.
  std::string op_name;                        // For error messages.
  OpKind kind = OpKind::kUser;                // User work or an engine-internal operation.
  TaskQueue* queue = nullptr;  // Where it runs once ready; nullptr: inline (Note [Inline operations]).
  bool boosted = false;        // kCPUPrioritized work in the normal CPU pool.
  absl::InlinedVector<VarAccess, 4> accesses;  // Reads first, then writes; never resized once queued.
  std::atomic<int> wait{0};     // Accesses not yet granted, plus one while Push is still queuing.
  std::atomic<int> signals{1};  // Completion signals still to come (2 for async: callback, fn return).
  std::optional<Error> errors[2];              // Per signal slot; each written by one signaller only.
  std::shared_ptr<ErrorRecord> skipped_because;  // Set when an input carried an error.
  ReportState reports;  // Which errors had been reported when it was pushed.
};

namespace {

// Whether the current thread is running an operation's fn (waiting there would deadlock).
thread_local int operation_depth = 0;

// Marks the current thread as inside an operation's fn for its lifetime.
class OperationScope {
 public:
  OperationScope() { ++operation_depth; }
  ~OperationScope() { --operation_depth; }
};

// The calling thread's queue of inline operations (Note [Inline operations]).
struct InlineRunner {
  bool running = false;
  std::deque<std::pair<ThreadedEngine*, OpBlock*>> waiting;
};
thread_local InlineRunner inline_runner;

// The completion callback's shared state: the first call (or a throw from fn) wins, later calls are
// ignored, so a callback fired after fn threw cannot complete the operation twice.
struct CallbackState {
  ThreadedEngine* engine;
  OpBlock* op;
  std::string op_name;
  std::atomic<bool> called{false};

  // Completes the callback slot of `op` with `error` unless it was completed before.
  void Fire(std::exception_ptr error) {
    if (called.exchange(true, std::memory_order_acq_rel)) return;
    std::optional<Error> converted;
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (...) {
        converted = CurrentErrorNamed(op_name);
      }
    }
    engine->Signal(op, 0, std::move(converted));
  }
};

}  // namespace

ThreadedEngine::ThreadedEngine(int cpu_workers)
    : priority_workers_(Env().cpu_priority_threads),
      gpu_workers_(Env().gpu_worker_threads),
      gpu_copy_workers_(Env().gpu_copy_threads) {
  PMX_CHECK(cpu_workers >= 1, kValueError, "[ThreadedEngine] cpu_workers: expected >= 1, got %d", cpu_workers);
  RunFunction run = [this](OpBlock* op, RunContext context, const Error* startup) {
    Execute(op, context, startup);
  };
  cpu_pool_ = std::make_unique<WorkerPool>(cpu_workers, Device::cpu(), run);
  if (priority_workers_ > 0) priority_pool_ = std::make_unique<WorkerPool>(priority_workers_, Device::cpu(), run);
}

ThreadedEngine::~ThreadedEngine() {
  {
    MutexLock lock(&mutex_);
    while (pending_ > 0) idle_.Wait(&mutex_);
  }
  cpu_pool_.reset();
  priority_pool_.reset();
  {
    MutexLock lock(&gpu_mutex_);
    gpu_pools_.clear();
    gpu_copy_pools_.clear();
  }
  MutexLock lock(&vars_mutex_);
  for (EngineVar* var : vars_) delete var;
  vars_.clear();
}

VarHandle ThreadedEngine::NewVariable() {
  auto* var = new EngineVar(this);
  MutexLock lock(&vars_mutex_);
  vars_.insert(var);
  return var;
}

TaskQueue* ThreadedEngine::QueueFor(Device device, FnProperty property) {
  if (property == FnProperty::kAsync) return nullptr;
  if (device.is_host()) {
    // Copy properties on a host device are ordinary host work, as in MXNet.
    if (property == FnProperty::kCPUPrioritized && priority_pool_) return priority_pool_->queue();
    return cpu_pool_->queue();
  }
  const bool copy = property == FnProperty::kCopyToGPU || property == FnProperty::kCopyFromGPU;
  MutexLock lock(&gpu_mutex_);
  auto& pools = copy ? gpu_copy_pools_ : gpu_pools_;
  std::unique_ptr<WorkerPool>& pool = pools[device.id];
  if (!pool) {
    RunFunction run = [this](OpBlock* op, RunContext context, const Error* startup) {
      Execute(op, context, startup);
    };
    try {
      pool = std::make_unique<WorkerPool>(copy ? gpu_copy_workers_ : gpu_workers_, device, std::move(run));
    } catch (...) {
      pools.erase(device.id);
      throw;
    }
  }
  return pool->queue();
}

void ThreadedEngine::PushSync(std::function<void(RunContext)> fn, Device device, std::vector<VarHandle> const_vars,
                              std::vector<VarHandle> mutable_vars, FnProperty property, int priority,
                              const char* op_name) {
  auto op = std::make_unique<OpBlock>();
  op->op_name = OpName(op_name);
  PMX_CHECK(fn != nullptr, kValueError, "[%s] fn: expected a function, got an empty one", op->op_name);
  op->sync_fn = std::move(fn);
  op->device = device;
  op->property = property;
  op->priority = priority;
  Push(std::move(op), const_vars, mutable_vars);
}

void ThreadedEngine::PushAsync(std::function<void(RunContext, CompletionCallback)> fn, Device device,
                               std::vector<VarHandle> const_vars, std::vector<VarHandle> mutable_vars,
                               FnProperty property, int priority, const char* op_name) {
  auto op = std::make_unique<OpBlock>();
  op->op_name = OpName(op_name);
  PMX_CHECK(fn != nullptr, kValueError, "[%s] fn: expected a function, got an empty one", op->op_name);
  op->async_fn = std::move(fn);
  op->device = device;
  op->property = property;
  op->priority = priority;
  Push(std::move(op), const_vars, mutable_vars);
}

void ThreadedEngine::DeleteVariable(std::function<void(RunContext)> delete_fn, Device device, VarHandle var) {
  auto op = std::make_unique<OpBlock>();
  op->op_name = "DeleteVariable";
  op->kind = OpKind::kDelete;
  op->sync_fn = delete_fn ? std::move(delete_fn) : [](RunContext) {};
  op->device = device;
  Push(std::move(op), {}, {var});
}

void ThreadedEngine::Push(std::unique_ptr<OpBlock> op, const std::vector<VarHandle>& const_vars,
                          const std::vector<VarHandle>& mutable_vars) {
  ValidateDevice(op->op_name, op->device);
  if (op->kind != OpKind::kWait) op->queue = QueueFor(op->device, op->property);
  op->boosted = op->property == FnProperty::kCPUPrioritized && op->device.is_host() && !priority_pool_;
  if (op->async_fn) op->signals.store(2);  // The callback and fn's return (see Execute).
  for (VarHandle var : const_vars) op->accesses.push_back(VarAccess{var, op.get(), nullptr, false});
  for (VarHandle var : mutable_vars) op->accesses.push_back(VarAccess{var, op.get(), nullptr, true});
  op->reports.reported_through = reported_through_.load(std::memory_order_acquire);
  op->reports.report_clock = report_clock_.load(std::memory_order_acquire);
  const int total = static_cast<int>(op->accesses.size());
  op->wait.store(total + 1, std::memory_order_relaxed);
  OpBlock* block = op.get();
  int granted = 0;
  {
    // Validated under push_mutex_ so no DeleteVariable slips in between the check and the queuing.
    MutexLock lock(&push_mutex_);
    ValidateVariables(this, block->op_name, const_vars, mutable_vars);
    {
      MutexLock count_lock(&mutex_);
      ++pending_;
    }
    if (block->kind == OpKind::kDelete) mutable_vars[0]->mark_deletion_pushed();
    op.release();  // From here on the variables' queues refer to the block; Finish frees it.
    for (VarAccess& access : block->accesses) {
      if (access.is_write ? access.var->AppendWrite(&access) : access.var->AppendRead(&access)) ++granted;
    }
  }
  // The extra count kept the block from starting while it was still being queued.
  if (block->wait.fetch_sub(granted + 1, std::memory_order_acq_rel) == granted + 1) Dispatch(block);
}

void ThreadedEngine::Dispatch(OpBlock* op) {
  if (op->queue != nullptr) {
    op->queue->Push(op, op->priority, op->boosted);
    return;
  }
  InlineRunner& runner = inline_runner;
  runner.waiting.emplace_back(this, op);
  if (runner.running) return;
  runner.running = true;
  while (!runner.waiting.empty()) {
    auto [engine, next] = runner.waiting.front();
    runner.waiting.pop_front();
    engine->Execute(next, RunContext{next->device, nullptr}, nullptr);
  }
  runner.running = false;
}

std::shared_ptr<ErrorRecord> ThreadedEngine::InputError(const OpBlock& op) const {
  for (const VarAccess& access : op.accesses) {
    std::shared_ptr<ErrorRecord> error = access.var->error();
    if (error && (!access.is_write || !error->Reported(op.reports))) return error;
  }
  return nullptr;
}

void ThreadedEngine::Execute(OpBlock* op, RunContext context, const Error* startup_error) {
  if (op->kind == OpKind::kUser) {
    if (std::shared_ptr<ErrorRecord> error = InputError(*op)) {
      op->skipped_because = std::move(error);
      op->signals.store(0, std::memory_order_relaxed);
      Finish(op);
      return;
    }
  }
  if (startup_error != nullptr) {
    op->errors[0] = ErrorNamed(*startup_error, op->op_name, "cannot run on " + op->device.ToString() + ": ");
    op->signals.store(0, std::memory_order_relaxed);
    Finish(op);
    return;
  }
  // Only GPU workers have a stream; kAsync work on a GPU runs inline without one.
  const bool synchronize = context.stream != nullptr;
  if (op->sync_fn) {
    std::optional<Error> error;
    try {
      {
        OperationScope scope;
        op->sync_fn(context);
      }
      if (synchronize) gpu::SynchronizeStream(context.stream);
    } catch (...) {
      error = CurrentErrorNamed(op->op_name);
    }
    Signal(op, 0, std::move(error));
    return;
  }
  // Async: the operation finishes on two signals, the callback (slot 0, from any thread) and fn's
  // return (slot 1, after the stream synchronization on a GPU), so a waiter never frees what a still
  // running fn uses, and `op` stays valid here until slot 1 is signalled.
  auto state = std::make_shared<CallbackState>();
  state->engine = this;
  state->op = op;
  state->op_name = op->op_name;
  try {
    OperationScope scope;
    op->async_fn(context, [state](std::exception_ptr error) { state->Fire(std::move(error)); });
  } catch (...) {
    state->Fire(std::current_exception());
  }
  std::optional<Error> error;
  if (synchronize) {
    try {
      gpu::SynchronizeStream(context.stream);
    } catch (...) {
      error = CurrentErrorNamed(op->op_name);
    }
  }
  Signal(op, 1, std::move(error));
}

void ThreadedEngine::Signal(OpBlock* op, int slot, std::optional<Error> error) {
  if (error) op->errors[slot] = std::move(error);
  if (op->signals.fetch_sub(1, std::memory_order_acq_rel) == 1) Finish(op);
}

std::shared_ptr<ErrorRecord> ThreadedEngine::NewErrorRecord(Error error) {
  MutexLock lock(&mutex_);
  auto record = std::make_shared<ErrorRecord>(std::move(error), ++error_sequence_);
  if (!first_error_) first_error_ = record;
  return record;
}

void ThreadedEngine::Finish(OpBlock* op) {
  std::shared_ptr<ErrorRecord> outcome = op->skipped_because;
  if (!outcome) {
    for (std::optional<Error>& error : op->errors) {
      if (error) {
        outcome = NewErrorRecord(std::move(*error));
        break;
      }
    }
  }
  ReadyList ready;
  EngineVar* deleted = nullptr;
  for (VarAccess& access : op->accesses) {
    if (!access.is_write) {
      access.var->CompleteRead(&ready);
    } else if (op->kind == OpKind::kDelete) {
      // Nothing can queue behind a deletion (Push rejects the variable), so the var is idle now.
      access.var->CompleteWrite(nullptr, &ready);
      deleted = access.var;
    } else {
      access.var->CompleteWrite(outcome, &ready);
    }
  }
  delete op;  // Before completion is signalled: captured state must not outlive WaitForAll.
  if (deleted != nullptr) {
    {
      MutexLock lock(&vars_mutex_);
      vars_.erase(deleted);
    }
    delete deleted;
  }
  for (OpBlock* next : ready) {
    if (next->wait.fetch_sub(1, std::memory_order_acq_rel) == 1) Dispatch(next);
  }
  // Last: once pending_ reaches 0 the engine may be destroyed, so nothing below may touch `this`.
  MutexLock lock(&mutex_);
  if (--pending_ == 0) idle_.SignalAll();
}

void ThreadedEngine::CheckNotInOperation(const char* what) const {
  PMX_CHECK(operation_depth == 0, kRuntimeError,
            "[%s] expected a call from outside the engine, got one from inside an operation (it would wait "
            "for itself)",
            what);
}

void ThreadedEngine::WaitForVar(VarHandle var) {
  ValidateVariables(this, "WaitForVar", {var}, {});
  CheckNotInOperation("WaitForVar");
  if (!var->NoPendingWrites()) {
    Mutex mutex;
    CondVar woken;
    std::atomic<bool> done{false};
    auto op = std::make_unique<OpBlock>();
    op->op_name = "WaitForVar";
    op->kind = OpKind::kWait;
    op->device = Device::cpu();
    op->sync_fn = [&](RunContext) {
      MutexLock lock(&mutex);
      done.store(true, std::memory_order_release);
      woken.Signal();
    };
    Push(std::move(op), {var}, {});
    // Note [Spinning before sleeping]: a short operation is usually done before a sleep would even begin. The
    // marker signals under `mutex`, so taking it below also waits until the marker no longer touches this frame.
    SpinUntil([&] { return done.load(std::memory_order_acquire); });
    MutexLock lock(&mutex);
    while (!done.load(std::memory_order_acquire)) woken.Wait(&mutex);
  }
  if (std::shared_ptr<ErrorRecord> error = var->error()) {
    error->MarkReported(report_clock_.fetch_add(1, std::memory_order_acq_rel) + 1);
    throw error->error;
  }
}

void ThreadedEngine::WaitForAll() {
  CheckNotInOperation("WaitForAll");
  std::shared_ptr<ErrorRecord> error;
  {
    MutexLock lock(&mutex_);
    while (pending_ > 0) idle_.Wait(&mutex_);
    error = std::move(first_error_);
    first_error_ = nullptr;
    reported_through_.store(error_sequence_, std::memory_order_release);
  }
  if (error) throw error->error;
}

int64_t ThreadedEngine::PendingOperations() const {
  MutexLock lock(&mutex_);
  return pending_;
}

}  // namespace engine_internal
}  // namespace pmx
