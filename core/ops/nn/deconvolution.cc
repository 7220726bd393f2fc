// Deconvolution (transposed convolution; 1-d, 2-d, 3-d; adj and target_shape) and its gradient helpers
// _deconvolution_backward_data and _deconvolution_backward_weight, all run as passes of the convolution
// described in Note [Deconvolution as a convolution].
#include "core/ops/nn/conv_common.h"

namespace pmx {
namespace ops {
namespace nn {
namespace {

using cpu::ConvPass;

constexpr char kDataGrad[] = "_deconvolution_backward_data";
constexpr char kWeightGrad[] = "_deconvolution_backward_weight";

bool InferFloat(const char* op, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
  return InferSameDType(op, DTypes::kFloat, in, out);
}

PMX_REGISTER_OP(Deconvolution) {
  OpDef def;
  def.name = "Deconvolution";
  def.family = "nn/deconvolution";
  def.doc = "Transposed convolution (the gradient of Convolution with respect to its data) of (N, C, spatial...) "
            "data with weight of shape (C, num_filter / num_group, kernel...), plus an optional bias per filter. "
            "Output extent per axis: stride * (x - 1) + dilate * (kernel - 1) + 1 - 2 * pad + adj, or target_shape "
            "when given (pad and adj are then derived from it).";
  def.inputs = {"data", "weight", "bias"};
  def.num_inputs = [](const OpParams& params) { return params.Bool("no_bias") ? 2 : 3; };
  def.params = ConvParamDefs(true);
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    const ConvSpec spec = ParseConvSpec("Deconvolution", params, true);
    if (in->size() > 2) AssignInputShape("Deconvolution", "bias", &(*in)[2], Shape({spec.num_filter}));
    if (!(*in)[0]) return false;
    const cpu::ConvGeometry g = DeconvolutionGeometry("Deconvolution", spec, *(*in)[0]);
    AssignInputShape("Deconvolution", "weight", &(*in)[1], ConvWeightShape(g));
    (*out)[0] = ConvInputShape(g);
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferFloat("Deconvolution", in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const ConvSpec spec = ParseConvSpec("Deconvolution", *context.params, true);
    const cpu::ConvGeometry g = DeconvolutionGeometry("Deconvolution", spec, in[0].shape);
    RunConvPass("Deconvolution", ConvPass::kBackwardData, g, in[0], in[1], nullptr, out[0],
                context.modes[0] == WriteMode::kAdd);
    if (in.size() > 2) AddChannelBias("Deconvolution", in[2], out[0]);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const ParamMap params = ConvCallParams(*args.params, true);
    const Value g = args.output_grads[0], x = args.inputs[0], w = args.inputs[1];
    Grads grads = {b.Call1(kDataGrad, {g, w, x}, params), b.Call1(kWeightGrad, {g, x}, params)};
    if (args.inputs.size() > 2) grads.push_back(b.Call1("sum", {g}, {{"axis", "(1,)"}, {"exclude", "True"}}));
    return grads;
  };
  return def;
}

PMX_REGISTER_OP(_deconvolution_backward_data) {
  OpDef def;
  def.name = kDataGrad;
  def.family = "nn/deconvolution";
  def.doc = "The gradient of Deconvolution with respect to its data: the convolution of out_grad with weight, "
            "shaped like `data` (whose values are not read). Takes Deconvolution's parameters.";
  def.inputs = {"out_grad", "weight", "data"};
  def.params = ConvParamDefs(true);
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[2]) return false;
    const ConvSpec spec = ParseConvSpec(kDataGrad, params, true);
    const cpu::ConvGeometry g = DeconvolutionGeometry(kDataGrad, spec, *(*in)[2]);
    AssignInputShape(kDataGrad, "out_grad", &(*in)[0], ConvInputShape(g));
    AssignInputShape(kDataGrad, "weight", &(*in)[1], ConvWeightShape(g));
    (*out)[0] = *(*in)[2];
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferFloat(kDataGrad, in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const ConvSpec spec = ParseConvSpec(kDataGrad, *context.params, true);
    const cpu::ConvGeometry g = DeconvolutionGeometry(kDataGrad, spec, in[2].shape);
    RunConvPass(kDataGrad, ConvPass::kForward, g, in[0], in[1], nullptr, out[0], context.modes[0] == WriteMode::kAdd);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const ParamMap params = ConvCallParams(*args.params, true);
    const Value h = args.output_grads[0], g = args.inputs[0], w = args.inputs[1];
    return {b.Call1("Deconvolution", {h, w}, params), b.Call1(kWeightGrad, {g, h}, params), std::nullopt};
  };
  return def;
}

PMX_REGISTER_OP(_deconvolution_backward_weight) {
  OpDef def;
  def.name = kWeightGrad;
  def.family = "nn/deconvolution";
  def.doc = "The gradient of Deconvolution with respect to its weight, shaped (C, num_filter / num_group, "
            "kernel...). Takes Deconvolution's parameters.";
  def.inputs = {"out_grad", "data"};
  def.params = ConvParamDefs(true);
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[1]) return false;
    const ConvSpec spec = ParseConvSpec(kWeightGrad, params, true);
    const cpu::ConvGeometry g = DeconvolutionGeometry(kWeightGrad, spec, *(*in)[1]);
    AssignInputShape(kWeightGrad, "out_grad", &(*in)[0], ConvInputShape(g));
    (*out)[0] = ConvWeightShape(g);
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferFloat(kWeightGrad, in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const ConvSpec spec = ParseConvSpec(kWeightGrad, *context.params, true);
    const cpu::ConvGeometry g = DeconvolutionGeometry(kWeightGrad, spec, in[1].shape);
    // In convolution terms the data is the output gradient and out_grad the input.
    RunConvPass(kWeightGrad, ConvPass::kBackwardWeights, g, in[1], in[0], nullptr, out[0],
                context.modes[0] == WriteMode::kAdd);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const ParamMap params = ConvCallParams(*args.params, true);
    const Value h = args.output_grads[0], g = args.inputs[0], x = args.inputs[1];
    return {b.Call1("Deconvolution", {x, h}, params), b.Call1(kDataGrad, {g, h, x}, params)};
  };
  return def;
}

}  // namespace
}  // namespace nn
}  // namespace ops
}  // namespace pmx
