// Host-side shape logic of the GPU operator kernels: merging broadcast and reduction shapes into the
// fixed-size geometries of launch.h, and MXNet's reduction axis rules.
#ifndef POLYMIX_CORE_BACKEND_CUDA_OPS_GEOMETRY_H_
#define POLYMIX_CORE_BACKEND_CUDA_OPS_GEOMETRY_H_

#include <vector>

#include "core/backend/cuda/ops/launch.h"
#include "core/base/shape.h"
#include "core/ops/params.h"

namespace pmx {
namespace gpu {
namespace ops_kernels {

// The geometry of out = f(a, b) with NumPy broadcasting (a and b left-padded with 1s; each dimension
// equal to out's or 1). `b` may be null for one input. Adjacent dimensions that every operand walks
// contiguously are merged and size-1 dimensions dropped; throws NotImplementedError naming `op` if more
// than kMaxDims remain, ValueError if a shape does not broadcast to `out`.
StridedGeometry MakeStridedGeometry(const char* op, const Shape& out, const Shape& a, const Shape* b);

// Which axes of `in` MXNet's (axis, keepdims, exclude) parameters reduce: a missing or empty axis
// reduces all; negative axes count from the end. (The same rule as core/ops/internal/reduce_kernel.h,
// which the GPU library cannot depend on; the CPU op's shape inference has already validated them.)
std::vector<bool> ReducedAxes(const char* op, const OpParams& params, const Shape& in, const char* axis_name = "axis");

// The reduction geometry of reducing the `reduced` axes of a compact `in` (adjacent axes of one kind
// merged, size-1 axes dropped); throws NotImplementedError naming `op` past kMaxDims groups of a kind.
ReduceGeometry MakeReduceGeometry(const char* op, const Shape& in, const std::vector<bool>& reduced);

}  // namespace ops_kernels
}  // namespace gpu
}  // namespace pmx

#endif  // POLYMIX_CORE_BACKEND_CUDA_OPS_GEOMETRY_H_
