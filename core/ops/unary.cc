// Elementwise unary operators: math, rounding, activations, and the *_like creators.
#include <cmath>
#include <limits>
#include <type_traits>

#include "core/ops/internal/op_builders.h"

namespace pmx {
namespace ops {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Applies `f` only to floating-point compute types; integers pass through (rounding ops on ints).
template <typename F>
auto FloatOnly(F f) {
  return [f](auto x) {
    if constexpr (std::is_floating_point_v<decltype(x)>) {
      return static_cast<decltype(x)>(f(x));
    } else {
      return x;
    }
  };
}

// The gradient g * c for a constant derivative c.
GradientFn ScaledGradient(double c) {
  return [c](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("_mul_scalar", {args.output_grads[0]}, {{"scalar", ScalarText(c)}})};
  };
}

Value Scalar(GradientBuilder& b, const char* op, Value x, double scalar) {
  return b.Call1(op, {x}, {{"scalar", ScalarText(scalar)}});
}

// Inverse error function: Giles' single-precision approximation refined by two Newton steps on erf.
template <typename C>
C ErfInv(C y) {
  if (y <= -1) return y == -1 ? -INFINITY : NAN;
  if (y >= 1) return y == 1 ? INFINITY : NAN;
  double x = static_cast<double>(y);
  double w = -std::log((1.0 - x) * (1.0 + x)), p;
  if (w < 5.0) {
    w -= 2.5;
    p = 2.81022636e-08;
    for (double c : {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                     -0.00417768164, 0.246640727, 1.50140941}) {
      p = c + p * w;
    }
  } else {
    w = std::sqrt(w) - 3.0;
    p = -0.000200214257;
    for (double c : {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                     0.00943887047, 1.00167406, 2.83297682}) {
      p = c + p * w;
    }
  }
  double r = p * x;
  for (int i = 0; i < 2; ++i) r -= (std::erf(r) - x) / (2.0 / std::sqrt(kPi) * std::exp(-r * r));
  return static_cast<C>(r);
}

// Digamma by recurrence to x >= 6 and the asymptotic series.
template <typename C>
C Digamma(C value) {
  double x = static_cast<double>(value), result = 0;
  if (x <= 0 && std::floor(x) == x) return NAN;
  if (x < 0) return static_cast<C>(Digamma(1.0 - x) - kPi / std::tan(kPi * x));
  while (x < 6) {
    result -= 1 / x;
    x += 1;
  }
  const double f = 1 / (x * x);
  result += std::log(x) - 0.5 / x - f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f / 132))));
  return static_cast<C>(result);
}

