#include "core/ops/internal/gemm.h"

#include <algorithm>
#include <type_traits>
#include <vector>

#include "core/backend/cpu/dnnl_gemm.h"
#include "core/backend/cpu/parallel.h"

namespace pmx {
namespace ops {
namespace {

// The shape with every -1 replaced by the dense value.
GemmShape Resolve(GemmShape s) {
  if (s.lda < 0) s.lda = s.trans_a ? s.m : s.k;
  if (s.ldb < 0) s.ldb = s.trans_b ? s.k : s.n;
  if (s.ldc < 0) s.ldc = s.n;
  if (s.stride_a < 0) s.stride_a = s.m * s.k;
  if (s.stride_b < 0) s.stride_b = s.k * s.n;
  if (s.stride_c < 0) s.stride_c = s.m * s.n;
  return s;
}

bool IsDense(const GemmShape& s) {
  return s.lda == (s.trans_a ? s.m : s.k) && s.ldb == (s.trans_b ? s.k : s.n) && s.ldc == s.n &&
         s.stride_a == s.m * s.k && (s.stride_b == s.k * s.n || s.stride_b == 0) && s.stride_c == s.m * s.n;
}

void GemmFloat(const GemmShape& s, float alpha, const float* a, const float* b, float beta, float* c) {
  if (s.batch > 1 && IsDense(s) && (beta == 0.0f || beta == 1.0f)) {
    cpu::MatmulProblem problem;
    problem.batch = s.batch;
    problem.m = s.m;
    problem.n = s.n;
    problem.k = s.k;
    problem.trans_a = s.trans_a;
    problem.trans_b = s.trans_b;
    problem.broadcast_b = s.stride_b == 0;
    problem.accumulate = beta == 1.0f;
    problem.alpha = alpha;
    cpu::DnnlMatmul(problem, a, b, nullptr, c);
    return;
  }
  for (int64_t i = 0; i < s.batch; ++i) {
    cpu::Sgemm(s.trans_a, s.trans_b, s.m, s.n, s.k, alpha, a + i * s.stride_a, s.lda, b + i * s.stride_b, s.ldb, beta,
               c + i * s.stride_c, s.ldc);
  }
}

// Block sizes of the double loop: a kKBlock x kNBlock panel of B (512 KiB) stays in L2 while kRows rows of
// C are updated from it.
constexpr int64_t kKBlock = 128;
constexpr int64_t kNBlock = 512;
constexpr int64_t kRows = 4;

// C = alpha * op(A) * B + beta * C for one matrix, with B row-major k x n (already untransposed).
void GemmDoubleOne(const GemmShape& s, double alpha, const double* a, const double* b, int64_t ldb, double beta,
                   double* c) {
  auto a_at = [&](int64_t i, int64_t p) { return s.trans_a ? a[p * s.lda + i] : a[i * s.lda + p]; };
  const int64_t row_groups = (s.m + kRows - 1) / kRows;
  const int64_t group_cost = std::max<int64_t>(kRows * s.n * std::max<int64_t>(s.k, 1), 1);
  cpu::ParallelFor(row_groups, std::max<int64_t>(1, 65536 / group_cost),
                   [&](int64_t begin, int64_t end) {
    for (int64_t group = begin; group < end; ++group) {
      const int64_t i0 = group * kRows, i1 = std::min(s.m, i0 + kRows);
      for (int64_t i = i0; i < i1; ++i) {
        double* row = c + i * s.ldc;
        if (beta == 0.0) {
          std::fill(row, row + s.n, 0.0);
        } else if (beta != 1.0) {
          for (int64_t j = 0; j < s.n; ++j) row[j] *= beta;
        }
      }
      for (int64_t p0 = 0; p0 < s.k; p0 += kKBlock) {
        const int64_t p1 = std::min(s.k, p0 + kKBlock);
        for (int64_t j0 = 0; j0 < s.n; j0 += kNBlock) {
          const int64_t j1 = std::min(s.n, j0 + kNBlock);
          for (int64_t i = i0; i < i1; ++i) {
            double* row = c + i * s.ldc;
            for (int64_t p = p0; p < p1; ++p) {
              const double factor = alpha * a_at(i, p);
              if (factor == 0.0) continue;
              const double* b_row = b + p * ldb;
              for (int64_t j = j0; j < j1; ++j) row[j] += factor * b_row[j];
            }
          }
        }
      }
    }
  });
}

void GemmDouble(const GemmShape& s, double alpha, const double* a, const double* b, double beta, double* c) {
  std::vector<double> untransposed;
  for (int64_t i = 0; i < s.batch; ++i) {
    const double* bi = b + i * s.stride_b;
    int64_t ldb = s.ldb;
    if (s.trans_b) {  // Make B row-major k x n so the inner loop runs along contiguous rows.
      untransposed.resize(static_cast<size_t>(s.k * s.n));
      for (int64_t p = 0; p < s.k; ++p) {
        for (int64_t j = 0; j < s.n; ++j) untransposed[p * s.n + j] = bi[j * s.ldb + p];
      }
      bi = untransposed.data();
      ldb = s.n;
    }
    GemmDoubleOne(s, alpha, a + i * s.stride_a, bi, ldb, beta, c + i * s.stride_c);
  }
}

// Copies a strided batch of rows x cols matrices of T into a dense float buffer.
template <typename T>
std::vector<float> Widen(const T* data, int64_t batch, int64_t rows, int64_t cols, int64_t ld, int64_t stride) {
  std::vector<float> out(static_cast<size_t>(batch * rows * cols));
  for (int64_t i = 0; i < batch; ++i) {
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t col = 0; col < cols; ++col) {
        out[(i * rows + r) * cols + col] = static_cast<float>(data[i * stride + r * ld + col]);
      }
    }
  }
  return out;
}

template <typename T>
void GemmHalf(const GemmShape& s, double alpha, const T* a, const T* b, double beta, T* c) {
  const int64_t a_rows = s.trans_a ? s.k : s.m, a_cols = s.trans_a ? s.m : s.k;
  const int64_t b_rows = s.trans_b ? s.n : s.k, b_cols = s.trans_b ? s.k : s.n;
  const int64_t b_batch = s.stride_b == 0 ? 1 : s.batch;
  std::vector<float> wide_a = Widen(a, s.batch, a_rows, a_cols, s.lda, s.stride_a);
  std::vector<float> wide_b = Widen(b, b_batch, b_rows, b_cols, s.ldb, s.stride_b);
  std::vector<float> wide_c = beta == 0.0 ? std::vector<float>(static_cast<size_t>(s.batch * s.m * s.n))
                                          : Widen(c, s.batch, s.m, s.n, s.ldc, s.stride_c);
  GemmShape dense;
  dense.batch = s.batch;
  dense.m = s.m;
  dense.n = s.n;
  dense.k = s.k;
  dense.trans_a = s.trans_a;
  dense.trans_b = s.trans_b;
  dense = Resolve(dense);
  if (b_batch == 1) dense.stride_b = 0;
  GemmFloat(dense, static_cast<float>(alpha), wide_a.data(), wide_b.data(), static_cast<float>(beta), wide_c.data());
  for (int64_t i = 0; i < s.batch; ++i) {
    for (int64_t r = 0; r < s.m; ++r) {
      for (int64_t col = 0; col < s.n; ++col) {
        c[i * s.stride_c + r * s.ldc + col] = static_cast<T>(wide_c[(i * s.m + r) * s.n + col]);
      }
    }
  }
}

}  // namespace

template <typename T>
void Gemm(const GemmShape& shape, double alpha, const T* a, const T* b, double beta, T* c) {
  const GemmShape s = Resolve(shape);
  if (s.batch == 0 || s.m == 0 || s.n == 0) return;
  if constexpr (std::is_same_v<T, float>) {
    GemmFloat(s, static_cast<float>(alpha), a, b, static_cast<float>(beta), c);
  } else if constexpr (std::is_same_v<T, double>) {
    GemmDouble(s, alpha, a, b, beta, c);
  } else {
    GemmHalf(s, alpha, a, b, beta, c);
  }
}

template void Gemm<float>(const GemmShape&, double, const float*, const float*, double, float*);
template void Gemm<double>(const GemmShape&, double, const double*, const double*, double, double*);
template void Gemm<Float16>(const GemmShape&, double, const Float16*, const Float16*, double, Float16*);
template void Gemm<BFloat16>(const GemmShape&, double, const BFloat16*, const BFloat16*, double, BFloat16*);

}  // namespace ops
}  // namespace pmx
