// The row-softmax kernel shared by softmax.cc and the SoftmaxOutput loss head.
#ifndef POLYMIX_CORE_OPS_NN_SOFTMAX_H_
#define POLYMIX_CORE_OPS_NN_SOFTMAX_H_

#include "core/ops/nn/layers_common.h"

namespace pmx {
namespace ops {
namespace nn {

// Which function of each row a softmax kernel writes.
enum class SoftmaxKind {
  kSoftmax,     // exp(x/t) / sum exp(x/t).
  kLogSoftmax,  // x/t - log sum exp(x/t).
  kSoftmin,     // softmax of -x.
};

// Computes every row of `view` (a row: `size` elements `inner` apart) of `in` into `out` (both float dtypes,
// possibly different); `length` (optional, numeric, one entry per row in (outer, inner) order) limits each
// row and positions past it are written as 0. Honours context.modes[0]; errors name `op`.
void SoftmaxRows(const char* op, SoftmaxKind kind, const AxisView& view, double temperature,
                 const KernelContext& context, const TensorRef& in, const TensorRef* length, const TensorRef& out);

}  // namespace nn
}  // namespace ops
}  // namespace pmx

#endif  // POLYMIX_CORE_OPS_NN_SOFTMAX_H_
