// Optimizers (MXNet 1.x's mx.optimizer): per-weight states and update steps that call the registered update
// operators (sgd_mom_update, adam_update, ...) with out= the weight, so every language binding shares one
// implementation. See Note [Optimizer semantics].
#ifndef POLYMIX_CORE_OPTIM_OPTIMIZER_H_
#define POLYMIX_CORE_OPTIM_OPTIMIZER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/array/ndarray.h"
#include "core/optim/internal/kwargs.h"
#include "core/optim/lr_scheduler.h"

namespace pmx {
namespace optim {

// Note [Optimizer semantics]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~
// Each optimizer follows MXNet 1.9.1's Python class of the same name (AdamW follows MXNet 2's, the first
// release with an AdamW optimizer class):
// - Update(index, ...) first counts the update of `index` (num_update = the largest count of any index,
//   starting at begin_num_update), then takes the learning rate — the scheduler's value at num_update when
//   one is set, else learning_rate — times the index's lr multiplier, and wd times its wd multiplier.
// - Multipliers: one given for the index wins; otherwise the one given for the index's name (SetParamNames);
//   otherwise 1. As in MXNet's constructor, naming the parameters sets wd_mult 0 for every name that does
//   not end in "_weight" or "_gamma" (biases, BatchNorm betas), and SetWdMult keeps that default.
// - clip_gradient is off when unset (None) or <= 0: MXNet passes it to the operators only when truthy and
//   the operators ignore negative values. (MXNet's Python-only AdaDelta would clip to 0 for 0.)
// - multi_precision with a float16 weight keeps a float32 master copy in the state: SGD, NAG, AdamW and
//   LAMB use their mp_* operators; the others update the master copy with a float32 copy of the gradient
//   and cast it back into the weight (MXNet's update_multi_precision).
// - Deliberate difference: MXNet's multi-precision LAMB reads its float32 master copy but never updates it
//   (mp_lamb_update_phase2 writes only the float16 weight), so every step restarts from the initial
//   weights. Polymix updates the master copy with lamb_update_phase2 and casts it into the weight: the first
//   step equals MXNet's, later steps make progress.
// - States take the weight's dtype (LAMB's too); MXNet creates RMSProp/AdaGrad/AdaDelta/Ftrl states as
//   float32 whatever the weight, which only differs (and fails in MXNet) for float16 weights without
//   multi_precision.

// The state of one weight: the optimizer's own arrays plus the float32 master copy of multi-precision.
struct OptimizerState {
  std::vector<NDArray> arrays;  // Momentum, moments, ... in the optimizer's order; empty for plain SGD.
  NDArray weight32;             // The float32 master copy of a float16 weight; none without multi-precision.
};

// How a hyper-parameter's string value is read.
enum class HyperKind {
  kFloat,          // A real number.
  kOptionalFloat,  // A real number or None.
  kBool,           // True or False.
  kInt,            // An integer.
};

// One hyper-parameter of an optimizer, named as MXNet's constructor argument.
struct HyperParam {
  std::string name;                  // e.g. "momentum".
  HyperKind kind = HyperKind::kFloat;  // How values are parsed.
  std::optional<double> value;       // The value (bools as 0/1); nullopt is None.
};

// The base of every optimizer. Not thread-safe: use one optimizer from one thread at a time.
class Optimizer {
 public:
  virtual ~Optimizer() = default;

  // The registered name, e.g. "sgd".
  const std::string& name() const { return name_; }

  // Sets hyper-parameter `name` (learning_rate, wd, rescale_grad, clip_gradient, multi_precision,
  // begin_num_update, or one of this optimizer's own) from its string form; ValueError for an unknown name
  // or a bad value, and for learning_rate while a scheduler is set (MXNet's set_learning_rate).
  void SetParam(const std::string& name, const std::string& value);
  // The string form of hyper-parameter `name` ("None" when unset); ValueError for an unknown name.
  std::string GetParam(const std::string& name) const;
  // Every hyper-parameter name, common ones first.
  std::vector<std::string> ParamNames() const;

  // The base learning rate (learning_rate).
  double lr() const { return *Find("learning_rate").value; }
  // The weight decay (wd).
  double wd() const { return *Find("wd").value; }
  // The gradient scale (rescale_grad).
  double rescale_grad() const { return *Find("rescale_grad").value; }
  // The gradient clipping bound, nullopt when off (clip_gradient).
  std::optional<double> clip_gradient() const { return Find("clip_gradient").value; }
  // Whether float16 weights get a float32 master copy (multi_precision).
  bool multi_precision() const { return *Find("multi_precision").value != 0; }

  // The current learning rate: the scheduler's value at num_update() when set, else lr() (MXNet's
  // learning_rate property; calling it may advance the scheduler, Note [Scheduler state]).
  double CurrentLearningRate();
  // Attaches a schedule (nullptr detaches) and, as MXNet's constructor does, sets its base_lr to lr().
  void SetLRScheduler(std::shared_ptr<LRScheduler> scheduler);
  // The attached schedule, or nullptr.
  const std::shared_ptr<LRScheduler>& lr_scheduler() const { return scheduler_; }

  // Names the parameters by index (MXNet's param_idx2name) and resets the wd multipliers to MXNet's
  // default for named parameters (Note [Optimizer semantics]).
  void SetParamNames(std::map<int, std::string> index_to_name);
  // Replaces the lr multipliers (MXNet's set_lr_mult) with these, keyed by parameter name and by index.
  void SetLrMult(std::map<std::string, double> by_name, std::map<int, double> by_index = {});
  // Replaces the wd multipliers (MXNet's set_wd_mult) with the named-parameter default plus these.
  void SetWdMult(const std::map<std::string, double>& by_name, std::map<int, double> by_index = {});

