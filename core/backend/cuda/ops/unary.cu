// Unary elementwise kernels: one kernel template, instantiated per op of PMX_GPU_UNARY_OPS and per dtype
// the op accepts; the formula comes from the table.
#include "core/backend/cuda/ops/elementwise.cuh"


namespace pmx {
namespace gpu {
namespace ops_kernels {
namespace {

// The formula of unary op kOp, evaluated in the compute type C; a and b are the op's parameters.
template <int kOp>
struct UnaryFormula;

#define PMX_DEFINE_FORMULA(CODE, NAME, CLASS, PARAMS, EXPR)          \
  template <>                                                        \
  struct UnaryFormula<CODE> {                                        \
    static constexpr int kClass = CLASS;                             \
    template <typename C>                                            \
    __device__ static __forceinline__ C Run(C x, C a, C b) {         \
      return static_cast<C>(EXPR);                                   \
    }                                                                \
  };
PMX_GPU_UNARY_OPS(PMX_DEFINE_FORMULA)
#undef PMX_DEFINE_FORMULA

template <int kOp, typename T>
__global__ void UnaryKernel(const T* x, T* y, int64_t n, double p0, double p1, bool add) {
  using C = Compute<T>;
  const C a = ParameterAs<C>(p0), b = ParameterAs<C>(p1);
  for (int64_t i = GridStart(); i < n; i += GridStride()) {
    Store(y + i, UnaryFormula<kOp>::template Run<C>(static_cast<C>(x[i]), a, b), add);
  }
}

template <int kOp>
bool LaunchOp(int type, const void* x, void* y, int64_t n, double p0, double p1, bool add, cudaStream_t stream) {
  return DispatchType<UnaryFormula<kOp>::kClass>(type, [&](auto tag) {
    using T = decltype(tag);
    if (n <= 0) return;
    UnaryKernel<kOp, T><<<BlocksFor(n), kThreads, 0, stream>>>(static_cast<const T*>(x), static_cast<T*>(y), n, p0,
                                                                p1, add);
  });
}

}  // namespace

int LaunchUnary(int op, int type, const void* x, void* y, int64_t n, double p0, double p1, int add, void* stream) {
  ClearStaleError();
  cudaStream_t cuda_stream = static_cast<cudaStream_t>(stream);
  bool known = false;
  switch (op) {
#define PMX_CASE(CODE, ...) \
  case CODE: known = LaunchOp<CODE>(type, x, y, n, p0, p1, add != 0, cuda_stream); break;
    PMX_GPU_UNARY_OPS(PMX_CASE)
#undef PMX_CASE
  }
  return known ? LaunchStatus() : kUnsupported;
}

}  // namespace ops_kernels
}  // namespace gpu
}  // namespace pmx