#define PMX_UNARY_FLOAT(NAME, DOC, EXPR, DERIVATIVE)                                                 \
  PMX_REGISTER_OP(NAME) {                                                                           \
    return UnaryOpDef(#NAME, "unary", DOC, DTypes::kFloat,                                          \
                      UnaryKernel<DTypes::kFloat>(#NAME, [](auto x) { return EXPR; }),              \
                      UnaryChainRule([](GradientBuilder & b, Value x, Value y) { return DERIVATIVE; })); \
  }

PMX_UNARY_FLOAT(exp, "Exponential, e**x, elementwise.", std::exp(x), y)
PMX_UNARY_FLOAT(expm1, "exp(x) - 1, accurate near zero, elementwise.", std::expm1(x), Scalar(b, "_plus_scalar", y, 1))
PMX_UNARY_FLOAT(log, "Natural logarithm, elementwise.", std::log(x), b.Call1("reciprocal", {x}))
PMX_UNARY_FLOAT(log10, "Base-10 logarithm, elementwise.", std::log10(x),
                b.Call1("reciprocal", {Scalar(b, "_mul_scalar", x, std::log(10.0))}))
PMX_UNARY_FLOAT(log2, "Base-2 logarithm, elementwise.", std::log2(x),
                b.Call1("reciprocal", {Scalar(b, "_mul_scalar", x, std::log(2.0))}))
PMX_UNARY_FLOAT(log1p, "log(1 + x), accurate near zero, elementwise.", std::log1p(x),
                b.Call1("reciprocal", {Scalar(b, "_plus_scalar", x, 1)}))
PMX_UNARY_FLOAT(sqrt, "Square root, elementwise.", std::sqrt(x), Scalar(b, "_rdiv_scalar", y, 0.5))
PMX_UNARY_FLOAT(rsqrt, "Reciprocal square root, 1/sqrt(x), elementwise.", 1 / std::sqrt(x),
                Scalar(b, "_mul_scalar", b.Call1("elemwise_mul", {y, b.Call1("square", {y})}), -0.5))
PMX_UNARY_FLOAT(cbrt, "Cube root, elementwise.", std::cbrt(x),
                b.Call1("reciprocal", {Scalar(b, "_mul_scalar", b.Call1("square", {y}), 3)}))
PMX_UNARY_FLOAT(rcbrt, "Reciprocal cube root, 1/cbrt(x), elementwise.", 1 / std::cbrt(x),
                b.Call1("negative", {b.Call1("elemwise_div", {y, Scalar(b, "_mul_scalar", x, 3)})}))
PMX_UNARY_FLOAT(reciprocal, "Reciprocal, 1/x, elementwise.", 1 / x, b.Call1("negative", {b.Call1("square", {y})}))
PMX_UNARY_FLOAT(sin, "Sine (radians), elementwise.", std::sin(x), b.Call1("cos", {x}))
PMX_UNARY_FLOAT(cos, "Cosine (radians), elementwise.", std::cos(x), b.Call1("negative", {b.Call1("sin", {x})}))
PMX_UNARY_FLOAT(tan, "Tangent (radians), elementwise.", std::tan(x),
                Scalar(b, "_plus_scalar", b.Call1("square", {y}), 1))
PMX_UNARY_FLOAT(arcsin, "Inverse sine, elementwise.", std::asin(x),
                b.Call1("rsqrt", {Scalar(b, "_rminus_scalar", b.Call1("square", {x}), 1)}))
PMX_UNARY_FLOAT(arccos, "Inverse cosine, elementwise.", std::acos(x),
                b.Call1("negative", {b.Call1("rsqrt", {Scalar(b, "_rminus_scalar", b.Call1("square", {x}), 1)})}))
PMX_UNARY_FLOAT(arctan, "Inverse tangent, elementwise.", std::atan(x),
                b.Call1("reciprocal", {Scalar(b, "_plus_scalar", b.Call1("square", {x}), 1)}))
PMX_UNARY_FLOAT(sinh, "Hyperbolic sine, elementwise.", std::sinh(x), b.Call1("cosh", {x}))
PMX_UNARY_FLOAT(cosh, "Hyperbolic cosine, elementwise.", std::cosh(x), b.Call1("sinh", {x}))
PMX_UNARY_FLOAT(tanh, "Hyperbolic tangent, elementwise.", std::tanh(x),
                Scalar(b, "_rminus_scalar", b.Call1("square", {y}), 1))
PMX_UNARY_FLOAT(arcsinh, "Inverse hyperbolic sine, elementwise.", std::asinh(x),
                b.Call1("rsqrt", {Scalar(b, "_plus_scalar", b.Call1("square", {x}), 1)}))
PMX_UNARY_FLOAT(arccosh, "Inverse hyperbolic cosine, elementwise.", std::acosh(x),
                b.Call1("rsqrt", {Scalar(b, "_minus_scalar", b.Call1("square", {x}), 1)}))
PMX_UNARY_FLOAT(arctanh, "Inverse hyperbolic tangent, elementwise.", std::atanh(x),
                b.Call1("reciprocal", {Scalar(b, "_rminus_scalar", b.Call1("square", {x}), 1)}))
PMX_UNARY_FLOAT(sigmoid, "Logistic sigmoid, 1/(1+exp(-x)), elementwise.", 1 / (1 + std::exp(-x)),
                b.Call1("elemwise_mul", {y, Scalar(b, "_rminus_scalar", y, 1)}))
PMX_UNARY_FLOAT(softsign, "x/(1+|x|), elementwise.", x / (1 + std::abs(x)),
                b.Call1("reciprocal", {b.Call1("square", {Scalar(b, "_plus_scalar", b.Call1("abs", {x}), 1)})}))
PMX_UNARY_FLOAT(erf, "Gauss error function, elementwise.", std::erf(x),
                Scalar(b, "_mul_scalar", b.Call1("exp", {b.Call1("negative", {b.Call1("square", {x})})}),
                       2 / std::sqrt(kPi)))
PMX_UNARY_FLOAT(erfinv, "Inverse Gauss error function, elementwise.", ErfInv(x),
                Scalar(b, "_mul_scalar", b.Call1("exp", {b.Call1("square", {y})}), std::sqrt(kPi) / 2))
PMX_UNARY_FLOAT(gamma, "Gamma function, elementwise.", std::tgamma(x),
                b.Call1("elemwise_mul", {y, b.Call1("_digamma", {x})}))
PMX_UNARY_FLOAT(gammaln, "Natural logarithm of the absolute gamma function, elementwise.", std::lgamma(x),
                b.Call1("_digamma", {x}))

PMX_REGISTER_OP(_digamma) {
  return UnaryOpDef("_digamma", "unary", "Digamma, the derivative of gammaln (gradient helper).", DTypes::kFloat,
                    UnaryKernel<DTypes::kFloat>("_digamma", [](auto x) { return Digamma(x); }), {});
}

PMX_REGISTER_OP(degrees) {
  return UnaryOpDef("degrees", "unary", "Converts radians to degrees, elementwise.", DTypes::kFloat,
                    UnaryKernel<DTypes::kFloat>("degrees", [](auto x) { return x * static_cast<decltype(x)>(180 / kPi); }),
                    ScaledGradient(180 / kPi));
}

PMX_REGISTER_OP(radians) {
  return UnaryOpDef("radians", "unary", "Converts degrees to radians, elementwise.", DTypes::kFloat,
                    UnaryKernel<DTypes::kFloat>("radians", [](auto x) { return x * static_cast<decltype(x)>(kPi / 180); }),
                    ScaledGradient(kPi / 180));
}

// Numeric ops (integers too).
PMX_REGISTER_OP(abs) {
  return UnaryOpDef("abs", "unary", "Absolute value, elementwise.", DTypes::kNumeric,
                    UnaryKernel<DTypes::kNumeric>("abs", [](auto x) { return x < 0 ? -x : x; }),
                    UnaryChainRule([](GradientBuilder& b, Value x, Value) { return b.Call1("sign", {x}); }));
}

PMX_REGISTER_OP(negative) {
  OpDef def = UnaryOpDef("negative", "unary", "Numerical negative, -x, elementwise.", DTypes::kNumeric,
                         UnaryKernel<DTypes::kNumeric>("negative", [](auto x) { return -x; }),
                         ScaledGradient(-1));
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("negative", {args.output_grads[0]})};
  };
  return def;
}

