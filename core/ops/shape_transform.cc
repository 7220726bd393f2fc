// Operators that reorder or repeat elements, each one strided walk over the input (Note [Strided views]):
// transpose, SwapAxis, depth_to_space, space_to_depth, tile, repeat, reverse.
#include <numeric>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/ops/internal/op_builders.h"
#include "core/ops/internal/strided.h"

namespace pmx {
namespace ops {
namespace {

std::string TupleText(const std::vector<int64_t>& values) {
  return values.size() == 1 ? absl::StrCat("(", values[0], ",)") : "(" + absl::StrJoin(values, ", ") + ")";
}

// The walk over the input that produces the output, from the parameters and both shapes.
using ViewFn = std::function<StridedView(const OpParams&, const Shape& in, const Shape& out)>;

// An op with one input whose output gathers the input along the walk `view` builds; any dtype.
OpDef GatherOpDef(const std::string& name, const std::string& doc,
                  std::function<Shape(const OpParams&, const Shape&)> infer, ViewFn view) {
  OpDef def;
  def.name = name;
  def.family = "shape_transform";
  def.doc = doc;
  def.inputs = {"data"};
  def.infer_shape = [infer](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    (*out)[0] = infer(params, *(*in)[0]);
    return true;
  };
  def.kernels[DeviceType::kCPU] = [name, view](const KernelContext& context, absl::Span<const TensorRef> in,
                                               absl::Span<const TensorRef> out) {
    GatherStrided(name.c_str(), in[0], view(*context.params, in[0].shape, out[0].shape), out[0],
                  context.modes[0] == WriteMode::kAdd);
  };
  return def;
}

// transpose's axes, normalised and checked to be a permutation of the input's axes.
std::vector<int> TransposeAxes(const OpParams& params, int ndim) {
  const std::vector<int64_t>& given = params.Ints("axes");
  std::vector<int> axes(ndim);
  if (given.empty()) {
    for (int i = 0; i < ndim; ++i) axes[i] = ndim - 1 - i;
    return axes;
  }
  PMX_CHECK(static_cast<int>(given.size()) == ndim, kValueError,
            "[transpose] axes %s has %d entries: expected one per input dimension (%d)", TupleText(given),
            static_cast<int>(given.size()), ndim);
  std::vector<bool> seen(ndim, false);
  for (int i = 0; i < ndim; ++i) {
    axes[i] = NormalizeAxis(static_cast<int>(given[i]), ndim, "transpose");
    PMX_CHECK(!seen[axes[i]], kValueError, "[transpose] axes %s is not a permutation: axis %d appears twice",
              TupleText(given), axes[i]);
    seen[axes[i]] = true;
  }
  return axes;
}

Shape Permute(const Shape& shape, const std::vector<int>& axes) {
  std::vector<int64_t> dims;
  for (int axis : axes) dims.push_back(shape[axis]);
  return Shape(dims);
}

PMX_REGISTER_OP(transpose) {
  OpDef def = GatherOpDef(
      "transpose", "Permutes the axes: output axis i is input axis axes[i]; by default the axes are reversed.",
      [](const OpParams& params, const Shape& data) { return Permute(data, TransposeAxes(params, data.ndim())); },
      [](const OpParams& params, const Shape& in, const Shape&) {
        return PermutedView(in, TransposeAxes(params, in.ndim()));
      });
  def.params = {{"axes", ParamType::kShape, "()", false, false, {}, "Target axis order (default: reversed)."}};
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const std::vector<int64_t>& axes = args.params->Ints("axes");
    if (axes.empty()) return {b.Call1("transpose", {args.output_grads[0]})};
    // axes has one entry per dimension, so ndim is known here and negative axes can be resolved.
    const int ndim = static_cast<int>(axes.size());
    std::vector<int64_t> inverse(ndim);
    for (int i = 0; i < ndim; ++i) inverse[axes[i] < 0 ? axes[i] + ndim : axes[i]] = i;
    return {b.Call1("transpose", {args.output_grads[0]}, {{"axes", TupleText(inverse)}})};
  };
  return def;
}

std::vector<int> SwapAxes(const OpParams& params, int ndim) {
  std::vector<int> axes(ndim);
  std::iota(axes.begin(), axes.end(), 0);
  const int dim1 = NormalizeAxis(static_cast<int>(params.Int("dim1")), ndim, "SwapAxis");
  const int dim2 = NormalizeAxis(static_cast<int>(params.Int("dim2")), ndim, "SwapAxis");
  std::swap(axes[dim1], axes[dim2]);
  return axes;
}

PMX_REGISTER_OP(SwapAxis) {
  OpDef def = GatherOpDef(
      "SwapAxis", "Interchanges two axes of the input.",
      [](const OpParams& params, const Shape& data) { return Permute(data, SwapAxes(params, data.ndim())); },
      [](const OpParams& params, const Shape& in, const Shape&) {
        return PermutedView(in, SwapAxes(params, in.ndim()));
      });
  def.aliases = {"swapaxes"};
  def.params = {{"dim1", ParamType::kInt, "0", false, false, {}, "The first axis to swap."},
                {"dim2", ParamType::kInt, "0", false, false, {}, "The second axis to swap."}};
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("SwapAxis", {args.output_grads[0]}, args.params->ToStrings())};
  };
  return def;
}

