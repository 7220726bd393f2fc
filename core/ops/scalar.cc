// Elementwise operators between an array and a scalar parameter (MXNet's _*_scalar family).
#include <cmath>
#include <type_traits>

#include "core/ops/internal/op_builders.h"

namespace pmx {
namespace ops {
namespace {

// The parameters every scalar op takes (MXNet 1.9's NumpyBinaryScalarParam).
std::vector<ParamDef> ScalarParams() {
  return {{"scalar", ParamType::kFloat, "1", false, false, {}, "The scalar operand."},
          {"is_int", ParamType::kBool, "True", false, false, {}, "Whether the scalar is an integer (kept for MXNet)."}};
}

// An op computing out = f(x, s) with s the "scalar" parameter converted to the compute type.
template <DTypes kAllowed, typename F>
OpDef ScalarOpDef(const std::string& name, const std::string& doc, F f, GradientFn gradient) {
  Kernel kernel = [name, f](const KernelContext& context, absl::Span<const TensorRef> in,
                            absl::Span<const TensorRef> out) {
    const double scalar = context.params->Float("scalar");
    DispatchAllowed<kAllowed>(name.c_str(), in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const C s = static_cast<C>(scalar);
      const T* x = in[0].As<T>();
      T* y = out[0].As<T>();
      const bool add = context.modes[0] == WriteMode::kAdd;
      cpu::ParallelFor(in[0].size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) Store<T, C>(y + i, static_cast<C>(f(static_cast<C>(x[i]), s)), add);
      });
    });
  };
  OpDef def = UnaryOpDef(name, "scalar", doc, kAllowed, std::move(kernel), std::move(gradient));
  def.params = ScalarParams();
  return def;
}

Value Scalar(GradientBuilder& b, const char* op, Value x, double scalar) {
  return b.Call1(op, {x}, {{"scalar", ScalarText(scalar)}});
}

double S(const GradientArgs& args) { return args.params->Float("scalar"); }

// Gradient g * d(x, y, s).
GradientFn ScalarChainRule(std::function<Value(GradientBuilder&, Value x, Value y, double s)> derivative) {
  return [derivative](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("elemwise_mul", {args.output_grads[0], derivative(b, args.inputs[0], args.outputs[0], S(args))})};
  };
}

template <typename C>
C Mod(C a, C b) {
  if constexpr (std::is_floating_point_v<C>) {
    if (b == 0) return 0;
    C r = std::fmod(a, b);
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;  // Python's sign convention, as MXNet.
  } else {
    if (b == 0) return 0;
    C r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? static_cast<C>(r + b) : r;
  }
}

template <typename C>
C Power(C a, C b) {
  return static_cast<C>(std::pow(static_cast<double>(a), static_cast<double>(b)));
}

