// Activation layers: Activation (relu, sigmoid, tanh, softrelu, softsign) and LeakyReLU (leaky, prelu,
// rrelu, elu, selu, gelu), with MXNet 1.x's names, parameters and hidden outputs.
#include <cmath>

#include "core/ops/nn/layers_common.h"

namespace pmx {
namespace ops {
namespace nn {
namespace {

constexpr double kSqrtHalf = 0.70710678118654752440;       // 1 / sqrt(2).
constexpr double kInvSqrt2Pi = 0.39894228040143267794;     // 1 / sqrt(2 pi).
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluLambda = 1.0507009873554804934193349852946;

// 1 where x > 0, else 0 (the derivative selector of every rectifier below).
Value Positive(GradientBuilder& b, Value x) { return WithScalar(b, "_greater_scalar", x, 0); }

// a where `select` is 1 and c where it is 0: c + select * (a - c), with broadcasting.
Value Blend(GradientBuilder& b, Value select, Value a, Value c) { return Add(b, c, Mul(b, select, Sub(b, a, c))); }

// ---- Activation -----------------------------------------------------------------------------------------

PMX_REGISTER_OP(Activation) {
  OpDef def = UnaryOpDef(
      "Activation", "nn/activation",
      "Applies an activation function elementwise: relu max(x, 0), sigmoid 1/(1+exp(-x)), tanh, softrelu "
      "log(1+exp(x)) or softsign x/(1+|x|).",
      DTypes::kFloat, nullptr, nullptr);
  def.params = {{"act_type", ParamType::kEnum, "", true, false, {"relu", "sigmoid", "softrelu", "softsign", "tanh"},
                 "Activation function to be applied."}};
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const std::string& act = context.params->Str("act_type");
    if (act == "relu") {
      MapFloat("Activation", context, in[0], out[0], [](auto x, int64_t) { return x > 0 ? x : decltype(x)(0); });
    } else if (act == "sigmoid") {
      MapFloat("Activation", context, in[0], out[0], [](auto x, int64_t) { return 1 / (1 + std::exp(-x)); });
    } else if (act == "tanh") {
      MapFloat("Activation", context, in[0], out[0], [](auto x, int64_t) { return std::tanh(x); });
    } else if (act == "softrelu") {
      // Above 20, log(1 + exp(x)) equals x in float precision; the branch avoids exp overflow.
      MapFloat("Activation", context, in[0], out[0],
               [](auto x, int64_t) { return x > 20 ? x : std::log1p(std::exp(x)); });
    } else {
      MapFloat("Activation", context, in[0], out[0], [](auto x, int64_t) { return x / (1 + std::abs(x)); });
    }
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const std::string& act = args.params->Str("act_type");
    const Value x = args.inputs[0], y = args.outputs[0], g = args.output_grads[0];
    Value d;
    if (act == "relu") {
      // From the output (y > 0 exactly where x > 0), as MXNet does: the backward pass then never reads x, so the
      // forward can run relu in place on its input (conv/BatchNorm outputs) and the planner frees x at once.
      d = Positive(b, y);
    } else if (act == "sigmoid") {
      d = Mul(b, y, WithScalar(b, "_rminus_scalar", y, 1));
    } else if (act == "tanh") {
      d = WithScalar(b, "_rminus_scalar", b.Call1("square", {y}), 1);
    } else if (act == "softrelu") {
      d = b.Call1("sigmoid", {x});
    } else {
      d = b.Call1("reciprocal", {b.Call1("square", {WithScalar(b, "_plus_scalar", b.Call1("abs", {x}), 1)})});
    }
    return {Mul(b, g, d)};
  };
  return def;
}

// ---- LeakyReLU ------------------------------------------------------------------------------------------

// Where element i of data finds its PReLU slope in gamma: gamma has data's shape, one element, or one
// element per channel (axis 1).
struct GammaIndex {
  int64_t mode = 0;  // 0: elementwise, 1: a single slope, 2: per channel.
  int64_t channels = 1, inner = 1;
  int64_t operator()(int64_t i) const { return mode == 0 ? i : mode == 1 ? 0 : (i / inner) % channels; }
};

GammaIndex GammaLayout(const Shape& data, const Shape& gamma) {
  GammaIndex index;
  if (gamma == data) return index;
  if (gamma.size() == 1) {
    index.mode = 1;
    return index;
  }
  PMX_CHECK(gamma.ndim() == 1 && data.ndim() >= 2 && gamma[0] == data[1], kValueError,
            "[LeakyReLU] gamma has shape %s: expected (1,), (C,) with C = data.shape[1], or data's shape %s",
            gamma.ToString(), data.ToString());
  index.mode = 2;
  index.channels = data[1];
  index.inner = DimsProduct(data, 2, data.ndim());
  return index;
}

void LeakyReLUKernel(const KernelContext& context, absl::Span<const TensorRef> in, absl::Span<const TensorRef> out) {
  const OpParams& params = *context.params;
  const std::string& act = params.Str("act_type");
  const double slope = params.Float("slope");
  if (act == "leaky") {
    MapFloat("LeakyReLU", context, in[0], out[0], [slope](auto x, int64_t) { return x > 0 ? x : x * slope; });
  } else if (act == "elu") {
    MapFloat("LeakyReLU", context, in[0], out[0],
             [slope](auto x, int64_t) { return x > 0 ? x : slope * std::expm1(x); });
  } else if (act == "selu") {
    MapFloat("LeakyReLU", context, in[0], out[0], [](auto x, int64_t) {
      return kSeluLambda * (x > 0 ? x : kSeluAlpha * std::expm1(x));
    });
  } else if (act == "gelu") {
    MapFloat("LeakyReLU", context, in[0], out[0],
             [](auto x, int64_t) { return 0.5 * x * (1 + std::erf(x * kSqrtHalf)); });
  } else if (act == "prelu") {
    PMX_CHECK(in[1].dtype == in[0].dtype, kTypeError, "[LeakyReLU] gamma has dtype %s but data has %s",
              DTypeName(in[1].dtype), DTypeName(in[0].dtype));
    const GammaIndex index = GammaLayout(in[0].shape, in[1].shape);
    DispatchAllowed<DTypes::kFloat>("LeakyReLU", in[1].dtype, [&](auto tag) {
      using T = decltype(tag);
      const T* gamma = in[1].As<T>();
      MapFloat("LeakyReLU", context, in[0], out[0], [&](auto x, int64_t i) {
        return x > 0 ? x : x * static_cast<decltype(x)>(gamma[index(i)]);
      });
    });
  } else {  // rrelu: a random slope per element in training, their mean otherwise; the mask holds the slopes.
    const double lower = params.Float("lower_bound"), upper = params.Float("upper_bound");
    const bool train = context.is_train;
    const uint64_t seed = context.seed;
    auto slope_at = [=](int64_t i) {
      return train ? lower + (upper - lower) * UniformAt(seed, i) : (lower + upper) / 2;
    };
    MapFloat("LeakyReLU", context, in[0], out[0], [&](auto x, int64_t i) {
      return x > 0 ? x : x * static_cast<decltype(x)>(slope_at(i));
    });
    MapFloat("LeakyReLU", context, in[0], out[1], [&](auto x, int64_t i) {
      return static_cast<decltype(x)>(slope_at(i));
    }, 1);
  }
}

Grads LeakyReLUGradient(GradientBuilder& b, const GradientArgs& args) {
  const OpParams& params = *args.params;
  const std::string& act = params.Str("act_type");
  const double slope = params.Float("slope");
  const Value x = args.inputs[0], y = args.outputs[0], g = args.output_grads[0];
  auto constant = [&](double value) { return WithScalar(b, "_plus_scalar", b.Call1("zeros_like", {x}), value); };
  if (act == "prelu") {
    const Value gamma = args.inputs[1];
    const Value gamma_b = AxisVector(b, gamma, x, 1);
    const Value pos = Positive(b, x);
    const Value dx = Mul(b, g, Blend(b, pos, constant(1), gamma_b));
    const Value negative_part = Mul(b, Mul(b, g, x), WithScalar(b, "_rminus_scalar", pos, 1));
    const Value dgamma = ReshapeLike(b, b.Call1("_sum_to_like", {negative_part, gamma_b}), gamma);
    return {dx, dgamma};
  }
  Value d;
  if (act == "leaky") {
    d = Blend(b, Positive(b, x), constant(1), constant(slope));
  } else if (act == "elu") {
    d = Blend(b, Positive(b, x), constant(1), WithScalar(b, "_plus_scalar", y, slope));
  } else if (act == "selu") {
    // The derivative lambda * alpha * exp(x) = y + lambda * alpha for x <= 0. (MXNet 1.9.1's backward computes
    // lambda * (y + alpha), which is not the derivative of its forward; Polymix keeps the derivative.)
    d = Blend(b, Positive(b, x), constant(kSeluLambda), WithScalar(b, "_plus_scalar", y, kSeluLambda * kSeluAlpha));
  } else if (act == "gelu") {
    // d/dx [x Phi(x)] = Phi(x) + x phi(x).
    const Value erf = b.Call1("erf", {WithScalar(b, "_mul_scalar", x, kSqrtHalf)});
    const Value cdf = WithScalar(b, "_mul_scalar", WithScalar(b, "_plus_scalar", erf, 1), 0.5);
    const Value gauss = b.Call1("exp", {WithScalar(b, "_mul_scalar", b.Call1("square", {x}), -0.5)});
    const Value pdf = WithScalar(b, "_mul_scalar", gauss, kInvSqrt2Pi);
    d = Add(b, cdf, Mul(b, x, pdf));
  } else {  // rrelu: the slopes used forward are the mask output (which itself does not depend on x).
    d = Blend(b, Positive(b, x), constant(1), args.outputs[1]);
  }
  return {Mul(b, g, d)};
}

PMX_REGISTER_OP(LeakyReLU) {
  OpDef def;
  def.name = "LeakyReLU";
  def.family = "nn/activation";
  def.doc = "Leaky rectifiers and relatives, elementwise: leaky (x or slope*x), prelu (a learned slope `gamma` per "
            "channel), rrelu (a random slope in [lower_bound, upper_bound] while training, their mean otherwise), "
            "elu (slope*(exp(x)-1) for x <= 0), selu (scaled elu with fixed constants) and gelu (x*Phi(x)). rrelu "
            "also returns the slopes it used as a second output, `mask`.";
  def.inputs = {"data", "gamma"};
  def.num_inputs = [](const OpParams& params) { return params.Str("act_type") == "prelu" ? 2 : 1; };
  def.outputs = {"output", "mask"};
  // MXNet 1.9.1 shows rrelu's mask (the slopes used) as a second visible output.
  def.num_outputs = [](const OpParams& params) { return params.Str("act_type") == "rrelu" ? 2 : 1; };
  def.params = {
      {"act_type", ParamType::kEnum, "leaky", false, false, {"elu", "gelu", "leaky", "prelu", "rrelu", "selu"},
       "Activation function to be applied."},
      {"slope", ParamType::kFloat, "0.25", false, false, {}, "Slope of the negative part (leaky and elu only)."},
      {"lower_bound", ParamType::kFloat, "0.125", false, false, {}, "Lower bound of the random slope (rrelu only)."},
      {"upper_bound", ParamType::kFloat, "0.334", false, false, {}, "Upper bound of the random slope (rrelu only)."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape& data = *(*in)[0];
    if (in->size() > 1) {
      if (!(*in)[1]) (*in)[1] = Shape({data.ndim() >= 2 ? data[1] : 1});
      GammaLayout(data, *(*in)[1]);
    }
    for (MaybeShape& shape : *out) shape = data;
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType("LeakyReLU", DTypes::kFloat, in, out);
  };
  def.kernels[DeviceType::kCPU] = LeakyReLUKernel;
  def.gradient = LeakyReLUGradient;
  def.needs_rng = true;
  return def;
}

}  // namespace
}  // namespace nn
}  // namespace ops
}  // namespace pmx
