// Reductions over axes (sum, mean, prod, nansum, nanprod, max, min) and the gradient helpers
// _broadcast_reduced and _sum_to_like. norm, moments and the arg-reductions are in reduce_stats.cc.
#include <vector>

#include "core/ops/internal/op_builders.h"
#include "core/ops/internal/reduce_kernel.h"

namespace pmx {
namespace ops {

namespace {

bool InferReduceShape(const char* op, const OpParams& params, std::vector<MaybeShape>* in,
                      std::vector<MaybeShape>* out, bool needs_elements) {
  if (!(*in)[0]) return false;
  const ReduceAxes axes = ReduceAxesFromParams(op, params, *(*in)[0]);
  if (needs_elements) {
    const ReduceGeometry geometry(*(*in)[0], axes.reduced);
    PMX_CHECK(geometry.reduce_size > 0 || geometry.out_size == 0, kValueError,
              "[%s] cannot reduce over an empty axis of an input of shape %s: the result has no identity", op,
              (*in)[0]->ToString());
  }
  (*out)[0] = axes.out_shape;
  return true;
}

// A reduction kernel over (axis, keepdims, exclude); `kMean` divides by the number of reduced elements.
template <typename R, bool kMean = false>
Kernel ReduceAxesKernel(std::string op) {
  return [op](const KernelContext& context, absl::Span<const TensorRef> in, absl::Span<const TensorRef> out) {
    const ReduceAxes axes = ReduceAxesFromParams(op.c_str(), *context.params, in[0].shape);
    const ReduceGeometry geometry(in[0].shape, axes.reduced);
    const bool add = context.modes[0] == WriteMode::kAdd;
    DispatchAllowed<DTypes::kNumeric>(op.c_str(), in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using A = AccumulatorOf<T>;
      if constexpr (kMean) {
        // Integer means divide like MXNet's (truncating); an empty integer mean is 0, not a crash.
        const A count = std::is_integral_v<A> ? std::max<A>(A(geometry.reduce_size), A(1)) : A(geometry.reduce_size);
        ReduceKernel<R, A>(geometry, in[0].As<T>(), out[0].As<T>(), add, [count](A acc) { return acc / count; });
      } else {
        ReduceKernel<R, A>(geometry, in[0].As<T>(), out[0].As<T>(), add);
      }
    });
  };
}

OpDef ReduceAxesOpDef(const std::string& name, std::vector<std::string> aliases, const std::string& doc,
                      Kernel kernel, GradientFn gradient, bool needs_elements = false) {
  OpDef def;
  def.name = name;
  def.aliases = std::move(aliases);
  def.family = "reduce";
  def.doc = doc;
  def.inputs = {"data"};
  def.params = ReduceAxesParams();
  def.infer_shape = [name, needs_elements](const OpParams& params, std::vector<MaybeShape>* in,
                                           std::vector<MaybeShape>* out) {
    return InferReduceShape(name.c_str(), params, in, out, needs_elements);
  };
  def.infer_type = [name](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType(name.c_str(), DTypes::kNumeric, in, out);
  };
  def.kernels[DeviceType::kCPU] = std::move(kernel);
  def.gradient = std::move(gradient);
  return def;
}

Value Mul(GradientBuilder& b, Value x, Value y) { return b.Call1("elemwise_mul", {x, y}); }
Value Div(GradientBuilder& b, Value x, Value y) { return b.Call1("elemwise_div", {x, y}); }
// 1 where x is a number, 0 where it is NaN (NaN != NaN).
Value NotNanMask(GradientBuilder& b, Value x) { return b.Call1("_equal", {x, x}); }

// Note [Gradients of reductions]
// Every reduction's gradient starts by broadcasting the head gradient (shaped like the output) back to
// the input's shape: _broadcast_reduced(grad, x) with the forward call's axis/keepdims/exclude. It reads
// the reduced axes from x's shape when it runs, so gradients are written without knowing shapes, and it
// is itself differentiable (its adjoint is sum, or mean with normalize=True), so higher orders compose.
//  - sum: B(g); mean: B(g) / n (normalize=True); nansum: B(g) * (x == x).
//  - max/min: B(g) * (x == B(out)): like MXNet, every element tied for the extreme gets the full gradient.
//  - prod: B(g * out) / x, as MXNet; it is inf/NaN where x == 0 (the product of the others would be
//    exact but needs a dedicated op). nanprod: the same with NaNs replaced by 1 (x ** (x == x), since
//    NaN ** 0 == 1) and their gradient masked to 0.
GradientFn SumGradient(bool normalize) {
  return [normalize](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {BroadcastReduced(b, args.output_grads[0], args.inputs[0], *args.params, "axis", normalize)};
  };
}

GradientFn ExtremumGradient() {
  return [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const Value x = args.inputs[0];
    const Value mask = b.Call1("_equal", {x, BroadcastReduced(b, args.outputs[0], x, *args.params, "axis", false)});
    return {Mul(b, BroadcastReduced(b, args.output_grads[0], x, *args.params, "axis", false), mask)};
  };
}

GradientFn ProdGradient(bool skip_nan) {
  return [skip_nan](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const Value x = args.inputs[0];
    const Value spread = BroadcastReduced(b, Mul(b, args.output_grads[0], args.outputs[0]), x, *args.params, "axis",
                                          false);
    if (!skip_nan) return {Div(b, spread, x)};
    const Value mask = NotNanMask(b, x);
    return {Mul(b, Div(b, spread, b.Call1("_power", {x, mask})), mask)};
  };
}

PMX_REGISTER_OP(sum) {
  return ReduceAxesOpDef("sum", {"sum_axis"}, "Sums array elements over the given axes.",
                         ReduceAxesKernel<SumReducer>("sum"), SumGradient(false));
}

PMX_REGISTER_OP(mean) {
  return ReduceAxesOpDef("mean", {}, "Averages array elements over the given axes (integers divide truncating).",
                         ReduceAxesKernel<SumReducer, true>("mean"), SumGradient(true));
}

PMX_REGISTER_OP(prod) {
  return ReduceAxesOpDef("prod", {}, "Multiplies array elements over the given axes.",
                         ReduceAxesKernel<ProdReducer>("prod"), ProdGradient(false));
}

PMX_REGISTER_OP(nansum) {
  return ReduceAxesOpDef("nansum", {}, "Sums array elements over the given axes, treating NaN as zero.",
                         ReduceAxesKernel<NanSumReducer>("nansum"),
                         [](GradientBuilder& b, const GradientArgs& args) -> Grads {
                           const Value x = args.inputs[0];
                           return {Mul(b, BroadcastReduced(b, args.output_grads[0], x, *args.params, "axis", false),
                                       NotNanMask(b, x))};
                         });
}

PMX_REGISTER_OP(nanprod) {
  return ReduceAxesOpDef("nanprod", {}, "Multiplies array elements over the given axes, treating NaN as one.",
                         ReduceAxesKernel<NanProdReducer>("nanprod"), ProdGradient(true));
}

PMX_REGISTER_OP(max) {
  return ReduceAxesOpDef("max", {"max_axis"}, "The maximum of array elements over the given axes (NaN propagates).",
                         ReduceAxesKernel<MaxReducer>("max"), ExtremumGradient(), /*needs_elements=*/true);
}

PMX_REGISTER_OP(min) {
  return ReduceAxesOpDef("min", {"min_axis"}, "The minimum of array elements over the given axes (NaN propagates).",
                         ReduceAxesKernel<MinReducer>("min"), ExtremumGradient(), /*needs_elements=*/true);
}

PMX_REGISTER_OP(_broadcast_reduced) {
  OpDef def;
  def.name = "_broadcast_reduced";
  def.family = "reduce";
  def.doc = "Broadcasts `data`, the result of reducing `like` with (axis, keepdims, exclude), back to like's "
            "shape; with normalize, divides by the number of reduced elements (gradient helper of reductions).";
  def.inputs = {"data", "like"};
  def.params = ReduceAxesParams();
  def.params.push_back({"normalize", ParamType::kBool, "False", false, false, {},
                        "Whether to divide by the number of elements each output was reduced from."});
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[1]) return false;
    const ReduceAxes axes = ReduceAxesFromParams("_broadcast_reduced", params, *(*in)[1]);
    if ((*in)[0]) {
      PMX_CHECK(*(*in)[0] == axes.out_shape || *(*in)[0] == axes.kept_shape, kValueError,
                "[_broadcast_reduced] data has shape %s, expected %s (like %s reduced)", (*in)[0]->ToString(),
                axes.out_shape.ToString(), (*in)[1]->ToString());
    } else {
      (*in)[0] = axes.out_shape;
    }
    (*out)[0] = *(*in)[1];
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0]) return false;
    CheckDType("_broadcast_reduced", DTypes::kNumeric, *(*in)[0]);
    (*out)[0] = (*in)[0];
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const OpParams& params = *context.params;
    const ReduceAxes axes = ReduceAxesFromParams("_broadcast_reduced", params, in[1].shape);
    const int64_t count = in[0].size() == 0 ? 1 : out[0].size() / in[0].size();
    const bool normalize = params.Bool("normalize");
    DispatchAllowed<DTypes::kNumeric>("_broadcast_reduced", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const T* x = in[0].As<T>();
      T* y = out[0].As<T>();
      const bool add = context.modes[0] == WriteMode::kAdd;
      const C scale = normalize ? static_cast<C>(count) : C(1);
      BroadcastIndexer indexer(axes.kept_shape, axes.kept_shape, out[0].shape);
      cpu::ParallelFor(out[0].size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
        indexer.ForRange(begin, end, [&](int64_t i, int64_t ix, int64_t) {
          Store<T, C>(y + i, static_cast<C>(static_cast<C>(x[ix]) / scale), add);
        });
      });
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    ParamMap params = args.params->ToStrings();
    const bool normalize = args.params->Bool("normalize");
    params.erase("normalize");
    return {b.Call1(normalize ? "mean" : "sum", {args.output_grads[0]}, params), std::nullopt};
  };
  return def;
}

