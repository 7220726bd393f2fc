// Pooling, batch normalization and local response normalization on oneDNN primitives (float32, plain
// channel-first layouts). Every function overwrites its outputs; callers handle accumulation.
#ifndef POLYMIX_CORE_BACKEND_CPU_DNNL_POOL_NORM_H_
#define POLYMIX_CORE_BACKEND_CPU_DNNL_POOL_NORM_H_

#include <cstdint>

namespace pmx {
namespace cpu {

// One pooling over (N, C, spatial...) data with 1 to 3 spatial axes.
struct PoolGeometry {
  int spatial = 2;                // Number of spatial axes.
  int64_t batch = 1, channels = 1;
  int64_t in[3] = {1, 1, 1};      // Input extent per axis.
  int64_t out[3] = {1, 1, 1};     // Output extent per axis.
  int64_t kernel[3] = {1, 1, 1};  // Window extent.
  int64_t stride[3] = {1, 1, 1};  // Window step.
  int64_t pad_l[3] = {0, 0, 0};   // Padding before the input.
  int64_t pad_r[3] = {0, 0, 0};   // Padding after: (out - 1) * stride + kernel - in - pad_l.
};

// oneDNN's pooling algorithms.
enum class PoolAlgorithm {
  kMax,            // Maximum over the window (padding ignored).
  kAvgIncludePad,  // Sum over the window divided by the kernel size.
  kAvgExcludePad,  // Sum over the window divided by the number of input elements in it.
};

// Forward pooling; false (nothing written) when oneDNN rejects the geometry.
bool DnnlPoolingForward(PoolAlgorithm algorithm, const PoolGeometry& geometry, const float* src, float* dst);

// Backward of average pooling (diff_dst -> diff_src); false when oneDNN rejects the geometry.
bool DnnlPoolingBackward(PoolAlgorithm algorithm, const PoolGeometry& geometry, const float* diff_dst,
                         float* diff_src);

// Batch normalization of data viewed as (outer, channels, inner), per channel.
struct BatchNormProblem {
  int64_t outer = 1, channels = 1, inner = 1;
  float eps = 1e-3f;
  bool global_stats = false;  // Normalize with the given mean and variance instead of the batch's.
  bool use_scale = true;      // Multiply by scale (gamma); false treats gamma as 1 (fix_gamma).
};

// Forward: dst = (src - mean) / sqrt(variance + eps) * scale + shift. With global_stats mean and variance are
// read; otherwise the batch mean and (biased) variance are written to them.
void DnnlBatchNormForward(const BatchNormProblem& problem, const float* src, const float* scale, const float* shift,
                          float* mean, float* variance, float* dst);

// Backward: diff_src, diff_scale (ignored when !use_scale) and diff_shift from diff_dst, using the given
// statistics; with global_stats the statistics are constants (diff_src = diff_dst * scale / std).
void DnnlBatchNormBackward(const BatchNormProblem& problem, const float* src, const float* diff_dst,
                           const float* scale, const float* mean, const float* variance, float* diff_src,
                           float* diff_scale, float* diff_shift);

// Local response normalization across channels of data viewed as (batch, channels, inner) with an odd window
// `size`: dst = src * (k + alpha / size * sum of src^2 over the window) ^ -beta.
struct LrnProblem {
  int64_t batch = 1, channels = 1, inner = 1;
  int64_t size = 5;
  float alpha = 1e-4f, beta = 0.75f, k = 2.0f;
};

// Forward LRN.
void DnnlLrnForward(const LrnProblem& problem, const float* src, float* dst);

// Backward LRN: diff_src from src and diff_dst.
void DnnlLrnBackward(const LrnProblem& problem, const float* src, const float* diff_dst, float* diff_src);

}  // namespace cpu
}  // namespace pmx

#endif  // POLYMIX_CORE_BACKEND_CPU_DNNL_POOL_NORM_H_
