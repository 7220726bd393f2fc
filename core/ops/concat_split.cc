// Joining and splitting along an axis: Concat, stack, SliceChannel (split), _split_v2, and the gradient
// helper _split_like.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/ops/internal/op_builders.h"
#include "core/ops/internal/strided.h"

namespace pmx {
namespace ops {
namespace {

// Note [Pieces along an axis]
// Joining and splitting see every array as (outer, axis * inner) rows: a piece's row is a contiguous run
// of its row in the whole array, starting at a fixed element offset. One loop moves those runs either
// way, run by run on several threads.
struct Piece {
  const TensorRef* tensor;  // The piece's data.
  int64_t offset;           // Element offset of the piece's run inside a row of the whole.
  int64_t width;            // Elements in the piece's run (its axis size times the inner size).
  WriteMode mode;           // How the destination is written.
};

// Copies runs between `whole` (rows of `row` elements) and the pieces: join (whole <- pieces) or split.
void MovePieces(const char* op, const TensorRef& whole, int64_t outer, int64_t row, const std::vector<Piece>& pieces,
                bool join, WriteMode whole_mode) {
  const int64_t count = static_cast<int64_t>(pieces.size());
  const size_t bytes = DTypeSize(whole.dtype);
  int64_t widest = 1;
  for (const Piece& piece : pieces) widest = std::max(widest, piece.width);
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / widest);
  DispatchAllowed<DTypes::kAll>(op, whole.dtype, [&](auto tag) {
    using T = decltype(tag);
    using C = ComputeType<T>;
    cpu::ParallelFor(outer * count, grain, [&](int64_t begin, int64_t end) {
      for (int64_t task = begin; task < end; ++task) {
        const int64_t o = task / count;
        const Piece& piece = pieces[task % count];
        if (piece.width == 0) continue;
        T* in_whole = whole.As<T>() + o * row + piece.offset;
        T* in_piece = piece.tensor->As<T>() + o * piece.width;
        const T* src = join ? in_piece : in_whole;
        T* dst = join ? in_whole : in_piece;
        const bool add = (join ? whole_mode : piece.mode) == WriteMode::kAdd;
        if (!add) {
          std::memcpy(dst, src, piece.width * bytes);
        } else {
          for (int64_t k = 0; k < piece.width; ++k) Store<T, C>(dst + k, static_cast<C>(src[k]), true);
        }
      }
    });
  });
}

int64_t Outer(const Shape& shape, int axis) {
  int64_t outer = 1;
  for (int d = 0; d < axis; ++d) outer *= shape[d];
  return outer;
}

int64_t Inner(const Shape& shape, int axis) {
  int64_t inner = 1;
  for (int d = axis + 1; d < shape.ndim(); ++d) inner *= shape[d];
  return inner;
}

// Pieces laid side by side from offset 0 with the given axis sizes.
std::vector<Piece> AdjacentPieces(absl::Span<const TensorRef> tensors, const std::vector<int64_t>& sizes,
                                  int64_t inner, const std::vector<WriteMode>& modes, int64_t start = 0) {
  std::vector<Piece> pieces;
  int64_t offset = start * inner;
  for (size_t i = 0; i < tensors.size(); ++i) {
    pieces.push_back({&tensors[i], offset, sizes[i] * inner, modes.empty() ? WriteMode::kWrite : modes[i]});
    offset += sizes[i] * inner;
  }
  return pieces;
}

// Checks that every input has the shape of input 0 except along `axis` (or everywhere when `axis` < 0).
void CheckAlike(const char* op, const std::vector<MaybeShape>& shapes, int axis) {
  const Shape& first = *shapes[0];
  for (size_t i = 1; i < shapes.size(); ++i) {
    const Shape& shape = *shapes[i];
    bool alike = shape.ndim() == first.ndim();
    for (int d = 0; alike && d < first.ndim(); ++d) alike = d == axis || shape[d] == first[d];
    PMX_CHECK(alike, kValueError, "[%s] input %d has shape %s, but input 0 has %s: expected equal sizes%s", op,
              static_cast<int>(i), shape.ToString(), first.ToString(),
              axis >= 0 ? absl::StrCat(" except along axis ", axis).c_str() : "");
  }
}

bool AllKnown(const std::vector<MaybeShape>& shapes) {
  return std::all_of(shapes.begin(), shapes.end(), [](const MaybeShape& s) { return s.has_value(); });
}

PMX_REGISTER_OP(Concat) {
  OpDef def;
  def.name = "Concat";
  def.aliases = {"concat"};
  def.family = "concat_split";
  def.doc = "Joins the inputs along axis `dim`; all other dimensions must agree.";
  def.inputs = {"data"};
  def.variadic_count_param = "num_args";
  def.params = {{"num_args", ParamType::kInt, "", true, false, {}, "Number of inputs to join."},
                {"dim", ParamType::kInt, "1", false, false, {}, "The axis to join along."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (in->empty() || !AllKnown(*in)) return false;
    const int axis = NormalizeAxis(static_cast<int>(params.Int("dim")), (*in)[0]->ndim(), "Concat");
    CheckAlike("Concat", *in, axis);
    std::vector<int64_t> dims = DimsOf(*(*in)[0]);
    dims[axis] = 0;
    for (const MaybeShape& shape : *in) dims[axis] += (*shape)[axis];
    (*out)[0] = Shape(dims);
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const Shape& shape = out[0].shape;
    const int axis = NormalizeAxis(static_cast<int>(context.params->Int("dim")), shape.ndim(), "Concat");
    const int64_t inner = Inner(shape, axis);
    std::vector<int64_t> sizes;
    for (const TensorRef& input : in) sizes.push_back(input.shape[axis]);
    MovePieces("Concat", out[0], Outer(shape, axis), shape[axis] * inner, AdjacentPieces(in, sizes, inner, {}), true,
               context.modes[0]);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    std::vector<Value> inputs = {args.output_grads[0]};
    inputs.insert(inputs.end(), args.inputs.begin(), args.inputs.end());
    const std::vector<Value> pieces =
        b.Call("_split_like", inputs,
               {{"num_args", std::to_string(inputs.size())}, {"axis", std::to_string(args.params->Int("dim"))}});
    return Grads(pieces.begin(), pieces.end());
  };
  return def;
}

PMX_REGISTER_OP(_split_like) {
  OpDef def;
  def.name = "_split_like";
  def.family = "concat_split";
  def.doc = "Gradient helper of Concat: splits args[0] along `axis` into num_args - 1 pieces shaped like "
            "args[1:] (their dtypes are ignored).";
  def.inputs = {"args"};
  def.variadic_count_param = "num_args";
  def.params = {{"num_args", ParamType::kInt, "", true, false, {}, "1 + the number of pieces."},
                {"axis", ParamType::kInt, "1", false, false, {}, "The axis to split along."}};
  def.num_outputs = [](const OpParams& params) { return static_cast<int>(params.Int("num_args")) - 1; };
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    PMX_CHECK(in->size() >= 2, kValueError, "[_split_like] expected at least 2 inputs (data and one piece)");
    if (!AllKnown(*in)) return false;
    const Shape& data = *(*in)[0];
    const int axis = NormalizeAxis(static_cast<int>(params.Int("axis")), data.ndim(), "_split_like");
    CheckAlike("_split_like", *in, axis);
    int64_t total = 0;
    for (size_t i = 1; i < in->size(); ++i) total += (*(*in)[i])[axis];
    PMX_CHECK(total == data[axis], kValueError,
              "[_split_like] the pieces add up to %d along axis %d, but data %s has %d", total, axis,
              data.ToString(), data[axis]);
    for (size_t i = 1; i < in->size(); ++i) (*out)[i - 1] = (*in)[i];
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0]) return false;
    for (auto& dtype : *out) dtype = (*in)[0];
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const Shape& shape = in[0].shape;
    const int axis = NormalizeAxis(static_cast<int>(context.params->Int("axis")), shape.ndim(), "_split_like");
    const int64_t inner = Inner(shape, axis);
    std::vector<int64_t> sizes;
    for (const TensorRef& piece : out) sizes.push_back(piece.shape[axis]);
    MovePieces("_split_like", in[0], Outer(shape, axis), shape[axis] * inner,
               AdjacentPieces(out, sizes, inner, context.modes), false, WriteMode::kWrite);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const Value joined = b.Call1("Concat", args.output_grads,
                                 {{"num_args", std::to_string(args.output_grads.size())},
                                  {"dim", std::to_string(args.params->Int("axis"))}});
    Grads grads = {joined};
    grads.resize(args.inputs.size(), std::nullopt);
    return grads;
  };
  return def;
}

