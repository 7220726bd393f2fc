// BatchNorm (training and inference, any channel axis, running statistics as auxiliary inputs updated in
// training mode) and its gradient helper _batch_norm_backward; oneDNN's batch normalization for float32.
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "core/backend/cpu/dnnl_pool_norm.h"
#include "core/ops/nn/layers_common.h"

namespace pmx {
namespace ops {
namespace nn {
namespace {

// Note [BatchNorm outputs and modes]
// Outputs are (output, mean, var, train_mode). As in MXNet, `var` holds the inverse standard deviation
// 1 / sqrt(variance + eps), and mean/var are the batch statistics in training mode and the running ones
// otherwise (output_mean_var shows them). The hidden train_mode (1 or 0) records which formula the forward
// used, because the gradient, composed before it runs and without a mode of its own, must match it: the
// batch-statistics gradient in training mode, the constant-statistics one otherwise (MXNet decides the same
// way). Training-mode forward also updates moving_mean and moving_var in place (MXNet's oneDNN path does it
// in backward; Polymix gradients cannot update state, see Note [KL sparseness moving average]), with the
// biased batch variance. fix_gamma treats gamma as 1 and gives it a zero gradient; unlike MXNet it does not
// overwrite the gamma array.

constexpr char kHelper[] = "_batch_norm_backward";

std::vector<ParamDef> BatchNormParams() {
  return {{"eps", ParamType::kFloat, "0.001", false, false, {}, "Added to the variance to avoid dividing by 0."},
          {"momentum", ParamType::kFloat, "0.9", false, false, {}, "Momentum of the moving averages."},
          {"fix_gamma", ParamType::kBool, "True", false, false, {}, "Treat gamma as 1 (and its gradient as 0)."},
          {"use_global_stats", ParamType::kBool, "False", false, false, {},
           "Normalize with the moving statistics even in training mode."},
          {"output_mean_var", ParamType::kBool, "False", false, false, {}, "Also output the mean and inverse std."},
          {"axis", ParamType::kInt, "1", false, false, {}, "The channel axis."},
          {"cudnn_off", ParamType::kBool, "False", false, false, {}, "Turn off cuDNN (accepted; unused)."},
          {"min_calib_range", ParamType::kFloat, "None", false, true, {}, "Quantization calibration (accepted)."},
          {"max_calib_range", ParamType::kFloat, "None", false, true, {}, "Quantization calibration (accepted)."}};
}

// The dtype of gamma, beta and the statistics for data of `dtype`: float32 for the 16-bit floats (MXNet).
DType ParamDType(DType dtype) { return dtype == DType::kFloat64 ? DType::kFloat64 : DType::kFloat32; }

bool InferBatchNormType(const char* op, int params_from, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out,
                        int data_outputs) {
  if (!(*in)[0]) return false;
  const DType data = *(*in)[0];
  PMX_CHECK(IsFloatingPoint(data), kTypeError, "[%s] data has dtype %s, expected a floating-point dtype", op,
            DTypeName(data));
  const DType param = ParamDType(data);
  for (size_t i = 1; i < in->size(); ++i) {
    const DType want = static_cast<int>(i) >= params_from ? param : data;
    if (!(*in)[i]) (*in)[i] = want;
    PMX_CHECK(*(*in)[i] == want, kTypeError, "[%s] input %d has dtype %s, expected %s for %s data", op,
              static_cast<int>(i), DTypeName(*(*in)[i]), DTypeName(want), DTypeName(data));
  }
  for (size_t i = 0; i < out->size(); ++i) (*out)[i] = static_cast<int>(i) < data_outputs ? data : param;
  return true;
}

// Per-channel statistics used by the reference loops, in double.
struct ChannelStats {
  std::vector<double> mean, invstd;
};

template <typename T>
ChannelStats BatchStats(const AxisView& view, const T* x, double eps) {
  using C = ComputeType<T>;
  ChannelStats stats;
  stats.mean.assign(view.size, 0.0);
  stats.invstd.assign(view.size, 0.0);
  const double count = static_cast<double>(view.outer * view.inner);
  cpu::ParallelFor(view.size, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      double sum = 0, squares = 0;
      for (int64_t o = 0; o < view.outer; ++o) {
        const T* row = x + (o * view.size + c) * view.inner;
        for (int64_t i = 0; i < view.inner; ++i) sum += static_cast<double>(static_cast<C>(row[i]));
      }
      const double mean = count > 0 ? sum / count : 0.0;
      for (int64_t o = 0; o < view.outer; ++o) {
        const T* row = x + (o * view.size + c) * view.inner;
        for (int64_t i = 0; i < view.inner; ++i) {
          const double d = static_cast<double>(static_cast<C>(row[i])) - mean;
          squares += d * d;
        }
      }
      stats.mean[c] = mean;
      stats.invstd[c] = 1.0 / std::sqrt((count > 0 ? squares / count : 0.0) + eps);
    }
  });
  return stats;
}

template <typename T, typename P>
void ReferenceForward(const KernelContext& context, const AxisView& view, bool training, absl::Span<const TensorRef> in,
                      absl::Span<const TensorRef> out) {
  using C = ComputeType<T>;
  const double eps = context.params->Float("eps"), momentum = context.params->Float("momentum");
  const bool fix_gamma = context.params->Bool("fix_gamma");
  const T* x = in[0].As<T>();
  const P *gamma = in[1].As<P>(), *beta = in[2].As<P>();
  P *moving_mean = in[3].As<P>(), *moving_var = in[4].As<P>();
  ChannelStats stats;
  if (training) {
    stats = BatchStats(view, x, eps);
    for (int64_t c = 0; c < view.size; ++c) {
      const double variance = 1.0 / (stats.invstd[c] * stats.invstd[c]) - eps;
      moving_mean[c] = static_cast<P>(moving_mean[c] * momentum + stats.mean[c] * (1 - momentum));
      moving_var[c] = static_cast<P>(moving_var[c] * momentum + variance * (1 - momentum));
    }
  } else {
    for (int64_t c = 0; c < view.size; ++c) {
      stats.mean.push_back(moving_mean[c]);
      stats.invstd.push_back(1.0 / std::sqrt(static_cast<double>(moving_var[c]) + eps));
    }
  }
  T* y = out[0].As<T>();
  const bool add = context.modes[0] == WriteMode::kAdd;
  cpu::ParallelFor(view.outer * view.size, RowGrain(view.inner), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t c = row % view.size;
      const double scale = (fix_gamma ? 1.0 : static_cast<double>(gamma[c])) * stats.invstd[c];
      const double shift = static_cast<double>(beta[c]) - stats.mean[c] * scale;
      for (int64_t i = 0; i < view.inner; ++i) {
        const int64_t index = row * view.inner + i;
        Store<T, C>(y + index, static_cast<C>(static_cast<double>(static_cast<C>(x[index])) * scale + shift), add);
      }
    }
  });
  P *mean_out = out[1].As<P>(), *var_out = out[2].As<P>();
  for (int64_t c = 0; c < view.size; ++c) {
    Store<P, P>(mean_out + c, static_cast<P>(stats.mean[c]), context.modes[1] == WriteMode::kAdd);
    Store<P, P>(var_out + c, static_cast<P>(stats.invstd[c]), context.modes[2] == WriteMode::kAdd);
  }
}

