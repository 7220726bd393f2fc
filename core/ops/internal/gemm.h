// Matrix products for every floating-point dtype, shared by dot, batch_dot, FullyConnected and linalg:
// float32 runs on oneDNN, float64 on a blocked, threaded loop, float16/bfloat16 convert to float32 around
// oneDNN (Note [GEMM dtypes]).
#ifndef POLYMIX_CORE_OPS_INTERNAL_GEMM_H_
#define POLYMIX_CORE_OPS_INTERNAL_GEMM_H_

#include <cstdint>

#include "core/base/half.h"

namespace pmx {
namespace ops {

// Note [GEMM dtypes]
// oneDNN 2.6 has no double-precision GEMM, so float64 uses a cache-blocked loop (correct and threaded,
// about a tenth of float32's speed). The 16-bit floats are widened to float32 buffers, multiplied by
// oneDNN and narrowed once at the end, so they accumulate in float32 like MXNet's CPU kernels.

// One (possibly batched) product C[i] = alpha * op(A[i]) * op(B[i]) + beta * C[i] of row-major matrices.
struct GemmShape {
  int64_t batch = 1;           // Number of products.
  int64_t m = 0, n = 0, k = 0;  // op(A) is m x k, op(B) is k x n, C is m x n.
  bool trans_a = false;        // A is stored k x m.
  bool trans_b = false;        // B is stored n x k.
  int64_t lda = -1, ldb = -1, ldc = -1;  // Row strides as stored; -1: dense.
  int64_t stride_a = -1, stride_b = -1, stride_c = -1;  // Element strides between batch entries; -1: dense.
};

// Runs the product for T in {float, double, Float16, BFloat16}.
template <typename T>
void Gemm(const GemmShape& shape, double alpha, const T* a, const T* b, double beta, T* c);

}  // namespace ops
}  // namespace pmx

#endif  // POLYMIX_CORE_OPS_INTERNAL_GEMM_H_