PMX_REGISTER_OP(stack) {
  OpDef def;
  def.name = "stack";
  def.family = "concat_split";
  def.doc = "Joins inputs of one shape along a new axis at position `axis` of the output.";
  def.inputs = {"data"};
  def.variadic_count_param = "num_args";
  def.params = {{"axis", ParamType::kInt, "0", false, false, {}, "Position of the new axis in the output."},
                {"num_args", ParamType::kInt, "", true, false, {}, "Number of inputs to stack."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (in->empty() || !AllKnown(*in)) return false;
    CheckAlike("stack", *in, -1);
    std::vector<int64_t> dims = DimsOf(*(*in)[0]);
    const int axis = NormalizeAxis(static_cast<int>(params.Int("axis")), static_cast<int>(dims.size()) + 1, "stack");
    dims.insert(dims.begin() + axis, static_cast<int64_t>(in->size()));
    (*out)[0] = Shape(dims);
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const Shape& shape = out[0].shape;
    const int axis = NormalizeAxis(static_cast<int>(context.params->Int("axis")), shape.ndim(), "stack");
    const int64_t inner = Inner(shape, axis);
    MovePieces("stack", out[0], Outer(shape, axis), shape[axis] * inner,
               AdjacentPieces(in, std::vector<int64_t>(in.size(), 1), inner, {}), true, context.modes[0]);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const std::vector<Value> pieces = b.Call("SliceChannel", {args.output_grads[0]},
                                             {{"num_outputs", std::to_string(args.inputs.size())},
                                              {"axis", std::to_string(args.params->Int("axis"))},
                                              {"squeeze_axis", "True"}});
    return Grads(pieces.begin(), pieces.end());
  };
  return def;
}

// Gradient of a split along `axis`: the output gradients (re-expanded if the axis was squeezed) joined
// back, after a zero block standing for any leading part of the input no output covered.
Grads JoinGradients(GradientBuilder& b, const GradientArgs& args, int64_t axis, bool squeezed, int64_t skipped) {
  std::vector<Value> parts;
  if (skipped > 0) {
    const Value lead = b.Call1("slice_axis", {args.inputs[0]},
                               {{"axis", std::to_string(axis)}, {"begin", "0"}, {"end", std::to_string(skipped)}});
    parts.push_back(b.Call1("zeros_like", {lead}));
  }
  for (Value g : args.output_grads) {
    parts.push_back(squeezed ? b.Call1("expand_dims", {g}, {{"axis", std::to_string(axis)}}) : g);
  }
  return {b.Call1("Concat", parts, {{"num_args", std::to_string(parts.size())}, {"dim", std::to_string(axis)}})};
}

PMX_REGISTER_OP(SliceChannel) {
  OpDef def;
  def.name = "SliceChannel";
  def.aliases = {"split"};
  def.family = "concat_split";
  def.doc = "Splits the input along `axis` into num_outputs equal parts; squeeze_axis removes the axis when each "
            "part has size 1 along it.";
  def.inputs = {"data"};
  def.params = {{"num_outputs", ParamType::kInt, "", true, false, {}, "Number of parts."},
                {"axis", ParamType::kInt, "1", false, false, {}, "The axis to split along."},
                {"squeeze_axis", ParamType::kBool, "False", false, false, {},
                 "Remove the split axis from the outputs (requires num_outputs == its size)."}};
  def.num_outputs = [](const OpParams& params) { return static_cast<int>(params.Int("num_outputs")); };
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape& data = *(*in)[0];
    const int64_t parts = params.Int("num_outputs");
    PMX_CHECK(parts > 0, kValueError, "[SliceChannel] num_outputs is %d: expected a positive count", parts);
    const int axis = NormalizeAxis(static_cast<int>(params.Int("axis")), data.ndim(), "SliceChannel");
    PMX_CHECK(data[axis] % parts == 0, kValueError,
              "[SliceChannel] axis %d of shape %s has size %d: expected a multiple of num_outputs %d", axis,
              data.ToString(), data[axis], parts);
    std::vector<int64_t> dims = DimsOf(data);
    dims[axis] /= parts;
    if (params.Bool("squeeze_axis")) {
      PMX_CHECK(dims[axis] == 1, kValueError,
                "[SliceChannel] squeeze_axis needs parts of size 1, but axis %d of shape %s splits into parts of %d",
                axis, data.ToString(), dims[axis]);
      dims.erase(dims.begin() + axis);
    }
    for (auto& shape : *out) shape = Shape(dims);
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0]) return false;
    for (auto& dtype : *out) dtype = (*in)[0];
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const Shape& shape = in[0].shape;
    const int axis = NormalizeAxis(static_cast<int>(context.params->Int("axis")), shape.ndim(), "SliceChannel");
    const int64_t inner = Inner(shape, axis);
    const std::vector<int64_t> sizes(out.size(), shape[axis] / static_cast<int64_t>(out.size()));
    MovePieces("SliceChannel", in[0], Outer(shape, axis), shape[axis] * inner,
               AdjacentPieces(out, sizes, inner, context.modes), false, WriteMode::kWrite);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return JoinGradients(b, args, args.params->Int("axis"), args.params->Bool("squeeze_axis"), 0);
  };
  return def;
}

