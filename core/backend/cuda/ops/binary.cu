// Binary elementwise kernels for the ops of PMX_GPU_BINARY_OPS: a flat kernel for same-shape operands
// and a strided one for NumPy broadcasting (elemwise_* and broadcast_* share both).
#include "core/backend/cuda/ops/elementwise.cuh"


namespace pmx {
namespace gpu {
namespace ops_kernels {
namespace {

// The formula of binary op kOp in the compute type C.
template <int kOp>
struct BinaryFormula;

#define PMX_DEFINE_FORMULA(CODE, NAME, BROADCAST_NAME, CLASS, EXPR) \
  template <>                                                       \
  struct BinaryFormula<CODE> {                                      \
    static constexpr int kClass = CLASS;                            \
    template <typename C>                                           \
    __device__ static __forceinline__ C Run(C a, C b) {             \
      return static_cast<C>(EXPR);                                  \
    }                                                               \
  };
PMX_GPU_BINARY_OPS(PMX_DEFINE_FORMULA)
#undef PMX_DEFINE_FORMULA

template <int kOp, typename T>
__global__ void BinaryKernel(const T* a, const T* b, T* y, int64_t n, bool add) {
  using C = Compute<T>;
  for (int64_t i = GridStart(); i < n; i += GridStride()) {
    Store(y + i, BinaryFormula<kOp>::template Run<C>(static_cast<C>(a[i]), static_cast<C>(b[i])), add);
  }
}

template <int kOp, typename T>
__global__ void BinaryBroadcastKernel(const T* a, const T* b, T* y, int64_t n, StridedGeometry geometry, bool add) {
  using C = Compute<T>;
  for (int64_t i = GridStart(); i < n; i += GridStride()) {
    int64_t ia, ib;
    StridedOffsets(geometry, i, &ia, &ib);
    Store(y + i, BinaryFormula<kOp>::template Run<C>(static_cast<C>(a[ia]), static_cast<C>(b[ib])), add);
  }
}

template <int kOp>
bool LaunchOp(int type, const void* a, const void* b, void* y, int64_t n, const StridedGeometry* geometry, bool add,
              cudaStream_t stream) {
  return DispatchType<BinaryFormula<kOp>::kClass>(type, [&](auto tag) {
    using T = decltype(tag);
    if (n <= 0) return;
    const T* lhs = static_cast<const T*>(a);
    const T* rhs = static_cast<const T*>(b);
    T* out = static_cast<T*>(y);
    if (geometry == nullptr) {
      BinaryKernel<kOp, T><<<BlocksFor(n), kThreads, 0, stream>>>(lhs, rhs, out, n, add);
    } else {
      BinaryBroadcastKernel<kOp, T><<<BlocksFor(n), kThreads, 0, stream>>>(lhs, rhs, out, n, *geometry, add);
    }
  });
}

}  // namespace

int LaunchBinary(int op, int type, const void* a, const void* b, void* y, int64_t n, const StridedGeometry* geometry,
                 int add, void* stream) {
  ClearStaleError();
  cudaStream_t cuda_stream = static_cast<cudaStream_t>(stream);
  bool known = false;
  switch (op) {
#define PMX_CASE(CODE, ...) \
  case CODE: known = LaunchOp<CODE>(type, a, b, y, n, geometry, add != 0, cuda_stream); break;
    PMX_GPU_BINARY_OPS(PMX_CASE)
#undef PMX_CASE
  }
  return known ? LaunchStatus() : kUnsupported;
}

}  // namespace ops_kernels
}  // namespace gpu
}  // namespace pmx
