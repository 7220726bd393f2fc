// Indexing along one axis: take, batch_take, pick, one_hot, where, and the gradient helpers _take_grad and
// _pick_grad (scatter-adds). Index inputs may have any numeric dtype: MXNet's legacy ops carry indices as
// float32, so floats are truncated toward zero.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/ops/internal/op_builders.h"
#include "core/ops/internal/strided.h"

namespace pmx {
namespace ops {
namespace {

// Splits `shape` around `axis` into (outer, size, inner) element counts.
struct AxisSplit {
  int64_t outer = 1, size = 1, inner = 1;
};

AxisSplit SplitAround(const Shape& shape, int axis) {
  AxisSplit split;
  for (int d = 0; d < shape.ndim(); ++d) {
    if (d < axis) split.outer *= shape[d];
    if (d == axis) split.size = shape[d];
    if (d > axis) split.inner *= shape[d];
  }
  return split;
}

// Maps raw indices into [0, size) by `mode`: clip clamps, wrap wraps around, raise accepts [-size, size)
// (negative counting from the end) and throws IndexError for anything else.
std::vector<int64_t> ResolveIndices(const char* op, const std::string& mode, std::vector<int64_t> indices,
                                    int64_t size) {
  for (int64_t& j : indices) {
    if (mode == "clip") {
      PMX_CHECK(size > 0, kIndexError, "[%s] cannot index an axis of size 0", op);
      j = std::min(std::max<int64_t>(j, 0), size - 1);
    } else if (mode == "wrap") {
      PMX_CHECK(size > 0, kIndexError, "[%s] cannot index an axis of size 0", op);
      j %= size;
      if (j < 0) j += size;
    } else {
      PMX_CHECK(j >= -size && j < size, kIndexError,
                "[%s] index %d is out of bounds for an axis of size %d (mode='raise')", op, j, size);
      if (j < 0) j += size;
    }
  }
  return indices;
}

// Dtype inference for ops with a data input (output dtype) and one index input (any numeric dtype).
InferTypeFn DataAndIndexTypes(const char* op, int index_input) {
  return [op, index_input](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0] || !(*in)[index_input]) return false;
    CheckIndexDType(op, "the index input", *(*in)[index_input]);
    for (size_t i = 0; i < in->size(); ++i) {
      if (static_cast<int>(i) == index_input || !(*in)[i]) continue;
      PMX_CHECK(*(*in)[i] == *(*in)[0], kTypeError, "[%s] input %d has dtype %s, expected %s like input 0", op,
                static_cast<int>(i), DTypeName(*(*in)[i]), DTypeName(*(*in)[0]));
    }
    (*out)[0] = (*in)[0];
    return true;
  };
}

// out[o, i, k] = data[o, index[i], k] (rows of `inner` elements), adding for kAdd.
void GatherRows(const char* op, const TensorRef& data, const std::vector<int64_t>& index, AxisSplit split,
                const TensorRef& out, bool add) {
  const int64_t count = static_cast<int64_t>(index.size());
  const int64_t rows = split.outer * count;
  const size_t width = DTypeSize(data.dtype);
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(split.inner, 1));
  if (!add) {
    const char* src = static_cast<const char*>(data.data);
    char* dst = static_cast<char*>(out.data);
    cpu::ParallelFor(rows, grain, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const int64_t o = r / count, i = r % count;
        std::memcpy(dst + r * split.inner * width, src + (o * split.size + index[i]) * split.inner * width,
                    split.inner * width);
      }
    });
    return;
  }
  DispatchAllowed<DTypes::kAll>(op, data.dtype, [&](auto tag) {
    using T = decltype(tag);
    using C = ComputeType<T>;
    const T* x = data.As<T>();
    T* y = out.As<T>();
    cpu::ParallelFor(rows, grain, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const T* s = x + ((r / count) * split.size + index[r % count]) * split.inner;
        for (int64_t k = 0; k < split.inner; ++k) Store<T, C>(y + r * split.inner + k, static_cast<C>(s[k]), true);
      }
    });
  });
}

