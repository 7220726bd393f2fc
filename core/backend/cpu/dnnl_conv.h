// Convolution passes (forward, backward data, backward weights) on oneDNN primitives, for float32 data in
// MXNet's layouts: (N, C, spatial...) activations and (out_channels, in_channels / groups, kernel...) weights.
#ifndef POLYMIX_CORE_BACKEND_CPU_DNNL_CONV_H_
#define POLYMIX_CORE_BACKEND_CPU_DNNL_CONV_H_

#include <cstdint>

namespace pmx {
namespace cpu {

// One convolution: `in` -> `out` positions along 1 to 3 spatial axes. Deconvolution is described as the
// convolution whose backward-data pass it is (see Note [Deconvolution as a convolution] in the nn ops).
struct ConvGeometry {
  int spatial = 2;            // Number of spatial axes (1, 2 or 3).
  int64_t batch = 1;          // N.
  int64_t groups = 1;         // Channel groups.
  int64_t in_channels = 1;    // Channels of the convolution's input.
  int64_t out_channels = 1;   // Channels of the convolution's output (number of filters).
  int64_t in[3] = {1, 1, 1};      // Input extent per spatial axis.
  int64_t out[3] = {1, 1, 1};     // Output extent: (in + pad_l + pad_r - dilate * (kernel - 1) - 1) / stride + 1.
  int64_t kernel[3] = {1, 1, 1};  // Kernel extent.
  int64_t stride[3] = {1, 1, 1};  // Step between output positions.
  int64_t dilate[3] = {1, 1, 1};  // Spacing of kernel taps (1: dense; MXNet's convention, not oneDNN's).
  int64_t pad_l[3] = {0, 0, 0};   // Zero padding before the input.
  int64_t pad_r[3] = {0, 0, 0};   // Zero padding after the input (may be negative: unused trailing input).

  // Elements of the input, output and weight tensors.
  int64_t InputSize() const;
  int64_t OutputSize() const;
  int64_t WeightSize() const;
};

// Which pass to run.
enum class ConvPass {
  kForward,          // (src, weights, bias) -> dst.
  kBackwardData,     // (diff_dst, weights) -> diff_src.
  kBackwardWeights,  // (diff_dst, src) -> diff_weights.
};

// Runs `pass` with oneDNN: `first`/`second` are the pass's two inputs in the order above, `bias` (forward
// only, may be null) has out_channels entries, `accumulate` adds into `result`. Returns false, touching
// nothing, when oneDNN cannot express the geometry (negative padding), so callers fall back to loops.
bool DnnlConvolution(ConvPass pass, const ConvGeometry& geometry, const float* first, const float* second,
                     const float* bias, float* result, bool accumulate);

}  // namespace cpu
}  // namespace pmx

#endif  // POLYMIX_CORE_BACKEND_CPU_DNNL_CONV_H_
