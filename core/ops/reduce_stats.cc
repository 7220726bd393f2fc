// Statistics over axes: norm, moments, _square_sum, multi_sum_sq, and the index reductions argmax,
// argmin, argmax_channel.
#include <cmath>
#include <vector>

#include "core/ops/internal/op_builders.h"
#include "core/ops/internal/reduce_kernel.h"

namespace pmx {
namespace ops {
namespace {

Value Mul(GradientBuilder& b, Value x, Value y) { return b.Call1("elemwise_mul", {x, y}); }

// ---- norm ------------------------------------------------------------------------------------------

DType NormOutputDType(const OpParams& params, DType input) {
  return params.IsNone("out_dtype") ? input : DTypeFromName(params.Str("out_dtype"));
}

PMX_REGISTER_OP(norm) {
  OpDef def;
  def.name = "norm";
  def.family = "reduce";
  def.doc = "The L1 (ord=1) or L2 (ord=2) norm of the elements over the given axes (entrywise for several "
            "axes); accumulates in float64.";
  def.inputs = {"data"};
  def.params = {{"ord", ParamType::kInt, "2", false, false, {}, "Order of the norm: 1 or 2."},
                {"axis", ParamType::kShape, "None", false, true, {},
                 "The axis or axes to reduce; None or () reduces all elements into shape (1,)."},
                {"out_dtype", ParamType::kEnum, "None", false, true,
                 {"float16", "float32", "float64", "int64", "int32", "int8"},
                 "The dtype of the output (default: the input's)."},
                {"keepdims", ParamType::kBool, "False", false, false, {},
                 "Whether to keep the reduced axes as dimensions of size 1."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    const int64_t ord = params.Int("ord");
    PMX_CHECK(ord == 1 || ord == 2, kValueError, "[norm] ord is %d: expected 1 or 2", ord);
    if (!(*in)[0]) return false;
    (*out)[0] = ResolveReduceAxes("norm", *(*in)[0], OptionalAxes(params, "axis"), params.Bool("keepdims"), false)
                    .out_shape;
    return true;
  };
  def.infer_type = [](const OpParams& params, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0]) return false;
    CheckDType("norm", DTypes::kNumeric, *(*in)[0]);
    (*out)[0] = NormOutputDType(params, *(*in)[0]);
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const OpParams& params = *context.params;
    const ReduceAxes axes =
        ResolveReduceAxes("norm", in[0].shape, OptionalAxes(params, "axis"), params.Bool("keepdims"), false);
    const ReduceGeometry geometry(in[0].shape, axes.reduced);
    const bool add = context.modes[0] == WriteMode::kAdd;
    const bool l1 = params.Int("ord") == 1;
    DispatchAllowed<DTypes::kNumeric>("norm", in[0].dtype, [&](auto in_tag) {
      using T = decltype(in_tag);
      DispatchAllowed<DTypes::kNumeric>("norm", out[0].dtype, [&](auto out_tag) {
        using O = decltype(out_tag);
        if (l1) {
          ReduceKernel<SumAbsReducer, double>(geometry, in[0].As<T>(), out[0].As<O>(), add);
        } else {
          ReduceKernel<SumSquaresReducer, double>(geometry, in[0].As<T>(), out[0].As<O>(), add,
                                                  [](double acc) { return std::sqrt(acc); });
        }
      });
    });
  };
  // ord 1: B(g) * sign(x); ord 2: B(g) * x / B(norm), NaN where the norm is 0 (as MXNet). With out_dtype
  // the head gradient and the norm are first cast back to x's dtype.
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const Value x = args.inputs[0];
    Value g = args.output_grads[0], norm = args.outputs[0];
    if (!args.params->IsNone("out_dtype")) {
      g = b.Call1("_cast_like", {g, x});
      norm = b.Call1("_cast_like", {norm, x});
    }
    const Value spread = BroadcastReduced(b, g, x, *args.params, "axis", false);
    if (args.params->Int("ord") == 1) return {Mul(b, spread, b.Call1("sign", {x}))};
    return {Mul(b, spread, b.Call1("elemwise_div", {x, BroadcastReduced(b, norm, x, *args.params, "axis", false)}))};
  };
  return def;
}

// ---- moments ---------------------------------------------------------------------------------------

// Note [Two-pass moments]
// The variance is the mean of (x - mean)^2 over a centred copy of the input (temp space), not
// E[x^2] - E[x]^2, which cancels catastrophically when |mean| >> std.
PMX_REGISTER_OP(moments) {
  OpDef def;
  def.name = "moments";
  def.family = "reduce";
  def.doc = "The mean and the (biased) variance of the elements over the given axes.";
  def.inputs = {"data"};
  def.outputs = {"mean", "var"};
  def.params = {{"axes", ParamType::kShape, "None", false, true, {},
                 "The axes to reduce; None reduces all elements into shape (1,)."},
                {"keepdims", ParamType::kBool, "False", false, false, {},
                 "Whether to keep the reduced axes as dimensions of size 1."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape shape =
        ResolveReduceAxes("moments", *(*in)[0], OptionalAxes(params, "axes"), params.Bool("keepdims"), false)
            .out_shape;
    (*out)[0] = shape;
    (*out)[1] = shape;
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType("moments", DTypes::kFloat, in, out);
  };
  def.needs_temp_space = true;
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const OpParams& params = *context.params;
    const ReduceAxes axes =
        ResolveReduceAxes("moments", in[0].shape, OptionalAxes(params, "axes"), params.Bool("keepdims"), false);
    const ReduceGeometry geometry(in[0].shape, axes.reduced);
    DispatchAllowed<DTypes::kFloat>("moments", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using A = AccumulatorOf<T>;
      const int64_t n = in[0].size(), m = out[0].size();
      if (m == 0) return;
      const A count = static_cast<A>(geometry.reduce_size);
      A* mean = static_cast<A*>(context.temp_space(sizeof(A) * (m + n)));
      A* centred = mean + m;
      ReduceKernel<SumReducer, A>(geometry, in[0].As<T>(), mean, false, [count](A acc) { return acc / count; });
      const T* x = in[0].As<T>();
      BroadcastIndexer indexer(axes.kept_shape, axes.kept_shape, in[0].shape);
      cpu::ParallelFor(n, kElementwiseGrain, [&](int64_t begin, int64_t end) {
        indexer.ForRange(begin, end, [&](int64_t i, int64_t im, int64_t) {
          centred[i] = static_cast<A>(static_cast<ComputeType<T>>(x[i])) - mean[im];
        });
      });
      T* mean_out = out[0].As<T>();
      const bool add_mean = context.modes[0] == WriteMode::kAdd;
      for (int64_t i = 0; i < m; ++i) {
        Store<T, ComputeType<T>>(mean_out + i, static_cast<ComputeType<T>>(mean[i]), add_mean);
      }
      ReduceKernel<SumSquaresReducer, A>(geometry, centred, out[1].As<T>(), context.modes[1] == WriteMode::kAdd,
                                         [count](A acc) { return acc / count; });
    });
  };
  // d/dx: B(g_mean) / n + B(g_var) / n * 2 (x - B(mean)).
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const Value x = args.inputs[0];
    const Value from_mean = BroadcastReduced(b, args.output_grads[0], x, *args.params, "axes", true);
    const Value from_var = BroadcastReduced(b, args.output_grads[1], x, *args.params, "axes", true);
    const Value mean = BroadcastReduced(b, args.outputs[0], x, *args.params, "axes", false);
    const Value centred = b.Call1("elemwise_sub", {x, mean});
    const Value twice = b.Call1("_mul_scalar", {centred}, {{"scalar", "2"}});
    return {b.Call1("elemwise_add", {from_mean, Mul(b, from_var, twice)})};
  };
  return def;
}