// out[o, index[i], k] += grad[o, i, k]; out must already hold zeros (or the values to add to). Work is split
// by outer index and by blocks of k, which never collide.
void ScatterAddRows(const char* op, const TensorRef& grad, const std::vector<int64_t>& index, AxisSplit split,
                    const TensorRef& out) {
  constexpr int64_t kBlock = 1024;
  const int64_t count = static_cast<int64_t>(index.size());
  const int64_t blocks = (split.inner + kBlock - 1) / kBlock;
  DispatchAllowed<DTypes::kNumeric>(op, grad.dtype, [&](auto tag) {
    using T = decltype(tag);
    using C = ComputeType<T>;
    const T* g = grad.As<T>();
    T* y = out.As<T>();
    const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(count * kBlock, 1));
    cpu::ParallelFor(split.outer * blocks, grain, [&](int64_t begin, int64_t end) {
      for (int64_t task = begin; task < end; ++task) {
        const int64_t o = task / blocks, k0 = (task % blocks) * kBlock, k1 = std::min(split.inner, k0 + kBlock);
        for (int64_t i = 0; i < count; ++i) {
          const T* s = g + (o * count + i) * split.inner;
          T* d = y + (o * split.size + index[i]) * split.inner;
          for (int64_t k = k0; k < k1; ++k) Store<T, C>(d + k, static_cast<C>(s[k]), true);
        }
      }
    });
  });
}

std::vector<ParamDef> TakeParams() {
  return {{"axis", ParamType::kInt, "0", false, false, {}, "The axis of data to take from (negative from the end)."},
          {"mode", ParamType::kEnum, "clip", false, false, {"raise", "wrap", "clip"},
           "Out-of-range indices: clip to the range, wrap around, or raise an IndexError."}};
}

Shape TakeShape(const OpParams& params, const Shape& data, const Shape& indices) {
  PMX_CHECK(data.ndim() >= 1, kValueError, "[take] data is a scalar: expected at least 1 dimension");
  const int axis = NormalizeAxis(static_cast<int>(params.Int("axis")), data.ndim(), "take");
  std::vector<int64_t> dims(data.dims().begin(), data.dims().begin() + axis);
  dims.insert(dims.end(), indices.dims().begin(), indices.dims().end());
  dims.insert(dims.end(), data.dims().begin() + axis + 1, data.dims().end());
  return Shape(dims);
}

PMX_REGISTER_OP(take) {
  OpDef def;
  def.name = "take";
  def.family = "index";
  def.doc =
      "Takes elements of `a` along `axis` at `indices`: the output shape is a.shape[:axis] + indices.shape + "
      "a.shape[axis+1:]. mode says what out-of-range indices do (clip, wrap or raise).";
  def.inputs = {"a", "indices"};
  def.params = TakeParams();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1]) return false;
    (*out)[0] = TakeShape(params, *(*in)[0], *(*in)[1]);
    return true;
  };
  def.infer_type = DataAndIndexTypes("take", 1);
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const int axis = NormalizeAxis(static_cast<int>(context.params->Int("axis")), in[0].shape.ndim(), "take");
    const AxisSplit split = SplitAround(in[0].shape, axis);
    if (out[0].size() == 0) return;
    const auto index = ResolveIndices("take", context.params->Str("mode"), ReadIndices(in[1]), split.size);
    GatherRows("take", in[0], index, split, out[0], context.modes[0] == WriteMode::kAdd);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("_take_grad", {args.output_grads[0], args.inputs[1], args.inputs[0]}, args.params->ToStrings()),
            std::nullopt};
  };
  return def;
}

PMX_REGISTER_OP(_take_grad) {
  OpDef def;
  def.name = "_take_grad";
  def.family = "index";
  def.doc = "Gradient helper of take: sums each slice of `grad` into the position of `data` it was taken from; "
            "the result has data's shape.";
  def.inputs = {"grad", "indices", "data"};
  def.params = TakeParams();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1] || !(*in)[2]) return false;
    const Shape expected = TakeShape(params, *(*in)[2], *(*in)[1]);
    PMX_CHECK(*(*in)[0] == expected, kValueError, "[_take_grad] grad has shape %s: expected take's output shape %s",
              (*in)[0]->ToString(), expected.ToString());
    (*out)[0] = (*in)[2];
    return true;
  };
  def.infer_type = DataAndIndexTypes("_take_grad", 1);
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const int axis = NormalizeAxis(static_cast<int>(context.params->Int("axis")), out[0].shape.ndim(), "_take_grad");
    const AxisSplit split = SplitAround(out[0].shape, axis);
    ZeroUnlessAdd(out[0], context.modes[0]);
    if (in[0].size() == 0) return;
    const auto index = ResolveIndices("_take_grad", context.params->Str("mode"), ReadIndices(in[1]), split.size);
    ScatterAddRows("_take_grad", in[0], index, split, out[0]);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("take", {args.output_grads[0], args.inputs[1]}, args.params->ToStrings()), std::nullopt,
            std::nullopt};
  };
  return def;
}

