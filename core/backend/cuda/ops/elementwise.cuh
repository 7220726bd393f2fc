// Device-side building blocks shared by the GPU operator kernels (nvcc only): compute types, stores
// that honour kAdd, the formula helpers of elementwise_table.h, dtype dispatch and launch shapes.
#ifndef POLYMIX_CORE_BACKEND_CUDA_OPS_ELEMENTWISE_CUH_
#define POLYMIX_CORE_BACKEND_CUDA_OPS_ELEMENTWISE_CUH_

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <limits>
#include <type_traits>

#include "core/backend/cuda/ops/launch.h"

// "pointless comparison of unsigned integer with zero": the shared formulas (abs, relu, sign, Mod) meet
// uint8, where the comparison is constant; that is intended.
#pragma nv_diag_suppress 186

namespace pmx {
namespace gpu {
namespace ops_kernels {

constexpr double kPi = 3.14159265358979323846;

// The type arithmetic runs in: float for the 16-bit floats, the storage type otherwise (as the CPU's
// ComputeType in core/ops/internal/elementwise.h).
template <typename T>
struct ComputeOf {
  using type = T;
};
template <>
struct ComputeOf<__half> {
  using type = float;
};
template <>
struct ComputeOf<__nv_bfloat16> {
  using type = float;
};
// Shorthand for ComputeOf<T>::type.
template <typename T>
using Compute = typename ComputeOf<T>::type;

// Whether the compute type C is a floating-point type.
template <typename C>
constexpr bool kIsFloating = std::is_floating_point_v<C>;

// Writes `value` to `*out`, adding the old value first when `add` (the CPU's Store: the sum is taken in
// the compute type, then converted once; 16-bit floats round to nearest even).
template <typename T, typename C>
__device__ __forceinline__ void Store(T* out, C value, bool add) {
  if (add) value = static_cast<C>(static_cast<C>(*out) + value);
  *out = static_cast<T>(value);
}

// Formula helpers (elementwise_table.h). Rounding passes integers through, as core/ops/unary.cc's
// FloatOnly does.
template <typename C>
__device__ __forceinline__ C Floor(C x) {
  if constexpr (kIsFloating<C>) return floor(x); else return x;
}
template <typename C>
__device__ __forceinline__ C Ceil(C x) {
  if constexpr (kIsFloating<C>) return ceil(x); else return x;
}
template <typename C>
__device__ __forceinline__ C Round(C x) {  // Halves away from zero (std::round).
  if constexpr (kIsFloating<C>) return round(x); else return x;
}
template <typename C>
__device__ __forceinline__ C Rint(C x) {  // Halves to even (std::nearbyint in the default mode).
  if constexpr (kIsFloating<C>) return rint(x); else return x;
}
template <typename C>
__device__ __forceinline__ C Trunc(C x) {
  if constexpr (kIsFloating<C>) return trunc(x); else return x;
}
template <typename C>
__device__ __forceinline__ C Clamp01(C v) {
  return v < 0 ? C(0) : (v > 1 ? C(1) : v);
}

// Python's modulo (the result takes the divisor's sign); 0 for a zero divisor, as MXNet.
template <typename C>
__device__ __forceinline__ C Mod(C a, C b) {
  if (b == 0) return 0;
  if constexpr (kIsFloating<C>) {
    const C r = fmod(a, b);
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
  } else {
    const C r = static_cast<C>(a % b);
    return (r != 0 && ((r < 0) != (b < 0))) ? static_cast<C>(r + b) : r;
  }
}

// a ** b computed in double, as the CPU does for every dtype.
template <typename C>
__device__ __forceinline__ C Power(C a, C b) {
  if constexpr (std::is_integral_v<C>) {
    // Exact for integers, as the host's std::pow in double is for every result that fits: the device's
    // pow is only faithfully rounded (pow(3, 1) may give 2.9999999999999996, which truncates to 2).
    if (b < 0) return a == 1 ? C(1) : (a == C(-1) ? ((b & 1) ? C(-1) : C(1)) : C(0));
    C result = 1, base = a;
    for (auto e = b; e > 0; e >>= 1) {
      if (e & 1) result = static_cast<C>(result * base);
      base = static_cast<C>(base * base);
    }
    return result;
  } else {
    return static_cast<C>(pow(static_cast<double>(a), static_cast<double>(b)));
  }
}

// A real operator parameter (clip's bounds) in the compute type C: integer types take it truncated and
// saturated at their limits, as the host kernels do (a bare cast of -1.5 to uint8 is undefined).
template <typename C>
__device__ __forceinline__ C ParameterAs(double value) {
  if constexpr (std::is_integral_v<C> && !std::is_same_v<C, bool>) {
    constexpr int kDigits = std::numeric_limits<C>::digits;
    const double upper = kDigits >= 63 ? 9.2233720368547758e18 : static_cast<double>(1ull << kDigits);
    const double lower = std::is_signed_v<C> ? -upper : 0.0;
    if (value != value) return C(0);
    if (value >= upper) return static_cast<C>(kDigits >= 63 ? 0x7fffffffffffffffll : (1ll << kDigits) - 1);
    if (value <= lower) return static_cast<C>(std::is_signed_v<C> ? -static_cast<long long>(upper) : 0);
    return static_cast<C>(value);
  } else {
    return static_cast<C>(value);
  }
}

// Smooth L1 with sigma = s (core/ops/scalar.cc's smooth_l1).
template <typename C>
__device__ __forceinline__ C SmoothL1(C x, C sigma) {
  const C s2 = sigma * sigma;
  const C ax = x < 0 ? -x : x;
  return ax < 1 / s2 ? C(0.5) * s2 * x * x : ax - C(0.5) / s2;
}

// Digamma in double by recurrence to x >= 6 and the asymptotic series (core/ops/unary.cc's algorithm).
__device__ inline double DigammaDouble(double x) {
  double result = 0;
  if (x <= 0 && floor(x) == x) return nan("");
  if (x < 0) {  // Reflection: psi(x) = psi(1 - x) - pi / tan(pi x).
    result = -kPi / tan(kPi * x);
    x = 1.0 - x;
  }
  while (x < 6) {
    result -= 1 / x;
    x += 1;
  }
  const double f = 1 / (x * x);
  return result + log(x) - 0.5 / x -
         f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f / 132))));
}
template <typename C>
__device__ __forceinline__ C Digamma(C x) {
  return static_cast<C>(DigammaDouble(static_cast<double>(x)));
}

