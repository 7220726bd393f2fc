// The GPU runtime interface: devices, memory, streams, copies and the few kernels the core runtime needs.
// Two implementations, chosen by the build: core/backend/cuda (--config=cuda) and core/backend/no_gpu.
// Failed CUDA calls throw pmx::Error: OutOfMemory for allocation failures, RuntimeError with CUDA's own
// message otherwise; without CUDA every call but BuiltWithCuda and DeviceCount throws NotImplementedError.
#ifndef POLYMIX_CORE_BACKEND_GPU_RUNTIME_H_
#define POLYMIX_CORE_BACKEND_GPU_RUNTIME_H_

#include <cstddef>
#include <cstdint>

#include "core/base/dtype.h"

namespace pmx {
namespace gpu {

// An opaque CUDA stream (cudaStream_t); nullptr is never a valid stream here.
using Stream = void*;

// The direction of a copy.
enum class CopyKind {
  kHostToDevice,    // Host (pageable or pinned) to GPU memory.
  kDeviceToHost,    // GPU memory to host memory.
  kDeviceToDevice,  // Within one GPU.
};

// Whether this build has CUDA support compiled in.
bool BuiltWithCuda();

// Number of usable GPUs; 0 without CUDA, without a driver or without a device. Never throws.
int DeviceCount();

// Throws NotImplementedError (built without CUDA) or ValueError (no such GPU) unless gpu(`device`) exists.
void CheckDevice(int device);

// Makes `device` current on the calling thread.
void SetDevice(int device);

// Allocates `bytes` on GPU `device`; throws OutOfMemory when the device has no room.
void* DeviceMalloc(int device, size_t bytes);

// Frees memory from DeviceMalloc.
void DeviceFree(int device, void* pointer);

// Allocates `bytes` of page-locked host memory; throws OutOfMemory on failure.
void* PinnedMalloc(size_t bytes);

// Frees memory from PinnedMalloc.
void PinnedFree(void* pointer);

// Creates a non-blocking stream on `device`.
Stream CreateStream(int device);

// Destroys a stream from CreateStream after its pending work.
void DestroyStream(int device, Stream stream);

// Blocks until all work queued on `stream` has finished; throws RuntimeError with CUDA's message if any of
// it failed.
void SynchronizeStream(Stream stream);

// Queues a copy of `bytes` on `stream` (the current device must own the stream).
void MemcpyAsync(void* destination, const void* source, size_t bytes, CopyKind kind, Stream stream);

// Queues a copy between two GPUs on `stream`.
void MemcpyPeerAsync(void* destination, int destination_device, const void* source, int source_device,
                     size_t bytes, Stream stream);

// Queues a kernel that sets `count` elements of `dtype` at `destination` to `value`, converted as the CPU
// converts (integers truncate toward zero; ValueError when the value does not fit an integer dtype).
void FillAsync(void* destination, DType dtype, int64_t count, double value, Stream stream);

// Queues a kernel that converts `count` elements from `source` (of `source_dtype`) into `destination`
// (of `destination_dtype`), with the same rounding as the CPU conversion (see Note [Casts on the GPU] in
// core/backend/cuda/kernels.cu).
void CastAsync(const void* source, DType source_dtype, void* destination, DType destination_dtype,
               int64_t count, Stream stream);

}  // namespace gpu
}  // namespace pmx

#endif  // POLYMIX_CORE_BACKEND_GPU_RUNTIME_H_