// _split_v2's section boundaries: start of each output, then the axis size.
std::vector<int64_t> SplitBounds(const OpParams& params, int64_t size) {
  const int64_t sections = params.Int("sections");
  std::vector<int64_t> bounds;
  if (sections > 0) {
    for (int64_t i = 0; i < sections; ++i) bounds.push_back(size / sections * i);
  } else {
    bounds = params.Ints("indices");
  }
  bounds.push_back(size);
  return bounds;
}

int NumSplits(const OpParams& params) {
  const int64_t sections = params.Int("sections");
  return static_cast<int>(sections > 0 ? sections : params.Ints("indices").size());
}

PMX_REGISTER_OP(_split_v2) {
  OpDef def;
  def.name = "_split_v2";
  def.family = "concat_split";
  def.doc = "Splits the input along `axis` at the start positions `indices` (output i covers [indices[i], "
            "indices[i+1]), the last one to the end), or into `sections` parts whose last takes any remainder.";
  def.inputs = {"data"};
  def.params = {{"indices", ParamType::kShape, "()", false, false, {}, "Start position of each output along axis."},
                {"axis", ParamType::kInt, "1", false, false, {}, "The axis to split along."},
                {"squeeze_axis", ParamType::kBool, "False", false, false, {},
                 "Remove the split axis from the outputs (each must have size 1 along it)."},
                {"sections", ParamType::kInt, "0", false, false, {}, "Number of equal parts; 0 splits by indices."}};
  def.num_outputs = NumSplits;
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape& data = *(*in)[0];
    PMX_CHECK(NumSplits(params) > 0, kValueError, "[_split_v2] expected sections > 0 or a non-empty indices");
    const int axis = NormalizeAxis(static_cast<int>(params.Int("axis")), data.ndim(), "_split_v2");
    const std::vector<int64_t> bounds = SplitBounds(params, data[axis]);
    for (size_t i = 0; i + 1 < bounds.size(); ++i) {
      std::vector<int64_t> dims = DimsOf(data);
      if (data[axis] > 0) {
        PMX_CHECK(bounds[i] >= 0 && bounds[i] < bounds[i + 1] && bounds[i + 1] <= data[axis], kValueError,
                  "[_split_v2] output %d would cover [%d, %d) of axis %d with size %d: expected a non-empty range "
                  "inside it", static_cast<int>(i), bounds[i], bounds[i + 1], axis, data[axis]);
      }
      dims[axis] = data[axis] > 0 ? bounds[i + 1] - bounds[i] : 0;
      if (params.Bool("squeeze_axis")) {
        PMX_CHECK(dims[axis] == 1, kValueError, "[_split_v2] squeeze_axis needs outputs of size 1 along axis %d, "
                  "output %d has %d", axis, static_cast<int>(i), dims[axis]);
        dims.erase(dims.begin() + axis);
      }
      (*out)[i] = Shape(dims);
    }
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0]) return false;
    for (auto& dtype : *out) dtype = (*in)[0];
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const Shape& shape = in[0].shape;
    const int axis = NormalizeAxis(static_cast<int>(context.params->Int("axis")), shape.ndim(), "_split_v2");
    if (shape[axis] == 0) return;
    const int64_t inner = Inner(shape, axis);
    const std::vector<int64_t> bounds = SplitBounds(*context.params, shape[axis]);
    std::vector<int64_t> sizes;
    for (size_t i = 0; i + 1 < bounds.size(); ++i) sizes.push_back(bounds[i + 1] - bounds[i]);
    MovePieces("_split_v2", in[0], Outer(shape, axis), shape[axis] * inner,
               AdjacentPieces(out, sizes, inner, context.modes, bounds[0]), false, WriteMode::kWrite);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const std::vector<int64_t>& indices = args.params->Ints("indices");
    const int64_t skipped = args.params->Int("sections") == 0 && !indices.empty() ? indices[0] : 0;
    return JoinGradients(b, args, args.params->Int("axis"), args.params->Bool("squeeze_axis"), skipped);
  };
  return def;
}

}  // namespace
}  // namespace ops
}  // namespace pmx
