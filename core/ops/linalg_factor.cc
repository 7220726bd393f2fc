// Factorizations and functions of matrices, batched over leading axes: _linalg_potrf (Cholesky),
// _linalg_potri, _linalg_inverse, _linalg_det, _linalg_slogdet, _linalg_sumlogdiag, _linalg_gelqf (LQ) and
// _linalg_syevd (symmetric eigendecomposition). Kernels compute in double (Note [Batches of matrices]);
// gradients compose other _linalg_* ops.
#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/ops/internal/linalg_common.h"

namespace pmx {
namespace ops {
namespace linalg {
namespace {

// Note [Cholesky gradients are symmetric]
// potrf (and syevd) read one triangle of their (symmetric) input, but like MXNet their gradients are
// symmetric matrices, for potrf 0.5 * L^-T * copyLTU(L^T * dL) * L^-1: the derivative along symmetric
// perturbations, which is what callers building A symmetrically need. Element-wise finite differences
// therefore do not apply to them; tests/ops/test_linalg_extra.py checks them along symmetric directions.

ParamDef LowerParam() {
  return {"lower", ParamType::kBool, "True", false, false, {}, "The factor is lower (else upper) triangular."};
}

// Shape inference for ops mapping square matrices to matrices of the same shape.
bool InferSquare(const char* op, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
  if (!(*in)[0]) return false;
  CheckMatrices(op, "A", *(*in)[0], true);
  (*out)[0] = *(*in)[0];
  return true;
}

// Runs fn(matrix in, matrix out, n) over the batch in double, then writes out[0].
template <typename Fn>
void SquareKernel(const KernelContext& context, absl::Span<const TensorRef> in, absl::Span<const TensorRef> out,
                  Fn fn) {
  const std::vector<double> a = ToDouble(in[0]);
  std::vector<double> result(a.size(), 0.0);
  const int64_t n = in[0].shape[in[0].shape.ndim() - 1];
  ForEachMatrix(n == 0 ? 0 : static_cast<int64_t>(a.size()) / (n * n), n * n * n,
                [&](int64_t m) { fn(a.data() + m * n * n, result.data() + m * n * n, n, m); });
  FromDouble(result, out[0], context.modes[0] == WriteMode::kAdd);
}

// The Cholesky factor of the symmetric matrix whose lower (or upper) triangle is stored in a: lower L with
// A = L L^T, or upper U = L^T with A = U^T U. Throws ValueError naming `op` unless A is positive definite.
void Cholesky(const char* op, const double* a, double* out, int64_t n, bool lower, int64_t index) {
  auto at = [&](int64_t i, int64_t j) { return lower ? a[i * n + j] : a[j * n + i]; };  // i >= j.
  std::vector<double> l(static_cast<size_t>(n * n), 0.0);
  for (int64_t j = 0; j < n; ++j) {
    double s = at(j, j);
    for (int64_t k = 0; k < j; ++k) s -= l[j * n + k] * l[j * n + k];
    PMX_CHECK(s > 0, kValueError, "[%s] matrix %d of the batch is not positive definite", op,
              static_cast<int>(index));
    l[j * n + j] = std::sqrt(s);
    for (int64_t i = j + 1; i < n; ++i) {
      double t = at(i, j);
      for (int64_t k = 0; k < j; ++k) t -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = t / l[j * n + j];
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) out[i * n + j] = lower ? l[i * n + j] : l[j * n + i];
  }
}

// The inverse of the lower-triangular matrix whose lower triangle is stored in l.
std::vector<double> InvertLower(const char* op, const double* l, int64_t n, int64_t index) {
  std::vector<double> inv(static_cast<size_t>(n * n), 0.0);
  for (int64_t j = 0; j < n; ++j) {
    PMX_CHECK(l[j * n + j] != 0, kValueError, "[%s] matrix %d of the batch is singular", op, static_cast<int>(index));
    inv[j * n + j] = 1.0 / l[j * n + j];
    for (int64_t i = j + 1; i < n; ++i) {
      double sum = 0;
      for (int64_t k = j; k < i; ++k) sum += l[i * n + k] * inv[k * n + j];
      inv[i * n + j] = -sum / l[i * n + i];
    }
  }
  return inv;
}

// LU factorization with partial pivoting of a copy of `a`; returns the factor and the permutation sign, or
// sign 0 when the matrix is singular.
std::vector<double> LuFactor(const double* a, int64_t n, int* sign) {
  std::vector<double> lu(a, a + n * n);
  *sign = 1;
  for (int64_t k = 0; k < n; ++k) {
    int64_t pivot = k;
    for (int64_t i = k + 1; i < n; ++i) {
      if (std::abs(lu[i * n + k]) > std::abs(lu[pivot * n + k])) pivot = i;
    }
    if (lu[pivot * n + k] == 0) {
      *sign = 0;
      return lu;
    }
    if (pivot != k) {
      for (int64_t j = 0; j < n; ++j) std::swap(lu[k * n + j], lu[pivot * n + j]);
      *sign = -*sign;
    }
    for (int64_t i = k + 1; i < n; ++i) {
      const double factor = lu[i * n + k] /= lu[k * n + k];
      for (int64_t j = k + 1; j < n; ++j) lu[i * n + j] -= factor * lu[k * n + j];
    }
  }
  return lu;
}

// (sign of det, log |det|) of a square matrix.
std::pair<double, double> SignLogDet(const double* a, int64_t n) {
  int sign;
  const std::vector<double> lu = LuFactor(a, n, &sign);
  if (sign == 0) return {0.0, -INFINITY};
  double log_abs = 0, s = sign;
  for (int64_t i = 0; i < n; ++i) {
    const double d = lu[i * n + i];
    if (d < 0) s = -s;
    log_abs += std::log(std::abs(d));
  }
  return {s, log_abs};
}

// Shape inference for the reductions of square matrices to one value each (det, slogdet, sumlogdiag).
bool InferReduced(const char* op, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
  if (!(*in)[0]) return false;
  CheckMatrices(op, "A", *(*in)[0], true);
  for (auto& shape : *out) shape = LeadingShape(*(*in)[0], 2);
  return true;
}

// g (one value per matrix) shaped to broadcast against the matrices: (..., 1, 1).
Value PerMatrix(GradientBuilder& b, Value g) {
  return b.Call1("expand_dims", {b.Call1("expand_dims", {g}, {{"axis", "-1"}})}, {{"axis", "-1"}});
}

PMX_REGISTER_OP(_linalg_potrf) {
  OpDef def = LinalgOpDef("_linalg_potrf", "linalg",
                          "Cholesky factorization of batches of symmetric positive-definite matrices: the lower L "
                          "with A = L * L^T (reading A's lower triangle), or with lower=False the upper U with "
                          "A = U^T * U (reading A's upper triangle); the other triangle of the output is zero.",
                          {"A"}, {LowerParam()});
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    return InferSquare("_linalg_potrf", in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const bool lower = context.params->Bool("lower");
    SquareKernel(context, in, out, [&](const double* a, double* r, int64_t n, int64_t m) {
      Cholesky("_linalg_potrf", a, r, n, lower, m);
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    // Note [Cholesky gradients are symmetric]; for upper factors the same with U^T in place of L.
    const bool lower = args.params->Bool("lower");
    const Value f = args.outputs[0], g = args.output_grads[0];
    ParamMap params = {{"lower", BoolText(lower)}, {"transpose", "True"}, {"rightside", BoolText(!lower)}};
    const Value x = b.Call1("_linalg_trmm", {f, g}, params);  // L^T * dL, or dU * U^T.
    const Value half = Triangle(b, x, lower);
    const Value diag = b.Call1("_linalg_makediag", {b.Call1("_linalg_extractdiag", {x})});
    const Value s = b.Call1("elemwise_sub", {b.Call1("elemwise_add", {half, Transpose(b, half)}), diag});
    // lower: 0.5 * L^-T * S * L^-1; upper: 0.5 * U^-1 * S * U^-T.
    const Value left = b.Call1("_linalg_trsm", {f, s},
                               {{"lower", BoolText(lower)}, {"transpose", BoolText(lower)}, {"rightside", "False"}});
    return {b.Call1("_linalg_trsm", {f, left},
                    {{"lower", BoolText(lower)}, {"transpose", BoolText(!lower)}, {"rightside", "True"},
                     {"alpha", "0.5"}})};
  };
  return def;
}

PMX_REGISTER_OP(_linalg_potri) {
  OpDef def = LinalgOpDef("_linalg_potri", "linalg",
                          "Inverse of a matrix from its Cholesky factor, batched: given lower L (reading its lower "
                          "triangle) returns (L * L^T)^-1; with lower=False, given upper U returns (U^T * U)^-1.",
                          {"A"}, {LowerParam()});
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    return InferSquare("_linalg_potri", in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const bool lower = context.params->Bool("lower");
    SquareKernel(context, in, out, [&](const double* a, double* r, int64_t n, int64_t m) {
      // Work on the lower factor L (U^T for an upper one): the result is L^-T * L^-1 either way.
      std::vector<double> l(static_cast<size_t>(n * n));
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = 0; j < n; ++j) l[i * n + j] = lower ? a[i * n + j] : a[j * n + i];
      }
      const std::vector<double> inv = InvertLower("_linalg_potri", l.data(), n, m);
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = 0; j < n; ++j) {
          double sum = 0;
          for (int64_t k = std::max(i, j); k < n; ++k) sum += inv[k * n + i] * inv[k * n + j];
          r[i * n + j] = sum;
        }
      }
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    // out = (L L^T)^-1: dL = -tril(out (G + G^T) out L); upper: dU = -triu(U out (G + G^T) out).
    const bool lower = args.params->Bool("lower");
    const Value f = args.inputs[0], out = args.outputs[0], g = args.output_grads[0];
    const Value sym = b.Call1("elemwise_add", {g, Transpose(b, g)});
    const Value w = Gemm2(b, Gemm2(b, out, sym, false, false), out, false, false);
    const Value full = lower ? Gemm2(b, w, f, false, false, -1.0) : Gemm2(b, f, w, false, false, -1.0);
    return {Triangle(b, full, lower)};
  };
  return def;
}

PMX_REGISTER_OP(_linalg_inverse) {
  OpDef def = LinalgOpDef("_linalg_inverse", "linalg", "Inverse of batches of square matrices.", {"A"}, {});
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    return InferSquare("_linalg_inverse", in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    SquareKernel(context, in, out, [&](const double* a, double* r, int64_t n, int64_t m) {
      int sign;
      const std::vector<double> lu = LuFactor(a, n, &sign);
      PMX_CHECK(sign != 0, kValueError, "[_linalg_inverse] matrix %d of the batch is singular", static_cast<int>(m));
      // Gauss-Jordan on [A | I] with partial pivoting (the LU above only detects singularity cheaply).
      std::vector<double> work(a, a + n * n);
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = 0; j < n; ++j) r[i * n + j] = i == j ? 1.0 : 0.0;
      }
      for (int64_t k = 0; k < n; ++k) {
        int64_t pivot = k;
        for (int64_t i = k + 1; i < n; ++i) {
          if (std::abs(work[i * n + k]) > std::abs(work[pivot * n + k])) pivot = i;
        }
        for (int64_t j = 0; j < n; ++j) {
          std::swap(work[k * n + j], work[pivot * n + j]);
          std::swap(r[k * n + j], r[pivot * n + j]);
        }
        const double d = work[k * n + k];
        for (int64_t j = 0; j < n; ++j) {
          work[k * n + j] /= d;
          r[k * n + j] /= d;
        }
        for (int64_t i = 0; i < n; ++i) {
          if (i == k || work[i * n + k] == 0) continue;
          const double factor = work[i * n + k];
          for (int64_t j = 0; j < n; ++j) {
            work[i * n + j] -= factor * work[k * n + j];
            r[i * n + j] -= factor * r[k * n + j];
          }
        }
      }
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const Value out = args.outputs[0];  // dA = -out^T * G * out^T.
    return {Gemm2(b, Gemm2(b, out, args.output_grads[0], true, false), out, false, true, -1.0)};
  };
  return def;
}

PMX_REGISTER_OP(_linalg_det) {
  OpDef def = LinalgOpDef("_linalg_det", "linalg",
                          "Determinant of batches of square matrices (shape (1,) for a single matrix).", {"A"}, {});
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    return InferReduced("_linalg_det", in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const std::vector<double> a = ToDouble(in[0]);
    const int64_t n = in[0].shape[in[0].shape.ndim() - 1];
    std::vector<double> result(static_cast<size_t>(out[0].size()));
    ForEachMatrix(out[0].size(), n * n * n, [&](int64_t m) {
      const auto [sign, log_abs] = SignLogDet(a.data() + m * n * n, n);
      result[m] = sign * std::exp(log_abs);
    });
    FromDouble(result, out[0], context.modes[0] == WriteMode::kAdd);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    // d det / dA = det * A^-T.
    const Value a = args.inputs[0];
    const Value scale = PerMatrix(b, b.Call1("elemwise_mul", {args.output_grads[0], args.outputs[0]}));
    const Value grad = b.Call1("broadcast_mul", {scale, Transpose(b, b.Call1("_linalg_inverse", {a}))});
    return {b.Call1("reshape_like", {grad, a})};
  };
  return def;
}

PMX_REGISTER_OP(_linalg_slogdet) {
  OpDef def = LinalgOpDef("_linalg_slogdet", "linalg",
                          "Sign and natural logarithm of the absolute determinant of batches of square matrices "
                          "(sign 0 and -inf for singular matrices).",
                          {"A"}, {});
  def.outputs = {"sign", "logabsdet"};
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    return InferReduced("_linalg_slogdet", in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const std::vector<double> a = ToDouble(in[0]);
    const int64_t n = in[0].shape[in[0].shape.ndim() - 1];
    std::vector<double> signs(static_cast<size_t>(out[0].size())), logs(signs.size());
    ForEachMatrix(out[0].size(), n * n * n, [&](int64_t m) {
      std::tie(signs[m], logs[m]) = SignLogDet(a.data() + m * n * n, n);
    });
    FromDouble(signs, out[0], context.modes[0] == WriteMode::kAdd);
    FromDouble(logs, out[1], context.modes[1] == WriteMode::kAdd);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    // The sign is piecewise constant; d log|det| / dA = A^-T.
    const Value a = args.inputs[0];
    const Value grad = b.Call1("broadcast_mul", {PerMatrix(b, args.output_grads[1]),
                                                 Transpose(b, b.Call1("_linalg_inverse", {a}))});
    return {b.Call1("reshape_like", {grad, a})};
  };
  return def;
}

PMX_REGISTER_OP(_linalg_sumlogdiag) {
  OpDef def = LinalgOpDef("_linalg_sumlogdiag", "linalg",
                          "Sum of the natural logarithms of the diagonal of batches of square matrices (shape (1,) "
                          "for a single matrix).",
                          {"A"}, {});
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    return InferReduced("_linalg_sumlogdiag", in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const std::vector<double> a = ToDouble(in[0]);
    const int64_t n = in[0].shape[in[0].shape.ndim() - 1];
    std::vector<double> result(static_cast<size_t>(out[0].size()), 0.0);
    for (int64_t m = 0; m < out[0].size(); ++m) {
      for (int64_t i = 0; i < n; ++i) result[m] += std::log(a[m * n * n + i * n + i]);
    }
    FromDouble(result, out[0], context.modes[0] == WriteMode::kAdd);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const Value a = args.inputs[0];  // dA = diag(g / diag(A)).
    const Value g = b.Call1("expand_dims", {args.output_grads[0]}, {{"axis", "-1"}});
    const Value d = b.Call1("broadcast_div", {g, b.Call1("_linalg_extractdiag", {a})});
    return {b.Call1("reshape_like", {b.Call1("_linalg_makediag", {d}), a})};
  };
  return def;
}

// ---- gelqf, syevd -------------------------------------------------------------------------------------

// Note [LQ and eigenvector conventions]
// gelqf follows LAPACK's dgelqf/dorglq, which MXNet calls: row i's Householder reflector maps A[i, i:] to
// beta * e_1 with beta = -sign(A[i, i]) * |A[i, i:]|, so the diagonal of L may be negative. syevd returns the
// eigenvalues in ascending order and the eigenvectors as the rows of U (A = U^T diag(L) U), each row's sign
// chosen so that its largest-magnitude entry (the first one on ties) is positive, as MXNet does.

// One LQ factorization of the m x n matrix a (m <= n) into q (m x n) and l (m x m).
void LqFactor(const double* a, int64_t m, int64_t n, double* q, double* l) {
  std::vector<double> w(a, a + m * n), taus(m, 0.0);
  std::vector<std::vector<double>> reflectors(m, std::vector<double>(n, 0.0));
  for (int64_t i = 0; i < m; ++i) {
    std::vector<double>& v = reflectors[i];
    double x_norm = 0;
    for (int64_t j = i + 1; j < n; ++j) x_norm += w[i * n + j] * w[i * n + j];
    x_norm = std::sqrt(x_norm);
    const double alpha = w[i * n + i];
    v[i] = 1;
    if (x_norm == 0) continue;  // H = I.
    const double beta = -std::copysign(std::hypot(alpha, x_norm), alpha);
    taus[i] = (beta - alpha) / beta;
    for (int64_t j = i + 1; j < n; ++j) v[j] = w[i * n + j] / (alpha - beta);
    w[i * n + i] = beta;
    for (int64_t j = i + 1; j < n; ++j) w[i * n + j] = 0;
    for (int64_t r = i + 1; r < m; ++r) {  // Apply H = I - tau v v^T to the rows below, from the right.
      double dot = 0;
      for (int64_t j = i; j < n; ++j) dot += w[r * n + j] * v[j];
      for (int64_t j = i; j < n; ++j) w[r * n + j] -= taus[i] * dot * v[j];
    }
  }
  for (int64_t r = 0; r < m; ++r) {
    for (int64_t c = 0; c < m; ++c) l[r * m + c] = c <= r ? w[r * n + c] : 0.0;
  }
  // Q = [I 0] * H(m-1) * ... * H(0): A * H(0) * ... * H(m-1) = [L 0] and every H is its own inverse.
  for (int64_t r = 0; r < m; ++r) {
    for (int64_t c = 0; c < n; ++c) q[r * n + c] = r == c ? 1.0 : 0.0;
  }
  for (int64_t i = m - 1; i >= 0; --i) {
    const std::vector<double>& v = reflectors[i];
    for (int64_t r = 0; r < m; ++r) {
      double dot = 0;
      for (int64_t j = i; j < n; ++j) dot += q[r * n + j] * v[j];
      for (int64_t j = i; j < n; ++j) q[r * n + j] -= taus[i] * dot * v[j];
    }
  }
}

// Eigenvalues (ascending, into values) and eigenvector rows (into u) of the symmetric n x n matrix whose lower
// triangle is stored in a, by cyclic Jacobi rotations.
void SymmetricEigen(const double* a, int64_t n, double* u, double* values) {
  std::vector<double> s(static_cast<size_t>(n * n)), v(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    v[i * n + i] = 1;
    for (int64_t j = 0; j < n; ++j) s[i * n + j] = i >= j ? a[i * n + j] : a[j * n + i];
  }
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0, total = 0;
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < n; ++j) (i == j ? total : off) += s[i * n + j] * s[i * n + j];
    }
    if (off <= 1e-30 * (total + off) || off == 0) break;
    for (int64_t p = 0; p < n; ++p) {
      for (int64_t q = p + 1; q < n; ++q) {
        const double apq = s[p * n + q];
        if (apq == 0) continue;
        const double theta = (s[q * n + q] - s[p * n + p]) / (2 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), sn = t * c;
        for (int64_t k = 0; k < n; ++k) {  // S <- S J, then J^T S, V <- V J.
          const double kp = s[k * n + p], kq = s[k * n + q];
          s[k * n + p] = c * kp - sn * kq;
          s[k * n + q] = sn * kp + c * kq;
        }
        for (int64_t k = 0; k < n; ++k) {
          const double pk = s[p * n + k], qk = s[q * n + k];
          s[p * n + k] = c * pk - sn * qk;
          s[q * n + k] = sn * pk + c * qk;
        }
        for (int64_t k = 0; k < n; ++k) {
          const double kp = v[k * n + p], kq = v[k * n + q];
          v[k * n + p] = c * kp - sn * kq;
          v[k * n + q] = sn * kp + c * kq;
        }
      }
    }
  }
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return s[x * n + x] < s[y * n + y]; });
  for (int64_t row = 0; row < n; ++row) {
    const int64_t column = order[row];
    values[row] = s[column * n + column];
    int64_t largest = 0;
    for (int64_t k = 1; k < n; ++k) {
      if (std::abs(v[k * n + column]) > std::abs(v[largest * n + column])) largest = k;
    }
    const double sign = v[largest * n + column] < 0 ? -1.0 : 1.0;
    for (int64_t k = 0; k < n; ++k) u[row * n + k] = sign * v[k * n + column];
  }
}

