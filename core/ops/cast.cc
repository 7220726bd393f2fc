// Casting and array metadata: Cast, amp_cast, amp_multicast, the gradient helper _cast_like, the
// finiteness checks all_finite and multi_all_finite, and size_array / shape_array.
#include <atomic>
#include <cmath>
#include <vector>

#include "core/ops/internal/op_builders.h"
#include "core/ops/internal/reduce_kernel.h"

namespace pmx {
namespace ops {
namespace {

// Copies `in` into `out` converting the element type (through the input's compute type).
void CastCopy(const char* op, const KernelContext& context, int slot, const TensorRef& in, const TensorRef& out) {
  const bool add = context.modes[slot] == WriteMode::kAdd;
  DispatchAllowed<DTypes::kAll>(op, in.dtype, [&](auto in_tag) {
    using In = decltype(in_tag);
    DispatchAllowed<DTypes::kAll>(op, out.dtype, [&](auto out_tag) {
      using Out = decltype(out_tag);
      using C = ComputeType<Out>;
      const In* x = in.As<In>();
      Out* y = out.As<Out>();
      if constexpr (std::is_same_v<In, Out>) {
        if (!add && x == y) return;  // In place: nothing to do.
      }
      cpu::ParallelFor(in.size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          Store<Out, C>(y + i, static_cast<C>(static_cast<ComputeType<In>>(x[i])), add);
        }
      });
    });
  });
}

Kernel CastKernel(std::string op) {
  return [op](const KernelContext& context, absl::Span<const TensorRef> in, absl::Span<const TensorRef> out) {
    for (size_t i = 0; i < out.size(); ++i) CastCopy(op.c_str(), context, static_cast<int>(i), in[i], out[i]);
  };
}

// Note [Gradients of casts]
// A cast's gradient is the head gradient cast back to the input's dtype. Gradient functions see values,
// not dtypes, so they call _cast_like(grad, x), which reads x's dtype when it runs.
GradientFn CastBackGradient() {
  return [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    Grads grads;
    for (size_t i = 0; i < args.inputs.size(); ++i) {
      grads.push_back(b.Call1("_cast_like", {args.output_grads[i], args.inputs[i]}));
    }
    return grads;
  };
}

bool InferSameShapes(std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
  bool known = true;
  for (size_t i = 0; i < in->size(); ++i) {
    if (!(*in)[i]) (*in)[i] = (*out)[i];
    (*out)[i] = (*in)[i];
    known = known && (*in)[i].has_value();
  }
  return known;
}

PMX_REGISTER_OP(Cast) {
  OpDef def;
  def.name = "Cast";
  def.aliases = {"cast"};
  def.family = "cast";
  def.doc = "Converts the elements to `dtype` (floats to integers truncate toward zero).";
  def.inputs = {"data"};
  def.params = {{"dtype", ParamType::kDType, "", true, false, {}, "The dtype of the output."}};
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    return InferSameShapes(in, out);
  };
  def.infer_type = [](const OpParams& params, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    (*out)[0] = params.Type("dtype");
    return (*in)[0].has_value();
  };
  def.kernels[DeviceType::kCPU] = CastKernel("Cast");
  def.gradient = CastBackGradient();
  return def;
}

PMX_REGISTER_OP(_cast_like) {
  OpDef def;
  def.name = "_cast_like";
  def.family = "cast";
  def.doc = "Converts `data` to the dtype of `like` (gradient helper of the casts).";
  def.inputs = {"data", "like"};
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
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
    CastCopy("_cast_like", context, 0, in[0], out[0]);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("_cast_like", {args.output_grads[0], args.inputs[0]}), std::nullopt};
  };
  return def;
}

