// Broadcasting copies (broadcast_to/like/axis, _broadcast_reduced) and add_n.
#include "core/backend/cuda/ops/elementwise.cuh"

namespace pmx {
namespace gpu {
namespace ops_kernels {
namespace {

// Inputs add_n reads in one kernel; more are added in further launches.
constexpr int kAddNPerLaunch = 32;

// add_n's input pointers, passed by value as a kernel argument.
struct InputPack {
  const void* pointers[kAddNPerLaunch];
};

template <typename T>
__global__ void BroadcastCopyKernel(const T* x, T* y, int64_t n, StridedGeometry geometry, int64_t divisor, bool add) {
  using C = Compute<T>;
  const C scale = static_cast<C>(divisor);
  for (int64_t i = GridStart(); i < n; i += GridStride()) {
    int64_t ix, unused;
    StridedOffsets(geometry, i, &ix, &unused);
    C value = static_cast<C>(x[ix]);
    if (divisor != 1) value = static_cast<C>(value / scale);
    Store(y + i, value, add);
  }
}

template <typename T>
__global__ void AddNKernel(InputPack inputs, int count, T* y, int64_t n, bool add) {
  using C = Compute<T>;
  for (int64_t i = GridStart(); i < n; i += GridStride()) {
    C sum = 0;  // In the compute type, input by input, as the CPU kernel sums.
    for (int k = 0; k < count; ++k) sum += static_cast<C>(static_cast<const T*>(inputs.pointers[k])[i]);
    Store(y + i, sum, add);
  }
}

}  // namespace

int LaunchBroadcastCopy(int type, const void* x, void* y, int64_t n, const StridedGeometry& geometry, int64_t divisor,
                        int add, void* stream) {
  ClearStaleError();
  cudaStream_t cuda_stream = static_cast<cudaStream_t>(stream);
  const bool known = DispatchType<kAll>(type, [&](auto tag) {
    using T = decltype(tag);
    if (n <= 0) return;
    BroadcastCopyKernel<T><<<BlocksFor(n), kThreads, 0, cuda_stream>>>(static_cast<const T*>(x), static_cast<T*>(y),
                                                                        n, geometry, divisor, add != 0);
  });
  return known ? LaunchStatus() : kUnsupported;
}

// Note [add_n with many inputs]
// One launch sums up to kAddNPerLaunch inputs; further groups are added into the output by further
// launches. For integers and float32/float64 inputs this only reorders additions; float16/bfloat16
// outputs are rounded once per group rather than once at the end. An output that aliases one of the
// inputs (out=) is read after the first group has overwritten it, so the CPU and GPU results differ
// for more than kAddNPerLaunch inputs in that case.
int LaunchAddN(int type, const void* const* inputs, int count, void* y, int64_t n, int add, void* stream) {
  ClearStaleError();
  cudaStream_t cuda_stream = static_cast<cudaStream_t>(stream);
  const bool known = DispatchType<kNumeric>(type, [&](auto tag) {
    using T = decltype(tag);
    if (n <= 0) return;
    for (int first = 0; first == 0 || first < count; first += kAddNPerLaunch) {
      InputPack pack{};
      const int group = count - first < kAddNPerLaunch ? count - first : kAddNPerLaunch;
      for (int k = 0; k < group; ++k) pack.pointers[k] = inputs[first + k];
      AddNKernel<T><<<BlocksFor(n), kThreads, 0, cuda_stream>>>(pack, group, static_cast<T*>(y), n,
                                                                 add != 0 || first > 0);
    }
  });
  return known ? LaunchStatus() : kUnsupported;
}

}  // namespace ops_kernels
}  // namespace gpu
}  // namespace pmx
