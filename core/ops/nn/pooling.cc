// Pooling (max, avg, sum, lp; 1-d/2-d/3-d; valid/full/same conventions; global pooling; channel-first or
// channel-last layouts) and its gradient helper _pooling_backward. oneDNN runs the float32 channel-first
// cases whose semantics match MXNet's exactly; loops run the rest.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/backend/cpu/dnnl_pool_norm.h"
#include "core/ops/nn/layers_common.h"

namespace pmx {
namespace ops {
namespace nn {
namespace {

// Note [Helper gradients]
// The gradient helpers of Pooling, BatchNorm and LRN (_pooling_backward, _batch_norm_backward,
// _lrn_backward) are registered ops with their own NumPy oracles but no gradient functions yet, so the
// gradient of a gradient through these layers (higher-order autograd) is not available until the helpers
// get gradients of their own. Convolution and Deconvolution are not affected: their helpers are bilinear
// and differentiable (Note [Convolution gradients] in conv_common.h).

// Note [MXNet pooling windows]
// Output position o along an axis covers input [o * stride - pad, o * stride - pad + kernel), clipped to the
// input. avg divides by the window size counted up to the padded extent (in + pad) when count_include_pad
// (the default), or by the number of input elements in the window otherwise. max takes the first maximal
// element for the gradient; lp (p = 1, 2, 3) is (sum x^p)^(1/p) with x^1 = x, like MXNet.

enum class PoolType { kMax, kAvg, kSum, kLp };

// One pooling call: the op's parameters resolved against a data shape.
struct PoolPlan {
  PoolType type = PoolType::kMax;
  bool count_include_pad = true;
  int p = 2;
  bool channel_last = false;
  cpu::PoolGeometry g;  // Extents, kernel, stride, padding (pad_r as oneDNN wants it).
};

std::vector<ParamDef> PoolParamDefs() {
  return {
      {"kernel", ParamType::kShape, "()", false, false, {}, "Pooling window: (w,), (h, w) or (d, h, w)."},
      {"pool_type", ParamType::kEnum, "max", false, false, {"avg", "lp", "max", "sum"}, "Pooling type."},
      {"global_pool", ParamType::kBool, "False", false, false, {}, "Pool over the whole spatial extent."},
      {"cudnn_off", ParamType::kBool, "False", false, false, {}, "Turn off cuDNN (accepted; unused)."},
      {"pooling_convention", ParamType::kEnum, "valid", false, false, {"full", "same", "valid"},
       "Output extent: floor (valid), ceil (full) or ceil(in / stride) (same, 1-d only)."},
      {"stride", ParamType::kShape, "()", false, false, {}, "Window step per axis; default 1 each."},
      {"pad", ParamType::kShape, "()", false, false, {}, "Padding per axis; default 0."},
      {"p_value", ParamType::kInt, "None", false, true, {}, "p of lp pooling (1, 2 or 3)."},
      {"count_include_pad", ParamType::kBool, "None", false, true, {},
       "Whether avg pooling counts padding in the divisor (default True)."},
      {"layout", ParamType::kEnum, "None", false, true, {"NCDHW", "NCHW", "NCW", "NDHWC", "NHWC", "NWC"},
       "Data layout; default NCW, NCHW or NCDHW by the number of dimensions."}};
}

PoolPlan MakePlan(const char* op, const OpParams& params, const Shape& data) {
  PMX_CHECK(data.ndim() >= 3 && data.ndim() <= 5, kValueError,
            "[%s] data has shape %s, expected (N, C, W), (N, C, H, W) or (N, C, D, H, W)", op, data.ToString());
  PoolPlan plan;
  const std::string& type = params.Str("pool_type");
  plan.type = type == "max" ? PoolType::kMax : type == "avg" ? PoolType::kAvg : type == "sum" ? PoolType::kSum
                                                                                              : PoolType::kLp;
  const int spatial = data.ndim() - 2;
  if (!params.IsNone("layout")) {
    const std::string& layout = params.Str("layout");
    PMX_CHECK(static_cast<int>(layout.size()) == data.ndim(), kValueError,
              "[%s] layout %s does not match data of shape %s", op, layout, data.ToString());
    plan.channel_last = layout.back() == 'C';
  }
  if (plan.type == PoolType::kLp) {
    PMX_CHECK(!params.IsNone("p_value"), kValueError, "[%s] pool_type lp needs p_value", op);
    plan.p = static_cast<int>(params.Int("p_value"));
    PMX_CHECK(plan.p >= 1 && plan.p <= 3, kValueError, "[%s] p_value is %d, expected 1, 2 or 3", op, plan.p);
  }
  plan.count_include_pad = params.IsNone("count_include_pad") || params.Bool("count_include_pad");
  cpu::PoolGeometry& g = plan.g;
  g.spatial = spatial;
  g.batch = data[0];
  g.channels = plan.channel_last ? data[data.ndim() - 1] : data[1];
  const int first = plan.channel_last ? 1 : 2;
  for (int d = 0; d < spatial; ++d) g.in[d] = data[first + d];
  const bool global = params.Bool("global_pool");
  const std::string& convention = params.Str("pooling_convention");
  std::vector<int64_t> kernel = params.Ints("kernel"), stride = params.Ints("stride"), pad = params.Ints("pad");
  if (global) {
    kernel.assign(g.in, g.in + spatial);
    stride.assign(spatial, 1);
    pad.assign(spatial, 0);
  } else {
    PMX_CHECK(static_cast<int>(kernel.size()) == spatial, kValueError,
              "[%s] kernel has %d values but data of shape %s has %d spatial axes", op,
              static_cast<int>(kernel.size()), data.ToString(), spatial);
    if (stride.empty()) stride.assign(spatial, 1);
    if (pad.empty()) pad.assign(spatial, 0);
    PMX_CHECK(static_cast<int>(stride.size()) == spatial && static_cast<int>(pad.size()) == spatial, kValueError,
              "[%s] stride and pad need %d values each, given %d and %d", op, spatial,
              static_cast<int>(stride.size()), static_cast<int>(pad.size()));
  }
  if (convention == "same") {
    PMX_CHECK(spatial == 1, kValueError, "[%s] pooling_convention 'same' supports 1-d data only, given %s", op,
              data.ToString());
    for (int64_t value : pad) {
      PMX_CHECK(value == 0, kValueError, "[%s] pooling_convention 'same' does not take a pad", op);
    }
  }
  for (int d = 0; d < spatial; ++d) {
    PMX_CHECK(kernel[d] > 0 && stride[d] > 0 && pad[d] >= 0, kValueError,
              "[%s] kernel, stride and pad must be positive, positive and non-negative", op);
    PMX_CHECK(kernel[d] <= g.in[d] + 2 * pad[d], kValueError,
              "[%s] kernel size %d on axis %d exceeds the input extent %d padded to %d", op,
              static_cast<int>(kernel[d]), d, static_cast<int>(g.in[d]), static_cast<int>(g.in[d] + 2 * pad[d]));
    g.kernel[d] = kernel[d];
    g.stride[d] = stride[d];
    g.pad_l[d] = pad[d];
    const int64_t room = g.in[d] + 2 * pad[d] - kernel[d];
    if (global) {
      g.out[d] = 1;
    } else if (convention == "valid") {
      g.out[d] = room / stride[d] + 1;
    } else if (convention == "full") {
      g.out[d] = (room + stride[d] - 1) / stride[d] + 1;
    } else {
      g.out[d] = (g.in[d] + 2 * pad[d] + stride[d] - 1) / stride[d];
    }
    g.pad_r[d] = (g.out[d] - 1) * stride[d] + kernel[d] - g.in[d] - pad[d];
  }
  return plan;
}

Shape OutputShape(const PoolPlan& plan, const Shape& data) {
  std::vector<int64_t> dims(data.dims().begin(), data.dims().end());
  const int first = plan.channel_last ? 1 : 2;
  for (int d = 0; d < plan.g.spatial; ++d) dims[first + d] = plan.g.out[d];
  return Shape(dims);
}

// Element strides of a (N, C, spatial...) or (N, spatial..., C) tensor with spatial extents `extent`.
struct Strides {
  int64_t n = 0, c = 0, s[3] = {0, 0, 0};
};

Strides StridesOf(const PoolPlan& plan, const int64_t* extent) {
  Strides st;
  const int spatial = plan.g.spatial;
  int64_t running = plan.channel_last ? plan.g.channels : 1;
  for (int d = spatial - 1; d >= 0; --d) {
    st.s[d] = running;
    running *= extent[d];
  }
  st.c = plan.channel_last ? 1 : running;
  st.n = running * (plan.channel_last ? 1 : plan.g.channels);
  return st;
}

// Calls fn(out_offset, window) for every output position of one (n, c) plane, where window lists the input
// offsets inside the clipped window and `divisor` is the avg divisor (Note [MXNet pooling windows]).
template <typename Fn>
void ForEachWindow(const PoolPlan& plan, int64_t n, int64_t c, Fn&& fn) {
  const cpu::PoolGeometry& g = plan.g;
  const Strides in = StridesOf(plan, g.in), out = StridesOf(plan, g.out);
  int64_t o[3] = {0, 0, 0};
  const int64_t positions = g.out[0] * (g.spatial > 1 ? g.out[1] : 1) * (g.spatial > 2 ? g.out[2] : 1);
  std::vector<int64_t> window;
  for (int64_t position = 0; position < positions; ++position) {
    int64_t rest = position, start[3] = {0, 0, 0}, end[3] = {1, 1, 1}, out_offset = n * out.n + c * out.c;
    int64_t padded_size = 1, inside_size = 1;
    for (int d = g.spatial - 1; d >= 0; --d) {
      o[d] = rest % g.out[d];
      rest /= g.out[d];
      out_offset += o[d] * out.s[d];
      const int64_t begin = o[d] * g.stride[d] - g.pad_l[d];
      const int64_t stop = std::min(begin + g.kernel[d], g.in[d] + g.pad_l[d]);
      padded_size *= stop - begin;
      start[d] = std::max<int64_t>(begin, 0);
      end[d] = std::min(stop, g.in[d]);
      inside_size *= std::max<int64_t>(end[d] - start[d], 0);
    }
    window.clear();
    for (int64_t i0 = start[0]; i0 < end[0]; ++i0) {
      for (int64_t i1 = start[1]; i1 < (g.spatial > 1 ? end[1] : 1); ++i1) {
        for (int64_t i2 = start[2]; i2 < (g.spatial > 2 ? end[2] : 1); ++i2) {
          window.push_back(n * in.n + c * in.c + i0 * in.s[0] + i1 * in.s[1] + i2 * in.s[2]);
        }
      }
    }
    fn(out_offset, window, static_cast<double>(plan.count_include_pad ? padded_size : inside_size));
  }
}

double PowP(double x, int p) { return p == 1 ? x : p == 2 ? x * x : x * x * x; }
double RootP(double x, int p) { return p == 1 ? x : p == 2 ? std::sqrt(x) : std::cbrt(x); }

template <typename T>
void ReferenceForward(const PoolPlan& plan, const T* x, T* y, bool add) {
  using C = ComputeType<T>;
  const cpu::PoolGeometry& g = plan.g;
  cpu::ParallelFor(g.batch * g.channels, 1, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      ForEachWindow(plan, row / g.channels, row % g.channels,
                    [&](int64_t out, const std::vector<int64_t>& window, double divisor) {
        double result;
        if (plan.type == PoolType::kMax) {
          result = std::numeric_limits<C>::lowest();
          for (int64_t i : window) result = std::max(result, static_cast<double>(static_cast<C>(x[i])));
        } else {
          double sum = 0;
          for (int64_t i : window) {
            const double v = static_cast<double>(static_cast<C>(x[i]));
            sum += plan.type == PoolType::kLp ? PowP(v, plan.p) : v;
          }
          result = plan.type == PoolType::kAvg ? sum / divisor : plan.type == PoolType::kLp ? RootP(sum, plan.p) : sum;
        }
        Store<T, C>(y + out, static_cast<C>(result), add);
      });
    }
  });
}

template <typename T>
void ReferenceBackward(const PoolPlan& plan, const T* dy, const T* x, const T* y, T* dx, bool add) {
  using C = ComputeType<T>;
  const cpu::PoolGeometry& g = plan.g;
  cpu::ParallelFor(g.batch * g.channels, 1, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t n = row / g.channels, c = row % g.channels;
      // Accumulate this plane's gradient in double, then store it once (windows overlap).
      std::vector<std::pair<int64_t, double>> updates;
      ForEachWindow(plan, n, c, [&](int64_t out, const std::vector<int64_t>& window, double divisor) {
        const double grad = static_cast<double>(static_cast<C>(dy[out]));
        const double result = static_cast<double>(static_cast<C>(y[out]));
        if (plan.type == PoolType::kMax) {
          for (int64_t i : window) {
            if (static_cast<double>(static_cast<C>(x[i])) == result) {
              updates.emplace_back(i, grad);
              break;
            }
          }
          return;
        }
        for (int64_t i : window) {
          double value = grad;
          if (plan.type == PoolType::kAvg) value = grad / divisor;
          if (plan.type == PoolType::kLp && plan.p > 1) {
            value = grad * PowP(static_cast<double>(static_cast<C>(x[i])) / result, plan.p - 1);
          }
          updates.emplace_back(i, value);
        }
      });
      // Sum the updates per input position, then store each position once (zero where none landed).
      const Strides in = StridesOf(plan, g.in);
      const int64_t positions = g.in[0] * (g.spatial > 1 ? g.in[1] : 1) * (g.spatial > 2 ? g.in[2] : 1);
      std::vector<double> plane(static_cast<size_t>(positions), 0.0);
      auto plane_index = [&](int64_t offset) {
        int64_t rest = offset - n * in.n - c * in.c, index = 0;
        for (int d = 0; d < g.spatial; ++d) {
          index = index * g.in[d] + rest / in.s[d];
          rest %= in.s[d];
        }
        return index;
      };
      for (const auto& [offset, value] : updates) plane[plane_index(offset)] += value;
      for (int64_t position = 0; position < positions; ++position) {
        int64_t rest = position, offset = n * in.n + c * in.c;
        for (int d = g.spatial - 1; d >= 0; --d) {
          offset += (rest % g.in[d]) * in.s[d];
          rest /= g.in[d];
        }
        Store<T, C>(dx + offset, static_cast<C>(plane[position]), add);
      }
    }
  });
}

