// Shorthands for declaring operators of the common shapes (unary map, binary map, scalar map), so that a
// family file reads as a table: name, doc, formula, gradient.
#ifndef POLYMIX_CORE_OPS_INTERNAL_OP_BUILDERS_H_
#define POLYMIX_CORE_OPS_INTERNAL_OP_BUILDERS_H_

#include <string>
#include <vector>

#include "core/ops/internal/elementwise.h"
#include "core/ops/op.h"

namespace pmx {
namespace ops {

using Value = GradientBuilder::Value;
using Grads = std::vector<std::optional<Value>>;

// An op with one input "data" and one output of the same shape and dtype, computed by `kernel`.
OpDef UnaryOpDef(const std::string& name, const std::string& family, const std::string& doc, DTypes allowed,
                 Kernel kernel, GradientFn gradient);

// An op with inputs "lhs", "rhs" of the same shape and dtype (MXNet's elemwise_* ops).
OpDef BinaryOpDef(const std::string& name, const std::string& family, const std::string& doc, DTypes allowed,
                  Kernel kernel, GradientFn gradient);

// An op with inputs "lhs", "rhs" broadcast together NumPy-style (MXNet's broadcast_* ops).
OpDef BroadcastOpDef(const std::string& name, const std::string& family, const std::string& doc, DTypes allowed,
                     Kernel kernel, GradientFn gradient);

// The gradient of y = f(x) as g * d(x, y), where `derivative` builds d from the builder, x and y.
GradientFn UnaryChainRule(std::function<Value(GradientBuilder&, Value x, Value y)> derivative);

// The gradient of an op whose output is piecewise constant: zero everywhere.
GradientFn ZeroGradient();

// Formats a double for a parameter map ("0.5", "2").
std::string ScalarText(double value);

}  // namespace ops
}  // namespace pmx

#endif  // POLYMIX_CORE_OPS_INTERNAL_OP_BUILDERS_H_
