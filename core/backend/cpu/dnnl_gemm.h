// Single-precision matrix products on oneDNN: dnnl_sgemm for one matrix, a cached matmul primitive for
// batches and for products with a fused bias (FullyConnected).
#ifndef POLYMIX_CORE_BACKEND_CPU_DNNL_GEMM_H_
#define POLYMIX_CORE_BACKEND_CPU_DNNL_GEMM_H_

#include <cstdint>

namespace pmx {
namespace cpu {

// C = alpha * op(A) * op(B) + beta * C for row-major matrices: op(A) is m x k, op(B) is k x n, C is m x n;
// lda/ldb/ldc are the row strides of A, B, C as stored (A is k x m when trans_a). Runs on OpenMP threads.
void Sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// One batched product C[i] = alpha * op(A[i]) * op(B[i]) (+ bias) (+ C[i] when accumulate), i < batch.
struct MatmulProblem {
  int64_t batch = 1;       // Number of independent products.
  int64_t m = 0, n = 0, k = 0;  // op(A) is m x k, op(B) is k x n.
  bool trans_a = false;    // A[i] is stored k x m (row-major) and used transposed.
  bool trans_b = false;    // B[i] is stored n x k and used transposed.
  bool broadcast_b = false;  // One B shared by every batch entry (stride 0).
  bool has_bias = false;   // Add bias[j] to column j of every product.
  bool accumulate = false;  // Add into C instead of overwriting it.
  float alpha = 1.0f;      // Scale of the product (not of the bias).
};

// Runs `problem` with oneDNN's matmul primitive (cached per problem). A, B, C are dense row-major
// batches (B a single matrix when broadcast_b); bias has n entries or is ignored.
void DnnlMatmul(const MatmulProblem& problem, const float* a, const float* b, const float* bias, float* c);

}  // namespace cpu
}  // namespace pmx

#endif  // POLYMIX_CORE_BACKEND_CPU_DNNL_GEMM_H_
