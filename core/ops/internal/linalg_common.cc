#include "core/ops/internal/linalg_common.h"

#include <algorithm>

namespace pmx {
namespace ops {
namespace linalg {

MatrixLayout LayoutOf(const Shape& shape, int row_axis) {
  MatrixLayout layout;
  const int ndim = shape.ndim();
  for (int d = 0; d < row_axis; ++d) layout.outer *= shape[d];
  layout.rows = shape[row_axis];
  for (int d = row_axis + 1; d < ndim - 1; ++d) layout.inner *= shape[d];
  layout.cols = shape[ndim - 1];
  return layout;
}

int RowAxis(const char* op, const OpParams& params, int ndim) {
  const int given = static_cast<int>(params.Int("axis"));
  const int axis = given < 0 ? ndim + given : given;
  PMX_CHECK(axis >= 0 && axis < ndim - 1, kValueError,
            "[%s] axis is %d: expected a row axis before the last axis of inputs with %d dimensions", op, given, ndim);
  return axis;
}

int64_t CheckMatrices(const char* op, const char* input, const Shape& shape, bool square) {
  PMX_CHECK(shape.ndim() >= 2, kValueError, "[%s] %s has shape %s, expected a batch of matrices (>= 2 dimensions)",
            op, input, shape.ToString());
  const int64_t n = shape[shape.ndim() - 1];
  PMX_CHECK(!square || shape[shape.ndim() - 2] == n, kValueError,
            "[%s] %s has shape %s, expected square matrices in the last two dimensions", op, input, shape.ToString());
  return n;
}

Shape LeadingShape(const Shape& shape, int count) {
  if (shape.ndim() <= count) return Shape({1});
  return Shape(std::vector<int64_t>(shape.dims().begin(), shape.dims().end() - count));
}

std::vector<double> ToDouble(const TensorRef& ref) {
  std::vector<double> values(static_cast<size_t>(ref.size()));
  DispatchAllowed<DTypes::kFloat>("linalg", ref.dtype, [&](auto tag) {
    using T = decltype(tag);
    using C = ComputeType<T>;
    const T* data = ref.As<T>();
    for (int64_t i = 0; i < ref.size(); ++i) values[i] = static_cast<double>(static_cast<C>(data[i]));
  });
  return values;
}

void FromDouble(const std::vector<double>& values, const TensorRef& out, bool add) {
  DispatchAllowed<DTypes::kFloat>("linalg", out.dtype, [&](auto tag) {
    using T = decltype(tag);
    using C = ComputeType<T>;
    T* data = out.As<T>();
    for (int64_t i = 0; i < out.size(); ++i) Store<T, C>(data + i, static_cast<C>(values[i]), add);
  });
}

void ForEachMatrix(int64_t count, int64_t cost_per_matrix, const std::function<void(int64_t)>& fn) {
  cpu::ParallelFor(count, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(cost_per_matrix, 1)),
                   [&](int64_t begin, int64_t end) {
                     for (int64_t b = begin; b < end; ++b) fn(b);
                   });
}

OpDef LinalgOpDef(const std::string& name, const std::string& family, const std::string& doc,
                  std::vector<std::string> inputs, std::vector<ParamDef> params) {
  OpDef def;
  def.name = name;
  def.aliases = {name.substr(1)};  // _linalg_gemm -> linalg_gemm.
  def.family = family;
  def.doc = doc;
  def.inputs = std::move(inputs);
  def.params = std::move(params);
  def.infer_type = [op = name](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType(op.c_str(), DTypes::kFloat, in, out);
  };
  return def;
}

Value Triangle(GradientBuilder& b, Value x, bool lower) {
  const ParamMap params = {{"lower", BoolText(lower)}};
  return b.Call1("_linalg_maketrian", {b.Call1("_linalg_extracttrian", {x}, params)}, params);
}

Value Transpose(GradientBuilder& b, Value x) {
  return b.Call1("SwapAxis", {x}, {{"dim1", "-1"}, {"dim2", "-2"}});
}

Value Scale(GradientBuilder& b, Value x, double factor) {
  return b.Call1("_mul_scalar", {x}, {{"scalar", ScalarText(factor)}});
}

Value Gemm2(GradientBuilder& b, Value x, Value y, bool ta, bool tb, double alpha) {
  return b.Call1("_linalg_gemm2", {x, y},
                 {{"transpose_a", BoolText(ta)}, {"transpose_b", BoolText(tb)}, {"alpha", ScalarText(alpha)}});
}

}  // namespace linalg
}  // namespace ops
}  // namespace pmx
