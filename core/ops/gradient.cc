#include "core/ops/gradient.h"

#include "core/base/error.h"
#include "core/ops/invoke.h"

namespace pmx {

GradientBuilder::Value ImperativeGradientBuilder::Add(const NDArray& array) {
  values_.push_back(array);
  return static_cast<Value>(values_.size() - 1);
}

const NDArray& ImperativeGradientBuilder::Get(Value value) const {
  PMX_CHECK(value >= 0 && value < static_cast<Value>(values_.size()), kValueError,
            "gradient value %d is unknown: expected 0 <= value < %d", value, static_cast<int>(values_.size()));
  return values_[value];
}

std::vector<GradientBuilder::Value> ImperativeGradientBuilder::Call(const std::string& op,
                                                                    const std::vector<Value>& inputs,
                                                                    const ParamMap& params) {
  std::vector<NDArray> arrays;
  for (Value value : inputs) arrays.push_back(Get(value));
  const OpDef& def = OpRegistry::Get()->Lookup(op);
  const OpParams parsed = def.ParseParams(params);
  std::vector<NDArray> outputs = Invoke(def, arrays, parsed);
  std::vector<Value> ids;
  const int visible = def.NumVisibleOutputs(parsed);
  for (int i = 0; i < visible; ++i) ids.push_back(Add(outputs[i]));
  return ids;
}

std::vector<NDArray> ComputeGradient(const OpDef& op, const OpParams& params, const std::vector<NDArray>& inputs,
                                     const std::vector<NDArray>& outputs, const std::vector<NDArray>& output_grads) {
  PMX_CHECK(static_cast<bool>(op.gradient), kValueError, "[%s] is not differentiable", op.name);
  ImperativeGradientBuilder builder;
  GradientArgs args;
  args.params = &params;
  for (const NDArray& array : inputs) args.inputs.push_back(builder.Add(array));
  for (const NDArray& array : outputs) args.outputs.push_back(builder.Add(array));
  for (const NDArray& array : output_grads) args.output_grads.push_back(builder.Add(array));
  const auto grads = op.gradient(builder, args);
  PMX_CHECK(grads.size() == inputs.size(), kRuntimeError, "[%s] gradient returned %d values for %d inputs",
            op.name, static_cast<int>(grads.size()), static_cast<int>(inputs.size()));
  std::vector<NDArray> result;
  for (const auto& grad : grads) result.push_back(grad ? builder.Get(*grad) : NDArray());
  return result;
}

}  // namespace pmx
