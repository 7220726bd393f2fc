#include "core/ops/internal/reduce_kernel.h"

#include <algorithm>

#include "absl/strings/str_join.h"

namespace pmx {
namespace ops {

ReduceAxes ResolveReduceAxes(const char* op, const Shape& in, const std::optional<std::vector<int64_t>>& axis,
                             bool keepdims, bool exclude) {
  const int ndim = in.ndim();
  ReduceAxes result;
  result.reduced.assign(ndim, true);
  // MXNet: a missing or empty axis reduces everything, whatever `exclude` says.
  if (axis && !axis->empty()) {
    std::vector<bool> named(ndim, false);
    for (int64_t given : *axis) {
      const int64_t normalised = given < 0 ? given + ndim : given;
      PMX_CHECK(normalised >= 0 && normalised < ndim, kIndexError,
                "[%s] axis %d is out of range for an input of shape %s (expected -%d <= axis < %d)", op, given,
                in.ToString(), ndim, ndim);
      PMX_CHECK(!named[normalised], kValueError, "[%s] axis (%s) names axis %d twice", op,
                absl::StrJoin(*axis, ", "), normalised);
      named[normalised] = true;
    }
    for (int d = 0; d < ndim; ++d) result.reduced[d] = named[d] != exclude;
  }
  std::vector<int64_t> kept, out;
  for (int d = 0; d < ndim; ++d) {
    kept.push_back(result.reduced[d] ? 1 : in[d]);
    if (!result.reduced[d]) out.push_back(in[d]);
  }
  result.kept_shape = Shape(kept);
  if (keepdims) {
    result.out_shape = result.kept_shape;
  } else {
    // MXNet's legacy ops never return a 0-dimensional array: a full reduction gives shape (1,).
    if (out.empty()) out.push_back(1);
    result.out_shape = Shape(out);
  }
  return result;
}

std::optional<std::vector<int64_t>> OptionalAxes(const OpParams& params, const char* name) {
  if (params.IsNone(name)) return std::nullopt;
  return params.Ints(name);
}

std::vector<ParamDef> ReduceAxesParams() {
  return {{"axis", ParamType::kShape, "None", false, true, {},
           "The axis or axes to reduce; None or () reduces all elements into shape (1,)."},
          {"keepdims", ParamType::kBool, "False", false, false, {},
           "Whether to keep the reduced axes as dimensions of size 1."},
          {"exclude", ParamType::kBool, "False", false, false, {},
           "Whether to reduce over the axes NOT named in `axis` instead."}};
}

ReduceAxes ReduceAxesFromParams(const char* op, const OpParams& params, const Shape& in) {
  return ResolveReduceAxes(op, in, OptionalAxes(params, "axis"), params.Bool("keepdims"), params.Bool("exclude"));
}

GradientBuilder::Value BroadcastReduced(GradientBuilder& b, GradientBuilder::Value grad, GradientBuilder::Value like,
                                        const OpParams& forward, const char* axis_name, bool normalize) {
  const ParamMap all = forward.ToStrings();
  ParamMap params = {{"axis", all.at(axis_name)}, {"keepdims", all.at("keepdims")}};
  if (all.count("exclude")) params["exclude"] = all.at("exclude");
  if (normalize) params["normalize"] = "True";
  return b.Call1("_broadcast_reduced", {grad, like}, params);
}

ReduceGeometry::ReduceGeometry(const Shape& in, const std::vector<bool>& reduced) {
  // Merge adjacent axes of the same kind, skipping size-1 axes (they change neither loops nor offsets).
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
  int64_t stride = 1;
  std::vector<int64_t> strides(sizes.size());
  for (int i = static_cast<int>(sizes.size()) - 1; i >= 0; --i) {
    strides[i] = stride;
    stride *= sizes[i];
  }
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (kinds[i]) {
      reduced_sizes.push_back(sizes[i]);
      reduced_strides.push_back(strides[i]);
      reduce_size *= sizes[i];
    } else {
      kept_sizes.push_back(sizes[i]);
      kept_strides.push_back(strides[i]);
      out_size *= sizes[i];
    }
  }
  inner_reduced = !kinds.empty() && kinds.back();
}

}  // namespace ops
}  // namespace pmx