PMX_REGISTER_OP(_linalg_gelqf) {
  OpDef def = LinalgOpDef("_linalg_gelqf", "linalg",
                          "LQ factorization of batches of m x n matrices with m <= n: A = L * Q with L lower "
                          "triangular (m x m) and Q (m x n) with orthonormal rows (Note [LQ and eigenvector "
                          "conventions]).",
                          {"A"}, {});
  def.outputs = {"Q", "L"};
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape& a = *(*in)[0];
    const int64_t n = CheckMatrices("_linalg_gelqf", "A", a, false), m = a[a.ndim() - 2];
    PMX_CHECK(m <= n, kValueError, "[_linalg_gelqf] A has shape %s: expected at most as many rows as columns",
              a.ToString());
    std::vector<int64_t> dims(a.dims().begin(), a.dims().end());
    dims.back() = m;
    (*out)[0] = a;
    (*out)[1] = Shape(dims);
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const std::vector<double> a = ToDouble(in[0]);
    const int64_t n = in[0].shape[in[0].shape.ndim() - 1], m = in[0].shape[in[0].shape.ndim() - 2];
    std::vector<double> q(a.size()), l(static_cast<size_t>(out[1].size()));
    ForEachMatrix(m == 0 ? 0 : static_cast<int64_t>(a.size()) / (m * n), m * m * n, [&](int64_t b) {
      LqFactor(a.data() + b * m * n, m, n, q.data() + b * m * n, l.data() + b * m * m);
    });
    FromDouble(q, out[0], context.modes[0] == WriteMode::kAdd);
    FromDouble(l, out[1], context.modes[1] == WriteMode::kAdd);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    // dA = L^-T * (dQ + copyLTU(M) * Q) with M = L^T * dL - dQ * Q^T (MXNet's formula).
    const Value q = args.outputs[0], l = args.outputs[1], dq = args.output_grads[0], dl = args.output_grads[1];
    const Value m = b.Call1("elemwise_sub", {Gemm2(b, l, dl, true, false), Gemm2(b, dq, q, false, true)});
    const Value lower = Triangle(b, m, true);
    const Value diag = b.Call1("_linalg_makediag", {b.Call1("_linalg_extractdiag", {m})});
    const Value sym = b.Call1("elemwise_sub", {b.Call1("elemwise_add", {lower, Transpose(b, lower)}), diag});
    const Value x = b.Call1("elemwise_add", {dq, Gemm2(b, sym, q, false, false)});
    return {b.Call1("_linalg_trsm", {l, x}, {{"transpose", "True"}})};
  };
  return def;
}

