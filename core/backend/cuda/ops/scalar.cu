// Array-scalar elementwise kernels (_*_scalar, smooth_l1): one kernel template over the ops of
// PMX_GPU_SCALAR_OPS and their dtypes. The scalar converts to the compute type as on the CPU.
#include "core/backend/cuda/ops/elementwise.cuh"


namespace pmx {
namespace gpu {
namespace ops_kernels {
namespace {

// The formula of scalar op kOp in the compute type C.
template <int kOp>
struct ScalarFormula;

#define PMX_DEFINE_FORMULA(CODE, NAME, CLASS, EXPR)         \
  template <>                                               \
  struct ScalarFormula<CODE> {                              \
    static constexpr int kClass = CLASS;                    \
    template <typename C>                                   \
    __device__ static __forceinline__ C Run(C x, C s) {     \
      return static_cast<C>(EXPR);                          \
    }                                                       \
  };
PMX_GPU_SCALAR_OPS(PMX_DEFINE_FORMULA)
#undef PMX_DEFINE_FORMULA

template <int kOp, typename T>
__global__ void ScalarKernel(const T* x, T* y, int64_t n, double scalar, bool add) {
  using C = Compute<T>;
  const C s = static_cast<C>(scalar);
  for (int64_t i = GridStart(); i < n; i += GridStride()) {
    Store(y + i, ScalarFormula<kOp>::template Run<C>(static_cast<C>(x[i]), s), add);
  }
}

template <int kOp>
bool LaunchOp(int type, const void* x, void* y, int64_t n, double scalar, bool add, cudaStream_t stream) {
  return DispatchType<ScalarFormula<kOp>::kClass>(type, [&](auto tag) {
    using T = decltype(tag);
    if (n <= 0) return;
    ScalarKernel<kOp, T><<<BlocksFor(n), kThreads, 0, stream>>>(static_cast<const T*>(x), static_cast<T*>(y), n,
                                                                 scalar, add);
  });
}

}  // namespace

int LaunchScalar(int op, int type, const void* x, void* y, int64_t n, double scalar, int add, void* stream) {
  ClearStaleError();
  cudaStream_t cuda_stream = static_cast<cudaStream_t>(stream);
  bool known = false;
  switch (op) {
#define PMX_CASE(CODE, ...) \
  case CODE: known = LaunchOp<CODE>(type, x, y, n, scalar, add != 0, cuda_stream); break;
    PMX_GPU_SCALAR_OPS(PMX_CASE)
#undef PMX_CASE
  }
  return known ? LaunchStatus() : kUnsupported;
}

}  // namespace ops_kernels
}  // namespace gpu
}  // namespace pmx
