// BLAS-3 style _linalg_* operators on batches of matrices: gemm, gemm2 (with MXNet's row `axis`), syrk,
// trmm and trsm. See internal/linalg_common.h, Note [Batches of matrices].
#include <string>
#include <vector>

#include "core/ops/internal/gemm.h"
#include "core/ops/internal/linalg_common.h"

namespace pmx {
namespace ops {
namespace linalg {
namespace {

std::vector<ParamDef> GemmParams(bool with_beta) {
  std::vector<ParamDef> params = {
      {"transpose_a", ParamType::kBool, "False", false, false, {}, "Multiply with the transpose of A."},
      {"transpose_b", ParamType::kBool, "False", false, false, {}, "Multiply with the transpose of B."},
      {"alpha", ParamType::kFloat, "1", false, false, {}, "Scale of A * B."}};
  if (with_beta) params.push_back({"beta", ParamType::kFloat, "1", false, false, {}, "Scale of C."});
  params.push_back({"axis", ParamType::kInt, "-2", false, false, {}, "The axis of the matrix rows."});
  return params;
}

// The output shape of op(A) * op(B) with rows on `axis`; ValueError on mismatches (names MXNet's checks).
Shape GemmOutputShape(const char* op, const OpParams& params, const Shape& a, const Shape& b) {
  CheckMatrices(op, "A", a, false);
  PMX_CHECK(a.ndim() == b.ndim(), kValueError, "[%s] A and B have shapes %s and %s: expected the same number of "
            "dimensions", op, a.ToString(), b.ToString());
  const int ndim = a.ndim(), axis = RowAxis(op, params, ndim);
  std::vector<int64_t> dims(a.dims().begin(), a.dims().end());
  for (int d = 0; d < ndim - 1; ++d) {
    PMX_CHECK(d == axis || a[d] == b[d], kValueError,
              "[%s] A and B have shapes %s and %s: expected equal batch dimensions (all but the row axis %d and the "
              "last)", op, a.ToString(), b.ToString(), axis);
  }
  const bool ta = params.Bool("transpose_a"), tb = params.Bool("transpose_b");
  const int64_t k_a = ta ? a[axis] : a[ndim - 1], k_b = tb ? b[ndim - 1] : b[axis];
  PMX_CHECK(k_a == k_b, kValueError,
            "[%s] A and B have shapes %s and %s (transpose_a=%d, transpose_b=%d): incompatible matrix dimensions %d "
            "and %d", op, a.ToString(), b.ToString(), ta, tb, static_cast<int>(k_a), static_cast<int>(k_b));
  dims[axis] = ta ? a[ndim - 1] : a[axis];
  dims[ndim - 1] = tb ? b[axis] : b[ndim - 1];
  return Shape(dims);
}

// out (+)= alpha * op(A) * op(B) (+ beta * out when accumulate_into_out) for every matrix.
template <typename T>
void BatchedGemm(const OpParams& params, const TensorRef& a, const TensorRef& b, const TensorRef& out, double alpha,
                 double beta) {
  const int axis = RowAxis("_linalg_gemm", params, a.shape.ndim());
  const MatrixLayout la = LayoutOf(a.shape, axis), lb = LayoutOf(b.shape, axis), lc = LayoutOf(out.shape, axis);
  GemmShape shape;
  shape.trans_a = params.Bool("transpose_a");
  shape.trans_b = params.Bool("transpose_b");
  shape.m = lc.rows;
  shape.n = lc.cols;
  shape.k = shape.trans_a ? la.rows : la.cols;
  if (la.inner == 1) {  // Rows on axis -2: one dense batch.
    shape.batch = la.outer;
    Gemm<T>(shape, alpha, a.As<T>(), b.As<T>(), beta, out.As<T>());
    return;
  }
  shape.batch = la.inner;
  shape.lda = la.row_stride();
  shape.ldb = lb.row_stride();
  shape.ldc = lc.row_stride();
  shape.stride_a = la.cols;
  shape.stride_b = lb.cols;
  shape.stride_c = lc.cols;
  for (int64_t o = 0; o < la.outer; ++o) {
    Gemm<T>(shape, alpha, a.As<T>() + o * la.rows * la.inner * la.cols, b.As<T>() + o * lb.rows * lb.inner * lb.cols,
            beta, out.As<T>() + o * lc.rows * lc.inner * lc.cols);
  }
}

// The gradients of out = alpha * op(A) * op(B) (+ beta * C) as gemm2 calls with the forward's axis.
Grads GemmGradient(GradientBuilder& b, const GradientArgs& args, bool with_c) {
  const bool ta = args.params->Bool("transpose_a"), tb = args.params->Bool("transpose_b");
  const double alpha = args.params->Float("alpha");
  const std::string axis = std::to_string(args.params->Int("axis"));
  const Value x = args.inputs[0], y = args.inputs[1], g = args.output_grads[0];
  auto gemm2 = [&](Value l, Value r, bool t_l, bool t_r) {
    return b.Call1("_linalg_gemm2", {l, r},
                   {{"transpose_a", BoolText(t_l)}, {"transpose_b", BoolText(t_r)}, {"alpha", ScalarText(alpha)},
                    {"axis", axis}});
  };
  Grads grads = {ta ? gemm2(y, g, tb, true) : gemm2(g, y, false, !tb),
                 tb ? gemm2(g, x, true, ta) : gemm2(x, g, !ta, false)};
  if (with_c) grads.push_back(Scale(b, g, args.params->Float("beta")));
  return grads;
}

PMX_REGISTER_OP(_linalg_gemm) {
  OpDef def = LinalgOpDef("_linalg_gemm", "linalg",
                          "General matrix multiply-accumulate on batches of matrices: out = alpha * op(A) * op(B) + "
                          "beta * C, op being the identity or the transpose; `axis` is the row axis (the last axis "
                          "holds the columns, every other axis is a batch axis).",
                          {"A", "B", "C"}, GemmParams(true));
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1]) return false;
    const Shape shape = GemmOutputShape("_linalg_gemm", params, *(*in)[0], *(*in)[1]);
    if (!(*in)[2]) (*in)[2] = shape;
    PMX_CHECK(*(*in)[2] == shape, kValueError, "[_linalg_gemm] C has shape %s, expected %s", (*in)[2]->ToString(),
              shape.ToString());
    (*out)[0] = shape;
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const double beta = context.params->Float("beta");
    const bool add = context.modes[0] == WriteMode::kAdd;
    DispatchAllowed<DTypes::kFloat>("_linalg_gemm", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const T* c = in[2].As<T>();
      T* y = out[0].As<T>();
      cpu::ParallelFor(out[0].size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) Store<T, C>(y + i, static_cast<C>(beta * static_cast<C>(c[i])), add);
      });
      BatchedGemm<T>(*context.params, in[0], in[1], out[0], context.params->Float("alpha"), 1.0);
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) { return GemmGradient(b, args, true); };
  return def;
}

