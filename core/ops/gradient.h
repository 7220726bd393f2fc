// Evaluating an operator's composed gradient on arrays: the imperative GradientBuilder.
#ifndef POLYMIX_CORE_OPS_GRADIENT_H_
#define POLYMIX_CORE_OPS_GRADIENT_H_

#include <vector>

#include "core/array/ndarray.h"
#include "core/ops/op.h"

namespace pmx {

// A GradientBuilder whose values are NDArrays and whose calls run operators imperatively.
class ImperativeGradientBuilder : public GradientBuilder {
 public:
  // Registers an array and returns its value id.
  Value Add(const NDArray& array);
  // The array of a value id (ValueError for an unknown id).
  const NDArray& Get(Value value) const;
  // Runs `op` through Invoke and returns the ids of its visible outputs.
  std::vector<Value> Call(const std::string& op, const std::vector<Value>& inputs,
                          const ParamMap& params = {}) override;

 private:
  std::vector<NDArray> values_;
};

// Computes the gradients of `op`'s inputs given its inputs, all its outputs and the gradients of its
// visible outputs, by running the op's gradient function imperatively. Returns one array per input; a
// none array where no gradient flows. Throws ValueError if the op is not differentiable.
std::vector<NDArray> ComputeGradient(const OpDef& op, const OpParams& params, const std::vector<NDArray>& inputs,
                                     const std::vector<NDArray>& outputs, const std::vector<NDArray>& output_grads);

}  // namespace pmx

#endif  // POLYMIX_CORE_OPS_GRADIENT_H_