// pick's axis (None is not supported, as in MXNet) and the expected shape of its index input.
int PickAxis(const char* op, const OpParams& params, const Shape& data) {
  PMX_CHECK(!params.IsNone("axis"), kValueError, "[%s] axis=None is not supported: give the axis to pick along", op);
  return NormalizeAxis(static_cast<int>(params.Int("axis")), data.ndim(), op);
}

Shape ReducedShape(const Shape& data, int axis, bool keepdims) {
  std::vector<int64_t> dims = DimsOf(data);
  if (keepdims) {
    dims[axis] = 1;
  } else {
    dims.erase(dims.begin() + axis);
  }
  return Shape(dims);
}

// Checks pick's index shape (data's shape without `axis`, or with it as 1) and returns the output shape.
Shape PickShape(const char* op, const OpParams& params, const Shape& data, const Shape& index) {
  const int axis = PickAxis(op, params, data);
  const Shape kept = ReducedShape(data, axis, true), dropped = ReducedShape(data, axis, false);
  PMX_CHECK(index == kept || index == dropped, kValueError,
            "[%s] index has shape %s for data of shape %s and axis %d: expected %s or %s", op, index.ToString(),
            data.ToString(), axis, dropped.ToString(), kept.ToString());
  return params.Bool("keepdims") ? kept : dropped;
}

std::vector<ParamDef> PickParams() {
  return {{"axis", ParamType::kInt, "-1", false, true, {}, "The axis to pick along (negative from the end)."},
          {"keepdims", ParamType::kBool, "False", false, false, {}, "Keep the picked axis with size 1."},
          {"mode", ParamType::kEnum, "clip", false, false, {"wrap", "clip"},
           "Out-of-range indices: clip to the range or wrap around."}};
}

PMX_REGISTER_OP(pick) {
  OpDef def;
  def.name = "pick";
  def.family = "index";
  def.doc = "Picks one element along `axis` for every other position: out[..., i, ...] = data[..., index[...], ...]; "
            "index has data's shape without the axis (or with it as 1).";
  def.inputs = {"data", "index"};
  def.params = PickParams();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1]) return false;
    (*out)[0] = PickShape("pick", params, *(*in)[0], *(*in)[1]);
    return true;
  };
  def.infer_type = DataAndIndexTypes("pick", 1);
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const AxisSplit split = SplitAround(in[0].shape, PickAxis("pick", *context.params, in[0].shape));
    if (out[0].size() == 0) return;
    const auto index = ResolveIndices("pick", context.params->Str("mode"), ReadIndices(in[1]), split.size);
    const bool add = context.modes[0] == WriteMode::kAdd;
    DispatchAllowed<DTypes::kAll>("pick", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const T* x = in[0].As<T>();
      T* y = out[0].As<T>();
      cpu::ParallelFor(out[0].size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) {
          const int64_t o = p / split.inner, k = p % split.inner;
          Store<T, C>(y + p, static_cast<C>(x[(o * split.size + index[p]) * split.inner + k]), add);
        }
      });
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("_pick_grad", {args.output_grads[0], args.inputs[1], args.inputs[0]}, args.params->ToStrings()),
            std::nullopt};
  };
  return def;
}