// Threads per block of the elementwise kernels.
constexpr int kThreads = 256;
// Grid size cap: ample for an H200 (132 SMs x 2048 threads); longer arrays loop (grid-stride).
constexpr int64_t kMaxBlocks = 1 << 16;

// Blocks for `count` elements, one per thread up to kMaxBlocks.
inline unsigned int BlocksFor(int64_t count) {
  const int64_t blocks = (count + kThreads - 1) / kThreads;
  return static_cast<unsigned int>(blocks < 1 ? 1 : (blocks < kMaxBlocks ? blocks : kMaxBlocks));
}

// The first index and the stride of a grid-stride loop.
__device__ __forceinline__ int64_t GridStart() { return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t GridStride() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

// Offsets of output element `i` in inputs 0 and 1 of a StridedGeometry.
__device__ __forceinline__ void StridedOffsets(const StridedGeometry& g, int64_t i, int64_t* offset0,
                                               int64_t* offset1) {
  int64_t o0 = 0, o1 = 0;
  for (int d = g.ndim - 1; d >= 0; --d) {
    const int64_t size = g.out_sizes[d];
    const int64_t index = i % size;
    i /= size;
    o0 += index * g.strides[0][d];
    o1 += index * g.strides[1][d];
  }
  *offset0 = o0;
  *offset1 = o1;
}

// Whether the storage type T belongs to class kClass.
template <int kClass, typename T>
constexpr bool kAccepts = kClass == kAll || (kClass == kNumeric && !std::is_same_v<T, bool>) ||
                          (kClass == kFloat && (std::is_floating_point_v<T> || std::is_same_v<T, __half> ||
                                                std::is_same_v<T, __nv_bfloat16>));

// Calls fn(T{}) with T the storage type of type code `type` when class kClass accepts it; returns
// false (kUnsupported for the caller) otherwise.
template <int kClass, typename Fn>
bool DispatchType(int type, Fn&& fn) {
  auto call = [&](auto tag) {
    using T = decltype(tag);
    if constexpr (kAccepts<kClass, T>) {
      fn(tag);
      return true;
    } else {
      return false;
    }
  };
  switch (type) {
    case kFloat32: return call(float{});
    case kFloat64: return call(double{});
    case kFloat16: return call(__half{});
    case kBfloat16: return call(__nv_bfloat16{});
    case kUint8: return call(uint8_t{});
    case kInt8: return call(int8_t{});
    case kInt32: return call(int32_t{});
    case kInt64: return call(int64_t{});
    case kBool: return call(bool{});
  }
  return false;
}

// Drops a stale non-sticky error of an earlier call (already reported by that call's result), so that
// LaunchStatus reports this launcher's own.
inline void ClearStaleError() { cudaGetLastError(); }

// The status of the kernels just queued: the launch error, if any.
inline int LaunchStatus() { return static_cast<int>(cudaGetLastError()); }

}  // namespace ops_kernels
}  // namespace gpu
}  // namespace pmx

#endif  // POLYMIX_CORE_BACKEND_CUDA_OPS_ELEMENTWISE_CUH_
