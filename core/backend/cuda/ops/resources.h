// What the GPU operator kernels need besides their launchers: per-stream cuBLAS and cuDNN handles and
// scratch memory, and the translation of CUDA, cuBLAS, cuDNN and launcher statuses into pmx::Error.
#ifndef POLYMIX_CORE_BACKEND_CUDA_OPS_RESOURCES_H_
#define POLYMIX_CORE_BACKEND_CUDA_OPS_RESOURCES_H_

#include <cublas_v2.h>
#include <cudnn.h>

#include <cstddef>

#include "core/base/dtype.h"

namespace pmx {
namespace gpu {
namespace ops_kernels {

// Throws for a launcher status (launch.h): TypeError naming `op` and `dtype` for kUnsupported,
// RuntimeError with CUDA's error name and description for a failed launch, nothing for 0.
void CheckLaunch(const char* op, int status, DType dtype);

// Throws RuntimeError naming `op`, `what` and cuBLAS's status name unless `status` is success.
void CheckCublas(const char* op, const char* what, cublasStatus_t status);

// Throws RuntimeError naming `op`, `what` and cuDNN's error string unless `status` is success.
void CheckCudnn(const char* op, const char* what, cudnnStatus_t status);

// Throws for a failed CUDA runtime call (OutOfMemory for allocation failures), naming `op` and `what`.
void CheckCudaCall(const char* op, const char* what, int cuda_status);

struct StreamResources;

// Note [Per-stream GPU resources]
// cuBLAS/cuDNN handles and scratch buffers belong to one stream: each engine worker owns a stream and runs
// one kernel at a time on it, and work queued on one stream runs in order, so a buffer reused by the
// next kernel of the same stream is never in use by an earlier one still running. They are created on
// first use (on the stream's device, which the worker has made current) and kept for the process's
// life: streams of the engine live as long. A lease locks them, because the NaiveEngine lets several
// threads share a device's stream. (KernelContext::temp_space would not do: Invoke returns its blocks
// to the pool when the kernel returns, before the stream has run it.)

// Exclusive use of one stream's resources for the lifetime of the lease.
class StreamLease {
 public:
  // Locks the resources of `stream` (a cudaStream_t), creating them on first use.
  explicit StreamLease(void* stream);
  ~StreamLease();
  StreamLease(const StreamLease&) = delete;
  StreamLease& operator=(const StreamLease&) = delete;

  // The stream's cuBLAS handle, bound to the stream. `op` names errors.
  cublasHandle_t Cublas(const char* op);
  // The stream's cuDNN handle, bound to the stream.
  cudnnHandle_t Cudnn(const char* op);
  // At least `bytes` of device memory private to the stream (nullptr for 0); valid until the lease
  // ends or the next call. Growing waits for the stream's queued work before freeing the old buffer.
  void* Workspace(const char* op, size_t bytes);

 private:
  void* stream_;
  StreamResources* resources_;
};

}  // namespace ops_kernels
}  // namespace gpu
}  // namespace pmx

#endif  // POLYMIX_CORE_BACKEND_CUDA_OPS_RESOURCES_H_
