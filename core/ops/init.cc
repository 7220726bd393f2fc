// Creation operators without array inputs: _zeros, _ones, _full, _zeros_without_dtype, _arange, _eye,
// _linspace.
#include <cmath>
#include <vector>

#include "core/ops/internal/op_builders.h"

namespace pmx {
namespace ops {
namespace {

// Note [Devices of creation ops]
// These ops have no array inputs, so Invoke places their output on InvokeOptions::device (or the default
// device). Invoke also honours MXNet's `ctx=` parameter ("cpu(0)", "gpu(1)") when the caller named no device,
// so every binding's `ctx=` works through the C ABI; the kernels themselves ignore it.
ParamDef ContextParam() {
  return {"ctx", ParamType::kString, "", false, false, {},
          "Device of the output as MXNet spells it (cpu(0), gpu(1)); empty: the caller's or the default device."};
}

ParamDef DTypeParam(const char* doc = "The dtype of the output.") {
  return {"dtype", ParamType::kDType, "float32", false, false, {}, doc};
}

// A shape from the `shape` parameter; ValueError naming `op` for a negative dimension.
Shape ShapeParam(const char* op, const OpParams& params) {
  const std::vector<int64_t>& dims = params.Ints("shape");
  for (int64_t dim : dims) {
    PMX_CHECK(dim >= 0, kValueError, "[%s] shape %s has a negative dimension: expected sizes >= 0", op,
              FormatParamValue(dims));
  }
  return Shape(dims);
}

// Writes value(i) to every element of `out` (honouring kAdd), computing in the output's compute type.
template <typename ValueFn>
void FillWith(const char* op, const KernelContext& context, const TensorRef& out, ValueFn value) {
  DispatchAllowed<DTypes::kAll>(op, out.dtype, [&](auto tag) {
    using T = decltype(tag);
    using C = ComputeType<T>;
    T* y = out.As<T>();
    const bool add = context.modes[0] == WriteMode::kAdd;
    cpu::ParallelFor(out.size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) Store<T, C>(y + i, value(C{}, i), add);
    });
  });
}

// An op with no inputs and one output whose shape and dtype come from its parameters.
OpDef CreationOpDef(const std::string& name, const std::string& doc, std::vector<ParamDef> params,
                    std::function<Shape(const OpParams&)> shape, std::function<DType(const OpParams&)> dtype,
                    Kernel kernel) {
  OpDef def;
  def.name = name;
  def.family = "init";
  def.doc = doc;
  def.inputs = {};
  def.params = std::move(params);
  def.infer_shape = [shape](const OpParams& params, std::vector<MaybeShape>*, std::vector<MaybeShape>* out) {
    (*out)[0] = shape(params);
    return true;
  };
  def.infer_type = [dtype](const OpParams& params, std::vector<MaybeDType>*, std::vector<MaybeDType>* out) {
    (*out)[0] = dtype(params);
    return true;
  };
  def.kernels[DeviceType::kCPU] = std::move(kernel);
  return def;
}

// A filled op (_zeros, _ones, _full): shape, ctx, dtype and optionally more parameters.
OpDef FillOpDef(const std::string& name, const std::string& doc, std::vector<ParamDef> extra,
                std::function<double(const OpParams&)> value) {
  std::vector<ParamDef> params = {{"shape", ParamType::kShape, "()", false, false, {}, "The shape of the output."},
                                  ContextParam(), DTypeParam()};
  params.insert(params.end(), extra.begin(), extra.end());
  return CreationOpDef(
      name, doc, params, [name](const OpParams& p) { return ShapeParam(name.c_str(), p); },
      [](const OpParams& p) { return p.Type("dtype"); },
      [name, value](const KernelContext& context, absl::Span<const TensorRef>, absl::Span<const TensorRef> out) {
        const double v = value(*context.params);
        FillWith(name.c_str(), context, out[0], [v](auto zero, int64_t) { return static_cast<decltype(zero)>(v); });
      });
}

PMX_REGISTER_OP(_zeros) {
  return FillOpDef("_zeros", "An array of zeros of the given shape and dtype.", {},
                   [](const OpParams&) { return 0.0; });
}

PMX_REGISTER_OP(_ones) {
  return FillOpDef("_ones", "An array of ones of the given shape and dtype.", {},
                   [](const OpParams&) { return 1.0; });
}

PMX_REGISTER_OP(_full) {
  return FillOpDef("_full", "An array of the given shape and dtype filled with `value`.",
                   {{"value", ParamType::kFloat, "", true, false, {}, "The value to fill the array with."}},
                   [](const OpParams& p) { return p.Float("value"); });
}

// MXNet's dtype is an integer type flag here; -1 (unknown) means float32 in an imperative call.
DType FlagDType(const OpParams& params) {
  const int64_t flag = params.Int("dtype");
  return flag < 0 ? DType::kFloat32 : DTypeFromFlag(static_cast<int32_t>(flag));
}

PMX_REGISTER_OP(_zeros_without_dtype) {
  return CreationOpDef(
      "_zeros_without_dtype", "An array of zeros whose dtype is an MXNet type flag (-1: float32).",
      {{"shape", ParamType::kShape, "()", false, false, {}, "The shape of the output."}, ContextParam(),
       {"dtype", ParamType::kInt, "-1", false, false, {},
        "MXNet type flag of the output (0 float32, 1 float64, ...); -1: float32."}},
      [](const OpParams& p) { return ShapeParam("_zeros_without_dtype", p); }, FlagDType,
      [](const KernelContext& context, absl::Span<const TensorRef>, absl::Span<const TensorRef> out) {
        FillWith("_zeros_without_dtype", context, out[0], [](auto zero, int64_t) { return zero; });
      });
}

// _arange's (start, stop) after MXNet's rule: without stop (and without infer_range), arange(n) is [0, n).
std::pair<double, double> RangeBounds(const OpParams& p) {
  if (p.IsNone("stop")) return {0.0, p.Float("start")};
  return {p.Float("start"), p.Float("stop")};
}

PMX_REGISTER_OP(_arange) {
  OpDef def = CreationOpDef(
      "_arange", "Evenly spaced values start, start+step, ... below stop, each repeated `repeat` times.",
      {{"start", ParamType::kFloat, "", true, false, {}, "Start of the interval (or its end when stop is None)."},
       {"stop", ParamType::kFloat, "None", false, true, {}, "End of the interval, excluded."},
       {"step", ParamType::kFloat, "1", false, false, {}, "Spacing between values."},
       {"repeat", ParamType::kInt, "1", false, false, {}, "How many times each value is repeated."},
       {"infer_range", ParamType::kBool, "False", false, false, {},
        "Infer stop from the output size (graphs only; an imperative call needs stop)."},
       ContextParam(), DTypeParam()},
      nullptr, [](const OpParams& p) { return p.Type("dtype"); },
      [](const KernelContext& context, absl::Span<const TensorRef>, absl::Span<const TensorRef> out) {
        const OpParams& p = *context.params;
        const double start = p.Bool("infer_range") ? p.Float("start") : RangeBounds(p).first;
        const double step = p.Float("step");
        const int64_t repeat = p.Int("repeat");
        FillWith("_arange", context, out[0], [start, step, repeat](auto zero, int64_t i) {
          using C = decltype(zero);
          // As MXNet: start + (i / repeat) * step in the output's type (unsigned types via int64).
          if constexpr (std::is_unsigned_v<C> && !std::is_same_v<C, bool>) {
            return static_cast<C>(static_cast<C>(static_cast<int64_t>(start)) +
                                  static_cast<C>(i / repeat) * static_cast<C>(static_cast<int64_t>(step)));
          } else {
            return static_cast<C>(static_cast<C>(start) + static_cast<C>(i / repeat) * static_cast<C>(step));
          }
        });
      });
  def.infer_shape = [](const OpParams& p, std::vector<MaybeShape>*, std::vector<MaybeShape>* out) {
    const double step = p.Float("step");
    const int64_t repeat = p.Int("repeat");
    PMX_CHECK(step != 0, kValueError, "[_arange] step is 0: expected a nonzero step");
    PMX_CHECK(repeat > 0, kValueError, "[_arange] repeat is %d: expected > 0", repeat);
    if (p.Bool("infer_range") && p.IsNone("stop")) return (*out)[0].has_value();  // Known only in a graph.
    const auto [start, stop] = RangeBounds(p);
    const double count = std::ceil((stop - start) / step);
    PMX_CHECK(std::isfinite(count), kValueError, "[_arange] range (%g, %g, %g) is not finite", start, stop, step);
    (*out)[0] = Shape{std::max<int64_t>(0, static_cast<int64_t>(count)) * repeat};
    return true;
  };
  return def;
}

PMX_REGISTER_OP(_eye) {
  return CreationOpDef(
      "_eye", "An N x M matrix with ones on diagonal k and zeros elsewhere.",
      {{"N", ParamType::kInt, "", true, false, {}, "Number of rows."},
       {"M", ParamType::kInt, "0", false, false, {}, "Number of columns; 0 means N."},
       {"k", ParamType::kInt, "0", false, false, {}, "The diagonal: 0 main, > 0 above, < 0 below."},
       ContextParam(), DTypeParam()},
      [](const OpParams& p) {
        const int64_t rows = p.Int("N"), columns = p.Int("M") > 0 ? p.Int("M") : rows;
        PMX_CHECK(rows >= 0 && p.Int("M") >= 0, kValueError, "[_eye] N=%d, M=%d: expected sizes >= 0", rows,
                  p.Int("M"));
        return Shape{rows, columns};
      },
      [](const OpParams& p) { return p.Type("dtype"); },
      [](const KernelContext& context, absl::Span<const TensorRef>, absl::Span<const TensorRef> out) {
        const int64_t columns = out[0].shape[1], k = context.params->Int("k");
        FillWith("_eye", context, out[0], [columns, k](auto zero, int64_t i) {
          using C = decltype(zero);
          return (i % columns) - (i / columns) == k ? static_cast<C>(1) : static_cast<C>(0);
        });
      });
}

PMX_REGISTER_OP(_linspace) {
  return CreationOpDef(
      "_linspace", "`num` evenly spaced values from start to stop (stop included when endpoint).",
      {{"start", ParamType::kFloat, "", true, false, {}, "The first value."},
       {"stop", ParamType::kFloat, "", true, false, {}, "The last value (or the bound, without endpoint)."},
       {"num", ParamType::kInt, "", true, false, {}, "Number of values; >= 0."},
       {"endpoint", ParamType::kBool, "True", false, false, {}, "Whether stop is the last value."},
       ContextParam(), DTypeParam()},
      [](const OpParams& p) {
        PMX_CHECK(p.Int("num") >= 0, kValueError, "[_linspace] num is %d: expected >= 0", p.Int("num"));
        return Shape{p.Int("num")};
      },
      [](const OpParams& p) { return p.Type("dtype"); },
      [](const KernelContext& context, absl::Span<const TensorRef>, absl::Span<const TensorRef> out) {
        const OpParams& p = *context.params;
        const double start = p.Float("start");
        const int64_t intervals = p.Bool("endpoint") ? p.Int("num") - 1 : p.Int("num");
        const double step = intervals > 0 ? (p.Float("stop") - start) / static_cast<double>(intervals) : 0.0;
        FillWith("_linspace", context, out[0], [start, step](auto zero, int64_t i) {
          return static_cast<decltype(zero)>(start + step * static_cast<double>(i));
        });
      });
}

}  // namespace
}  // namespace ops
}  // namespace pmx
