// Building blocks for the optimizer update operators (optimizer_ops.cc, optimizer_multi.cc): hyper-parameters
// in the compute type, an elementwise update loop over weight, gradient and state arrays, and the op
// declaration with its shape and dtype rules.
#ifndef POLYMIX_CORE_OPS_INTERNAL_OPTIMIZER_UPDATE_H_
#define POLYMIX_CORE_OPS_INTERNAL_OPTIMIZER_UPDATE_H_

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "core/ops/internal/elementwise.h"
#include "core/ops/op.h"

namespace pmx {
namespace ops {

// Note [Optimizer update operators]
// An update op reads (weight, grad, state...) and returns the new weight; the states (momentum, moments,
// master weights) are updated in place and declared in OpDef::mutated_inputs, so the engine orders them
// as writes. MXNet's optimizers call these ops with out=weight, which the loop allows (each element reads
// its weight before writing the output). The *mp_* variants keep float32 states and a float32 master copy
// `weight32` of a float16 (or other float) weight and do their arithmetic in float, as MXNet does; the
// others compute in ComputeType of the weight. Formulas, parameter names and defaults follow MXNet 1.9.1,
// including its quirks (each is noted where it is declared).

// The hyper-parameters of one update call in the compute type C; fields the op does not declare keep these
// defaults.
template <typename C>
struct Hyper {
  C lr = 0, wd = 0, rescale_grad = 1, clip_gradient = -1, momentum = 0;  // SGD family.
  C beta1 = 0, beta2 = 0, epsilon = 0;                                    // Adam family.
  C gamma1 = 0, gamma2 = 0, clip_weights = -1;                            // RMSProp family.
  C lamda1 = 0, beta = 0;                                                 // FTRL.
  C eta = 1, wd_lh = 0, lower_bound = -1, upper_bound = -1;               // AdamW, Signum, LAMB.
  C beta1_t = 1, beta2_t = 1;   // beta1**t and beta2**t (FTML, LAMB).
  bool bias_correction = false;  // LAMB.
  C scalars[2] = {0, 0};        // One-element inputs (AdamW's rescale_grad, LAMB's r1 and r2).
};

// Reads every real hyper-parameter the op declares (`defs`) into a Hyper; "clip_grad" (FTML) fills
// clip_gradient, integer `t` fills beta1_t and beta2_t.
template <typename C>
Hyper<C> ReadHyper(const OpParams& params, const std::vector<ParamDef>& defs) {
  static const std::pair<const char*, C Hyper<C>::*> kFields[] = {
      {"lr", &Hyper<C>::lr},           {"wd", &Hyper<C>::wd},
      {"rescale_grad", &Hyper<C>::rescale_grad}, {"clip_gradient", &Hyper<C>::clip_gradient},
      {"clip_grad", &Hyper<C>::clip_gradient},   {"momentum", &Hyper<C>::momentum},
      {"beta1", &Hyper<C>::beta1},     {"beta2", &Hyper<C>::beta2},
      {"epsilon", &Hyper<C>::epsilon}, {"gamma1", &Hyper<C>::gamma1},
      {"gamma2", &Hyper<C>::gamma2},   {"clip_weights", &Hyper<C>::clip_weights},
      {"lamda1", &Hyper<C>::lamda1},   {"beta", &Hyper<C>::beta},
      {"eta", &Hyper<C>::eta},         {"wd_lh", &Hyper<C>::wd_lh},
      {"lower_bound", &Hyper<C>::lower_bound}, {"upper_bound", &Hyper<C>::upper_bound},
  };
  Hyper<C> hyper;
  bool has_t = false;
  for (const ParamDef& def : defs) {
    if (def.name == "t") has_t = true;
    if (def.name == "bias_correction") hyper.bias_correction = params.Bool(def.name);
    if (def.type != ParamType::kFloat) continue;
    for (const auto& [name, field] : kFields) {
      if (def.name == name) hyper.*field = static_cast<C>(params.Float(def.name));
    }
  }
  if (has_t) {
    const double t = static_cast<double>(params.Int("t"));
    hyper.beta1_t = static_cast<C>(std::pow(static_cast<double>(hyper.beta1), t));
    hyper.beta2_t = static_cast<C>(std::pow(static_cast<double>(hyper.beta2), t));
  }
  return hyper;
}

// x limited to [-bound, bound] when bound >= 0 (MXNet's clip_gradient convention; NaN passes through).
template <typename C>
inline C ClipIf(C x, C bound) {
  if (!(bound >= 0)) return x;
  return x > bound ? bound : (x < -bound ? -bound : x);
}

// The sign of x as -1, 0 or 1.
template <typename C>
inline C SignOf(C x) {
  return static_cast<C>((x > 0) - (x < 0));
}

// Runs `rule` over elements [0, n): rule(hyper, w, g, s) returns the new weight given the weight, the
// gradient and the states s[0..num_states) (all in C), and may update s. States whose write_state flag is set
// are stored back; the result goes to `out` (accumulated when `add`).
template <typename C, typename W, typename S, typename O, typename Rule>
void UpdateElements(const Hyper<C>& hyper, int64_t n, const W* weight, const W* grad, S* const* states,
                    int num_states, const std::vector<bool>& write_state, O* out, bool add, const Rule& rule) {
  cpu::ParallelFor(n, kElementwiseGrain, [&](int64_t begin, int64_t end) {
    C s[4];
    for (int64_t i = begin; i < end; ++i) {
      for (int k = 0; k < num_states; ++k) s[k] = static_cast<C>(states[k][i]);
      const C result = rule(hyper, static_cast<C>(weight[i]), static_cast<C>(grad[i]), s);
      for (int k = 0; k < num_states; ++k) {
        if (write_state[k]) states[k][i] = static_cast<S>(s[k]);
      }
      Store<O, C>(out + i, result, add);
    }
  });
}

// How an update op lays out its inputs: weight, grad, elementwise states..., then `num_scalars`
// one-element inputs.
struct UpdateLayout {
  bool mixed_precision = false;  // States are float32 and arithmetic is in float (mp_* ops).
  bool float32_output = false;   // The output is float32 whatever the weight's dtype (mp_lamb_update_phase1).
  int num_scalars = 0;           // Trailing one-element inputs, read into Hyper::scalars.
  bool skip_on_bad_scale = false;  // scalars[0] (rescale_grad) NaN, infinite or 0: output the weight, keep states.
};

// The CPU kernel of a single-tensor update op with `layout`, running `rule` (see UpdateElements).
template <bool kMixed, bool kFloat32Output, typename Rule>
Kernel UpdateKernel(std::string op, std::vector<ParamDef> defs, std::vector<int> mutated, UpdateLayout layout,
                    Rule rule) {
  return [=](const KernelContext& context, absl::Span<const TensorRef> in, absl::Span<const TensorRef> out) {
    DispatchAllowed<DTypes::kFloat>(op.c_str(), in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = std::conditional_t<kMixed, float, ComputeType<T>>;
      using S = std::conditional_t<kMixed, float, T>;
      using O = std::conditional_t<kFloat32Output, float, T>;
      Hyper<C> hyper = ReadHyper<C>(*context.params, defs);
      const int num_states = static_cast<int>(in.size()) - 2 - layout.num_scalars;
      for (int k = 0; k < layout.num_scalars; ++k) {
        const TensorRef& scalar = in[2 + num_states + k];
        DispatchAllowed<DTypes::kFloat>(op.c_str(), scalar.dtype, [&](auto scalar_tag) {
          using ST = decltype(scalar_tag);
          hyper.scalars[k] = static_cast<C>(static_cast<ComputeType<ST>>(scalar.As<ST>()[0]));
        });
      }
      const bool add = context.modes[0] == WriteMode::kAdd;
      const int64_t n = in[0].size();
      if (layout.skip_on_bad_scale && (!std::isfinite(static_cast<double>(hyper.scalars[0])) || hyper.scalars[0] == 0)) {
        // MXNet skips the step; the output (normally the weight itself) keeps the weight.
        if (!add) {
          const T* w = in[0].As<T>();
          O* y = out[0].As<O>();
          for (int64_t i = 0; i < n; ++i) y[i] = static_cast<O>(static_cast<C>(w[i]));
        }
        return;
      }
      S* states[4] = {nullptr, nullptr, nullptr, nullptr};
      std::vector<bool> write_state(num_states);
      for (int k = 0; k < num_states; ++k) {
        states[k] = in[2 + k].As<S>();
        write_state[k] = std::find(mutated.begin(), mutated.end(), 2 + k) != mutated.end();
      }
      UpdateElements<C>(hyper, n, in[0].As<T>(), in[1].As<T>(), states, num_states, write_state, out[0].As<O>(),
                        add, rule);
    });
  };
}

// Declares an update op: `inputs` names (weight, grad, states..., scalars...), the states it mutates, its
// parameters and kernel. Shapes: the elementwise inputs share one shape, the output has it, scalar inputs
// have one element. Dtypes: weight and grad share a float dtype; the other elementwise inputs have it too,
// or are float32 when layout.mixed_precision; the output has the weight's dtype (float32 with
// layout.float32_output). Not differentiable.
OpDef UpdateOpDef(const std::string& name, const std::string& doc, std::vector<std::string> inputs,
                  std::vector<int> mutated, std::vector<ParamDef> params, const UpdateLayout& layout, Kernel kernel);

// Common parameter declarations (MXNet's names, defaults and meanings).
ParamDef LrParam();
ParamDef FloatParam(const char* name, const char* default_value, const char* doc);
ParamDef WdParam();
ParamDef RescaleGradParam();
ParamDef ClipGradientParam(const char* name = "clip_gradient");
ParamDef MomentumParam();
ParamDef LazyUpdateParam();

}  // namespace ops
}  // namespace pmx

#endif  // POLYMIX_CORE_OPS_INTERNAL_OPTIMIZER_UPDATE_H_
