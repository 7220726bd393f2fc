// Shared pieces of the neural-network layer families (activation, softmax, normalization, loss outputs,
// dropout/embedding): axis views for kernels and shorthands for composing gradients.
#ifndef POLYMIX_CORE_OPS_NN_LAYERS_COMMON_H_
#define POLYMIX_CORE_OPS_NN_LAYERS_COMMON_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/ops/internal/op_builders.h"

namespace pmx {
namespace ops {
namespace nn {

// A tensor seen as (outer, size, inner) around one axis: element (o, j, i) sits at (o * size + j) * inner + i.
struct AxisView {
  int64_t outer = 1;  // Product of the dimensions before the axis.
  int64_t size = 1;   // The axis' own dimension.
  int64_t inner = 1;  // Product of the dimensions after the axis (the axis' stride).
};

// The (outer, size, inner) view of `shape` around `axis` (already normalised).
inline AxisView ViewAround(const Shape& shape, int axis) {
  AxisView view;
  for (int d = 0; d < shape.ndim(); ++d) {
    if (d < axis) view.outer *= shape[d];
    if (d == axis) view.size = shape[d];
    if (d > axis) view.inner *= shape[d];
  }
  return view;
}

// Product of the dimensions of `shape` in [begin, end).
inline int64_t DimsProduct(const Shape& shape, int begin, int end) {
  int64_t product = 1;
  for (int d = begin; d < end; ++d) product *= shape[d];
  return product;
}

// `shape` without dimension `axis`.
inline Shape WithoutAxis(const Shape& shape, int axis) {
  std::vector<int64_t> dims;
  for (int d = 0; d < shape.ndim(); ++d) {
    if (d != axis) dims.push_back(shape[d]);
  }
  return Shape(dims);
}

// `shape` with dimension `axis` set to `size`.
inline Shape WithDim(const Shape& shape, int axis, int64_t size) {
  std::vector<int64_t> dims(shape.dims().begin(), shape.dims().end());
  dims[axis] = size;
  return Shape(dims);
}

// Rows per parallel chunk when each row costs about `row_cost` elements of work.
inline int64_t RowGrain(int64_t row_cost) {
  return std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(row_cost, 1));
}

// Note [Random numbers in nn kernels]
// Dropout and RReLU draw one uniform number per element from a counter-based hash of (seed, index): any
// thread can compute any element, so results depend only on the call's seed (see Note [Random seeds] in
// invoke.cc), never on how the loop is split across threads.

// A uniform number in [0, 1) for element `index` of the stream `seed`.
inline double UniformAt(uint64_t seed, int64_t index) {
  uint64_t z = seed + (static_cast<uint64_t>(index) + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

// Fills an unknown input shape, or checks a known one; ValueError names the op, the input and both shapes.
inline void AssignInputShape(const char* op, const char* input, MaybeShape* slot, const Shape& expected) {
  if (!*slot) {
    *slot = expected;
    return;
  }
  PMX_CHECK(**slot == expected, kValueError, "[%s] %s has shape %s, expected %s", op, input, (*slot)->ToString(),
            expected.ToString());
}

// Throws TypeError naming `op` unless `dtype` is a floating-point type.
inline void CheckFloat(const char* op, const char* input, DType dtype) {
  PMX_CHECK(IsFloatingPoint(dtype), kTypeError, "[%s] %s has dtype %s, expected a floating-point dtype", op, input,
            DTypeName(dtype));
}

// Writes out = f(x, index) elementwise for a floating-point input (f sees ComputeType values), honouring
// the output's write mode; the loop is threaded.
template <typename F>
void MapFloat(const char* op, const KernelContext& context, const TensorRef& input, const TensorRef& output, F f,
              int output_index = 0) {
  DispatchAllowed<DTypes::kFloat>(op, input.dtype, [&](auto tag) {
    using T = decltype(tag);
    using C = ComputeType<T>;
    const T* x = input.As<T>();
    T* y = output.As<T>();
    const bool add = context.modes[output_index] == WriteMode::kAdd;
    cpu::ParallelFor(input.size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) Store<T, C>(y + i, static_cast<C>(f(static_cast<C>(x[i]), i)), add);
    });
  });
}

// ---- Gradient shorthands: every gradient in the nn families is composed of registered ops. -------------

// x * y with broadcasting.
inline Value Mul(GradientBuilder& b, Value x, Value y) { return b.Call1("broadcast_mul", {x, y}); }
// x / y with broadcasting.
inline Value Div(GradientBuilder& b, Value x, Value y) { return b.Call1("broadcast_div", {x, y}); }
// x + y with broadcasting.
inline Value Add(GradientBuilder& b, Value x, Value y) { return b.Call1("broadcast_add", {x, y}); }
// x - y with broadcasting.
inline Value Sub(GradientBuilder& b, Value x, Value y) { return b.Call1("broadcast_sub", {x, y}); }
// `op`(x, scalar) for a scalar op such as _mul_scalar.
inline Value WithScalar(GradientBuilder& b, const char* op, Value x, double scalar) {
  return b.Call1(op, {x}, {{"scalar", ScalarText(scalar)}});
}

// An axis list in MXNet's tuple spelling: "(0, 2)".
inline std::string AxesText(const std::vector<int>& axes) {
  std::string text = "(";
  for (size_t i = 0; i < axes.size(); ++i) text += (i ? ", " : "") + std::to_string(axes[i]);
  return text + (axes.size() == 1 ? ",)" : ")");
}

// Sum of x over `axes` (or, with exclude, over every other axis), keeping reduced axes as size 1.
inline Value SumKeepDims(GradientBuilder& b, Value x, const std::vector<int>& axes, bool exclude = false) {
  return b.Call1("_nn_sum_keepdims", {x}, {{"axis", AxesText(axes)}, {"exclude", exclude ? "True" : "False"}});
}

// x with the shape of `like` (same number of elements).
inline Value ReshapeLike(GradientBuilder& b, Value x, Value like) { return b.Call1("_nn_reshape_like", {x, like}); }

// A per-channel vector `vec` shaped to broadcast along `axis` of `like`.
inline Value AxisVector(GradientBuilder& b, Value vec, Value like, int axis) {
  return b.Call1("_nn_axis_vector", {vec, like}, {{"axis", std::to_string(axis)}});
}

}  // namespace nn
}  // namespace ops
}  // namespace pmx

#endif  // POLYMIX_CORE_OPS_NN_LAYERS_COMMON_H_
