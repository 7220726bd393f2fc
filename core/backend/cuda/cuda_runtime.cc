// The GPU runtime of --config=cuda builds: gpu_runtime.h on top of the CUDA runtime API.
#include <cuda_runtime_api.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "core/backend/cuda/kernels.h"
#include "core/backend/gpu_runtime.h"
#include "core/base/dtype.h"
#include "core/base/error.h"
#include "core/base/half.h"

namespace pmx {
namespace gpu {
namespace {

static_assert(kernels::kFloat32 == static_cast<int>(DType::kFloat32) &&
                  kernels::kFloat64 == static_cast<int>(DType::kFloat64) &&
                  kernels::kFloat16 == static_cast<int>(DType::kFloat16) &&
                  kernels::kUint8 == static_cast<int>(DType::kUint8) &&
                  kernels::kInt32 == static_cast<int>(DType::kInt32) &&
                  kernels::kInt8 == static_cast<int>(DType::kInt8) &&
                  kernels::kInt64 == static_cast<int>(DType::kInt64) &&
                  kernels::kBool == static_cast<int>(DType::kBool) &&
                  kernels::kBfloat16 == static_cast<int>(DType::kBfloat16),
              "kernels.h type codes must equal pmx::DType values");

// Throws pmx::Error for a failed CUDA call: OutOfMemory for cudaErrorMemoryAllocation, else
// RuntimeError, with CUDA's name and description of the error.
void Check(cudaError_t status, const char* operation) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // Clear a non-sticky error so that the next call does not report it again.
  const ErrorKind kind = status == cudaErrorMemoryAllocation ? ErrorKind::kOutOfMemory : ErrorKind::kRuntimeError;
  Throw(kind, "[%s] CUDA error %s (%d): %s", operation, cudaGetErrorName(status), static_cast<int>(status),
        cudaGetErrorString(status));
}

// What cudaGetDeviceCount said the first time it was asked.
struct DeviceProbe {
  int count = 0;                        // Usable GPUs; 0 when the call failed.
  cudaError_t status = cudaSuccess;     // Why there are none, when the call failed.
};

// Note [Device count is probed once]
// cudaGetDeviceCount initialises the driver, which takes milliseconds, and CUDA_VISIBLE_DEVICES is read
// only at that point anyway, so the answer is computed once per process. A failure (no driver, a driver
// older than the runtime, no device) means zero GPUs and is remembered for error messages: DeviceCount
// itself never throws, so that CPU-only code can ask freely.
const DeviceProbe& Probe() {
  static const DeviceProbe probe = [] {
    DeviceProbe result;
    result.status = cudaGetDeviceCount(&result.count);
    if (result.status != cudaSuccess) {
      cudaGetLastError();
      result.count = 0;
    }
    return result;
  }();
  return probe;
}

// Makes a GPU current on the calling thread for its lifetime, then restores the previous one.
class DeviceGuard {
 public:
  // Switches to `device` (already checked) unless it is current.
  explicit DeviceGuard(int device) {
    Check(cudaGetDevice(&previous_), "cudaGetDevice");
    if (previous_ != device) {
      Check(cudaSetDevice(device), "cudaSetDevice");
      restore_ = true;
    }
  }
  ~DeviceGuard() {
    if (restore_) cudaSetDevice(previous_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
  bool restore_ = false;
};

void CheckStream(Stream stream, const char* operation) {
  PMX_CHECK(stream != nullptr, kValueError, "[%s] stream is null: expected a stream from CreateStream", operation);
}

// `value` as the element type T, the way the CPU converts it (see Note [Casts on the GPU] in kernels.cu).
// Integer types take the value truncated toward zero and must hold it.
template <typename T>
T FillValue(double value, DType dtype) {
  if constexpr (std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>) {
    return T(static_cast<float>(value));
  } else if constexpr (std::is_same_v<T, bool>) {
    return value != 0;
  } else if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(value);
  } else {
    const double upper = std::ldexp(1.0, std::numeric_limits<T>::digits);  // max + 1, exact.
    const double lower = std::numeric_limits<T>::is_signed ? -upper : 0.0;
    const double truncated = std::trunc(value);
    PMX_CHECK(truncated >= lower && truncated < upper, kValueError,
              "[FillAsync] value %g does not fit dtype %s: expected a value in [%.0f, %.0f]", value,
              DTypeName(dtype), lower, upper - 1);
    return static_cast<T>(truncated);
  }
}

}  // namespace

bool BuiltWithCuda() { return true; }

int DeviceCount() { return Probe().count; }

void CheckDevice(int device) {
  const DeviceProbe& probe = Probe();
  if (probe.count == 0 && probe.status != cudaSuccess) {
    Throw(ErrorKind::kValueError, "[gpu] gpu(%d) does not exist: this machine has no usable GPU (%s: %s)", device,
          cudaGetErrorName(probe.status), cudaGetErrorString(probe.status));
  }
  PMX_CHECK(device >= 0 && device < probe.count, kValueError,
            "[gpu] gpu(%d) does not exist: expected an ordinal in [0, %d) on this machine", device, probe.count);
}

void SetDevice(int device) {
  CheckDevice(device);
  Check(cudaSetDevice(device), "SetDevice");
}

void* DeviceMalloc(int device, size_t bytes) {
  CheckDevice(device);
  DeviceGuard guard(device);
  void* pointer = nullptr;
  const cudaError_t status = cudaMalloc(&pointer, bytes);
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    size_t free_bytes = 0;
    size_t total_bytes = 0;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) cudaGetLastError();
    Throw(ErrorKind::kOutOfMemory,
          "[DeviceMalloc] cannot allocate %d bytes on gpu(%d): out of memory (%d bytes free of %d)", bytes,
          device, free_bytes, total_bytes);
  }
  Check(status, "DeviceMalloc");
  return pointer;
}