// The oneDNN algorithm reproducing `plan` exactly, or false (Note [MXNet pooling windows]).
bool DnnlAlgorithmFor(const PoolPlan& plan, cpu::PoolAlgorithm* algorithm) {
  if (plan.channel_last) return false;
  bool windows_within_padding = true, windows_touch_input = true;
  for (int d = 0; d < plan.g.spatial; ++d) {
    windows_within_padding = windows_within_padding && plan.g.pad_r[d] <= plan.g.pad_l[d];
    windows_touch_input = windows_touch_input && (plan.g.out[d] - 1) * plan.g.stride[d] - plan.g.pad_l[d] < plan.g.in[d];
    if (plan.g.pad_r[d] < 0) return false;
  }
  if (!windows_touch_input) return false;
  switch (plan.type) {
    case PoolType::kMax:
      *algorithm = cpu::PoolAlgorithm::kMax;
      return true;
    case PoolType::kAvg:
      if (!plan.count_include_pad) {
        *algorithm = cpu::PoolAlgorithm::kAvgExcludePad;
        return true;
      }
      *algorithm = cpu::PoolAlgorithm::kAvgIncludePad;
      return windows_within_padding;
    default:
      return false;
  }
}

PMX_REGISTER_OP(Pooling) {
  OpDef def;
  def.name = "Pooling";
  def.family = "nn/pooling";
  def.doc = "Pools windows of 1-d, 2-d or 3-d data (N, C, spatial...) or its channel-last layouts: max, avg "
            "(count_include_pad decides whether padding counts in the divisor), sum, or lp (p_value 1, 2, 3). "
            "Output extent per axis: floor((x + 2 * pad - kernel) / stride) + 1 for 'valid', ceil for 'full', "
            "ceil((x + 2 * pad) / stride) for 'same' (1-d); global_pool pools each whole plane.";
  def.inputs = {"data"};
  def.params = PoolParamDefs();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    (*out)[0] = OutputShape(MakePlan("Pooling", params, *(*in)[0]), *(*in)[0]);
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType("Pooling", DTypes::kFloat, in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const PoolPlan plan = MakePlan("Pooling", *context.params, in[0].shape);
    const bool add = context.modes[0] == WriteMode::kAdd;
    cpu::PoolAlgorithm algorithm;
    if (in[0].dtype == DType::kFloat32 && !add && out[0].size() > 0 && DnnlAlgorithmFor(plan, &algorithm) &&
        cpu::DnnlPoolingForward(algorithm, plan.g, in[0].As<float>(), out[0].As<float>())) {
      return;
    }
    DispatchAllowed<DTypes::kFloat>("Pooling", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      ReferenceForward<T>(plan, in[0].As<T>(), out[0].As<T>(), add);
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("_pooling_backward", {args.output_grads[0], args.inputs[0], args.outputs[0]},
                    args.params->ToStrings())};
  };
  return def;
}

