// Slicing: slice (with steps and None entries), slice_axis, slice_like, the assignments _slice_assign and
// _slice_assign_scalar, and the gradient helper _slice_like_grad.
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/ops/internal/op_builders.h"
#include "core/ops/internal/strided.h"

namespace pmx {
namespace ops {
namespace {

using OptionalInts = std::vector<std::optional<int64_t>>;

// Note [Slice parameters]
// slice's begin, end and step are tuples whose entries may be None ("(None, 2)"). The shared Shape
// parameter type reads None as -1, which is a valid index here, so these three are declared as strings
// and parsed below; the schema documents their tuple form.
OptionalInts ParseOptionalInts(const char* op, const OpParams& params, const char* name) {
  const std::string& text = params.Str(name);
  absl::string_view body = absl::StripAsciiWhitespace(text);
  auto bad = [&]() {
    Throw(ErrorKind::kValueError, "[%s] parameter '%s' is '%s': expected a tuple of integers or None such as (0, None)",
          op, name, text);
  };
  if (!body.empty() && (body.front() == '(' || body.front() == '[')) {
    if (body.size() < 2 || body.back() != (body.front() == '(' ? ')' : ']')) bad();
    body = body.substr(1, body.size() - 2);
  }
  OptionalInts values;
  if (absl::StripAsciiWhitespace(body).empty()) return values;
  for (absl::string_view item : absl::StrSplit(body, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (item.empty()) continue;  // "(2,)".
    if (absl::EndsWith(item, "L")) item.remove_suffix(1);
    int64_t value;
    if (item == "None" || item == "none") {
      values.push_back(std::nullopt);
    } else if (absl::SimpleAtoi(item, &value)) {
      values.push_back(value);
    } else {
      bad();
    }
  }
  return values;
}

// The resolved range of one sliced axis: first index, step and number of elements.
struct AxisRange {
  int64_t begin = 0, step = 1, size = 0;
};

// Resolves begin/end/step against `shape` with MXNet's rules (Python slicing: negative indices count from
// the end, out-of-range bounds are clamped, None takes the default for the step's sign). Axes beyond the
// given tuples are taken whole.
std::vector<AxisRange> SliceRanges(const char* op, const OpParams& params, const Shape& shape) {
  const OptionalInts begin = ParseOptionalInts(op, params, "begin");
  const OptionalInts end = ParseOptionalInts(op, params, "end");
  const OptionalInts step = ParseOptionalInts(op, params, "step");
  PMX_CHECK(shape.ndim() > 0, kValueError, "[%s] cannot slice a scalar (shape ())", op);
  PMX_CHECK(begin.size() == end.size(), kValueError, "[%s] begin has %d entries and end %d: expected the same number",
            op, static_cast<int>(begin.size()), static_cast<int>(end.size()));
  PMX_CHECK(static_cast<int>(begin.size()) <= shape.ndim(), kValueError,
            "[%s] begin and end have %d entries for an input of shape %s: expected at most one per axis", op,
            static_cast<int>(begin.size()), shape.ToString());
  PMX_CHECK(step.empty() || step.size() == begin.size(), kValueError,
            "[%s] step has %d entries and begin %d: expected the same number (or no step)", op,
            static_cast<int>(step.size()), static_cast<int>(begin.size()));
  std::vector<AxisRange> ranges(shape.ndim());
  for (int i = 0; i < shape.ndim(); ++i) {
    const int64_t len = shape[i];
    if (i >= static_cast<int>(begin.size())) {
      ranges[i] = {0, 1, len};
      continue;
    }
    const int64_t s = !step.empty() && step[i] ? *step[i] : 1;
    PMX_CHECK(s != 0, kValueError, "[%s] step[%d] is 0: expected a non-zero step", op, i);
    int64_t b = 0, e = 0;
    if (len > 0) {
      b = begin[i] ? *begin[i] : (s < 0 ? len - 1 : 0);
      e = end[i] ? *end[i] : (s < 0 ? -1 : len);
      if (b < 0) b += len;
      if (e < 0 && end[i]) e += len;
      if (b < 0 && s > 0) b = 0;
      if (b > len - 1 && s < 0) b = len - 1;
      if (b < 0 || b > len - 1) b = -1;
      e = std::min(std::max<int64_t>(e, -1), len);
    }
    int64_t size = 0;
    if (e != b && b >= 0) size = s > 0 ? (e > b ? (e - b - 1) / s + 1 : 0) : (e < b ? (b - e - 1) / (-s) + 1 : 0);
    ranges[i] = {b < 0 ? 0 : b, s, size};
  }
  return ranges;
}

Shape SlicedShape(const std::vector<AxisRange>& ranges) {
  std::vector<int64_t> dims;
  for (const AxisRange& range : ranges) dims.push_back(range.size);
  return Shape(dims);
}

// The walk over a tensor of `shape` that visits the slice described by `ranges`.
StridedView SliceView(const Shape& shape, const std::vector<AxisRange>& ranges) {
  StridedView view = ContiguousView(shape);
  for (size_t i = 0; i < ranges.size(); ++i) {
    view.dims[i] = ranges[i].size;
    if (ranges[i].size > 0) view.offset += ranges[i].begin * view.strides[i];
    view.strides[i] *= ranges[i].step;
  }
  return view;
}

// The slice parameters shared by slice, _slice_assign and _slice_assign_scalar.
std::vector<ParamDef> SliceParams() {
  return {{"begin", ParamType::kString, "", true, false, {},
           "Starting indices of the slice per axis, a tuple of ints or None, e.g. (0, None)."},
          {"end", ParamType::kString, "", true, false, {}, "Ending indices (exclusive) per axis, ints or None."},
          {"step", ParamType::kString, "()", false, false, {}, "Steps per axis, ints or None (default 1)."}};
}

// Slice parameters as text for ops called from gradients.
ParamMap SliceParamText(const OpParams& params) {
  return {{"begin", params.Str("begin")}, {"end", params.Str("end")}, {"step", params.Str("step")}};
}

PMX_REGISTER_OP(slice) {
  OpDef def;
  def.name = "slice";
  def.aliases = {"crop"};
  def.family = "slice";
  def.doc =
      "Slices a region out of the input: along axis k, from begin[k] (inclusive) to end[k] (exclusive) by "
      "step[k], with Python's rules for negative and out-of-range indices; None entries take the default for "
      "the step's sign. Axes past the given tuples are kept whole.";
  def.inputs = {"data"};
  def.params = SliceParams();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    (*out)[0] = SlicedShape(SliceRanges("slice", params, *(*in)[0]));
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const auto ranges = SliceRanges("slice", *context.params, in[0].shape);
    GatherStrided("slice", in[0], SliceView(in[0].shape, ranges), out[0], context.modes[0] == WriteMode::kAdd);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const Value zeros = b.Call1("zeros_like", {args.inputs[0]});
    return {b.Call1("_slice_assign", {zeros, args.output_grads[0]}, SliceParamText(*args.params))};
  };
  return def;
}

// Copies `base` into `out`, then writes `write_slice(target)` into the slice; for kAdd the assembled
// array is built in scratch memory first and added.
template <typename WriteSlice>
void AssignSlice(const KernelContext& context, const TensorRef& base, const TensorRef& out, WriteSlice write_slice) {
  if (context.modes[0] != WriteMode::kAdd) {
    CopyOrAdd("_slice_assign", base, out, WriteMode::kWrite);
    write_slice(out);
    return;
  }
  std::vector<char> scratch(out.size() * DTypeSize(out.dtype));
  TensorRef assembled = out;
  assembled.data = scratch.data();
  CopyOrAdd("_slice_assign", base, assembled, WriteMode::kWrite);
  write_slice(assembled);
  CopyOrAdd("_slice_assign", assembled, out, WriteMode::kAdd);
}

PMX_REGISTER_OP(_slice_assign) {
  OpDef def;
  def.name = "_slice_assign";
  def.aliases = {"_crop_assign"};
  def.family = "slice";
  def.doc = "Returns lhs with the slice (begin, end, step) replaced by rhs, which has the slice's shape.";
  def.inputs = {"lhs", "rhs"};
  def.params = SliceParams();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1]) return false;
    const Shape sliced = SlicedShape(SliceRanges("_slice_assign", params, *(*in)[0]));
    PMX_CHECK(*(*in)[1] == sliced, kValueError, "[_slice_assign] rhs has shape %s: expected the slice's shape %s",
              (*in)[1]->ToString(), sliced.ToString());
    (*out)[0] = (*in)[0];
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const StridedView view = SliceView(in[0].shape, SliceRanges("_slice_assign", *context.params, in[0].shape));
    AssignSlice(context, in[0], out[0],
                [&](const TensorRef& target) { ScatterStrided("_slice_assign", in[1], target, view, false); });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    ParamMap zero = SliceParamText(*args.params);
    zero["scalar"] = "0";
    return {b.Call1("_slice_assign_scalar", {args.output_grads[0]}, zero),
            b.Call1("slice", {args.output_grads[0]}, SliceParamText(*args.params))};
  };
  def.inplace = {{0, 0}};
  return def;
}

