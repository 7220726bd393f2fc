// The GPU elementwise operators as one table per shape (unary, scalar, binary): each row gives the
// kernel's code, the registered op name(s), the dtypes it accepts and its device formula. The
// registration files (.cc) read names and dtypes; the kernels (.cu) read the formulas, so every op has
// one GPU formula, shared by all of its kernels (flat, broadcast, every dtype).
//
// Formulas run in the compute type C (float for float16/bfloat16, the storage type otherwise) and are
// written exactly as the CPU kernels in core/ops/{unary,scalar,binary}.cc write them, so that integer
// promotion, wrap-around and NaN behaviour match; the device math library may differ from the host's by
// a few ulp. Variables: x (unary/scalar input), s (the scalar), a and b (binary inputs, or a unary op's
// two parameters p0 and p1 as C). Helpers (Mod, Power, Floor, ..., Digamma) are in elementwise.cuh.
// Plain C++ with no includes: nvcc and the host compiler both read it.
#ifndef POLYMIX_CORE_BACKEND_CUDA_OPS_ELEMENTWISE_TABLE_H_
#define POLYMIX_CORE_BACKEND_CUDA_OPS_ELEMENTWISE_TABLE_H_

// X(CODE, "name", DTYPES, PARAMS, formula). DTYPES: kFloat, kNumeric or kAll (core/ops' DTypes);
// PARAMS: which operator parameters become p0 and p1 (kNoParams, kAlphaBeta, kClipBounds).
#define PMX_GPU_UNARY_OPS(X)                                                                  \
  X(kExp, "exp", kFloat, kNoParams, exp(x))                                                   \
  X(kExpm1, "expm1", kFloat, kNoParams, expm1(x))                                             \
  X(kLog, "log", kFloat, kNoParams, log(x))                                                   \
  X(kLog10, "log10", kFloat, kNoParams, log10(x))                                             \
  X(kLog2, "log2", kFloat, kNoParams, log2(x))                                                \
  X(kLog1p, "log1p", kFloat, kNoParams, log1p(x))                                             \
  X(kSqrt, "sqrt", kFloat, kNoParams, sqrt(x))                                                \
  X(kRsqrt, "rsqrt", kFloat, kNoParams, 1 / sqrt(x))                                          \
  X(kCbrt, "cbrt", kFloat, kNoParams, cbrt(x))                                                \
  X(kRcbrt, "rcbrt", kFloat, kNoParams, 1 / cbrt(x))                                          \
  X(kReciprocal, "reciprocal", kFloat, kNoParams, 1 / x)                                      \
  X(kSin, "sin", kFloat, kNoParams, sin(x))                                                   \
  X(kCos, "cos", kFloat, kNoParams, cos(x))                                                   \
  X(kTan, "tan", kFloat, kNoParams, tan(x))                                                   \
  X(kArcsin, "arcsin", kFloat, kNoParams, asin(x))                                            \
  X(kArccos, "arccos", kFloat, kNoParams, acos(x))                                            \
  X(kArctan, "arctan", kFloat, kNoParams, atan(x))                                            \
  X(kSinh, "sinh", kFloat, kNoParams, sinh(x))                                                \
  X(kCosh, "cosh", kFloat, kNoParams, cosh(x))                                                \
  X(kTanh, "tanh", kFloat, kNoParams, tanh(x))                                                \
  X(kArcsinh, "arcsinh", kFloat, kNoParams, asinh(x))                                         \
  X(kArccosh, "arccosh", kFloat, kNoParams, acosh(x))                                         \
  X(kArctanh, "arctanh", kFloat, kNoParams, atanh(x))                                         \
  X(kSigmoid, "sigmoid", kFloat, kNoParams, 1 / (1 + exp(-x)))                                \
  X(kSoftsign, "softsign", kFloat, kNoParams, x / (1 + fabs(x)))                              \
  X(kErf, "erf", kFloat, kNoParams, erf(x))                                                   \
  X(kErfinv, "erfinv", kFloat, kNoParams, erfinv(x))                                          \
  X(kGamma, "gamma", kFloat, kNoParams, tgamma(x))                                            \
  X(kGammaln, "gammaln", kFloat, kNoParams, lgamma(x))                                        \
  X(kDigamma, "_digamma", kFloat, kNoParams, Digamma(x))                                      \
  X(kDegrees, "degrees", kFloat, kNoParams, x * static_cast<C>(180 / kPi))                    \
  X(kRadians, "radians", kFloat, kNoParams, x * static_cast<C>(kPi / 180))                    \
  X(kHardSigmoid, "hard_sigmoid", kFloat, kAlphaBeta, Clamp01(a * x + b))                     \
  X(kAbs, "abs", kNumeric, kNoParams, x < 0 ? -x : x)                                         \
  X(kNegative, "negative", kNumeric, kNoParams, -x)                                           \
  X(kSquare, "square", kNumeric, kNoParams, x * x)                                            \
  X(kSign, "sign", kNumeric, kNoParams, (x > 0) - (x < 0))                                    \
  X(kRelu, "relu", kNumeric, kNoParams, x > 0 ? x : static_cast<C>(0))                        \
  X(kFloor, "floor", kNumeric, kNoParams, Floor(x))                                           \
  X(kCeil, "ceil", kNumeric, kNoParams, Ceil(x))                                              \
  X(kRound, "round", kNumeric, kNoParams, Round(x))                                           \
  X(kRint, "rint", kNumeric, kNoParams, Rint(x))                                              \
  X(kFix, "fix", kNumeric, kNoParams, Trunc(x))                                               \
  X(kTrunc, "trunc", kNumeric, kNoParams, Trunc(x))                                           \
  X(kClip, "clip", kNumeric, kClipBounds, x < a ? a : (x > b ? b : x))                        \
  X(kLogicalNot, "logical_not", kAll, kNoParams, !x)                                          \
  X(kCopy, "_copy", kAll, kNoParams, x)                                                       \
  X(kBlockGrad, "BlockGrad", kAll, kNoParams, x)                                              \
  X(kZerosLike, "zeros_like", kAll, kNoParams, 0)                                             \
  X(kOnesLike, "ones_like", kAll, kNoParams, 1)

