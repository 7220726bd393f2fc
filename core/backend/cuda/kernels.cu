// Fill and dtype-cast kernels for the GPU runtime. Plain CUDA: no Abseil or Polymix headers here (see
// kernels.h), and the 16-bit float conversions are written out to match core/base/half.h bit for bit.
#include "core/backend/cuda/kernels.h"

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <limits>
#include <type_traits>

namespace pmx {
namespace gpu {
namespace kernels {
namespace {

constexpr int kThreadsPerBlock = 256;
// Enough blocks to fill an H200 (132 SMs x 2048 threads) many times over; longer arrays loop.
constexpr int64_t kMaxBlocks = 1 << 16;

// Device-side storage of the 16-bit floats: raw bits, converted with the functions below.
struct Half {
  uint16_t bits;
};
struct BHalf {
  uint16_t bits;
};

// Note [Casts on the GPU]
// Every conversion gives the bits the CPU gives with core/base's types (NaN aside, see below):
//   - reading a float16/bfloat16 yields its exact float value, which is then converted onwards;
//   - writing a float16/bfloat16 first converts the value to float (static_cast, as Float16(float) and
//     BFloat16(float) take their argument), then rounds to nearest even;
//   - a real value written to an integer type truncates toward zero, saturates at the type's limits and
//     maps NaN to 0 (FromReal), as the host does;
//   - every other pair is a static_cast (to bool: value != 0, so NaN gives true).
// float16 rounding uses the hardware conversion (IEEE round-to-nearest-even, subnormals kept, like
// half.cc); only NaN is special-cased, because the hardware returns a canonical NaN where the CPU keeps
// the sign and sets the quiet bit. bfloat16 is half.h's integer rounding verbatim.
// Not matched:
//   - a NaN stays NaN, but its sign and payload may differ once it passes a float<->double conversion,
//     which the GPU makes canonical (0x7fffffff) and x86 does not.

__device__ __forceinline__ float HalfToFloat(uint16_t bits) {
  if ((bits & 0x7c00u) == 0x7c00u) {  // Inf or NaN: keep sign and payload, as half.cc does.
    const uint32_t word = (static_cast<uint32_t>(bits & 0x8000u) << 16) | 0x7f800000u |
                          (static_cast<uint32_t>(bits & 0x3ffu) << 13);
    return __uint_as_float(word);
  }
  return __half2float(__ushort_as_half(bits));
}

__device__ __forceinline__ uint16_t FloatToHalf(float value) {
  const uint32_t word = __float_as_uint(value);
  if ((word & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>(((word >> 16) & 0x8000u) | 0x7e00u);
  return __half_as_ushort(__float2half_rn(value));
}

__device__ __forceinline__ float BFloat16ToFloat(uint16_t bits) {
  return __uint_as_float(static_cast<uint32_t>(bits) << 16);
}

__device__ __forceinline__ uint16_t FloatToBFloat16(float value) {
  const uint32_t word = __float_as_uint(value);
  if ((word & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((word >> 16) | 0x40u);  // Quiet NaN.
  const uint32_t rounding = 0x7fffu + ((word >> 16) & 1u);
  return static_cast<uint16_t>((word + rounding) >> 16);
}

// A real value converted to `To`: to an integer type it truncates toward zero, saturates at the type's
// limits and maps NaN to 0, exactly as the host's SaturatingFloatToInteger (core/array/internal/
// host_kernels.cc). A bare static_cast would not do: CUDA saturates only at 32/64 bits and converts to
// 8/16-bit integers through int32, which wraps (300.f -> int8 44, where the host gives 127).
template <typename To, typename Real>
__device__ __forceinline__ To FromReal(Real value) {
  if constexpr (std::is_integral_v<To> && !std::is_same_v<To, bool>) {
    const double x = static_cast<double>(value);
    if (x != x) return To{0};
    // numeric_limits' max()/min() are host functions to nvcc; digits is a plain constant.
    constexpr int kDigits = std::numeric_limits<To>::digits;
    constexpr uint64_t kMax = kDigits == 64 ? ~uint64_t{0} : (uint64_t{1} << kDigits) - 1;
    // 2^digits, exact in double; every finite double below it truncates into range.
    constexpr double kUpper = kDigits == 64 ? 18446744073709551616.0 : static_cast<double>(1ull << kDigits);
    if (x >= kUpper) return static_cast<To>(kMax);
    if constexpr (std::is_signed_v<To>) {
      if (x <= -kUpper) return static_cast<To>(-static_cast<int64_t>(kMax) - 1);
    } else {
      if (x <= -1.0) return To{0};
    }
    return static_cast<To>(x);
  } else {
    return static_cast<To>(value);
  }
}

// Converts one value from `From` to `To`; see Note [Casts on the GPU].
template <typename From, typename To>
struct Converter {
  __device__ static To Run(From value) {
    if constexpr (std::is_floating_point_v<From>) {
      return FromReal<To>(value);
    } else {
      return static_cast<To>(value);
    }
  }
};
template <typename To>
struct Converter<Half, To> {
  __device__ static To Run(Half value) { return FromReal<To>(HalfToFloat(value.bits)); }
};
template <typename To>
struct Converter<BHalf, To> {
  __device__ static To Run(BHalf value) { return FromReal<To>(BFloat16ToFloat(value.bits)); }
};
template <typename From>
struct Converter<From, Half> {
  __device__ static Half Run(From value) { return Half{FloatToHalf(static_cast<float>(value))}; }
};
template <typename From>
struct Converter<From, BHalf> {
  __device__ static BHalf Run(From value) { return BHalf{FloatToBFloat16(static_cast<float>(value))}; }
};
template <>
struct Converter<Half, Half> {
  __device__ static Half Run(Half value) { return value; }
};
template <>
struct Converter<BHalf, BHalf> {
  __device__ static BHalf Run(BHalf value) { return value; }
};
template <>
struct Converter<Half, BHalf> {
  __device__ static BHalf Run(Half value) { return BHalf{FloatToBFloat16(HalfToFloat(value.bits))}; }
};
template <>
struct Converter<BHalf, Half> {
  __device__ static Half Run(BHalf value) { return Half{FloatToHalf(BFloat16ToFloat(value.bits))}; }
};

template <typename Word>
__global__ void FillKernel(Word* __restrict__ destination, int64_t count, Word value) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride) {
    destination[i] = value;
  }
}

template <typename From, typename To>
__global__ void CastKernel(const From* __restrict__ source, To* __restrict__ destination, int64_t count) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride) {
    destination[i] = Converter<From, To>::Run(source[i]);
  }
}

// Blocks for `count` elements, one per thread up to kMaxBlocks.
unsigned int BlocksFor(int64_t count) {
  const int64_t blocks = (count + kThreadsPerBlock - 1) / kThreadsPerBlock;
  return static_cast<unsigned int>(blocks < kMaxBlocks ? blocks : kMaxBlocks);
}

// Calls `fn(T{})` with T the device storage type of type code `code`; false for an unknown code.
template <typename Fn>
bool DispatchType(int code, Fn&& fn) {
  switch (code) {
    case kFloat32: fn(float{}); return true;
    case kFloat64: fn(double{}); return true;
    case kFloat16: fn(Half{}); return true;
    case kBfloat16: fn(BHalf{}); return true;
    case kUint8: fn(uint8_t{}); return true;
    case kInt8: fn(int8_t{}); return true;
    case kInt32: fn(int32_t{}); return true;
    case kInt64: fn(int64_t{}); return true;
    case kBool: fn(bool{}); return true;
  }
  return false;
}

template <typename Word>
void LaunchFillOf(void* destination, int64_t count, uint64_t pattern, cudaStream_t stream) {
  FillKernel<Word><<<BlocksFor(count), kThreadsPerBlock, 0, stream>>>(static_cast<Word*>(destination), count,
                                                                       static_cast<Word>(pattern));
}

}  // namespace

int LaunchFill(void* destination, int element_size, int64_t count, uint64_t pattern, void* stream) {
  if (count <= 0) return cudaSuccess;
  cudaGetLastError();  // Drop a stale error of an earlier call, already reported by that call's result.
  cudaStream_t cuda_stream = static_cast<cudaStream_t>(stream);
  switch (element_size) {
    case 1: LaunchFillOf<uint8_t>(destination, count, pattern, cuda_stream); break;
    case 2: LaunchFillOf<uint16_t>(destination, count, pattern, cuda_stream); break;
    case 4: LaunchFillOf<uint32_t>(destination, count, pattern, cuda_stream); break;
    case 8: LaunchFillOf<unsigned long long>(destination, count, pattern, cuda_stream); break;
    default: return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

int LaunchCast(const void* source, int source_code, void* destination, int destination_code, int64_t count,
               void* stream) {
  bool known = false;
  cudaGetLastError();  // As in LaunchFill.
  cudaStream_t cuda_stream = static_cast<cudaStream_t>(stream);
  const bool source_known = DispatchType(source_code, [&](auto source_tag) {
    using From = decltype(source_tag);
    known = DispatchType(destination_code, [&](auto destination_tag) {
      using To = decltype(destination_tag);
      if (count <= 0) return;
      CastKernel<From, To><<<BlocksFor(count), kThreadsPerBlock, 0, cuda_stream>>>(
          static_cast<const From*>(source), static_cast<To*>(destination), count);
    });
  });
  if (!source_known || !known) return kUnknownTypeCode;
  return count <= 0 ? cudaSuccess : cudaGetLastError();
}

}  // namespace kernels
}  // namespace gpu
}  // namespace pmx