PMX_REGISTER_OP(square) {
  return UnaryOpDef("square", "unary", "Square, x*x, elementwise.", DTypes::kNumeric,
                    UnaryKernel<DTypes::kNumeric>("square", [](auto x) { return x * x; }),
                    UnaryChainRule([](GradientBuilder& b, Value x, Value) { return Scalar(b, "_mul_scalar", x, 2); }));
}

PMX_REGISTER_OP(sign) {
  return UnaryOpDef("sign", "unary", "Sign: -1, 0 or 1, elementwise.", DTypes::kNumeric,
                    UnaryKernel<DTypes::kNumeric>("sign", [](auto x) { return static_cast<decltype(x)>((x > 0) - (x < 0)); }),
                    ZeroGradient());
}

PMX_REGISTER_OP(relu) {
  return UnaryOpDef("relu", "unary", "Rectified linear unit, max(x, 0), elementwise.", DTypes::kNumeric,
                    UnaryKernel<DTypes::kNumeric>("relu", [](auto x) { return x > 0 ? x : static_cast<decltype(x)>(0); }),
                    UnaryChainRule([](GradientBuilder& b, Value x, Value) { return Scalar(b, "_greater_scalar", x, 0); }));
}

#define PMX_UNARY_ROUNDING(NAME, DOC, EXPR)                                                           \
  PMX_REGISTER_OP(NAME) {                                                                           \
    return UnaryOpDef(#NAME, "unary", DOC, DTypes::kNumeric,                                        \
                      UnaryKernel<DTypes::kNumeric>(#NAME, FloatOnly([](auto x) { return EXPR; })), \
                      ZeroGradient());                                                              \
  }

PMX_UNARY_ROUNDING(floor, "Largest integer <= x, elementwise.", std::floor(x))
PMX_UNARY_ROUNDING(ceil, "Smallest integer >= x, elementwise.", std::ceil(x))
PMX_UNARY_ROUNDING(round, "Nearest integer, halves away from zero, elementwise.", std::round(x))
PMX_UNARY_ROUNDING(rint, "Nearest integer, halves to even, elementwise.", std::nearbyint(x))
PMX_UNARY_ROUNDING(fix, "Rounds toward zero, elementwise.", std::trunc(x))
PMX_UNARY_ROUNDING(trunc, "Truncates toward zero, elementwise.", std::trunc(x))

PMX_REGISTER_OP(logical_not) {
  return UnaryOpDef("logical_not", "unary", "1 where x is 0, else 0 (in x's dtype), elementwise.", DTypes::kAll,
                    UnaryKernel<DTypes::kAll>("logical_not", [](auto x) { return static_cast<decltype(x)>(!x); }),
                    ZeroGradient());
}

PMX_REGISTER_OP(hard_sigmoid) {
  OpDef def = UnaryOpDef(
      "hard_sigmoid", "unary", "Piecewise-linear sigmoid: clip(alpha * x + beta, 0, 1), elementwise.", DTypes::kFloat,
      [](const KernelContext& context, absl::Span<const TensorRef> in, absl::Span<const TensorRef> out) {
        const double alpha = context.params->Float("alpha"), beta = context.params->Float("beta");
        UnaryKernel<DTypes::kFloat>("hard_sigmoid", [alpha, beta](auto x) {
          using C = decltype(x);
          const C v = static_cast<C>(alpha) * x + static_cast<C>(beta);
          return v < 0 ? C(0) : (v > 1 ? C(1) : v);
        })(context, in, out);
      },
      [](GradientBuilder& b, const GradientArgs& args) -> Grads {
        const Value y = args.outputs[0];
        const Value inside =
            b.Call1("elemwise_mul", {Scalar(b, "_greater_scalar", y, 0), Scalar(b, "_lesser_scalar", y, 1)});
        return {b.Call1("elemwise_mul",
                        {args.output_grads[0], Scalar(b, "_mul_scalar", inside, args.params->Float("alpha"))})};
      });
  def.params = {{"alpha", ParamType::kFloat, "0.2", false, false, {}, "Slope of the linear part."},
                {"beta", ParamType::kFloat, "0.5", false, false, {}, "Offset of the linear part."}};
  return def;
}

// Identity-like ops.
PMX_REGISTER_OP(_copy) {
  OpDef def = UnaryOpDef("_copy", "unary", "Returns a copy of the input.", DTypes::kAll,
                         UnaryKernel<DTypes::kAll>("_copy", [](auto x) { return x; }),
                         [](GradientBuilder&, const GradientArgs& args) -> Grads { return {args.output_grads[0]}; });
  def.aliases = {"identity"};
  return def;
}

PMX_REGISTER_OP(BlockGrad) {
  OpDef def = UnaryOpDef("BlockGrad", "unary", "Returns the input unchanged and stops gradients from flowing back.",
                         DTypes::kAll, UnaryKernel<DTypes::kAll>("BlockGrad", [](auto x) { return x; }),
                         ZeroGradient());
  def.aliases = {"stop_gradient"};
  return def;
}

PMX_REGISTER_OP(zeros_like) {
  return UnaryOpDef("zeros_like", "unary", "An array of zeros with the shape and dtype of the input.", DTypes::kAll,
                    UnaryKernel<DTypes::kAll>("zeros_like", [](auto x) { return static_cast<decltype(x)>(0); }),
                    ZeroGradient());
}

PMX_REGISTER_OP(ones_like) {
  return UnaryOpDef("ones_like", "unary", "An array of ones with the shape and dtype of the input.", DTypes::kAll,
                    UnaryKernel<DTypes::kAll>("ones_like", [](auto x) { return static_cast<decltype(x)>(1); }),
                    ZeroGradient());
}

}  // namespace
}  // namespace ops
}  // namespace pmx

