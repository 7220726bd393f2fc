#include "core/backend/cuda/ops/resources.h"

#include <cuda_runtime_api.h>

#include <map>
#include <utility>

#include "core/backend/cuda/ops/launch.h"
#include "core/base/error.h"
#include "core/base/mutex.h"

namespace pmx {
namespace gpu {
namespace ops_kernels {

static_assert(kFloat32 == static_cast<int>(DType::kFloat32) && kFloat64 == static_cast<int>(DType::kFloat64) &&
                  kFloat16 == static_cast<int>(DType::kFloat16) && kUint8 == static_cast<int>(DType::kUint8) &&
                  kInt32 == static_cast<int>(DType::kInt32) && kInt8 == static_cast<int>(DType::kInt8) &&
                  kInt64 == static_cast<int>(DType::kInt64) && kBool == static_cast<int>(DType::kBool) &&
                  kBfloat16 == static_cast<int>(DType::kBfloat16),
              "launch.h type codes must equal pmx::DType values");

namespace {

// Throws RuntimeError (OutOfMemory for allocation failures) naming `op` and CUDA's error.
void CheckCuda(const char* op, const char* what, cudaError_t status) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // Clear a non-sticky error so that the next call does not report it again.
  const ErrorKind kind = status == cudaErrorMemoryAllocation ? ErrorKind::kOutOfMemory : ErrorKind::kRuntimeError;
  Throw(kind, "[%s] %s failed: CUDA error %s (%d): %s", op, what, cudaGetErrorName(status), static_cast<int>(status),
        cudaGetErrorString(status));
}

}  // namespace

void CheckCudaCall(const char* op, const char* what, int cuda_status) {
  CheckCuda(op, what, static_cast<cudaError_t>(cuda_status));
}

void CheckLaunch(const char* op, int status, DType dtype) {
  if (status == 0) return;
  PMX_CHECK(status != kUnsupported, kTypeError, "[%s] dtype %s is not supported by the GPU kernel", op,
            DTypeName(dtype));
  CheckCuda(op, "kernel launch", static_cast<cudaError_t>(status));
}

void CheckCublas(const char* op, const char* what, cublasStatus_t status) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  const ErrorKind kind = status == CUBLAS_STATUS_ALLOC_FAILED ? ErrorKind::kOutOfMemory : ErrorKind::kRuntimeError;
  Throw(kind, "[%s] %s failed: cuBLAS error %s (%d): %s", op, what, cublasGetStatusName(status),
        static_cast<int>(status), cublasGetStatusString(status));
}

void CheckCudnn(const char* op, const char* what, cudnnStatus_t status) {
  if (status == CUDNN_STATUS_SUCCESS) return;
  Throw(ErrorKind::kRuntimeError, "[%s] %s failed: cuDNN error (%d): %s", op, what, static_cast<int>(status),
        cudnnGetErrorString(status));
}

// The resources of one stream (Note [Per-stream GPU resources]).
struct StreamResources {
  Mutex mutex;                        // Held by a StreamLease.
  int device = 0;                     // The device the stream belongs to.
  cublasHandle_t cublas = nullptr;    // Created on first use.
  cudnnHandle_t cudnn = nullptr;      // Created on first use.
  void* workspace = nullptr;          // Device memory from cudaMalloc.
  size_t workspace_bytes = 0;         // Its size.
};

namespace {

// Every stream's resources, never freed (streams live as long as the process; destroying handles at
// exit would race the CUDA runtime's own teardown).
StreamResources* ResourcesOf(void* stream) {
  static Mutex* mutex = new Mutex();
  static auto* all = new std::map<std::pair<int, void*>, StreamResources*>();
  int device = 0;
  CheckCuda("gpu", "cudaGetDevice", cudaGetDevice(&device));
  MutexLock lock(mutex);
  StreamResources*& resources = (*all)[{device, stream}];
  if (resources == nullptr) {
    resources = new StreamResources();
    resources->device = device;
  }
  return resources;
}

}  // namespace

StreamLease::StreamLease(void* stream) : stream_(stream), resources_(ResourcesOf(stream)) {
  resources_->mutex.Lock();
}

StreamLease::~StreamLease() { resources_->mutex.Unlock(); }

cublasHandle_t StreamLease::Cublas(const char* op) {
  if (resources_->cublas == nullptr) {
    cublasHandle_t handle = nullptr;
    CheckCublas(op, "cublasCreate", cublasCreate(&handle));
    resources_->cublas = handle;
  }
  // Rebound on every lease: cheap, and robust to anyone having changed it.
  CheckCublas(op, "cublasSetStream", cublasSetStream(resources_->cublas, static_cast<cudaStream_t>(stream_)));
  return resources_->cublas;
}

cudnnHandle_t StreamLease::Cudnn(const char* op) {
  if (resources_->cudnn == nullptr) {
    cudnnHandle_t handle = nullptr;
    CheckCudnn(op, "cudnnCreate", cudnnCreate(&handle));
    resources_->cudnn = handle;
  }
  CheckCudnn(op, "cudnnSetStream", cudnnSetStream(resources_->cudnn, static_cast<cudaStream_t>(stream_)));
  return resources_->cudnn;
}

void* StreamLease::Workspace(const char* op, size_t bytes) {
  if (bytes == 0) return nullptr;
  if (bytes > resources_->workspace_bytes) {
    if (resources_->workspace != nullptr) {
      // Kernels queued earlier on this stream may still read the old buffer.
      CheckCuda(op, "cudaStreamSynchronize", cudaStreamSynchronize(static_cast<cudaStream_t>(stream_)));
      CheckCuda(op, "cudaFree", cudaFree(resources_->workspace));
      resources_->workspace = nullptr;
      resources_->workspace_bytes = 0;
    }
    const size_t rounded = (bytes + (size_t{1} << 20) - 1) & ~((size_t{1} << 20) - 1);  // Whole MiB.
    void* pointer = nullptr;
    CheckCuda(op, "cudaMalloc of the kernel workspace", cudaMalloc(&pointer, rounded));
    resources_->workspace = pointer;
    resources_->workspace_bytes = rounded;
  }
  return resources_->workspace;
}

}  // namespace ops_kernels
}  // namespace gpu
}  // namespace pmx