// ---- sums of squares -------------------------------------------------------------------------------

PMX_REGISTER_OP(_square_sum) {
  OpDef def;
  def.name = "_square_sum";
  def.family = "reduce";
  def.doc = "Sums the squares of the elements over the given axes.";
  def.inputs = {"data"};
  def.params = ReduceAxesParams();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    (*out)[0] = ReduceAxesFromParams("_square_sum", params, *(*in)[0]).out_shape;
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType("_square_sum", DTypes::kNumeric, in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const ReduceAxes axes = ReduceAxesFromParams("_square_sum", *context.params, in[0].shape);
    const ReduceGeometry geometry(in[0].shape, axes.reduced);
    DispatchAllowed<DTypes::kNumeric>("_square_sum", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      ReduceKernel<SumSquaresReducer, AccumulatorOf<T>>(geometry, in[0].As<T>(), out[0].As<T>(),
                                                        context.modes[0] == WriteMode::kAdd);
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const Value x = args.inputs[0];
    return {Mul(b, BroadcastReduced(b, args.output_grads[0], x, *args.params, "axis", false),
                b.Call1("_mul_scalar", {x}, {{"scalar", "2"}}))};
  };
  return def;
}

PMX_REGISTER_OP(multi_sum_sq) {
  OpDef def;
  def.name = "multi_sum_sq";
  def.family = "reduce";
  def.doc = "The sum of squares of each of num_arrays arrays, as a float32 array of shape (num_arrays,).";
  def.inputs = {"data"};
  def.variadic_count_param = "num_arrays";
  def.params = {{"num_arrays", ParamType::kInt, "", true, false, {}, "Number of input arrays."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    const int64_t count = params.Int("num_arrays");
    PMX_CHECK(count >= 1, kValueError, "[multi_sum_sq] num_arrays is %d: expected >= 1", count);
    (*out)[0] = Shape{count};
    for (const MaybeShape& shape : *in) {
      if (!shape) return false;
    }
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    std::vector<MaybeDType> none;
    if (!InferSameDType("multi_sum_sq", DTypes::kFloat, in, &none)) return false;
    (*out)[0] = DType::kFloat32;
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    float* y = out[0].As<float>();
    for (size_t i = 0; i < in.size(); ++i) {
      const ReduceGeometry geometry(in[i].shape, std::vector<bool>(in[i].shape.ndim(), true));
      DispatchAllowed<DTypes::kFloat>("multi_sum_sq", in[i].dtype, [&](auto tag) {
        using T = decltype(tag);
        ReduceKernel<SumSquaresReducer, AccumulatorOf<T>>(geometry, in[i].As<T>(), y + i,
                                                          context.modes[0] == WriteMode::kAdd);
      });
    }
  };
  return def;
}

// ---- argmax / argmin -------------------------------------------------------------------------------

// Whether v beats best for argmax (kMax) or argmin: NaN beats everything, ties keep the first.
template <bool kMax, typename C>
inline bool Beats(C v, C best) {
  // Self-comparisons detect NaN without branches, so the strided loop vectorises.
  return best == best && (v != v || (kMax ? v > best : v < best));
}

// The first position in [first, last) holding `target` (NaN matches NaN). Blocks of 32 are tested
// branch-free first (an OR of compares, which vectorises), then the block with a hit is scanned.
template <typename T, typename C>
int64_t FirstMatch(const T* src, int64_t first, int64_t last, C target) {
  if (target != target) {
    for (int64_t j = first; j < last; ++j) {
      if (IsNan(static_cast<C>(src[j]))) return j;
    }
    return last;
  }
  int64_t j = first;
  for (; j + 32 <= last; j += 32) {
    int hits = 0;
    for (int64_t k = 0; k < 32; ++k) hits |= static_cast<C>(src[j + k]) == target;
    if (hits) break;
  }
  while (j < last && static_cast<C>(src[j]) != target) ++j;
  return j;
}

// Note [Legacy argmax]
// MXNet 1.x's argmax/argmin/argmax_channel return the indices in the input's dtype (float32 for float32
// data), which MXNet code relies on (e.g. comparing with float labels); Polymix keeps that. Indices are
// exact up to 2^24 in float32 (2048 in float16). NaN counts as the extreme, and the first occurrence wins.
template <bool kMax>
void ArgExtremum(const char* op, const KernelContext& context, const TensorRef& in, const TensorRef& out,
                 std::optional<int> axis) {
  int64_t outer = 1, length = in.size(), inner = 1;
  if (axis && in.shape.ndim() > 0) {
    const int a = NormalizeAxis(*axis, in.shape.ndim(), op);
    outer = inner = 1;
    for (int d = 0; d < a; ++d) outer *= in.shape[d];
    for (int d = a + 1; d < in.shape.ndim(); ++d) inner *= in.shape[d];
    length = in.shape[a];
  }
  if (out.size() == 0) return;
  PMX_CHECK(length > 0, kValueError, "[%s] cannot search an empty axis of an input of shape %s", op,
            in.shape.ToString());
  PMX_CHECK(context.modes[0] != WriteMode::kAdd, kValueError, "[%s] cannot add into its output (indices)", op);
  DispatchAllowed<DTypes::kNumeric>(op, in.dtype, [&](auto tag) {
    using T = decltype(tag);
    using C = ComputeType<T>;
    const T* x = in.As<T>();
    T* y = out.As<T>();
    if (inner == 1) {
      // Rows are contiguous: each row (or each piece of a long row) scans linearly.
      const int64_t threads = cpu::KernelThreads();
      const int64_t pieces = (outer >= threads || outer * length < 2 * kElementwiseGrain)
                                 ? 1 : std::min<int64_t>((threads + outer - 1) / outer, length / kElementwiseGrain + 1);
      const int64_t chunk = (length + pieces - 1) / pieces;
      std::vector<std::pair<C, int64_t>> partial(outer * pieces);
      const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / chunk);
      cpu::ParallelFor(outer * pieces, grain, [&](int64_t begin, int64_t end) {
        for (int64_t item = begin; item < end; ++item) {
          const int64_t row = item / pieces, piece = item % pieces;
          const int64_t first = piece * chunk, last = std::min(length, first + chunk);
          const T* src = x + row * length;
          // Two vectorised passes beat one branchy pass: find the extreme, then its first position.
          using Extreme = std::conditional_t<kMax, MaxReducer, MinReducer>;
          const C best = first < last ? reduce_internal::ReduceContiguous<Extreme, C>(src + first, last - first) : C(0);
          const int64_t best_index = FirstMatch(src, first, last, best);
          partial[item] = {best, first < last ? best_index : -1};
        }
      });
      for (int64_t row = 0; row < outer; ++row) {
        auto best = partial[row * pieces];
        for (int64_t p = 1; p < pieces; ++p) {
          const auto& candidate = partial[row * pieces + p];
          if (candidate.second >= 0 && Beats<kMax>(candidate.first, best.first)) best = candidate;
        }
        y[row] = static_cast<T>(static_cast<C>(best.second));
      }
      return;
    }
    // Strided: compare whole rows of `inner` elements, vectorised across a tile of the inner axis.
    constexpr int64_t kTile = 256;
    const int64_t tiles = (inner + kTile - 1) / kTile;
    cpu::ParallelFor(outer * tiles, std::max<int64_t>(1, kElementwiseGrain / (length * kTile)),
                     [&](int64_t begin, int64_t end) {
      C best[kTile];
      int64_t index[kTile];
      for (int64_t task = begin; task < end; ++task) {
        const int64_t o = task / tiles, i0 = (task % tiles) * kTile, w = std::min(kTile, inner - i0);
        const T* base = x + o * length * inner + i0;
        for (int64_t i = 0; i < w; ++i) {
          best[i] = static_cast<C>(base[i]);
          index[i] = 0;
        }
        for (int64_t j = 1; j < length; ++j) {
          const T* row = base + j * inner;
          for (int64_t i = 0; i < w; ++i) {
            const C v = static_cast<C>(row[i]);
            if (Beats<kMax>(v, best[i])) {
              best[i] = v;
              index[i] = j;
            }
          }
        }
        for (int64_t i = 0; i < w; ++i) y[o * inner + i0 + i] = static_cast<T>(static_cast<C>(index[i]));
      }
    });
  });
}

// MXNet's ReduceAxisShapeImpl: no axis (or a 1-d input) searches everything into shape (1,).
Shape ArgShape(const char* op, const Shape& in, std::optional<int> axis, bool keepdims) {
  if (!axis || in.ndim() <= 1) {
    if (in.ndim() == 0 && axis) {
      PMX_CHECK(*axis == 0 || *axis == -1, kValueError, "[%s] axis %d is out of range for a scalar input", op, *axis);
    }
    if (in.ndim() == 1 && axis) NormalizeAxis(*axis, 1, op);
    return keepdims ? Shape(std::vector<int64_t>(in.ndim(), 1)) : Shape{1};
  }
  const int a = NormalizeAxis(*axis, in.ndim(), op);
  std::vector<int64_t> dims;
  for (int d = 0; d < in.ndim(); ++d) {
    if (d != a) dims.push_back(in[d]);
    else if (keepdims) dims.push_back(1);
  }
  return Shape(dims);
}

std::optional<int> OptionalAxis(const OpParams& params) {
  if (params.IsNone("axis")) return std::nullopt;
  return static_cast<int>(params.Int("axis"));
}

template <bool kMax>
OpDef ArgOpDef(const std::string& name, const std::string& doc) {
  OpDef def;
  def.name = name;
  def.family = "reduce";
  def.doc = doc;
  def.inputs = {"data"};
  def.params = {{"axis", ParamType::kInt, "None", false, true, {},
                 "The axis to search; None searches the flattened input."},
                {"keepdims", ParamType::kBool, "False", false, false, {},
                 "Whether to keep the searched axis as a dimension of size 1."}};
  def.infer_shape = [name](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    (*out)[0] = ArgShape(name.c_str(), *(*in)[0], OptionalAxis(params), params.Bool("keepdims"));
    return true;
  };
  def.infer_type = [name](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType(name.c_str(), DTypes::kNumeric, in, out);
  };
  def.kernels[DeviceType::kCPU] = [name](const KernelContext& context, absl::Span<const TensorRef> in,
                                         absl::Span<const TensorRef> out) {
    ArgExtremum<kMax>(name.c_str(), context, in[0], out[0], OptionalAxis(*context.params));
  };
  def.gradient = ZeroGradient();
  return def;
}

PMX_REGISTER_OP(argmax) {
  return ArgOpDef<true>("argmax", "Indices of the maximum values along an axis, in the input's dtype (first "
                                  "occurrence wins).");
}

PMX_REGISTER_OP(argmin) {
  return ArgOpDef<false>("argmin", "Indices of the minimum values along an axis, in the input's dtype (first "
                                   "occurrence wins).");
}

PMX_REGISTER_OP(argmax_channel) {
  OpDef def = ArgOpDef<true>("argmax_channel", "Indices of the maximum values along axis 1, in the input's dtype "
                                               "(legacy; first occurrence wins).");
  def.params.clear();
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    (*out)[0] = ArgShape("argmax_channel", *(*in)[0], 1, false);
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    ArgExtremum<true>("argmax_channel", context, in[0], out[0], in[0].shape.ndim() > 1 ? std::optional<int>(1)
                                                                                        : std::nullopt);
  };
  return def;
}

}  // namespace
}  // namespace ops
}  // namespace pmx
