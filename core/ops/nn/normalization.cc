// Normalization layers that need no running statistics: LayerNorm, InstanceNorm, GroupNorm and
// L2Normalization. (BatchNorm lives with the oneDNN family.)
#include <cmath>

#include "core/ops/nn/layers_common.h"

namespace pmx {
namespace ops {
namespace nn {
namespace {

// How the rows of a normalization meet their scale and shift: gamma[j] by position along the row
// (LayerNorm), or gamma[row % groups] by row (InstanceNorm, GroupNorm).
struct AffineLayout {
  bool per_position = true;
  int64_t groups = 1;
};

// Normalizes every row of `view` (mean 0, variance 1, then * gamma + beta) from in = {data, gamma, beta}
// into out = {output, mean, std-or-variance}; the statistics are written one per row, in (outer, inner) order.
void NormalizeRows(const char* op, const AxisView& view, double eps, AffineLayout affine, bool write_variance,
                   const KernelContext& context, absl::Span<const TensorRef> in, absl::Span<const TensorRef> out) {
  for (int i = 1; i < 3; ++i) {
    PMX_CHECK(in[i].dtype == in[0].dtype, kTypeError, "[%s] %s has dtype %s but data has %s", op,
              i == 1 ? "gamma" : "beta", DTypeName(in[i].dtype), DTypeName(in[0].dtype));
  }
  const bool add_out = context.modes[0] == WriteMode::kAdd;
  const bool add_mean = context.modes[1] == WriteMode::kAdd;
  const bool add_spread = context.modes[2] == WriteMode::kAdd;
  DispatchAllowed<DTypes::kFloat>(op, in[0].dtype, [&](auto tag) {
    using T = decltype(tag);
    using C = ComputeType<T>;
    const T* x = in[0].As<T>();
    const T* gamma = in[1].As<T>();
    const T* beta = in[2].As<T>();
    T* y = out[0].As<T>();
    T* mean_out = out[1].As<T>();
    T* spread_out = out[2].As<T>();
    const double count = static_cast<double>(view.size);
    cpu::ParallelFor(view.outer * view.inner, RowGrain(view.size), [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const int64_t base = (row / view.inner) * view.size * view.inner + row % view.inner;
        auto at = [&](int64_t j) { return static_cast<double>(static_cast<C>(x[base + j * view.inner])); };
        double sum = 0;
        for (int64_t j = 0; j < view.size; ++j) sum += at(j);
        const double mean = sum / count;
        double squares = 0;
        for (int64_t j = 0; j < view.size; ++j) squares += (at(j) - mean) * (at(j) - mean);
        const double variance = squares / count;
        const double inv_std = 1.0 / std::sqrt(variance + eps);
        for (int64_t j = 0; j < view.size; ++j) {
          const int64_t p = affine.per_position ? j : row % affine.groups;
          const double value = (at(j) - mean) * inv_std * static_cast<double>(static_cast<C>(gamma[p])) +
                               static_cast<double>(static_cast<C>(beta[p]));
          Store<T, C>(y + base + j * view.inner, static_cast<C>(value), add_out);
        }
        Store<T, C>(mean_out + row, static_cast<C>(mean), add_mean);
        const double spread = write_variance ? variance : std::sqrt(variance + eps);
        Store<T, C>(spread_out + row, static_cast<C>(spread), add_spread);
      }
    });
  });
}

// The gradient of out = (x - mean) / sqrt(var + eps) * gamma_b + beta_b, where mean and var are taken by
// `reduce` (a keep-dims sum) over groups of x; `mean_grad` and `std_grad` are head gradients of the exposed
// statistics (shaped like reduce's output), if any. Returns {dx, dgamma_b, dbeta_b}, the last two still in
// gamma_b's broadcast shape.
std::vector<Value> NormalizationGradient(GradientBuilder& b, Value x, Value g, Value gamma_b, double eps,
                                         const std::function<Value(Value)>& reduce,
                                         std::optional<Value> mean_grad = std::nullopt,
                                         std::optional<Value> std_grad = std::nullopt) {
  const Value count = reduce(b.Call1("ones_like", {x}));
  auto mean_of = [&](Value v) { return Div(b, reduce(v), count); };
  const Value centered = Sub(b, x, mean_of(x));
  const Value std_dev = b.Call1("sqrt", {WithScalar(b, "_plus_scalar", mean_of(Mul(b, centered, centered)), eps)});
  const Value xhat = Div(b, centered, std_dev);
  const Value gx = Mul(b, g, gamma_b);
  Value dx = Div(b, Sub(b, Sub(b, gx, mean_of(gx)), Mul(b, xhat, mean_of(Mul(b, gx, xhat)))), std_dev);
  // mean = sum(x) / n and std = sqrt(var + eps) have d/dx = 1/n and xhat/n. (MXNet 1.9.1 drops the head
  // gradients of the exposed mean and std; Polymix keeps the full derivative.)
  if (mean_grad) dx = Add(b, dx, Div(b, *mean_grad, count));
  if (std_grad) dx = Add(b, dx, Mul(b, *std_grad, Div(b, xhat, count)));
  const Value dgamma = b.Call1("_sum_to_like", {Mul(b, g, xhat), gamma_b});
  const Value dbeta = b.Call1("_sum_to_like", {g, gamma_b});
  return {dx, dgamma, dbeta};
}

// An op with inputs data, gamma, beta and outputs output, mean, std (or var).
OpDef NormDef(const std::string& name, const std::string& doc, const std::string& spread_name) {
  OpDef def;
  def.name = name;
  def.family = "nn/normalization";
  def.doc = doc;
  def.inputs = {"data", "gamma", "beta"};
  def.outputs = {"output", "mean", spread_name};
  def.num_visible_outputs = [](const OpParams&) { return 1; };
  def.infer_type = [name](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType(name.c_str(), DTypes::kFloat, in, out);
  };
  return def;
}

// LayerNorm and GroupNorm show their statistics only with output_mean_var.
int VisibleIfOutputMeanVar(const OpParams& params) { return params.Bool("output_mean_var") ? 3 : 1; }

PMX_REGISTER_OP(LayerNorm) {
  OpDef def = NormDef("LayerNorm",
                      "Layer normalization along `axis`: out = (x - mean) / sqrt(var + eps) * gamma + beta, with mean "
                      "and var over the axis and gamma, beta of the axis' size. With output_mean_var, also returns "
                      "the mean and std (= sqrt(var + eps)), shaped like data with the axis of size 1.",
                      "std");
  def.params = {{"axis", ParamType::kInt, "-1", false, false, {}, "The axis to normalize over."},
                {"eps", ParamType::kFloat, "1e-05", false, false, {}, "Added to the variance to avoid dividing by 0."},
                {"output_mean_var", ParamType::kBool, "False", false, false, {}, "Also output the mean and std."}};
  def.num_visible_outputs = VisibleIfOutputMeanVar;
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape& data = *(*in)[0];
    const int axis = NormalizeAxis(static_cast<int>(params.Int("axis")), data.ndim(), "LayerNorm");
    AssignInputShape("LayerNorm", "gamma", &(*in)[1], Shape({data[axis]}));
    AssignInputShape("LayerNorm", "beta", &(*in)[2], Shape({data[axis]}));
    (*out)[0] = data;
    (*out)[1] = (*out)[2] = WithDim(data, axis, 1);
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const int axis = NormalizeAxis(static_cast<int>(context.params->Int("axis")), in[0].shape.ndim(), "LayerNorm");
    NormalizeRows("LayerNorm", ViewAround(in[0].shape, axis), context.params->Float("eps"), {true, 1}, false,
                  context, in, out);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const int axis = static_cast<int>(args.params->Int("axis"));
    const Value x = args.inputs[0], gamma = args.inputs[1], beta = args.inputs[2];
    const bool stats = args.output_grads.size() == 3;
    const auto parts = NormalizationGradient(
        b, x, args.output_grads[0], AxisVector(b, gamma, x, axis), args.params->Float("eps"),
        [&](Value v) { return SumKeepDims(b, v, {axis}); },
        stats ? std::optional<Value>(args.output_grads[1]) : std::nullopt,
        stats ? std::optional<Value>(args.output_grads[2]) : std::nullopt);
    return {parts[0], ReshapeLike(b, parts[1], gamma), ReshapeLike(b, parts[2], beta)};
  };
  return def;
}

PMX_REGISTER_OP(InstanceNorm) {
  OpDef def = NormDef("InstanceNorm",
                      "Instance normalization: each channel of each sample, (N, C, ...), is normalized over its "
                      "spatial positions, out = (x - mean) / sqrt(var + eps) * gamma[c] + beta[c].",
                      "var");
  def.params = {{"eps", ParamType::kFloat, "0.001", false, false, {}, "Added to the variance to avoid dividing by 0."}};
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape& data = *(*in)[0];
    PMX_CHECK(data.ndim() >= 3, kValueError, "[InstanceNorm] data has shape %s, expected (N, C, ...) with at least "
              "3 dimensions", data.ToString());
    AssignInputShape("InstanceNorm", "gamma", &(*in)[1], Shape({data[1]}));
    AssignInputShape("InstanceNorm", "beta", &(*in)[2], Shape({data[1]}));
    (*out)[0] = data;
    (*out)[1] = (*out)[2] = Shape({data[0], data[1]});
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const Shape& data = in[0].shape;
    AxisView view;  // One contiguous row per (sample, channel).
    view.outer = data[0] * data[1];
    view.size = DimsProduct(data, 2, data.ndim());
    NormalizeRows("InstanceNorm", view, context.params->Float("eps"), {false, data[1]}, true, context, in, out);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const Value x = args.inputs[0], gamma = args.inputs[1], beta = args.inputs[2];
    const auto parts =
        NormalizationGradient(b, x, args.output_grads[0], AxisVector(b, gamma, x, 1), args.params->Float("eps"),
                              [&](Value v) { return SumKeepDims(b, v, {0, 1}, true); });
    return {parts[0], ReshapeLike(b, parts[1], gamma), ReshapeLike(b, parts[2], beta)};
  };
  return def;
}

PMX_REGISTER_OP(GroupNorm) {
  OpDef def = NormDef("GroupNorm",
                      "Group normalization: the channels of (N, C, ...) data are split into num_groups groups, each "
                      "normalized over its channels and positions; gamma and beta hold one value per group (MXNet "
                      "1.x). With output_mean_var, also returns the mean and std of shape (N, num_groups).",
                      "std");
  def.params = {{"num_groups", ParamType::kInt, "1", false, false, {}, "Total number of groups."},
                {"eps", ParamType::kFloat, "1e-05", false, false, {}, "Added to the variance to avoid dividing by 0."},
                {"output_mean_var", ParamType::kBool, "False", false, false, {}, "Also output the mean and std."}};
  def.num_visible_outputs = VisibleIfOutputMeanVar;
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape& data = *(*in)[0];
    const int64_t groups = params.Int("num_groups");
    PMX_CHECK(data.ndim() >= 3 && groups > 0 && data[1] % groups == 0, kValueError,
              "[GroupNorm] data has shape %s, expected (N, C, ...) with at least 3 dimensions and C divisible by "
              "num_groups=%d", data.ToString(), static_cast<int>(groups));
    AssignInputShape("GroupNorm", "gamma", &(*in)[1], Shape({groups}));
    AssignInputShape("GroupNorm", "beta", &(*in)[2], Shape({groups}));
    (*out)[0] = data;
    (*out)[1] = (*out)[2] = Shape({data[0], groups});
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const int64_t groups = context.params->Int("num_groups");
    AxisView view;  // One contiguous row per (sample, group).
    view.outer = in[0].shape[0] * groups;
    view.size = in[0].size() / std::max<int64_t>(view.outer, 1);
    NormalizeRows("GroupNorm", view, context.params->Float("eps"), {false, groups}, false, context, in, out);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const std::string groups = std::to_string(args.params->Int("num_groups"));
    const Value x = args.inputs[0], gamma = args.inputs[1], beta = args.inputs[2];
    // Normalize in the (N, G, C/G * ...) view, where each group is one row.
    auto grouped = [&](Value v) { return b.Call1("_nn_group_channels", {v}, {{"num_groups", groups}}); };
    const Value x3 = grouped(x);
    auto reduce = [&](Value v) { return SumKeepDims(b, v, {2}); };
    std::optional<Value> mean_grad, std_grad;
    if (args.output_grads.size() == 3) {
      const Value like = reduce(x3);  // (N, G, 1).
      mean_grad = ReshapeLike(b, args.output_grads[1], like);
      std_grad = ReshapeLike(b, args.output_grads[2], like);
    }
    const auto parts = NormalizationGradient(b, x3, grouped(args.output_grads[0]), AxisVector(b, gamma, x3, 1),
                                             args.params->Float("eps"), reduce, mean_grad, std_grad);
    return {ReshapeLike(b, parts[0], x), ReshapeLike(b, parts[1], gamma), ReshapeLike(b, parts[2], beta)};
  };
  return def;
}