PMX_REGISTER_OP(_linalg_gemm2) {
  OpDef def = LinalgOpDef("_linalg_gemm2", "linalg",
                          "General matrix multiply on batches of matrices: out = alpha * op(A) * op(B); `axis` is the "
                          "row axis (the last axis holds the columns, every other axis is a batch axis).",
                          {"A", "B"}, GemmParams(false));
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1]) return false;
    (*out)[0] = GemmOutputShape("_linalg_gemm2", params, *(*in)[0], *(*in)[1]);
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    DispatchAllowed<DTypes::kFloat>("_linalg_gemm2", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      BatchedGemm<T>(*context.params, in[0], in[1], out[0], context.params->Float("alpha"),
                     context.modes[0] == WriteMode::kAdd ? 1.0 : 0.0);
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) { return GemmGradient(b, args, false); };
  return def;
}

PMX_REGISTER_OP(_linalg_syrk) {
  OpDef def = LinalgOpDef("_linalg_syrk", "linalg",
                          "Symmetric rank-k update on batches of matrices: out = alpha * A * A^T, or alpha * A^T * A "
                          "with transpose.",
                          {"A"},
                          {{"transpose", ParamType::kBool, "False", false, false, {}, "Use A^T * A."},
                           {"alpha", ParamType::kFloat, "1", false, false, {}, "Scale of the product."}});
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape& a = *(*in)[0];
    CheckMatrices("_linalg_syrk", "A", a, false);
    std::vector<int64_t> dims(a.dims().begin(), a.dims().end());
    const int64_t n = params.Bool("transpose") ? a[a.ndim() - 1] : a[a.ndim() - 2];
    dims[a.ndim() - 2] = dims[a.ndim() - 1] = n;
    (*out)[0] = Shape(dims);
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const bool transpose = context.params->Bool("transpose");
    const Shape& a = in[0].shape;
    GemmShape shape;
    shape.batch = LayoutOf(a, a.ndim() - 2).outer;
    shape.m = shape.n = out[0].shape[a.ndim() - 1];
    shape.k = transpose ? a[a.ndim() - 2] : a[a.ndim() - 1];
    shape.trans_a = transpose;
    shape.trans_b = !transpose;
    DispatchAllowed<DTypes::kFloat>("_linalg_syrk", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      Gemm<T>(shape, context.params->Float("alpha"), in[0].As<T>(), in[0].As<T>(),
              context.modes[0] == WriteMode::kAdd ? 1.0 : 0.0, out[0].As<T>());
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    // out = alpha * A * A^T: dA = alpha * (G + G^T) * A; with transpose, dA = alpha * A * (G + G^T).
    const double alpha = args.params->Float("alpha");
    const Value a = args.inputs[0], g = args.output_grads[0];
    if (args.params->Bool("transpose")) {
      return {b.Call1("elemwise_add", {Gemm2(b, a, g, false, false, alpha), Gemm2(b, a, g, false, true, alpha)})};
    }
    return {b.Call1("elemwise_add", {Gemm2(b, g, a, false, false, alpha), Gemm2(b, g, a, true, false, alpha)})};
  };
  return def;
}