// Float32 data and statistics with plain writes: oneDNN's batch normalization.
void DnnlForward(const KernelContext& context, const AxisView& view, bool training, absl::Span<const TensorRef> in,
                 absl::Span<const TensorRef> out) {
  const double eps = context.params->Float("eps");
  const float momentum = static_cast<float>(context.params->Float("momentum"));
  cpu::BatchNormProblem problem;
  problem.outer = view.outer;
  problem.channels = view.size;
  problem.inner = view.inner;
  problem.eps = static_cast<float>(eps);
  problem.global_stats = !training;
  problem.use_scale = !context.params->Bool("fix_gamma");
  float *moving_mean = in[3].As<float>(), *moving_var = in[4].As<float>();
  float *mean = out[1].As<float>(), *var = out[2].As<float>();
  if (training) {
    cpu::DnnlBatchNormForward(problem, in[0].As<float>(), in[1].As<float>(), in[2].As<float>(), mean, var,
                              out[0].As<float>());
    for (int64_t c = 0; c < view.size; ++c) {
      moving_mean[c] = moving_mean[c] * momentum + mean[c] * (1 - momentum);
      moving_var[c] = moving_var[c] * momentum + var[c] * (1 - momentum);
      var[c] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(var[c]) + eps));
    }
    return;
  }
  cpu::DnnlBatchNormForward(problem, in[0].As<float>(), in[1].As<float>(), in[2].As<float>(), moving_mean, moving_var,
                            out[0].As<float>());
  for (int64_t c = 0; c < view.size; ++c) {
    mean[c] = moving_mean[c];
    var[c] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(moving_var[c]) + eps));
  }
}