// ---- L2Normalization ------------------------------------------------------------------------------------

// The rows L2Normalization normalizes for `mode`, and the shape of its norm output.
AxisView L2View(const std::string& mode, const Shape& data) {
  AxisView view;
  if (mode == "instance") {
    view.outer = data[0];
    view.size = data.size() / std::max<int64_t>(data[0], 1);
  } else if (mode == "channel") {
    view = ViewAround(data, 1);
  } else {
    view.outer = data[0] * data[1];
    view.size = DimsProduct(data, 2, data.ndim());
  }
  return view;
}

PMX_REGISTER_OP(L2Normalization) {
  OpDef def;
  def.name = "L2Normalization";
  def.family = "nn/normalization";
  def.doc = "Divides data by its L2 norm sqrt(sum(x^2) + eps), taken per sample over all other dimensions (mode "
            "instance), over the channel axis 1 at each position (channel), or over the spatial positions of each "
            "channel (spatial).";
  def.inputs = {"data"};
  def.outputs = {"output", "norm"};
  def.num_visible_outputs = [](const OpParams&) { return 1; };
  def.params = {{"eps", ParamType::kFloat, "1e-10", false, false, {}, "Added to the sum of squares for stability."},
                {"mode", ParamType::kEnum, "instance", false, false, {"channel", "instance", "spatial"},
                 "The dimensions the norm is taken over."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape& data = *(*in)[0];
    const std::string& mode = params.Str("mode");
    PMX_CHECK(data.ndim() >= (mode == "instance" ? 1 : 3), kValueError,
              "[L2Normalization] data has shape %s: mode %s needs at least %d dimensions", data.ToString(), mode,
              mode == "instance" ? 1 : 3);
    (*out)[0] = data;
    (*out)[1] = mode == "instance" ? Shape({data[0]})
                : mode == "channel"  ? WithDim(data, 1, 1)
                                     : Shape({data[0], data[1]});
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType("L2Normalization", DTypes::kFloat, in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const AxisView view = L2View(context.params->Str("mode"), in[0].shape);
    const double eps = context.params->Float("eps");
    const bool add_out = context.modes[0] == WriteMode::kAdd, add_norm = context.modes[1] == WriteMode::kAdd;
    DispatchAllowed<DTypes::kFloat>("L2Normalization", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const T* x = in[0].As<T>();
      T* y = out[0].As<T>();
      T* norm_out = out[1].As<T>();
      cpu::ParallelFor(view.outer * view.inner, RowGrain(view.size), [&](int64_t begin, int64_t end) {
        for (int64_t row = begin; row < end; ++row) {
          const int64_t base = (row / view.inner) * view.size * view.inner + row % view.inner;
          double squares = 0;
          for (int64_t j = 0; j < view.size; ++j) {
            const double v = static_cast<double>(static_cast<C>(x[base + j * view.inner]));
            squares += v * v;
          }
          const double norm = std::sqrt(squares + eps);
          for (int64_t j = 0; j < view.size; ++j) {
            const int64_t i = base + j * view.inner;
            Store<T, C>(y + i, static_cast<C>(static_cast<double>(static_cast<C>(x[i])) / norm), add_out);
          }
          Store<T, C>(norm_out + row, static_cast<C>(norm), add_norm);
        }
      });
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const std::string& mode = args.params->Str("mode");
    const Value x = args.inputs[0], g = args.output_grads[0];
    auto reduce = [&](Value v) {
      if (mode == "instance") return SumKeepDims(b, v, {0}, true);
      if (mode == "channel") return SumKeepDims(b, v, {1});
      return SumKeepDims(b, v, {0, 1}, true);
    };
    // y = x / s with s = sqrt(sum(x^2) + eps): dx = (g - y * sum(g * y)) / s.
    const Value squares = reduce(Mul(b, x, x));
    const Value norm = b.Call1("sqrt", {WithScalar(b, "_plus_scalar", squares, args.params->Float("eps"))});
    const Value y = Div(b, x, norm);
    return {Div(b, Sub(b, g, Mul(b, y, reduce(Mul(b, g, y)))), norm)};
  };
  return def;
}

}  // namespace
}  // namespace nn
}  // namespace ops
}  // namespace pmx
