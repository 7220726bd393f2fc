// Optimizer update operators on one weight: SGD (+momentum, Nesterov, multi-precision), Adam, AdamW,
// RMSProp, RMSPropAlex, FTRL, FTML, signSGD, Signum, AdaGrad and the two LAMB phases. Multi-tensor updates
// and reset_arrays are in optimizer_multi.cc. See Note [Optimizer update operators].
#include <cmath>
#include <string>
#include <vector>

#include "core/ops/internal/optimizer_update.h"

namespace pmx {
namespace ops {
namespace {

// Registers an update op whose kernel runs `rule` per element (see UpdateElements).
template <bool kMixed, bool kFloat32Output = false, typename Rule>
void RegisterUpdate(const std::string& name, const std::string& doc, std::vector<std::string> inputs,
                    std::vector<int> mutated, std::vector<ParamDef> params, Rule rule, UpdateLayout layout = {},
                    std::vector<std::string> aliases = {}) {
  layout.mixed_precision = kMixed;
  layout.float32_output = kFloat32Output;
  Kernel kernel = UpdateKernel<kMixed, kFloat32Output>(name, params, mutated, layout, rule);
  OpDef def = UpdateOpDef(name, doc, std::move(inputs), std::move(mutated), std::move(params), layout,
                          std::move(kernel));
  def.aliases = std::move(aliases);
  OpRegistry::Get()->Register(std::move(def));
}

// The rescaled gradient, clipped when clip_gradient >= 0.
template <typename H, typename C>
C Scaled(const H& h, C g) {
  return ClipIf<C>(h.rescale_grad * g, h.clip_gradient);
}

const bool kSgdRegistered = [] {
  const std::vector<ParamDef> sgd = {LrParam(), WdParam(), RescaleGradParam(), ClipGradientParam(),
                                     LazyUpdateParam()};
  const std::vector<ParamDef> sgd_mom = {LrParam(), MomentumParam(), WdParam(), RescaleGradParam(),
                                         ClipGradientParam(), LazyUpdateParam()};
  const std::vector<ParamDef> nag = {LrParam(), MomentumParam(), WdParam(), RescaleGradParam(),
                                     ClipGradientParam()};
  RegisterUpdate<false>(
      "sgd_update",
      "Stochastic gradient descent step: weight = (1 - lr*wd)*weight - lr*clip(rescale_grad*grad). "
      "lazy_update matters only for row_sparse gradients, which dense arrays are not.",
      {"weight", "grad"}, {}, sgd,
      [](const auto& h, auto w, auto g, auto*) { return (1 - h.lr * h.wd) * w - h.lr * Scaled(h, g); });
  RegisterUpdate<false>(
      "sgd_mom_update",
      "SGD step with momentum: mom = momentum*mom - lr*wd*weight - lr*clip(rescale_grad*grad); "
      "weight += mom. `mom` is updated in place.",
      {"weight", "grad", "mom"}, {2}, sgd_mom, [](const auto& h, auto w, auto g, auto* s) {
        s[0] = h.momentum * s[0] - h.lr * h.wd * w - h.lr * Scaled(h, g);
        return w + s[0];
      });
  RegisterUpdate<true>(
      "mp_sgd_update",
      "Multi-precision SGD step: sgd_update applied to the float32 master copy `weight32` (updated in place), "
      "whose new value, cast to the weight's dtype, is returned.",
      {"weight", "grad", "weight32"}, {2}, sgd, [](const auto& h, auto, auto g, auto* s) {
        s[0] = (1 - h.lr * h.wd) * s[0] - h.lr * Scaled(h, g);
        return s[0];
      });
  RegisterUpdate<true>(
      "mp_sgd_mom_update",
      "Multi-precision SGD step with momentum: sgd_mom_update on the float32 master copy `weight32` with a "
      "float32 `mom` (both updated in place); returns the new weight in the weight's dtype.",
      {"weight", "grad", "mom", "weight32"}, {2, 3}, sgd_mom, [](const auto& h, auto, auto g, auto* s) {
        s[0] = h.momentum * s[0] - h.lr * h.wd * s[1] - h.lr * Scaled(h, g);
        s[1] = s[1] + s[0];
        return s[1];
      });
  RegisterUpdate<false>(
      "nag_mom_update",
      "Nesterov accelerated gradient step: with d = clip(rescale_grad*grad) + wd*weight, "
      "mom = momentum*mom - lr*d and weight += momentum*mom - lr*d. `mom` is updated in place.",
      {"weight", "grad", "mom"}, {2}, nag, [](const auto& h, auto w, auto g, auto* s) {
        const auto step = h.lr * (Scaled(h, g) + h.wd * w);
        const auto decayed = h.momentum * s[0];
        s[0] = decayed - step;
        return w - decayed + (h.momentum + 1) * (decayed - step);
      });
  // MXNet quirk kept: the momentum's weight-decay term uses the weight after this step (w_new), unlike
  // nag_mom_update; it matters only when wd != 0.
  RegisterUpdate<true>(
      "mp_nag_mom_update",
      "Multi-precision Nesterov step: nag_mom_update on the float32 master copy `weight32` with a float32 "
      "`mom` (both updated in place, the momentum's weight decay taken at the new weight as in MXNet).",
      {"weight", "grad", "mom", "weight32"}, {2, 3}, nag, [](const auto& h, auto, auto g, auto* s) {
        const auto scaled = Scaled(h, g);
        const auto decayed = h.momentum * s[0];
        const auto w = s[1] - decayed + (h.momentum + 1) * (decayed - h.lr * (scaled + h.wd * s[1]));
        s[0] = decayed - h.lr * (scaled + h.wd * w);
        s[1] = w;
        return w;
      });
  return true;
}();

const bool kAdamRegistered = [] {
  const std::vector<ParamDef> adam = {
      LrParam(),
      FloatParam("beta1", "0.9", "The decay rate for the 1st moment estimates."),
      FloatParam("beta2", "0.999", "The decay rate for the 2nd moment estimates."),
      FloatParam("epsilon", "1e-08", "A small constant for numerical stability."),
      WdParam(), RescaleGradParam(), ClipGradientParam(), LazyUpdateParam()};
  RegisterUpdate<false>(
      "adam_update",
      "Adam step: g = clip(rescale_grad*grad + wd*weight); mean = beta1*mean + (1-beta1)*g; "
      "var = beta2*var + (1-beta2)*g**2; weight -= lr*mean/(sqrt(var) + epsilon). `mean` and `var` are "
      "updated in place; bias correction is folded into lr by the optimizer.",
      {"weight", "grad", "mean", "var"}, {2, 3}, adam, [](const auto& h, auto w, auto g, auto* s) {
        const auto scaled = ClipIf(h.rescale_grad * g + h.wd * w, h.clip_gradient);
        s[0] = h.beta1 * s[0] + (1 - h.beta1) * scaled;
        s[1] = h.beta2 * s[1] + (1 - h.beta2) * scaled * scaled;
        return w - h.lr * s[0] / (std::sqrt(s[1]) + h.epsilon);
      });

  const std::vector<ParamDef> adamw = {
      LrParam(),
      FloatParam("beta1", "0.9", "The decay rate for the 1st moment estimates."),
      FloatParam("beta2", "0.999", "The decay rate for the 2nd moment estimates."),
      FloatParam("epsilon", "1e-08", "A small constant for numerical stability."),
      WdParam(),
      FloatParam("eta", "", "Learning rate schedule multiplier."),
      ClipGradientParam()};
  UpdateLayout scaled_by_input;
  scaled_by_input.num_scalars = 1;
  scaled_by_input.skip_on_bad_scale = true;
  const char* adamw_doc =
      "AdamW step (decoupled weight decay): g = clip(rescale_grad*grad); Adam's mean and var updates; "
      "weight -= eta*(lr*mean/(sqrt(var) + epsilon) + wd*weight). rescale_grad is a one-element array; when "
      "it is NaN, infinite or 0 the step is skipped (the weight is returned and states are unchanged).";
  auto adamw_rule = [](const auto& h, auto w, auto g, auto* s) {
    const auto scaled = ClipIf(h.scalars[0] * g, h.clip_gradient);
    s[0] = h.beta1 * s[0] + (1 - h.beta1) * scaled;
    s[1] = h.beta2 * s[1] + (1 - h.beta2) * scaled * scaled;
    return w - h.eta * (h.lr * s[0] / (std::sqrt(s[1]) + h.epsilon) + h.wd * w);
  };
  // Older MXNet releases registered the AdamW ops under their _contrib_ names; symbol files may use them.
  RegisterUpdate<false>("_adamw_update", adamw_doc, {"weight", "grad", "mean", "var", "rescale_grad"}, {2, 3},
                        adamw, adamw_rule, scaled_by_input, {"_contrib_adamw_update"});
  RegisterUpdate<true>(
      "_mp_adamw_update",
      std::string("Multi-precision ") + adamw_doc + " Runs on the float32 master copy `weight32` with float32 "
      "states (all updated in place).",
      {"weight", "grad", "mean", "var", "weight32", "rescale_grad"}, {2, 3, 4}, adamw,
      [adamw_rule](const auto& h, auto, auto g, auto* s) {
        s[2] = adamw_rule(h, s[2], g, s);
        return s[2];
      },
      scaled_by_input, {"_contrib_mp_adamw_update"});

  const std::vector<ParamDef> ftml = {
      LrParam(),
      FloatParam("beta1", "0.6", "Generally close to 0.5."),
      FloatParam("beta2", "0.999", "Generally close to 1."),
      FloatParam("epsilon", "1e-08", "Epsilon to prevent division by 0."),
      {"t", ParamType::kInt, "", true, false, {}, "Number of the update (1 for the first)."},
      WdParam(), RescaleGradParam(), ClipGradientParam("clip_grad")};
  RegisterUpdate<false>(
      "ftml_update",
      "FTML (Follow the Moving Leader) step: g = clip(rescale_grad*grad + wd*weight); "
      "v = beta2*v + (1-beta2)*g**2; d_t = (1-beta1**t)/lr*(sqrt(v/(1-beta2**t)) + epsilon); "
      "z = beta1*z + (1-beta1)*g - (d_t - beta1*d)*weight; d = d_t; weight = -z/d_t. d, v, z are updated "
      "in place.",
      {"weight", "grad", "d", "v", "z"}, {2, 3, 4}, ftml, [](const auto& h, auto w, auto g, auto* s) {
        const auto scaled = ClipIf(h.rescale_grad * g + h.wd * w, h.clip_gradient);
        s[1] = h.beta2 * s[1] + (1 - h.beta2) * scaled * scaled;
        const auto d_t = (1 - h.beta1_t) / h.lr * (std::sqrt(s[1] / (1 - h.beta2_t)) + h.epsilon);
        s[2] = h.beta1 * s[2] + (1 - h.beta1) * scaled - (d_t - h.beta1 * s[0]) * w;
        s[0] = d_t;
        return -s[2] / d_t;
      });
  return true;
}();

const bool kRmsPropRegistered = [] {
  const std::vector<ParamDef> rmsprop = {
      LrParam(),
      FloatParam("gamma1", "0.95", "The decay rate of momentum estimates."),
      FloatParam("epsilon", "1e-08", "A small constant for numerical stability."),
      WdParam(), RescaleGradParam(), ClipGradientParam(),
      FloatParam("clip_weights", "-1", "Clip weights to [-clip_weights, clip_weights]; off when negative.")};
  RegisterUpdate<false>(
      "rmsprop_update",
      "RMSProp step (Tieleman & Hinton): g = clip(rescale_grad*grad + wd*weight); "
      "n = (1-gamma1)*g**2 + gamma1*n; weight -= lr*g/sqrt(n + epsilon), then clipped to clip_weights. "
      "`n` is updated in place.",
      {"weight", "grad", "n"}, {2}, rmsprop, [](const auto& h, auto w, auto g, auto* s) {
        const auto scaled = ClipIf(h.rescale_grad * g + h.wd * w, h.clip_gradient);
        s[0] = (1 - h.gamma1) * scaled * scaled + h.gamma1 * s[0];
        return ClipIf(w - h.lr * scaled / std::sqrt(s[0] + h.epsilon), h.clip_weights);
      });
  const std::vector<ParamDef> alex = {
      LrParam(),
      FloatParam("gamma1", "0.95", "Decay rate."),
      FloatParam("gamma2", "0.9", "Decay rate."),
      FloatParam("epsilon", "1e-08", "A small constant for numerical stability."),
      WdParam(), RescaleGradParam(), ClipGradientParam(),
      FloatParam("clip_weights", "-1", "Clip weights to [-clip_weights, clip_weights]; off when negative.")};
  RegisterUpdate<false>(
      "rmspropalex_update",
      "Centered RMSProp step (Graves 2013): g = clip(rescale_grad*grad + wd*weight); "
      "n = (1-gamma1)*g**2 + gamma1*n; mean = (1-gamma1)*g + gamma1*mean; "
      "delta = gamma2*delta - lr*g/sqrt(n - mean**2 + epsilon); weight += delta, then clipped to "
      "clip_weights. n, g (the mean) and delta are updated in place.",
      {"weight", "grad", "n", "g", "delta"}, {2, 3, 4}, alex, [](const auto& h, auto w, auto g, auto* s) {
        const auto scaled = ClipIf(h.rescale_grad * g + h.wd * w, h.clip_gradient);
        s[0] = (1 - h.gamma1) * scaled * scaled + h.gamma1 * s[0];
        s[1] = (1 - h.gamma1) * scaled + h.gamma1 * s[1];
        s[2] = h.gamma2 * s[2] - h.lr * scaled / std::sqrt(s[0] - s[1] * s[1] + h.epsilon);
        return ClipIf(w + s[2], h.clip_weights);
      });
  return true;
}();

const bool kOtherRegistered = [] {
  const std::vector<ParamDef> ftrl = {
      LrParam(),
      FloatParam("lamda1", "0.01", "The L1 regularization coefficient."),
      FloatParam("beta", "1", "Per-coordinate learning rate beta."),
      WdParam(), RescaleGradParam(), ClipGradientParam()};
  RegisterUpdate<false>(
      "ftrl_update",
      "FTRL-Proximal step: g = clip(rescale_grad*grad); z += g - (sqrt(n + g**2) - sqrt(n))*weight/lr; "
      "n += g**2; weight = (sign(z)*lamda1 - z)/((beta + sqrt(n))/lr + wd) where |z| > lamda1, else 0. "
      "z and n are updated in place.",
      {"weight", "grad", "z", "n"}, {2, 3}, ftrl, [](const auto& h, auto w, auto g, auto* s) {
        const auto scaled = Scaled(h, g);
        s[0] += scaled - (std::sqrt(s[1] + scaled * scaled) - std::sqrt(s[1])) * w / h.lr;
        s[1] += scaled * scaled;
        using C = decltype(w);
        return std::fabs(s[0]) > h.lamda1
                   ? (SignOf(s[0]) * h.lamda1 - s[0]) / ((h.beta + std::sqrt(s[1])) / h.lr + h.wd)
                   : C(0);
      });
  const std::vector<ParamDef> signsgd = {LrParam(), WdParam(), RescaleGradParam(), ClipGradientParam()};
  RegisterUpdate<false>(
      "signsgd_update",
      "signSGD step: weight = (1 - lr*wd)*weight - lr*sign(grad) (rescale_grad and clip_gradient do not "
      "change the sign).",
      {"weight", "grad"}, {}, signsgd,
      [](const auto& h, auto w, auto g, auto*) { return (1 - h.lr * h.wd) * w - h.lr * SignOf(g); });
  const std::vector<ParamDef> signum = {
      LrParam(), MomentumParam(), WdParam(), RescaleGradParam(), ClipGradientParam(),
      FloatParam("wd_lh", "0",
                 "Decoupled weight decay (Loshchilov & Hutter) applied outside the momentum.")};
  RegisterUpdate<false>(
      "signum_update",
      "Signum step (signSGD with momentum): mom = momentum*mom - (1-momentum)*(wd*weight + "
      "clip(rescale_grad*grad)); weight = (1 - lr*wd_lh)*weight + lr*sign(mom). `mom` is updated in place.",
      {"weight", "grad", "mom"}, {2}, signum, [](const auto& h, auto w, auto g, auto* s) {
        s[0] = h.momentum * s[0] - (1 - h.momentum) * h.wd * w - (1 - h.momentum) * Scaled(h, g);
        return (1 - h.lr * h.wd_lh) * w + h.lr * SignOf(s[0]);
      });
  // MXNet's op exists only for row_sparse gradients and rejects wd; on dense arrays this is the dense rule
  // of MXNet's AdaGrad optimizer, which for wd = 0 is the same update. `adagrad_update` names the dense use.
  const std::vector<ParamDef> adagrad = {LrParam(), FloatParam("epsilon", "1e-07", "Epsilon for numerical "
                                                               "stability."),
                                         WdParam(), RescaleGradParam(), ClipGradientParam()};
  RegisterUpdate<false>(
      "_sparse_adagrad_update",
      "AdaGrad step: g = clip(rescale_grad*grad); history += g**2; "
      "weight -= lr*(g/sqrt(history + epsilon) + wd*weight). `history` is updated in place.",
      {"weight", "grad", "history"}, {2}, adagrad, [](const auto& h, auto w, auto g, auto* s) {
        const auto scaled = Scaled(h, g);
        s[0] += scaled * scaled;
        return w - h.lr * (scaled / std::sqrt(s[0] + h.epsilon) + h.wd * w);
      },
      {}, {"adagrad_update"});
  return true;
}();

// The LAMB direction of phase 1: Adam's moments (bias-corrected when asked) plus wd * weight.
template <typename H, typename C>
C LambDirection(const H& h, C w, C g, C* s) {
  const C scaled = Scaled(h, g);
  s[0] = h.beta1 * s[0] + (1 - h.beta1) * scaled;
  s[1] = h.beta2 * s[1] + (1 - h.beta2) * scaled * scaled;
  if (!h.bias_correction) return s[0] / (std::sqrt(s[1]) + h.epsilon) + h.wd * w;
  return (s[0] / (1 - h.beta1_t)) / (std::sqrt(s[1] / (1 - h.beta2_t)) + h.epsilon) + h.wd * w;
}

// The LAMB trust-ratio learning rate: lr * r1/r2 with r1 (the weight norm) clamped to the bounds that are
// >= 0; plain lr when either norm is 0.
template <typename H>
auto LambRate(const H& h) {
  auto r1 = h.scalars[0];
  if (h.lower_bound >= 0) r1 = std::max(r1, h.lower_bound);
  if (h.upper_bound >= 0) r1 = std::min(r1, h.upper_bound);
  return (r1 == 0 || h.scalars[1] == 0) ? h.lr : h.lr * r1 / h.scalars[1];
}

const bool kLambRegistered = [] {
  const std::vector<ParamDef> phase1 = {
      FloatParam("beta1", "0.9", "The decay rate for the 1st moment estimates."),
      FloatParam("beta2", "0.999", "The decay rate for the 2nd moment estimates."),
      FloatParam("epsilon", "1e-06", "A small constant for numerical stability."),
      {"t", ParamType::kInt, "", true, false, {}, "Index update count."},
      {"bias_correction", ParamType::kBool, "True", false, false, {}, "Whether to use bias correction."},
      FloatParam("wd", "", "Weight decay: adds wd*weight to the update direction."),
      RescaleGradParam(), ClipGradientParam()};
  const std::vector<ParamDef> phase2 = {
      LrParam(),
      FloatParam("lower_bound", "-1", "Lower limit of the weight norm r1; not applied when negative."),
      FloatParam("upper_bound", "-1", "Upper limit of the weight norm r1; not applied when negative.")};
  RegisterUpdate<false>(
      "lamb_update_phase1",
      "LAMB phase 1: updates Adam's `mean` and `var` in place from clip(rescale_grad*grad) and returns the "
      "update direction g = mean_hat/(sqrt(var_hat) + epsilon) + wd*weight (bias-corrected with beta**t "
      "when bias_correction).",
      {"weight", "grad", "mean", "var"}, {2, 3}, phase1,
      [](const auto& h, auto w, auto g, auto* s) { return LambDirection(h, w, g, s); });
  RegisterUpdate<true, true>(
      "mp_lamb_update_phase1",
      "Multi-precision LAMB phase 1: lamb_update_phase1 with float32 `mean` and `var` (updated in place) and "
      "the weight decay taken at the float32 master copy `weight32`; returns g in float32.",
      {"weight", "grad", "mean", "var", "weight32"}, {2, 3}, phase1,
      [](const auto& h, auto, auto g, auto* s) { return LambDirection(h, s[2], g, s); });
  UpdateLayout norms;
  norms.num_scalars = 2;
  RegisterUpdate<false>(
      "lamb_update_phase2",
      "LAMB phase 2: weight - lr*(r1/r2)*g, where r1 is the weight's norm (clamped to lower_bound and "
      "upper_bound when they are >= 0) and r2 the norm of phase 1's g; plain lr when r1 or r2 is 0.",
      {"weight", "g", "r1", "r2"}, {}, phase2,
      [](const auto& h, auto w, auto g, auto*) { return w - LambRate(h) * g; }, norms);
  return true;
}();

// Phase 2 of multi-precision LAMB: g, r1, r2 and weight32 are float32 while the weight may be float16, so it
// has its own small kernel. MXNet quirk kept: weight32 is read, not updated (the optimizer passes out=weight).
PMX_REGISTER_OP(mp_lamb_update_phase2) {
  const std::vector<ParamDef> params = {
      LrParam(),
      FloatParam("lower_bound", "-1", "Lower limit of the weight norm r1; not applied when negative."),
      FloatParam("upper_bound", "-1", "Upper limit of the weight norm r1; not applied when negative.")};
  OpDef def = UpdateOpDef(
      "mp_lamb_update_phase2",
      "Multi-precision LAMB phase 2: returns weight32 - lr*(r1/r2)*g in the weight's dtype, r1 clamped to "
      "the bounds that are >= 0, plain lr when r1 or r2 is 0. `weight32` is read, not updated (as in MXNet).",
      {"weight", "g", "r1", "r2", "weight32"}, {}, params, UpdateLayout{}, nullptr);
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    for (int i : {2, 3}) {
      if (!(*in)[i]) return false;
      PMX_CHECK((*in)[i]->size() == 1, kValueError,
                "[mp_lamb_update_phase2] input %d has shape %s: expected one element", i, (*in)[i]->ToString());
    }
    std::vector<MaybeShape> shapes = {(*in)[0], (*in)[1], (*in)[4]};
    if (!InferSameShape("mp_lamb_update_phase2", &shapes, out)) return false;
    (*in)[0] = shapes[0];
    (*in)[1] = shapes[1];
    (*in)[4] = shapes[2];
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0]) return false;
    CheckDType("mp_lamb_update_phase2", DTypes::kFloat, *(*in)[0]);
    for (int i = 1; i < 5; ++i) {
      PMX_CHECK(!(*in)[i] || *(*in)[i] == DType::kFloat32, kTypeError,
                "[mp_lamb_update_phase2] input %d has dtype %s: expected float32", i, DTypeName(*(*in)[i]));
      (*in)[i] = DType::kFloat32;
    }
    (*out)[0] = (*in)[0];
    return true;
  };
  def.kernels[DeviceType::kCPU] = [params](const KernelContext& context, absl::Span<const TensorRef> in,
                                           absl::Span<const TensorRef> out) {
    Hyper<float> hyper = ReadHyper<float>(*context.params, params);
    hyper.scalars[0] = in[2].As<float>()[0];
    hyper.scalars[1] = in[3].As<float>()[0];
    const float rate = LambRate(hyper);
    const float* g = in[1].As<float>();
    const float* weight32 = in[4].As<float>();
    const bool add = context.modes[0] == WriteMode::kAdd;
    DispatchAllowed<DTypes::kFloat>("mp_lamb_update_phase2", out[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      T* y = out[0].As<T>();
      cpu::ParallelFor(out[0].size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) Store<T, float>(y + i, weight32[i] - rate * g[i], add);
      });
    });
  };
  return def;
}

}  // namespace
}  // namespace ops
}  // namespace pmx