PMX_REGISTER_OP(_pooling_backward) {
  OpDef def;
  def.name = "_pooling_backward";
  def.family = "nn/pooling";
  def.doc = "The gradient of Pooling with respect to its data, from out_grad, the data and Pooling's output "
            "(max pooling routes each window's gradient to its first maximal element). Takes Pooling's "
            "parameters. Not differentiable (Note [Helper gradients]).";
  def.inputs = {"out_grad", "data", "output"};
  def.params = PoolParamDefs();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[1]) return false;
    const Shape expected = OutputShape(MakePlan("_pooling_backward", params, *(*in)[1]), *(*in)[1]);
    AssignInputShape("_pooling_backward", "out_grad", &(*in)[0], expected);
    AssignInputShape("_pooling_backward", "output", &(*in)[2], expected);
    (*out)[0] = *(*in)[1];
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType("_pooling_backward", DTypes::kFloat, in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const PoolPlan plan = MakePlan("_pooling_backward", *context.params, in[1].shape);
    const bool add = context.modes[0] == WriteMode::kAdd;
    cpu::PoolAlgorithm algorithm;
    if (in[0].dtype == DType::kFloat32 && !add && in[0].size() > 0 && DnnlAlgorithmFor(plan, &algorithm) &&
        cpu::DnnlPoolingBackward(algorithm, plan.g, in[0].As<float>(), out[0].As<float>())) {
      return;
    }
    DispatchAllowed<DTypes::kFloat>("_pooling_backward", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      ReferenceBackward<T>(plan, in[0].As<T>(), in[1].As<T>(), in[2].As<T>(), out[0].As<T>(), add);
    });
  };
  return def;
}

}  // namespace
}  // namespace nn
}  // namespace ops
}  // namespace pmx
