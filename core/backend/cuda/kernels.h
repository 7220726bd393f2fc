// The CUDA kernels of the GPU runtime behind a plain C-style interface, so that kernels.cu (built by
// nvcc) includes no Abseil or Polymix headers; cuda_runtime.cc turns the results into pmx::Error.
#ifndef POLYMIX_CORE_BACKEND_CUDA_KERNELS_H_
#define POLYMIX_CORE_BACKEND_CUDA_KERNELS_H_

#include <cstdint>

namespace pmx {
namespace gpu {
namespace kernels {

// Element type codes: the values of pmx::DType (cuda_runtime.cc checks that they agree).
enum TypeCode : int32_t {
  kFloat32 = 0,    // float.
  kFloat64 = 1,    // double.
  kFloat16 = 2,    // IEEE binary16 bits.
  kUint8 = 3,      // uint8_t.
  kInt32 = 4,      // int32_t.
  kInt8 = 5,       // int8_t.
  kInt64 = 6,      // int64_t.
  kBool = 7,       // One byte, 0 or 1.
  kBfloat16 = 12,  // bfloat16 bits.
};

// What LaunchCast returns for a type code it does not know (never a cudaError_t value).
constexpr int kUnknownTypeCode = -1;

// Queues a kernel on `stream` (a cudaStream_t) that stores the `element_size`-byte pattern (1, 2, 4 or
// 8; the low bytes of `pattern`) into `count` elements at `destination`. Returns the cudaError_t of the
// launch (0 on success; cudaErrorInvalidValue for another element size).
int LaunchFill(void* destination, int element_size, int64_t count, uint64_t pattern, void* stream);

// Queues a kernel on `stream` that converts `count` elements of type `source_code` at `source` into
// type `destination_code` at `destination`; see Note [Casts on the GPU] in kernels.cu. Returns the
// cudaError_t of the launch, or kUnknownTypeCode.
int LaunchCast(const void* source, int source_code, void* destination, int destination_code, int64_t count,
               void* stream);

}  // namespace kernels
}  // namespace gpu
}  // namespace pmx

#endif  // POLYMIX_CORE_BACKEND_CUDA_KERNELS_H_
