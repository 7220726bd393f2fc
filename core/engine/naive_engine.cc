#include "core/engine/internal/naive_engine.h"

#include <exception>
#include <utility>

namespace pmx {
namespace engine_internal {
namespace {

// Counts an operation as running for its lifetime (PendingOperations).
class RunningScope {
 public:
  // Increments `counter` until this scope ends.
  explicit RunningScope(std::atomic<int64_t>* counter) : counter_(counter) { counter_->fetch_add(1); }
  ~RunningScope() { counter_->fetch_sub(1); }

 private:
  std::atomic<int64_t>* counter_;
};

// Where an async fn's completion lands; the caller blocks until it arrives. Shared with the callback
// so a late or repeated call after the caller moved on touches nothing freed.
struct Completion {
  Mutex mutex;
  CondVar done_signal;
  bool done ABSL_GUARDED_BY(mutex) = false;
  std::optional<Error> error ABSL_GUARDED_BY(mutex);
  std::string op_name;

  // Records the first completion (`failure` may be null); later ones are ignored.
  void Complete(std::exception_ptr failure) {
    std::optional<Error> converted;
    if (failure) {
      try {
        std::rethrow_exception(failure);
      } catch (...) {
        converted = CurrentErrorNamed(op_name);
      }
    }
    MutexLock lock(&mutex);
    if (done) return;
    done = true;
    error = std::move(converted);
    done_signal.SignalAll();
  }
};

}  // namespace

NaiveEngine::~NaiveEngine() {
  MutexLock lock(&mutex_);
  for (EngineVar* var : vars_) delete var;
  vars_.clear();
  for (auto& [device, stream] : streams_) {
    try {
      gpu::DestroyStream(device, stream);
    } catch (...) {
      // Nothing is left to report a teardown failure to; throwing from a destructor would terminate.
    }
  }
}

VarHandle NaiveEngine::NewVariable() {
  auto* var = new EngineVar(this);
  MutexLock lock(&mutex_);
  vars_.insert(var);
  return var;
}

gpu::Stream NaiveEngine::StreamFor(int device) {
  {
    MutexLock lock(&mutex_);
    auto found = streams_.find(device);
    if (found != streams_.end()) return found->second;
  }
  gpu::CheckDevice(device);
  gpu::SetDevice(device);
  gpu::Stream stream = gpu::CreateStream(device);
  MutexLock lock(&mutex_);
  auto [position, inserted] = streams_.emplace(device, stream);
  if (!inserted) {
    // Another thread created one meanwhile; keep the first.
    gpu::DestroyStream(device, stream);
  }
  return position->second;
}

std::optional<Error> NaiveEngine::Call(const std::string& op_name, const std::function<void(RunContext)>* sync_fn,
                                       const std::function<void(RunContext, CompletionCallback)>* async_fn,
                                       Device device) {
  RunContext context{device, nullptr};
  if (!device.is_host()) {
    try {
      context.stream = StreamFor(device.id);
      gpu::SetDevice(device.id);
    } catch (...) {
      return ErrorNamed(CurrentExceptionAsError(), op_name, "cannot run on " + device.ToString() + ": ");
    }
  }
  std::optional<Error> error;
  try {
    if (sync_fn != nullptr) {
      (*sync_fn)(context);
    } else {
      auto completion = std::make_shared<Completion>();
      completion->op_name = op_name;
      try {
        (*async_fn)(context, [completion](std::exception_ptr error) { completion->Complete(std::move(error)); });
      } catch (...) {
        completion->Complete(std::current_exception());
      }
      MutexLock lock(&completion->mutex);
      while (!completion->done) completion->done_signal.Wait(&completion->mutex);
      error = std::move(completion->error);
    }
    if (context.stream != nullptr) gpu::SynchronizeStream(context.stream);
  } catch (...) {
    if (!error) error = CurrentErrorNamed(op_name);
  }
  return error;
}

std::shared_ptr<ErrorRecord> NaiveEngine::NewErrorRecord(Error error) {
  MutexLock lock(&mutex_);
  auto record = std::make_shared<ErrorRecord>(std::move(error), ++error_sequence_);
  if (!first_error_) first_error_ = record;
  return record;
}

void NaiveEngine::Run(const std::string& op_name, const std::function<void(RunContext)>* sync_fn,
                      const std::function<void(RunContext, CompletionCallback)>* async_fn, Device device,
                      const std::vector<VarHandle>& const_vars, const std::vector<VarHandle>& mutable_vars) {
  ValidateDevice(op_name, device);
  ValidateVariables(this, op_name, const_vars, mutable_vars);
  RunningScope running(&running_);
  // Same skip rules as the ThreadedEngine (Note [Engine errors]).
  std::shared_ptr<ErrorRecord> outcome;
  for (VarHandle var : const_vars) {
    if ((outcome = var->error())) break;
  }
  if (!outcome) {
    const ReportState reports{reported_through_.load(std::memory_order_acquire),
                              report_clock_.load(std::memory_order_acquire)};
    for (VarHandle var : mutable_vars) {
      std::shared_ptr<ErrorRecord> error = var->error();
      if (error && !error->Reported(reports)) {
        outcome = std::move(error);
        break;
      }
    }
  }
  if (!outcome) {
    if (std::optional<Error> error = Call(op_name, sync_fn, async_fn, device)) {
      outcome = NewErrorRecord(std::move(*error));
    }
  }
  for (VarHandle var : mutable_vars) var->set_error(outcome);
}

void NaiveEngine::PushSync(std::function<void(RunContext)> fn, Device device, std::vector<VarHandle> const_vars,
                           std::vector<VarHandle> mutable_vars, FnProperty property, int priority,
                           const char* op_name) {
  const std::string name = OpName(op_name);
  PMX_CHECK(fn != nullptr, kValueError, "[%s] fn: expected a function, got an empty one", name);
  Run(name, &fn, nullptr, device, const_vars, mutable_vars);
}

void NaiveEngine::PushAsync(std::function<void(RunContext, CompletionCallback)> fn, Device device,
                            std::vector<VarHandle> const_vars, std::vector<VarHandle> mutable_vars,
                            FnProperty property, int priority, const char* op_name) {
  const std::string name = OpName(op_name);
  PMX_CHECK(fn != nullptr, kValueError, "[%s] fn: expected a function, got an empty one", name);
  Run(name, nullptr, &fn, device, const_vars, mutable_vars);
}

void NaiveEngine::DeleteVariable(std::function<void(RunContext)> delete_fn, Device device, VarHandle var) {
  ValidateDevice("DeleteVariable", device);
  ValidateVariables(this, "DeleteVariable", {}, {var});
  {
    RunningScope running(&running_);
    if (delete_fn) {
      if (std::optional<Error> error = Call("DeleteVariable", &delete_fn, nullptr, device)) {
        NewErrorRecord(std::move(*error));
      }
    }
  }
  {
    MutexLock lock(&mutex_);
    vars_.erase(var);
  }
  delete var;
}

void NaiveEngine::WaitForVar(VarHandle var) {
  ValidateVariables(this, "WaitForVar", {var}, {});
  if (std::shared_ptr<ErrorRecord> error = var->error()) {
    error->MarkReported(report_clock_.fetch_add(1, std::memory_order_acq_rel) + 1);
    throw error->error;
  }
}

void NaiveEngine::WaitForAll() {
  std::shared_ptr<ErrorRecord> error;
  {
    MutexLock lock(&mutex_);
    error = std::move(first_error_);
    first_error_ = nullptr;
    reported_through_.store(error_sequence_, std::memory_order_release);
  }
  if (error) throw error->error;
}

int64_t NaiveEngine::PendingOperations() const { return running_.load(); }

}  // namespace engine_internal
}  // namespace pmx
