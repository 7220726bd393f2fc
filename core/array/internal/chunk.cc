#include "core/array/internal/chunk.h"

#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

#include "core/base/error.h"

namespace pmx {
namespace internal {
namespace {

void AddUnique(std::vector<VarHandle>* vars, VarHandle var) {
  if (var != nullptr && std::find(vars->begin(), vars->end(), var) == vars->end()) vars->push_back(var);
}

// Deletes a temporary variable when a scope ends, even when the wait in it threw.
class TemporaryVariable {
 public:
  TemporaryVariable() : var_(Engine::Get()->NewVariable()) {}
  ~TemporaryVariable() {
    try {
      Engine::Get()->DeleteVariable([](RunContext) {}, Device::cpu(), var_);
    } catch (...) {
      std::fprintf(stderr, "polymix: deleting a temporary engine variable failed\n");
    }
  }
  TemporaryVariable(const TemporaryVariable&) = delete;
  TemporaryVariable& operator=(const TemporaryVariable&) = delete;
  VarHandle get() const { return var_; }

 private:
  VarHandle var_;
};

}  // namespace

Chunk::Chunk(size_t size, Device where) : nbytes(size), device(where) {
  block = Storage::Get()->Allocate(size, where);
  data = block.data;
  try {
    var = Engine::Get()->NewVariable();
  } catch (...) {
    Storage::Get()->Free(block);
    throw;
  }
}

Chunk::Chunk(void* borrowed, size_t size, Device where, std::function<void()> release_fn)
    : data(borrowed), nbytes(size), device(where), release(std::move(release_fn)) {
  var = Engine::Get()->NewVariable();  // On failure the caller still owns `borrowed`.
}

Chunk::~Chunk() {
  StorageBlock owned = block;
  std::function<void()> release_fn = std::move(release);
  auto free_memory = [owned, release_fn](RunContext) {
    if (release_fn) {
      release_fn();
    } else {
      Storage::Get()->Free(owned);
    }
  };
  try {
    Engine::Get()->DeleteVariable(std::move(free_memory), ExecutionDevice(device), var);
  } catch (...) {
    // A destructor cannot throw, and freeing without the engine could free memory an operation still
    // uses: leaking is the safe choice in this should-never-happen case.
    std::fprintf(stderr, "polymix: pushing the release of an NDArray chunk (%zu bytes on %s) failed; leaking it\n",
                 nbytes, device.ToString().c_str());
  }
}

Device ExecutionDevice(Device device) { return device.is_host() ? Device::cpu() : device; }

void PushOp(const char* op, Device device, FnProperty property, std::initializer_list<VarHandle> reads,
            std::initializer_list<VarHandle> writes, std::function<void(RunContext)> fn) {
  std::vector<VarHandle> mutable_vars;
  for (VarHandle var : writes) AddUnique(&mutable_vars, var);
  std::vector<VarHandle> const_vars;
  for (VarHandle var : reads) {
    if (std::find(mutable_vars.begin(), mutable_vars.end(), var) == mutable_vars.end()) AddUnique(&const_vars, var);
  }
  Engine::Get()->PushSync(std::move(fn), device, std::move(const_vars), std::move(mutable_vars), property, 0, op);
}

void PushGpuOp(const char* op, Device device, FnProperty property, std::initializer_list<VarHandle> reads,
               std::initializer_list<VarHandle> writes, std::function<void(gpu::Stream)> fn) {
  PushOp(op, device, property, reads, writes, [op, device, fn = std::move(fn)](RunContext context) {
    PMX_CHECK(context.stream != nullptr, kRuntimeError, "[%s] the engine ran this %s operation without a CUDA stream",
              op, device.ToString());
    gpu::SetDevice(device.id);
    fn(context.stream);  // The engine synchronizes the stream before the operation counts as finished.
  });
}

void RunReadAndWait(const char* op, Device device, FnProperty property, VarHandle var,
                    std::function<void(RunContext)> fn) {
  // The engine's WaitForVar waits for writes only, so the read reports its end by writing a
  // temporary variable; an error stored on `var` skips the read and passes on to the temporary.
  TemporaryVariable done;
  PushOp(op, device, property, {var}, {done.get()}, std::move(fn));
  Engine::Get()->WaitForVar(done.get());
}

}  // namespace internal
}  // namespace pmx
