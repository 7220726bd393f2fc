// The shared memory behind NDArray handles, and the helpers that push array work to the engine.
#ifndef POLYMIX_CORE_ARRAY_INTERNAL_CHUNK_H_
#define POLYMIX_CORE_ARRAY_INTERNAL_CHUNK_H_

#include <cstddef>
#include <functional>
#include <initializer_list>

#include "core/backend/gpu_runtime.h"
#include "core/base/device.h"
#include "core/engine/engine.h"
#include "core/storage/storage.h"

namespace pmx {
namespace internal {

// Memory plus the engine variable guarding it; see Note [NDArray chunks and views] in ndarray.h.
struct Chunk {
  // Allocates `nbytes` on `device` from Storage and creates the variable.
  Chunk(size_t nbytes, Device device);
  // Borrows `data` (`nbytes` bytes on `device`); `release` runs when the chunk's variable is deleted.
  Chunk(void* data, size_t nbytes, Device device, std::function<void()> release);
  // Pushes the release of the memory through Engine::DeleteVariable (after pending work).
  ~Chunk();
  Chunk(const Chunk&) = delete;
  Chunk& operator=(const Chunk&) = delete;

  void* data = nullptr;           // Start of the memory; nullptr when empty.
  size_t nbytes = 0;              // Bytes of memory.
  Device device;                  // Where the memory lives.
  VarHandle var = nullptr;        // The variable every operation on the memory lists.
  StorageBlock block;             // The block from Storage; empty when the memory is borrowed.
  std::function<void()> release;  // Returns borrowed memory to its owner; empty when from Storage.
};

// The device whose engine workers run operations on memory of `device` (cpu(0) for host memory).
Device ExecutionDevice(Device device);

// Pushes `fn` reading `reads` and writing `writes`. A variable in both lists is only written, and
// repeats are dropped, as the engine requires.
void PushOp(const char* op, Device device, FnProperty property, std::initializer_list<VarHandle> reads,
            std::initializer_list<VarHandle> writes, std::function<void(RunContext)> fn);

// Pushes GPU work: on a worker of `device` (a GPU), makes the device current and runs `fn` with the
// worker's stream; the engine synchronizes the stream before the operation counts as finished.
void PushGpuOp(const char* op, Device device, FnProperty property, std::initializer_list<VarHandle> reads,
               std::initializer_list<VarHandle> writes, std::function<void(gpu::Stream)> fn);

// Pushes `fn` reading `var` (on `device`'s workers, with `property`) and blocks until it has run;
// rethrows its error or the error stored on `var`.
void RunReadAndWait(const char* op, Device device, FnProperty property, VarHandle var,
                    std::function<void(RunContext)> fn);

}  // namespace internal
}  // namespace pmx

#endif  // POLYMIX_CORE_ARRAY_INTERNAL_CHUNK_H_