#define PMX_SCALAR_OP(NAME, DOC, EXPR, GRAD) \
  PMX_REGISTER_OP(NAME) { return ScalarOpDef<DTypes::kNumeric>(#NAME, DOC, [](auto x, auto s) { return EXPR; }, GRAD); }

PMX_SCALAR_OP(_plus_scalar, "x + scalar, elementwise.", x + s,
              [](GradientBuilder&, const GradientArgs& args) -> Grads { return {args.output_grads[0]}; })
PMX_SCALAR_OP(_minus_scalar, "x - scalar, elementwise.", x - s,
              [](GradientBuilder&, const GradientArgs& args) -> Grads { return {args.output_grads[0]}; })
PMX_SCALAR_OP(_rminus_scalar, "scalar - x, elementwise.", s - x,
              [](GradientBuilder& b, const GradientArgs& args) -> Grads {
                return {b.Call1("negative", {args.output_grads[0]})};
              })
PMX_SCALAR_OP(_mul_scalar, "x * scalar, elementwise.", x * s,
              [](GradientBuilder& b, const GradientArgs& args) -> Grads {
                return {Scalar(b, "_mul_scalar", args.output_grads[0], S(args))};
              })
PMX_SCALAR_OP(_div_scalar, "x / scalar, elementwise.", x / s,
              [](GradientBuilder& b, const GradientArgs& args) -> Grads {
                return {Scalar(b, "_div_scalar", args.output_grads[0], S(args))};
              })
PMX_SCALAR_OP(_rdiv_scalar, "scalar / x, elementwise.", s / x,
              ScalarChainRule([](GradientBuilder& b, Value x, Value y, double) {
                return b.Call1("negative", {b.Call1("elemwise_div", {y, x})});
              }))
PMX_SCALAR_OP(_mod_scalar, "x mod scalar (sign of the divisor, as Python), elementwise.", Mod(x, s),
              [](GradientBuilder&, const GradientArgs& args) -> Grads { return {args.output_grads[0]}; })
PMX_SCALAR_OP(_rmod_scalar, "scalar mod x (sign of the divisor, as Python), elementwise.", Mod(s, x),
              [](GradientBuilder& b, const GradientArgs& args) -> Grads {
                // d/dx (s - floor(s/x) * x) = -floor(s/x).
                const Value quotient = b.Call1("floor", {Scalar(b, "_rdiv_scalar", args.inputs[0], S(args))});
                return {b.Call1("elemwise_mul", {args.output_grads[0], b.Call1("negative", {quotient})})};
              })
PMX_SCALAR_OP(_power_scalar, "x ** scalar, elementwise.", Power(x, s),
              ScalarChainRule([](GradientBuilder& b, Value x, Value, double s) {
                return Scalar(b, "_mul_scalar", Scalar(b, "_power_scalar", x, s - 1), s);
              }))
PMX_SCALAR_OP(_rpower_scalar, "scalar ** x, elementwise.", Power(s, x),
              ScalarChainRule([](GradientBuilder& b, Value, Value y, double s) {
                return Scalar(b, "_mul_scalar", y, std::log(s));
              }))
PMX_SCALAR_OP(_maximum_scalar, "max(x, scalar), elementwise.", (x > s ? x : s),
              ScalarChainRule([](GradientBuilder& b, Value x, Value, double s) {
                return Scalar(b, "_greater_equal_scalar", x, s);
              }))
PMX_SCALAR_OP(_minimum_scalar, "min(x, scalar), elementwise.", (x < s ? x : s),
              ScalarChainRule([](GradientBuilder& b, Value x, Value, double s) {
                return Scalar(b, "_lesser_equal_scalar", x, s);
              }))
PMX_SCALAR_OP(_hypot_scalar, "sqrt(x**2 + scalar**2), elementwise.",
              static_cast<decltype(x)>(std::hypot(static_cast<double>(x), static_cast<double>(s))),
              ScalarChainRule([](GradientBuilder& b, Value x, Value y, double) {
                return b.Call1("elemwise_div", {x, y});
              }))

#define PMX_COMPARE_SCALAR(NAME, DOC, EXPR)                                                                 \
  PMX_REGISTER_OP(NAME) {                                                                                   \
    return ScalarOpDef<DTypes::kAll>(#NAME, DOC, [](auto x, auto s) { return static_cast<decltype(x)>(EXPR); }, \
                                     ZeroGradient());                                                       \
  }

PMX_COMPARE_SCALAR(_equal_scalar, "1 where x == scalar, else 0 (in x's dtype).", x == s)
PMX_COMPARE_SCALAR(_not_equal_scalar, "1 where x != scalar, else 0 (in x's dtype).", x != s)
PMX_COMPARE_SCALAR(_greater_scalar, "1 where x > scalar, else 0 (in x's dtype).", x > s)
PMX_COMPARE_SCALAR(_greater_equal_scalar, "1 where x >= scalar, else 0 (in x's dtype).", x >= s)
PMX_COMPARE_SCALAR(_lesser_scalar, "1 where x < scalar, else 0 (in x's dtype).", x < s)
PMX_COMPARE_SCALAR(_lesser_equal_scalar, "1 where x <= scalar, else 0 (in x's dtype).", x <= s)
PMX_COMPARE_SCALAR(_logical_and_scalar, "1 where x and scalar are both non-zero, else 0.", (x != 0) && (s != 0))
PMX_COMPARE_SCALAR(_logical_or_scalar, "1 where x or scalar is non-zero, else 0.", (x != 0) || (s != 0))
PMX_COMPARE_SCALAR(_logical_xor_scalar, "1 where exactly one of x and scalar is non-zero, else 0.",
                   (x != 0) != (s != 0))

PMX_REGISTER_OP(smooth_l1) {
  // f(x) = 0.5 (sigma x)^2 if |x| < 1/sigma^2, else |x| - 0.5/sigma^2.
  return ScalarOpDef<DTypes::kFloat>(
      "smooth_l1", "Smooth L1 (Huber-like) loss of x with parameter sigma = scalar, elementwise.",
      [](auto x, auto sigma) {
        using C = decltype(x);
        const C s2 = sigma * sigma;
        const C ax = x < 0 ? -x : x;
        return ax < 1 / s2 ? C(0.5) * s2 * x * x : ax - C(0.5) / s2;
      },
      ScalarChainRule([](GradientBuilder& b, Value x, Value, double sigma) {
        // s2 * x inside, sign(x) outside: clip(s2 * x, -1, 1).
        return b.Call1("clip", {Scalar(b, "_mul_scalar", x, sigma * sigma)}, {{"a_min", "-1"}, {"a_max", "1"}});
      }));
}

}  // namespace
}  // namespace ops
}  // namespace pmx
