#include "core/ops/internal/op_builders.h"

#include "absl/strings/str_format.h"

namespace pmx {
namespace ops {

OpDef UnaryOpDef(const std::string& name, const std::string& family, const std::string& doc, DTypes allowed,
                 Kernel kernel, GradientFn gradient) {
  OpDef def;
  def.name = name;
  def.family = family;
  def.doc = doc;
  def.inputs = {"data"};
  def.infer_shape = [op = def.name](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    return InferSameShape(op.c_str(), in, out);
  };
  def.infer_type = [op = def.name, allowed](const OpParams&, std::vector<MaybeDType>* in,
                                            std::vector<MaybeDType>* out) {
    return InferSameDType(op.c_str(), allowed, in, out);
  };
  def.kernels[DeviceType::kCPU] = std::move(kernel);
  def.gradient = std::move(gradient);
  def.inplace = {{0, 0}};
  return def;
}

OpDef BinaryOpDef(const std::string& name, const std::string& family, const std::string& doc, DTypes allowed,
                  Kernel kernel, GradientFn gradient) {
  OpDef def = UnaryOpDef(name, family, doc, allowed, std::move(kernel), std::move(gradient));
  def.inputs = {"lhs", "rhs"};
  def.inplace = {{0, 0}, {1, 0}};
  return def;
}

OpDef BroadcastOpDef(const std::string& name, const std::string& family, const std::string& doc, DTypes allowed,
                     Kernel kernel, GradientFn gradient) {
  OpDef def = BinaryOpDef(name, family, doc, allowed, std::move(kernel), std::move(gradient));
  def.infer_shape = [op = def.name](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    return InferBroadcastShape(op.c_str(), in, out);
  };
  def.inplace = {};
  return def;
}

GradientFn UnaryChainRule(std::function<Value(GradientBuilder&, Value x, Value y)> derivative) {
  return [derivative](GradientBuilder& builder, const GradientArgs& args) -> Grads {
    const Value d = derivative(builder, args.inputs[0], args.outputs[0]);
    return {builder.Call1("elemwise_mul", {args.output_grads[0], d})};
  };
}

GradientFn ZeroGradient() {
  return [](GradientBuilder& builder, const GradientArgs& args) -> Grads {
    Grads grads;
    for (Value input : args.inputs) grads.push_back(builder.Call1("zeros_like", {input}));
    return grads;
  };
}

std::string ScalarText(double value) { return absl::StrFormat("%.17g", value); }

}  // namespace ops
}  // namespace pmx
