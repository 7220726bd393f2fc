// Shared pieces of the _linalg_* families (core/ops/linalg*.cc): batches of matrices inside N-d tensors,
// conversion to double working copies, and OpDef shorthands.
#ifndef POLYMIX_CORE_OPS_INTERNAL_LINALG_COMMON_H_
#define POLYMIX_CORE_OPS_INTERNAL_LINALG_COMMON_H_

#include <string>
#include <vector>

#include "core/ops/internal/op_builders.h"

namespace pmx {
namespace ops {
namespace linalg {

// Note [Batches of matrices]
// A _linalg_* input of shape (..., m, n) is a batch of m x n matrices over its leading axes. gemm and gemm2
// also take `axis`, the row axis: the matrices are then (shape[axis], shape[-1]) and every other axis is a
// batch axis, in place (MXNet 1.9.1). Kernels other than the GEMMs compute in double on dense copies; the
// matrices are small in practice and this keeps one code path for every float dtype.

// Where the matrices of a tensor lie: (outer, rows, inner, cols) with rows at the row axis.
struct MatrixLayout {
  int64_t outer = 1, rows = 1, inner = 1, cols = 1;
  // Number of matrices.
  int64_t count() const { return outer * inner; }
  // Element offset of matrix `b` (b = o * inner + i).
  int64_t Offset(int64_t b) const { return (b / inner) * rows * inner * cols + (b % inner) * cols; }
  // Elements between consecutive rows of one matrix.
  int64_t row_stride() const { return inner * cols; }
};

// The layout of `shape` with rows at `row_axis` (normalised, < ndim - 1) and columns on the last axis.
MatrixLayout LayoutOf(const Shape& shape, int row_axis);

// The row axis of `params`' "axis" for an input of `ndim` dims; ValueError names `op` when invalid.
int RowAxis(const char* op, const OpParams& params, int ndim);

// Checks that `shape` is a batch of matrices (ndim >= 2), square when `square`; returns the matrix size.
int64_t CheckMatrices(const char* op, const char* input, const Shape& shape, bool square);

// `shape` without its last `count` axes, or (1,) when nothing is left (MXNet's legacy scalar shape).
Shape LeadingShape(const Shape& shape, int count);

// A dense double copy of every element of `ref` (any float dtype).
std::vector<double> ToDouble(const TensorRef& ref);

// Writes `values` (one per element of `out`) into `out`, honouring `add`.
void FromDouble(const std::vector<double>& values, const TensorRef& out, bool add);

// Calls fn(b) for every matrix index b in [0, count), threaded when the matrices are large enough.
void ForEachMatrix(int64_t count, int64_t cost_per_matrix, const std::function<void(int64_t)>& fn);

// An OpDef skeleton: name, "linalg_<suffix>" alias, family, doc, inputs, params, float dtypes.
OpDef LinalgOpDef(const std::string& name, const std::string& family, const std::string& doc,
                  std::vector<std::string> inputs, std::vector<ParamDef> params);

// "True"/"False".
inline const char* BoolText(bool value) { return value ? "True" : "False"; }

// Shorthands for gradients: the triangle of x (lower or upper, diagonal included) as a full matrix,
// the transpose of the last two axes, and scaling.
Value Triangle(GradientBuilder& b, Value x, bool lower);
Value Transpose(GradientBuilder& b, Value x);
Value Scale(GradientBuilder& b, Value x, double factor);
// gemm2(x, y) with transposes and a scale (row axis -2).
Value Gemm2(GradientBuilder& b, Value x, Value y, bool ta, bool tb, double alpha = 1.0);

}  // namespace linalg
}  // namespace ops
}  // namespace pmx

#endif  // POLYMIX_CORE_OPS_INTERNAL_LINALG_COMMON_H_