PMX_REGISTER_OP(_slice_assign_scalar) {
  OpDef def;
  def.name = "_slice_assign_scalar";
  def.aliases = {"_crop_assign_scalar"};
  def.family = "slice";
  def.doc = "Returns the input with every element of the slice (begin, end, step) set to `scalar`.";
  def.inputs = {"data"};
  def.params = SliceParams();
  def.params.insert(def.params.begin(),
                    ParamDef{"scalar", ParamType::kFloat, "0", false, false, {}, "The value assigned to the slice."});
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    SliceRanges("_slice_assign_scalar", params, *(*in)[0]);  // Validates the parameters.
    (*out)[0] = (*in)[0];
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const auto ranges = SliceRanges("_slice_assign_scalar", *context.params, in[0].shape);
    const StridedView view = SliceView(in[0].shape, ranges);
    std::vector<char> block(view.size() * DTypeSize(in[0].dtype));
    TensorRef filled = in[0];
    filled.data = block.data();
    filled.shape = SlicedShape(ranges);
    Fill(filled, context.params->Float("scalar"));
    AssignSlice(context, in[0], out[0], [&](const TensorRef& target) {
      ScatterStrided("_slice_assign_scalar", filled, target, view, false);
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    ParamMap zero = SliceParamText(*args.params);
    zero["scalar"] = "0";
    return {b.Call1("_slice_assign_scalar", {args.output_grads[0]}, zero)};
  };
  def.inplace = {{0, 0}};
  return def;
}

// slice_axis's range: axis normalised, begin and end resolved (negative counts from the end).
AxisRange AxisSliceRange(const OpParams& params, const Shape& shape, int* axis) {
  *axis = NormalizeAxis(static_cast<int>(params.Int("axis")), shape.ndim(), "slice_axis");
  const int64_t len = shape[*axis];
  int64_t begin = params.Int("begin");
  int64_t end = params.IsNone("end") ? len : params.Int("end");
  if (len == 0) return {0, 1, 0};
  if (begin < 0) begin += len;
  if (end < 0) end += len;
  PMX_CHECK(begin >= 0 && begin < len && end > 0 && end <= len, kIndexError,
            "[slice_axis] begin %d and end %s are out of range for axis %d of size %d", params.Int("begin"),
            params.IsNone("end") ? std::string("None") : std::to_string(params.Int("end")), *axis, len);
  PMX_CHECK(begin < end, kValueError, "[slice_axis] begin %d is not before end %d on axis %d of size %d", begin, end,
            *axis, len);
  return {begin, 1, end - begin};
}

PMX_REGISTER_OP(slice_axis) {
  OpDef def;
  def.name = "slice_axis";
  def.family = "slice";
  def.doc = "Slices along one axis from `begin` to `end` (exclusive; None means the end); negative indices count "
            "from the end.";
  def.inputs = {"data"};
  def.params = {{"axis", ParamType::kInt, "", true, false, {}, "The axis to slice along."},
                {"begin", ParamType::kInt, "", true, false, {}, "First index of the slice."},
                {"end", ParamType::kInt, "", true, true, {}, "End of the slice (exclusive), or None."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    int axis;
    const AxisRange range = AxisSliceRange(params, *(*in)[0], &axis);
    std::vector<int64_t> dims = DimsOf(*(*in)[0]);
    dims[axis] = range.size;
    (*out)[0] = Shape(dims);
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    int axis;
    const AxisRange range = AxisSliceRange(*context.params, in[0].shape, &axis);
    std::vector<AxisRange> ranges;
    for (int d = 0; d < in[0].shape.ndim(); ++d) ranges.push_back({0, 1, in[0].shape[d]});
    ranges[axis] = range;
    GatherStrided("slice_axis", in[0], SliceView(in[0].shape, ranges), out[0], context.modes[0] == WriteMode::kAdd);
  };
  // The gradient writes the output gradient into zeros with _slice_assign. A negative axis cannot be spelt
  // as slice parameters without knowing ndim, so that axis is first swapped to the front.
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const int64_t axis = args.params->Int("axis");
    const std::string begin = std::to_string(args.params->Int("begin"));
    const std::string end = args.params->IsNone("end") ? "None" : std::to_string(args.params->Int("end"));
    const Value g = args.output_grads[0];
    const Value zeros = b.Call1("zeros_like", {args.inputs[0]});
    if (axis >= 0) {
      std::string lead;
      for (int64_t i = 0; i < axis; ++i) lead += "None, ";
      return {b.Call1("_slice_assign", {zeros, g}, {{"begin", "(" + lead + begin + ",)"}, {"end", "(" + lead + end + ",)"}})};
    }
    const ParamMap swap = {{"dim1", "0"}, {"dim2", std::to_string(axis)}};
    const Value assigned = b.Call1("_slice_assign", {b.Call1("SwapAxis", {zeros}, swap), b.Call1("SwapAxis", {g}, swap)},
                                   {{"begin", "(" + begin + ",)"}, {"end", "(" + end + ",)"}});
    return {b.Call1("SwapAxis", {assigned}, swap)};
  };
  return def;
}

// slice_like's output shape: data's shape with the listed axes (default all) cut to shape_like's sizes.
Shape SliceLikeShape(const OpParams& params, const Shape& data, const Shape& like) {
  const std::vector<int64_t>& axes = params.Ints("axes");
  std::vector<int64_t> dims = DimsOf(data);
  std::vector<int> chosen;
  if (axes.empty()) {
    PMX_CHECK(data.ndim() == like.ndim(), kValueError,
              "[slice_like] data has shape %s and shape_like %s: without axes they need the same ndim",
              data.ToString(), like.ToString());
    for (int d = 0; d < data.ndim(); ++d) chosen.push_back(d);
  } else {
    for (int64_t given : axes) {
      const int axis = NormalizeAxis(static_cast<int>(given), data.ndim(), "slice_like");
      PMX_CHECK(axis < like.ndim(), kIndexError, "[slice_like] axis %d is out of range for shape_like of shape %s",
                static_cast<int>(given), like.ToString());
      chosen.push_back(axis);
    }
  }
  for (int axis : chosen) {
    PMX_CHECK(like[axis] <= data[axis], kValueError,
              "[slice_like] axis %d of shape_like has size %d, larger than data's %d (shapes %s and %s)", axis,
              like[axis], data[axis], like.ToString(), data.ToString());
    dims[axis] = like[axis];
  }
  return Shape(dims);
}

// The walk over a tensor of `shape` that visits its leading corner of shape `corner`.
StridedView CornerView(const Shape& shape, const Shape& corner) {
  StridedView view = ContiguousView(shape);
  view.dims = DimsOf(corner);
  return view;
}

// Dtype inference for ops whose second input only lends its shape.
bool FirstInputDType(const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
  if (!(*in)[0]) return false;
  (*out)[0] = (*in)[0];
  return true;
}

PMX_REGISTER_OP(slice_like) {
  OpDef def;
  def.name = "slice_like";
  def.family = "slice";
  def.doc = "Slices data from index 0 to the sizes of shape_like along `axes` (default: all axes).";
  def.inputs = {"data", "shape_like"};
  def.params = {{"axes", ParamType::kShape, "()", false, false, {}, "The axes to slice (default: all)."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1]) return false;
    (*out)[0] = SliceLikeShape(params, *(*in)[0], *(*in)[1]);
    return true;
  };
  def.infer_type = FirstInputDType;
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    GatherStrided("slice_like", in[0], CornerView(in[0].shape, out[0].shape), out[0],
                  context.modes[0] == WriteMode::kAdd);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("_slice_like_grad", {args.output_grads[0], args.inputs[0]}), std::nullopt};
  };
  return def;
}

PMX_REGISTER_OP(_slice_like_grad) {
  OpDef def;
  def.name = "_slice_like_grad";
  def.family = "slice";
  def.doc = "Gradient helper of slice_like: zeros shaped like data with `grad` written at its leading corner.";
  def.inputs = {"grad", "data"};
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1]) return false;
    const Shape& grad = *(*in)[0];
    const Shape& data = *(*in)[1];
    bool fits = grad.ndim() == data.ndim();
    for (int d = 0; fits && d < grad.ndim(); ++d) fits = grad[d] <= data[d];
    PMX_CHECK(fits, kValueError, "[_slice_like_grad] grad of shape %s does not fit in data of shape %s",
              grad.ToString(), data.ToString());
    (*out)[0] = data;
    return true;
  };
  def.infer_type = FirstInputDType;
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    ZeroUnlessAdd(out[0], context.modes[0]);
    ScatterStrided("_slice_like_grad", in[0], out[0], CornerView(out[0].shape, in[0].shape),
                   context.modes[0] == WriteMode::kAdd);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("slice_like", {args.output_grads[0], args.inputs[0]}), std::nullopt};
  };
  return def;
}

}  // namespace
}  // namespace ops
}  // namespace pmx