// Note [Summing gradients back to a broadcast input]
// The gradient of a broadcasting op has the output's shape; each input's gradient is that summed over the
// axes the input was broadcast along. _sum_to_like(grad, like) does exactly that, so gradients compose
// without knowing shapes when they are written (shapes are known only when the builder runs).
PMX_REGISTER_OP(_sum_to_like) {
  OpDef def;
  def.name = "_sum_to_like";
  def.family = "reduce";
  def.doc = "Sums `data` over the axes along which `like` would be broadcast to data's shape (gradient helper).";
  def.inputs = {"data", "like"};
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1]) return false;
    const Shape& data = *(*in)[0];
    const Shape& like = *(*in)[1];
    PMX_CHECK(BroadcastShapes("_sum_to_like", data, like) == data, kValueError,
              "[_sum_to_like] shape %s does not broadcast to %s", like.ToString(), data.ToString());
    (*out)[0] = like;
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0]) return false;
    (*out)[0] = (*in)[0];
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    // Reduce the axes where `like` (left-padded with 1s) is 1 and data is not.
    const Shape& data = in[0].shape;
    const Shape& like = out[0].shape;
    std::vector<bool> reduced(data.ndim());
    for (int d = 0; d < data.ndim(); ++d) {
      const int like_d = d - (data.ndim() - like.ndim());
      reduced[d] = like_d < 0 || like[like_d] == 1;
    }
    const ReduceGeometry geometry(data, reduced);
    DispatchAllowed<DTypes::kNumeric>("_sum_to_like", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      ReduceKernel<SumReducer, AccumulatorOf<T>>(geometry, in[0].As<T>(), out[0].As<T>(),
                                                 context.modes[0] == WriteMode::kAdd);
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("broadcast_like", {args.output_grads[0], args.inputs[0]}), std::nullopt};
  };
  return def;
}

}  // namespace
}  // namespace ops
}  // namespace pmx
