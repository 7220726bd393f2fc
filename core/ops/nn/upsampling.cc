// UpSampling: nearest-neighbour upsampling of one or more NCHW inputs to a common size (concatenated or
// summed), and bilinear upsampling by a learned depthwise transposed convolution; with the helpers that
// carry their gradients.
#include "core/ops/nn/layers_common.h"

namespace pmx {
namespace ops {
namespace nn {
namespace {

// Per input: its integer scale to the output size and its first output channel.
struct UpsamplePlan {
  Shape output;
  std::vector<int64_t> scales, channel_begin;
};

// Checks the NCHW inputs of UpSampling (nearest) and plans where each lands in the output: the output is
// (N, C, H0 * scale, W0 * scale); input i is scaled by output H / its H, which must be a whole number.
UpsamplePlan PlanNearest(const char* op, const OpParams& params, const std::vector<Shape>& inputs) {
  const int64_t scale = params.Int("scale");
  PMX_CHECK(scale >= 1, kValueError, "[%s] scale is %d, expected >= 1", op, static_cast<int>(scale));
  const bool concat = params.Str("multi_input_mode") == "concat";
  UpsamplePlan plan;
  int64_t channels = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Shape& shape = inputs[i];
    PMX_CHECK(shape.ndim() == 4, kValueError, "[%s] input %d has shape %s, expected (N, C, H, W)", op,
              static_cast<int>(i), shape.ToString());
    const int64_t height = inputs[0][2] * scale, width = inputs[0][3] * scale;
    PMX_CHECK(shape[0] == inputs[0][0] && shape[2] > 0 && shape[3] > 0 && height % shape[2] == 0 &&
                  width % shape[3] == 0 && height / shape[2] == width / shape[3],
              kValueError, "[%s] input %d has shape %s: expected batch %d and a size that scales by a whole factor to "
              "(%d, %d)", op, static_cast<int>(i), shape.ToString(), static_cast<int>(inputs[0][0]),
              static_cast<int>(height), static_cast<int>(width));
    PMX_CHECK(concat || shape[1] == inputs[0][1], kValueError, "[%s] input %d has %d channels, expected %d (input 0) "
              "to sum", op, static_cast<int>(i), static_cast<int>(shape[1]), static_cast<int>(inputs[0][1]));
    plan.scales.push_back(height / shape[2]);
    plan.channel_begin.push_back(concat ? channels : 0);
    channels = concat ? channels + shape[1] : shape[1];
  }
  plan.output = Shape({inputs[0][0], channels, inputs[0][2] * scale, inputs[0][3] * scale});
  return plan;
}

// The known shapes of `in`, or nullopt if any is unknown.
std::optional<std::vector<Shape>> KnownShapes(const std::vector<MaybeShape>& in, size_t first, size_t count) {
  std::vector<Shape> shapes;
  for (size_t i = first; i < first + count; ++i) {
    if (!in[i]) return std::nullopt;
    shapes.push_back(*in[i]);
  }
  return shapes;
}

// ---- Bilinear: MXNet's Deconvolution(kernel = 2s - s % 2, stride = s, pad = ceil((s - 1) / 2),
// num_group = channels, no bias) with a (C, 1, k, k) weight, so output pixel (oy, ox) receives input pixel
// (iy, ix) through tap (ky, kx) when oy = iy * s - pad + ky (and likewise for x).

// The kernel size and padding of bilinear upsampling by `scale`.
struct BilinearGeometry {
  int64_t scale, kernel, pad;
  explicit BilinearGeometry(int64_t s) : scale(s), kernel(2 * s - s % 2), pad(s / 2) {}  // pad = ceil((s - 1) / 2).
};

// Calls visit(input offset, tap offset, output offset) for every (input pixel, tap) pair of one (n, c) plane
// whose output pixel falls inside the (height * scale, width * scale) output.
template <typename Visit>
void ForEachTap(const BilinearGeometry& g, int64_t height, int64_t width, Visit&& visit) {
  const int64_t out_height = height * g.scale, out_width = width * g.scale;
  for (int64_t iy = 0; iy < height; ++iy) {
    for (int64_t ky = 0; ky < g.kernel; ++ky) {
      const int64_t oy = iy * g.scale - g.pad + ky;
      if (oy < 0 || oy >= out_height) continue;
      for (int64_t ix = 0; ix < width; ++ix) {
        for (int64_t kx = 0; kx < g.kernel; ++kx) {
          const int64_t ox = ix * g.scale - g.pad + kx;
          if (ox >= 0 && ox < out_width) visit(iy * width + ix, ky * g.kernel + kx, oy * out_width + ox);
        }
      }
    }
  }
}

// Which of the three bilinear computations a kernel performs.
enum class BilinearPass {
  kForward,     // in = {data, weight}: out = upsampled data.
  kDataGrad,    // in = {grad, weight}: out = gradient of data.
  kWeightGrad,  // in = {grad, data}: out = gradient of weight.
};

// Runs one bilinear pass; `image` is the (N, C, H, W) low-resolution array's shape.
void BilinearKernel(const char* op, BilinearPass pass, const Shape& image, const KernelContext& context,
                    absl::Span<const TensorRef> in, absl::Span<const TensorRef> out) {
  const BilinearGeometry geometry(context.params->Int("scale"));
  const int64_t batch = image[0], channels = image[1], height = image[2], width = image[3];
  const int64_t plane = height * width, out_plane = plane * geometry.scale * geometry.scale;
  const int64_t taps = geometry.kernel * geometry.kernel;
  const bool add = context.modes[0] == WriteMode::kAdd;
  PMX_CHECK(in[1].dtype == in[0].dtype, kTypeError, "[%s] inputs have dtypes %s and %s: expected the same", op,
            DTypeName(in[0].dtype), DTypeName(in[1].dtype));
  DispatchAllowed<DTypes::kFloat>(op, in[0].dtype, [&](auto tag) {
    using T = decltype(tag);
    using C = ComputeType<T>;
    const T* a = in[0].As<T>();
    const T* b = in[1].As<T>();
    T* y = out[0].As<T>();
    if (pass == BilinearPass::kWeightGrad) {  // a = grad (high resolution), b = data; one task per channel.
      cpu::ParallelFor(channels, RowGrain(batch * plane * taps), [&](int64_t begin, int64_t end) {
        for (int64_t c = begin; c < end; ++c) {
          std::vector<C> sums(taps, C(0));
          for (int64_t n = 0; n < batch; ++n) {
            const T* grad = a + (n * channels + c) * out_plane;
            const T* data = b + (n * channels + c) * plane;
            ForEachTap(geometry, height, width, [&](int64_t i, int64_t t, int64_t o) {
              sums[t] += static_cast<C>(data[i]) * static_cast<C>(grad[o]);
            });
          }
          for (int64_t t = 0; t < taps; ++t) Store<T, C>(y + c * taps + t, sums[t], add);
        }
      });
      return;
    }
    const bool forward = pass == BilinearPass::kForward;
    const int64_t result_plane = forward ? out_plane : plane, source_plane = forward ? plane : out_plane;
    cpu::ParallelFor(batch * channels, RowGrain(plane * taps), [&](int64_t begin, int64_t end) {
      std::vector<C> sums(result_plane);
      for (int64_t nc = begin; nc < end; ++nc) {
        const T* source = a + nc * source_plane;
        const T* weight = b + (nc % channels) * taps;
        std::fill(sums.begin(), sums.end(), C(0));
        ForEachTap(geometry, height, width, [&](int64_t i, int64_t t, int64_t o) {
          if (forward) {
            sums[o] += static_cast<C>(source[i]) * static_cast<C>(weight[t]);
          } else {
            sums[i] += static_cast<C>(source[o]) * static_cast<C>(weight[t]);
          }
        });
        for (int64_t j = 0; j < result_plane; ++j) Store<T, C>(y + nc * result_plane + j, sums[j], add);
      }
    });
  });
}

// Checks and returns the (C, 1, k, k) weight shape bilinear upsampling of `data` needs.
Shape BilinearWeightShape(const char* op, const OpParams& params, const Shape& data) {
  PMX_CHECK(data.ndim() == 4, kValueError, "[%s] data has shape %s, expected (N, C, H, W)", op, data.ToString());
  const int64_t scale = params.Int("scale");
  PMX_CHECK(scale >= 1, kValueError, "[%s] scale is %d, expected >= 1", op, static_cast<int>(scale));
  const BilinearGeometry geometry(scale);
  return Shape({data[1], 1, geometry.kernel, geometry.kernel});
}

PMX_REGISTER_OP(UpSampling) {
  OpDef def;
  def.name = "UpSampling";
  def.family = "nn/upsampling";
  def.doc = "Upsamples NCHW inputs by nearest neighbour: every input is scaled to (H0 * scale, W0 * scale) of the "
            "first one, then they are concatenated along channels (or summed, multi_input_mode='sum'). With "
            "sample_type='bilinear' the inputs are data and a (C, 1, k, k) `weight` (k = 2 * scale - scale % 2, "
            "usually bilinear-initialised): a depthwise transposed convolution with stride `scale`.";
  def.inputs = {"data"};
  def.variadic_count_param = "num_args";
  def.params = {
      {"scale", ParamType::kInt, "", true, false, {}, "Up sampling scale."},
      {"num_filter", ParamType::kInt, "0", false, false, {}, "Input filter (bilinear only)."},
      {"sample_type", ParamType::kEnum, "", true, false, {"bilinear", "nearest"}, "Upsampling method."},
      {"multi_input_mode", ParamType::kEnum, "concat", false, false, {"concat", "sum"},
       "How to combine several inputs: concatenate along channels or sum."},
      {"num_args", ParamType::kInt, "1", false, false, {},
       "Number of inputs (nearest); 2 (data, weight) for bilinear. Front ends fill it from the input count."},
      {"workspace", ParamType::kInt, "512", false, false, {}, "Accepted for compatibility (MB of scratch space)."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (params.Str("sample_type") == "bilinear") {
      PMX_CHECK(in->size() == 2, kValueError, "[UpSampling] bilinear takes 2 inputs (data, weight), num_args=%d",
                static_cast<int>(in->size()));
      if (!(*in)[0]) return false;
      const Shape& data = *(*in)[0];
      const int64_t filters = params.Int("num_filter");
      PMX_CHECK(data.ndim() != 4 || filters == 0 || filters == data[1], kValueError,
                "[UpSampling] num_filter is %d, expected the number of channels %d", static_cast<int>(filters),
                data.ndim() == 4 ? static_cast<int>(data[1]) : 0);
      AssignInputShape("UpSampling", "weight", &(*in)[1], BilinearWeightShape("UpSampling", params, data));
      const int64_t scale = params.Int("scale");
      (*out)[0] = Shape({data[0], data[1], data[2] * scale, data[3] * scale});
      return true;
    }
    const auto shapes = KnownShapes(*in, 0, in->size());
    if (!shapes) return false;
    (*out)[0] = PlanNearest("UpSampling", params, *shapes).output;
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType("UpSampling", DTypes::kFloat, in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    if (context.params->Str("sample_type") == "bilinear") {
      BilinearKernel("UpSampling", BilinearPass::kForward, in[0].shape, context, in, out);
      return;
    }
    std::vector<Shape> shapes;
    for (const TensorRef& input : in) shapes.push_back(input.shape);
    const UpsamplePlan plan = PlanNearest("UpSampling", *context.params, shapes);
    const bool sum = context.params->Str("multi_input_mode") == "sum";
    const int64_t batch = plan.output[0], channels = plan.output[1], height = plan.output[2], width = plan.output[3];
    const bool add = context.modes[0] == WriteMode::kAdd;
    DispatchAllowed<DTypes::kFloat>("UpSampling", out[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      T* y = out[0].As<T>();
      cpu::ParallelFor(batch * channels, RowGrain(height * width), [&](int64_t begin, int64_t end) {
        for (int64_t plane = begin; plane < end; ++plane) {
          const int64_t n = plane / channels, c = plane % channels;
          T* target = y + plane * height * width;
          for (int64_t p = 0; p < height * width; ++p) {
            C value = 0;
            for (size_t i = 0; i < in.size(); ++i) {
              const Shape& shape = in[i].shape;
              const int64_t channel = c - plan.channel_begin[i];
              if (channel < 0 || channel >= shape[1]) continue;
              const int64_t s = plan.scales[i];
              const int64_t row = (n * shape[1] + channel) * shape[2] + (p / width) / s;
              const int64_t source = row * shape[3] + (p % width) / s;
              value += static_cast<C>(in[i].As<T>()[source]);
              if (!sum) break;
            }
            Store<T, C>(target + p, value, add);
          }
        }
      });
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    if (args.params->Str("sample_type") == "bilinear") {
      const ParamMap scale = {{"scale", std::to_string(args.params->Int("scale"))}};
      const Value g = args.output_grads[0];
      return {b.Call1("_nn_upsampling_bilinear_data_grad", {g, args.inputs[1]}, scale),
              b.Call1("_nn_upsampling_bilinear_weight_grad", {g, args.inputs[0]}, scale)};
    }
    std::vector<Value> inputs = {args.output_grads[0]};
    inputs.insert(inputs.end(), args.inputs.begin(), args.inputs.end());
    Grads grads;
    for (size_t i = 0; i < args.inputs.size(); ++i) {
      grads.push_back(b.Call1("_nn_upsampling_grad", inputs,
                              {{"index", std::to_string(i)},
                               {"num_args", std::to_string(inputs.size())},
                               {"scale", std::to_string(args.params->Int("scale"))},
                               {"multi_input_mode", args.params->Str("multi_input_mode")}}));
    }
    return grads;
  };
  return def;
}

PMX_REGISTER_OP(_nn_upsampling_grad) {
  OpDef def;
  def.name = "_nn_upsampling_grad";
  def.family = "nn/upsampling";
  def.doc = "The gradient of input `index` of nearest UpSampling: `grad` summed over each input pixel's block of "
            "output pixels, from that input's channels (gradient helper; inputs: the head gradient, then the forward "
            "inputs).";
  // Variadic, so that every binding can call it with a list (the head gradient first): a count the schema
  // states, where a fixed "grad" input plus a parameter-dependent tail would not be.
  def.inputs = {"args"};
  def.variadic_count_param = "num_args";
  def.params = {{"index", ParamType::kInt, "0", false, false, {}, "Which forward input to return the gradient of."},
                {"num_args", ParamType::kInt, "2", false, false, {},
                 "Number of inputs: the head gradient, then the forward inputs."},
                {"scale", ParamType::kInt, "1", false, false, {}, "The forward scale."},
                {"multi_input_mode", ParamType::kEnum, "concat", false, false, {"concat", "sum"},
                 "The forward multi_input_mode."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    const auto shapes = KnownShapes(*in, 1, in->size() - 1);
    if (!shapes) return false;
    const int64_t index = params.Int("index");
    PMX_CHECK(index >= 0 && index < static_cast<int64_t>(shapes->size()), kValueError,
              "[_nn_upsampling_grad] index %d is out of range for %d inputs", static_cast<int>(index),
              static_cast<int>(shapes->size()));
    const Shape output = PlanNearest("_nn_upsampling_grad", params, *shapes).output;
    AssignInputShape("_nn_upsampling_grad", "grad", &(*in)[0], output);
    (*out)[0] = (*shapes)[index];
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType("_nn_upsampling_grad", DTypes::kFloat, in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    std::vector<Shape> shapes;
    for (size_t i = 1; i < in.size(); ++i) shapes.push_back(in[i].shape);
    const UpsamplePlan plan = PlanNearest("_nn_upsampling_grad", *context.params, shapes);
    const int64_t index = context.params->Int("index");
    const Shape& shape = out[0].shape;
    const int64_t s = plan.scales[index], first = plan.channel_begin[index];
    const int64_t channels = plan.output[1], height = plan.output[2], width = plan.output[3];
    const bool add = context.modes[0] == WriteMode::kAdd;
    DispatchAllowed<DTypes::kFloat>("_nn_upsampling_grad", out[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const T* g = in[0].As<T>();
      T* dx = out[0].As<T>();
      cpu::ParallelFor(out[0].size(), RowGrain(s * s), [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          const int64_t x = i % shape[3], y = (i / shape[3]) % shape[2];
          const int64_t c = (i / (shape[3] * shape[2])) % shape[1], n = i / (shape[3] * shape[2] * shape[1]);
          const T* block = g + ((n * channels + first + c) * height + y * s) * width + x * s;
          C sum = 0;
          for (int64_t dy = 0; dy < s; ++dy) {
            for (int64_t dx_ = 0; dx_ < s; ++dx_) sum += static_cast<C>(block[dy * width + dx_]);
          }
          Store<T, C>(dx + i, sum, add);
        }
      });
    });
  };
  return def;
}

// The gradient helpers of bilinear UpSampling. Each is linear in both inputs, and the three ops are each
// other's gradients, so every order of derivative stays a composition.
OpDef BilinearHelperDef(const std::string& name, const std::string& doc, BilinearPass pass) {
  OpDef def;
  def.name = name;
  def.family = "nn/upsampling";
  def.doc = doc;
  def.inputs = {"grad", pass == BilinearPass::kDataGrad ? "weight" : "data"};
  def.params = {{"scale", ParamType::kInt, "1", false, false, {}, "The forward scale."}};
  def.infer_shape = [name, pass](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape& grad = *(*in)[0];
    const int64_t scale = params.Int("scale");
    PMX_CHECK(grad.ndim() == 4 && scale >= 1 && grad[2] % scale == 0 && grad[3] % scale == 0, kValueError,
              "[%s] grad has shape %s, expected (N, C, H * scale, W * scale) with scale=%d", name, grad.ToString(),
              static_cast<int>(scale));
    const Shape image({grad[0], grad[1], grad[2] / scale, grad[3] / scale});
    const Shape weight = BilinearWeightShape(name.c_str(), params, image);
    AssignInputShape(name.c_str(), pass == BilinearPass::kDataGrad ? "weight" : "data", &(*in)[1],
                     pass == BilinearPass::kDataGrad ? weight : image);
    (*out)[0] = pass == BilinearPass::kDataGrad ? image : weight;
    return true;
  };
  def.infer_type = [name](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType(name.c_str(), DTypes::kFloat, in, out);
  };
  def.kernels[DeviceType::kCPU] = [name, pass](const KernelContext& context, absl::Span<const TensorRef> in,
                                               absl::Span<const TensorRef> out) {
    const int64_t scale = context.params->Int("scale");
    const Shape& grad = in[0].shape;
    BilinearKernel(name.c_str(), pass, Shape({grad[0], grad[1], grad[2] / scale, grad[3] / scale}), context, in, out);
  };
  def.gradient = [pass](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const ParamMap params = {{"scale", std::to_string(args.params->Int("scale"))},
                             {"sample_type", "bilinear"}, {"num_args", "2"}};
    const ParamMap scale = {{"scale", params.at("scale")}};
    const Value g = args.inputs[0], other = args.inputs[1], head = args.output_grads[0];
    if (pass == BilinearPass::kDataGrad) {  // out = data_grad(g, weight).
      return {b.Call1("UpSampling", {head, other}, params),
              b.Call1("_nn_upsampling_bilinear_weight_grad", {g, head}, scale)};
    }
    // out = weight_grad(g, data).
    return {b.Call1("UpSampling", {other, head}, params),
            b.Call1("_nn_upsampling_bilinear_data_grad", {g, head}, scale)};
  };
  return def;
}

PMX_REGISTER_OP(_nn_upsampling_bilinear_data_grad) {
  return BilinearHelperDef("_nn_upsampling_bilinear_data_grad",
                           "The data gradient of bilinear UpSampling from the output gradient and the weight "
                           "(gradient helper).",
                           BilinearPass::kDataGrad);
}

PMX_REGISTER_OP(_nn_upsampling_bilinear_weight_grad) {
  return BilinearHelperDef("_nn_upsampling_bilinear_weight_grad",
                           "The weight gradient of bilinear UpSampling from the output gradient and the data "
                           "(gradient helper).",
                           BilinearPass::kWeightGrad);
}

}  // namespace
}  // namespace nn
}  // namespace ops
}  // namespace pmx
