// Internal helper operators the nn families compose their gradients from: reductions that keep
// dimensions, reshapes that take their target shape from another array, and a dtype cast.
//
// Note [Shape-free gradients]
// A GradientFn runs before shapes are known to it (the graph gradient pass builds symbols), so a gradient
// cannot say "reshape to (N, C, 1, 1)". These helpers take the target shape from an array already in the
// graph (`like`) or from the forward parameters, which keeps every nn gradient a composition of ops and so
// differentiable again.
#include <vector>

#include "core/ops/nn/layers_common.h"

namespace pmx {
namespace ops {
namespace nn {
namespace {

// The axes _nn_sum_keepdims reduces: `axis` (all when empty), or every other axis with exclude.
std::vector<bool> ReducedAxes(const OpParams& params, int ndim) {
  std::vector<bool> reduced(ndim, params.Bool("exclude"));
  const auto& axes = params.Ints("axis");
  if (axes.empty()) return std::vector<bool>(ndim, true);
  for (int64_t axis : axes) {
    reduced[NormalizeAxis(static_cast<int>(axis), ndim, "_nn_sum_keepdims")] = !params.Bool("exclude");
  }
  return reduced;
}

PMX_REGISTER_OP(_nn_sum_keepdims) {
  OpDef def;
  def.name = "_nn_sum_keepdims";
  def.family = "nn/grad_helpers";
  def.doc = "Sums `data` over `axis` (every axis when empty; every other axis with exclude), keeping the reduced "
            "axes with size 1 (gradient helper).";
  def.inputs = {"data"};
  def.params = {{"axis", ParamType::kShape, "()", false, false, {}, "The axes to sum over; () means all."},
                {"exclude", ParamType::kBool, "False", false, false, {}, "Sum over the axes not listed instead."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape& data = *(*in)[0];
    const std::vector<bool> reduced = ReducedAxes(params, data.ndim());
    std::vector<int64_t> dims(data.dims().begin(), data.dims().end());
    for (int d = 0; d < data.ndim(); ++d) {
      if (reduced[d]) dims[d] = 1;
    }
    (*out)[0] = Shape(dims);
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType("_nn_sum_keepdims", DTypes::kNumeric, in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const Shape& shape = in[0].shape;
    const std::vector<int64_t> strides = shape.Strides();
    // Offsets (in the input) of every combination of reduced indices, so each output element is one loop.
    std::vector<int64_t> offsets = {0};
    for (int d = 0; d < shape.ndim(); ++d) {
      if (out[0].shape[d] != 1 || shape[d] == 1) continue;
      std::vector<int64_t> grown;
      grown.reserve(offsets.size() * shape[d]);
      for (int64_t offset : offsets) {
        for (int64_t i = 0; i < shape[d]; ++i) grown.push_back(offset + i * strides[d]);
      }
      offsets.swap(grown);
    }
    const bool add = context.modes[0] == WriteMode::kAdd;
    DispatchAllowed<DTypes::kNumeric>("_nn_sum_keepdims", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      using A = std::conditional_t<kIsFloat<T>, double, C>;  // Float sums accumulate in double.
      const T* x = in[0].As<T>();
      T* y = out[0].As<T>();
      cpu::ParallelFor(out[0].size(), RowGrain(static_cast<int64_t>(offsets.size())), [&](int64_t begin, int64_t end) {
        for (int64_t o = begin; o < end; ++o) {
          int64_t base = 0, rest = o;  // The input offset of output element o's first summand.
          for (int d = shape.ndim() - 1; d >= 0; --d) {
            const int64_t size = out[0].shape[d];
            base += (rest % size) * strides[d];
            rest /= size;
          }
          A sum = 0;
          for (int64_t offset : offsets) sum += static_cast<A>(static_cast<C>(x[base + offset]));
          Store<T, C>(y + o, static_cast<C>(sum), add);
        }
      });
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("broadcast_like", {args.output_grads[0], args.inputs[0]})};
  };
  return def;
}

// An op copying `data` into a new shape chosen by `shape_of(params, data shape, like shape)`.
OpDef ReshapeDef(const std::string& name, const std::string& doc, std::vector<std::string> inputs,
                 std::function<Shape(const OpParams&, const Shape&, const Shape*)> shape_of) {
  OpDef def;
  def.name = name;
  def.family = "nn/grad_helpers";
  def.doc = doc;
  def.inputs = std::move(inputs);
  def.infer_shape = [name, shape_of](const OpParams& params, std::vector<MaybeShape>* in,
                                     std::vector<MaybeShape>* out) {
    for (const MaybeShape& shape : *in) {
      if (!shape) return false;
    }
    const Shape& data = *(*in)[0];
    const Shape target = shape_of(params, data, in->size() > 1 ? &*(*in)[1] : nullptr);
    PMX_CHECK(target.size() == data.size(), kValueError, "[%s] cannot reshape %s (%d elements) to %s", name,
              data.ToString(), static_cast<int>(data.size()), target.ToString());
    (*out)[0] = target;
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0]) return false;
    (*out)[0] = (*in)[0];
    return true;
  };
  def.kernels[DeviceType::kCPU] = UnaryKernel<DTypes::kAll>(name, [](auto x) { return x; });
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    Grads grads = {ReshapeLike(b, args.output_grads[0], args.inputs[0])};
    grads.resize(args.inputs.size(), std::nullopt);
    return grads;
  };
  return def;
}

PMX_REGISTER_OP(_nn_reshape_like) {
  return ReshapeDef("_nn_reshape_like", "Reshapes `data` to the shape of `like` (same size; gradient helper).",
                    {"data", "like"}, [](const OpParams&, const Shape&, const Shape* like) { return *like; });
}

PMX_REGISTER_OP(_nn_axis_vector) {
  OpDef def = ReshapeDef(
      "_nn_axis_vector",
      "Shapes a 1-D per-channel vector to broadcast along `axis` of `like` (size k at axis, 1 elsewhere); an input "
      "with like's number of dimensions passes unchanged (gradient helper).",
      {"data", "like"}, [](const OpParams& params, const Shape& data, const Shape* like) {
        if (data.ndim() == like->ndim()) return data;
        PMX_CHECK(data.ndim() == 1, kValueError, "[_nn_axis_vector] data has shape %s: expected 1 or %d dimensions",
                  data.ToString(), like->ndim());
        const int axis = NormalizeAxis(static_cast<int>(params.Int("axis")), like->ndim(), "_nn_axis_vector");
        std::vector<int64_t> dims(like->ndim(), 1);
        dims[axis] = data[0];
        return Shape(dims);
      });
  def.params = {{"axis", ParamType::kInt, "1", false, false, {}, "The axis of `like` the vector runs along."}};
  return def;
}

PMX_REGISTER_OP(_nn_group_channels) {
  OpDef def = ReshapeDef(
      "_nn_group_channels",
      "Views (N, C, ...) data as (N, num_groups, C / num_groups * ...), the layout GroupNorm normalizes in "
      "(gradient helper).",
      {"data"}, [](const OpParams& params, const Shape& data, const Shape*) {
        const int64_t groups = params.Int("num_groups");
        PMX_CHECK(data.ndim() >= 2 && groups > 0 && data[1] % groups == 0, kValueError,
                  "[_nn_group_channels] data has shape %s: expected (N, C, ...) with C divisible by num_groups=%d",
                  data.ToString(), static_cast<int>(groups));
        return Shape({data[0], groups, data.size() / std::max<int64_t>(data[0], 1) / groups});
      });
  def.params = {{"num_groups", ParamType::kInt, "1", false, false, {}, "Number of channel groups."}};
  return def;
}

PMX_REGISTER_OP(_nn_cast_like) {
  OpDef def;
  def.name = "_nn_cast_like";
  def.family = "nn/grad_helpers";
  def.doc = "Casts `data` to the dtype of `like` (gradient helper for ops with an output dtype parameter).";
  def.inputs = {"data", "like"};
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1]) return false;
    (*out)[0] = (*in)[0];
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0] || !(*in)[1]) return false;
    (*out)[0] = (*in)[1];
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    DispatchDType(in[0].dtype, [&](auto in_tag) {
      using S = decltype(in_tag);
      DispatchDType(out[0].dtype, [&](auto out_tag) {
        using T = decltype(out_tag);
        using C = ComputeType<T>;
        const S* x = in[0].As<S>();
        T* y = out[0].As<T>();
        const bool add = context.modes[0] == WriteMode::kAdd;
        cpu::ParallelFor(in[0].size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) {
            Store<T, C>(y + i, static_cast<C>(static_cast<ComputeType<S>>(x[i])), add);
          }
        });
      });
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("_nn_cast_like", {args.output_grads[0], args.inputs[0]}), std::nullopt};
  };
  return def;
}

}  // namespace
}  // namespace nn
}  // namespace ops
}  // namespace pmx