// Checks the 4-D (N, C, H, W) input of depth_to_space/space_to_depth and returns the block size.
int64_t BlockSize(const char* op, const OpParams& params, const Shape& data) {
  const int64_t block = params.Int("block_size");
  PMX_CHECK(block > 0, kValueError, "[%s] block_size is %d: expected a positive integer", op, block);
  PMX_CHECK(data.ndim() == 4, kValueError, "[%s] input has shape %s: expected 4 dimensions (N, C, H, W)", op,
            data.ToString());
  return block;
}

PMX_REGISTER_OP(depth_to_space) {
  OpDef def = GatherOpDef(
      "depth_to_space",
      "Moves blocks of block_size*block_size channels into space: (N, C, H, W) -> (N, C/b^2, H*b, W*b); channel "
      "c' + C/b^2 * (i*b + j) lands at row offset i, column offset j (DCR order).",
      [](const OpParams& params, const Shape& data) {
        const int64_t b = BlockSize("depth_to_space", params, data);
        PMX_CHECK(data[1] % (b * b) == 0, kValueError,
                  "[depth_to_space] input has %d channels: expected a multiple of block_size^2 = %d", data[1], b * b);
        return Shape{data[0], data[1] / (b * b), data[2] * b, data[3] * b};
      },
      [](const OpParams& params, const Shape& in, const Shape&) {
        const int64_t b = params.Int("block_size");
        // The input as (N, b, b, C', H, W), walked in the output's (N, C', H, b, W, b) order.
        return PermutedView(Shape{in[0], b, b, in[1] / (b * b), in[2], in[3]}, {0, 3, 4, 1, 5, 2});
      });
  def.params = {{"block_size", ParamType::kInt, "", true, false, {}, "Side of the square blocks moved."}};
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("space_to_depth", {args.output_grads[0]}, args.params->ToStrings())};
  };
  return def;
}

PMX_REGISTER_OP(space_to_depth) {
  OpDef def = GatherOpDef(
      "space_to_depth",
      "Moves block_size x block_size spatial blocks into channels: (N, C, H, W) -> (N, C*b^2, H/b, W/b); the "
      "inverse of depth_to_space.",
      [](const OpParams& params, const Shape& data) {
        const int64_t b = BlockSize("space_to_depth", params, data);
        PMX_CHECK(data[2] % b == 0 && data[3] % b == 0, kValueError,
                  "[space_to_depth] input has shape %s: expected height and width multiples of block_size %d",
                  data.ToString(), b);
        return Shape{data[0], data[1] * b * b, data[2] / b, data[3] / b};
      },
      [](const OpParams& params, const Shape& in, const Shape&) {
        const int64_t b = params.Int("block_size");
        // The input as (N, C, H', b, W', b), walked in the output's (N, b, b, C, H', W') order.
        return PermutedView(Shape{in[0], in[1], in[2] / b, b, in[3] / b, b}, {0, 3, 5, 1, 2, 4});
      });
  def.params = {{"block_size", ParamType::kInt, "", true, false, {}, "Side of the square blocks moved."}};
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("depth_to_space", {args.output_grads[0]}, args.params->ToStrings())};
  };
  return def;
}

