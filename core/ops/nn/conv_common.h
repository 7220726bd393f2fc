// Pieces shared by Convolution, Deconvolution and their gradient helpers: MXNet's parameters, the geometry
// of one call, and the kernel that runs a convolution pass for any float dtype (oneDNN for float32 and the
// 16-bit floats, reference loops for float64).
#ifndef POLYMIX_CORE_OPS_NN_CONV_COMMON_H_
#define POLYMIX_CORE_OPS_NN_CONV_COMMON_H_

#include <string>
#include <vector>

#include "core/backend/cpu/dnnl_conv.h"
#include "core/ops/nn/layers_common.h"

namespace pmx {
namespace ops {
namespace nn {

// Note [Deconvolution as a convolution]
// Deconvolution(x, W) is the backward-data pass of the convolution that maps a deconvolution-output-shaped
// array to x with the same W: that convolution's input has num_filter channels and the deconvolution's
// output extent, its output is x, and MXNet's deconvolution weight layout (C, num_filter / groups, k...) is
// exactly the convolution weight layout (out_channels, in_channels / groups, k...). `adj` (or the padding
// derived from target_shape) trims the far side: the convolution pads pad before and pad - adj after.
// So every pass of both ops is one of the three convolution passes of cpu::ConvGeometry.

// Note [Convolution gradients]
// Convolution's gradient composes _convolution_backward_data, _convolution_backward_weight and sum;
// Deconvolution's uses the _deconvolution_ pair. The four helpers are bilinear in their two array inputs,
// so their own gradients are again convolutions and helpers of this family, and higher-order gradients of
// Convolution and Deconvolution work. (Pooling, BatchNorm and LRN helpers have no gradients yet, see
// Note [Helper gradients] in pooling.cc.)

// The parsed parameters of one Convolution/Deconvolution call (defaults filled in, lengths checked).
struct ConvSpec {
  int spatial = 0;                        // Number of spatial axes (kernel's length).
  std::vector<int64_t> kernel, stride, dilate, pad, adj, target_shape;
  int64_t num_filter = 0;                 // Output channels.
  int64_t num_group = 1;                  // Channel groups.
  bool no_bias = false;                   // Whether the op takes no bias input.
};

// The parameters of Convolution (deconvolution = false) or Deconvolution, as MXNet 1.9.1 declares them.
std::vector<ParamDef> ConvParamDefs(bool deconvolution);

// Parses and checks `params` for op `op`.
ConvSpec ParseConvSpec(const char* op, const OpParams& params, bool deconvolution);

// Checks that `data` has the (N, C, spatial...) shape the spec expects; ValueError names the op.
void CheckConvData(const char* op, const ConvSpec& spec, const Shape& data);

// Convolution: the geometry for data of shape `data`.
cpu::ConvGeometry ConvolutionGeometry(const char* op, const ConvSpec& spec, const Shape& data);

// Deconvolution (Note [Deconvolution as a convolution]): the geometry of the convolution whose
// backward-data pass maps data of shape `data` to the deconvolution's output.
cpu::ConvGeometry DeconvolutionGeometry(const char* op, const ConvSpec& spec, const Shape& data);

// (N, C, spatial...) shapes of a geometry's convolution input and output, and its weight shape.
Shape ConvInputShape(const cpu::ConvGeometry& g);
Shape ConvOutputShape(const cpu::ConvGeometry& g);
Shape ConvWeightShape(const cpu::ConvGeometry& g);

// Runs one convolution pass (see cpu::ConvPass for the roles of `first` and `second`) for any float dtype,
// writing `result` honouring `add`; `bias` (forward only) may be null.
void RunConvPass(const char* op, cpu::ConvPass pass, const cpu::ConvGeometry& g, const TensorRef& first,
                 const TensorRef& second, const TensorRef* bias, const TensorRef& result, bool add);

// Adds bias[c] to every element of channel c of the (N, C, ...) `result`.
void AddChannelBias(const char* op, const TensorRef& bias, const TensorRef& result);

// Parameters of a gradient call: the forward call's own, with no_bias replaced.
ParamMap ConvCallParams(const OpParams& params, bool no_bias);

}  // namespace nn
}  // namespace ops
}  // namespace pmx

#endif  // POLYMIX_CORE_OPS_NN_CONV_COMMON_H_