// Note [AMP casts]
// amp_cast and amp_multicast change only the dtypes automatic mixed precision works with (float32,
// float16, bfloat16); other inputs (float64, integers) pass through unchanged, as in MXNet.
// amp_multicast casts them all to one type: the widest present (float32 if any, else the one 16-bit type,
// float32 when float16 and bfloat16 are mixed), or with cast_narrow the narrowest (float16 if present,
// else bfloat16, else float32).
bool IsAmpType(DType dtype) {
  return dtype == DType::kFloat32 || dtype == DType::kFloat16 || dtype == DType::kBfloat16;
}

PMX_REGISTER_OP(amp_cast) {
  OpDef def;
  def.name = "amp_cast";
  def.family = "cast";
  def.doc = "Casts float32/float16/bfloat16 input to `dtype`; other dtypes pass through (mixed precision).";
  def.inputs = {"data"};
  def.params = {{"dtype", ParamType::kDType, "", true, false, {}, "The dtype of the output."}};
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    return InferSameShapes(in, out);
  };
  def.infer_type = [](const OpParams& params, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0]) return false;
    (*out)[0] = IsAmpType(*(*in)[0]) ? params.Type("dtype") : *(*in)[0];
    return true;
  };
  def.kernels[DeviceType::kCPU] = CastKernel("amp_cast");
  def.gradient = CastBackGradient();
  return def;
}

PMX_REGISTER_OP(amp_multicast) {
  OpDef def;
  def.name = "amp_multicast";
  def.family = "cast";
  def.doc = "Casts several float32/float16/bfloat16 inputs to one common type (the widest, or with cast_narrow "
            "the narrowest); other dtypes pass through.";
  def.inputs = {"data"};
  def.variadic_count_param = "num_outputs";
  def.num_outputs = [](const OpParams& params) { return static_cast<int>(params.Int("num_outputs")); };
  def.params = {{"num_outputs", ParamType::kInt, "", true, false, {}, "Number of input/output pairs."},
                {"cast_narrow", ParamType::kBool, "False", false, false, {},
                 "Whether to cast to the narrowest type instead of the widest."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    PMX_CHECK(params.Int("num_outputs") >= 1, kValueError, "[amp_multicast] num_outputs is %d: expected >= 1",
              params.Int("num_outputs"));
    return InferSameShapes(in, out);
  };
  def.infer_type = [](const OpParams& params, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    bool has32 = false, has16 = false, has_b16 = false;
    for (const MaybeDType& dtype : *in) {
      if (!dtype) return false;
      has32 |= *dtype == DType::kFloat32;
      has16 |= *dtype == DType::kFloat16;
      has_b16 |= *dtype == DType::kBfloat16;
    }
    DType target = DType::kFloat32;
    if (params.Bool("cast_narrow")) {
      target = has16 ? DType::kFloat16 : (has_b16 ? DType::kBfloat16 : DType::kFloat32);
    } else if (!has32 && has16 != has_b16) {
      target = has16 ? DType::kFloat16 : DType::kBfloat16;
    }
    for (size_t i = 0; i < in->size(); ++i) (*out)[i] = IsAmpType(*(*in)[i]) ? target : *(*in)[i];
    return true;
  };
  def.kernels[DeviceType::kCPU] = CastKernel("amp_multicast");
  def.gradient = CastBackGradient();
  return def;
}

// ---- finiteness checks -----------------------------------------------------------------------------

// Whether every element of `in` is finite.
bool AllFinite(const char* op, const TensorRef& in) {
  std::atomic<bool> finite{true};
  DispatchAllowed<DTypes::kNumeric>(op, in.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (kIsFloat<T>) {
      const T* x = in.As<T>();
      cpu::ParallelFor(in.size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
        bool ok = true;
        for (int64_t i = begin; i < end; ++i) ok &= std::isfinite(static_cast<ComputeType<T>>(x[i]));
        if (!ok) finite.store(false, std::memory_order_relaxed);
      });
    }
  });
  return finite.load();
}

