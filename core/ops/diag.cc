// diag (build a diagonal matrix from a vector, or extract diagonals) and its gradient helper _diag_grad.
#include <algorithm>
#include <vector>

#include "core/ops/internal/op_builders.h"
#include "core/ops/internal/strided.h"

namespace pmx {
namespace ops {
namespace {

// The walk over the k-th diagonal of axes (axis1, axis2) of a tensor of `shape` (numpy.diagonal's order:
// the other axes first, the diagonal last). Throws ValueError when k leaves no diagonal.
StridedView DiagonalView(const char* op, const Shape& shape, int64_t k, int axis1, int axis2) {
  const std::vector<int64_t> strides = StridesOf(shape);
  int64_t rows = shape[axis1], cols = shape[axis2];
  if (k > 0) cols -= k;
  if (k < 0) rows += k;
  const int64_t length = std::min(rows, cols);
  PMX_CHECK(length >= 0, kValueError, "[%s] k = %d is out of range for axes %d and %d of shape %s", op, k, axis1,
            axis2, shape.ToString());
  StridedView view;
  for (int d = 0; d < shape.ndim(); ++d) {
    if (d == axis1 || d == axis2) continue;
    view.dims.push_back(shape[d]);
    view.strides.push_back(strides[d]);
  }
  view.dims.push_back(length);
  view.strides.push_back(strides[axis1] + strides[axis2]);
  view.offset = k > 0 ? k * strides[axis2] : -k * strides[axis1];
  return view;
}

// Normalised (axis1, axis2) for an input of `ndim` >= 2 dimensions.
std::pair<int, int> DiagAxes(const char* op, const OpParams& params, int ndim) {
  const int axis1 = NormalizeAxis(static_cast<int>(params.Int("axis1")), ndim, op);
  const int axis2 = NormalizeAxis(static_cast<int>(params.Int("axis2")), ndim, op);
  PMX_CHECK(axis1 != axis2, kValueError, "[%s] axis1 and axis2 both refer to axis %d: expected two different axes",
            op, axis1);
  return {axis1, axis2};
}

// The square matrix shape diag builds from a vector of `n` elements.
Shape MatrixShape(int64_t n, int64_t k) {
  const int64_t side = n + (k < 0 ? -k : k);
  return Shape{side, side};
}

Shape DiagShape(const char* op, const OpParams& params, const Shape& data) {
  const int64_t k = params.Int("k");
  PMX_CHECK(data.ndim() >= 1, kValueError, "[%s] input is a scalar: expected at least 1 dimension", op);
  if (data.ndim() == 1) return MatrixShape(data[0], k);
  const auto [axis1, axis2] = DiagAxes(op, params, data.ndim());
  return Shape(DiagonalView(op, data, k, axis1, axis2).dims);
}

// Moves `from` to `to` along the diagonal structure of `data_shape`: for a vector, between the vector and
// the diagonal of the matrix; otherwise between the extracted diagonals and the full tensor. `extract`
// says which way: gather from the diagonal (true) or scatter into it (false, the rest zeroed).
void MoveDiagonal(const char* op, const KernelContext& context, const TensorRef& from, const TensorRef& to,
                  const Shape& data_shape, bool extract) {
  const OpParams& params = *context.params;
  const int64_t k = params.Int("k");
  const TensorRef& full = extract ? from : to;
  StridedView view;
  if (data_shape.ndim() == 1) {
    view = DiagonalView(op, full.shape, k, 0, 1);
  } else {
    const auto [axis1, axis2] = DiagAxes(op, params, data_shape.ndim());
    view = DiagonalView(op, full.shape, k, axis1, axis2);
  }
  const bool add = context.modes[0] == WriteMode::kAdd;
  if (extract) {
    GatherStrided(op, from, view, to, add);
  } else {
    ZeroUnlessAdd(to, context.modes[0]);
    ScatterStrided(op, from, to, view, add);
  }
}

std::vector<ParamDef> DiagParams() {
  return {{"k", ParamType::kInt, "0", false, false, {},
           "The diagonal: 0 the main one, k > 0 above it, k < 0 below it."},
          {"axis1", ParamType::kInt, "0", false, false, {}, "First axis of the 2-D sub-arrays (ignored for 1-D input)."},
          {"axis2", ParamType::kInt, "1", false, false, {},
           "Second axis of the 2-D sub-arrays (ignored for 1-D input)."}};
}

PMX_REGISTER_OP(diag) {
  OpDef def;
  def.name = "diag";
  def.family = "diag";
  def.doc =
      "For a 1-D input, the square matrix with the input on its k-th diagonal; otherwise the k-th diagonals of "
      "the 2-D sub-arrays on axes (axis1, axis2), those axes removed and the diagonal appended last (as "
      "numpy.diagonal).";
  def.inputs = {"data"};
  def.params = DiagParams();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    (*out)[0] = DiagShape("diag", params, *(*in)[0]);
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    MoveDiagonal("diag", context, in[0], out[0], in[0].shape, in[0].shape.ndim() > 1);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("_diag_grad", {args.output_grads[0], args.inputs[0]}, args.params->ToStrings())};
  };
  return def;
}

PMX_REGISTER_OP(_diag_grad) {
  OpDef def;
  def.name = "_diag_grad";
  def.family = "diag";
  def.doc =
      "Gradient helper of diag: maps `grad` (shaped like diag's output) back to data's shape, reading the k-th "
      "diagonal for a 1-D data and writing the diagonals (zeros elsewhere) otherwise.";
  def.inputs = {"grad", "data"};
  def.params = DiagParams();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1]) return false;
    const Shape expected = DiagShape("_diag_grad", params, *(*in)[1]);
    PMX_CHECK(*(*in)[0] == expected, kValueError, "[_diag_grad] grad has shape %s: expected %s",
              (*in)[0]->ToString(), expected.ToString());
    (*out)[0] = (*in)[1];
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0]) return false;
    (*out)[0] = (*in)[0];
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    MoveDiagonal("_diag_grad", context, in[0], out[0], in[1].shape, in[1].shape.ndim() == 1);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("diag", {args.output_grads[0]}, args.params->ToStrings()), std::nullopt};
  };
  return def;
}

}  // namespace
}  // namespace ops
}  // namespace pmx