// ---- trmm / trsm ----------------------------------------------------------------------------------------

std::vector<ParamDef> TriangularParams() {
  return {{"transpose", ParamType::kBool, "False", false, false, {}, "Use the transpose of the triangular A."},
          {"rightside", ParamType::kBool, "False", false, false, {}, "Multiply (or solve) with A from the right."},
          {"lower", ParamType::kBool, "True", false, false, {}, "A is lower (else upper) triangular."},
          {"alpha", ParamType::kFloat, "1", false, false, {}, "Scale of the result."}};
}

bool InferTriangularShape(const char* op, const OpParams& params, std::vector<MaybeShape>* in,
                          std::vector<MaybeShape>* out) {
  if (!(*in)[0] || !(*in)[1]) return false;
  const Shape &a = *(*in)[0], &b = *(*in)[1];
  const int64_t n = CheckMatrices(op, "A", a, true);
  CheckMatrices(op, "B", b, false);
  const int nd = a.ndim();
  bool match = b.ndim() == nd;
  for (int d = 0; match && d < nd - 2; ++d) match = a[d] == b[d];
  const int64_t side = params.Bool("rightside") ? b[b.ndim() - 1] : b[b.ndim() - 2];
  PMX_CHECK(match && side == n, kValueError,
            "[%s] A has shape %s and B %s: expected equal batch dimensions and B's %s dimension to be %d", op,
            a.ToString(), b.ToString(), params.Bool("rightside") ? "last" : "second to last", static_cast<int>(n));
  (*out)[0] = b;
  return true;
}

// op(A) as a dense n x n matrix, reading only A's lower (or upper) triangle.
std::vector<double> TriangularOperand(const double* a, int64_t n, bool lower, bool transpose) {
  std::vector<double> t(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      if (lower ? j <= i : j >= i) (transpose ? t[j * n + i] : t[i * n + j]) = a[i * n + j];
    }
  }
  return t;
}

// Runs fn(op(A) dense, B matrix, result matrix, n, rows, cols) over the batch, in double.
template <typename Fn>
void TriangularKernel(const char* op, const KernelContext& context, absl::Span<const TensorRef> in,
                      absl::Span<const TensorRef> out, Fn fn) {
  const std::vector<double> a = ToDouble(in[0]), b = ToDouble(in[1]);
  std::vector<double> result(b.size());
  const Shape& bs = in[1].shape;
  const int64_t n = in[0].shape[in[0].shape.ndim() - 1], rows = bs[bs.ndim() - 2], cols = bs[bs.ndim() - 1];
  const bool lower = context.params->Bool("lower"), transpose = context.params->Bool("transpose");
  ForEachMatrix(LayoutOf(bs, bs.ndim() - 2).outer, n * rows * cols, [&](int64_t m) {
    const std::vector<double> t = TriangularOperand(a.data() + m * n * n, n, lower, transpose);
    fn(t.data(), b.data() + m * rows * cols, result.data() + m * rows * cols, n, rows, cols);
  });
  FromDouble(result, out[0], context.modes[0] == WriteMode::kAdd);
}

