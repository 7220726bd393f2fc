// Softmax layers: softmax, log_softmax and softmin along an axis (with temperature, an output dtype and
// an optional length mask), the legacy SoftmaxActivation, and the _nn_length_mask helper.
#include <cmath>

#include "core/ops/nn/softmax.h"

namespace pmx {
namespace ops {
namespace nn {

void SoftmaxRows(const char* op, SoftmaxKind kind, const AxisView& view, double temperature,
                 const KernelContext& context, const TensorRef& in, const TensorRef* length, const TensorRef& out) {
  const bool add = context.modes[0] == WriteMode::kAdd;
  const bool negate = kind == SoftmaxKind::kSoftmin;
  DispatchAllowed<DTypes::kFloat>(op, in.dtype, [&](auto in_tag) {
    using T = decltype(in_tag);
    DispatchAllowed<DTypes::kFloat>(op, out.dtype, [&](auto out_tag) {
      using O = decltype(out_tag);
      // Accumulate in double when either side is double, else in float (as MXNet's AType).
      using A = std::conditional_t<std::is_same_v<T, double> || std::is_same_v<O, double>, double, float>;
      const T* x = in.As<T>();
      O* y = out.As<O>();
      std::vector<int64_t> lengths;
      if (length != nullptr) {
        lengths.resize(length->size());
        DispatchAllowed<DTypes::kNumeric>(op, length->dtype, [&](auto length_tag) {
          using L = decltype(length_tag);
          for (size_t r = 0; r < lengths.size(); ++r) {
            lengths[r] = std::clamp<int64_t>(static_cast<int64_t>(length->As<L>()[r]), 0, view.size);
          }
        });
      }
      const A t = static_cast<A>(temperature);
      cpu::ParallelFor(view.outer * view.inner, RowGrain(view.size), [&](int64_t begin, int64_t end) {
        for (int64_t row = begin; row < end; ++row) {
          const int64_t base = (row / view.inner) * view.size * view.inner + row % view.inner;
          const int64_t len = length != nullptr ? lengths[row] : view.size;
          auto value = [&](int64_t j) {
            const A v = static_cast<A>(static_cast<ComputeType<T>>(x[base + j * view.inner]));
            return negate ? -v : v;
          };
          A max = len > 0 ? value(0) : A(0);
          for (int64_t j = 1; j < len; ++j) max = std::max(max, value(j));
          A sum = 0;
          for (int64_t j = 0; j < len; ++j) sum += std::exp((value(j) - max) / t);
          const A log_sum = std::log(sum);
          for (int64_t j = 0; j < view.size; ++j) {
            A result = 0;
            if (j < len) {
              const A shifted = (value(j) - max) / t;
              result = kind == SoftmaxKind::kLogSoftmax ? shifted - log_sum : std::exp(shifted) / sum;
            }
            Store<O, ComputeType<O>>(y + base + j * view.inner, static_cast<ComputeType<O>>(result), add);
          }
        }
      });
    });
  });
}

namespace {

// Whether the optional boolean parameter `name` is set (None counts as false).
bool FlagSet(const OpParams& params, const char* name) { return !params.IsNone(name) && params.Bool(name); }

// softmax, log_softmax and softmin share parameters, shapes and most of the gradient.
OpDef SoftmaxDef(const std::string& name, SoftmaxKind kind, const std::string& doc) {
  OpDef def;
  def.name = name;
  def.family = "nn/softmax";
  def.doc = doc;
  def.inputs = {"data", "length"};
  def.num_inputs = [](const OpParams& params) { return FlagSet(params, "use_length") ? 2 : 1; };
  def.params = {
      {"axis", ParamType::kInt, "-1", false, false, {}, "The axis along which to compute."},
      {"temperature", ParamType::kFloat, "None", false, true, {},
       "Temperature t: the function sees x / t (default 1)."},
      {"dtype", ParamType::kDType, "None", false, true, {},
       "Output dtype (float16, float32 or float64); default: the input's dtype."},
      {"use_length", ParamType::kBool, "False", false, true, {},
       "Whether the `length` input limits each row (positions past it are 0)."}};
  def.infer_shape = [name](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape& data = *(*in)[0];
    const int axis = NormalizeAxis(static_cast<int>(params.Int("axis")), data.ndim(), name.c_str());
    if (in->size() > 1) AssignInputShape(name.c_str(), "length", &(*in)[1], WithoutAxis(data, axis));
    (*out)[0] = data;
    return true;
  };
  def.infer_type = [name](const OpParams& params, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0]) return false;
    CheckFloat(name.c_str(), "data", *(*in)[0]);
    const DType out_dtype = params.IsNone("dtype") ? *(*in)[0] : params.Type("dtype");
    CheckFloat(name.c_str(), "the dtype parameter", out_dtype);
    (*out)[0] = out_dtype;
    return true;
  };
  def.kernels[DeviceType::kCPU] = [name, kind](const KernelContext& context, absl::Span<const TensorRef> in,
                                               absl::Span<const TensorRef> out) {
    const OpParams& params = *context.params;
    const int axis = NormalizeAxis(static_cast<int>(params.Int("axis")), in[0].shape.ndim(), name.c_str());
    const double temperature = params.IsNone("temperature") ? 1.0 : params.Float("temperature");
    SoftmaxRows(name.c_str(), kind, ViewAround(in[0].shape, axis), temperature, context, in[0],
                in.size() > 1 ? &in[1] : nullptr, out[0]);
  };
  def.gradient = [kind](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const OpParams& params = *args.params;
    const std::vector<int> axes = {static_cast<int>(params.Int("axis"))};
    const double temperature = params.IsNone("temperature") ? 1.0 : params.Float("temperature");
    const bool use_length = args.inputs.size() > 1;
    const Value y = args.outputs[0];
    Value g = args.output_grads[0];
    Value dx;
    if (kind == SoftmaxKind::kLogSoftmax) {
      // d/dx = g - softmax * sum(g); with a length, both sum and result cover only the valid positions.
      Value mask = 0;
      if (use_length) {
        mask = b.Call1("_nn_length_mask", {y, args.inputs[1]}, {{"axis", std::to_string(axes[0])}});
        g = Mul(b, g, mask);
      }
      dx = Sub(b, g, Mul(b, b.Call1("exp", {y}), SumKeepDims(b, g, axes)));
      if (use_length) dx = Mul(b, dx, mask);
    } else {
      // d/dx = y * (g - sum(g * y)); y is 0 past a length, which masks both terms.
      dx = Mul(b, y, Sub(b, g, SumKeepDims(b, Mul(b, g, y), axes)));
      if (kind == SoftmaxKind::kSoftmin) dx = b.Call1("negative", {dx});
    }
    if (temperature != 1.0) dx = WithScalar(b, "_mul_scalar", dx, 1.0 / temperature);
    if (!params.IsNone("dtype")) dx = b.Call1("_nn_cast_like", {dx, args.inputs[0]});
    Grads grads = {dx};
    if (use_length) grads.push_back(std::nullopt);
    return grads;
  };
  return def;
}

PMX_REGISTER_OP(softmax) {
  return SoftmaxDef("softmax", SoftmaxKind::kSoftmax,
                    "Softmax along `axis`: exp(x/t) / sum(exp(x/t)); the results along the axis are in (0, 1) and "
                    "sum to 1. With use_length, only the first length[i] positions of each row take part.");
}

PMX_REGISTER_OP(log_softmax) {
  return SoftmaxDef("log_softmax", SoftmaxKind::kLogSoftmax,
                    "Log of softmax along `axis`: x/t - log(sum(exp(x/t))), computed stably. With use_length, only "
                    "the first length[i] positions of each row take part and the rest are 0 (a Polymix "
                    "extension: MXNet 1.9.1 takes a length input for softmax only).");
}

PMX_REGISTER_OP(softmin) {
  return SoftmaxDef("softmin", SoftmaxKind::kSoftmin,
                    "Softmin along `axis`: softmax of -x, so the smallest values get the largest weights. With "
                    "use_length, only the first length[i] positions of each row take part (a Polymix extension: "
                    "MXNet 1.9.1 takes a length input for softmax only).");
}

PMX_REGISTER_OP(SoftmaxActivation) {
  OpDef def = UnaryOpDef(
      "SoftmaxActivation", "nn/softmax",
      "Legacy softmax: mode 'instance' normalizes over the last axis (each instance of 2-D (batch, classes) data), "
      "mode 'channel' over axis 1 at every position.",
      DTypes::kFloat, nullptr, nullptr);
  def.params = {{"mode", ParamType::kEnum, "instance", false, false, {"channel", "instance"},
                 "instance: softmax over the last axis; channel: softmax over axis 1."}};
  def.inplace = {};
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const Shape& shape = in[0].shape;
    AxisView view;
    if (context.params->Str("mode") == "channel") {
      PMX_CHECK(shape.ndim() >= 2, kValueError, "[SoftmaxActivation] channel mode needs data with at least 2 "
                "dimensions, given %s", shape.ToString());
      view = ViewAround(shape, 1);
    } else {  // As MXNet, which flattens the data to (everything but the last axis, the last axis).
      view = ViewAround(shape, std::max(shape.ndim() - 1, 0));
    }
    SoftmaxRows("SoftmaxActivation", SoftmaxKind::kSoftmax, view, 1.0, context, in[0], nullptr, out[0]);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const bool channel = args.params->Str("mode") == "channel";
    const Value y = args.outputs[0], g = args.output_grads[0];
    // The softmax gradient along the axis the forward used. (MXNet 1.9.1 always sums over axis 1, which
    // agrees for the usual 2-D instance input but not for instance mode on more dimensions.)
    const Value sum = SumKeepDims(b, Mul(b, g, y), {channel ? 1 : -1});
    return {Mul(b, y, Sub(b, g, sum))};
  };
  return def;
}

PMX_REGISTER_OP(_nn_length_mask) {
  OpDef def;
  def.name = "_nn_length_mask";
  def.family = "nn/softmax";
  def.doc = "1 where the position along `axis` is below `length` (one entry per row), else 0, in data's shape and "
            "dtype (gradient helper for masked softmax).";
  def.inputs = {"data", "length"};
  def.params = {{"axis", ParamType::kInt, "-1", false, false, {}, "The axis the lengths run along."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape& data = *(*in)[0];
    const int axis = NormalizeAxis(static_cast<int>(params.Int("axis")), data.ndim(), "_nn_length_mask");
    AssignInputShape("_nn_length_mask", "length", &(*in)[1], WithoutAxis(data, axis));
    (*out)[0] = data;
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0]) return false;
    (*out)[0] = (*in)[0];
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const int axis =
        NormalizeAxis(static_cast<int>(context.params->Int("axis")), in[0].shape.ndim(), "_nn_length_mask");
    const AxisView view = ViewAround(in[0].shape, axis);
    const bool add = context.modes[0] == WriteMode::kAdd;
    DispatchAllowed<DTypes::kNumeric>("_nn_length_mask", in[1].dtype, [&](auto length_tag) {
      using L = decltype(length_tag);
      const L* length = in[1].As<L>();
      DispatchAllowed<DTypes::kNumeric>("_nn_length_mask", out[0].dtype, [&](auto tag) {
        using T = decltype(tag);
        using C = ComputeType<T>;
        T* y = out[0].As<T>();
        cpu::ParallelFor(out[0].size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) {
            const int64_t row = (i / (view.size * view.inner)) * view.inner + i % view.inner;
            const int64_t j = (i / view.inner) % view.size;
            Store<T, C>(y + i, static_cast<C>(j < static_cast<int64_t>(length[row]) ? 1 : 0), add);
          }
        });
      });
    });
  };
  return def;
}

}  // namespace
}  // namespace nn
}  // namespace ops
}  // namespace pmx
