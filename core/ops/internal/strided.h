// Data-movement building blocks for the shape and indexing families: strided views, threaded gather and
// scatter copies that work for every dtype, fills, and reading index tensors of any dtype.
#ifndef POLYMIX_CORE_OPS_INTERNAL_STRIDED_H_
#define POLYMIX_CORE_OPS_INTERNAL_STRIDED_H_

#include <cstdint>
#include <vector>

#include "core/base/shape.h"
#include "core/ops/op.h"

namespace pmx {
namespace ops {

// Note [Strided views]
// Most shape operators only move elements: transpose, slice with steps, reverse, tile, repeat,
// depth_to_space, diagonal extraction. Each is a walk over the input in the output's row-major order,
// described by per-dimension strides (possibly zero to repeat, or negative to reverse) and a start
// offset. One threaded gather kernel runs every such walk, and its mirror, the scatter, writes a compact
// array into such a walk (slice assignment, gradients of slices, building a diagonal).

// A walk over the elements of a compact tensor, visiting positions in row-major order of `dims`.
struct StridedView {
  std::vector<int64_t> dims;     // Shape of the walk.
  std::vector<int64_t> strides;  // Element strides into the walked tensor; may be zero or negative.
  int64_t offset = 0;            // Element offset of the first position.

  // Number of positions visited.
  int64_t size() const;
};

// The walk that visits a compact row-major tensor of `shape` in memory order.
StridedView ContiguousView(const Shape& shape);

// The walk over a tensor of `shape` in the order of its axes permuted by `axes` (transpose).
StridedView PermutedView(const Shape& shape, const std::vector<int>& axes);

// The same walk with adjacent dimensions merged where memory order allows and size-1 ones dropped.
StridedView Coalesce(const StridedView& view);

// out[i] = in[view(i)] for every position i of `view` (out is compact with view.size() elements); with
// `add`, out[i] += in[view(i)] instead. Any dtype; in and out share it.
void GatherStrided(const char* op, const TensorRef& in, const StridedView& view, const TensorRef& out, bool add);

// out[view(i)] = in[i] (in is compact with view.size() elements); with `add`, +=. Positions of `view`
// may repeat only when `add` is set (the loop then runs on one thread, so sums stay exact and ordered).
void ScatterStrided(const char* op, const TensorRef& in, const TensorRef& out, const StridedView& view, bool add);

// Copies `in` into `out` element for element (same size and dtype), adding for kAdd; nothing to do when
// they alias (in-place reshape).
void CopyOrAdd(const char* op, const TensorRef& in, const TensorRef& out, WriteMode mode);

// Sets every element of `out` to `value` converted to out's dtype.
void Fill(const TensorRef& out, double value);

// Sets every element of `out` to zero unless `mode` is kAdd (the start of a scatter-add).
void ZeroUnlessAdd(const TensorRef& out, WriteMode mode);

// The elements of an index tensor of any dtype as integers. MXNet's legacy ops carry indices as floats,
// so floats are truncated toward zero as MXNet casts them; NaN and values beyond int64 become INT64_MIN
// so that range checks reject them.
std::vector<int64_t> ReadIndices(const TensorRef& indices);

// Throws TypeError naming `op` and `what` unless `dtype` can hold indices (any numeric dtype, not bool).
void CheckIndexDType(const char* op, const char* what, DType dtype);

// Row-major strides of `shape`, in elements.
std::vector<int64_t> StridesOf(const Shape& shape);

// `shape` as a vector of dimensions.
std::vector<int64_t> DimsOf(const Shape& shape);

}  // namespace ops
}  // namespace pmx

#endif  // POLYMIX_CORE_OPS_INTERNAL_STRIDED_H_
