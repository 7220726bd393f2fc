// Operators that rearrange the entries of batches of matrices: _linalg_extractdiag, _linalg_makediag,
// _linalg_extracttrian, _linalg_maketrian (each the other's gradient), and khatri_rao.
#include <cmath>
#include <string>
#include <vector>

#include "core/ops/internal/linalg_common.h"

namespace pmx {
namespace ops {
namespace linalg {
namespace {

ParamDef OffsetParam() {
  return {"offset", ParamType::kInt, "0", false, false, {},
          "Offset of the diagonal from the main one: negative below, positive above."};
}

ParamDef TrianLowerParam() {
  return {"lower", ParamType::kBool, "True", false, false, {},
          "Use the lower (else upper) triangle; only relevant when offset is 0."};
}

// Note [Packed triangles]
// extracttrian packs the triangle of an n x n matrix selected by (offset k, lower) into m = (n-|k|)(n-|k|+1)/2
// entries, as MXNet does: a lower triangle (k < 0, or k = 0 with lower) row by row, entry (r, c) with
// r - |k| >= c at index (r-|k|)(r-|k|+1)/2 + c; an upper triangle (k > 0, or k = 0 without lower) column by
// column, entry (r, c) at index (c-|k|)(c-|k|+1)/2 + r. maketrian is the inverse, with zeros elsewhere.

// Calls fn(packed_index, matrix_index) for every entry of an n x n matrix inside the triangle.
template <typename Fn>
void ForEachTriangleEntry(int64_t n, int64_t offset, bool lower, Fn fn) {
  const bool upper = offset > 0 || (offset == 0 && !lower);
  const int64_t k = std::abs(offset);
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t c = 0; c < n; ++c) {
      const int64_t row = (upper ? c : r) - k, col = upper ? r : c;
      if (row >= col) fn(row * (row + 1) / 2 + col, r * n + c);
    }
  }
}

// The side of the square matrices maketrian builds from `entries` packed values; ValueError names `op`.
int64_t TriangleSide(const char* op, int64_t entries) {
  const int64_t m = static_cast<int64_t>(std::floor(0.5 + (std::sqrt(8.0 * entries + 1) - 1.0) * 0.5));
  PMX_CHECK(m * (m + 1) / 2 == entries, kValueError,
            "[%s] the last axis has %d entries, which is not a triangular number m * (m + 1) / 2", op,
            static_cast<int>(entries));
  return m;
}

// The kernel shared by the four ops: copies entries between batches of packed vectors and square matrices.
// to_matrix: packed (in) -> matrices (out); else matrices (in) -> packed (out). `diag` selects diagonals.
void CopyEntries(const KernelContext& context, absl::Span<const TensorRef> in, absl::Span<const TensorRef> out,
                 bool diag, bool to_matrix) {
  const TensorRef& matrices = to_matrix ? out[0] : in[0];
  const TensorRef& packed = to_matrix ? in[0] : out[0];
  const int64_t n = matrices.shape[matrices.shape.ndim() - 1];
  const int64_t per_matrix = packed.shape[packed.shape.ndim() - 1];
  const int64_t count = n == 0 ? 0 : matrices.size() / (n * n);
  const int64_t offset = context.params->Int("offset");
  const bool lower = diag ? true : context.params->Bool("lower");
  // The (packed index, matrix index) pairs of one matrix.
  std::vector<std::pair<int64_t, int64_t>> pairs;
  if (diag) {
    for (int64_t i = 0; i < per_matrix; ++i) {
      pairs.emplace_back(i, (i - std::min<int64_t>(offset, 0)) * n + i + std::max<int64_t>(offset, 0));
    }
  } else {
    ForEachTriangleEntry(n, offset, lower, [&](int64_t p, int64_t m) { pairs.emplace_back(p, m); });
  }
  const bool add = context.modes[0] == WriteMode::kAdd;
  DispatchAllowed<DTypes::kFloat>("linalg", in[0].dtype, [&](auto tag) {
    using T = decltype(tag);
    using C = ComputeType<T>;
    const T* x = in[0].As<T>();
    T* y = out[0].As<T>();
    if (to_matrix && !add) std::fill(y, y + out[0].size(), static_cast<T>(C(0)));
    for (int64_t b = 0; b < count; ++b) {
      for (const auto& [p, m] : pairs) {
        if (to_matrix) {
          Store<T, C>(y + b * n * n + m, static_cast<C>(x[b * per_matrix + p]), add);
        } else {
          Store<T, C>(y + b * per_matrix + p, static_cast<C>(x[b * n * n + m]), add);
        }
      }
    }
  });
}

OpDef EntriesOpDef(const std::string& name, const std::string& doc, bool diag, bool to_matrix,
                   const std::string& inverse) {
  std::vector<ParamDef> params = {OffsetParam()};
  if (!diag) params.push_back(TrianLowerParam());
  OpDef def = LinalgOpDef(name, "linalg", doc, {"A"}, params);
  def.infer_shape = [name, diag, to_matrix](const OpParams& params, std::vector<MaybeShape>* in,
                                            std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape& a = *(*in)[0];
    const int64_t k = std::abs(params.Int("offset"));
    std::vector<int64_t> dims(a.dims().begin(), a.dims().end());
    if (to_matrix) {
      PMX_CHECK(a.ndim() >= 1, kValueError, "[%s] A is a scalar: expected at least 1 dimension", name);
      const int64_t side = (diag ? a[a.ndim() - 1] : TriangleSide(name.c_str(), a[a.ndim() - 1])) + k;
      dims.back() = side;
      dims.push_back(side);
    } else {
      const int64_t n = CheckMatrices(name.c_str(), "A", a, true) - k;
      PMX_CHECK(n > 0, kValueError, "[%s] offset %d is too large for %d x %d matrices", name,
                static_cast<int>(params.Int("offset")), static_cast<int>(n + k), static_cast<int>(n + k));
      dims.pop_back();
      dims.back() = diag ? n : n * (n + 1) / 2;
    }
    (*out)[0] = Shape(dims);
    return true;
  };
  def.kernels[DeviceType::kCPU] = [diag, to_matrix](const KernelContext& context, absl::Span<const TensorRef> in,
                                                    absl::Span<const TensorRef> out) {
    CopyEntries(context, in, out, diag, to_matrix);
  };
  def.gradient = [inverse](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1(inverse, {args.output_grads[0]}, args.params->ToStrings())};
  };
  return def;
}

PMX_REGISTER_OP(_linalg_extractdiag) {
  return EntriesOpDef("_linalg_extractdiag",
                      "Extracts the diagonal at `offset` of batches of square matrices: (..., n, n) -> "
                      "(..., n - |offset|).",
                      true, false, "_linalg_makediag");
}

PMX_REGISTER_OP(_linalg_makediag) {
  return EntriesOpDef("_linalg_makediag",
                      "Builds square matrices with the input on the diagonal at `offset` and zeros elsewhere: "
                      "(..., n) -> (..., n + |offset|, n + |offset|).",
                      true, true, "_linalg_extractdiag");
}

PMX_REGISTER_OP(_linalg_extracttrian) {
  return EntriesOpDef("_linalg_extracttrian",
                      "Extracts a triangle of batches of square matrices into packed vectors (Note [Packed "
                      "triangles]): the triangle on and below (lower) or above the diagonal at `offset`.",
                      false, false, "_linalg_maketrian");
}

PMX_REGISTER_OP(_linalg_maketrian) {
  return EntriesOpDef("_linalg_maketrian",
                      "Builds square matrices from packed triangles (the inverse of extracttrian), with zeros "
                      "outside the triangle and |offset| extra rows and columns.",
                      false, true, "_linalg_extracttrian");
}

// ---- khatri_rao -------------------------------------------------------------------------------------------

PMX_REGISTER_OP(khatri_rao) {
  OpDef def;
  def.name = "khatri_rao";
  def.family = "linalg";
  def.doc = "Column-wise Khatri-Rao product of matrices A1 (M1 x N), ..., An (Mn x N): the (M1 * ... * Mn) x N "
            "matrix whose column k is the Kronecker product of the k-th columns (A1's row index varies slowest). "
            "Not differentiable, as in MXNet.";
  def.inputs = {"args"};
  def.variadic_count_param = "num_args";
  def.params = {{"num_args", ParamType::kInt, "", true, false, {}, "Number of input matrices."}};
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    int64_t rows = 1, cols = -1;
    for (size_t i = 0; i < in->size(); ++i) {
      if (!(*in)[i]) return false;
      const Shape& s = *(*in)[i];
      PMX_CHECK(s.ndim() == 2, kValueError, "[khatri_rao] input %d has shape %s, expected a matrix", static_cast<int>(i),
                s.ToString());
      PMX_CHECK(cols < 0 || s[1] == cols, kValueError,
                "[khatri_rao] input %d has shape %s, expected %d columns like input 0", static_cast<int>(i),
                s.ToString(), static_cast<int>(cols));
      cols = s[1];
      rows *= s[0];
    }
    PMX_CHECK(!in->empty(), kValueError, "[khatri_rao] expected at least one input");
    (*out)[0] = Shape({rows, cols});
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType("khatri_rao", DTypes::kFloat, in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    std::vector<std::vector<double>> matrices;
    for (const TensorRef& ref : in) matrices.push_back(ToDouble(ref));
    const int64_t rows = out[0].shape[0], cols = out[0].shape[1];
    std::vector<double> result(static_cast<size_t>(rows * cols));
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) {
        double value = 1;
        int64_t rest = r;
        for (int i = static_cast<int>(in.size()) - 1; i >= 0; --i) {  // The last matrix's row varies fastest.
          const int64_t m = in[i].shape[0];
          value *= matrices[i][(rest % m) * cols + c];
          rest /= m;
        }
        result[r * cols + c] = value;
      }
    }
    FromDouble(result, out[0], context.modes[0] == WriteMode::kAdd);
  };
  return def;
}

}  // namespace
}  // namespace linalg
}  // namespace ops
}  // namespace pmx
