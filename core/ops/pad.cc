// Pad (constant, edge and reflect padding) and its gradient helper _pad_grad.
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "core/ops/internal/op_builders.h"
#include "core/ops/internal/strided.h"

namespace pmx {
namespace ops {
namespace {

// For one axis of size `size` padded by `before` and `after`: the input index each output position reads,
// or -1 where the constant goes.
std::vector<int64_t> SourceMap(const std::string& mode, int64_t size, int64_t before, int64_t after) {
  std::vector<int64_t> map(size + before + after);
  for (int64_t o = 0; o < static_cast<int64_t>(map.size()); ++o) {
    int64_t i = o - before;
    if (i < 0 || i >= size) {
      if (mode == "constant") {
        i = -1;
      } else if (mode == "edge") {
        i = i < 0 ? 0 : size - 1;
      } else {  // reflect, mirroring about the edge elements (which are not repeated).
        i = i < 0 ? -i : 2 * (size - 1) - i;
      }
    }
    map[o] = i;
  }
  return map;
}

std::vector<std::vector<int64_t>> SourceMaps(const OpParams& params, const Shape& in) {
  const std::vector<int64_t>& pad = params.Ints("pad_width");
  std::vector<std::vector<int64_t>> maps;
  for (int d = 0; d < in.ndim(); ++d) maps.push_back(SourceMap(params.Str("mode"), in[d], pad[2 * d], pad[2 * d + 1]));
  return maps;
}

// Calls fn(out_index, in_offset) for every output position of the blocks [begin, end) of the leading
// `lead` axes, in row-major order; in_offset is -1 where the constant goes.
template <typename Fn>
void ForEachPosition(const std::vector<std::vector<int64_t>>& maps, const Shape& in, const Shape& out, int lead,
                     int64_t begin, int64_t end, Fn&& fn) {
  const int ndim = out.ndim();
  const std::vector<int64_t> in_strides = StridesOf(in);
  int64_t block = 1;
  for (int d = lead; d < ndim; ++d) block *= out[d];
  if (block == 0) return;
  std::vector<int64_t> index(ndim, 0);
  int64_t remainder = begin * block;
  for (int d = ndim - 1; d >= 0; --d) {
    index[d] = remainder % out[d];
    remainder /= out[d];
  }
  for (int64_t o = begin * block; o < end * block; ++o) {
    int64_t offset = 0;
    for (int d = 0; d < ndim && offset >= 0; ++d) {
      const int64_t i = maps[d][index[d]];
      offset = i < 0 ? -1 : offset + i * in_strides[d];
    }
    fn(o, offset);
    for (int d = ndim - 1; d >= 0; --d) {
      if (++index[d] < out[d]) break;
      index[d] = 0;
    }
  }
}

// The number of leading axes without padding: blocks along them touch disjoint input regions.
int UnpaddedLead(const std::vector<int64_t>& pad) {
  int lead = 0;
  while (2 * lead + 1 < static_cast<int>(pad.size()) && pad[2 * lead] == 0 && pad[2 * lead + 1] == 0) ++lead;
  return lead;
}

int64_t LeadBlocks(const Shape& shape, int lead) {
  int64_t blocks = 1;
  for (int d = 0; d < lead; ++d) blocks *= shape[d];
  return blocks;
}

std::vector<ParamDef> PadParams() {
  return {{"mode", ParamType::kEnum, "", true, false, {"constant", "edge", "reflect"},
           "constant pads with constant_value, edge repeats the edge values, reflect mirrors about the edges."},
          {"pad_width", ParamType::kShape, "", true, false, {},
           "Padding before and after each axis: (before_1, after_1, ..., before_N, after_N)."},
          {"constant_value", ParamType::kFloat, "0", false, false, {}, "The value padded in constant mode."}};
}

// The padded shape; checks pad_width against the input as MXNet does (reflect needs pads < the size).
Shape PaddedShape(const char* op, const OpParams& params, const Shape& data) {
  const std::vector<int64_t>& pad = params.Ints("pad_width");
  PMX_CHECK(static_cast<int>(pad.size()) == 2 * data.ndim(), kValueError,
            "[%s] pad_width has %d entries for an input of shape %s: expected 2 per axis (%d)", op,
            static_cast<int>(pad.size()), data.ToString(), 2 * data.ndim());
  const std::string& mode = params.Str("mode");
  std::vector<int64_t> dims;
  for (int d = 0; d < data.ndim(); ++d) {
    const int64_t before = pad[2 * d], after = pad[2 * d + 1];
    PMX_CHECK(before >= 0 && after >= 0, kValueError, "[%s] pad_width (%s) has a negative entry", op,
              absl::StrJoin(pad, ", "));
    if (mode == "reflect") {
      PMX_CHECK(before < data[d] && after < data[d], kValueError,
                "[%s] reflect padding of axis %d by (%d, %d) needs pads smaller than its size %d", op, d, before,
                after, data[d]);
    } else if (mode == "edge") {
      PMX_CHECK(data[d] > 0 || (before == 0 && after == 0), kValueError,
                "[%s] edge padding of axis %d, which has size 0, has no edge to repeat", op, d);
    }
    dims.push_back(data[d] + before + after);
  }
  return Shape(dims);
}

PMX_REGISTER_OP(Pad) {
  OpDef def;
  def.name = "Pad";
  def.aliases = {"pad"};
  def.family = "pad";
  def.doc =
      "Pads every axis by pad_width = (before_1, after_1, ..., before_N, after_N) with a constant, the edge "
      "values, or a reflection (numpy.pad's constant, edge and reflect modes). MXNet 1.x accepts only 4-D and "
      "5-D inputs padded on their last axes; Polymix accepts any rank.";
  def.inputs = {"data"};
  def.params = PadParams();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    (*out)[0] = PaddedShape("Pad", params, *(*in)[0]);
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const auto maps = SourceMaps(*context.params, in[0].shape);
    const double constant = context.params->Float("constant_value");
    const bool add = context.modes[0] == WriteMode::kAdd;
    const int lead = std::max(0, out[0].shape.ndim() - 1);  // Rows of the last axis.
    DispatchAllowed<DTypes::kAll>("Pad", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const T* x = in[0].As<T>();
      T* y = out[0].As<T>();
      const C fill = static_cast<C>(constant);
      cpu::ParallelFor(LeadBlocks(out[0].shape, lead), std::max<int64_t>(1, kElementwiseGrain / 64),
                       [&](int64_t begin, int64_t end) {
                         ForEachPosition(maps, in[0].shape, out[0].shape, lead, begin, end,
                                         [&](int64_t o, int64_t i) {
                                           Store<T, C>(y + o, i < 0 ? fill : static_cast<C>(x[i]), add);
                                         });
                       });
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const Value g = args.output_grads[0];
    if (args.params->Str("mode") != "constant") {
      return {b.Call1("_pad_grad", {g, args.inputs[0]}, args.params->ToStrings())};
    }
    // Constant padding: the gradient is the unpadded window of the output gradient.
    const std::vector<int64_t>& pad = args.params->Ints("pad_width");
    std::vector<std::string> begin, end;
    for (size_t d = 0; 2 * d + 1 < pad.size(); ++d) {
      begin.push_back(std::to_string(pad[2 * d]));
      end.push_back(pad[2 * d + 1] == 0 ? "None" : std::to_string(-pad[2 * d + 1]));
    }
    const std::string comma = begin.size() == 1 ? ",)" : ")";
    return {b.Call1("slice", {g},
                    {{"begin", "(" + absl::StrJoin(begin, ", ") + comma}, {"end", "(" + absl::StrJoin(end, ", ") + comma}})};
  };
  return def;
}

PMX_REGISTER_OP(_pad_grad) {
  OpDef def;
  def.name = "_pad_grad";
  def.family = "pad";
  def.doc =
      "Gradient helper of Pad: sums each element of `grad` (shaped like Pad's output) into the input position it "
      "was read from; the result has data's shape.";
  def.inputs = {"grad", "data"};
  def.params = PadParams();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1]) return false;
    const Shape padded = PaddedShape("_pad_grad", params, *(*in)[1]);
    PMX_CHECK(*(*in)[0] == padded, kValueError, "[_pad_grad] grad has shape %s: expected the padded shape %s",
              (*in)[0]->ToString(), padded.ToString());
    (*out)[0] = (*in)[1];
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const TensorRef& grad = in[0];
    const Shape& shape = out[0].shape;
    const auto maps = SourceMaps(*context.params, shape);
    const int lead = UnpaddedLead(context.params->Ints("pad_width"));
    ZeroUnlessAdd(out[0], context.modes[0]);
    DispatchAllowed<DTypes::kNumeric>("_pad_grad", grad.dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const T* g = grad.As<T>();
      T* x = out[0].As<T>();
      // Blocks along unpadded leading axes own disjoint input regions, so they may run in parallel.
      cpu::ParallelFor(LeadBlocks(grad.shape, lead), 1, [&](int64_t begin, int64_t end) {
        ForEachPosition(maps, shape, grad.shape, lead, begin, end, [&](int64_t o, int64_t i) {
          if (i >= 0) Store<T, C>(x + i, static_cast<C>(g[o]), true);
        });
      });
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    ParamMap params = args.params->ToStrings();
    params["constant_value"] = "0";
    return {b.Call1("Pad", {args.output_grads[0]}, params), std::nullopt};
  };
  return def;
}

}  // namespace
}  // namespace ops
}  // namespace pmx
