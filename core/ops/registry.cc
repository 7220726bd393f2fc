#include <algorithm>

#include "absl/strings/str_join.h"
#include "core/base/error.h"
#include "core/ops/op.h"
#include "nlohmann/json.hpp"

namespace pmx {

int OpDef::NumInputs(const OpParams& params) const {
  if (num_inputs) return num_inputs(params);
  if (variadic_count_param.empty()) return static_cast<int>(inputs.size());
  return static_cast<int>(params.Int(variadic_count_param)) * variadic_stride;
}

std::vector<int> OpDef::MutatedInputs(const OpParams& params) const {
  if (variadic_count_param.empty()) return mutated_inputs;
  std::vector<int> all;
  const int groups = static_cast<int>(params.Int(variadic_count_param));
  for (int group = 0; group < groups; ++group) {
    for (int index : mutated_inputs) all.push_back(group * variadic_stride + index);
  }
  return all;
}

int OpDef::NumOutputs(const OpParams& params) const {
  return num_outputs ? num_outputs(params) : static_cast<int>(outputs.size());
}

int OpDef::NumVisibleOutputs(const OpParams& params) const {
  return num_visible_outputs ? num_visible_outputs(params) : NumOutputs(params);
}

OpParams OpDef::ParseParams(const ParamMap& given) const { return OpParams::Parse(name, params, given); }

OpRegistry* OpRegistry::Get() {
  static OpRegistry* registry = new OpRegistry();
  return registry;
}

const OpDef& OpRegistry::Register(OpDef def) {
  PMX_CHECK(!def.name.empty(), kRuntimeError, "an operator was registered without a name");
  PMX_CHECK(static_cast<bool>(def.infer_shape), kRuntimeError, "[%s] registered without shape inference",
            def.name);
  std::vector<std::string> names = def.aliases;
  names.push_back(def.name);
  for (const std::string& name : names) {
    PMX_CHECK(names_.count(name) == 0, kRuntimeError, "[%s] the name '%s' is already registered (by %s)",
              def.name, name, names_.count(name) ? names_.at(name)->name : "");
  }
  auto owned = std::make_unique<OpDef>(std::move(def));
  OpDef* stored = owned.get();
  for (const std::string& name : names) names_[name] = stored;
  ops_[stored->name] = std::move(owned);
  for (const std::string& name : names) {
    auto range = pending_kernels_.equal_range(name);
    std::vector<std::pair<DeviceType, Kernel>> kernels;
    for (auto it = range.first; it != range.second; ++it) kernels.push_back(std::move(it->second));
    pending_kernels_.erase(range.first, range.second);
    for (auto& [device, kernel] : kernels) AttachKernel(stored, device, std::move(kernel));
  }
  return *stored;
}

// Note [Kernels added by backends]
// An op's CPU kernel sits in its declaration; device backends (core/backend/cuda/ops under
// --config=cuda) add theirs from their own files, so operator code has no #ifdef and a build without
// the backend simply lacks the kernel (Invoke then says "no GPU kernel for <op> yet"). Backends call
// AddKernel from static initialisers, whose order across translation units is unspecified: a kernel
// for an op not registered yet waits in pending_kernels_ and Register attaches it. A kernel whose op
// is never registered stays pending and is never used; backends' tests check that theirs arrived.
void OpRegistry::AddKernel(const std::string& op, DeviceType device, Kernel kernel) {
  PMX_CHECK(static_cast<bool>(kernel), kRuntimeError, "[%s] AddKernel was given an empty kernel", op);
  auto found = names_.find(op);
  if (found == names_.end()) {
    pending_kernels_.emplace(op, std::make_pair(device, std::move(kernel)));
    return;
  }
  AttachKernel(ops_.at(found->second->name).get(), device, std::move(kernel));
}

void OpRegistry::AttachKernel(OpDef* def, DeviceType device, Kernel kernel) {
  const char* type = device == DeviceType::kGPU ? "GPU" : (device == DeviceType::kCPU ? "CPU" : "cpu_pinned");
  PMX_CHECK(def->kernels.count(device) == 0, kRuntimeError,
            "[%s] already has a %s kernel: AddKernel adds one only where the op has none", def->name, type);
  def->kernels[device] = std::move(kernel);
}

const OpDef* OpRegistry::Find(const std::string& name) const {
  auto found = names_.find(name);
  return found == names_.end() ? nullptr : found->second;
}

const OpDef& OpRegistry::Lookup(const std::string& name) const {
  if (const OpDef* def = Find(name)) return *def;
  std::vector<std::string> close;
  for (const auto& [candidate, def] : names_) {
    const size_t common = std::min(candidate.size(), name.size());
    if (common >= 3 && (candidate.find(name.substr(0, 3)) != std::string::npos)) close.push_back(candidate);
    if (close.size() == 5) break;
  }
  Throw(ErrorKind::kValueError, "unknown operator '%s'%s", name,
        close.empty() ? std::string() : " (did you mean: " + absl::StrJoin(close, ", ") + "?)");
}

std::vector<const OpDef*> OpRegistry::List() const {
  std::vector<const OpDef*> list;
  for (const auto& [name, def] : ops_) list.push_back(def.get());
  return list;
}

std::string OpRegistry::SchemaJson() const {
  nlohmann::ordered_json ops = nlohmann::ordered_json::array();
  for (const OpDef* def : List()) {
    nlohmann::ordered_json params = nlohmann::ordered_json::array();
    for (const ParamDef& param : def->params) {
      nlohmann::ordered_json entry = {
          {"name", param.name},
          {"type", ParamTypeName(param.type)},
          {"required", param.required},
          {"default", param.default_value},
          {"nullable", param.nullable},
          {"doc", param.doc},
      };
      if (param.type == ParamType::kEnum) entry["choices"] = param.choices;
      params.push_back(entry);
    }
    std::vector<std::string> auxiliary;
    for (int index : def->auxiliary_inputs) auxiliary.push_back(def->inputs.at(index));
    ops.push_back({
        {"name", def->name},
        {"aliases", def->aliases},
        {"family", def->family},
        {"doc", def->doc},
        {"inputs", def->inputs},
        {"variadic_count_param", def->variadic_count_param},
        {"variadic_stride", def->variadic_stride},
        {"auxiliary_inputs", auxiliary},
        {"outputs", def->outputs},
        {"params", params},
        {"differentiable", static_cast<bool>(def->gradient)},
        {"needs_rng", def->needs_rng},
    });
  }
  nlohmann::ordered_json schema = {{"schema_version", 1}, {"operators", ops}};
  return schema.dump(1);
}

}  // namespace pmx