namespace pmx {
namespace ops {
namespace {

// A real bound in the compute type C: integer types take it truncated and saturated at their limits (a
// bare cast of -1.5 to uint8 is undefined behaviour; x86 happens to give 255). The GPU kernel does the same.
template <typename C>
C BoundAs(double value) {
  if constexpr (std::is_integral_v<C> && !std::is_same_v<C, bool>) {
    if (std::isnan(value)) return C(0);
    if (value >= static_cast<double>(std::numeric_limits<C>::max())) return std::numeric_limits<C>::max();
    if (value <= static_cast<double>(std::numeric_limits<C>::lowest())) return std::numeric_limits<C>::lowest();
  }
  return static_cast<C>(value);
}

PMX_REGISTER_OP(clip) {
  OpDef def = UnaryOpDef(
      "clip", "unary", "Clips values to [a_min, a_max], elementwise.", DTypes::kNumeric,
      [](const KernelContext& context, absl::Span<const TensorRef> in, absl::Span<const TensorRef> out) {
        const double low = context.params->Float("a_min"), high = context.params->Float("a_max");
        PMX_CHECK(low <= high, kValueError, "[clip] a_min (%g) must be <= a_max (%g)", low, high);
        UnaryKernel<DTypes::kNumeric>("clip", [low, high](auto x) {
          using C = decltype(x);
          const C lo = BoundAs<C>(low), hi = BoundAs<C>(high);
          return x < lo ? lo : (x > hi ? hi : x);
        })(context, in, out);
      },
      [](GradientBuilder& b, const GradientArgs& args) -> Grads {
        // Gradient flows where a_min <= x <= a_max.
        const Value x = args.inputs[0];
        const Value inside = b.Call1(
            "elemwise_mul",
            {b.Call1("_greater_equal_scalar", {x}, {{"scalar", ScalarText(args.params->Float("a_min"))}}),
             b.Call1("_lesser_equal_scalar", {x}, {{"scalar", ScalarText(args.params->Float("a_max"))}})});
        return {b.Call1("elemwise_mul", {args.output_grads[0], inside})};
      });
  def.params = {{"a_min", ParamType::kFloat, "", true, false, {}, "Lower bound."},
                {"a_max", ParamType::kFloat, "", true, false, {}, "Upper bound."}};
  return def;
}

}  // namespace
}  // namespace ops
}  // namespace pmx
