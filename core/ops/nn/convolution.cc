// Convolution (1-d, 2-d, 3-d; groups, dilation, padding, stride) and its gradient helpers
// _convolution_backward_data and _convolution_backward_weight. See conv_common.h for the shared pieces and
// Note [Convolution gradients].
#include "core/ops/nn/conv_common.h"

namespace pmx {
namespace ops {
namespace nn {
namespace {

using cpu::ConvPass;

constexpr char kDataGrad[] = "_convolution_backward_data";
constexpr char kWeightGrad[] = "_convolution_backward_weight";

bool InferFloat(const char* op, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
  return InferSameDType(op, DTypes::kFloat, in, out);
}

PMX_REGISTER_OP(Convolution) {
  OpDef def;
  def.name = "Convolution";
  def.aliases = {"Convolution_v1"};  // MXNet's legacy op takes the same parameters.
  def.family = "nn/convolution";
  def.doc = "Convolution of (N, C, W), (N, C, H, W) or (N, C, D, H, W) data with num_filter kernels of shape "
            "(C / num_group, kernel...), plus a bias per filter: out[n, f] = bias[f] + sum over the channels of "
            "f's group and the kernel taps of data * weight. Output extent per axis: "
            "floor((x + 2 * pad - dilate * (kernel - 1) - 1) / stride) + 1.";
  def.inputs = {"data", "weight", "bias"};
  def.num_inputs = [](const OpParams& params) { return params.Bool("no_bias") ? 2 : 3; };
  def.params = ConvParamDefs(false);
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    const ConvSpec spec = ParseConvSpec("Convolution", params, false);
    if (in->size() > 2) AssignInputShape("Convolution", "bias", &(*in)[2], Shape({spec.num_filter}));
    if (!(*in)[0]) return false;
    const cpu::ConvGeometry g = ConvolutionGeometry("Convolution", spec, *(*in)[0]);
    AssignInputShape("Convolution", "weight", &(*in)[1], ConvWeightShape(g));
    (*out)[0] = ConvOutputShape(g);
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferFloat("Convolution", in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const ConvSpec spec = ParseConvSpec("Convolution", *context.params, false);
    const cpu::ConvGeometry g = ConvolutionGeometry("Convolution", spec, in[0].shape);
    RunConvPass("Convolution", ConvPass::kForward, g, in[0], in[1], in.size() > 2 ? &in[2] : nullptr, out[0],
                context.modes[0] == WriteMode::kAdd);
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

PMX_REGISTER_OP(_convolution_backward_data) {
  OpDef def;
  def.name = kDataGrad;
  def.family = "nn/convolution";
  def.doc = "The gradient of Convolution with respect to its data: the transposed convolution of out_grad with "
            "weight, shaped like `data` (whose values are not read). Takes Convolution's parameters.";
  def.inputs = {"out_grad", "weight", "data"};
  def.params = ConvParamDefs(false);
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[2]) return false;
    const ConvSpec spec = ParseConvSpec(kDataGrad, params, false);
    const cpu::ConvGeometry g = ConvolutionGeometry(kDataGrad, spec, *(*in)[2]);
    AssignInputShape(kDataGrad, "out_grad", &(*in)[0], ConvOutputShape(g));
    AssignInputShape(kDataGrad, "weight", &(*in)[1], ConvWeightShape(g));
    (*out)[0] = *(*in)[2];
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferFloat(kDataGrad, in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const ConvSpec spec = ParseConvSpec(kDataGrad, *context.params, false);
    const cpu::ConvGeometry g = ConvolutionGeometry(kDataGrad, spec, in[2].shape);
    RunConvPass(kDataGrad, ConvPass::kBackwardData, g, in[0], in[1], nullptr, out[0],
                context.modes[0] == WriteMode::kAdd);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    // Bilinear in (out_grad, weight): see Note [Convolution gradients].
    const ParamMap params = ConvCallParams(*args.params, true);
    const Value h = args.output_grads[0], g = args.inputs[0], w = args.inputs[1];
    return {b.Call1("Convolution", {h, w}, params), b.Call1(kWeightGrad, {g, h}, params), std::nullopt};
  };
  return def;
}

PMX_REGISTER_OP(_convolution_backward_weight) {
  OpDef def;
  def.name = kWeightGrad;
  def.family = "nn/convolution";
  def.doc = "The gradient of Convolution with respect to its weight: the correlation of out_grad with data, "
            "shaped (num_filter, C / num_group, kernel...). Takes Convolution's parameters.";
  def.inputs = {"out_grad", "data"};
  def.params = ConvParamDefs(false);
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[1]) return false;
    const ConvSpec spec = ParseConvSpec(kWeightGrad, params, false);
    const cpu::ConvGeometry g = ConvolutionGeometry(kWeightGrad, spec, *(*in)[1]);
    AssignInputShape(kWeightGrad, "out_grad", &(*in)[0], ConvOutputShape(g));
    (*out)[0] = ConvWeightShape(g);
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferFloat(kWeightGrad, in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const ConvSpec spec = ParseConvSpec(kWeightGrad, *context.params, false);
    const cpu::ConvGeometry g = ConvolutionGeometry(kWeightGrad, spec, in[1].shape);
    RunConvPass(kWeightGrad, ConvPass::kBackwardWeights, g, in[0], in[1], nullptr, out[0],
                context.modes[0] == WriteMode::kAdd);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const ParamMap params = ConvCallParams(*args.params, true);
    const Value h = args.output_grads[0], g = args.inputs[0], x = args.inputs[1];
    return {b.Call1("Convolution", {x, h}, params), b.Call1(kDataGrad, {g, h, x}, params)};
  };
  return def;
}

}  // namespace
}  // namespace nn
}  // namespace ops
}  // namespace pmx