// Note [Finiteness flags]
// As in MXNet, the output is a float32 flag of shape (1,): init_output=True sets it to 1 first, and a
// non-finite element sets it to 0. With init_output=False the flag is only ever cleared, so one flag can
// be carried across several calls (given as `out=`); write modes do not apply to a flag.
void WriteFiniteFlag(const KernelContext& context, absl::Span<const TensorRef> in, const TensorRef& out,
                     const char* op) {
  float* flag = out.As<float>();
  if (context.params->Bool("init_output")) *flag = 1.0f;
  for (const TensorRef& array : in) {
    if (!AllFinite(op, array)) *flag = 0.0f;
  }
}

OpDef FiniteOpDef(const std::string& name, const std::string& doc) {
  OpDef def;
  def.name = name;
  def.family = "cast";
  def.doc = doc;
  def.inputs = {"data"};
  def.params = {{"init_output", ParamType::kBool, "True", false, false, {}, "Whether to set the flag to 1 first."}};
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>*, std::vector<MaybeShape>* out) {
    (*out)[0] = Shape{1};
    return true;
  };
  def.infer_type = [name](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    for (const MaybeDType& dtype : *in) {
      if (dtype) CheckDType(name.c_str(), DTypes::kNumeric, *dtype);
    }
    (*out)[0] = DType::kFloat32;
    return true;
  };
  def.kernels[DeviceType::kCPU] = [name](const KernelContext& context, absl::Span<const TensorRef> in,
                                         absl::Span<const TensorRef> out) {
    WriteFiniteFlag(context, in, out[0], name.c_str());
  };
  return def;
}

PMX_REGISTER_OP(all_finite) {
  return FiniteOpDef("all_finite", "A float32 flag of shape (1,): 1 if every element of data is finite, else 0.");
}

PMX_REGISTER_OP(multi_all_finite) {
  OpDef def = FiniteOpDef("multi_all_finite",
                          "A float32 flag of shape (1,): 1 if every element of all num_arrays inputs is finite, "
                          "else 0.");
  def.variadic_count_param = "num_arrays";
  def.params.insert(def.params.begin(), {"num_arrays", ParamType::kInt, "1", false, false, {}, "Number of arrays."});
  return def;
}

// ---- metadata --------------------------------------------------------------------------------------

OpDef MetadataOpDef(const std::string& name, const std::string& doc, std::function<Shape(const Shape&)> shape,
                    std::function<std::vector<int64_t>(const Shape&)> values) {
  OpDef def;
  def.name = name;
  def.family = "cast";
  def.doc = doc;
  def.inputs = {"data"};
  def.infer_shape = [shape](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    (*out)[0] = shape(*(*in)[0]);
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>*, std::vector<MaybeDType>* out) {
    (*out)[0] = DType::kInt64;
    return true;
  };
  def.kernels[DeviceType::kCPU] = [values](const KernelContext& context, absl::Span<const TensorRef> in,
                                           absl::Span<const TensorRef> out) {
    const std::vector<int64_t> result = values(in[0].shape);
    int64_t* y = out[0].As<int64_t>();
    const bool add = context.modes[0] == WriteMode::kAdd;
    for (size_t i = 0; i < result.size(); ++i) Store<int64_t, int64_t>(y + i, result[i], add);
  };
  def.gradient = ZeroGradient();
  return def;
}

PMX_REGISTER_OP(shape_array) {
  return MetadataOpDef(
      "shape_array", "The shape of data as a 1-d int64 array.", [](const Shape& s) { return Shape{s.ndim()}; },
      [](const Shape& s) { return std::vector<int64_t>(s.dims().begin(), s.dims().end()); });
}

PMX_REGISTER_OP(size_array) {
  return MetadataOpDef(
      "size_array", "The number of elements of data as an int64 array of shape (1,).",
      [](const Shape&) { return Shape{1}; }, [](const Shape& s) { return std::vector<int64_t>{s.size()}; });
}

}  // namespace
}  // namespace ops
}  // namespace pmx
