// The optimizers: SGD, NAG, Signum, Adam, AdamW, RMSProp, AdaGrad, AdaDelta, Ftrl and LAMB, each a thin
// layer that turns MXNet's Python update() into calls of the registered update operators (see
// Note [Optimizer semantics] in optimizer.h and Note [Optimizer update operators] in core/ops).
#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/base/error.h"
#include "core/ops/invoke.h"
#include "core/optim/internal/optimizers.h"

namespace pmx {
namespace optim {
namespace {

using Params = std::map<std::string, std::string>;

// Runs update op `op` with out= `out` (the weight, or the master copy), as MXNet's optimizers do.
void RunInto(const std::string& op, const std::vector<NDArray>& inputs, const Params& params, const NDArray& out) {
  InvokeOptions options;
  options.outputs = {out};
  Invoke(op, inputs, params, options);
}

// Runs a one-output op into a new array.
NDArray Run(const std::string& op, const std::vector<NDArray>& inputs, const Params& params = {}) {
  return Invoke(op, inputs, params).at(0);
}

// `count` zero arrays shaped, typed and placed like `weight`.
std::vector<NDArray> ZerosLike(const NDArray& weight, int count) {
  std::vector<NDArray> arrays;
  for (int i = 0; i < count; ++i) arrays.push_back(NDArray::Zeros(weight.shape(), weight.dtype(), weight.device()));
  return arrays;
}

// A float hyper-parameter declaration.
HyperParam Float(const char* name, double value) { return {name, HyperKind::kFloat, value}; }
// A real-or-None hyper-parameter declaration.
HyperParam OptionalFloat(const char* name, std::optional<double> value) {
  return {name, HyperKind::kOptionalFloat, value};
}
// A boolean hyper-parameter declaration.
HyperParam Bool(const char* name, bool value) { return {name, HyperKind::kBool, value ? 1.0 : 0.0}; }

// SGD with optional momentum: sgd_update / sgd_mom_update and their mp_* forms.
class Sgd : public Optimizer {
 public:
  explicit Sgd(std::string name = "sgd")
      : Optimizer(std::move(name), 0.01, {Float("momentum", 0), Bool("lazy_update", true)}) {}

 protected:
  std::vector<NDArray> CreateStateArrays(const NDArray& weight) const override {
    return ZerosLike(weight, HyperValue("momentum") != 0 ? 1 : 0);
  }
  // MXNet passes momentum only when positive (a negative one leaves the op's default 0).
  Params OpParams(const StepArgs& args) const {
    Params params = CommonOpParams(args);
    if (HyperValue("momentum") > 0) params["momentum"] = FormatFloat(HyperValue("momentum"));
    return params;
  }
  void Step(const StepArgs& args, const NDArray& weight, const NDArray& grad,
            const std::vector<NDArray>& states) override {
    if (states.empty()) {
      Params params = OpParams(args);
      params.erase("momentum");  // Momentum set after a momentum-free state: plain SGD.
      RunInto("sgd_update", {weight, grad}, params, weight);
    } else {
      RunInto(MomentumOp(), {weight, grad, states[0]}, OpParams(args), weight);
    }
  }
  bool HasFusedMultiPrecision() const override { return true; }
  void StepMultiPrecision(const StepArgs& args, const NDArray& weight, const NDArray& grad, const NDArray& weight32,
                          const std::vector<NDArray>& states) override {
    if (states.empty()) {
      Params params = OpParams(args);
      params.erase("momentum");
      RunInto("mp_sgd_update", {weight, grad, weight32}, params, weight);
    } else {
      RunInto("mp_" + MomentumOp(), {weight, grad, states[0], weight32}, OpParams(args), weight);
    }
  }
  // The momentum update op (NAG overrides it).
  virtual std::string MomentumOp() const { return "sgd_mom_update"; }
};

// Nesterov accelerated gradient: nag_mom_update (sgd_update without momentum).
class Nag : public Sgd {
 public:
  Nag() : Sgd("nag") {}

 protected:
  std::string MomentumOp() const override { return "nag_mom_update"; }
};

// signSGD / Signum: signsgd_update without momentum, signum_update with it.
class Signum : public Optimizer {
 public:
  Signum() : Optimizer("signum", 0.01, {Float("momentum", 0.9), Float("wd_lh", 0)}) {}