void DeviceFree(int device, void* pointer) {
  if (pointer == nullptr) return;
  CheckDevice(device);
  DeviceGuard guard(device);
  Check(cudaFree(pointer), "DeviceFree");
}

void* PinnedMalloc(size_t bytes) {
  void* pointer = nullptr;
  // Portable: page-locked for every GPU's context, not only the current one's.
  Check(cudaHostAlloc(&pointer, bytes, cudaHostAllocPortable), "PinnedMalloc");
  return pointer;
}

void PinnedFree(void* pointer) {
  if (pointer == nullptr) return;
  Check(cudaFreeHost(pointer), "PinnedFree");
}

Stream CreateStream(int device) {
  CheckDevice(device);
  DeviceGuard guard(device);
  cudaStream_t stream = nullptr;
  Check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "CreateStream");
  return stream;
}

void DestroyStream(int device, Stream stream) {
  CheckStream(stream, "DestroyStream");
  CheckDevice(device);
  DeviceGuard guard(device);
  // cudaStreamDestroy returns at once; the stream's resources go once its pending work has finished.
  Check(cudaStreamDestroy(static_cast<cudaStream_t>(stream)), "DestroyStream");
}

void SynchronizeStream(Stream stream) {
  CheckStream(stream, "SynchronizeStream");
  Check(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)), "SynchronizeStream");
}

void MemcpyAsync(void* destination, const void* source, size_t bytes, CopyKind kind, Stream stream) {
  CheckStream(stream, "MemcpyAsync");
  if (bytes == 0) return;
  cudaMemcpyKind cuda_kind = cudaMemcpyDefault;
  switch (kind) {
    case CopyKind::kHostToDevice: cuda_kind = cudaMemcpyHostToDevice; break;
    case CopyKind::kDeviceToHost: cuda_kind = cudaMemcpyDeviceToHost; break;
    case CopyKind::kDeviceToDevice: cuda_kind = cudaMemcpyDeviceToDevice; break;
  }
  Check(cudaMemcpyAsync(destination, source, bytes, cuda_kind, static_cast<cudaStream_t>(stream)), "MemcpyAsync");
}

void MemcpyPeerAsync(void* destination, int destination_device, const void* source, int source_device,
                     size_t bytes, Stream stream) {
  CheckStream(stream, "MemcpyPeerAsync");
  CheckDevice(destination_device);
  CheckDevice(source_device);
  if (bytes == 0) return;
  Check(cudaMemcpyPeerAsync(destination, destination_device, source, source_device, bytes,
                            static_cast<cudaStream_t>(stream)),
        "MemcpyPeerAsync");
}

void FillAsync(void* destination, DType dtype, int64_t count, double value, Stream stream) {
  CheckStream(stream, "FillAsync");
  PMX_CHECK(count >= 0, kValueError, "[FillAsync] count is %d: expected a count >= 0", count);
  const size_t element_size = DTypeSize(dtype);  // TypeError for an unknown dtype.
  uint64_t pattern = 0;
  DispatchDType(dtype, [&](auto tag) {
    using T = decltype(tag);
    const T element = FillValue<T>(value, dtype);
    std::memcpy(&pattern, &element, sizeof(T));  // x86 and CUDA are little-endian: the low bytes.
  });
  if (count == 0) return;
  Check(static_cast<cudaError_t>(
            kernels::LaunchFill(destination, static_cast<int>(element_size), count, pattern, stream)),
        "FillAsync");
}

void CastAsync(const void* source, DType source_dtype, void* destination, DType destination_dtype,
               int64_t count, Stream stream) {
  CheckStream(stream, "CastAsync");
  PMX_CHECK(count >= 0, kValueError, "[CastAsync] count is %d: expected a count >= 0", count);
  const size_t element_size = DTypeSize(source_dtype);  // TypeError for an unknown dtype.
  DTypeSize(destination_dtype);
  if (count == 0) return;
  if (source_dtype == destination_dtype) {
    Check(cudaMemcpyAsync(destination, source, element_size * static_cast<size_t>(count), cudaMemcpyDeviceToDevice,
                          static_cast<cudaStream_t>(stream)),
          "CastAsync");
    return;
  }
  const int status = kernels::LaunchCast(source, static_cast<int>(source_dtype), destination,
                                         static_cast<int>(destination_dtype), count, stream);
  PMX_CHECK(status != kernels::kUnknownTypeCode, kTypeError, "[CastAsync] no kernel casts %s to %s",
            DTypeName(source_dtype), DTypeName(destination_dtype));
  Check(static_cast<cudaError_t>(status), "CastAsync");
}

}  // namespace gpu
}  // namespace pmx
