#include "core/backend/cuda/ops/geometry.h"

#include <cstdint>

#include "core/base/error.h"

namespace pmx {
namespace gpu {
namespace ops_kernels {

StridedGeometry MakeStridedGeometry(const char* op, const Shape& out, const Shape& a, const Shape* b) {
  const int ndim = out.ndim();
  const int inputs = b == nullptr ? 1 : 2;
  const Shape* shapes[2] = {&a, b};
  // Per input: its compact strides aligned to out's dimensions, 0 where it is broadcast.
  std::vector<int64_t> strides[2];
  for (int k = 0; k < inputs; ++k) {
    const Shape& shape = *shapes[k];
    PMX_CHECK(shape.ndim() <= ndim, kValueError, "[%s] input shape %s has more dimensions than the output %s", op,
              shape.ToString(), out.ToString());
    strides[k].assign(ndim, 0);
    int64_t stride = 1;
    for (int d = ndim - 1; d >= ndim - shape.ndim(); --d) {
      const int64_t size = shape[d - (ndim - shape.ndim())];
      PMX_CHECK(size == out[d] || size == 1, kValueError, "[%s] input shape %s does not broadcast to %s", op,
                shape.ToString(), out.ToString());
      strides[k][d] = size == 1 ? 0 : stride;
      stride *= size;
    }
  }
  // Merge, innermost first: dimension d joins the group to its right when, for every input, stepping d
  // equals stepping over the whole group (stride[d] == stride[group] * size[group]).
  std::vector<int64_t> sizes;                 // Innermost first.
  std::vector<int64_t> merged_strides[2];     // Innermost first.
  for (int d = ndim - 1; d >= 0; --d) {
    if (out[d] == 1) continue;
    bool mergeable = !sizes.empty();
    for (int k = 0; k < inputs && mergeable; ++k) {
      mergeable = strides[k][d] == merged_strides[k].back() * sizes.back();
    }
    if (mergeable) {
      sizes.back() *= out[d];
    } else {
      sizes.push_back(out[d]);
      for (int k = 0; k < inputs; ++k) merged_strides[k].push_back(strides[k][d]);
    }
  }
  const int merged = static_cast<int>(sizes.size());
  PMX_CHECK(merged <= kMaxDims, kNotImplementedError,
            "[%s] the GPU kernel handles at most %d dimensions after merging, given output shape %s (%d)", op,
            kMaxDims, out.ToString(), merged);
  StridedGeometry geometry;
  geometry.ndim = merged;
  for (int i = 0; i < merged; ++i) {
    const int d = merged - 1 - i;  // Outermost first.
    geometry.out_sizes[d] = sizes[i];
    geometry.strides[0][d] = merged_strides[0][i];
    geometry.strides[1][d] = inputs == 2 ? merged_strides[1][i] : 0;
  }
  return geometry;
}

std::vector<bool> ReducedAxes(const char* op, const OpParams& params, const Shape& in, const char* axis_name) {
  const int ndim = in.ndim();
  std::vector<bool> reduced(ndim, true);
  if (params.IsNone(axis_name)) return reduced;
  const std::vector<int64_t>& axes = params.Ints(axis_name);
  if (axes.empty()) return reduced;
  std::vector<bool> named(ndim, false);
  for (int64_t axis : axes) {
    const int64_t normalised = axis < 0 ? axis + ndim : axis;
    PMX_CHECK(normalised >= 0 && normalised < ndim, kValueError,
              "[%s] axis %d is out of range for an input of shape %s", op, axis, in.ToString());
    named[normalised] = true;
  }
  const bool exclude = params.Bool("exclude");
  for (int d = 0; d < ndim; ++d) reduced[d] = named[d] != exclude;
  return reduced;
}

ReduceGeometry MakeReduceGeometry(const char* op, const Shape& in, const std::vector<bool>& reduced) {
  std::vector<int64_t> sizes;
  std::vector<bool> kinds;
  for (int d = 0; d < in.ndim(); ++d) {
    if (in[d] == 1) continue;
    if (!sizes.empty() && kinds.back() == reduced[d]) {
      sizes.back() *= in[d];
    } else {
      sizes.push_back(in[d]);
      kinds.push_back(reduced[d]);
    }
  }
  ReduceGeometry geometry;
  int64_t stride = 1;
  std::vector<int64_t> strides(sizes.size());
  for (int i = static_cast<int>(sizes.size()) - 1; i >= 0; --i) {
    strides[i] = stride;
    stride *= sizes[i];
  }
  for (size_t i = 0; i < sizes.size(); ++i) {
    int32_t& ndim = kinds[i] ? geometry.reduced_ndim : geometry.kept_ndim;
    PMX_CHECK(ndim < kMaxDims, kNotImplementedError,
              "[%s] the GPU kernel handles at most %d %s axis groups, given input shape %s", op, kMaxDims,
              kinds[i] ? "reduced" : "kept", in.ToString());
    if (kinds[i]) {
      geometry.reduced_sizes[ndim] = sizes[i];
      geometry.reduced_strides[ndim] = strides[i];
      geometry.reduce_size *= sizes[i];
    } else {
      geometry.kept_sizes[ndim] = sizes[i];
      geometry.kept_strides[ndim] = strides[i];
      geometry.out_size *= sizes[i];
    }
    ++ndim;
  }
  geometry.inner_reduced = !kinds.empty() && kinds.back();
  return geometry;
}

}  // namespace ops_kernels
}  // namespace gpu
}  // namespace pmx