// X(CODE, "name", DTYPES, formula in x and s).
#define PMX_GPU_SCALAR_OPS(X)                                                                 \
  X(kPlusScalar, "_plus_scalar", kNumeric, x + s)                                             \
  X(kMinusScalar, "_minus_scalar", kNumeric, x - s)                                           \
  X(kRminusScalar, "_rminus_scalar", kNumeric, s - x)                                         \
  X(kMulScalar, "_mul_scalar", kNumeric, x * s)                                               \
  X(kDivScalar, "_div_scalar", kNumeric, x / s)                                               \
  X(kRdivScalar, "_rdiv_scalar", kNumeric, s / x)                                             \
  X(kModScalar, "_mod_scalar", kNumeric, Mod(x, s))                                           \
  X(kRmodScalar, "_rmod_scalar", kNumeric, Mod(s, x))                                         \
  X(kPowerScalar, "_power_scalar", kNumeric, Power(x, s))                                     \
  X(kRpowerScalar, "_rpower_scalar", kNumeric, Power(s, x))                                   \
  X(kMaximumScalar, "_maximum_scalar", kNumeric, x > s ? x : s)                               \
  X(kMinimumScalar, "_minimum_scalar", kNumeric, x < s ? x : s)                               \
  X(kHypotScalar, "_hypot_scalar", kNumeric, hypot(static_cast<double>(x), static_cast<double>(s))) \
  X(kEqualScalar, "_equal_scalar", kAll, x == s)                                              \
  X(kNotEqualScalar, "_not_equal_scalar", kAll, x != s)                                       \
  X(kGreaterScalar, "_greater_scalar", kAll, x > s)                                           \
  X(kGreaterEqualScalar, "_greater_equal_scalar", kAll, x >= s)                               \
  X(kLesserScalar, "_lesser_scalar", kAll, x < s)                                             \
  X(kLesserEqualScalar, "_lesser_equal_scalar", kAll, x <= s)                                 \
  X(kLogicalAndScalar, "_logical_and_scalar", kAll, (x != 0) && (s != 0))                     \
  X(kLogicalOrScalar, "_logical_or_scalar", kAll, (x != 0) || (s != 0))                       \
  X(kLogicalXorScalar, "_logical_xor_scalar", kAll, (x != 0) != (s != 0))                     \
  X(kSmoothL1, "smooth_l1", kFloat, SmoothL1(x, s))

// X(CODE, "same-shape name", "broadcasting name", DTYPES, formula in a and b).
#define PMX_GPU_BINARY_OPS(X)                                                                  \
  X(kAdd, "elemwise_add", "broadcast_add", kNumeric, a + b)                                    \
  X(kSub, "elemwise_sub", "broadcast_sub", kNumeric, a - b)                                    \
  X(kMul, "elemwise_mul", "broadcast_mul", kNumeric, a * b)                                    \
  X(kDiv, "elemwise_div", "broadcast_div", kNumeric, a / b)                                    \
  X(kMod, "_mod", "broadcast_mod", kNumeric, Mod(a, b))                                        \
  X(kPower, "_power", "broadcast_power", kNumeric, Power(a, b))                                \
  X(kMaximum, "_maximum", "broadcast_maximum", kNumeric, a > b ? a : b)                        \
  X(kMinimum, "_minimum", "broadcast_minimum", kNumeric, a < b ? a : b)                        \
  X(kHypot, "_hypot", "broadcast_hypot", kFloat, hypot(a, b))                                  \
  X(kEqual, "_equal", "broadcast_equal", kAll, a == b)                                         \
  X(kNotEqual, "_not_equal", "broadcast_not_equal", kAll, a != b)                              \
  X(kGreater, "_greater", "broadcast_greater", kAll, a > b)                                    \
  X(kGreaterEqual, "_greater_equal", "broadcast_greater_equal", kAll, a >= b)                  \
  X(kLesser, "_lesser", "broadcast_lesser", kAll, a < b)                                       \
  X(kLesserEqual, "_lesser_equal", "broadcast_lesser_equal", kAll, a <= b)                     \
  X(kLogicalAnd, "_logical_and", "broadcast_logical_and", kAll, (a != 0) && (b != 0))          \
  X(kLogicalOr, "_logical_or", "broadcast_logical_or", kAll, (a != 0) || (b != 0))             \
  X(kLogicalXor, "_logical_xor", "broadcast_logical_xor", kAll, (a != 0) != (b != 0))

#endif  // POLYMIX_CORE_BACKEND_CUDA_OPS_ELEMENTWISE_TABLE_H_
