#include "core/optim/optimizer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "core/base/error.h"
#include "core/optim/internal/optimizers.h"

namespace pmx {
namespace optim {

Optimizer::Optimizer(std::string name, double default_lr, std::vector<HyperParam> own) : name_(std::move(name)) {
  hypers_ = {
      {"learning_rate", HyperKind::kFloat, default_lr},
      {"wd", HyperKind::kFloat, 0.0},
      {"rescale_grad", HyperKind::kFloat, 1.0},
      {"clip_gradient", HyperKind::kOptionalFloat, std::nullopt},
      {"multi_precision", HyperKind::kBool, 0.0},
      {"begin_num_update", HyperKind::kInt, 0.0},
  };
  for (HyperParam& param : own) hypers_.push_back(std::move(param));
}

size_t Optimizer::IndexOf(const std::string& name) const {
  for (size_t i = 0; i < hypers_.size(); ++i) {
    if (hypers_[i].name == name) return i;
  }
  Throw(ErrorKind::kValueError, "%s unknown parameter '%s': expected one of %s", Where(), name,
        absl::StrJoin(ParamNames(), ", "));
}

const HyperParam& Optimizer::Find(const std::string& name) const { return hypers_[IndexOf(name)]; }

std::vector<std::string> Optimizer::ParamNames() const {
  std::vector<std::string> names;
  for (const HyperParam& param : hypers_) names.push_back(param.name);
  return names;
}

void Optimizer::SetParam(const std::string& name, const std::string& value) {
  HyperParam& param = hypers_[IndexOf(name)];
  PMX_CHECK(name != "learning_rate" || scheduler_ == nullptr, kValueError,
            "%s learning_rate cannot be set while an lr_scheduler is attached: the schedule decides the rate",
            Where());
  switch (param.kind) {
    case HyperKind::kFloat:
      param.value = ParseFloat(value, Where(), name);
      break;
    case HyperKind::kOptionalFloat:
      param.value = ParseOptionalFloat(value, Where(), name);
      break;
    case HyperKind::kBool:
      param.value = ParseBool(value, Where(), name) ? 1.0 : 0.0;
      break;
    case HyperKind::kInt:
      param.value = static_cast<double>(ParseInt(value, Where(), name));
      break;
  }
  if (name == "begin_num_update") num_update_ = static_cast<int64_t>(*param.value);
}

std::string Optimizer::GetParam(const std::string& name) const {
  const HyperParam& param = Find(name);
  if (!param.value) return "None";
  switch (param.kind) {
    case HyperKind::kBool:
      return *param.value != 0 ? "True" : "False";
    case HyperKind::kInt:
      return std::to_string(static_cast<int64_t>(*param.value));
    default:
      return FormatFloat(*param.value);
  }
}

double Optimizer::CurrentLearningRate() { return scheduler_ ? (*scheduler_)(num_update_) : lr(); }

void Optimizer::SetLRScheduler(std::shared_ptr<LRScheduler> scheduler) {
  scheduler_ = std::move(scheduler);
  if (scheduler_) scheduler_->set_base_lr(lr());
}

void Optimizer::SetParamNames(std::map<int, std::string> index_to_name) {
  index_to_name_ = std::move(index_to_name);
  SetWdMult({}, {});
}

void Optimizer::SetLrMult(std::map<std::string, double> by_name, std::map<int, double> by_index) {
  lr_mult_by_name_ = std::move(by_name);
  lr_mult_by_index_ = std::move(by_index);
}

void Optimizer::SetWdMult(const std::map<std::string, double>& by_name, std::map<int, double> by_index) {
  wd_mult_by_name_.clear();
  for (const auto& entry : index_to_name_) {
    const std::string& name = entry.second;
    if (!absl::EndsWith(name, "_weight") && !absl::EndsWith(name, "_gamma")) wd_mult_by_name_[name] = 0.0;
  }
  for (const auto& entry : by_name) wd_mult_by_name_[entry.first] = entry.second;
  wd_mult_by_index_ = std::move(by_index);
}

namespace {

// The multiplier of `index`: by index, else by its name, else 1.
double MultiplierOf(int index, const std::map<int, double>& by_index, const std::map<int, std::string>& names,
                    const std::map<std::string, double>& by_name) {
  auto by_index_it = by_index.find(index);
  if (by_index_it != by_index.end()) return by_index_it->second;
  auto name_it = names.find(index);
  if (name_it == names.end()) return 1.0;
  auto by_name_it = by_name.find(name_it->second);
  return by_name_it == by_name.end() ? 1.0 : by_name_it->second;
}

}  // namespace

double Optimizer::LearningRateFor(int index) {
  return CurrentLearningRate() * MultiplierOf(index, lr_mult_by_index_, index_to_name_, lr_mult_by_name_);
}

double Optimizer::WeightDecayFor(int index) const {
  return wd() * MultiplierOf(index, wd_mult_by_index_, index_to_name_, wd_mult_by_name_);
}

int64_t Optimizer::UpdateCount(int index) const {
  auto it = update_counts_.find(index);
  return it == update_counts_.end() ? static_cast<int64_t>(HyperValue("begin_num_update")) : it->second;
}

void Optimizer::CountUpdate(int index) {
  auto it = update_counts_.find(index);
  if (it == update_counts_.end()) {
    it = update_counts_.emplace(index, static_cast<int64_t>(HyperValue("begin_num_update"))).first;
  }
  ++it->second;
  num_update_ = std::max(num_update_, it->second);
}

std::map<std::string, std::string> Optimizer::CommonOpParams(const StepArgs& args) const {
  std::map<std::string, std::string> params = {
      {"lr", FormatFloat(args.lr)}, {"wd", FormatFloat(args.wd)}, {"rescale_grad", FormatFloat(rescale_grad())}};
  const std::optional<double> clip = clip_gradient();
  if (clip && *clip > 0) params["clip_gradient"] = FormatFloat(*clip);
  return params;
}

void Optimizer::StepMultiPrecision(const StepArgs&, const NDArray&, const NDArray&, const NDArray&,
                                   const std::vector<NDArray>&) {
  Throw(ErrorKind::kRuntimeError, "%s has no fused multi-precision step", Where());
}

OptimizerState Optimizer::CreateState(int index, const NDArray& weight) {
  PMX_CHECK(!weight.is_none(), kValueError, "%s CreateState(%d): the weight is a none array", Where(), index);
  PMX_CHECK(IsFloatingPoint(weight.dtype()), kTypeError, "%s CreateState(%d): weights must be floating point, given %s",
            Where(), index, DTypeName(weight.dtype()));
  OptimizerState state;
  if (multi_precision() && weight.dtype() == DType::kFloat16) {
    state.weight32 = weight.AsType(DType::kFloat32);
    state.arrays = CreateStateArrays(state.weight32);
  } else {
    state.arrays = CreateStateArrays(weight);
  }
  return state;
}

void Optimizer::CheckUpdate(int index, const NDArray& weight, const NDArray& grad,
                            const OptimizerState* state) const {
  PMX_CHECK(state != nullptr, kValueError, "%s Update(%d): state is null: create it with CreateState", Where(),
            index);
  PMX_CHECK(!weight.is_none() && !grad.is_none(), kValueError, "%s Update(%d): weight and grad must be arrays",
            Where(), index);
  PMX_CHECK(weight.shape() == grad.shape(), kValueError,
            "%s Update(%d): grad has shape %s but the weight has shape %s", Where(), index, grad.shape().ToString(),
            weight.shape().ToString());
  PMX_CHECK(weight.device() == grad.device(), kValueError, "%s Update(%d): grad is on %s but the weight is on %s",
            Where(), index, grad.device().ToString(), weight.device().ToString());
  const bool mixed = !state->weight32.is_none();
  const NDArray& target = mixed ? state->weight32 : weight;
  PMX_CHECK(target.shape() == weight.shape(), kValueError,
            "%s Update(%d): the state was created for shape %s, given a weight of shape %s", Where(), index,
            target.shape().ToString(), weight.shape().ToString());
  for (const NDArray& array : state->arrays) {
    PMX_CHECK(array.shape() == weight.shape() && array.device() == weight.device(), kValueError,
              "%s Update(%d): the state was created for %s on %s, given a weight of shape %s on %s", Where(), index,
              array.shape().ToString(), array.device().ToString(), weight.shape().ToString(),
              weight.device().ToString());
  }
}

void Optimizer::RunStep(const StepArgs& args, const NDArray& weight, const NDArray& grad, OptimizerState* state) {
  if (state->weight32.is_none()) {
    Step(args, weight, grad, state->arrays);
  } else if (HasFusedMultiPrecision()) {
    StepMultiPrecision(args, weight, grad, state->weight32, state->arrays);
  } else {
    Step(args, state->weight32, grad.AsType(DType::kFloat32), state->arrays);
    state->weight32.CopyTo(weight);
  }
}

void Optimizer::Update(int index, const NDArray& weight, const NDArray& grad, OptimizerState* state) {
  CheckUpdate(index, weight, grad, state);
  CountUpdate(index);
  StepArgs args;
  args.lr = LearningRateFor(index);
  args.wd = WeightDecayFor(index);
  args.t = update_counts_.at(index);
  RunStep(args, weight, grad, state);
}

void Optimizer::UpdateWith(int index, double lr, double wd, int64_t t, const NDArray& weight, const NDArray& grad,
                           OptimizerState* state) {
  CheckUpdate(index, weight, grad, state);
  PMX_CHECK(t >= 1, kValueError, "%s UpdateWith(%d): the update count t must be >= 1 (1 for the first update), "
            "given %d", Where(), index, t);
  StepArgs args;
  args.lr = lr;
  args.wd = wd;
  args.t = t;
  RunStep(args, weight, grad, state);
}

std::unique_ptr<Optimizer> CreateOptimizer(const std::string& name, const KwArgs& kwargs) {
  std::unique_ptr<Optimizer> optimizer = internal::NewOptimizer(absl::AsciiStrToLower(name));
  PMX_CHECK(optimizer != nullptr, kValueError, "[optimizer] cannot find optimizer '%s': expected one of %s", name,
            absl::StrJoin(internal::RegisteredOptimizerNames(), ", "));
  for (const auto& entry : kwargs) optimizer->SetParam(entry.first, entry.second);
  return optimizer;
}

std::vector<std::string> OptimizerNames() { return internal::RegisteredOptimizerNames(); }

}  // namespace optim
}  // namespace pmx