  // The learning rate for `index` now: current rate times its multiplier (MXNet's _get_lr).
  double LearningRateFor(int index);
  // The weight decay for `index`: wd times its multiplier (MXNet's _get_wd).
  double WeightDecayFor(int index) const;
  // The number of updates so far: the largest update count of any index.
  int64_t num_update() const { return num_update_; }
  // The number of updates of `index` (begin_num_update before its first).
  int64_t UpdateCount(int index) const;

  // Creates the state of weight `index` (MXNet's create_state_multi_precision): zeros shaped like the
  // weight, plus a float32 master copy when multi_precision is on and the weight is float16.
  OptimizerState CreateState(int index, const NDArray& weight);
  // Updates `weight` in place from `grad` and the state made by CreateState for this weight (MXNet's
  // update_multi_precision). ValueError when shapes, devices or the state do not match.
  void Update(int index, const NDArray& weight, const NDArray& grad, OptimizerState* state);
  // The step of Update with the learning rate `lr`, weight decay `wd` and update count `t` (1 for the
  // weight's first update) given by the caller; this optimizer's own bookkeeping (counts, schedule,
  // multipliers) is neither used nor changed. For bindings that keep MXNet's bookkeeping in their own
  // language (Python's mx.optimizer, whose optimizers and schedules users subclass). Checks as Update.
  void UpdateWith(int index, double lr, double wd, int64_t t, const NDArray& weight, const NDArray& grad,
                  OptimizerState* state);

 protected:
  // What one step needs besides arrays: the index's learning rate and weight decay and its update count t.
  struct StepArgs {
    double lr = 0;   // Learning rate for this index (scheduler and multiplier applied).
    double wd = 0;   // Weight decay for this index (multiplier applied).
    int64_t t = 0;   // This index's update count, 1 for its first update.
  };

  // An optimizer called `name` whose learning_rate defaults to `default_lr`, with its own hyper-parameters.
  Optimizer(std::string name, double default_lr, std::vector<HyperParam> own);

  // Creates the optimizer's state arrays for `weight` (the master copy under multi-precision).
  virtual std::vector<NDArray> CreateStateArrays(const NDArray& weight) const = 0;
  // Updates `weight` (and `states`) in place from `grad`.
  virtual void Step(const StepArgs& args, const NDArray& weight, const NDArray& grad,
                    const std::vector<NDArray>& states) = 0;
  // Whether StepMultiPrecision is implemented with fused mp_* operators.
  virtual bool HasFusedMultiPrecision() const { return false; }
  // Updates a float16 `weight`, its float32 master copy `weight32` and float32 `states` from `grad`.
  virtual void StepMultiPrecision(const StepArgs& args, const NDArray& weight, const NDArray& grad,
                                  const NDArray& weight32, const std::vector<NDArray>& states);

  // The value of hyper-parameter `name` (bools as 0/1; nullopt is None).
  std::optional<double> Hyper(const std::string& name) const { return Find(name).value; }
  // The value of a hyper-parameter that cannot be None.
  double HyperValue(const std::string& name) const { return *Find(name).value; }
  // The parameters every update op takes: lr, wd, rescale_grad, and clip_gradient when it is on.
  std::map<std::string, std::string> CommonOpParams(const StepArgs& args) const;
  // "[optimizer <name>]", the prefix of this optimizer's error messages.
  std::string Where() const { return "[optimizer " + name_ + "]"; }

 private:
  // The position of the hyper-parameter called `name`; ValueError listing the names when missing.
  size_t IndexOf(const std::string& name) const;
  // The hyper-parameter called `name`; ValueError listing the names when missing.
  const HyperParam& Find(const std::string& name) const;
  // Counts an update of `index` (MXNet's _update_count).
  void CountUpdate(int index);
  // ValueError unless `weight`, `grad` and `state` fit each other (what Update and UpdateWith check).
  void CheckUpdate(int index, const NDArray& weight, const NDArray& grad, const OptimizerState* state) const;
  // Runs the step (plain, fused multi-precision or through the master copy) with `args`.
  void RunStep(const StepArgs& args, const NDArray& weight, const NDArray& grad, OptimizerState* state);

  std::string name_;
  std::vector<HyperParam> hypers_;  // Common ones first, then the optimizer's own.
  std::shared_ptr<LRScheduler> scheduler_;
  std::map<int, std::string> index_to_name_;
  std::map<std::string, double> lr_mult_by_name_, wd_mult_by_name_;
  std::map<int, double> lr_mult_by_index_, wd_mult_by_index_;
  std::map<int, int64_t> update_counts_;
  int64_t num_update_ = 0;
};

// Creates an optimizer by MXNet's registered name ("sgd", "nag", "adam", "adamw", "rmsprop", "adagrad",
// "adadelta", "ftrl", "signum", "lamb"; "ccsgd" is SGD; case-insensitive) with string keyword arguments as
// mx.optimizer.create takes them. ValueError for an unknown name or parameter, or a bad value.
std::unique_ptr<Optimizer> CreateOptimizer(const std::string& name, const KwArgs& kwargs = {});

// The registered optimizer names, sorted.
std::vector<std::string> OptimizerNames();

}  // namespace optim
}  // namespace pmx

#endif  // POLYMIX_CORE_OPTIM_OPTIMIZER_H_