 protected:
  std::vector<NDArray> CreateStateArrays(const NDArray& weight) const override {
    return ZerosLike(weight, HyperValue("momentum") != 0 ? 1 : 0);
  }
  void Step(const StepArgs& args, const NDArray& weight, const NDArray& grad,
            const std::vector<NDArray>& states) override {
    Params params = CommonOpParams(args);
    if (states.empty()) {
      RunInto("signsgd_update", {weight, grad}, params, weight);
      return;
    }
    if (HyperValue("momentum") > 0) params["momentum"] = FormatFloat(HyperValue("momentum"));
    if (HyperValue("wd_lh") != 0) params["wd_lh"] = FormatFloat(HyperValue("wd_lh"));
    RunInto("signum_update", {weight, grad, states[0]}, params, weight);
  }
};

// The Adam bias correction sqrt(1 - beta2**t) / (1 - beta1**t), folded into the learning rate.
double AdamCorrection(double beta1, double beta2, int64_t t) {
  return std::sqrt(1 - std::pow(beta2, static_cast<double>(t))) / (1 - std::pow(beta1, static_cast<double>(t)));
}

// Adam: adam_update with the bias correction folded into lr.
class Adam : public Optimizer {
 public:
  Adam()
      : Optimizer("adam", 0.001,
                  {Float("beta1", 0.9), Float("beta2", 0.999), Float("epsilon", 1e-8), Bool("lazy_update", true)}) {}

 protected:
  std::vector<NDArray> CreateStateArrays(const NDArray& weight) const override { return ZerosLike(weight, 2); }
  void Step(const StepArgs& args, const NDArray& weight, const NDArray& grad,
            const std::vector<NDArray>& states) override {
    StepArgs corrected = args;
    corrected.lr *= AdamCorrection(HyperValue("beta1"), HyperValue("beta2"), args.t);
    Params params = CommonOpParams(corrected);
    for (const char* name : {"beta1", "beta2", "epsilon"}) params[name] = FormatFloat(HyperValue(name));
    RunInto("adam_update", {weight, grad, states[0], states[1]}, params, weight);
  }
};

// AdamW (MXNet 2's optimizer class): _adamw_update with lr=1 and eta the (bias-corrected) learning rate,
// rescale_grad passed as a one-element array (the op skips the step when it is not finite or 0).
class AdamW : public Optimizer {
 public:
  AdamW()
      : Optimizer("adamw", 0.001,
                  {Float("beta1", 0.9), Float("beta2", 0.999), Float("epsilon", 1e-6), Bool("correct_bias", true)}) {}

 protected:
  std::vector<NDArray> CreateStateArrays(const NDArray& weight) const override { return ZerosLike(weight, 2); }
  Params OpParams(const StepArgs& args) const {
    double eta = args.lr;
    if (HyperValue("correct_bias") != 0) eta *= AdamCorrection(HyperValue("beta1"), HyperValue("beta2"), args.t);
    Params params = {{"lr", "1"}, {"eta", FormatFloat(eta)}, {"wd", FormatFloat(args.wd)}};
    for (const char* name : {"beta1", "beta2", "epsilon"}) params[name] = FormatFloat(HyperValue(name));
    const std::optional<double> clip = clip_gradient();
    if (clip && *clip > 0) params["clip_gradient"] = FormatFloat(*clip);
    return params;
  }
  NDArray RescaleArray(const NDArray& weight) const {
    return NDArray::Full(Shape({1}), rescale_grad(), DType::kFloat32, weight.device());
  }
  void Step(const StepArgs& args, const NDArray& weight, const NDArray& grad,
            const std::vector<NDArray>& states) override {
    RunInto("_adamw_update", {weight, grad, states[0], states[1], RescaleArray(weight)}, OpParams(args), weight);
  }
  bool HasFusedMultiPrecision() const override { return true; }
  void StepMultiPrecision(const StepArgs& args, const NDArray& weight, const NDArray& grad, const NDArray& weight32,
                          const std::vector<NDArray>& states) override {
    RunInto("_mp_adamw_update", {weight, grad, states[0], states[1], weight32, RescaleArray(weight)}, OpParams(args),
            weight);
  }
};

// RMSProp: rmsprop_update (Tieleman & Hinton) or, centered, rmspropalex_update (Graves).
class RmsProp : public Optimizer {
 public:
  RmsProp()
      : Optimizer("rmsprop", 0.001,
                  {Float("gamma1", 0.9), Float("gamma2", 0.9), Float("epsilon", 1e-8), Bool("centered", false),
                   OptionalFloat("clip_weights", std::nullopt)}) {}