// tile's reps, checked; the input is promoted to len(reps) dimensions or reps padded with leading 1s.
std::vector<int64_t> TileReps(const OpParams& params) {
  const std::vector<int64_t>& reps = params.Ints("reps");
  for (int64_t r : reps) {
    PMX_CHECK(r >= 0, kValueError, "[tile] reps %s contains %d: expected non-negative counts", TupleText(reps), r);
  }
  return reps;
}

PMX_REGISTER_OP(tile) {
  OpDef def = GatherOpDef(
      "tile",
      "Repeats the whole input reps[i] times along axis i. With len(reps) > ndim the input gains leading axes of "
      "size 1; with len(reps) < ndim, reps gains leading 1s.",
      [](const OpParams& params, const Shape& data) {
        const std::vector<int64_t> reps = TileReps(params);
        if (reps.empty()) return data;
        const int ndim = std::max<int>(data.ndim(), static_cast<int>(reps.size()));
        std::vector<int64_t> dims(ndim);
        for (int i = 0; i < ndim; ++i) {
          const int di = i - (ndim - data.ndim()), ri = i - (ndim - static_cast<int>(reps.size()));
          dims[i] = (di >= 0 ? data[di] : 1) * (ri >= 0 ? reps[ri] : 1);
        }
        return Shape(dims);
      },
      [](const OpParams& params, const Shape& in, const Shape&) {
        const std::vector<int64_t>& reps = params.Ints("reps");
        const int ndim = std::max<int>(in.ndim(), static_cast<int>(reps.size()));
        const std::vector<int64_t> strides = StridesOf(in);
        // The output as (r0, e0, r1, e1, ...): stride 0 along each repetition axis.
        StridedView view;
        for (int i = 0; i < ndim; ++i) {
          const int di = i - (ndim - in.ndim()), ri = i - (ndim - static_cast<int>(reps.size()));
          view.dims.push_back(ri >= 0 ? reps[ri] : 1);
          view.strides.push_back(0);
          view.dims.push_back(di >= 0 ? in[di] : 1);
          view.strides.push_back(di >= 0 ? strides[di] : 0);
        }
        return view;
      });
  def.params = {{"reps", ParamType::kShape, "", true, false, {}, "How many times to repeat along each axis."}};
  // Note [Gradients of tile and repeat]
  // The output gradient, reshaped so that every repetition has its own axis, is summed back over those axes
  // with _sum_to_like against the input reshaped with a size-1 axis in the same places. Shapes are unknown
  // when the gradient is built, so the reshapes use Reshape's special values: with reverse=True,
  // (r, -1, -4) splits a trailing dimension into (r, rest) and -2 keeps the leading ones. Leading 1s are
  // added to both sides so that reps longer than the input's ndim work too.
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const std::vector<int64_t>& reps = args.params->Ints("reps");
    const Value g = args.output_grads[0], x = args.inputs[0];
    if (reps.empty()) return {g};
    for (int64_t r : reps) {
      if (r == 0) return {b.Call1("zeros_like", {x})};
    }
    std::vector<int64_t> lead(reps.size(), 1), split_grad = lead, split_like = {-2};
    lead.push_back(-2);
    split_grad.push_back(-2);
    for (int64_t r : reps) {
      split_grad.insert(split_grad.end(), {r, -1, -4});
      split_like.insert(split_like.end(), {1, -1, -4});
    }
    auto reshape = [&](Value v, const std::vector<int64_t>& shape) {
      return b.Call1("Reshape", {v}, {{"shape", TupleText(shape)}, {"reverse", "True"}});
    };
    const Value like = reshape(reshape(x, lead), split_like);
    const Value summed = b.Call1("_sum_to_like", {reshape(g, split_grad), like});
    return {b.Call1("reshape_like", {summed, x})};
  };
  return def;
}

// repeat's axis normalised against `ndim`, or -1 for None (repeat the flattened input).
int RepeatAxis(const OpParams& params, int ndim) {
  if (params.IsNone("axis")) return -1;
  return NormalizeAxis(static_cast<int>(params.Int("axis")), ndim, "repeat");
}