PMX_REGISTER_OP(_pick_grad) {
  OpDef def;
  def.name = "_pick_grad";
  def.family = "index";
  def.doc = "Gradient helper of pick: zeros shaped like data with each element of `grad` added at the position "
            "pick read it from.";
  def.inputs = {"grad", "index", "data"};
  def.params = PickParams();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1] || !(*in)[2]) return false;
    const Shape expected = PickShape("_pick_grad", params, *(*in)[2], *(*in)[1]);
    PMX_CHECK((*in)[0]->size() == expected.size(), kValueError,
              "[_pick_grad] grad has shape %s: expected pick's output shape %s", (*in)[0]->ToString(),
              expected.ToString());
    (*out)[0] = (*in)[2];
    return true;
  };
  def.infer_type = DataAndIndexTypes("_pick_grad", 1);
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const AxisSplit split = SplitAround(out[0].shape, PickAxis("_pick_grad", *context.params, out[0].shape));
    ZeroUnlessAdd(out[0], context.modes[0]);
    if (in[0].size() == 0) return;
    const auto index = ResolveIndices("_pick_grad", context.params->Str("mode"), ReadIndices(in[1]), split.size);
    DispatchAllowed<DTypes::kNumeric>("_pick_grad", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const T* g = in[0].As<T>();
      T* y = out[0].As<T>();
      // Every grad element has its own target position, so the loop parallelises.
      cpu::ParallelFor(in[0].size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) {
          const int64_t o = p / split.inner, k = p % split.inner;
          Store<T, C>(y + (o * split.size + index[p]) * split.inner + k, static_cast<C>(g[p]), true);
        }
      });
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    // pick's output has the same number of elements as grad; reshape_like restores grad's exact shape.
    const Value picked = b.Call1("pick", {args.output_grads[0], args.inputs[1]}, args.params->ToStrings());
    return {b.Call1("reshape_like", {picked, args.inputs[0]}), std::nullopt, std::nullopt};
  };
  return def;
}

PMX_REGISTER_OP(batch_take) {
  OpDef def;
  def.name = "batch_take";
  def.family = "index";
  def.doc = "For each row i of `a` (all axes but the last flattened), takes a[i, indices[i]], clipping indices to "
            "the last axis. Deprecated in MXNet in favour of pick.";
  def.inputs = {"a", "indices"};
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1]) return false;
    const Shape& a = *(*in)[0];
    const Shape& indices = *(*in)[1];
    PMX_CHECK(a.ndim() >= 2, kValueError, "[batch_take] a has shape %s: expected at least 2 dimensions", a.ToString());
    const int64_t rows = a[a.ndim() - 1] == 0 ? 0 : a.size() / a[a.ndim() - 1];
    PMX_CHECK(indices.size() == rows, kValueError,
              "[batch_take] indices has %d elements for a of shape %s: expected one per row (%d)", indices.size(),
              a.ToString(), rows);
    (*out)[0] = indices;
    return true;
  };
  def.infer_type = DataAndIndexTypes("batch_take", 1);
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const int64_t width = in[0].shape[in[0].shape.ndim() - 1];
    if (out[0].size() == 0) return;
    const auto index = ResolveIndices("batch_take", "clip", ReadIndices(in[1]), width);
    const bool add = context.modes[0] == WriteMode::kAdd;
    DispatchAllowed<DTypes::kAll>("batch_take", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const T* x = in[0].As<T>();
      T* y = out[0].As<T>();
      cpu::ParallelFor(out[0].size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) Store<T, C>(y + i, static_cast<C>(x[i * width + index[i]]), add);
      });
    });
  };
  // batch_take is pick along the last axis with clipping, once both sides have a's leading shape.
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const Value a = args.inputs[0];
    const ParamMap leading = {{"rhs_end", "-1"}};
    const Value grad = b.Call1("reshape_like", {args.output_grads[0], a}, leading);
    const Value index = b.Call1("reshape_like", {args.inputs[1], a}, leading);
    return {b.Call1("_pick_grad", {grad, index, a}, {{"axis", "-1"}, {"mode", "clip"}}), std::nullopt};
  };
  return def;
}