 protected:
  bool Centered() const { return HyperValue("centered") != 0; }
  std::vector<NDArray> CreateStateArrays(const NDArray& weight) const override {
    return ZerosLike(weight, Centered() ? 3 : 1);
  }
  void Step(const StepArgs& args, const NDArray& weight, const NDArray& grad,
            const std::vector<NDArray>& states) override {
    Params params = CommonOpParams(args);
    params["gamma1"] = FormatFloat(HyperValue("gamma1"));
    params["epsilon"] = FormatFloat(HyperValue("epsilon"));
    const std::optional<double> clip_weights = Hyper("clip_weights");
    if (clip_weights && *clip_weights != 0) params["clip_weights"] = FormatFloat(*clip_weights);
    if (!Centered()) {
      RunInto("rmsprop_update", {weight, grad, states[0]}, params, weight);
      return;
    }
    params["gamma2"] = FormatFloat(HyperValue("gamma2"));
    RunInto("rmspropalex_update", {weight, grad, states[0], states[1], states[2]}, params, weight);
  }
};

// AdaGrad: MXNet's dense rule, which _sparse_adagrad_update (alias adagrad_update) implements on dense arrays.
// MXNet 1.x names its epsilon `eps`.
class AdaGrad : public Optimizer {
 public:
  AdaGrad() : Optimizer("adagrad", 0.01, {Float("eps", 1e-7)}) {}

 protected:
  std::vector<NDArray> CreateStateArrays(const NDArray& weight) const override { return ZerosLike(weight, 1); }
  void Step(const StepArgs& args, const NDArray& weight, const NDArray& grad,
            const std::vector<NDArray>& states) override {
    Params params = CommonOpParams(args);
    params["epsilon"] = FormatFloat(HyperValue("eps"));
    RunInto("_sparse_adagrad_update", {weight, grad, states[0]}, params, weight);
  }
};

// AdaDelta, which MXNet writes in Python (no update op and no learning rate), composed of elementwise ops:
//   g = clip(rescale_grad * grad); acc_g = rho*acc_g + (1-rho)*g*g;
//   delta = sqrt(acc_delta + eps) / sqrt(acc_g + eps) * g; acc_delta = rho*acc_delta + (1-rho)*delta*delta;
//   weight -= delta + wd*weight.
class AdaDelta : public Optimizer {
 public:
  AdaDelta() : Optimizer("adadelta", 0.01, {Float("rho", 0.9), Float("epsilon", 1e-5)}) {}

 protected:
  std::vector<NDArray> CreateStateArrays(const NDArray& weight) const override { return ZerosLike(weight, 2); }
  void Step(const StepArgs& args, const NDArray& weight, const NDArray& grad,
            const std::vector<NDArray>& states) override {
    const double rho = HyperValue("rho");
    const std::string eps = FormatFloat(HyperValue("epsilon"));
    auto scale = [](const NDArray& x, double s) { return Run("_mul_scalar", {x}, {{"scalar", FormatFloat(s)}}); };
    NDArray g = scale(grad, rescale_grad());
    const std::optional<double> clip = clip_gradient();
    if (clip && *clip > 0) g = Run("clip", {g}, {{"a_min", FormatFloat(-*clip)}, {"a_max", FormatFloat(*clip)}});
    const NDArray& acc_g = states[0];
    const NDArray& acc_delta = states[1];
    RunInto("elemwise_add", {scale(acc_g, rho), scale(Run("square", {g}), 1 - rho)}, {}, acc_g);
    NDArray ratio = Run("elemwise_div", {Run("sqrt", {Run("_plus_scalar", {acc_delta}, {{"scalar", eps}})}),
                                         Run("sqrt", {Run("_plus_scalar", {acc_g}, {{"scalar", eps}})})});
    NDArray delta = Run("elemwise_mul", {ratio, g});
    RunInto("elemwise_add", {scale(acc_delta, rho), scale(Run("square", {delta}), 1 - rho)}, {}, acc_delta);
    RunInto("elemwise_sub", {weight, Run("elemwise_add", {delta, scale(weight, args.wd)})}, {}, weight);
  }
};

// FTRL-Proximal: ftrl_update.
class Ftrl : public Optimizer {
 public:
  Ftrl() : Optimizer("ftrl", 0.1, {Float("lamda1", 0.01), Float("beta", 1)}) {}