PMX_REGISTER_OP(_linalg_syevd) {
  OpDef def = LinalgOpDef("_linalg_syevd", "linalg",
                          "Eigendecomposition of batches of symmetric matrices (reading the lower triangle): "
                          "A = U^T * diag(L) * U with the eigenvalues L ascending and the eigenvectors as the rows "
                          "of U (Note [LQ and eigenvector conventions]).",
                          {"A"}, {});
  def.outputs = {"U", "L"};
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape& a = *(*in)[0];
    CheckMatrices("_linalg_syevd", "A", a, true);
    (*out)[0] = a;
    (*out)[1] = Shape(std::vector<int64_t>(a.dims().begin(), a.dims().end() - 1));
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const std::vector<double> a = ToDouble(in[0]);
    const int64_t n = in[0].shape[in[0].shape.ndim() - 1];
    std::vector<double> u(a.size()), values(static_cast<size_t>(out[1].size()));
    ForEachMatrix(n == 0 ? 0 : static_cast<int64_t>(a.size()) / (n * n), 8 * n * n * n, [&](int64_t b) {
      SymmetricEigen(a.data() + b * n * n, n, u.data() + b * n * n, values.data() + b * n);
    });
    FromDouble(u, out[0], context.modes[0] == WriteMode::kAdd);
    FromDouble(values, out[1], context.modes[1] == WriteMode::kAdd);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    // dA = U^T * (diag(dL) + sym(F o (U * dU^T))) * U, F_ij = 1 / (L_j - L_i) off the diagonal and 0 on it,
    // sym(X) = (X + X^T) / 2 (Note [Cholesky gradients are symmetric]).
    const Value u = args.outputs[0], values = args.outputs[1], du = args.output_grads[0];
    const Value gaps = b.Call1("broadcast_sub", {b.Call1("expand_dims", {values}, {{"axis", "-2"}}),
                                                 b.Call1("expand_dims", {values}, {{"axis", "-1"}})});
    const Value eye = b.Call1("_linalg_makediag", {b.Call1("ones_like", {values})});
    const Value f = b.Call1("elemwise_div", {gaps, b.Call1("elemwise_add", {b.Call1("elemwise_mul", {gaps, gaps}), eye})});
    const Value x = b.Call1("elemwise_mul", {f, Gemm2(b, u, du, false, true)});
    const Value sym = Scale(b, b.Call1("elemwise_add", {x, Transpose(b, x)}), 0.5);
    const Value inner = b.Call1("elemwise_add", {b.Call1("_linalg_makediag", {args.output_grads[1]}), sym});
    return {Gemm2(b, Gemm2(b, u, inner, true, false), u, false, false)};
  };
  return def;
}

}  // namespace
}  // namespace linalg
}  // namespace ops
}  // namespace pmx
