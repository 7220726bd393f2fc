#include "core/ops/internal/optimizer_update.h"

namespace pmx {
namespace ops {

OpDef UpdateOpDef(const std::string& name, const std::string& doc, std::vector<std::string> inputs,
                  std::vector<int> mutated, std::vector<ParamDef> params, const UpdateLayout& layout, Kernel kernel) {
  OpDef def;
  def.name = name;
  def.family = "optimizer";
  def.doc = doc;
  def.inputs = std::move(inputs);
  def.mutated_inputs = std::move(mutated);
  def.params = std::move(params);
  const int num_scalars = layout.num_scalars;
  def.infer_shape = [name, num_scalars](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    const size_t elementwise = in->size() - num_scalars;
    for (size_t i = elementwise; i < in->size(); ++i) {
      if (!(*in)[i]) return false;
      PMX_CHECK((*in)[i]->size() == 1, kValueError, "[%s] input %d has shape %s: expected one element", name,
                static_cast<int>(i), (*in)[i]->ToString());
    }
    std::vector<MaybeShape> shapes(in->begin(), in->begin() + elementwise);
    if (!InferSameShape(name.c_str(), &shapes, out)) return false;
    std::copy(shapes.begin(), shapes.end(), in->begin());
    return true;
  };
  def.infer_type = [name, layout, names = def.inputs](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    const size_t elementwise = in->size() - layout.num_scalars;
    const size_t same = layout.mixed_precision ? 2 : elementwise;
    std::vector<MaybeDType> dtypes(in->begin(), in->begin() + same);
    std::vector<MaybeDType> weight_out(1);
    if (!InferSameDType(name.c_str(), DTypes::kFloat, &dtypes, &weight_out)) return false;
    std::copy(dtypes.begin(), dtypes.end(), in->begin());
    for (size_t i = same; i < elementwise; ++i) {
      PMX_CHECK(!(*in)[i] || *(*in)[i] == DType::kFloat32, kTypeError,
                "[%s] input %d (%s) has dtype %s: expected float32 (multi-precision state)", name,
                static_cast<int>(i), names.at(i), DTypeName(*(*in)[i]));
      (*in)[i] = DType::kFloat32;
    }
    for (size_t i = elementwise; i < in->size(); ++i) {
      if (!(*in)[i]) return false;
      CheckDType(name.c_str(), DTypes::kFloat, *(*in)[i]);
    }
    (*out)[0] = layout.float32_output ? DType::kFloat32 : *weight_out[0];
    return true;
  };
  def.kernels[DeviceType::kCPU] = std::move(kernel);
  return def;
}

ParamDef LrParam() { return {"lr", ParamType::kFloat, "", true, false, {}, "Learning rate."}; }

ParamDef FloatParam(const char* name, const char* default_value, const char* doc) {
  return {name, ParamType::kFloat, default_value, std::string(default_value).empty(), false, {}, doc};
}

ParamDef WdParam() {
  return FloatParam("wd", "0",
                    "Weight decay: adds a penalty on the squared magnitude of the weights to the objective.");
}

ParamDef RescaleGradParam() { return FloatParam("rescale_grad", "1", "Rescale gradient to grad = rescale_grad*grad."); }

ParamDef ClipGradientParam(const char* name) {
  return FloatParam(name, "-1",
                    "Clip gradient to the range of [-clip_gradient, clip_gradient]; clipping is off when it is "
                    "negative.");
}

ParamDef MomentumParam() { return FloatParam("momentum", "0", "The decay rate of momentum estimates at each epoch."); }

ParamDef LazyUpdateParam() {
  return {"lazy_update", ParamType::kBool, "True", false, false, {},
          "If true, lazy updates are applied if gradient's stype is row_sparse (dense arrays update fully)."};
}

}  // namespace ops
}  // namespace pmx