 protected:
  std::vector<NDArray> CreateStateArrays(const NDArray& weight) const override { return ZerosLike(weight, 2); }
  void Step(const StepArgs& args, const NDArray& weight, const NDArray& grad,
            const std::vector<NDArray>& states) override {
    Params params = CommonOpParams(args);
    params["lamda1"] = FormatFloat(HyperValue("lamda1"));
    params["beta"] = FormatFloat(HyperValue("beta"));
    RunInto("ftrl_update", {weight, grad, states[0], states[1]}, params, weight);
  }
};

// LAMB: lamb_update_phase1 gives the direction g, lamb_update_phase2 scales it by the trust ratio
// |weight| / |g|. Multi-precision updates the float32 master copy (Note [Optimizer semantics]).
class Lamb : public Optimizer {
 public:
  Lamb()
      : Optimizer("lamb", 0.001,
                  {Float("beta1", 0.9), Float("beta2", 0.999), Float("epsilon", 1e-6),
                   OptionalFloat("lower_bound", std::nullopt), OptionalFloat("upper_bound", std::nullopt),
                   Bool("bias_correction", true)}) {}

 protected:
  std::vector<NDArray> CreateStateArrays(const NDArray& weight) const override { return ZerosLike(weight, 2); }
  Params Phase1Params(const StepArgs& args) const {
    Params params = CommonOpParams(args);
    params.erase("lr");
    for (const char* name : {"beta1", "beta2", "epsilon"}) params[name] = FormatFloat(HyperValue(name));
    params["t"] = std::to_string(args.t);
    params["bias_correction"] = HyperValue("bias_correction") != 0 ? "True" : "False";
    return params;
  }
  // Phase 2 on `weight` (float32 under multi-precision) with out= `weight`.
  void Phase2(const StepArgs& args, const NDArray& weight, const NDArray& g) const {
    Params params = {{"lr", FormatFloat(args.lr)}};
    for (const char* name : {"lower_bound", "upper_bound"}) {
      const std::optional<double> bound = Hyper(name);
      if (bound && *bound != 0) params[name] = FormatFloat(*bound);
    }
    RunInto("lamb_update_phase2", {weight, g, Run("norm", {weight}), Run("norm", {g})}, params, weight);
  }
  void Step(const StepArgs& args, const NDArray& weight, const NDArray& grad,
            const std::vector<NDArray>& states) override {
    Phase2(args, weight, Run("lamb_update_phase1", {weight, grad, states[0], states[1]}, Phase1Params(args)));
  }
  bool HasFusedMultiPrecision() const override { return true; }
  void StepMultiPrecision(const StepArgs& args, const NDArray& weight, const NDArray& grad, const NDArray& weight32,
                          const std::vector<NDArray>& states) override {
    NDArray g = Run("mp_lamb_update_phase1", {weight, grad, states[0], states[1], weight32}, Phase1Params(args));
    Phase2(args, weight32, g);
    weight32.CopyTo(weight);
  }
};

// The registry: MXNet's lower-case class names.
const std::map<std::string, std::function<std::unique_ptr<Optimizer>()>>& Registry() {
  static const auto* registry = new std::map<std::string, std::function<std::unique_ptr<Optimizer>()>>{
      {"sgd", [] { return std::make_unique<Sgd>(); }},
      {"ccsgd", [] { return std::make_unique<Sgd>("ccsgd"); }},
      {"nag", [] { return std::make_unique<Nag>(); }},
      {"signum", [] { return std::make_unique<Signum>(); }},
      {"adam", [] { return std::make_unique<Adam>(); }},
      {"adamw", [] { return std::make_unique<AdamW>(); }},
      {"rmsprop", [] { return std::make_unique<RmsProp>(); }},
      {"adagrad", [] { return std::make_unique<AdaGrad>(); }},
      {"adadelta", [] { return std::make_unique<AdaDelta>(); }},
      {"ftrl", [] { return std::make_unique<Ftrl>(); }},
      {"lamb", [] { return std::make_unique<Lamb>(); }},
  };
  return *registry;
}

}  // namespace

namespace internal {

std::unique_ptr<Optimizer> NewOptimizer(const std::string& lower_name) {
  auto it = Registry().find(lower_name);
  return it == Registry().end() ? nullptr : it->second();
}

std::vector<std::string> RegisteredOptimizerNames() {
  std::vector<std::string> names;
  for (const auto& entry : Registry()) names.push_back(entry.first);
  return names;
}

}  // namespace internal
}  // namespace optim
}  // namespace pmx