template <typename T, typename P>
void ReferenceBackward(const KernelContext& context, const AxisView& view, bool training,
                       absl::Span<const TensorRef> in, absl::Span<const TensorRef> out) {
  using C = ComputeType<T>;
  const bool fix_gamma = context.params->Bool("fix_gamma");
  const T *g = in[0].As<T>(), *x = in[1].As<T>();
  const P *gamma = in[2].As<P>(), *mean = in[3].As<P>(), *invstd = in[4].As<P>();
  T* dx = out[0].As<T>();
  P *dgamma = out[1].As<P>(), *dbeta = out[2].As<P>();
  const double count = static_cast<double>(view.outer * view.inner);
  auto at = [](const T* p, int64_t i) { return static_cast<double>(static_cast<C>(p[i])); };
  cpu::ParallelFor(view.size, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      const double m = mean[c], s = invstd[c], w = fix_gamma ? 1.0 : static_cast<double>(gamma[c]);
      double sum_g = 0, dot = 0;
      for (int64_t o = 0; o < view.outer; ++o) {
        const int64_t base = (o * view.size + c) * view.inner;
        for (int64_t i = 0; i < view.inner; ++i) {
          sum_g += at(g, base + i);
          dot += (at(x, base + i) - m) * at(g, base + i);
        }
      }
      const double mean_g = count > 0 ? sum_g / count : 0.0, projection = count > 0 ? dot * s * s / count : 0.0;
      for (int64_t o = 0; o < view.outer; ++o) {
        const int64_t base = (o * view.size + c) * view.inner;
        for (int64_t i = 0; i < view.inner; ++i) {
          const double value = training ? (at(g, base + i) - mean_g - (at(x, base + i) - m) * projection) * w * s
                                        : at(g, base + i) * w * s;
          Store<T, C>(dx + base + i, static_cast<C>(value), context.modes[0] == WriteMode::kAdd);
        }
      }
      Store<P, P>(dgamma + c, static_cast<P>(fix_gamma ? 0.0 : dot * s), context.modes[1] == WriteMode::kAdd);
      Store<P, P>(dbeta + c, static_cast<P>(sum_g), context.modes[2] == WriteMode::kAdd);
    }
  });
}

void DnnlBackward(const KernelContext& context, const AxisView& view, bool training, absl::Span<const TensorRef> in,
                  absl::Span<const TensorRef> out) {
  const double eps = context.params->Float("eps");
  cpu::BatchNormProblem problem;
  problem.outer = view.outer;
  problem.channels = view.size;
  problem.inner = view.inner;
  problem.eps = static_cast<float>(eps);
  problem.global_stats = !training;
  problem.use_scale = !context.params->Bool("fix_gamma");
  const float* invstd = in[4].As<float>();
  std::vector<float> variance(view.size);
  for (int64_t c = 0; c < view.size; ++c) {
    variance[c] = static_cast<float>(1.0 / (static_cast<double>(invstd[c]) * invstd[c]) - eps);
  }
  cpu::DnnlBatchNormBackward(problem, in[1].As<float>(), in[0].As<float>(), in[2].As<float>(), in[3].As<float>(),
                             variance.data(), out[0].As<float>(), out[1].As<float>(), out[2].As<float>());
  if (!problem.use_scale) std::fill(out[1].As<float>(), out[1].As<float>() + view.size, 0.0f);
}