PMX_REGISTER_OP(_linalg_trmm) {
  OpDef def = LinalgOpDef("_linalg_trmm", "linalg",
                          "Triangular matrix multiply on batches: out = alpha * op(A) * B, or alpha * B * op(A) with "
                          "rightside, where only the lower (or upper) triangle of A is read.",
                          {"A", "B"}, TriangularParams());
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    return InferTriangularShape("_linalg_trmm", params, in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const bool right = context.params->Bool("rightside");
    const double alpha = context.params->Float("alpha");
    TriangularKernel("_linalg_trmm", context, in, out,
                     [&](const double* t, const double* b, double* r, int64_t n, int64_t rows, int64_t cols) {
      for (int64_t i = 0; i < rows; ++i) {
        for (int64_t j = 0; j < cols; ++j) {
          double sum = 0;
          for (int64_t p = 0; p < n; ++p) sum += right ? b[i * cols + p] * t[p * n + j] : t[i * n + p] * b[p * cols + j];
          r[i * cols + j] = alpha * sum;
        }
      }
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const bool t = args.params->Bool("transpose"), right = args.params->Bool("rightside");
    const bool lower = args.params->Bool("lower");
    const double alpha = args.params->Float("alpha");
    const Value a = args.inputs[0], x = args.inputs[1], g = args.output_grads[0];
    ParamMap params = args.params->ToStrings();
    params["transpose"] = BoolText(!t);
    const Value dx = b.Call1("_linalg_trmm", {a, g}, params);  // alpha * op(A)^T * G (or G * op(A)^T).
    // d op(A) = alpha * G * B^T (left) or alpha * B^T * G (right); transpose back when op is the transpose.
    Value dop = right ? Gemm2(b, x, g, true, false, alpha) : Gemm2(b, g, x, false, true, alpha);
    if (t) dop = Transpose(b, dop);
    return {Triangle(b, dop, lower), dx};
  };
  return def;
}

PMX_REGISTER_OP(_linalg_trsm) {
  OpDef def = LinalgOpDef("_linalg_trsm", "linalg",
                          "Solves triangular systems on batches: out = alpha * op(A)^-1 * B, or alpha * B * op(A)^-1 "
                          "with rightside, where only the lower (or upper) triangle of A is read.",
                          {"A", "B"}, TriangularParams());
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    return InferTriangularShape("_linalg_trsm", params, in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const bool right = context.params->Bool("rightside");
    const double alpha = context.params->Float("alpha");
    // op(A) is lower triangular exactly when lower != transpose.
    const bool op_lower = context.params->Bool("lower") != context.params->Bool("transpose");
    TriangularKernel("_linalg_trsm", context, in, out,
                     [&](const double* t, const double* b, double* r, int64_t n, int64_t rows, int64_t cols) {
      if (!right) {  // Solve op(A) X = alpha B column by column.
        for (int64_t j = 0; j < cols; ++j) {
          for (int64_t s = 0; s < n; ++s) {
            const int64_t i = op_lower ? s : n - 1 - s;
            double sum = alpha * b[i * cols + j];
            for (int64_t p = 0; p < n; ++p) {
              if (p != i && (op_lower ? p < i : p > i)) sum -= t[i * n + p] * r[p * cols + j];
            }
            r[i * cols + j] = sum / t[i * n + i];
          }
        }
        return;
      }
      for (int64_t i = 0; i < rows; ++i) {  // Solve X op(A) = alpha B row by row.
        for (int64_t s = 0; s < n; ++s) {
          const int64_t j = op_lower ? n - 1 - s : s;
          double sum = alpha * b[i * cols + j];
          for (int64_t p = 0; p < n; ++p) {
            if (p != j && (op_lower ? p > j : p < j)) sum -= r[i * cols + p] * t[p * n + j];
          }
          r[i * cols + j] = sum / t[j * n + j];
        }
      }
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const bool t = args.params->Bool("transpose"), right = args.params->Bool("rightside");
    const bool lower = args.params->Bool("lower");
    const Value a = args.inputs[0], g = args.output_grads[0], out = args.outputs[0];
    ParamMap params = args.params->ToStrings();
    params["transpose"] = BoolText(!t);
    const Value dx = b.Call1("_linalg_trsm", {a, g}, params);  // alpha * op(A)^-T * G (or G * op(A)^-T).
    params["alpha"] = "1";
    const Value y = b.Call1("_linalg_trsm", {a, g}, params);
    // out = alpha * M^-1 * B: dM = -Y * out^T with Y = M^-T G (right: dM = -out^T * Y with Y = G M^-T).
    Value dop = right ? Gemm2(b, out, y, true, false, -1.0) : Gemm2(b, y, out, false, true, -1.0);
    if (t) dop = Transpose(b, dop);
    return {Triangle(b, dop, lower), dx};
  };
  return def;
}

}  // namespace
}  // namespace linalg
}  // namespace ops
}  // namespace pmx