PMX_REGISTER_OP(repeat) {
  OpDef def = GatherOpDef(
      "repeat",
      "Repeats each element `repeats` times along `axis`, or of the flattened input when axis is None. As in "
      "MXNet 1.x, repeats=0 gives an empty array of shape (0,).",
      [](const OpParams& params, const Shape& data) {
        const int64_t repeats = params.Int("repeats");
        PMX_CHECK(repeats >= 0, kValueError, "[repeat] repeats is %d: expected a non-negative count", repeats);
        const int axis = RepeatAxis(params, data.ndim());
        if (repeats == 0) return Shape{0};
        if (axis < 0) return Shape{data.size() * repeats};
        std::vector<int64_t> dims = DimsOf(data);
        dims[axis] *= repeats;
        return Shape(dims);
      },
      [](const OpParams& params, const Shape& in, const Shape&) {
        const int64_t repeats = params.Int("repeats");
        const int axis = RepeatAxis(params, in.ndim());
        StridedView view;
        if (axis < 0) {
          view.dims = {in.size(), repeats};
          view.strides = {1, 0};
          return view;
        }
        view = ContiguousView(in);
        view.dims.insert(view.dims.begin() + axis + 1, repeats);
        view.strides.insert(view.strides.begin() + axis + 1, 0);
        return view;
      });
  def.params = {{"repeats", ParamType::kInt, "", true, false, {}, "Repetitions of each element."},
                {"axis", ParamType::kInt, "None", false, true, {},
                 "The axis to repeat along; None repeats the flattened input."}};
  // See Note [Gradients of tile and repeat]: split the repeated axis into (size, repeats) and sum.
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const int64_t repeats = args.params->Int("repeats");
    const Value g = args.output_grads[0], x = args.inputs[0];
    if (repeats == 0) return {b.Call1("zeros_like", {x})};
    const std::string r = std::to_string(repeats);
    ParamMap split_grad, split_like;
    if (args.params->IsNone("axis")) {
      split_grad = {{"shape", "(-1, " + r + ")"}};
      split_like = {{"shape", "(-1, 1)"}};
    } else {
      const int64_t axis = args.params->Int("axis");
      std::string zeros;
      if (axis >= 0) {
        for (int64_t i = 0; i < axis; ++i) zeros += "0, ";
        split_grad = {{"shape", "(" + zeros + "-4, -1, " + r + ", -2)"}};
        split_like = {{"shape", "(" + zeros + "-4, -1, 1, -2)"}};
      } else {
        for (int64_t i = 0; i < -axis - 1; ++i) zeros += ", 0";
        split_grad = {{"shape", "(-2, -1, " + r + ", -4" + zeros + ")"}, {"reverse", "True"}};
        split_like = {{"shape", "(-2, -1, 1, -4" + zeros + ")"}, {"reverse", "True"}};
      }
    }
    const Value summed =
        b.Call1("_sum_to_like", {b.Call1("Reshape", {g}, split_grad), b.Call1("Reshape", {x}, split_like)});
    return {b.Call1("reshape_like", {summed, x})};
  };
  return def;
}

PMX_REGISTER_OP(reverse) {
  OpDef def = GatherOpDef(
      "reverse", "Reverses the order of elements along the given axes.",
      [](const OpParams& params, const Shape& data) {
        std::vector<bool> seen(data.ndim(), false);
        for (int64_t given : params.Ints("axis")) {
          const int axis = NormalizeAxis(static_cast<int>(given), data.ndim(), "reverse");
          PMX_CHECK(!seen[axis], kValueError, "[reverse] axis %d is listed twice", axis);
          seen[axis] = true;
        }
        return data;
      },
      [](const OpParams& params, const Shape& in, const Shape&) {
        StridedView view = ContiguousView(in);
        for (int64_t given : params.Ints("axis")) {
          const int axis = NormalizeAxis(static_cast<int>(given), in.ndim(), "reverse");
          if (in[axis] == 0) continue;
          view.offset += (in[axis] - 1) * view.strides[axis];
          view.strides[axis] = -view.strides[axis];
        }
        return view;
      });
  def.aliases = {"flip"};
  def.params = {{"axis", ParamType::kShape, "", true, false, {}, "The axes to reverse."}};
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("reverse", {args.output_grads[0]}, args.params->ToStrings())};
  };
  return def;
}

}  // namespace
}  // namespace ops
}  // namespace pmx