bool AllWrites(const KernelContext& context) {
  for (WriteMode mode : context.modes) {
    if (mode == WriteMode::kAdd) return false;
  }
  return true;
}

PMX_REGISTER_OP(BatchNorm) {
  OpDef def;
  def.name = "BatchNorm";
  def.aliases = {"CuDNNBatchNorm"};  // MXNet's cuDNN-only name for the same op and parameters.
  def.family = "nn/batch_norm";
  def.doc = "Batch normalization over the channel `axis`: out = (x - mean) / sqrt(var + eps) * gamma + beta, with "
            "the batch mean and variance in training mode (which also updates moving_mean and moving_var with "
            "`momentum`) and the moving statistics otherwise or with use_global_stats. fix_gamma uses gamma = 1. "
            "With output_mean_var, also returns the mean and the inverse standard deviation used.";
  def.inputs = {"data", "gamma", "beta", "moving_mean", "moving_var"};
  def.auxiliary_inputs = {3, 4};
  def.mutated_inputs = {3, 4};
  def.outputs = {"output", "mean", "var", "train_mode"};
  def.num_visible_outputs = [](const OpParams& params) { return params.Bool("output_mean_var") ? 3 : 1; };
  def.params = BatchNormParams();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape& data = *(*in)[0];
    PMX_CHECK(data.ndim() >= 1, kValueError, "[BatchNorm] data is a scalar: expected at least 1 dimension");
    const int axis = NormalizeAxis(static_cast<int>(params.Int("axis")), data.ndim(), "BatchNorm");
    const Shape channel({data[axis]});
    const char* names[] = {"gamma", "beta", "moving_mean", "moving_var"};
    for (int i = 1; i < 5; ++i) AssignInputShape("BatchNorm", names[i - 1], &(*in)[i], channel);
    (*out)[0] = data;
    (*out)[1] = (*out)[2] = channel;
    (*out)[3] = Shape({1});
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferBatchNormType("BatchNorm", 1, in, out, 1);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const int axis = NormalizeAxis(static_cast<int>(context.params->Int("axis")), in[0].shape.ndim(), "BatchNorm");
    const AxisView view = ViewAround(in[0].shape, axis);
    const bool training = context.is_train && !context.params->Bool("use_global_stats");
    if (in[0].dtype == DType::kFloat32 && AllWrites(context) && in[0].size() > 0) {
      DnnlForward(context, view, training, in, out);
    } else {
      DispatchAllowed<DTypes::kFloat>("BatchNorm", in[0].dtype, [&](auto tag) {
        using T = decltype(tag);
        using P = std::conditional_t<std::is_same_v<T, double>, double, float>;
        ReferenceForward<T, P>(context, view, training, in, out);
      });
    }
    DispatchAllowed<DTypes::kFloat>("BatchNorm", out[3].dtype, [&](auto tag) {
      using P = decltype(tag);
      *out[3].As<P>() = static_cast<P>(training ? 1.0f : 0.0f);
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const Value x = args.inputs[0], gamma = args.inputs[1];
    const Value mean = args.outputs[1], invstd = args.outputs[2], train_mode = args.outputs[3];
    std::vector<Value> parts =
        b.Call(kHelper, {args.output_grads[0], x, gamma, mean, invstd, train_mode}, args.params->ToStrings());
    Value dx = parts[0];
    if (args.output_grads.size() == 3) {
      // Training mode exposes batch statistics: d mean / dx = 1 / n, d invstd / dx = -invstd^3 (x - mean) / n.
      // In inference mode they do not depend on x; train_mode (0 or 1) switches the term off or on.
      const int axis = static_cast<int>(args.params->Int("axis"));
      const Value count = SumKeepDims(b, b.Call1("ones_like", {x}), {axis}, true);
      const Value s = AxisVector(b, invstd, x, axis);
      const Value centered = Sub(b, x, AxisVector(b, mean, x, axis));
      const Value from_std = Mul(b, Mul(b, AxisVector(b, args.output_grads[2], x, axis), Mul(b, s, Mul(b, s, s))),
                                 centered);
      const Value extra = Div(b, Sub(b, AxisVector(b, args.output_grads[1], x, axis), from_std), count);
      dx = Add(b, dx, Mul(b, extra, train_mode));
    }
    return {dx, parts[1], parts[2], std::nullopt, std::nullopt};
  };
  return def;
}

PMX_REGISTER_OP(_batch_norm_backward) {
  OpDef def;
  def.name = kHelper;
  def.family = "nn/batch_norm";
  def.doc = "The gradient of BatchNorm's output with respect to data, gamma and beta, from out_grad, the data, "
            "gamma, the mean and inverse std BatchNorm used and its train_mode output (Note [BatchNorm outputs "
            "and modes]). Takes BatchNorm's parameters. Not differentiable (Note [Helper gradients]).";
  def.inputs = {"out_grad", "data", "gamma", "mean", "invstd", "train_mode"};
  def.outputs = {"data_grad", "gamma_grad", "beta_grad"};
  def.params = BatchNormParams();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[1]) return false;
    const Shape& data = *(*in)[1];
    const int axis = NormalizeAxis(static_cast<int>(params.Int("axis")), data.ndim(), kHelper);
    const Shape channel({data[axis]});
    AssignInputShape(kHelper, "out_grad", &(*in)[0], data);
    AssignInputShape(kHelper, "gamma", &(*in)[2], channel);
    AssignInputShape(kHelper, "mean", &(*in)[3], channel);
    AssignInputShape(kHelper, "invstd", &(*in)[4], channel);
    AssignInputShape(kHelper, "train_mode", &(*in)[5], Shape({1}));
    (*out)[0] = data;
    (*out)[1] = (*out)[2] = channel;
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    // out_grad and data share the data dtype; gamma, the statistics and train_mode have the parameter dtype.
    std::vector<MaybeDType> shifted(in->begin() + 1, in->end());
    if (!(*in)[0] && (*in)[1]) (*in)[0] = (*in)[1];
    if (!InferBatchNormType(kHelper, 1, &shifted, out, 1)) return false;
    std::copy(shifted.begin(), shifted.end(), in->begin() + 1);
    PMX_CHECK(*(*in)[0] == *(*in)[1], kTypeError, "[%s] out_grad has dtype %s but data has %s", kHelper,
              DTypeName(*(*in)[0]), DTypeName(*(*in)[1]));
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const int axis = NormalizeAxis(static_cast<int>(context.params->Int("axis")), in[1].shape.ndim(), kHelper);
    const AxisView view = ViewAround(in[1].shape, axis);
    bool training = false;
    DispatchAllowed<DTypes::kFloat>(kHelper, in[5].dtype, [&](auto tag) {
      using P = decltype(tag);
      training = static_cast<float>(*in[5].As<P>()) != 0.0f;
    });
    if (in[1].dtype == DType::kFloat32 && AllWrites(context) && in[1].size() > 0) {
      DnnlBackward(context, view, training, in, out);
      return;
    }
    DispatchAllowed<DTypes::kFloat>(kHelper, in[1].dtype, [&](auto tag) {
      using T = decltype(tag);
      using P = std::conditional_t<std::is_same_v<T, double>, double, float>;
      ReferenceBackward<T, P>(context, view, training, in, out);
    });
  };
  return def;
}

}  // namespace
}  // namespace nn
}  // namespace ops
}  // namespace pmx