PMX_REGISTER_OP(one_hot) {
  OpDef def;
  def.name = "one_hot";
  def.family = "index";
  def.doc = "One-hot encoding: the output has shape indices.shape + (depth,), on_value where the last index equals "
            "the input index and off_value elsewhere; indices outside [0, depth) give rows of off_value.";
  def.inputs = {"indices"};
  def.params = {{"depth", ParamType::kInt, "", true, false, {}, "Size of the one-hot axis."},
                {"on_value", ParamType::kFloat, "1", false, false, {}, "Value at the indexed positions."},
                {"off_value", ParamType::kFloat, "0", false, false, {}, "Value elsewhere."},
                {"dtype", ParamType::kDType, "float32", false, false, {}, "Dtype of the output."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const int64_t depth = params.Int("depth");
    PMX_CHECK(depth >= 0, kValueError, "[one_hot] depth is %d: expected a non-negative size", depth);
    std::vector<int64_t> dims = DimsOf(*(*in)[0]);
    dims.push_back(depth);
    (*out)[0] = Shape(dims);
    return true;
  };
  def.infer_type = [](const OpParams& params, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0]) return false;
    CheckIndexDType("one_hot", "indices", *(*in)[0]);
    (*out)[0] = params.Type("dtype");
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const int64_t depth = context.params->Int("depth");
    const double on = context.params->Float("on_value"), off = context.params->Float("off_value");
    const std::vector<int64_t> index = ReadIndices(in[0]);
    const bool add = context.modes[0] == WriteMode::kAdd;
    DispatchAllowed<DTypes::kAll>("one_hot", out[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      T* y = out[0].As<T>();
      cpu::ParallelFor(out[0].size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) {
          Store<T, C>(y + p, static_cast<C>(index[p / depth] == p % depth ? on : off), add);
        }
      });
    });
  };
  // Indices carry no gradient.
  def.gradient = [](GradientBuilder&, const GradientArgs&) -> Grads { return {std::nullopt}; };
  return def;
}

PMX_REGISTER_OP(where) {
  OpDef def;
  def.name = "where";
  def.family = "index";
  def.doc = "Elements of x where condition is non-zero, else of y. condition has x's shape, or is 1-D with one "
            "entry per row (x.shape[0]) choosing whole rows.";
  def.inputs = {"condition", "x", "y"};
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1] || !(*in)[2]) return false;
    const Shape& cond = *(*in)[0];
    const Shape& x = *(*in)[1];
    PMX_CHECK(x == *(*in)[2], kValueError, "[where] x has shape %s and y %s: expected the same shape", x.ToString(),
              (*in)[2]->ToString());
    PMX_CHECK(cond == x || (cond.ndim() == 1 && x.ndim() >= 1 && cond[0] == x[0]), kValueError,
              "[where] condition has shape %s: expected x's shape %s or (%d,)", cond.ToString(), x.ToString(),
              x.ndim() >= 1 ? x[0] : 1);
    (*out)[0] = x;
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[1] || !(*in)[2]) return false;
    PMX_CHECK(*(*in)[1] == *(*in)[2], kTypeError, "[where] x has dtype %s and y %s: expected the same dtype",
              DTypeName(*(*in)[1]), DTypeName(*(*in)[2]));
    (*out)[0] = (*in)[1];
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    // The condition as flags first, so that its dtype need not match x's.
    std::vector<uint8_t> flags(in[0].size());
    DispatchDType(in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      const T* c = in[0].As<T>();
      for (int64_t i = 0; i < in[0].size(); ++i) flags[i] = static_cast<ComputeType<T>>(c[i]) != 0;
    });
    const int64_t per_flag = in[0].size() == 0 ? 1 : std::max<int64_t>(1, out[0].size() / in[0].size());
    const bool add = context.modes[0] == WriteMode::kAdd;
    DispatchAllowed<DTypes::kAll>("where", in[1].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const T* x = in[1].As<T>();
      const T* y = in[2].As<T>();
      T* z = out[0].As<T>();
      cpu::ParallelFor(out[0].size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) Store<T, C>(z + i, static_cast<C>(flags[i / per_flag] ? x[i] : y[i]), add);
      });
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const Value cond = args.inputs[0], g = args.output_grads[0];
    const Value zeros = b.Call1("zeros_like", {g});
    return {std::nullopt, b.Call1("where", {cond, g, zeros}), b.Call1("where", {cond, zeros, g})};
  };
  return def;
}

}  // namespace
}  // namespace ops
}  // namespace pmx
